/* The "c-mqtt" guest: the C guest plus an `mqtt:` command that publishes through
 * fermyon:spin/mqtt@2.0.0, imported by hand with the canonical ABI (open's keep-alive is
 * a u64, so one i64 parameter). Built with ../c/c.c, ../c/cabi.c and ../c/protocol.c.
 *
 *   mqtt:<address>|<username>|<password>|<keep-alive secs>|<topic>|<qos 0-2>|<payload>|...
 *
 * publishes each payload in turn on one connection and prints "published <n>"; an error
 * prints "<step>: <case>[: <message>]" on stderr and fails the message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../c/protocol.h"

#define IMPORT(name) __attribute__((import_module("fermyon:spin/mqtt@2.0.0"), import_name(name)))

IMPORT("[static]connection.open")
void mqtt_open(const char *, size_t, const char *, size_t, const char *, size_t, uint64_t, uint8_t *);
IMPORT("[method]connection.publish")
void mqtt_publish(int32_t, const char *, size_t, const char *, size_t, int32_t, uint8_t *);
IMPORT("[resource-drop]connection") void mqtt_drop(int32_t);

static const char *const ERRS[] = {"invalid-address", "too-many-connections", "connection-failed", "other"};

static _Alignas(8) uint8_t ret[16];

/* err(error) at ret: the case at 4, the string of connection-failed and other at 8. */
static int fail(const char *step) {
    uint8_t c = ret[4];
    if (c >= 2 && c <= 3) {
        const char *p = *(const char **)(ret + 8);
        size_t n = *(size_t *)(ret + 12);
        guest_err("%s: %s: %.*s", step, ERRS[c], (int)n, p);
        free((void *)p);
    } else {
        guest_err("%s: %s", step, c < 4 ? ERRS[c] : "?");
    }
    return GUEST_ERR_ERROR;
}

static int cmd_mqtt(char *rest) {
    char *addr = guest_field(&rest), *user = guest_field(&rest), *pass = guest_field(&rest);
    char *ka = guest_field(&rest), *topic = guest_field(&rest), *qos = guest_field(&rest);
    if (!qos) return guest_unsupported("mqtt");
    mqtt_open(addr, strlen(addr), user, strlen(user), pass, strlen(pass), strtoull(ka, NULL, 10), ret);
    if (ret[0]) return fail("open");
    int32_t conn = *(int32_t *)(ret + 4);
    int n = 0, r = GUEST_OK;
    while (rest) {
        char *payload = guest_field(&rest);
        mqtt_publish(conn, topic, strlen(topic), payload, strlen(payload), atoi(qos), ret);
        if (ret[0]) {
            r = fail("publish");
            break;
        }
        n++;
    }
    mqtt_drop(conn);
    if (r == GUEST_OK) {
        char line[32];
        guest_out(line, (size_t)snprintf(line, sizeof line, "published %d", n));
    }
    return r;
}

int mqtt_extra(const char *cmd, const char *carg);
int mqtt_extra(const char *cmd, const char *carg) {
    if (!strcmp(cmd, "mqtt")) return cmd_mqtt((char *)carg);
    return -1;
}
