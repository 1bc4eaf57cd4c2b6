/* cabi_realloc for the C guests: the allocator through which the host copies
 * arguments (the payload) and results (lists, strings) into guest memory. */
#include <stdlib.h>

__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
    (void)old_size; /* malloc's 16-byte alignment covers every canonical-ABI alignment */
    if (new_size == 0) return (void *)align; /* any non-null aligned pointer */
    void *p = realloc(old, new_size);
    if (!p) abort();
    return p;
}
