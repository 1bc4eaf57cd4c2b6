/* The "c-sqlite" guest: the C guest plus a `sql:` command that runs statements through
 * one of Spin's SQLite interfaces, imported by hand with the canonical ABI (core module
 * name = interface name with version, field = function name; results go to a return area
 * whose address is the last parameter, except 3.x's last-insert-rowid and changes, which
 * return an i64). Built with ../c/c.c, ../c/cabi.c and ../c/protocol.c.
 *
 *   sql:<version>:<database>|<statement>|$<param>|...|<statement>|...
 *
 * version: 1 (fermyon:spin/sqlite), 2 (fermyon:spin/sqlite@2.0.0), 3 (spin:sqlite/sqlite@3.1.0,
 * its synchronous functions; built with -DS3='"spin:sqlite/sqlite@3.0.0"' for c-sqlite30, as
 * wit-component merges semver-compatible imports: one component cannot import both). Every statement runs on one connection, with the `$` fields
 * after it as parameters: $i:<s64> $r:<f64> $t:<text> $b:<hex> $n. For each statement the
 * guest prints "cols:<name>,<name>..." and one line per row ("i:1 r:1.5 t:x b:00ff n"), and
 * with version 3 "rowid:<n> changes:<n>". An error prints "<step>: <case>[: <message>]" on
 * stderr and fails the message. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../c/protocol.h"

#define IMPORT(mod, name) __attribute__((import_module(mod), import_name(name)))
#define S1 "fermyon:spin/sqlite"
#define S2 "fermyon:spin/sqlite@2.0.0"
#ifndef S3
#define S3 "spin:sqlite/sqlite@3.1.0"
#endif

typedef struct { const char *ptr; size_t len; } str_t;
/* A value: case at 0, payload at 8 (s64, f64 or a (ptr, len) pair). */
typedef struct {
    uint8_t tag;
    uint8_t pad[7];
    union { int64_t i; double r; str_t s; } u;
} value_t;

IMPORT(S1, "open") void s1_open(const char *, size_t, uint8_t *);
IMPORT(S1, "execute") void s1_execute(uint32_t, const char *, size_t, const value_t *, size_t, uint8_t *);
IMPORT(S1, "close") void s1_close(uint32_t);
IMPORT(S2, "[static]connection.open") void s2_open(const char *, size_t, uint8_t *);
IMPORT(S2, "[method]connection.execute") void s2_execute(int32_t, const char *, size_t, const value_t *, size_t, uint8_t *);
IMPORT(S2, "[resource-drop]connection") void s2_drop(int32_t);
IMPORT(S3, "[static]connection.open") void s3_open(const char *, size_t, uint8_t *);
IMPORT(S3, "[method]connection.execute") void s3_execute(int32_t, const char *, size_t, const value_t *, size_t, uint8_t *);
IMPORT(S3, "[method]connection.last-insert-rowid") int64_t s3_rowid(int32_t);
IMPORT(S3, "[method]connection.changes") int64_t s3_changes(int32_t);
IMPORT(S3, "[resource-drop]connection") void s3_drop(int32_t);

static const char *const ERRS[] = {"no-such-database", "access-denied", "invalid-connection", "database-full", "io"};

static _Alignas(8) uint8_t ret[32];
#define U8(o) (ret[o])
#define U32(o) (*(uint32_t *)(ret + (o)))
#define STR(o) (*(str_t *)(ret + (o)))

/* err(error) at ret: the case at 4, io's string at 8. */
static int fail(const char *step) {
    uint8_t c = U8(4);
    if (c == 4) {
        str_t m = STR(8);
        guest_err("%s: io: %.*s", step, (int)m.len, m.ptr);
        free((void *)m.ptr);
    } else {
        guest_err("%s: %s", step, c < 5 ? ERRS[c] : "?");
    }
    return GUEST_ERR_ERROR;
}

static int hex(char c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }

/* parse one $param into v (text and blob point into arg, which stays alive). */
static void param(char *p, value_t *v) {
    memset(v, 0, sizeof *v);
    switch (p[0]) {
    case 'i': v->tag = 0; v->u.i = strtoll(p + 2, NULL, 10); break;
    case 'r': v->tag = 1; v->u.r = strtod(p + 2, NULL); break;
    case 't': v->tag = 2; v->u.s.ptr = p + 2; v->u.s.len = strlen(p + 2); break;
    case 'b': {
        size_t n = strlen(p + 2) / 2;
        for (size_t i = 0; i < n; i++) p[2 + i] = (char)(hex(p[2 + 2 * i]) << 4 | hex(p[3 + 2 * i]));
        v->tag = 3; v->u.s.ptr = p + 2; v->u.s.len = n;
        break;
    }
    default: v->tag = 4;
    }
}

/* prints ok(query-result) at ret (columns at 4, rows at 12) and frees it. */
static void print_result(void) {
    str_t cols = STR(4), rows = STR(12);
    char line[4096];
    size_t n = (size_t)snprintf(line, sizeof line, "cols:");
    const str_t *c = (const str_t *)cols.ptr;
    for (size_t i = 0; i < cols.len; i++) {
        n += (size_t)snprintf(line + n, sizeof line - n, "%s%.*s", i ? "," : "", (int)c[i].len, c[i].ptr);
        free((void *)c[i].ptr);
    }
    guest_out(line, n);
    const str_t *r = (const str_t *)rows.ptr;
    for (size_t i = 0; i < rows.len; i++) {
        const value_t *v = (const value_t *)r[i].ptr;
        n = 0;
        for (size_t j = 0; j < r[i].len; j++) {
            const char *sep = j ? " " : "";
            switch (v[j].tag) {
            case 0: n += (size_t)snprintf(line + n, sizeof line - n, "%si:%" PRId64, sep, v[j].u.i); break;
            case 1: n += (size_t)snprintf(line + n, sizeof line - n, "%sr:%.17g", sep, v[j].u.r); break;
            case 2:
                n += (size_t)snprintf(line + n, sizeof line - n, "%st:%.*s", sep, (int)v[j].u.s.len, v[j].u.s.ptr);
                break;
            case 3:
                n += (size_t)snprintf(line + n, sizeof line - n, "%sb:", sep);
                for (size_t k = 0; k < v[j].u.s.len; k++)
                    n += (size_t)snprintf(line + n, sizeof line - n, "%02x", (uint8_t)v[j].u.s.ptr[k]);
                break;
            default: n += (size_t)snprintf(line + n, sizeof line - n, "%sn", sep);
            }
            if ((v[j].tag == 2 || v[j].tag == 3) && v[j].u.s.len) free((void *)v[j].u.s.ptr);
            if (n >= sizeof line) n = sizeof line - 1;
        }
        guest_out(line, n);
        if (r[i].len) free((void *)r[i].ptr);
    }
    if (cols.len) free((void *)cols.ptr);
    if (rows.len) free((void *)rows.ptr);
}

#define MAXP 16

static int cmd_sql(char *arg) {
    char *ver = arg, *rest = strchr(arg, ':');
    if (!rest) return guest_unsupported("sql");
    *rest++ = 0;
    int v = atoi(ver);
    char *db = guest_field(&rest);
    switch (v) {
    case 1: s1_open(db, strlen(db), ret); break;
    case 2: s2_open(db, strlen(db), ret); break;
    case 3: s3_open(db, strlen(db), ret); break;
    default: return guest_unsupported(ver);
    }
    if (U8(0)) return fail("open");
    uint32_t conn = U32(4);
    int result = GUEST_OK;
    char *stmt = rest ? guest_field(&rest) : NULL;
    while (stmt && result == GUEST_OK) {
        value_t params[MAXP];
        size_t np = 0;
        char *next = NULL;
        while (rest) {
            char *f = guest_field(&rest);
            if (f[0] != '$') { next = f; break; }
            if (np < MAXP) param(f + 1, &params[np++]);
        }
        switch (v) {
        case 1: s1_execute(conn, stmt, strlen(stmt), params, np, ret); break;
        case 2: s2_execute((int32_t)conn, stmt, strlen(stmt), params, np, ret); break;
        default: s3_execute((int32_t)conn, stmt, strlen(stmt), params, np, ret); break;
        }
        if (U8(0)) {
            result = fail("execute");
            break;
        }
        print_result();
        if (v == 3) {
            char line[80];
            int n = snprintf(line, sizeof line, "rowid:%" PRId64 " changes:%" PRIu64, s3_rowid((int32_t)conn),
                             (uint64_t)s3_changes((int32_t)conn));
            guest_out(line, (size_t)n);
        }
        stmt = next;
    }
    switch (v) {
    case 1: s1_close(conn); break;
    case 2: s2_drop((int32_t)conn); break;
    default: s3_drop((int32_t)conn); break;
    }
    return result;
}

/* sqlclosed:1 uses a closed unversioned handle: invalid-connection. */
static int cmd_sql_closed(void) {
    s1_open("default", 7, ret);
    if (U8(0)) return fail("open");
    uint32_t conn = U32(4);
    s1_close(conn);
    s1_execute(conn, "SELECT 1", 8, NULL, 0, ret);
    if (U8(0)) return fail("execute");
    print_result();
    return GUEST_OK;
}

int sqlite_extra(const char *cmd, const char *carg);
int sqlite_extra(const char *cmd, const char *carg) {
    if (!strcmp(cmd, "sql")) return cmd_sql((char *)carg);
    if (!strcmp(cmd, "sqlclosed")) return cmd_sql_closed();
    return -1;
}
