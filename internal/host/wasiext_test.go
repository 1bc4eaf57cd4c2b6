package host

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/redspin/redspin/internal/testutil/wasiwat"
	"github.com/redspin/redspin/internal/wasi"
	"github.com/redspin/redspin/internal/wasmtime"
)

// httpImports implements Imports and WASIInterfaces: a wasi:http/types
// whose [constructor]fields makes a fields resource and whose
// [method]fields.body (a made-up function) hands out an input-stream of
// internal/wasi, reading "body" through the guest's own wasi:io.
type httpImports struct{ fakeImports }

func (h *httpImports) WASIInterfaces() map[string]wasi.Interface {
	fields, _ := wasi.TypeOf("fields")
	stream, _ := wasi.TypeOf("input-stream")
	return map[string]wasi.Interface{"wasi:http/types": {
		"[constructor]fields": func(x *wasi.Call, _, results []wasmtime.Val) error {
			if _, ok := x.Data().(*fakeData); !ok {
				return errors.New("store data missing")
			}
			v, err := x.Push(fields, "fields", 0)
			results[0] = v
			return err
		},
		"[method]fields.body": func(x *wasi.Call, args, results []wasmtime.Val) error {
			_, rep, err := x.Borrow(args[0], fields)
			if err != nil {
				return err
			}
			v, err := x.Push(stream, wasi.NewReaderStream(strings.NewReader("body")), rep)
			results[0] = v
			return err
		},
	}}
}

// wasiExtWAT reads the stream that wasi:http/types hands out with
// wasi:io/streams' blocking-read and prints it; it drops the stream, then
// the fields it came from.
var wasiExtWAT = `(component $C
` + wasiwat.IO("0.2.12", "0.2.12") + `
  (import "wasi:http/types@0.2.10" (instance $ihttp
    (alias outer $C $input-stream (type $is))
    (export "input-stream" (type $is2 (eq $is)))
    (export "fields" (type $f (sub resource)))
    (export "[constructor]fields" (func (result (own $f))))
    (export "[method]fields.body" (func (param "self" (borrow $f)) (result (own $is2))))))
  (alias export $ihttp "fields" (type $fields))
  (alias export $ihttp "[constructor]fields" (func $new-fields))
  (alias export $ihttp "[method]fields.body" (func $body))
  (core module $memm (memory (export "memory") 1))
  (core instance $mem (instantiate $memm))
  (core module $realloc
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 2048)))
  (core instance $rl (instantiate $realloc))
  (core func $get-stdout-l (canon lower (func $get-stdout)))
  (core func $write-l (canon lower (func $write) (memory $mem "memory")))
  (core func $read-l (canon lower (func $read) (memory $mem "memory") (realloc (func $rl "realloc"))))
  (core func $new-fields-l (canon lower (func $new-fields)))
  (core func $body-l (canon lower (func $body)))
  (core func $drop-is (canon resource.drop $input-stream))
  (core func $drop-f (canon resource.drop $fields))
  (core module $m
    (import "host" "get-stdout" (func $get-stdout (result i32)))
    (import "host" "write" (func $write (param i32 i32 i32 i32)))
    (import "host" "read" (func $read (param i32 i64 i32)))
    (import "host" "new-fields" (func $new-fields (result i32)))
    (import "host" "body" (func $body (param i32) (result i32)))
    (import "host" "drop-is" (func $drop-is (param i32)))
    (import "host" "drop-f" (func $drop-f (param i32)))
    (import "mem" "memory" (memory 1))
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
    (func (export "handle") (param $p i32) (param $n i32) (result i32)
      (local $f i32) (local $s i32)
      (local.set $f (call $new-fields))
      (local.set $s (call $body (local.get $f)))
      ;; result<list<u8>, stream-error> at 300: tag, then ptr, len at 304, 308
      (call $read (local.get $s) (i64.const 100) (i32.const 300))
      (call $write (call $get-stdout) (i32.load (i32.const 304)) (i32.load (i32.const 308)) (i32.const 320))
      (call $drop-is (local.get $s))
      (call $drop-f (local.get $f))
      (i32.store16 (i32.const 400) (i32.const 0))
      (i32.const 400)))
  (core instance $i (instantiate $m
    (with "host" (instance
      (export "get-stdout" (func $get-stdout-l))
      (export "write" (func $write-l))
      (export "read" (func $read-l))
      (export "new-fields" (func $new-fields-l))
      (export "body" (func $body-l))
      (export "drop-is" (func $drop-is))
      (export "drop-f" (func $drop-f))))
    (with "mem" (instance $mem))))
` + wasiwat.InboundRedis

// TestWASIInterfacesSeam: Imports that implement WASIInterfaces replace
// internal/wasi's wasi:http, and the streams they hand out are read
// through the guest's wasi:io; their function sees the Imports' store data.
func TestWASIInterfacesSeam(t *testing.T) {
	wasm := writeWAT(t, "wasiext.wasm", wasiExtWAT)
	logDir := t.TempDir()
	h, err := New(context.Background(), []ComponentConfig{{ID: "x", WasmPath: wasm, Imports: &httpImports{}}},
		Options{LogDir: logDir, Stderr: &syncBuffer{}, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if info, _ := h.Info("x"); len(info.UnsupportedImports) != 0 || info.WASI != WASIRedspin {
		t.Errorf("info = %+v", info)
	}
	if err := h.Handle(context.Background(), "x", []byte("go")); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, logDir+"/x_stdout.txt"); got != "body\n" {
		t.Errorf("stdout = %q", got)
	}
}
