package wasm

import (
	"context"
	"encoding/binary"
	"math"
	"reflect"
	"testing"

	"github.com/redspin/redspin/internal/spinhost/sqlite"
	"github.com/redspin/redspin/internal/wasmtime"
)

// sqliteServices serves SQLite only: "default" in a state directory and an
// in-memory "mem"; the component may open both.
func sqliteServices(t *testing.T) *Services {
	t.Helper()
	m, err := sqlite.New(sqlite.Config{StateDir: t.TempDir(), Databases: map[string]sqlite.Database{"mem": {}}})
	if err != nil {
		t.Fatal(err)
	}
	return &Services{Component: "guest", SQLite: m.Component([]string{"default", "mem"}, 0)}
}

// Every value type, in and out.
var sqliteValuesIn = []sqlite.Value{
	{Kind: sqlite.Integer, Int: -42}, {Kind: sqlite.Real, Real: math.Pi}, {Kind: sqlite.Text, Text: "héllo"},
	{Kind: sqlite.Blob, Blob: []byte{0, 1, 254}}, {Kind: sqlite.Null},
}

func TestComponentSQLite(t *testing.T) {
	svc := sqliteServices(t)
	st := svc.NewInstance(context.Background())
	defer st.Close()
	c := fakeCaller{st}
	params := wasmtime.Val{Kind: wasmtime.CList}
	for _, v := range sqliteValuesIn {
		params.Elems = append(params.Elems, sqliteValueV(v))
	}
	empty := wasmtime.Val{Kind: wasmtime.CList}
	for _, mod := range []string{modSQLite2, modSQLite3, modSQLite31} {
		conn := *wantOK(t, call(t, c, mod, "[static]connection.open", wasmtime.Str("mem")))
		if conn.Resource == nil || conn.Resource.Type != resSQLite {
			t.Fatalf("%s open = %+v", mod, conn)
		}
		wantOK(t, call(t, c, mod, "[method]connection.execute", conn, wasmtime.Str("CREATE TABLE t (i, r, s, b, n)"), empty))
		wantOK(t, call(t, c, mod, "[method]connection.execute", conn, wasmtime.Str("INSERT INTO t VALUES (?, ?, ?, ?, ?)"), params))
		r := wantOK(t, call(t, c, mod, "[method]connection.execute", conn, wasmtime.Str("SELECT * FROM t"), empty))
		if !reflect.DeepEqual(r.Names, []string{"columns", "rows"}) || len(r.Elems[1].Elems) != 1 {
			t.Fatalf("%s select = %+v", mod, r)
		}
		got, err := argValues(r.Elems[1].Elems[0].Elems, 0)
		if err != nil || !reflect.DeepEqual(got, sqliteValuesIn) {
			t.Fatalf("%s row = %+v, %v", mod, got, err)
		}
		wantErr(t, call(t, c, mod, "[method]connection.execute", conn, wasmtime.Str("SELEC"), empty), wasmtime.CVariant, "io", "syntax error")
		wantErr(t, call(t, c, mod, "[static]connection.open", wasmtime.Str("secret")), wasmtime.CVariant, "access-denied", "")
		if mod != modSQLite2 {
			if n := call(t, c, mod, "[method]connection.last-insert-rowid", conn); n.Kind != wasmtime.CS64 || n.Num != 1 {
				t.Fatalf("%s last-insert-rowid = %+v", mod, n)
			}
			wantOK(t, call(t, c, mod, "[method]connection.execute", conn, wasmtime.Str("UPDATE t SET i = 1"), empty))
			if n := call(t, c, mod, "[method]connection.changes", conn); n.Kind != wasmtime.CU64 || n.Num != 1 {
				t.Fatalf("%s changes = %+v", mod, n)
			}
		}
		dropRep(st, resSQLite, conn.Resource.Rep)
	}
	// Unversioned: u32 handles, close, invalid-connection.
	h := *wantOK(t, call(t, c, modSQLite, "open", wasmtime.Str("default")))
	wantOK(t, call(t, c, modSQLite, "execute", h, wasmtime.Str("SELECT 1"), empty))
	call(t, c, modSQLite, "close", h)
	wantErr(t, call(t, c, modSQLite, "execute", h, wasmtime.Str("SELECT 1"), empty), wasmtime.CVariant, "invalid-connection", "")
	if st.sqlite.Len() != 0 {
		t.Fatalf("%d connections left open", st.sqlite.Len())
	}
}

// sqliteGuest forwards each export to the SQLite import of the same name;
// rowid and changes store their i64 at the return area (256).
const sqliteGuest = `(module
  (import "spin:sqlite/sqlite@3.0.0" "[static]connection.open" (func $open (param i32 i32 i32)))
  (import "spin:sqlite/sqlite@3.0.0" "[method]connection.execute" (func $exec (param i32 i32 i32 i32 i32 i32)))
  (import "spin:sqlite/sqlite@3.0.0" "[method]connection.last-insert-rowid" (func $rowid (param i32) (result i64)))
  (import "spin:sqlite/sqlite@3.0.0" "[method]connection.changes" (func $changes (param i32) (result i64)))
  (import "spin:sqlite/sqlite@3.0.0" "[resource-drop]connection" (func $drop (param i32)))
  (import "fermyon:spin/sqlite" "open" (func $open1 (param i32 i32 i32)))
  (import "fermyon:spin/sqlite" "execute" (func $exec1 (param i32 i32 i32 i32 i32 i32)))
  (import "fermyon:spin/sqlite" "close" (func $close1 (param i32)))
  (memory (export "memory") 1)
` + watBumpRealloc + `
  (export "cabi_realloc" (func $realloc))
  (func (export "open") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 call $open)
  (func (export "exec") (param i32 i32 i32 i32 i32 i32)
    local.get 0 local.get 1 local.get 2 local.get 3 local.get 4 local.get 5 call $exec)
  (func (export "rowid") (param i32) (i64.store (i32.const 256) (call $rowid (local.get 0))))
  (func (export "changes") (param i32) (i64.store (i32.const 256) (call $changes (local.get 0))))
  (func (export "drop") (param i32) local.get 0 call $drop)
  (func (export "open1") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 call $open1)
  (func (export "exec1") (param i32 i32 i32 i32 i32 i32)
    local.get 0 local.get 1 local.get 2 local.get 3 local.get 4 local.get 5 call $exec1)
  (func (export "close1") (param i32) local.get 0 call $close1)
)`

var sqliteGuestImports = []string{
	"spin:sqlite/sqlite@3.0.0#[static]connection.open", "spin:sqlite/sqlite@3.0.0#[method]connection.execute",
	"spin:sqlite/sqlite@3.0.0#[method]connection.last-insert-rowid", "spin:sqlite/sqlite@3.0.0#[method]connection.changes",
	"spin:sqlite/sqlite@3.0.0#[resource-drop]connection",
	"fermyon:spin/sqlite#open", "fermyon:spin/sqlite#execute", "fermyon:spin/sqlite#close",
}

// values writes a list<value> into guest memory (16-byte elements) and
// returns (ptr, len).
func (h *coreHarness) values(vs []sqlite.Value) []int32 {
	h.next = (h.next + 7) &^ 7
	p := h.next
	h.next += uint32(16 * len(vs))
	for i, v := range vs {
		at := p + uint32(16*i)
		m := h.mem.Data()
		m[at] = byte(v.Kind)
		switch v.Kind {
		case sqlite.Integer:
			binary.LittleEndian.PutUint64(m[at+8:], uint64(v.Int))
		case sqlite.Real:
			binary.LittleEndian.PutUint64(m[at+8:], math.Float64bits(v.Real))
		case sqlite.Text, sqlite.Blob:
			b := append([]byte(v.Text), v.Blob...)
			s := h.str(string(b))
			binary.LittleEndian.PutUint32(m[at+8:], uint32(s[0]))
			binary.LittleEndian.PutUint32(m[at+12:], uint32(s[1]))
		}
	}
	return []int32{int32(p), int32(len(vs))}
}

// readValues reads a list<value> back.
func (h *coreHarness) readValues(ptr, n uint32) []sqlite.Value {
	g := &guestMem{mem: h.mem.Data}
	vs, err := g.sqliteValues(ptr, n)
	if err != nil {
		h.t.Fatal(err)
	}
	return vs
}

func TestCoreSQLiteThroughWasmtime(t *testing.T) {
	svc := sqliteServices(t)
	h, st := newCoreHarnessOf(t, svc, sqliteGuest, sqliteGuestImports, len(sqliteGuestImports))
	r := h.call("open", cat(h.str("default"), []int32{ret})...)
	if r[0] != 0 {
		t.Fatalf("open: % x", r[:16])
	}
	conn := int32(le32(r[4:]))
	none := []int32{0, 0}
	exec := func(sql string, params []int32) []byte {
		return h.call("exec", cat([]int32{conn}, h.str(sql), params, []int32{ret})...)
	}
	if r := exec("CREATE TABLE t (i, r, s, b, n)", none); r[0] != 0 {
		t.Fatalf("create: % x", r[:16])
	}
	if r := exec("INSERT INTO t VALUES (?, ?, ?, ?, ?)", h.values(sqliteValuesIn)); r[0] != 0 {
		t.Fatalf("insert: % x %q", r[:16], h.at(le32(r[8:]), le32(r[12:])))
	}
	if r := h.call("rowid", conn); binary.LittleEndian.Uint64(r) != 1 {
		t.Fatalf("last-insert-rowid: % x", r[:8])
	}
	if r := h.call("changes", conn); binary.LittleEndian.Uint64(r) != 1 {
		t.Fatalf("changes: % x", r[:8])
	}
	r = exec("SELECT * FROM t", none)
	if r[0] != 0 || le32(r[8:]) != 5 || le32(r[16:]) != 1 {
		t.Fatalf("select: % x", r[:20])
	}
	col := h.mem.Data()[le32(r[4:]):]
	if h.at(le32(col[8:]), le32(col[12:])) != "r" {
		t.Fatalf("second column %q", h.at(le32(col[8:]), le32(col[12:])))
	}
	row := h.mem.Data()[le32(r[12:]):]
	if got := h.readValues(le32(row), le32(row[4:])); !reflect.DeepEqual(got, sqliteValuesIn) {
		t.Fatalf("row = %+v", got)
	}
	// io(message), access-denied.
	r = exec("SELECT * FROM missing", none)
	if r[0] != 1 || r[4] != uint8(sqlite.KindIO) || h.at(le32(r[8:]), le32(r[12:])) != "SQL logic error: no such table: missing (1)" {
		t.Fatalf("bad select: % x %q", r[:16], h.at(le32(r[8:]), le32(r[12:])))
	}
	if r := h.call("open", cat(h.str("secret"), []int32{ret})...); r[0] != 1 || r[4] != uint8(sqlite.KindAccessDenied) {
		t.Fatalf("open secret: % x", r[:8])
	}
	h.call("drop", conn)

	// Unversioned: the same database file, invalid-connection after close.
	r = h.call("open1", cat(h.str("default"), []int32{ret})...)
	legacy := int32(le32(r[4:]))
	r = h.call("exec1", cat([]int32{legacy}, h.str("SELECT count(*) FROM t"), none, []int32{ret})...)
	if r[0] != 0 || le32(r[16:]) != 1 {
		t.Fatalf("legacy select: % x", r[:20])
	}
	h.call("close1", legacy)
	r = h.call("exec1", cat([]int32{legacy}, h.str("SELECT 1"), none, []int32{ret})...)
	if r[0] != 1 || r[4] != uint8(sqlite.KindInvalidConnection) {
		t.Fatalf("closed connection: % x", r[:8])
	}
	if st.sqlite.Len() != 0 {
		t.Fatalf("%d connections left", st.sqlite.Len())
	}
}
