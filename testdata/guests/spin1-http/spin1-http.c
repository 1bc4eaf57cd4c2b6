/* The "spin1-http" guest: a Spin 1.x-style core module (wit-bindgen 0.2-era ABI, like
 * ../spin1/spin1.c) that calls wasi-outbound-http request through the "http" command of
 * ../c-http/http-cmd.c (built with HTTP_MODULE="wasi-outbound-http" HTTP_FUNC="request").
 *   export handle-redis-message: (ptr, len) -> ptr to [is_err u8, error u8]
 *   export canonical_abi_realloc, canonical_abi_free
 * Protocol: ../README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../c/protocol.h"

int http_extra(const char *cmd, const char *arg);

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

static uint8_t ret_area[2];

__attribute__((export_name("handle-redis-message")))
uint8_t *handle_redis_message(uint8_t *ptr, size_t len) {
    int r = guest_handle("spin1-http", ptr, len, http_extra);
    canonical_abi_free(ptr, len, 1);
    ret_area[0] = 1; /* Spin 1.x's quirk: even success is err(success) */
    ret_area[1] = r == GUEST_ERR_ERROR;
    return ret_area;
}
