/* The "spin1" guest: a Spin 1.x-style core module (wit-bindgen 0.2-era ABI).
 *   export handle-redis-message: (ptr, len) -> ptr to [is_err u8, error u8]
 *   export canonical_abi_realloc(old, old_len, align, new_len) -> ptr
 *   export canonical_abi_free(ptr, len, align)
 *   imports from "outbound-redis" (publish, set, get, incr) and "spin-config"
 *   (get-config): the unversioned fermyon:spin functions, flattened, with the
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

/* publish:<addr>|<chan>|<msg>, set:<addr>|<key>|<val>, get:<addr>|<key>,
 * incr:<addr>|<key>, config:<key>. */
static int extra(const char *cmd, const char *arg) {
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
