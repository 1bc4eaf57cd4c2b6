/* The "c-host" guest: the C guest plus commands that call the Spin host interfaces,
 * imported by hand with the canonical ABI (core module name = interface name with
 * version, field = function name; results that do not fit one core value go to a return
 * area whose address is the last parameter). Built together with ../c/c.c (the export),
 * ../c/cabi.c and ../c/protocol.c. Protocol: ../README.md. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../c/protocol.h"

#define IMPORT(mod, name) __attribute__((import_module(mod), import_name(name)))
#define R2 "fermyon:spin/redis@2.0.0"
#define KV2 "fermyon:spin/key-value@2.0.0"
#define R1 "fermyon:spin/redis"
#define KV1 "fermyon:spin/key-value"
#define WCFG "wasi:config/store@0.2.0-draft-2024-09-27"
#define WKV "wasi:keyvalue/store@0.2.0-draft2"

typedef uint8_t *ret_t; /* a return area */
typedef struct { const char *ptr; size_t len; } str_t; /* string, list<u8> or a list element */

/* fermyon:spin/redis@2.0.0 */
IMPORT(R2, "[static]connection.open") void r2_open(const char *, size_t, ret_t);
IMPORT(R2, "[method]connection.publish") void r2_publish(int32_t, const char *, size_t, const char *, size_t, ret_t);
IMPORT(R2, "[method]connection.get") void r2_get(int32_t, const char *, size_t, ret_t);
IMPORT(R2, "[method]connection.set") void r2_set(int32_t, const char *, size_t, const char *, size_t, ret_t);
IMPORT(R2, "[method]connection.incr") void r2_incr(int32_t, const char *, size_t, ret_t);
IMPORT(R2, "[method]connection.del") void r2_del(int32_t, const str_t *, size_t, ret_t);
IMPORT(R2, "[method]connection.sadd") void r2_sadd(int32_t, const char *, size_t, const str_t *, size_t, ret_t);
IMPORT(R2, "[method]connection.smembers") void r2_smembers(int32_t, const char *, size_t, ret_t);
IMPORT(R2, "[method]connection.srem") void r2_srem(int32_t, const char *, size_t, const str_t *, size_t, ret_t);
IMPORT(R2, "[method]connection.execute") void r2_execute(int32_t, const char *, size_t, const void *, size_t, ret_t);
IMPORT(R2, "[resource-drop]connection") void r2_drop(int32_t);

/* fermyon:spin/redis (unversioned: the address on every call, errors are an enum) */
IMPORT(R1, "publish") void r1_publish(const char *, size_t, const char *, size_t, const char *, size_t, ret_t);
IMPORT(R1, "get") void r1_get(const char *, size_t, const char *, size_t, ret_t);
IMPORT(R1, "set") void r1_set(const char *, size_t, const char *, size_t, const char *, size_t, ret_t);
IMPORT(R1, "incr") void r1_incr(const char *, size_t, const char *, size_t, ret_t);
IMPORT(R1, "del") void r1_del(const char *, size_t, const str_t *, size_t, ret_t);
IMPORT(R1, "sadd") void r1_sadd(const char *, size_t, const char *, size_t, const str_t *, size_t, ret_t);
IMPORT(R1, "smembers") void r1_smembers(const char *, size_t, const char *, size_t, ret_t);
IMPORT(R1, "srem") void r1_srem(const char *, size_t, const char *, size_t, const str_t *, size_t, ret_t);
IMPORT(R1, "execute") void r1_execute(const char *, size_t, const char *, size_t, const void *, size_t, ret_t);

/* variables and config */
IMPORT("fermyon:spin/variables@2.0.0", "get") void var_get(const char *, size_t, ret_t);
IMPORT("fermyon:spin/config", "get-config") void config_get(const char *, size_t, ret_t);
IMPORT(WCFG, "get") void wcfg_get(const char *, size_t, ret_t);
IMPORT(WCFG, "get-all") void wcfg_get_all(ret_t);

/* fermyon:spin/key-value@2.0.0 */
IMPORT(KV2, "[static]store.open") void kv2_open(const char *, size_t, ret_t);
IMPORT(KV2, "[method]store.get") void kv2_get(int32_t, const char *, size_t, ret_t);
IMPORT(KV2, "[method]store.set") void kv2_set(int32_t, const char *, size_t, const char *, size_t, ret_t);
IMPORT(KV2, "[method]store.delete") void kv2_delete(int32_t, const char *, size_t, ret_t);
IMPORT(KV2, "[method]store.exists") void kv2_exists(int32_t, const char *, size_t, ret_t);
IMPORT(KV2, "[method]store.get-keys") void kv2_get_keys(int32_t, ret_t);
IMPORT(KV2, "[resource-drop]store") void kv2_drop(int32_t);

/* wasi:keyvalue/store@0.2.0-draft2 (bucket resource) */
IMPORT(WKV, "open") void wkv_open(const char *, size_t, ret_t);
IMPORT(WKV, "[method]bucket.get") void wkv_get(int32_t, const char *, size_t, ret_t);
IMPORT(WKV, "[method]bucket.set") void wkv_set(int32_t, const char *, size_t, const char *, size_t, ret_t);
IMPORT(WKV, "[method]bucket.delete") void wkv_delete(int32_t, const char *, size_t, ret_t);
IMPORT(WKV, "[method]bucket.exists") void wkv_exists(int32_t, const char *, size_t, ret_t);
/* list-keys(cursor: option<string>) flattens the option to (case, ptr, len). */
IMPORT(WKV, "[method]bucket.list-keys") void wkv_list_keys(int32_t, int32_t, const char *, size_t, ret_t);
IMPORT(WKV, "[resource-drop]bucket") void wkv_drop(int32_t);

/* fermyon:spin/key-value (unversioned: u32 store handles) */
IMPORT(KV1, "open") void kv1_open(const char *, size_t, ret_t);
IMPORT(KV1, "get") void kv1_get(uint32_t, const char *, size_t, ret_t);
IMPORT(KV1, "set") void kv1_set(uint32_t, const char *, size_t, const char *, size_t, ret_t);
IMPORT(KV1, "delete") void kv1_delete(uint32_t, const char *, size_t, ret_t);
IMPORT(KV1, "exists") void kv1_exists(uint32_t, const char *, size_t, ret_t);
IMPORT(KV1, "get-keys") void kv1_get_keys(uint32_t, ret_t);
IMPORT(KV1, "close") void kv1_close(uint32_t);

/* ------------------------------------------------------------------ helpers */
static _Alignas(8) uint8_t ret[32];
#define U8(o) (ret[o])
#define U32(o) (*(uint32_t *)(ret + (o)))
#define I64(o) (*(int64_t *)(ret + (o)))
#define STR(o) ((str_t){*(const char **)(ret + (o)), *(size_t *)(ret + (o) + 4)})

static void print_str(str_t s) { guest_out(s.ptr, s.len); }
static void free_str(str_t s) { if (s.len) free((void *)s.ptr); }
static void print_free(str_t s) { print_str(s); free_str(s); }

/* Prints and frees a host-allocated list<string>. */
static void print_strings(str_t list) {
    const str_t *items = (const str_t *)list.ptr;
    for (size_t i = 0; i < list.len; i++) print_free(items[i]);
    if (list.len) free((void *)list.ptr);
}

/* Splits "a|b|c" into fields (in place); returns the count. */
static size_t split(char *s, char **out, size_t max) {
    size_t n = 0;
    while (s && n < max) out[n++] = guest_field(&s);
    return n;
}

/* Turns fields into a list<string> argument. */
static str_t *strings(char **f, size_t n) {
    str_t *l = calloc(n ? n : 1, sizeof *l);
    for (size_t i = 0; i < n; i++) l[i] = (str_t){f[i], strlen(f[i])};
    return l;
}

/* execute arguments: "int:<n>" is int64, anything else binary. redis-parameter is
 * 16 bytes: case (u8) at 0, payload at 8. */
static uint8_t *params(char **f, size_t n) {
    uint8_t *p = calloc(n ? n : 1, 16);
    for (size_t i = 0; i < n; i++) {
        uint8_t *e = p + 16 * i;
        if (!strncmp(f[i], "int:", 4)) {
            e[0] = 0;
            *(int64_t *)(e + 8) = strtoll(f[i] + 4, NULL, 10);
        } else {
            e[0] = 1;
            *(const char **)(e + 8) = f[i];
            *(size_t *)(e + 12) = strlen(f[i]);
        }
    }
    return p;
}

/* Prints and frees a list<redis-result>: nil | status(string) | int64(s64) | binary(list<u8>). */
static void print_results(str_t list) {
    const uint8_t *r = (const uint8_t *)list.ptr;
    for (size_t i = 0; i < list.len; i++, r += 16) {
        str_t s = {*(const char **)(r + 8), *(size_t *)(r + 12)};
        switch (r[0]) {
        case 0: puts("nil"); break;
        case 1: printf("status:%.*s\n", (int)s.len, s.ptr); free_str(s); break;
        case 2: printf("int64:%" PRId64 "\n", *(const int64_t *)(r + 8)); break;
        default: printf("binary:%.*s\n", (int)s.len, s.ptr); free_str(s); break;
        }
    }
    fflush(stdout);
    if (list.len) free((void *)list.ptr);
}

/* A variant error whose cases 0..ncases-1 carry no payload and the others a string at 8. */
static int fail_variant(const char *what, const char *const *names, size_t nnames, size_t off) {
    uint8_t c = U8(off);
    const char *name = c < nnames ? names[c] : "?";
    bool has_str = !strcmp(name, "other") || !strcmp(name, "io") || !strcmp(name, "upstream") ||
                   !strcmp(name, "invalid-name") || !strcmp(name, "undefined") || !strcmp(name, "provider") ||
                   !strcmp(name, "invalid-key") || !strcmp(name, "invalid-schema");
    if (has_str) {
        str_t s = STR(off + 4);
        guest_err("%s: %s: %.*s", what, name, (int)s.len, s.ptr);
        free_str(s);
    } else {
        guest_err("%s: %s", what, name);
    }
    return GUEST_ERR_ERROR;
}

static const char *const REDIS2_ERR[] = {"invalid-address", "too-many-connections", "type-error", "other"};
static const char *const KV2_ERR[] = {"store-table-full", "no-such-store", "access-denied", "other"};
static const char *const WKV_ERR[] = {"no-such-store", "access-denied", "other"};
static const char *const KV1_ERR[] = {"store-table-full", "no-such-store", "access-denied", "invalid-store", "no-such-key", "io"};
static const char *const VAR_ERR[] = {"invalid-name", "undefined", "provider", "other"};
static const char *const CONFIG_ERR[] = {"provider", "invalid-key", "invalid-schema", "other"};
static const char *const WCFG_ERR[] = {"upstream", "io"};
#define N(a) (sizeof a / sizeof a[0])

static int ok_line(const char *what) {
    printf("%s ok\n", what);
    fflush(stdout);
    return GUEST_OK;
}

/* ------------------------------------------------------------------ redis@2.0.0 */
/* redis2:<op>:<addr>|... ; the connection is opened for the command and dropped after. */
static int cmd_redis2(char *arg) {
    char *op = arg, *rest = strchr(arg, ':');
    if (!rest) return guest_unsupported("redis2");
    *rest++ = 0;
    char *f[64];
    size_t n = split(rest, f, N(f));
    char what[64];
    snprintf(what, sizeof what, "redis2:%s", op);
    if (!strcmp(op, "openmany")) { /* openmany:<addr>|<count>: keeps them all open */
        long count = n > 1 ? strtol(f[1], NULL, 10) : 1;
        for (long i = 0; i < count; i++) {
            r2_open(f[0], strlen(f[0]), ret);
            if (U8(0)) {
                printf("opened %ld\n", i);
                return fail_variant(what, REDIS2_ERR, N(REDIS2_ERR), 4);
            }
        }
        printf("opened %ld\n", count);
        return ok_line(what);
    }
    r2_open(f[0], strlen(f[0]), ret);
    if (U8(0)) return fail_variant(what, REDIS2_ERR, N(REDIS2_ERR), 4);
    int32_t c = (int32_t)U32(4);
    int r = GUEST_OK;
    const char *k = n > 1 ? f[1] : "";
    const char *v = n > 2 ? f[2] : "";
    if (!strcmp(op, "open")) {
        r = ok_line(what);
    } else if (!strcmp(op, "publish") || !strcmp(op, "set")) {
        if (!strcmp(op, "publish")) r2_publish(c, k, strlen(k), v, strlen(v), ret);
        else r2_set(c, k, strlen(k), v, strlen(v), ret);
        r = U8(0) ? fail_variant(what, REDIS2_ERR, N(REDIS2_ERR), 4) : ok_line(what);
    } else if (!strcmp(op, "get")) {
        r2_get(c, k, strlen(k), ret);
        if (U8(0)) r = fail_variant(what, REDIS2_ERR, N(REDIS2_ERR), 4);
        else if (!U8(4)) puts("(nil)"), fflush(stdout);
        else print_free(STR(8));
    } else if (!strcmp(op, "incr")) {
        r2_incr(c, k, strlen(k), ret);
        if (U8(0)) r = fail_variant(what, REDIS2_ERR, N(REDIS2_ERR), 8);
        else printf("%" PRId64 "\n", I64(8)), fflush(stdout);
    } else if (!strcmp(op, "del") || !strcmp(op, "sadd") || !strcmp(op, "srem")) {
        bool del = !strcmp(op, "del");
        size_t first = del ? 1 : 2, cnt = n > first ? n - first : 0;
        str_t *l = strings(f + first, cnt);
        if (del) r2_del(c, l, cnt, ret);
        else if (!strcmp(op, "sadd")) r2_sadd(c, k, strlen(k), l, cnt, ret);
        else r2_srem(c, k, strlen(k), l, cnt, ret);
        free(l);
        if (U8(0)) r = fail_variant(what, REDIS2_ERR, N(REDIS2_ERR), 4);
        else printf("%" PRIu32 "\n", U32(4)), fflush(stdout);
    } else if (!strcmp(op, "smembers")) {
        r2_smembers(c, k, strlen(k), ret);
        if (U8(0)) r = fail_variant(what, REDIS2_ERR, N(REDIS2_ERR), 4);
        else print_strings(STR(4));
    } else if (!strcmp(op, "execute")) {
        size_t cnt = n > 2 ? n - 2 : 0;
        uint8_t *p = params(f + 2, cnt);
        r2_execute(c, k, strlen(k), p, cnt, ret);
        free(p);
        if (U8(0)) r = fail_variant(what, REDIS2_ERR, N(REDIS2_ERR), 4);
        else print_results(STR(4));
    } else {
        r = guest_unsupported(what);
    }
    r2_drop(c);
    return r;
}

/* ------------------------------------------------------------------ unversioned redis */
static int fail_enum(const char *what, uint8_t c) {
    guest_err("%s: %s", what, c ? "error" : "success");
    return GUEST_ERR_ERROR;
}

/* redis:<op>:<addr>|... */
static int cmd_redis1(char *arg) {
    char *op = arg, *rest = strchr(arg, ':');
    if (!rest) return guest_unsupported("redis");
    *rest++ = 0;
    char *f[64];
    size_t n = split(rest, f, N(f));
    char what[64];
    snprintf(what, sizeof what, "redis:%s", op);
    const char *a = f[0], *k = n > 1 ? f[1] : "", *v = n > 2 ? f[2] : "";
    size_t al = strlen(a);
    if (!strcmp(op, "publish") || !strcmp(op, "set")) {
        if (!strcmp(op, "publish")) r1_publish(a, al, k, strlen(k), v, strlen(v), ret);
        else r1_set(a, al, k, strlen(k), v, strlen(v), ret);
        return U8(0) ? fail_enum(what, U8(1)) : ok_line(what);
    }
    if (!strcmp(op, "get")) {
        r1_get(a, al, k, strlen(k), ret);
        if (U8(0)) return fail_enum(what, U8(4));
        print_free(STR(4));
        return GUEST_OK;
    }
    if (!strcmp(op, "incr")) {
        r1_incr(a, al, k, strlen(k), ret);
        if (U8(0)) return fail_enum(what, U8(8));
        printf("%" PRId64 "\n", I64(8));
        fflush(stdout);
        return GUEST_OK;
    }
    if (!strcmp(op, "del") || !strcmp(op, "sadd") || !strcmp(op, "srem")) {
        bool del = !strcmp(op, "del");
        size_t first = del ? 1 : 2, cnt = n > first ? n - first : 0;
        str_t *l = strings(f + first, cnt);
        if (del) r1_del(a, al, l, cnt, ret);
        else if (!strcmp(op, "sadd")) r1_sadd(a, al, k, strlen(k), l, cnt, ret);
        else r1_srem(a, al, k, strlen(k), l, cnt, ret);
        free(l);
        if (U8(0)) return fail_enum(what, U8(8));
        printf("%" PRId64 "\n", I64(8));
        fflush(stdout);
        return GUEST_OK;
    }
    if (!strcmp(op, "smembers")) {
        r1_smembers(a, al, k, strlen(k), ret);
        if (U8(0)) return fail_enum(what, U8(4));
        print_strings(STR(4));
        return GUEST_OK;
    }
    if (!strcmp(op, "execute")) {
        size_t cnt = n > 2 ? n - 2 : 0;
        uint8_t *p = params(f + 2, cnt);
        r1_execute(a, al, k, strlen(k), p, cnt, ret);
        free(p);
        if (U8(0)) return fail_enum(what, U8(4));
        print_results(STR(4));
        return GUEST_OK;
    }
    return guest_unsupported(what);
}

/* ------------------------------------------------------------------ key-value */
/* A key-value interface whose stores are resources: fermyon:spin/key-value@2.0.0's
 * store or wasi:keyvalue/store's bucket. Their get/set/delete/exists lower alike;
 * keys() prints the store's keys (or the error) and returns the guest result. */
typedef struct {
    const char *cmd;
    const char *const *errs;
    size_t nerrs;
    void (*open)(const char *, size_t, ret_t);
    void (*get)(int32_t, const char *, size_t, ret_t);
    void (*set)(int32_t, const char *, size_t, const char *, size_t, ret_t);
    void (*del)(int32_t, const char *, size_t, ret_t);
    void (*exists)(int32_t, const char *, size_t, ret_t);
    int (*keys)(int32_t, const char *what);
    void (*drop)(int32_t);
} kv_res_t;

static int kv2_keys(int32_t s, const char *what) {
    kv2_get_keys(s, ret);
    if (U8(0)) return fail_variant(what, KV2_ERR, N(KV2_ERR), 4);
    print_strings(STR(4));
    return GUEST_OK;
}

/* list-keys(none): result<key-response { keys, cursor: option<string> }, error>; the
 * keys are at 4, the cursor's case at 12 and its string at 16. */
static int wkv_keys(int32_t b, const char *what) {
    wkv_list_keys(b, 0, NULL, 0, ret);
    if (U8(0)) return fail_variant(what, WKV_ERR, N(WKV_ERR), 4);
    bool more = U8(12);
    str_t cursor = STR(16);
    print_strings(STR(4));
    if (more) {
        printf("(cursor %.*s)\n", (int)cursor.len, cursor.ptr);
        fflush(stdout);
        free_str(cursor);
    }
    return GUEST_OK;
}

static const kv_res_t KV2_RES = {"kv", KV2_ERR, N(KV2_ERR), kv2_open, kv2_get, kv2_set, kv2_delete, kv2_exists, kv2_keys, kv2_drop};
static const kv_res_t WASIKV_RES = {"wasikv", WKV_ERR, N(WKV_ERR), wkv_open, wkv_get, wkv_set, wkv_delete, wkv_exists, wkv_keys, wkv_drop};

/* kv:<op>:<store>|<key>|<value> (key-value@2.0.0) and wasikv:<op>:... (wasi:keyvalue)
 * with op = set|get|delete|exists|keys|open */
static int cmd_kv_res(const kv_res_t *kv, char *arg) {
    char *op = arg, *rest = strchr(arg, ':');
    if (!rest) return guest_unsupported(kv->cmd);
    *rest++ = 0;
    char *f[3] = {"", "", ""};
    split(rest, f, 3);
    char what[64];
    snprintf(what, sizeof what, "%s:%s", kv->cmd, op);
    kv->open(f[0], strlen(f[0]), ret);
    if (U8(0)) return fail_variant(what, kv->errs, kv->nerrs, 4);
    int32_t s = (int32_t)U32(4);
    int r = GUEST_OK;
    if (!strcmp(op, "open")) {
        r = ok_line(what);
    } else if (!strcmp(op, "set")) {
        kv->set(s, f[1], strlen(f[1]), f[2], strlen(f[2]), ret);
        r = U8(0) ? fail_variant(what, kv->errs, kv->nerrs, 4) : ok_line(what);
    } else if (!strcmp(op, "get")) {
        kv->get(s, f[1], strlen(f[1]), ret);
        if (U8(0)) r = fail_variant(what, kv->errs, kv->nerrs, 4);
        else if (!U8(4)) puts("(none)"), fflush(stdout);
        else print_free(STR(8));
    } else if (!strcmp(op, "delete")) {
        kv->del(s, f[1], strlen(f[1]), ret);
        r = U8(0) ? fail_variant(what, kv->errs, kv->nerrs, 4) : ok_line(what);
    } else if (!strcmp(op, "exists")) {
        kv->exists(s, f[1], strlen(f[1]), ret);
        if (U8(0)) r = fail_variant(what, kv->errs, kv->nerrs, 4);
        else puts(U8(4) ? "true" : "false"), fflush(stdout);
    } else if (!strcmp(op, "keys")) {
        r = kv->keys(s, what);
    } else {
        r = guest_unsupported(what);
    }
    kv->drop(s);
    return r;
}

/* kv1:<op>:<store>|<key>|<value> through the unversioned handle-based interface */
static int cmd_kv1(char *arg) {
    char *op = arg, *rest = strchr(arg, ':');
    if (!rest) return guest_unsupported("kv1");
    *rest++ = 0;
    char *f[3] = {"", "", ""};
    split(rest, f, 3);
    char what[64];
    snprintf(what, sizeof what, "kv1:%s", op);
    kv1_open(f[0], strlen(f[0]), ret);
    if (U8(0)) return fail_variant(what, KV1_ERR, N(KV1_ERR), 4);
    uint32_t s = U32(4);
    int r = GUEST_OK;
    if (!strcmp(op, "open")) {
        r = ok_line(what);
    } else if (!strcmp(op, "set")) {
        kv1_set(s, f[1], strlen(f[1]), f[2], strlen(f[2]), ret);
        r = U8(0) ? fail_variant(what, KV1_ERR, N(KV1_ERR), 4) : ok_line(what);
    } else if (!strcmp(op, "get")) {
        kv1_get(s, f[1], strlen(f[1]), ret);
        if (U8(0)) r = fail_variant(what, KV1_ERR, N(KV1_ERR), 4);
        else print_free(STR(4));
    } else if (!strcmp(op, "delete")) {
        kv1_delete(s, f[1], strlen(f[1]), ret);
        r = U8(0) ? fail_variant(what, KV1_ERR, N(KV1_ERR), 4) : ok_line(what);
    } else if (!strcmp(op, "exists")) {
        kv1_exists(s, f[1], strlen(f[1]), ret);
        if (U8(0)) r = fail_variant(what, KV1_ERR, N(KV1_ERR), 4);
        else puts(U8(4) ? "true" : "false"), fflush(stdout);
    } else if (!strcmp(op, "keys")) {
        kv1_get_keys(s, ret);
        if (U8(0)) r = fail_variant(what, KV1_ERR, N(KV1_ERR), 4);
        else print_strings(STR(4));
    } else {
        r = guest_unsupported(what);
    }
    kv1_close(s);
    return r;
}

/* ------------------------------------------------------------------ variables */
static int cmd_string_result(const char *what, const char *const *names, size_t nnames) {
    if (U8(0)) return fail_variant(what, names, nnames, 4);
    print_free(STR(4));
    return GUEST_OK;
}

/* The commands beyond the common protocol; ../c/c.c calls it (built with
 * -DGUEST_EXTRA=host_extra). */
int host_extra(const char *cmd, const char *carg);
int host_extra(const char *cmd, const char *carg) {
    char *arg = (char *)carg;
    char what[300];
    snprintf(what, sizeof what, "%s:%.280s", cmd, arg);
    if (!strcmp(cmd, "redis2")) return cmd_redis2(arg);
    if (!strcmp(cmd, "redis")) return cmd_redis1(arg);
    if (!strcmp(cmd, "kv")) return cmd_kv_res(&KV2_RES, arg);
    if (!strcmp(cmd, "wasikv")) return cmd_kv_res(&WASIKV_RES, arg);
    if (!strcmp(cmd, "kv1")) return cmd_kv1(arg);
    if (!strcmp(cmd, "var")) {
        var_get(arg, strlen(arg), ret);
        return cmd_string_result(what, VAR_ERR, N(VAR_ERR));
    }
    if (!strcmp(cmd, "config")) {
        config_get(arg, strlen(arg), ret);
        return cmd_string_result(what, CONFIG_ERR, N(CONFIG_ERR));
    }
    if (!strcmp(cmd, "wasiconfig")) {
        wcfg_get(arg, strlen(arg), ret);
        if (U8(0)) return fail_variant(what, WCFG_ERR, N(WCFG_ERR), 4);
        if (!U8(4)) puts("(none)"), fflush(stdout);
        else print_free(STR(8));
        return GUEST_OK;
    }
    if (!strcmp(cmd, "wasiconfig-all")) {
        wcfg_get_all(ret);
        if (U8(0)) return fail_variant(what, WCFG_ERR, N(WCFG_ERR), 4);
        str_t list = STR(4);
        const str_t *kv = (const str_t *)list.ptr;
        for (size_t i = 0; i < list.len; i++) {
            printf("%.*s=%.*s\n", (int)kv[2 * i].len, kv[2 * i].ptr, (int)kv[2 * i + 1].len, kv[2 * i + 1].ptr);
            free_str(kv[2 * i]);
            free_str(kv[2 * i + 1]);
        }
        fflush(stdout);
        if (list.len) free((void *)list.ptr);
        return GUEST_OK;
    }
    return -1;
}
