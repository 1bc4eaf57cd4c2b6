/* variables example: greets every message with the component variable "greeting",
 * read through fermyon:spin/variables@2.0.0 on each message (so a provider such as
 * the environment or Vault can change it while the app runs). Canonical ABI by hand:
 *   import get(name_ptr, name_len, ret): ret[0] = 0 ok / 1 err; ok: string at ret+4
 *   (pointer, length; allocated with our cabi_realloc); err: case at ret+4, string at ret+8. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((import_module("fermyon:spin/variables@2.0.0"), import_name("get")))
void variables_get(const char *name, size_t name_len, uint8_t *ret);

__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
    (void)old_size;
    if (new_size == 0) return (void *)align;
    void *p = realloc(old, new_size);
    if (!p) abort();
    return p;
}

static _Alignas(4) uint8_t ret[16];
static uint8_t result[2];

__attribute__((export_name("fermyon:spin/inbound-redis#handle-message")))
uint8_t *handle_message(uint8_t *msg, size_t len) {
    static const char name[] = "greeting";
    variables_get(name, strlen(name), ret);
    int failed = ret[0];
    /* ok: the value; err: invalid-name, undefined, provider or other, each with a message */
    const char *s = *(const char **)(ret + (failed ? 8 : 4));
    size_t n = *(size_t *)(ret + (failed ? 12 : 8));
    if (failed) {
        fprintf(stderr, "cannot read variable greeting: %.*s\n", (int)n, s);
        fflush(stderr);
    } else {
        printf("%.*s, %.*s!\n", (int)n, s, (int)len, (const char *)msg);
        fflush(stdout);
    }
    if (n) free((void *)s);
    if (len) free(msg);
    result[0] = result[1] = (uint8_t)failed; /* err(error) when the variable is missing */
    return result;
}
