package wasi

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/redspin/redspin/internal/testutil/wasiwat"
	"github.com/redspin/redspin/internal/wasmtime"
)

// linkWAT imports WASI at two versions that share resources the way real
// guests do: wasi:cli/stdout@0.2.12 returns wasi:io/streams@0.2.0's
// output-stream, and wasi:http/types@0.2.10 re-exports its input-stream
// (as JS guests' wasi:http@0.2.10 uses wasi:io@0.2.12). Its exports write
// to stdout, drop a stream before or after its pollable, and call wasi:http.
var linkWAT = `(component $C
` + wasiwat.IO("0.2.0", "0.2.12") + `
  (import "wasi:http/types@0.2.10" (instance $ihttp
    (alias outer $C $input-stream (type $is))
    (export "input-stream" (type $is2 (eq $is)))
    (export "fields" (type $f (sub resource)))
    (export "[constructor]fields" (func (result (own $f))))))
  (alias export $ihttp "[constructor]fields" (func $new-fields))

  (core module $memm (memory (export "memory") 1))
  (core instance $mem (instantiate $memm))
  (core func $get-stdout-l (canon lower (func $get-stdout)))
  (core func $subscribe-l (canon lower (func $subscribe)))
  (core func $write-l (canon lower (func $write) (memory $mem "memory")))
  (core func $new-fields-l (canon lower (func $new-fields)))
  (core func $drop-os (canon resource.drop $output-stream))
  (core func $drop-p (canon resource.drop $pollable))
  (core module $m
    (import "host" "get-stdout" (func $get-stdout (result i32)))
    (import "host" "subscribe" (func $subscribe (param i32) (result i32)))
    (import "host" "write" (func $write (param i32 i32 i32 i32)))
    (import "host" "new-fields" (func $new-fields (result i32)))
    (import "host" "drop-os" (func $drop-os (param i32)))
    (import "host" "drop-p" (func $drop-p (param i32)))
    (import "mem" "memory" (memory 1))
    (data (i32.const 0) "hi\n")
    (func (export "write") (result i32)
      (local $out i32)
      (local.set $out (call $get-stdout))
      (call $write (local.get $out) (i32.const 0) (i32.const 3) (i32.const 200))
      (call $drop-os (local.get $out))
      (i32.load8_u (i32.const 200)))
    (func (export "drop-parent-first") (result i32)
      (local $out i32)
      (local.set $out (call $get-stdout))
      (drop (call $subscribe (local.get $out)))
      (call $drop-os (local.get $out))
      (i32.const 0))
    (func (export "drop-child-first") (result i32)
      (local $out i32)
      (local.set $out (call $get-stdout))
      (call $drop-p (call $subscribe (local.get $out)))
      (call $drop-os (local.get $out))
      (i32.const 0))
    (func (export "http") (result i32) (call $new-fields)))
  (core instance $i (instantiate $m
    (with "host" (instance
      (export "get-stdout" (func $get-stdout-l))
      (export "subscribe" (func $subscribe-l))
      (export "write" (func $write-l))
      (export "new-fields" (func $new-fields-l))
      (export "drop-os" (func $drop-os))
      (export "drop-p" (func $drop-p))))
    (with "mem" (instance $mem))))
  (func (export "write") (result u32) (canon lift (core func $i "write")))
  (func (export "drop-parent-first") (result u32) (canon lift (core func $i "drop-parent-first")))
  (func (export "drop-child-first") (result u32) (canon lift (core func $i "drop-child-first")))
  (func (export "http") (result u32) (canon lift (core func $i "http")))
)`

// TestLinkAcrossVersions links linkWAT through a real Wasmtime linker and
// runs it: versions and interfaces share resource types, stdout reaches
// the Config's writer, a stream dropped before its pollable traps, and
// wasi:http fails as not supported yet.
func TestLinkAcrossVersions(t *testing.T) {
	e, err := wasmtime.NewEngine(wasmtime.EngineConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	wasm, err := wasmtime.Wat2Wasm(linkWAT)
	if err != nil {
		t.Fatal(err)
	}
	comp, err := wasmtime.NewComponent(e, wasm)
	if err != nil {
		t.Fatal(err)
	}
	defer comp.Close()
	l := wasmtime.NewComponentLinker(e)
	defer l.Close()
	imports := comp.Imports()
	done, err := Link(l, imports, nil)
	for i := range imports {
		imports[i].Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"wasi:io/error@0.2.0", "wasi:io/poll@0.2.0", "wasi:io/streams@0.2.0", "wasi:cli/stdout@0.2.12", "wasi:http/types@0.2.10"}
	if !slices.Equal(done, want) {
		t.Errorf("Link defined %v, want %v", done, want)
	}
	for _, c := range []struct {
		export, out, err string
	}{
		{"write", "hi\n", ""},
		{"drop-child-first", "", ""},
		{"drop-parent-first", "", "output-stream 1 dropped while 1 resource(s) created from it are alive"},
		{"http", "", "wasi:http/types@0.2.10#[constructor]fields: wasi:http (outbound HTTP) is not supported yet"},
	} {
		t.Run(c.export, func(t *testing.T) {
			var out bytes.Buffer
			s := wasmtime.NewStore(e)
			defer s.Close()
			ctx, err := NewCtx(Config{Stdout: &out})
			if err != nil {
				t.Fatal(err)
			}
			defer ctx.Close()
			ctx.Attach(s)
			inst, err := l.Instantiate(s, comp)
			if err != nil {
				t.Fatal(err)
			}
			idx, _ := comp.ExportIndex(nil, c.export)
			defer idx.Close()
			f, _ := inst.Func(idx)
			res, err := f.Call(nil, 1)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res[0].Num != 0 {
				t.Errorf("result %d", res[0].Num)
			}
			if out.String() != c.out {
				t.Errorf("stdout = %q, want %q", out.String(), c.out)
			}
			if n := ctx.res.live(); n != 0 {
				t.Errorf("%d resources left in the table", n)
			}
		})
	}
}
