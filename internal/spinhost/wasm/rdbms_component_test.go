package wasm

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/redspin/redspin/internal/spinhost/allowedhosts"
	"github.com/redspin/redspin/internal/spinhost/mysql"
	"github.com/redspin/redspin/internal/spinhost/pg"
	"github.com/redspin/redspin/internal/spinhost/rdbms"
	"github.com/redspin/redspin/internal/testutil/dbserver"
	"github.com/redspin/redspin/internal/wasmtime"
)

// TestMain stops the package's database servers (package dbserver).

func dbServices(t *testing.T) *Services {
	t.Helper()
	allowed, err := allowedhosts.Parse([]string{"postgres://127.0.0.1:*", "mysql://127.0.0.1:*"})
	if err != nil {
		t.Fatal(err)
	}
	db := rdbms.Config{Component: "guest", Allowed: allowed}
	return &Services{Component: "guest", Postgres: pg.New(pg.Config{Config: db}), MySQL: mysql.New(db)}
}

func param(cse string, p *wasmtime.Val) wasmtime.Val { return wasmtime.Variant(cse, p) }

func params(ps ...wasmtime.Val) wasmtime.Val { return wasmtime.Val{Kind: wasmtime.CList, Elems: ps} }

func s32(n int32) wasmtime.Val { return wasmtime.Val{Kind: wasmtime.CS32, Num: uint64(int64(n))} }

// rowsOf returns the row-set's rows from an ok(row-set).
func rowsOf(t *testing.T, v wasmtime.Val) (cols, rows []wasmtime.Val) {
	t.Helper()
	rs := wantOK(t, v)
	if rs.Kind != wasmtime.CRecord || rs.Names[0] != "columns" || rs.Names[1] != "rows" {
		t.Fatalf("row-set %+v", rs)
	}
	return rs.Elems[0].Elems, rs.Elems[1].Elems
}

// TestComponentPostgresVersions runs every postgres interface version
// against one table: the same row read through each version's types.
func TestComponentPostgresVersions(t *testing.T) {
	srv := dbserver.Postgres(t)
	st := dbServices(t).NewInstance(context.Background())
	defer st.Close()
	c := fakeCaller{st}
	addr := wasmtime.Str(srv.URL("postgres"))

	conn := *wantOK(t, call(t, c, modPG42, "[static]connection.open", addr))
	stmt := wasmtime.Str("DROP TABLE IF EXISTS versions; CREATE TABLE versions (i int4, d date, u uuid, n numeric, e inet)")
	n := wantOK(t, call(t, c, modPG42, "[method]connection.execute", conn, stmt, params()))
	if n.Kind != wasmtime.CU64 || n.Num != 0 {
		t.Fatalf("execute returned %+v", n)
	}
	date := tupleV(s32(2024), wasmtime.U8(2), wasmtime.U8(29))
	ins := wantOK(t, call(t, c, modPG42, "[method]connection.execute", conn,
		wasmtime.Str("INSERT INTO versions VALUES ($1, $2, $3, $4, '10.0.0.1')"),
		params(param("int32", ptr(s32(-7))), param("date", &date),
			param("uuid", ptr(wasmtime.Str("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"))), param("decimal", ptr(wasmtime.Str("1.50"))))))
	if ins.Num != 1 {
		t.Fatalf("insert: %+v", ins)
	}
	sel := wasmtime.Str("SELECT i, d, u, n, e FROM versions")

	// 4.x: every type; other columns name their type; unsupported carries bytes.
	cols, rows := rowsOf(t, call(t, c, modPG42, "[method]connection.query", conn, sel, params()))
	wantCase(t, cols[0].Elems[1], wasmtime.CVariant, "int32")
	wantCase(t, cols[4].Elems[1], wasmtime.CVariant, "other")
	if cols[4].Elems[1].Payload.Str != "inet" {
		t.Fatalf("4.x other type %+v", cols[4].Elems[1])
	}
	r := rows[0].Elems
	if r[0].Str != "int32" || int32(r[0].Payload.Num) != -7 || r[1].Str != "date" || r[1].Payload.Elems[0].Num != 2024 ||
		r[2].Str != "uuid" || r[3].Payload.Str != "1.50" || r[4].Str != "unsupported" || len(r[4].Payload.Bytes) != 8 {
		t.Fatalf("4.x row %+v", r)
	}

	// 3.0.0: date stays; uuid, decimal and inet are unsupported (no payload); enum types.
	c3 := *wantOK(t, call(t, c, modPG3, "[static]connection.open", addr))
	cols, rows = rowsOf(t, call(t, c, modPG3, "[method]connection.query", c3, sel, params()))
	wantCase(t, cols[1].Elems[1], wasmtime.CEnum, "date")
	wantCase(t, cols[2].Elems[1], wasmtime.CEnum, "other")
	r = rows[0].Elems
	if r[1].Str != "date" || r[2].Str != "unsupported" || r[2].Payload != nil || r[3].Str != "unsupported" {
		t.Fatalf("3.0.0 row %+v", r)
	}

	// 2.0.0: no date either; unsigned parameters are value-conversion-failed.
	c2 := *wantOK(t, call(t, c, modPG2, "[static]connection.open", addr))
	cols, rows = rowsOf(t, call(t, c, modPG2, "[method]connection.query", c2, sel, params()))
	wantCase(t, cols[1].Elems[1], wasmtime.CEnum, "other")
	if rows[0].Elems[0].Str != "int32" || rows[0].Elems[1].Str != "unsupported" {
		t.Fatalf("2.0.0 row %+v", rows[0].Elems)
	}
	wantErr(t, call(t, c, modPG2, "[method]connection.query", c2, sel, params(param("uint8", ptr(wasmtime.U8(1))))),
		wasmtime.CVariant, "value-conversion-failed", "Postgres does not support unsigned integers")

	// Errors: 2.0.0/3.0.0 query-failed(string), 4.x query-failed(db-error).
	bad := wasmtime.Str("SELECT * FROM nope")
	wantErr(t, call(t, c, modPG3, "[method]connection.query", c3, bad, params()), wasmtime.CVariant, "query-failed", `relation "nope" does not exist`)
	e := call(t, c, modPG42, "[method]connection.query", conn, bad, params())
	wantErr(t, e, wasmtime.CVariant, "query-failed", "")
	qe := e.Payload.Payload
	if qe.Str != "db-error" || qe.Payload.Elems[2].Str != "42P01" || qe.Payload.Elems[4].Payload != nil {
		t.Fatalf("4.x query-error %+v", qe)
	}
	wantErr(t, call(t, c, modPG42, "[method]connection.query", conn, sel, params(param("uuid", ptr(wasmtime.Str("x"))))),
		wasmtime.CVariant, "bad-parameter", "invalid UUID x")
	wantErr(t, call(t, c, modPG42, "[static]connection.open", wasmtime.Str("postgres://10.0.0.1/db")),
		wasmtime.CVariant, "connection-failed", "address postgres://10.0.0.1:5432 is not permitted")

	// 4.1+: connection-builder.
	b := call(t, c, modPG41, "[constructor]connection-builder", addr)
	if b.Kind != wasmtime.CResource || b.Resource.Type != resPGBuilder {
		t.Fatalf("builder %+v", b)
	}
	wantErr(t, call(t, c, modPG41, "[method]connection-builder.set-ca-root", b, wasmtime.Str("junk")),
		wasmtime.CVariant, "other", "invalid root certificate")
	bc := *wantOK(t, call(t, c, modPG41, "[method]connection-builder.build", b))
	if _, rows = rowsOf(t, call(t, c, modPG41, "[method]connection.query", bc, sel, params())); len(rows) != 1 {
		t.Fatalf("builder connection rows %+v", rows)
	}

	// Unversioned: address per call, pg-error with success first.
	_, rows = rowsOf(t, call(t, c, modPG, "query", addr, sel, params()))
	if len(rows) != 1 || rows[0].Elems[1].Str != "unsupported" {
		t.Fatalf("unversioned rows %+v", rows)
	}
	wantErr(t, call(t, c, modPG, "query", addr, bad, params()), wasmtime.CVariant, "query-failed", "does not exist")
	wantErr(t, call(t, c, modPG, "execute", wasmtime.Str("postgres://10.0.0.1/db"), bad, params()),
		wasmtime.CVariant, "connection-failed", "is not permitted")
	if n := st.pg.Len(); n != 4 {
		t.Fatalf("%d connections open, want 4 (the unversioned calls close theirs)", n)
	}
	dropRep(st, resPGConn, conn.Resource.Rep)
	if n := st.pg.Len(); n != 3 {
		t.Fatalf("%d connections open after drop, want 3", n)
	}
}

func wantCase(t *testing.T, v wasmtime.Val, kind wasmtime.CKind, cse string) {
	t.Helper()
	if v.Kind != kind || v.Str != cse {
		t.Fatalf("want %s, got %+v", cse, v)
	}
}

func TestComponentMySQL(t *testing.T) {
	srv := dbserver.MariaDB(t)
	st := dbServices(t).NewInstance(context.Background())
	defer st.Close()
	c := fakeCaller{st}
	addr := wasmtime.Str(srv.MySQLURL("spin"))
	conn := *wantOK(t, call(t, c, modMySQL2, "[static]connection.open", addr))
	ex := call(t, c, modMySQL2, "[method]connection.execute", conn, wasmtime.Str("DROP TABLE IF EXISTS comp"), params())
	if p := wantOK(t, ex); p != nil {
		t.Fatalf("execute returned a value: %+v", p)
	}
	wantOK(t, call(t, c, modMySQL2, "[method]connection.execute", conn, wasmtime.Str("CREATE TABLE comp (u INT UNSIGNED, s VARCHAR(9), f FLOAT)"), params()))
	wantOK(t, call(t, c, modMySQL2, "[method]connection.execute", conn, wasmtime.Str("INSERT INTO comp VALUES (?, ?, ?)"),
		params(param("uint32", ptr(wasmtime.U32(4000000000))), param("str", ptr(wasmtime.Str("x"))),
			param("floating32", ptr(num(wasmtime.CF32, 0x3fc00000))))))
	cols, rows := rowsOf(t, call(t, c, modMySQL2, "[method]connection.query", conn, wasmtime.Str("SELECT u, s, f FROM comp"), params()))
	wantCase(t, cols[0].Elems[1], wasmtime.CEnum, "uint32")
	r := rows[0].Elems
	if r[0].Payload.Kind != wasmtime.CU32 || r[0].Payload.Num != 4000000000 || r[1].Payload.Str != "x" || r[2].Payload.Num != 0x3fc00000 {
		t.Fatalf("row %+v", r)
	}
	wantErr(t, call(t, c, modMySQL2, "[method]connection.query", conn, wasmtime.Str("SELECT * FROM nope"), params()),
		wasmtime.CVariant, "query-failed", "doesn't exist")
	// Unversioned: mysql-error's last case is other-error.
	_, rows = rowsOf(t, call(t, c, modMySQL, "query", addr, wasmtime.Str("SELECT s FROM comp"), params()))
	if len(rows) != 1 {
		t.Fatalf("unversioned rows %+v", rows)
	}
	wantErr(t, call(t, c, modMySQL, "execute", wasmtime.Str("mysql://u:p@10.0.0.1/db"), wasmtime.Str("x"), params()),
		wasmtime.CVariant, "connection-failed", "address mysql://u:xxxxx@10.0.0.1/db is not permitted")
	if !strings.Contains(flavMySQL.errV(errOther).Payload.Str, "other-error") {
		t.Fatalf("unversioned other case: %+v", flavMySQL.errV(errOther).Payload)
	}
}

var errOther = errors.ErrUnsupported
