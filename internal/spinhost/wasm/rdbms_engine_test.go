package wasm

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/redspin/redspin/internal/testutil/dbserver"
	"github.com/redspin/redspin/internal/wasmtime"
)

// pgSyncGuestWAT is a component built against spin:postgres/postgres@4.2.0
// that uses only its synchronous functions, as wit-component leaves such a
// guest: its import lists only the functions it calls. handle-message
// opens the payload (an address), creates a table and drops the
// connection; any error is err(error).
const pgSyncGuestWAT = `(component
  (import "spin:postgres/postgres@4.2.0" (instance $pg
    (export "connection" (type $conn (sub resource)))
    (type $dberr0 (record (field "as-text" string) (field "severity" string) (field "code" string)
      (field "message" string) (field "detail" (option string)) (field "extras" (list (tuple string string)))))
    (export "db-error" (type $dberr (eq $dberr0)))
    (type $qe0 (variant (case "text" string) (case "db-error" $dberr)))
    (export "query-error" (type $qe (eq $qe0)))
    (type $err0 (variant (case "connection-failed" string) (case "bad-parameter" string) (case "query-failed" $qe)
      (case "value-conversion-failed" string) (case "other" string)))
    (export "error" (type $err (eq $err0)))
    (type $pv0 (variant (case "boolean" bool) (case "int32" s32) (case "str" string) (case "db-null")))
    (export "parameter-value" (type $pv (eq $pv0)))
    (type $own (own $conn))
    (type $borrow (borrow $conn))
    (export "[static]connection.open" (func (param "address" string) (result (result $own (error $err)))))
    (export "[method]connection.execute" (func (param "self" $borrow) (param "statement" string)
      (param "params" (list $pv)) (result (result u64 (error $err)))))))
  (alias export $pg "connection" (type $conn))
  (alias export $pg "[static]connection.open" (func $pgopen))
  (alias export $pg "[method]connection.execute" (func $pgexec))
  (core module $libc
    (memory (export "memory") 1)
    (global $bump (mut i32) (i32.const 4096))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $r i32)
      (local.set $r (global.get $bump))
      (global.set $bump (i32.add (global.get $bump) (i32.add (local.get 3) (i32.const 8))))
      (local.get $r)))
  (core instance $libc (instantiate $libc))
  (core func $open (canon lower (func $pgopen) (memory $libc "memory") (realloc (func $libc "realloc"))))
  (core func $exec (canon lower (func $pgexec) (memory $libc "memory") (realloc (func $libc "realloc"))))
  (core func $drop (canon resource.drop $conn))
  (core module $m
    (import "libc" "memory" (memory 1))
    (import "pg" "open" (func $open (param i32 i32 i32)))
    (import "pg" "execute" (func $exec (param i32 i32 i32 i32 i32 i32)))
    (import "pg" "drop" (func $drop (param i32)))
    (data (i32.const 256) "CREATE TABLE IF NOT EXISTS wat_guest (x int)")
    (func $fail (result i32)
      (i32.store8 (i32.const 16) (i32.const 1))
      (i32.store8 (i32.const 17) (i32.const 1))
      (i32.const 16))
    (func (export "handle") (param $ptr i32) (param $len i32) (result i32)
      (local $h i32)
      (i32.store16 (i32.const 16) (i32.const 0))
      (call $open (local.get $ptr) (local.get $len) (i32.const 32))
      (if (i32.load8_u (i32.const 32)) (then (return (call $fail))))
      (local.set $h (i32.load (i32.const 36)))
      (call $exec (local.get $h) (i32.const 256) (i32.const 44) (i32.const 0) (i32.const 0) (i32.const 64))
      (call $drop (local.get $h))
      (if (i32.load8_u (i32.const 64)) (then (return (call $fail))))
      (i32.const 16)))
  (core instance $i (instantiate $m (with "libc" (instance $libc))
    (with "pg" (instance (export "open" (func $open)) (export "execute" (func $exec)) (export "drop" (func $drop))))))
  (type $e (enum "success" "error"))
  (export $e2 "error" (type $e))
  (func $h (param "message" (list u8)) (result (result (error $e2)))
    (canon lift (core func $i "handle") (memory $libc "memory") (realloc (func $libc "realloc"))))
  (instance $inst (export "error" (type $e2)) (export "handle-message" (func $h)))
  (export "fermyon:spin/inbound-redis" (instance $inst))
)`

// TestEngineServesSyncPartOfPostgres42 links and runs the guest through
// Wasmtime: the sync functions of 4.2.0 work on this engine.
func TestEngineServesSyncPartOfPostgres42(t *testing.T) {
	srv := dbserver.Postgres(t)
	wasm, err := wasmtime.Wat2Wasm(pgSyncGuestWAT)
	if err != nil {
		t.Fatal(err)
	}
	r, done := loadComponent(t, dbServices(t), wasm, false)
	if len(done) != 1 || done[0] != modPG42 {
		t.Fatalf("linked %q, want %s", done, modPG42)
	}
	if res := r.run(t, "postgres://10.9.9.9/x"); res.ok {
		t.Fatal("a denied fallback host was allowed")
	}
	if res := r.run(t, srv.URL("postgres")); !res.ok {
		t.Fatalf("guest failed: %+v", res)
	}
	c, err := pgx.Connect(context.Background(), srv.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	var n int
	if err := c.QueryRow(context.Background(), "SELECT count(*) FROM pg_tables WHERE tablename = 'wat_guest'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("table not created by the guest: %d %v", n, err)
	}
}

// TestEngineRejectsAsyncTypes records what happens to a guest that uses
// component-model async (postgres@4.2.0's query-async returns a stream,
// spin:mysql@3.0.0 is all async): Wasmtime 39's C API build has no
// component-model-async, so the component does not compile, whatever the
// host links.
func TestEngineRejectsAsyncTypes(t *testing.T) {
	wasm, err := wasmtime.Wat2Wasm(`(component (type $s (stream u8))
	  (import "spin:mysql/mysql@3.0.0" (instance (export "query" (func (result $s))))))`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = wasmtime.NewComponent(newEngine(t), wasm)
	if err == nil || !strings.Contains(err.Error(), "requires the component model async feature") {
		t.Fatalf("compile: %v", err)
	}
}
