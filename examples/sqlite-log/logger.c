/* sqlite-log example: stores every message in the "default" SQLite database (a table
 * "messages": id, received, payload) through spin:sqlite/sqlite@3.1.0's synchronous
 * functions, and prints the new row's id. Canonical ABI by hand:
 *   open(label_ptr, label_len, ret): ret[0] = 0 ok (handle at ret+4) / 1 err
 *   execute(handle, sql_ptr, sql_len, params_ptr, params_len, ret): ok: columns at ret+4,
 *     rows at ret+12 (empty here); err: case at ret+4, io's message at ret+8
 *   a parameter is 16 bytes: case at 0 (3 = blob), (ptr, len) at 8
 *   last-insert-rowid(handle) -> i64 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQLITE "spin:sqlite/sqlite@3.1.0"
__attribute__((import_module(SQLITE), import_name("[static]connection.open")))
void sqlite_open(const char *, size_t, uint8_t *);
__attribute__((import_module(SQLITE), import_name("[method]connection.execute")))
void sqlite_execute(int32_t, const char *, size_t, const void *, size_t, uint8_t *);
__attribute__((import_module(SQLITE), import_name("[method]connection.last-insert-rowid")))
int64_t sqlite_last_insert_rowid(int32_t);
__attribute__((import_module(SQLITE), import_name("[resource-drop]connection")))
void sqlite_drop(int32_t);

__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
    (void)old_size;
    if (new_size == 0) return (void *)align;
    void *p = realloc(old, new_size);
    if (!p) abort();
    return p;
}

static const char *const ERRORS[] = {"no-such-database", "access-denied", "invalid-connection", "database-full", "io"};
static _Alignas(8) uint8_t ret[24];
static uint8_t result[2];

/* reports err(error) in ret and returns 1 */
static int failed(const char *what) {
    uint8_t c = ret[4];
    if (c == 4) {
        const char *m = *(const char **)(ret + 8);
        size_t n = *(size_t *)(ret + 12);
        fprintf(stderr, "%s: io: %.*s\n", what, (int)n, m);
        free((void *)m);
    } else {
        fprintf(stderr, "%s: %s\n", what, c < 5 ? ERRORS[c] : "?");
    }
    fflush(stderr);
    return 1;
}

static int run(int32_t db, const char *sql, const void *params, size_t nparams) {
    sqlite_execute(db, sql, strlen(sql), params, nparams, ret);
    if (ret[0]) return failed(sql);
    return 0; /* no columns or rows to free for these statements */
}

__attribute__((export_name("fermyon:spin/inbound-redis#handle-message")))
uint8_t *handle_message(uint8_t *msg, size_t len) {
    int err = 0;
    sqlite_open("default", 7, ret);
    if (ret[0]) {
        err = failed("open default");
    } else {
        int32_t db = *(int32_t *)(ret + 4);
        struct { uint8_t tag, pad[7]; const void *ptr; size_t len; } blob = {3, {0}, msg, len};
        err = run(db, "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, "
                      "received TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, payload BLOB NOT NULL)", NULL, 0) ||
              run(db, "INSERT INTO messages (payload) VALUES (?)", &blob, 1);
        if (!err) {
            printf("stored message %lld (%zu bytes)\n", (long long)sqlite_last_insert_rowid(db), len);
            fflush(stdout);
        }
        sqlite_drop(db);
    }
    if (len) free(msg);
    result[0] = result[1] = (uint8_t)err;
    return result;
}
