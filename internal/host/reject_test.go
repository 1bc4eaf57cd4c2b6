package host

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redspin/redspin/internal/wasmtime"
)

// handlerComponentWAT is a minimal component whose handler export is
// called EXPORT (replaced per test) and that answers ok.
const handlerComponentWAT = `(component
  (core module $m
    (memory (export "memory") 1)
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
    (func (export "handle") (param i32 i32) (result i32)
      (i32.store16 (i32.const 16) (i32.const 0)) (i32.const 16)))
  (core instance $i (instantiate $m))
  (type $err (enum "success" "error"))
  (export $err2 "error" (type $err))
  (func $h (param "message" (list u8)) (result (result (error $err2)))
    (canon lift (core func $i "handle") (memory $i "memory") (realloc (func $i "cabi_realloc"))))
  (instance $inst (export "error" (type $err2)) (export "handle-message" (func $h)))
  EXPORTS
)`

func writeWAT(t *testing.T, name, wat string) string {
	t.Helper()
	wasm, err := wasmtime.Wat2Wasm(wat)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRejects(t *testing.T) {
	exp := func(names ...string) string {
		var b strings.Builder
		for _, n := range names {
			b.WriteString(`(export "` + n + `" (instance $inst))`)
		}
		return strings.Replace(handlerComponentWAT, "EXPORTS", b.String(), 1)
	}
	cases := []struct {
		name, path, want string
	}{
		{"spin4", writeWAT(t, "spin4.wasm", exp("spin:redis/inbound-redis@3.0.0")),
			`component "x" exports spin:redis/inbound-redis@3.0.0 (Spin 4 async), not supported yet`},
		{"both", writeWAT(t, "both.wasm", exp("fermyon:spin/inbound-redis", "spin:redis/inbound-redis@3.0.0")),
			`component "x": exports both fermyon:spin/inbound-redis and spin:redis/inbound-redis@3.0.0`},
		{"none", writeWAT(t, "none.wasm", exp("other:pkg/iface")),
			`component "x": no Redis handler: it exports error, other:pkg/iface (want fermyon:spin/inbound-redis)`},
		{"core-none", writeWAT(t, "core.wasm", `(module (memory (export "memory") 1) (func (export "run")))`),
			`component "x": no Redis handler: it exports memory, run`},
		{"not-wasm", func() string {
			p := filepath.Join(t.TempDir(), "x.wasm")
			os.WriteFile(p, []byte("hello"), 0o644)
			return p
		}(), "not a WebAssembly binary"},
		{"missing", filepath.Join(t.TempDir(), "missing.wasm"), "no such file"},
	}
	if p := filepath.Join(guestsDir, "negative", "negative.wasm"); fileExists(p) {
		cases = append(cases, struct{ name, path, want string }{"negative-component", p,
			`component "x": no Redis handler: it exports run (want fermyon:spin/inbound-redis)`})
	}
	if p := filepath.Join(guestsDir, "negative", "negative.core.wasm"); fileExists(p) {
		cases = append(cases, struct{ name, path, want string }{"negative-module", p,
			`component "x": no Redis handler: it exports `})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, err := New(context.Background(), []ComponentConfig{{ID: "x", WasmPath: tc.path}}, Options{DisableCache: true, Stderr: &syncBuffer{}})
			if err == nil {
				h.Close()
				t.Fatal("loaded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q\nwant it to contain %q", err, tc.want)
			}
			if strings.HasPrefix(tc.name, "negative") && !strings.Contains(err.Error(), "run") {
				t.Fatalf("error %q should list the guest's export run", err)
			}
		})
	}
	// The WAT handler itself is fine.
	h, err := New(context.Background(), []ComponentConfig{{ID: "ok", WasmPath: writeWAT(t, "ok.wasm", exp("fermyon:spin/inbound-redis"))}}, Options{Stderr: &syncBuffer{}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.Handle(context.Background(), "ok", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if info, _ := h.Info("ok"); info.Shape != ShapeComponent || info.Export != "fermyon:spin/inbound-redis" || len(info.UnsupportedImports) != 0 {
		t.Errorf("info = %+v", info)
	}
}

func TestUnsupportedImports(t *testing.T) {
	p := filepath.Join(guestsDir, "js-platform", "js-platform.wasm")
	if !fileExists(p) {
		t.Skip("js-platform guest not built")
	}
	var stderr syncBuffer
	h, err := New(context.Background(), []ComponentConfig{{ID: "jsp", WasmPath: p}}, Options{CacheDir: testCacheDir, Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	info, _ := h.Info("jsp")
	joined := strings.Join(info.UnsupportedImports, " ")
	for _, want := range []string{"fermyon:spin/key-value", "fermyon:spin/redis", "wasi:http/outgoing-handler@"} {
		if !strings.Contains(joined, want) {
			t.Errorf("UnsupportedImports %v lacks %s", info.UnsupportedImports, want)
		}
	}
	if strings.Contains(joined, "wasi:cli/") || strings.Contains(joined, "wasi:io/") {
		t.Errorf("WASI interfaces listed as unsupported: %v", info.UnsupportedImports)
	}
	// WASI still works in a component that also imports stubbed interfaces.
	if err := h.Handle(context.Background(), "jsp", []byte("print:platform ok")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "platform ok\n") {
		t.Errorf("stderr = %q", stderr.String())
	}
}

func TestUnsupportedImportCallFails(t *testing.T) {
	const wat = `(component
  (import "fermyon:spin/key-value" (instance $kv
    (export "store" (type (sub resource)))
    (export "get-count" (func (result u32)))))
  (alias export $kv "get-count" (func $f))
  (core func $fl (canon lower (func $f)))
  (core module $m
    (import "kv" "get-count" (func $g (result i32)))
    (memory (export "memory") 1)
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
    (func (export "handle") (param $p i32) (param $n i32) (result i32)
      (i32.store16 (i32.const 16) (i32.const 0))
      (if (i32.gt_u (local.get $n) (i32.const 0)) (then (drop (call $g))))
      (i32.const 16)))
  (core instance $i (instantiate $m (with "kv" (instance (export "get-count" (func $fl))))))
  (type $err (enum "success" "error"))
  (export $err2 "error" (type $err))
  (func $h (param "message" (list u8)) (result (result (error $err2)))
    (canon lift (core func $i "handle") (memory $i "memory") (realloc (func $i "cabi_realloc"))))
  (instance $inst (export "error" (type $err2)) (export "handle-message" (func $h)))
  (export "fermyon:spin/inbound-redis" (instance $inst))
)`
	h, err := New(context.Background(), []ComponentConfig{{ID: "kv", WasmPath: writeWAT(t, "kv.wasm", wat)}}, Options{Stderr: &syncBuffer{}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if info, _ := h.Info("kv"); strings.Join(info.UnsupportedImports, ",") != "fermyon:spin/key-value" {
		t.Errorf("info = %+v", info)
	}
	if err := h.Handle(context.Background(), "kv", nil); err != nil {
		t.Fatalf("not using the import: %v", err)
	}
	err = h.Handle(context.Background(), "kv", []byte("use it"))
	if err == nil || !strings.Contains(err.Error(), "fermyon:spin/key-value#get-count") || !strings.Contains(err.Error(), `component "kv"`) {
		t.Fatalf("using the import: %v", err)
	}
}
