/* hello-redis: prints every message it gets. A Spin Redis handler in plain C
 * (clang + wasi-libc), with the component-model canonical ABI written by hand:
 *   export fermyon:spin/inbound-redis#handle-message: (ptr, len) -> ptr to
 *   [0 = ok / 1 = err, error case]
 * When the component's environment sets NAME, lines start with "<NAME>: ". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
    (void)old_size;
    if (new_size == 0) return (void *)align;
    void *p = realloc(old, new_size);
    if (!p) abort();
    return p;
}

static uint8_t result[2]; /* ok(()) */

__attribute__((export_name("fermyon:spin/inbound-redis#handle-message")))
uint8_t *handle_message(uint8_t *msg, size_t len) {
    const char *name = getenv("NAME");
    if (name) printf("%s: ", name);
    printf("Got message: %.*s\n", (int)len, (const char *)msg);
    fflush(stdout);
    if (len) free(msg);
    return result;
}
