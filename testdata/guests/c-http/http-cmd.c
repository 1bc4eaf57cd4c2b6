/* The "http" command of the c-http and spin1-http guests: one outbound request through
 * the legacy HTTP interface, imported by hand (HTTP_MODULE/HTTP_FUNC: fermyon:spin/http
 * send-request in a component, wasi-outbound-http request in a Spin 1.x module; both
 * take the request record flattened to ten i32s plus the return area).
 *
 *   http:METHOD|URL|BODY|Name: value|...   METHOD get post put delete patch head options;
 *                                          BODY "-" for none
 * prints "status N", "header name: value" for each response header named x-*, then
 * "body TEXT" (bodies up to 256 bytes) or "body-len N"; an error is
 * "http:URL: <http-error case>" on stderr and err(error). Protocol: ../README.md. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../c/protocol.h"

#ifndef HTTP_MODULE
#define HTTP_MODULE "fermyon:spin/http"
#define HTTP_FUNC "send-request"
#endif

typedef struct { const char *ptr; size_t len; } hstr_t;

__attribute__((import_module(HTTP_MODULE), import_name(HTTP_FUNC)))
void http_send(int32_t method, const char *uri, size_t uri_len, const hstr_t *headers, size_t nheaders,
               const hstr_t *params, size_t nparams, int32_t has_body, const char *body, size_t body_len,
               uint8_t *ret);

static const char *const METHODS[] = {"get", "post", "put", "delete", "patch", "head", "options"};
static const char *const ERRORS[] = {"success", "destination-not-allowed", "invalid-url",
                                     "request-error", "runtime-error", "too-many-requests"};

/* result<response, http-error>: tag at 0; status u16 at 4; headers option at 8 (list at
 * 12); body option at 20 (list at 24); or the error case at 4. */
static _Alignas(8) uint8_t http_ret[32];
#define RET_U8(o) (http_ret[o])
#define RET_U16(o) (*(uint16_t *)(http_ret + (o)))
#define RET_STR(o) ((hstr_t){*(const char **)(http_ret + (o)), *(size_t *)(http_ret + (o) + 4)})

static void free_hstr(hstr_t s) {
    if (s.len) free((void *)s.ptr);
}

int http_cmd(char *arg);
int http_cmd(char *arg) {
    char *rest = arg;
    const char *method = guest_field(&rest);
    const char *url = rest ? guest_field(&rest) : "";
    const char *body = rest ? guest_field(&rest) : "-";
    int m = -1;
    for (int i = 0; i < 7; i++)
        if (!strcmp(method, METHODS[i])) m = i;
    if (m < 0) {
        guest_err("http:%s: unknown method", method);
        return GUEST_ERR_ERROR;
    }
    hstr_t headers[16];
    size_t n = 0;
    while (rest && n < 16) {
        char *h = guest_field(&rest);
        char *colon = strchr(h, ':');
        if (!colon) continue;
        *colon = 0;
        const char *v = colon + 1;
        while (*v == ' ') v++;
        headers[n++] = (hstr_t){h, strlen(h)};
        headers[n++] = (hstr_t){v, strlen(v)};
    }
    int has_body = strcmp(body, "-") != 0;
    http_send(m, url, strlen(url), headers, n / 2, NULL, 0, has_body, has_body ? body : NULL,
              has_body ? strlen(body) : 0, http_ret);
    if (RET_U8(0)) {
        uint8_t e = RET_U8(4);
        guest_err("http:%s: %s", url, e < 6 ? ERRORS[e] : "?");
        return GUEST_ERR_ERROR;
    }
    printf("status %u\n", RET_U16(4));
    if (RET_U8(8)) {
        hstr_t list = RET_STR(12);
        const hstr_t *kv = (const hstr_t *)list.ptr;
        for (size_t i = 0; i < list.len; i++) {
            if (kv[2 * i].len > 2 && !strncmp(kv[2 * i].ptr, "x-", 2))
                printf("header %.*s: %.*s\n", (int)kv[2 * i].len, kv[2 * i].ptr, (int)kv[2 * i + 1].len,
                       kv[2 * i + 1].ptr);
            free_hstr(kv[2 * i]);
            free_hstr(kv[2 * i + 1]);
        }
        if (list.len) free((void *)list.ptr);
    }
    if (RET_U8(20)) {
        hstr_t b = RET_STR(24);
        if (b.len <= 256) printf("body %.*s\n", (int)b.len, b.ptr);
        else printf("body-len %zu\n", b.len);
        free_hstr(b);
    }
    fflush(stdout);
    return GUEST_OK;
}

/* The extra-command hook of ../c/c.c (the c-http component). */
int http_extra(const char *cmd, const char *arg);
int http_extra(const char *cmd, const char *arg) {
    if (!strcmp(cmd, "http")) return http_cmd((char *)arg);
    return -1;
}
