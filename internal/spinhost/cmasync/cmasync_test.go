package cmasync

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redspin/redspin/internal/wasmtime"
)

func TestFunc(t *testing.T) {
	for _, tc := range []struct {
		iface, fn string
		want      bool
	}{
		{"spin:sqlite/sqlite@3.1.0", "[static]connection.open", false},
		{"spin:sqlite/sqlite@3.1.0", "[static]connection.open-async", true},
		{"spin:sqlite/sqlite@3.1.0", "[method]connection.changes-async", true},
		{"spin:sqlite/sqlite@3.0.0", "[static]connection.open", false},
		{"spin:postgres/postgres@4.2.0", "[method]connection.query-async", true},
		{"spin:postgres/postgres@4.2.0", "[method]connection.query", false},
		{"spin:mqtt/mqtt@3.0.0", "[static]connection.open", true},
		{"spin:mysql/mysql@3.0.0", "[method]connection.execute", true},
		{"fermyon:spin/mqtt@2.0.0", "[static]connection.open", false},
	} {
		if got := Func(tc.iface, tc.fn); got != tc.want {
			t.Errorf("Func(%s, %s) = %v", tc.iface, tc.fn, got)
		}
	}
	if m := Interface("spin:mqtt/mqtt@3.0.0"); !strings.Contains(m, "build against fermyon:spin/mqtt@2.0.0") {
		t.Errorf("Interface = %q", m)
	}
	if Interface("spin:sqlite/sqlite@3.1.0") != "" {
		t.Error("3.1.0 is served in part")
	}
	if !CoreField("[async-lower][static]connection.open-async") || CoreField("[static]connection.open") {
		t.Error("CoreField")
	}
}

// The committed probe components (testdata/guests/async, from the WAT in
// that folder): one uses only 3.1.0's synchronous functions, one its
// open-async.
func TestWasmtimeOnAsyncImports(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "testdata", "guests", "async")
	e, err := wasmtime.NewEngine(wasmtime.EngineConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	sync, err := os.ReadFile(filepath.Join(dir, "sqlite31-sync.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := wasmtime.NewComponent(e, sync)
	if err != nil {
		t.Fatalf("the sync-only 3.1.0 guest must compile: %v", err)
	}
	imps := c.Imports()
	if len(imps) != 1 || imps[0].Name != "spin:sqlite/sqlite@3.1.0" || strings.Join(imps[0].Funcs, ",") != "[static]connection.open,[method]connection.last-insert-rowid" {
		t.Fatalf("imports = %+v", imps)
	}
	c.Close()

	async, err := os.ReadFile(filepath.Join(dir, "sqlite31-async.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	wantCompileError(t, e, async, "async imports spin:sqlite/sqlite@3.1.0#[static]connection.open-async, and it needs component-model async")
	other := errors.New("bad magic")
	if CompileError(async, other) != other {
		t.Fatal("other errors must pass unchanged")
	}
}

// A component that defines a stream type before any async function (as a
// guest of spin:mysql@3.0.0 does, its rows being a stream) fails with
// Wasmtime's validator error, which CompileError explains too.
func TestCompileErrorOnStreamType(t *testing.T) {
	wasm, err := wasmtime.Wat2Wasm(`(component (type $s (stream u8))
	  (import "spin:mysql/mysql@3.0.0" (instance (export "query" (func (result $s))))))`)
	if err != nil {
		t.Fatal(err)
	}
	e, err := wasmtime.NewEngine(wasmtime.EngineConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	wantCompileError(t, e, wasm, "the component uses async imports spin:mysql/mysql@3.0.0, and it needs component-model async, which Wasmtime 39's C API (redspin's engine) cannot serve; build against fermyon:spin/mysql@2.0.0 instead of spin:mysql/mysql@3.0.0")
}

// wantCompileError: Wasmtime does not compile wasm, and CompileError
// explains why with want.
func wantCompileError(t *testing.T, e *wasmtime.Engine, wasm []byte, want string) {
	t.Helper()
	_, err := wasmtime.NewComponent(e, wasm)
	if err == nil {
		t.Fatal("Wasmtime 39 compiled component-model async; redspin could serve it now")
	}
	if err = CompileError(wasm, err); !errors.Is(err, ErrAsync) || !strings.Contains(err.Error(), want) {
		t.Fatalf("CompileError = %v", err)
	}
}
