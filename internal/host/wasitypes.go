package host

import (
	"errors"
	"fmt"
	"strings"

	"github.com/redspin/redspin/internal/wasmtime"
)

// wasiTypesWAT is a component that hands the host one value of each WASI
// resource type that other interfaces commonly `use` (wasi:http/types uses
// wasi:io's input-stream, output-stream, pollable and error). The C API has
// no other way to name the resource types Wasmtime's WASI defines, and the
// trapping stubs for such interfaces must use exactly those types.
const wasiTypesWAT = `(component $C
  (import "wasi:io/error@0.2.0" (instance $ierr (export "error" (type (sub resource)))))
  (alias export $ierr "error" (type $error))
  (import "wasi:io/poll@0.2.0" (instance $ipoll (export "pollable" (type (sub resource)))))
  (alias export $ipoll "pollable" (type $pollable))
  (import "wasi:io/streams@0.2.0" (instance $istreams
    (alias outer $C $error (type $e))
    (alias outer $C $pollable (type $p))
    (export "input-stream" (type $is (sub resource)))
    (export "output-stream" (type $os (sub resource)))
    (type $se (variant (case "last-operation-failed" (own $e)) (case "closed")))
    (export "stream-error" (type $se2 (eq $se)))
    (export "[method]input-stream.subscribe" (func (param "self" (borrow $is)) (result (own $p))))
    (export "[method]output-stream.blocking-write-and-flush"
      (func (param "self" (borrow $os)) (param "contents" (list u8)) (result (result (error $se2)))))))
  (alias export $istreams "input-stream" (type $input-stream))
  (alias export $istreams "output-stream" (type $output-stream))
  (alias export $istreams "[method]input-stream.subscribe" (func $subscribe))
  (alias export $istreams "[method]output-stream.blocking-write-and-flush" (func $write))
  (import "wasi:cli/stdin@0.2.0" (instance $istdin
    (alias outer $C $input-stream (type $is))
    (export "get-stdin" (func (result (own $is))))))
  (alias export $istdin "get-stdin" (func $get-stdin))
  (import "wasi:cli/stdout@0.2.0" (instance $istdout
    (alias outer $C $output-stream (type $os))
    (export "get-stdout" (func (result (own $os))))))
  (alias export $istdout "get-stdout" (func $get-stdout))

  (core module $memm (memory (export "memory") 1))
  (core instance $mem (instantiate $memm))
  (core func $get-stdin-l (canon lower (func $get-stdin)))
  (core func $get-stdout-l (canon lower (func $get-stdout)))
  (core func $subscribe-l (canon lower (func $subscribe)))
  (core func $write-l (canon lower (func $write) (memory $mem "memory")))
  (core module $m
    (import "host" "get-stdin" (func $get-stdin (result i32)))
    (import "host" "get-stdout" (func $get-stdout (result i32)))
    (import "host" "subscribe" (func $subscribe (param i32) (result i32)))
    (import "host" "write" (func $write (param i32 i32 i32 i32)))
    (import "mem" "memory" (memory 1))
    (func (export "run") (result i32)
      (local $in i32) (local $out i32)
      (local.set $in (call $get-stdin))
      (local.set $out (call $get-stdout))
      (i32.store (i32.const 100) (local.get $in))
      (i32.store (i32.const 104) (local.get $out))
      (i32.store (i32.const 108) (call $subscribe (local.get $in)))
      (call $write (local.get $out) (i32.const 0) (i32.const 1) (i32.const 200))
      (i32.store8 (i32.const 112)
        (i32.and (i32.eq (i32.load8_u (i32.const 200)) (i32.const 1))
                 (i32.eqz (i32.load8_u (i32.const 204)))))
      (i32.store (i32.const 116) (i32.load (i32.const 208)))
      (i32.const 100)))
  (core instance $i (instantiate $m
    (with "host" (instance
      (export "get-stdin" (func $get-stdin-l))
      (export "get-stdout" (func $get-stdout-l))
      (export "subscribe" (func $subscribe-l))
      (export "write" (func $write-l))))
    (with "mem" (instance $mem))))
  (func (export "get")
    (result (tuple (own $input-stream) (own $output-stream) (own $pollable) (option (own $error))))
    (canon lift (core func $i "run") (memory $mem "memory")))
)`

// wasiResourceNames are the WASI resources wasiTypesWAT returns, in order,
// keyed as "<package>/<interface>#<resource>" without the version.
var wasiResourceNames = []string{"wasi:io/streams#input-stream", "wasi:io/streams#output-stream", "wasi:io/poll#pollable", "wasi:io/error#error"}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("redspin: probe write fails") }

// wasiResourceTypes returns the host types of wasiResourceNames. The caller
// closes them.
func wasiResourceTypes(e *wasmtime.Engine) (map[string]*wasmtime.ResourceType, error) {
	wasm, err := wasmtime.Wat2Wasm(wasiTypesWAT)
	if err != nil {
		return nil, err
	}
	c, err := wasmtime.NewComponent(e, wasm)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	l := wasmtime.NewComponentLinker(e)
	defer l.Close()
	if err := l.AddWASIP2(); err != nil {
		return nil, err
	}
	s := wasmtime.NewStore(e)
	defer s.Close()
	s.SetEpochDeadline(1 << 62)
	w := wasmtime.NewWASIConfig()
	w.SetStdout(failingWriter{})
	if err := s.SetWASI(w); err != nil {
		return nil, err
	}
	inst, err := l.Instantiate(s, c)
	if err != nil {
		return nil, err
	}
	idx, ok := c.ExportIndex(nil, "get")
	if !ok {
		return nil, errors.New("no get export")
	}
	defer idx.Close()
	f, _ := inst.Func(idx)
	res, err := f.Call(nil, 1)
	if err != nil {
		return nil, err
	}
	elems := res[0].Elems
	if len(elems) != 4 {
		return nil, fmt.Errorf("got %d values", len(elems))
	}
	if elems[3].Payload != nil {
		elems[3] = *elems[3].Payload
	}
	out := make(map[string]*wasmtime.ResourceType)
	for i, v := range elems {
		if v.Resource != nil {
			if t := v.Resource.ResourceType(); t != nil {
				out[wasiResourceNames[i]] = t
			}
			v.Resource.Close()
		}
	}
	return out, nil
}

// unversioned strips "@version" from an interface name.
func unversioned(name string) string {
	if i := strings.IndexByte(name, '@'); i >= 0 {
		return name[:i]
	}
	return name
}
