package wasm

import (
	"slices"
	"testing"

	"github.com/redspin/redspin/internal/spinhost/sqlite"
	"github.com/redspin/redspin/internal/wasmtime"
)

// The c-sqlite guest through real Wasmtime linkers, as a component and as
// a canonical-ABI core module, on every synchronous SQLite version (3.1.0's
// sync functions in c-sqlite, 3.0.0 in c-sqlite30), and the JS platform
// guest's same command through internal/host: rows in
// and out, every value type, last-insert-rowid and changes, the error
// variants a host can produce, and a file database shared by versions.
func TestGuestSQLite(t *testing.T) {
	dir := t.TempDir()
	m, err := sqlite.New(sqlite.Config{StateDir: dir, Databases: map[string]sqlite.Database{"mem": {}, "secret": {}}})
	if err != nil {
		t.Fatal(err)
	}
	svc := &Services{Component: "guest", SQLite: m.Component([]string{"default", "mem", "ghost"}, 0)}
	hosts := map[string]guestRunner{
		"component": newComponentRunnerFor(t, svc, "c-sqlite/c-sqlite.wasm", 3),
		"core":      newCoreRunner(t, svc, "c-sqlite/c-sqlite.core", "cabi_realloc", "fermyon:spin/inbound-redis#handle-message"),
		// c-sqlite30: the same guest with its version 3 on spin:sqlite/sqlite@3.0.0.
		"component-3.0.0": newComponentRunnerFor(t, svc, "c-sqlite30/c-sqlite30.wasm", 3),
		"core-3.0.0":      newCoreRunner(t, svc, "c-sqlite30/c-sqlite30.core", "cabi_realloc", "fermyon:spin/inbound-redis#handle-message"),
		// js-platform's sql: command, the same through the JS bindings
		// (its version 3 is 3.0.0).
		"js": newHostRunner(t, svc, "js-platform/js-platform.wasm"),
	}
	if imps := hosts["component-3.0.0"].(*componentRunner).comp.Imports(); !slices.ContainsFunc(imps, func(i wasmtime.ImportInfo) bool {
		return i.Name == modSQLite3
	}) {
		t.Fatalf("c-sqlite30 imports %+v, not %s", imps, modSQLite3)
	}
	// Every value type round-trips (text with UTF-8, a blob with 0x00 and
	// 0xff, extreme integers, a real that needs 17 digits).
	roundTrip := "CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n)|" +
		"INSERT INTO t VALUES (?, ?, ?, ?, ?)|$i:-9223372036854775808|$r:0.10000000000000001|$t:héllo wörld|$b:00ff10|$n|" +
		"INSERT INTO t VALUES (?, ?, ?, ?, ?)|$i:9223372036854775807|$r:-1e+300|$t:|$b:|$n|" +
		"SELECT i, r, s, b, n, typeof(b) AS tb FROM t ORDER BY rowid"
	rows := "i:-9223372036854775808 r:0.10000000000000001 t:héllo wörld b:00ff10 n t:blob\n" +
		"i:9223372036854775807 r:-1.0000000000000001e+300 t: b: n t:blob\n"
	for shape, r := range hosts {
		t.Run(shape, func(t *testing.T) {
			runSteps(t, r, []guestStep{
				{"sql:1:mem|" + roundTrip, true, "cols:\ncols:\ncols:\ncols:i,r,s,b,n,tb\n" + rows, ""},
				{"sql:2:mem|" + roundTrip, true, "cols:\ncols:\ncols:\ncols:i,r,s,b,n,tb\n" + rows, ""},
				{"sql:3:mem|" + roundTrip, true, "cols:\nrowid:0 changes:0\ncols:\nrowid:1 changes:1\ncols:\nrowid:2 changes:1\n" +
					"cols:i,r,s,b,n,tb\n" + rows + "rowid:2 changes:1\n", ""},
				// An in-memory database lives as long as its connection.
				{"sql:3:mem|SELECT * FROM t", false, "", "execute: io: SQL logic error: no such table: t (1)"},
				{"sql:2:mem|SELEC 1", false, "", `execute: io: SQL logic error: near "SELEC": syntax error (1)`},
				{"sql:1:secret|SELECT 1", false, "", "open: access-denied"},
				{"sql:2:nowhere|SELECT 1", false, "", "open: access-denied"},
				{"sql:3:secret|SELECT 1", false, "", "open: access-denied"},
				{"sqlclosed:1", false, "", "execute: invalid-connection"},
				// A label the component may use that no database has.
				{"sql:3:ghost|SELECT 1", false, "", "open: no-such-database"},
				{"sql:2:ghost|SELECT 1", false, "", "open: no-such-database"},
				{"sql:3:mem|SELECT * FROM (SELECT 1 AS a) WHERE a = ?|$i:2", true, "cols:a\nrowid:0 changes:0\n", ""},
				// Extra parameters are ignored (rusqlite refuses them: a
				// difference listed in the README).
				{"sql:3:mem|SELECT ?|$t:x|$t:y", true, "cols:?\nt:x\nrowid:0 changes:0\n", ""},
			})
		})
	}
	// The default database is a file in the state directory, shared by
	// every version and every message.
	r := hosts["core"]
	runSteps(t, r, []guestStep{
		{"sql:1:default|CREATE TABLE IF NOT EXISTS k (v TEXT)|INSERT INTO k VALUES (?)|$t:from v1", true, "cols:\ncols:\n", ""},
		{"sql:2:default|INSERT INTO k VALUES (?)|$t:from v2", true, "cols:\n", ""},
	})
	runSteps(t, hosts["component"], []guestStep{
		{"sql:3:default|UPDATE k SET v = upper(v)|SELECT v FROM k ORDER BY v", true,
			"cols:\nrowid:0 changes:2\ncols:v\nt:FROM V1\nt:FROM V2\nrowid:0 changes:2\n", ""},
	})
}

// The JS guest built against Spin's unversioned platform world imports
// fermyon:spin/sqlite: the host links it (it is no longer an unsupported
// import), and the guest's sql: command works through the JS bindings.
func TestJSPlatformSQLite(t *testing.T) {
	m, _ := sqlite.New(sqlite.Config{})
	r := newHostRunner(t, &Services{Component: "jsp", SQLite: m.Component([]string{"default", "ghost"}, 0)}, "js-platform/js-platform.wasm")
	info, _ := r.h.Info("jsp")
	if slices.Contains(info.UnsupportedImports, modSQLite) || !slices.Contains(info.UnsupportedImports, "fermyon:spin/mysql") {
		t.Errorf("UnsupportedImports = %q", info.UnsupportedImports)
	}
	// Its sql: command (js-platform/sqlite.js; TestGuestSQLite has the
	// rest) writes the default database, in memory here.
	runSteps(t, r, []guestStep{
		{"print:platform ok", true, "platform ok\n", ""},
		{"sql:1:default|CREATE TABLE t (i, r, s, b, n)|INSERT INTO t VALUES (?, ?, ?, ?, ?)|$i:-9007199254740993|$r:1.5|" +
			"$t:héllo|$b:00ff|$n|SELECT * FROM t", true, "cols:\ncols:\ncols:i,r,s,b,n\ni:-9007199254740993 r:1.5 t:héllo b:00ff n\n", ""},
		{"sql:3:default|CREATE TABLE t (i)|INSERT INTO t VALUES (1), (2)", true, "cols:\nrowid:0 changes:0\ncols:\nrowid:2 changes:2\n", ""},
		{"sql:1:ghost|SELECT 1", false, "", "open: no-such-database"},
	})
}
