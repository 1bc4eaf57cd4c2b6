/* The "c" guest: a Spin Redis handler in C with the canonical ABI written by hand.
 * Core export fermyon:spin/inbound-redis#handle-message: (ptr, len) -> ptr to a
 * 2-byte result area: [0] = 0 ok / 1 err, [1] = error case (0 success, 1 error).
 * Built with cabi.c (cabi_realloc) and protocol.c. */
#include <stdlib.h>

#include "protocol.h"

#ifndef GUEST_NAME
#define GUEST_NAME "c"
#endif
/* Built with -DGUEST_EXTRA=fn, the guest also answers fn's commands (c-host). */
#ifdef GUEST_EXTRA
int GUEST_EXTRA(const char *cmd, const char *arg);
#else
#define GUEST_EXTRA NULL
#endif

static uint8_t ret_area[2];

__attribute__((export_name("fermyon:spin/inbound-redis#handle-message")))
uint8_t *handle_message(uint8_t *ptr, size_t len) {
    int r = guest_handle(GUEST_NAME, ptr, len, GUEST_EXTRA);
    if (len) free(ptr); /* the host allocated it with cabi_realloc; it is ours now */
    ret_area[0] = r != GUEST_OK;
    ret_area[1] = r == GUEST_ERR_ERROR;
    return ret_area;
}
