/* The "spin1" guest: a Spin 1.x-style core module (wit-bindgen 0.2-era ABI).
 *   export handle-redis-message: (ptr, len) -> ptr to [is_err u8, error u8]
 *   export canonical_abi_realloc(old, old_len, align, new_len) -> ptr
 *   export canonical_abi_free(ptr, len, align)
 *   imports from "outbound-redis" (publish, set, get, incr), "spin-config"
 *   (get-config) and "key-value" (open, get, set, delete, exists, get-keys,
 *   close): the unversioned fermyon:spin functions, flattened, with the
 *   caller's return area as the last parameter.
 * Like the old C and TinyGo export wrappers, it reports success as err(success).
 * Protocol: ../README.md. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../c/protocol.h"

#define IMPORT(mod, name) __attribute__((import_module(mod), import_name(name)))

IMPORT("outbound-redis", "publish")
void redis_publish(const char *addr, size_t addr_len, const char *chan, size_t chan_len,
                   const char *payload, size_t payload_len, uint8_t *ret);
IMPORT("outbound-redis", "set")
void redis_set(const char *addr, size_t addr_len, const char *key, size_t key_len,
               const char *val, size_t val_len, uint8_t *ret);
IMPORT("outbound-redis", "get")
void redis_get(const char *addr, size_t addr_len, const char *key, size_t key_len, uint8_t *ret);
IMPORT("outbound-redis", "incr")
void redis_incr(const char *addr, size_t addr_len, const char *key, size_t key_len, uint8_t *ret);
IMPORT("spin-config", "get-config")
void config_get(const char *key, size_t key_len, uint8_t *ret);
/* The unversioned fermyon:spin/key-value: u32 store handles; every result but
 * close's goes to the return area (tag at 0, payload at 4). */
IMPORT("key-value", "open") void kv_open(const char *name, size_t name_len, uint8_t *ret);
IMPORT("key-value", "get") void kv_get(uint32_t store, const char *key, size_t key_len, uint8_t *ret);
IMPORT("key-value", "set")
void kv_set(uint32_t store, const char *key, size_t key_len, const char *val, size_t val_len, uint8_t *ret);
IMPORT("key-value", "delete") void kv_delete(uint32_t store, const char *key, size_t key_len, uint8_t *ret);
IMPORT("key-value", "exists") void kv_exists(uint32_t store, const char *key, size_t key_len, uint8_t *ret);
IMPORT("key-value", "get-keys") void kv_get_keys(uint32_t store, uint8_t *ret);
IMPORT("key-value", "close") void kv_close(uint32_t store);

__attribute__((export_name("canonical_abi_realloc")))
void *canonical_abi_realloc(void *old, size_t old_len, size_t align, size_t new_len) {
    (void)old_len;
    if (new_len == 0) return (void *)align;
    void *p = realloc(old, new_len);
    if (!p) abort();
    return p;
}

__attribute__((export_name("canonical_abi_free")))
void canonical_abi_free(void *ptr, size_t len, size_t align) {
    (void)align;
    if (len) free(ptr);
}

/* Return areas: 16 bytes, 8-aligned, enough for every result used here. */
static _Alignas(8) uint8_t call_ret[16];

static int redis_failed(const char *cmd, const char *addr) {
    guest_err("%s:%s: error (enum %u)", cmd, addr, call_ret[1]);
    return GUEST_ERR_ERROR;
}

/* The result payload at call_ret+4 as a host-allocated (ptr, len). */
#define RET_PTR(o) (*(char **)(call_ret + (o)))
#define RET_LEN(o) (*(size_t *)(call_ret + (o) + 4))

/* err(error) of a key-value call: variant error { store-table-full, no-such-store,
 * access-denied, invalid-store, no-such-key, io(string) }, case at 4, string at 8. */
static int kv_failed(const char *what) {
    static const char *const names[] = {"store-table-full", "no-such-store", "access-denied",
                                        "invalid-store", "no-such-key", "io"};
    uint8_t c = call_ret[4];
    if (c == 5) {
        guest_err("%s: io: %.*s", what, (int)RET_LEN(8), RET_PTR(8));
        canonical_abi_free(RET_PTR(8), RET_LEN(8), 1);
    } else {
        guest_err("%s: %s", what, c < 5 ? names[c] : "?");
    }
    return GUEST_ERR_ERROR;
}

/* kv:<op>:<store>|<key>|<value>, op = open|set|get|delete|exists|keys: opens the
 * store, runs op, closes it. */
static int kv(char *arg) {
    char *op = arg, *rest = strchr(arg, ':');
    if (!rest) return guest_unsupported("kv");
    *rest++ = 0;
    char *store = guest_field(&rest), *key = rest ? guest_field(&rest) : "", *val = rest ? rest : "";
    char what[64];
    snprintf(what, sizeof what, "kv:%s", op);
    kv_open(store, strlen(store), call_ret);
    if (call_ret[0]) return kv_failed(what);
    uint32_t h = *(uint32_t *)(call_ret + 4);
    int r = GUEST_OK;
    call_ret[0] = 0;
    if (!strcmp(op, "set")) kv_set(h, key, strlen(key), val, strlen(val), call_ret);
    else if (!strcmp(op, "delete")) kv_delete(h, key, strlen(key), call_ret);
    else if (!strcmp(op, "get")) kv_get(h, key, strlen(key), call_ret);
    else if (!strcmp(op, "exists")) kv_exists(h, key, strlen(key), call_ret);
    else if (!strcmp(op, "keys")) kv_get_keys(h, call_ret);
    else if (strcmp(op, "open")) r = guest_unsupported(what);
    if (r == GUEST_OK && call_ret[0]) {
        r = kv_failed(what);
    } else if (r == GUEST_OK && !strcmp(op, "get")) {
        guest_out(RET_PTR(4), RET_LEN(4));
        canonical_abi_free(RET_PTR(4), RET_LEN(4), 1);
    } else if (r == GUEST_OK && !strcmp(op, "exists")) {
        puts(call_ret[4] ? "true" : "false");
    } else if (r == GUEST_OK && !strcmp(op, "keys")) {
        char **keys = (char **)RET_PTR(4); /* (ptr, len) pairs */
        size_t n = RET_LEN(4);
        for (size_t i = 0; i < n; i++) {
            guest_out(keys[2 * i], (size_t)keys[2 * i + 1]);
            canonical_abi_free(keys[2 * i], (size_t)keys[2 * i + 1], 1);
        }
        canonical_abi_free(keys, n * 8, 4);
    } else if (r == GUEST_OK) {
        printf("%s ok\n", what);
    }
    fflush(stdout);
    kv_close(h);
    return r;
}

/* publish:<addr>|<chan>|<msg>, set:<addr>|<key>|<val>, get:<addr>|<key>,
 * incr:<addr>|<key>, config:<key>, kv:<op>:<store>|<key>|<value>. */
static int extra(const char *cmd, const char *arg) {
    if (!strcmp(cmd, "kv")) return kv((char *)arg);
    char *rest = (char *)arg;
    if (!strcmp(cmd, "publish") || !strcmp(cmd, "set")) {
        char *addr = guest_field(&rest), *a = guest_field(&rest), *b = rest ? rest : "";
        if (!strcmp(cmd, "publish"))
            redis_publish(addr, strlen(addr), a ? a : "", a ? strlen(a) : 0, b, strlen(b), call_ret);
        else
            redis_set(addr, strlen(addr), a ? a : "", a ? strlen(a) : 0, b, strlen(b), call_ret);
        if (call_ret[0]) return redis_failed(cmd, addr);
        printf("%s ok\n", cmd);
        fflush(stdout);
        return GUEST_OK;
    }
    if (!strcmp(cmd, "get")) {
        char *addr = guest_field(&rest), *key = rest ? rest : "";
        redis_get(addr, strlen(addr), key, strlen(key), call_ret);
        if (call_ret[0]) { call_ret[1] = call_ret[4]; return redis_failed(cmd, addr); }
        char *p = *(char **)(call_ret + 4);
        size_t n = *(size_t *)(call_ret + 8);
        guest_out(p, n);
        canonical_abi_free(p, n, 1);
        return GUEST_OK;
    }
    if (!strcmp(cmd, "incr")) {
        char *addr = guest_field(&rest), *key = rest ? rest : "";
        redis_incr(addr, strlen(addr), key, strlen(key), call_ret);
        if (call_ret[0]) { call_ret[1] = call_ret[8]; return redis_failed(cmd, addr); }
        printf("%" PRId64 "\n", *(int64_t *)(call_ret + 8));
        fflush(stdout);
        return GUEST_OK;
    }
    if (!strcmp(cmd, "config")) {
        config_get(arg, strlen(arg), call_ret);
        if (call_ret[0]) {
            /* err(variant error { provider, invalid-key, invalid-schema, other } (string)) */
            char *p = *(char **)(call_ret + 8);
            size_t n = *(size_t *)(call_ret + 12);
            guest_err("config:%s: error %u: %.*s", arg, call_ret[4], (int)n, p);
            canonical_abi_free(p, n, 1);
            return GUEST_ERR_ERROR;
        }
        char *p = *(char **)(call_ret + 4);
        size_t n = *(size_t *)(call_ret + 8);
        guest_out(p, n);
        canonical_abi_free(p, n, 1);
        return GUEST_OK;
    }
    return -1;
}

static uint8_t ret_area[2];

__attribute__((export_name("handle-redis-message")))
uint8_t *handle_redis_message(uint8_t *ptr, size_t len) {
    int r = guest_handle("spin1", ptr, len, extra);
    canonical_abi_free(ptr, len, 1);
    ret_area[0] = 1; /* the quirk: even success is err(success) */
    ret_area[1] = r == GUEST_ERR_ERROR;
    return ret_area;
}
