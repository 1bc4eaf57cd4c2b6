/* The "stream" guest: redspin:streams/inbound-stream@0.1.0 (the rich stream handler)
 * in C with the canonical ABI written by hand, built together with ../c/c.c (the plain
 * fermyon:spin/inbound-redis handler, answering the common protocol as "stream"),
 * ../c/cabi.c and ../c/protocol.c. The entry's field `action` selects what it does;
 * see ../README.md. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../c/protocol.h"

#define IMPORT(mod, name) __attribute__((import_module(mod), import_name(name)))
#define R2 "fermyon:spin/redis@2.0.0"

typedef struct { const char *ptr; size_t len; } str_t; /* string or list<u8> */

/* record field { name: string, value: list<u8> }: 16 bytes. */
typedef struct { str_t name, value; } field_t;

IMPORT(R2, "[static]connection.open") void r2_open(const char *, size_t, uint8_t *);
IMPORT(R2, "[method]connection.sadd") void r2_sadd(int32_t, const char *, size_t, const str_t *, size_t, uint8_t *);
IMPORT(R2, "[method]connection.incr") void r2_incr(int32_t, const char *, size_t, uint8_t *);
IMPORT(R2, "[resource-drop]connection") void r2_drop(int32_t);
IMPORT("fermyon:spin/variables@2.0.0", "get") void var_get(const char *, size_t, uint8_t *);

/* The returned disposition (variant { ack, retry(option<u32>), dead-letter(string) }):
 * case (u8) at 0; retry: option case at 4, milliseconds at 8; dead-letter: string at 4. */
enum { ACK = 0, RETRY = 1, DEAD_LETTER = 2 };
static _Alignas(8) uint8_t disposition[12];

static uint8_t *ack(void) {
    disposition[0] = ACK;
    return disposition;
}

static uint8_t *retry(bool after, uint32_t ms) {
    disposition[0] = RETRY;
    disposition[4] = after;
    *(uint32_t *)(disposition + 8) = ms;
    return disposition;
}

static uint8_t *dead_letter(const char *reason) {
    disposition[0] = DEAD_LETTER;
    *(const char **)(disposition + 4) = reason;
    *(size_t *)(disposition + 8) = strlen(reason);
    return disposition;
}

/* A NUL-terminated copy (the instance lives for one entry; nothing is freed). */
static char *cstr(str_t s) {
    char *c = malloc(s.len + 1);
    if (!c) abort();
    memcpy(c, s.ptr, s.len);
    c[s.len] = 0;
    return c;
}

/* record:<addr>|<prefix>: SADD <prefix>:ids <id>; INCR <prefix>:handled; and, when the
 * variable `replica` is defined, INCR <prefix>:handled:<replica>. A failed call is
 * reported on stderr and retried. */
static uint8_t *record(char *arg, str_t id) {
    static _Alignas(8) uint8_t ret[16];
    char *rest = arg, *addr = guest_field(&rest), *prefix = rest ? rest : "stream";
    char key[256];
    r2_open(addr, strlen(addr), ret);
    if (ret[0]) {
        guest_err("record: open %s failed (error case %d)", addr, ret[4]);
        return retry(false, 0);
    }
    int32_t conn = *(int32_t *)(ret + 4);
    bool ok = true;
    snprintf(key, sizeof key, "%s:ids", prefix);
    r2_sadd(conn, key, strlen(key), &id, 1, ret);
    ok = ok && !ret[0];
    snprintf(key, sizeof key, "%s:handled", prefix);
    r2_incr(conn, key, strlen(key), ret);
    ok = ok && !ret[0];
    var_get("replica", 7, ret);
    if (!ret[0]) {
        str_t replica = *(str_t *)(ret + 4);
        snprintf(key, sizeof key, "%s:handled:%.*s", prefix, (int)replica.len, replica.ptr);
        r2_incr(conn, key, strlen(key), ret);
        ok = ok && !ret[0];
    }
    r2_drop(conn);
    if (!ok) {
        guest_err("record: a Redis call failed");
        return retry(false, 0);
    }
    return ack();
}

__attribute__((export_name("redspin:streams/inbound-stream@0.1.0#handle-entry")))
uint8_t *handle_entry(const char *stream, size_t stream_len, const char *id, size_t id_len,
                      const char *group, size_t group_len, const field_t *fields, size_t nfields,
                      int64_t deliveries) {
    char *action = NULL;
    for (size_t i = 0; i < nfields; i++) {
        if (fields[i].name.len == 6 && !memcmp(fields[i].name.ptr, "action", 6)) action = cstr(fields[i].value);
    }
    if (!action || !*action) return ack();
    char *arg = strchr(action, ':');
    if (arg) *arg++ = 0; else arg = action + strlen(action);

    if (!strcmp(action, "ack")) return ack();
    if (!strcmp(action, "retry")) return retry(false, 0);
    if (!strcmp(action, "retry-after")) return retry(true, (uint32_t)strtoul(arg, NULL, 10));
    if (!strcmp(action, "ack-after")) return deliveries < strtoll(arg, NULL, 10) ? retry(false, 0) : ack();
    if (!strcmp(action, "dead")) return dead_letter(arg);
    if (!strcmp(action, "trap")) __builtin_trap();
    if (!strcmp(action, "loop")) {
        for (volatile unsigned long i = 0;; i++) {
        }
    }
    if (!strcmp(action, "echo")) {
        printf("stream=%.*s id=%.*s group=%.*s deliveries=%" PRId64 " fields=%zu\n", (int)stream_len, stream,
               (int)id_len, id, (int)group_len, group, deliveries, nfields);
        for (size_t i = 0; i < nfields; i++) { /* values may hold any byte, NUL included */
            fwrite(fields[i].name.ptr, 1, fields[i].name.len, stdout);
            fputc('=', stdout);
            fwrite(fields[i].value.ptr, 1, fields[i].value.len, stdout);
            fputc('\n', stdout);
        }
        fflush(stdout);
        return ack();
    }
    if (!strcmp(action, "record")) return record(arg, (str_t){id, id_len});
    guest_err("unsupported:%s", action);
    static char reason[128];
    snprintf(reason, sizeof reason, "unsupported action %s", action);
    return dead_letter(reason);
}
