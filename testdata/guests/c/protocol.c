/* The redspin test-guest protocol (see protocol.h and ../README.md). */
#include "protocol.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void guest_out(const char *s, size_t n) {
    fwrite(s, 1, n, stdout);
    fputc('\n', stdout);
    fflush(stdout);
}

void guest_err(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

int guest_unsupported(const char *cmd) {
    guest_err("unsupported:%s", cmd);
    return GUEST_ERR_ERROR;
}

char *guest_field(char **rest) {
    char *s = *rest;
    if (!s) return NULL;
    char *bar = strchr(s, '|');
    if (bar) {
        *bar = 0;
        *rest = bar + 1;
    } else {
        *rest = NULL;
    }
    return s;
}

static int cmd_alloc(const char *arg) {
    long mib = strtol(arg, NULL, 10);
    if (mib <= 0) {
        guest_err("alloc:%s: want a positive number of MiB", arg);
        return GUEST_ERR_ERROR;
    }
    /* More than the 32-bit address space cannot succeed. */
    size_t n = mib < 4096 ? (size_t)mib << 20 : SIZE_MAX;
    volatile uint8_t *p = malloc(n);
    if (!p) {
        guest_err("alloc:%ld: out of memory", mib);
        return GUEST_ERR_ERROR;
    }
    for (size_t i = 0; i < n; i += 4096) p[i] = 1; /* touch every page */
    free((void *)p);
    printf("alloc:%ld ok\n", mib);
    fflush(stdout);
    return GUEST_OK;
}

static int cmd_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        guest_err("file:%s: %s", path, strerror(errno));
        return GUEST_ERR_ERROR;
    }
    char buf[4096];
    size_t n, last = '\n';
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        fwrite(buf, 1, n, stdout);
        last = (unsigned char)buf[n - 1];
    }
    fclose(f);
    if (last != '\n') fputc('\n', stdout);
    fflush(stdout);
    return GUEST_OK;
}

int guest_handle(const char *name, const uint8_t *msg, size_t len, guest_extra_fn extra) {
    /* A NUL-terminated copy: commands are text. */
    char *text = malloc(len + 1);
    if (!text) return GUEST_ERR_ERROR;
    memcpy(text, msg, len);
    text[len] = 0;

    char *arg = strchr(text, ':');
    if (arg) *arg++ = 0; else arg = text + len;
    const char *cmd = text;
    int r = -1;

    if (!strcmp(cmd, "print")) {
        guest_out(arg, strlen(arg));
        r = GUEST_OK;
    } else if (!strcmp(cmd, "stderr")) {
        guest_err("%s", arg);
        r = GUEST_OK;
    } else if (!strcmp(cmd, "fail")) {
        r = GUEST_ERR_ERROR;
    } else if (!strcmp(cmd, "errsuccess")) {
        r = GUEST_ERR_SUCCESS;
    } else if (!strcmp(cmd, "trap")) {
        __builtin_trap();
    } else if (!strcmp(cmd, "loop")) {
        for (volatile unsigned long i = 0;; i++) {
        }
    } else if (!strcmp(cmd, "alloc")) {
        r = cmd_alloc(arg);
    } else if (!strcmp(cmd, "env")) {
        const char *v = getenv(arg);
        if (v) guest_out(v, strlen(v)); else guest_err("unset:%s", arg);
        r = GUEST_OK;
    } else if (!strcmp(cmd, "file")) {
        r = cmd_file(arg);
    } else if (!strcmp(cmd, "count")) {
        /* A global that survives between messages only when the host reuses the instance. */
        static unsigned long count;
        printf(strcmp(arg, "partial") ? "count=%lu\n" : "count=%lu", ++count);
        fflush(stdout);
        r = GUEST_OK;
    } else if (!strcmp(cmd, "len")) {
        printf("len=%zu\n", len);
        fflush(stdout);
        r = GUEST_OK;
    } else if (extra) {
        r = extra(cmd, arg);
    }
    if (r < 0) {
        printf("%s got %zu bytes\n", name, len);
        fflush(stdout);
        r = GUEST_OK;
    }
    free(text);
    return r;
}
