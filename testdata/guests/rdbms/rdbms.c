/* The "rdbms" guest: the C guest plus commands that use Spin's PostgreSQL and MySQL
 * interfaces, imported by hand with the canonical ABI as a core module (module =
 * interface name, field = function name, results through a return area passed last).
 * Built with ../c/c.c (the export), ../c/cabi.c and ../c/protocol.c.
 *
 * Commands (payload "cmd:address"): each opens the address, (re)creates a table, inserts
 * one row with a parameter of every value type of the interface version, reads it back
 * and prints one line per value ("<case> <value>"); a failure prints
 * "err <case> <message>" and fails the message.
 *   pg4 pg3 pg2   spin:postgres/postgres@4.2.0, @3.0.0, fermyon:spin/postgres@2.0.0
 *   pg1 spin1pg   unversioned fermyon:spin/postgres, Spin 1.x outbound-pg (query only)
 *   my2 my1 spin1my   fermyon:spin/mysql@2.0.0, unversioned, Spin 1.x outbound-mysql
 *   pgerr         errors: 4.x query-failed(db-error), 3.0.0 query-failed(text),
 *                 4.x bad-parameter, 2.0.0 unsigned value-conversion-failed
 *   pgtls         "pgtls:address|PEM": a 4.x connection-builder with set-ca-root (when PEM is
 *                 not empty); prints "ssl true" or "ssl false" for the connection */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../c/protocol.h"

#define IMPORT(mod, name) __attribute__((import_module(mod), import_name(name)))
/* -DPG4=... -DPG4_NO_BUILDER: the rdbms40 component, on 4.0.0 (no connection-builder). */
#ifndef PG4
#define PG4 "spin:postgres/postgres@4.2.0"
#endif
#define PG3 "spin:postgres/postgres@3.0.0"
#define PG2 "fermyon:spin/postgres@2.0.0"
#define MY2 "fermyon:spin/mysql@2.0.0"

typedef uint8_t *ret_t;
typedef struct { const char *ptr; size_t len; } str_t;

#define CONN_FUNCS(P, M)                                                                                   \
    IMPORT(M, "[static]connection.open") void P##_open(const char *, size_t, ret_t);                       \
    IMPORT(M, "[method]connection.query") void P##_query(int32_t, const char *, size_t, const void *, size_t, ret_t); \
    IMPORT(M, "[method]connection.execute") void P##_execute(int32_t, const char *, size_t, const void *, size_t, ret_t); \
    IMPORT(M, "[resource-drop]connection") void P##_drop(int32_t);
CONN_FUNCS(pg4, PG4)
#ifndef PG4_NO_BUILDER
IMPORT(PG4, "[constructor]connection-builder") int32_t pg4_builder(const char *, size_t);
IMPORT(PG4, "[method]connection-builder.set-ca-root") void pg4_set_ca_root(int32_t, const char *, size_t, ret_t);
IMPORT(PG4, "[method]connection-builder.build") void pg4_build(int32_t, ret_t);
IMPORT(PG4, "[resource-drop]connection-builder") void pg4_builder_drop(int32_t);
#endif
CONN_FUNCS(pg3, PG3)
CONN_FUNCS(pg2, PG2)
CONN_FUNCS(my2, MY2)
/* Built with -DRDBMS_COMPONENT for the component (rdbms.wasm), whose world has
 * only the interfaces with a connection resource. */
#ifndef RDBMS_COMPONENT
#define LEGACY_FUNCS(P, M)                                                                                  \
    IMPORT(M, "query") void P##_query(const char *, size_t, const char *, size_t, const void *, size_t, ret_t); \
    IMPORT(M, "execute") void P##_execute(const char *, size_t, const char *, size_t, const void *, size_t, ret_t);
LEGACY_FUNCS(pg1, "fermyon:spin/postgres")
LEGACY_FUNCS(my1, "fermyon:spin/mysql")
LEGACY_FUNCS(spin1pg, "outbound-pg")
LEGACY_FUNCS(spin1my, "outbound-mysql")

/* Spin 1.x modules allocate with canonical_abi_realloc. */
void *cabi_realloc(void *, size_t, size_t, size_t);
__attribute__((export_name("canonical_abi_realloc")))
void *canonical_abi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
    return cabi_realloc(old, old_size, align, new_size);
}
#endif

static _Alignas(8) uint8_t ret[64];
#define U8(p, o) (*(const uint8_t *)((p) + (o)))
#define U32(p, o) (*(const uint32_t *)((p) + (o)))
#define I32(p, o) (*(const int32_t *)((p) + (o)))
#define I64(p, o) (*(const int64_t *)((p) + (o)))
#define STR(p, o) ((str_t){*(const char **)((p) + (o)), *(const size_t *)((p) + (o) + 4)})

/* A version's layout: the case names of db-value in WIT order (parameter-value is the
 * same minus unsupported) and of the error variant; values are 8-aligned with the
 * payload at 8. */
struct version {
    const char *const *cases;
    size_t ncases, value_size, column_size;
    bool v4, legacy;
};
static const char *const V2_CASES[] = {"boolean", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
    "uint64", "floating32", "floating64", "str", "binary", "db-null", "unsupported"};
static const char *const PG3_CASES[] = {"boolean", "int8", "int16", "int32", "int64", "floating32", "floating64",
    "str", "binary", "date", "time", "datetime", "timestamp", "db-null", "unsupported"};
static const char *const PG4_CASES[] = {"boolean", "int8", "int16", "int32", "int64", "floating32", "floating64",
    "str", "binary", "date", "time", "datetime", "timestamp", "uuid", "jsonb", "decimal", "range-int32",
    "range-int64", "range-decimal", "array-int32", "array-int64", "array-decimal", "array-str", "interval",
    "db-null", "unsupported"};
#define N(a) (sizeof a / sizeof a[0])
static const struct version V2 = {V2_CASES, N(V2_CASES), 16, 12, false, false};
#ifndef RDBMS_COMPONENT
static const struct version V1 = {V2_CASES, N(V2_CASES), 16, 12, false, true};
#endif
static const struct version V3 = {PG3_CASES, N(PG3_CASES), 24, 12, false, false};
static const struct version V4 = {PG4_CASES, N(PG4_CASES), 56, 20, true, false};
static const char *const ERR_CASES[] = {"connection-failed", "bad-parameter", "query-failed",
    "value-conversion-failed", "other"};
static const char *const LEGACY_ERR_CASES[] = {"success", "connection-failed", "bad-parameter", "query-failed",
    "value-conversion-failed", "other-error"};

static int case_of(const struct version *v, const char *name) {
    for (size_t i = 0; i < v->ncases; i++)
        if (!strcmp(v->cases[i], name)) return (int)i;
    abort();
}

/* Parameters: built in a static, zeroed array. */
static _Alignas(8) uint8_t params[56 * 32];
static size_t nparams;
static uint8_t *param(const struct version *v, const char *name) {
    uint8_t *p = params + nparams++ * v->value_size;
    memset(p, 0, v->value_size);
    p[0] = (uint8_t)case_of(v, name);
    return p + 8;
}
#define PUT(p, o, T, x) (*(T *)((p) + (o)) = (x))
static void put_str(uint8_t *p, size_t o, const char *s) {
    PUT(p, o, const char *, s);
    PUT(p, o + 4, size_t, strlen(s));
}

/* Prints an error variant at e ("err <case> <message>"). */
static int print_err(const struct version *v, const uint8_t *e) {
    const char *const *names = v->legacy ? LEGACY_ERR_CASES : ERR_CASES;
    uint8_t c = U8(e, 0);
    if (v->v4 && c == 2) { /* query-failed(query-error) */
        const uint8_t *q = e + 4;
        if (U8(q, 0) == 0) {
            str_t t = STR(q, 4);
            printf("err query-failed text %.*s\n", (int)t.len, t.ptr);
        } else {
            const uint8_t *d = q + 4;
            str_t code = STR(d, 16), msg = STR(d, 24);
            printf("err query-failed db-error %.*s %.*s detail=%s extras=%u\n", (int)code.len, code.ptr, (int)msg.len,
                   msg.ptr, U8(d, 32) ? "some" : "none", (unsigned)U32(d, 48));
        }
    } else if (v->legacy && c == 0) {
        printf("err success\n");
    } else {
        str_t m = STR(e, 4);
        printf("err %s %.*s\n", names[c], (int)m.len, m.ptr);
    }
    fflush(stdout);
    return GUEST_ERR_ERROR;
}

static void print_hex(const char *label, str_t b) {
    printf("%s ", label);
    for (size_t i = 0; i < b.len; i++) printf("%02x", (uint8_t)b.ptr[i]);
    printf("\n");
}

/* Prints one end of a range, option<tuple<T, range-bound-kind>> at o: "[1" / "6)", "_"
 * when unbounded. kind: 0 int32, 1 int64, 2 decimal. */
static void print_bound(const uint8_t *o, int kind, bool lower) {
    if (!U8(o, 0)) {
        printf("_");
        return;
    }
    size_t koff = kind == 0 ? 8 : kind == 1 ? 16 : 12;
    bool excl = U8(o, koff);
    if (lower) printf("%s", excl ? "(" : "[");
    if (kind == 0) printf("%" PRId32, I32(o, 4));
    else if (kind == 1) printf("%" PRId64, I64(o, 8));
    else {
        str_t s = STR(o, 4);
        printf("%.*s", (int)s.len, s.ptr);
    }
    if (!lower) printf("%s", excl ? ")" : "]");
}

/* Prints one db-value. */
static void print_value(const struct version *v, const uint8_t *x) {
    const char *name = v->cases[U8(x, 0)];
    const uint8_t *p = x + 8;
    printf("%s", name);
    if (!strcmp(name, "boolean")) printf(" %s", U8(p, 0) ? "true" : "false");
    else if (!strcmp(name, "int8")) printf(" %d", *(const int8_t *)p);
    else if (!strcmp(name, "int16")) printf(" %d", *(const int16_t *)p);
    else if (!strcmp(name, "int32")) printf(" %" PRId32, I32(p, 0));
    else if (!strcmp(name, "int64") || !strcmp(name, "timestamp")) printf(" %" PRId64, I64(p, 0));
    else if (!strcmp(name, "uint8")) printf(" %u", U8(p, 0));
    else if (!strcmp(name, "uint16")) printf(" %u", *(const uint16_t *)p);
    else if (!strcmp(name, "uint32")) printf(" %" PRIu32, U32(p, 0));
    else if (!strcmp(name, "uint64")) printf(" %" PRIu64, *(const uint64_t *)p);
    else if (!strcmp(name, "floating32")) printf(" %g", (double)*(const float *)p);
    else if (!strcmp(name, "floating64")) printf(" %g", *(const double *)p);
    else if (!strcmp(name, "str") || !strcmp(name, "uuid") || !strcmp(name, "decimal") || !strcmp(name, "jsonb")) {
        str_t s = STR(p, 0);
        printf(" %.*s", (int)s.len, s.ptr);
    } else if (!strcmp(name, "binary") || (!strcmp(name, "unsupported") && v->v4)) {
        print_hex("", STR(p, 0));
        return;
    } else if (!strcmp(name, "date")) printf(" %" PRId32 "-%u-%u", I32(p, 0), U8(p, 4), U8(p, 5));
    else if (!strcmp(name, "time")) printf(" %u:%u:%u.%09" PRIu32, U8(p, 0), U8(p, 1), U8(p, 2), U32(p, 4));
    else if (!strcmp(name, "datetime"))
        printf(" %" PRId32 "-%u-%u %u:%u:%u.%09" PRIu32, I32(p, 0), U8(p, 4), U8(p, 5), U8(p, 6), U8(p, 7), U8(p, 8),
               U32(p, 12));
    else if (!strncmp(name, "range-", 6)) {
        int kind = !strcmp(name, "range-int32") ? 0 : !strcmp(name, "range-int64") ? 1 : 2;
        size_t half = kind == 0 ? 12 : kind == 1 ? 24 : 16;
        printf(" ");
        print_bound(p, kind, true);
        printf(",");
        print_bound(p + half, kind, false);
    } else if (!strncmp(name, "array-", 6)) {
        str_t l = STR(p, 0);
        bool i32 = !strcmp(name, "array-int32"), i64 = !strcmp(name, "array-int64");
        size_t es = i32 ? 8 : i64 ? 16 : 12;
        printf(" [");
        for (size_t i = 0; i < l.len; i++) {
            const uint8_t *e = (const uint8_t *)l.ptr + i * es;
            if (i) printf(",");
            if (!U8(e, 0)) printf("null");
            else if (i32) printf("%" PRId32, I32(e, 4));
            else if (i64) printf("%" PRId64, I64(e, 8));
            else {
                str_t s = STR(e, 4);
                printf("%.*s", (int)s.len, s.ptr);
            }
        }
        printf("]");
    } else if (!strcmp(name, "interval")) printf(" %" PRId64 "us %" PRId32 "d %" PRId32 "m", I64(p, 0), I32(p, 8), I32(p, 12));
    printf("\n");
}

/* Prints a row-set at rs: "columns a:int32 b:str..." then each value. */
static void print_rows(const struct version *v, const uint8_t *rs) {
    str_t cols = STR(rs, 0), rows = STR(rs, 8);
    printf("columns");
    for (size_t i = 0; i < cols.len; i++) {
        const uint8_t *c = (const uint8_t *)cols.ptr + i * v->column_size;
        str_t n = STR(c, 0);
        uint8_t t = U8(c, 8);
        /* data-type: the value cases minus db-null and unsupported, then other */
        const char *tn = t < v->ncases - 2 ? v->cases[t] : "other";
        printf(" %.*s:%s", (int)n.len, n.ptr, tn);
        if (v->v4 && !strcmp(tn, "other")) {
            str_t o = STR(c, 12);
            printf("(%.*s)", (int)o.len, o.ptr);
        }
    }
    printf("\nrows %zu\n", rows.len);
    for (size_t r = 0; r < rows.len; r++) {
        str_t row = STR((const uint8_t *)rows.ptr, r * 8);
        for (size_t i = 0; i < row.len; i++) print_value(v, (const uint8_t *)row.ptr + i * v->value_size);
    }
    fflush(stdout);
}

typedef void (*open_fn)(const char *, size_t, ret_t);
typedef void (*call_fn)(int32_t, const char *, size_t, const void *, size_t, ret_t);

/* run: execute (result payload at exec_off: 8 for u64, 4 for unit) or query (exec_off 0)
 * one statement on h with the parameters built so far. */
static int run(const struct version *v, call_fn f, int32_t h, const char *sql, size_t exec_off) {
    f(h, sql, strlen(sql), params, nparams, ret);
    nparams = 0;
    if (U8(ret, 0)) return print_err(v, ret + (exec_off ? exec_off : 4));
    if (exec_off == 0) print_rows(v, ret + 4);
    else if (exec_off == 8) printf("affected %" PRIu64 "\n", *(const uint64_t *)(ret + 8)), fflush(stdout);
    return GUEST_OK;
}

/* The per-version round trip. */
static int round_trip(const struct version *v, open_fn open, call_fn exec, call_fn query, void (*drop)(int32_t),
                      const char *addr, bool mysql) {
    open(addr, strlen(addr), ret);
    if (U8(ret, 0)) return print_err(v, ret + 4);
    int32_t h = I32(ret, 4);
    size_t exec_off = mysql ? 4 : 8;
    int r;
    const char *create, *insert, *select;
    uint8_t *p;
    if (v == &V4) {
        create = "DROP TABLE IF EXISTS guest4; CREATE TABLE guest4 (b bool, i16 int2, i32 int4, i64 int8, f32 float4, "
                 "f64 float8, s text, bin bytea, d date, t time, dt timestamp, ts timestamptz, u uuid, j jsonb, n numeric, "
                 "r4 int4range, r8 int8range, rn numrange, a4 int4[], a8 int8[], an numeric[], a text[], iv interval, "
                 "nul text, ip inet)";
        insert = "INSERT INTO guest4 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,"
                 "$22,$23,$24,'10.0.0.1')";
        select = "SELECT * FROM guest4";
    } else if (v == &V3) {
        create = "DROP TABLE IF EXISTS guest3; CREATE TABLE guest3 (b bool, i16 int2, i32 int4, i64 int8, f32 float4, "
                 "f64 float8, s text, bin bytea, d date, t time, dt timestamp, ts timestamptz, nul text, u uuid)";
        insert = "INSERT INTO guest3 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,gen_random_uuid())";
        select = "SELECT * FROM guest3";
    } else if (!mysql) {
        create = "DROP TABLE IF EXISTS guest2; CREATE TABLE guest2 (b bool, i16 int2, i32 int4, i64 int8, f32 float4, "
                 "f64 float8, s text, bin bytea, nul text, d date)";
        insert = "INSERT INTO guest2 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,'2024-01-02')";
        select = "SELECT * FROM guest2";
    } else {
        create = "CREATE OR REPLACE TABLE guest2 (i8 TINYINT, u8 TINYINT UNSIGNED, i16 SMALLINT, u16 SMALLINT UNSIGNED, "
                 "i32 INT, u32 INT UNSIGNED, i64 BIGINT, u64 BIGINT UNSIGNED, f32 FLOAT, f64 DOUBLE, s VARCHAR(20), "
                 "bin VARBINARY(8), nul TEXT)";
        insert = "INSERT INTO guest2 VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)";
        select = "SELECT * FROM guest2";
    }
    if ((r = run(v, exec, h, create, exec_off)) != GUEST_OK) goto out;
    if (!mysql) {
        p = param(v, "boolean"), PUT(p, 0, uint8_t, 1);
        p = param(v, "int16"), PUT(p, 0, int16_t, -32768);
        p = param(v, "int32"), PUT(p, 0, int32_t, -7);
        p = param(v, "int64"), PUT(p, 0, int64_t, INT64_MIN);
        p = param(v, "floating32"), PUT(p, 0, float, 1.5f);
        p = param(v, "floating64"), PUT(p, 0, double, -2.25);
        p = param(v, "str"), put_str(p, 0, "h\xc3\xa9llo");
        p = param(v, "binary"), put_str(p, 0, "\x01\xff");
        if (v != &V2) {
            p = param(v, "date"), PUT(p, 0, int32_t, 2024), PUT(p, 4, uint8_t, 2), PUT(p, 5, uint8_t, 29);
            p = param(v, "time"), PUT(p, 0, uint8_t, 23), PUT(p, 1, uint8_t, 59), PUT(p, 2, uint8_t, 58),
            PUT(p, 4, uint32_t, 123456000);
            p = param(v, "datetime"), PUT(p, 0, int32_t, 1999), PUT(p, 4, uint8_t, 12), PUT(p, 5, uint8_t, 31),
            PUT(p, 6, uint8_t, 1), PUT(p, 7, uint8_t, 2), PUT(p, 8, uint8_t, 3), PUT(p, 12, uint32_t, 4000);
            p = param(v, "timestamp"), PUT(p, 0, int64_t, 90061);
        }
        if (v == &V4) {
            static const uint8_t lo32[12] = {1, 0, 0, 0, 1, 0, 0, 0, 0}, hi32[12] = {1, 0, 0, 0, 5, 0, 0, 0, 0};
            static const int32_t arr32[] = {1, 1, 0, 0, 1, -3}; /* (case, value) pairs */
            static const char *const strs[] = {"a", "b"};
            static _Alignas(8) uint8_t a8[16], an[24], as[36];
            p = param(v, "uuid"), put_str(p, 0, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
            p = param(v, "jsonb"), put_str(p, 0, "{\"b\": [1, 2.50], \"a\": null}");
            p = param(v, "decimal"), put_str(p, 0, "-123.4500");
            p = param(v, "range-int32"), memcpy(p, lo32, 12), memcpy(p + 12, hi32, 12);
            p = param(v, "range-int64"), PUT(p, 0, uint8_t, 0), PUT(p, 24, uint8_t, 1), PUT(p, 32, int64_t, 1LL << 40),
            PUT(p, 40, uint8_t, 1);
            p = param(v, "range-decimal"), PUT(p, 0, uint8_t, 1), put_str(p, 4, "1.5"), PUT(p, 12, uint8_t, 0),
            PUT(p, 16, uint8_t, 1), put_str(p, 20, "2.25"), PUT(p, 28, uint8_t, 1);
            p = param(v, "array-int32"), PUT(p, 0, const void *, arr32), PUT(p, 4, size_t, 3);
            PUT(a8, 0, uint8_t, 1), PUT(a8, 8, int64_t, 1LL << 50);
            p = param(v, "array-int64"), PUT(p, 0, const void *, a8), PUT(p, 4, size_t, 1);
            PUT(an, 0, uint8_t, 1), put_str(an, 4, "0.1"), PUT(an, 12, uint8_t, 0);
            p = param(v, "array-decimal"), PUT(p, 0, const void *, an), PUT(p, 4, size_t, 2);
            PUT(as, 0, uint8_t, 1), put_str(as, 4, strs[0]), PUT(as, 12, uint8_t, 0), PUT(as, 24, uint8_t, 1),
            put_str(as, 28, strs[1]);
            p = param(v, "array-str"), PUT(p, 0, const void *, as), PUT(p, 4, size_t, 3);
            p = param(v, "interval"), PUT(p, 0, int64_t, 1500000), PUT(p, 8, int32_t, -2), PUT(p, 12, int32_t, 14);
        }
        param(v, "db-null");
    } else {
        p = param(v, "int8"), PUT(p, 0, int8_t, -128);
        p = param(v, "uint8"), PUT(p, 0, uint8_t, 255);
        p = param(v, "int16"), PUT(p, 0, int16_t, -32768);
        p = param(v, "uint16"), PUT(p, 0, uint16_t, 65535);
        p = param(v, "int32"), PUT(p, 0, int32_t, INT32_MIN);
        p = param(v, "uint32"), PUT(p, 0, uint32_t, UINT32_MAX);
        p = param(v, "int64"), PUT(p, 0, int64_t, INT64_MIN);
        p = param(v, "uint64"), PUT(p, 0, uint64_t, UINT64_MAX);
        p = param(v, "floating32"), PUT(p, 0, float, 1.5f);
        p = param(v, "floating64"), PUT(p, 0, double, -2.25);
        p = param(v, "str"), put_str(p, 0, "h\xc3\xa9llo");
        p = param(v, "binary"), put_str(p, 0, "\x01\xff");
        param(v, "db-null");
    }
    if ((r = run(v, exec, h, insert, exec_off)) != GUEST_OK) goto out;
    r = run(v, query, h, select, 0);
out:
    drop(h);
    return r;
}

#ifndef RDBMS_COMPONENT
/* The unversioned query: the address on every call. */
typedef void (*legacy_fn)(const char *, size_t, const char *, size_t, const void *, size_t, ret_t);
static int legacy_query(legacy_fn q, const char *addr, const char *sql) {
    q(addr, strlen(addr), sql, strlen(sql), params, 0, ret);
    if (U8(ret, 0)) return print_err(&V1, ret + 4);
    print_rows(&V1, ret + 4);
    return GUEST_OK;
}
#endif

static int errors(const char *addr) {
    int32_t h;
    pg4_open(addr, strlen(addr), ret);
    if (U8(ret, 0)) return print_err(&V4, ret + 4);
    h = I32(ret, 4);
    run(&V4, pg4_query, h, "SELECT * FROM no_such_table", 0);
    uint8_t *p = param(&V4, "uuid");
    put_str(p, 0, "not-a-uuid");
    run(&V4, pg4_query, h, "SELECT $1::uuid", 0);
    pg4_drop(h);
    pg3_open(addr, strlen(addr), ret);
    h = I32(ret, 4);
    run(&V3, pg3_query, h, "SELECT * FROM no_such_table", 0);
    pg3_drop(h);
    pg2_open(addr, strlen(addr), ret);
    h = I32(ret, 4);
    p = param(&V2, "uint8");
    PUT(p, 0, uint8_t, 1);
    run(&V2, pg2_query, h, "SELECT $1", 0);
    pg2_drop(h);
    return GUEST_OK;
}

#ifndef PG4_NO_BUILDER
static int tls(char *arg) {
    char *rest = arg;
    const char *addr = guest_field(&rest), *pem = rest ? rest : "";
    int32_t b = pg4_builder(addr, strlen(addr)), h;
    int r = GUEST_OK;
    if (*pem) {
        pg4_set_ca_root(b, pem, strlen(pem), ret);
        if (U8(ret, 0)) {
            r = print_err(&V4, ret + 4);
            goto out;
        }
    }
    pg4_build(b, ret);
    if (U8(ret, 0)) {
        r = print_err(&V4, ret + 4);
        goto out;
    }
    h = I32(ret, 4);
    const char *q = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";
    pg4_query(h, q, strlen(q), params, 0, ret);
    if (U8(ret, 0)) r = print_err(&V4, ret + 4);
    else {
        str_t rows = STR(ret + 4, 8);
        str_t row = STR((const uint8_t *)rows.ptr, 0);
        printf("ssl %s\n", U8((const uint8_t *)row.ptr, 8) ? "true" : "false"), fflush(stdout);
    }
    pg4_drop(h);
out:
    pg4_builder_drop(b);
    return r;
}
#endif

int rdbms_extra(const char *cmd, const char *arg);
int rdbms_extra(const char *cmd, const char *arg) {
    nparams = 0;
    if (!strcmp(cmd, "pg4")) return round_trip(&V4, pg4_open, pg4_execute, pg4_query, pg4_drop, arg, false);
    if (!strcmp(cmd, "pg3")) return round_trip(&V3, pg3_open, pg3_execute, pg3_query, pg3_drop, arg, false);
    if (!strcmp(cmd, "pg2")) return round_trip(&V2, pg2_open, pg2_execute, pg2_query, pg2_drop, arg, false);
    if (!strcmp(cmd, "my2")) return round_trip(&V2, my2_open, my2_execute, my2_query, my2_drop, arg, true);
#ifndef RDBMS_COMPONENT
    if (!strcmp(cmd, "pg1")) return legacy_query(pg1_query, arg, "SELECT * FROM guest2");
    if (!strcmp(cmd, "spin1pg")) return legacy_query(spin1pg_query, arg, "SELECT * FROM guest2");
    if (!strcmp(cmd, "my1")) return legacy_query(my1_query, arg, "SELECT * FROM guest2");
    if (!strcmp(cmd, "spin1my")) return legacy_query(spin1my_query, arg, "SELECT * FROM guest2");
#endif
    if (!strcmp(cmd, "pgerr")) return errors(arg);
#ifndef PG4_NO_BUILDER
    if (!strcmp(cmd, "pgtls")) return tls((char *)arg);
#endif
    return -1;
}
