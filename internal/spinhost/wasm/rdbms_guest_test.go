package wasm

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/redspin/redspin/internal/testutil/dbserver"
	"github.com/redspin/redspin/internal/wasmtime"
)

const (
	pgCommon = `boolean true
int16 -32768
int32 -7
int64 -9223372036854775808
floating32 1.5
floating64 -2.25
str héllo
binary 01ff
`
	pgDates = `date 2024-2-29
time 23:59:58.123456000
datetime 1999-12-31 1:2:3.000004000
datetime 1970-1-2 1:1:1.000000000
`
	pg2Rows = "columns b:boolean i16:int16 i32:int32 i64:int64 f32:floating32 f64:floating64 s:str bin:binary nul:str d:other\nrows 1\n" +
		pgCommon + "db-null\nunsupported\n"
	myRows = `columns i8:int8 u8:uint8 i16:int16 u16:uint16 i32:int32 u32:uint32 i64:int64 u64:uint64 f32:floating32 f64:floating64 s:str bin:binary nul:str
rows 1
int8 -128
uint8 255
int16 -32768
uint16 65535
int32 -2147483648
uint32 4294967295
int64 -9223372036854775808
uint64 18446744073709551615
floating32 1.5
floating64 -2.25
str héllo
binary 01ff
db-null
`
)

// rdbmsCases are the guest's commands and what it prints; legacy ones run
// only in the core module.
type rdbmsCase struct {
	cmd, want  string
	ok, legacy bool
}

// TestRDBMSGuest runs the C guest testdata/guests/rdbms/rdbms-module.wasm (a core module with
// canonical-ABI imports of every database interface version, Spin 1.x's
// outbound-pg and outbound-mysql included) against the real servers: each
// version's parameter types go into a table and come back as that version's
// values and column types; the error variants and a refused address come
// back as the guest sees them.
func TestRDBMSGuest(t *testing.T) {
	pgSrv, mySrv := dbserver.Postgres(t), dbserver.MariaDB(t)
	r := newCoreRunner(t, dbServices(t), "rdbms/rdbms-module", "cabi_realloc", "fermyon:spin/inbound-redis#handle-message")
	for _, c := range rdbmsCases(t, pgSrv, mySrv.MySQLURL("spin")) {
		checkRDBMS(t, r, c)
	}
}

// TestRDBMSGuestComponent runs the same guest built as a component (the
// versions with a connection resource) through Wasmtime's component linker:
// every value type crosses the C API's component values. Its
// spin:postgres@4.2.0 import holds only the sync functions it calls, so it
// compiles on this engine.
func TestRDBMSGuestComponent(t *testing.T) {
	pgSrv, mySrv := dbserver.Postgres(t), dbserver.MariaDB(t)
	r, _ := loadComponent(t, dbServices(t), readGuest(t, "rdbms/rdbms.wasm"), true)
	for _, imp := range r.comp.Imports() {
		if imp.Name == modPG42 && strings.Contains(strings.Join(imp.Funcs, " "), "async") {
			t.Fatalf("the 4.2.0 import lists async functions: %v", imp.Funcs)
		}
	}
	for _, c := range rdbmsCases(t, pgSrv, mySrv.MySQLURL("spin")) {
		if !c.legacy {
			checkRDBMS(t, r, c)
		}
	}
}

// TestRDBMSGuestComponent40 runs the component built on
// spin:postgres/postgres@4.0.0 (rdbms40) with the same cases but the
// connection builder's, which 4.0.0 lacks.
func TestRDBMSGuestComponent40(t *testing.T) {
	pgSrv, mySrv := dbserver.Postgres(t), dbserver.MariaDB(t)
	r, done := loadComponent(t, dbServices(t), readGuest(t, "rdbms40/rdbms40.wasm"), true)
	if !slices.Contains(done, modPG40) || slices.Contains(done, modPG42) {
		t.Fatalf("linked %q, want %s", done, modPG40)
	}
	for _, c := range rdbmsCases(t, pgSrv, mySrv.MySQLURL("spin")) {
		if !c.legacy && !strings.HasPrefix(c.cmd, "pgtls:") {
			checkRDBMS(t, r, c)
		}
	}
}

func checkRDBMS(t *testing.T, r guestRunner, c rdbmsCase) {
	t.Helper()
	res := r.run(t, c.cmd)
	if res.ok != c.ok || !strings.HasPrefix(res.stdout, c.want) || (c.ok && res.stdout != c.want) {
		t.Errorf("%s: ok=%v, stdout:\n%s\nwant ok=%v, stdout:\n%s(stderr %q)", c.cmd, res.ok, res.stdout, c.ok, c.want, res.stderr)
	}
}

func rdbmsCases(t *testing.T, pg *dbserver.Server, myURL string) []rdbmsCase {
	ca, err := os.ReadFile(pg.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pgURL := pg.URL("postgres")
	require := strings.Replace(pgURL, "sslmode=disable", "sslmode=require", 1)
	return []rdbmsCase{
		{cmd: "pgtls:" + pgURL + "|", ok: true, want: "ssl false\n"},
		{cmd: "pgtls:" + require + "|" + string(ca), ok: true, want: "ssl true\n"},
		{cmd: "pgtls:" + require + "|", want: "err connection-failed "},
		{cmd: "pgtls:" + require + "|not a certificate", want: "err other invalid root certificate"},
		{cmd: "pgtls:postgres://10.1.1.1/db|", want: "err connection-failed address postgres://10.1.1.1:5432 is not permitted\n"},
		{cmd: "pg4:" + pgURL, ok: true, want: "affected 0\naffected 1\n" +
			"columns b:boolean i16:int16 i32:int32 i64:int64 f32:floating32 f64:floating64 s:str bin:binary d:date t:time " +
			"dt:datetime ts:datetime u:uuid j:jsonb n:decimal r4:range-int32 r8:range-int64 rn:range-decimal a4:array-int32 " +
			"a8:array-int64 an:array-decimal a:array-str iv:interval nul:str ip:other(inet)\nrows 1\n" + pgCommon + pgDates +
			`uuid a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11
jsonb {"a":null,"b":[1,2.50]}
decimal -123.4500
range-int32 [1,6)
range-int64 _,1099511627776)
range-decimal [1.5,2.25)
array-int32 [1,null,-3]
array-int64 [1125899906842624]
array-decimal [0.1,null]
array-str [a,null,b]
interval 1500000us -2d 14m
db-null
unsupported 022000040a000001
`},
		{cmd: "pg3:" + pgURL, ok: true, want: "affected 0\naffected 1\n" +
			"columns b:boolean i16:int16 i32:int32 i64:int64 f32:floating32 f64:floating64 s:str bin:binary d:date t:time " +
			"dt:datetime ts:datetime nul:str u:other\nrows 1\n" + pgCommon + pgDates + "db-null\nunsupported\n"},
		{cmd: "pg2:" + pgURL, ok: true, want: "affected 0\naffected 1\n" + pg2Rows},
		{cmd: "pg1:" + pgURL, ok: true, want: pg2Rows, legacy: true},
		{cmd: "spin1pg:" + pgURL, ok: true, want: pg2Rows, legacy: true},
		{cmd: "pgerr:" + pgURL, ok: true, want: `err query-failed db-error 42P01 relation "no_such_table" does not exist detail=none extras=3
err bad-parameter invalid UUID not-a-uuid
err query-failed db error: ERROR: relation "no_such_table" does not exist (SQLSTATE 42P01)
err value-conversion-failed Postgres does not support unsigned integers
`},
		{cmd: "my2:" + myURL, ok: true, want: myRows},
		{cmd: "my1:" + myURL, ok: true, want: myRows, legacy: true},
		{cmd: "spin1my:" + myURL, ok: true, want: myRows, legacy: true},
		{cmd: "pg4:postgres://10.1.1.1/db", want: "err connection-failed address postgres://10.1.1.1:5432 is not permitted\n"},
		{cmd: "pg1:host=127.0.0.1,10.1.1.1 user=x", want: "err connection-failed address postgres://10.1.1.1:5432 is not permitted\n", legacy: true},
		{cmd: "my2:mysql://u:p@10.1.1.1/db", want: "err connection-failed address mysql://u:xxxxx@10.1.1.1/db is not permitted\n"},
		{cmd: "my1:mysql://u:p@127.0.0.1:1/db", want: "err connection-failed ", legacy: true},
	}
}

// loadComponent compiles a component guest, links WASI (when wasi) and the
// services' interfaces, and returns the runner and the interfaces linked.
func loadComponent(t *testing.T, svc *Services, wasm []byte, wasi bool) (*componentRunner, []string) {
	t.Helper()
	e := newEngine(t)
	comp, err := wasmtime.NewComponent(e, wasm)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = comp.Close() })
	l := wasmtime.NewComponentLinker(e)
	t.Cleanup(func() { _ = l.Close() })
	if wasi {
		if err := l.AddWASIP2(); err != nil {
			t.Fatal(err)
		}
	}
	done, err := svc.LinkComponent(l, comp.Imports())
	if err != nil {
		t.Fatal(err)
	}
	iface, ok := comp.ExportIndex(nil, "fermyon:spin/inbound-redis")
	if !ok {
		t.Fatal("no inbound-redis export")
	}
	fn, ok := comp.ExportIndex(iface, "handle-message")
	if !ok {
		t.Fatal("no handle-message")
	}
	t.Cleanup(func() { _ = fn.Close(); _ = iface.Close() })
	return &componentRunner{e: e, svc: svc, comp: comp, l: l, fn: fn}, done
}
