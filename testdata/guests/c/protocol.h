/* The redspin test-guest protocol, shared by the C-built guests (c, c-host, spin1).
 * A guest calls guest_handle() with the message; the payload selects what it does.
 * See ../README.md for the command table. */
#ifndef REDSPIN_GUEST_PROTOCOL_H
#define REDSPIN_GUEST_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

/* What the handler returns. */
enum guest_result {
    GUEST_OK = 0,          /* ok(()) */
    GUEST_ERR_ERROR = 1,   /* err(error::error) */
    GUEST_ERR_SUCCESS = 2, /* err(error::success): the Spin 1.x quirk, counts as success */
};

/* An optional handler for commands beyond the common ones (host interfaces).
 * cmd and arg are NUL-terminated; returns -1 when it does not know cmd. */
typedef int (*guest_extra_fn)(const char *cmd, const char *arg);

/* Runs one message. name is the guest's name used in "<name> got <n> bytes". */
int guest_handle(const char *name, const uint8_t *msg, size_t len, guest_extra_fn extra);

/* Helpers for extra handlers. */
void guest_out(const char *s, size_t n); /* one stdout line */
void guest_err(const char *fmt, ...);    /* one stderr line (printf format) */
int guest_unsupported(const char *cmd);  /* "unsupported:<cmd>" on stderr; GUEST_ERR_ERROR */

/* Splits s in place at the next '|': returns s and moves *rest past the separator
 * (NULL when there is none). */
char *guest_field(char **rest);

#endif
