package host

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redspin/redspin/internal/wasmtime"
)

// fakeImports implements Imports: fermyon:spin/key-value's get-count for
// components and spin#answer for modules, both answering 42 when the
// store's data is theirs.
type fakeImports struct {
	ended atomic.Int32
}

type fakeData struct{ ctx context.Context }

func (f *fakeImports) LinkComponent(l *wasmtime.ComponentLinker, imports []wasmtime.ImportInfo) ([]string, error) {
	var done []string
	root := l.Root()
	defer root.Close()
	for _, imp := range imports {
		if imp.Name != "fermyon:spin/key-value" {
			continue
		}
		li, err := root.AddInstance(imp.Name)
		if err != nil {
			return nil, err
		}
		li.AddResource("store", 7, nil)
		err = li.AddFunc("get-count", func(c *wasmtime.ComponentCaller, _, results []wasmtime.Val) error {
			if _, ok := c.Data().(*fakeData); !ok {
				return errors.New("store data missing")
			}
			results[0] = wasmtime.U32(42)
			return nil
		})
		li.Close()
		if err != nil {
			return nil, err
		}
		done = append(done, imp.Name)
	}
	return done, nil
}

func (f *fakeImports) LinkModule(l *wasmtime.Linker, imports []string) ([]string, error) {
	var done []string
	for _, imp := range imports {
		if imp != "spin#answer" {
			continue
		}
		err := l.DefineFunc("spin", "answer", nil, []wasmtime.ValKind{wasmtime.KindI32}, func(c *wasmtime.Caller, _, results []uint64) error {
			if _, ok := c.Data().(*fakeData); !ok {
				return errors.New("store data missing")
			}
			// Host functions can allocate in the guest.
			r, err := c.CallI32("cabi_realloc", 1, 0, 0, 1, 8)
			if err != nil || r[0] != 2048 {
				return errors.New("realloc from a host function failed")
			}
			results[0] = 42
			return nil
		})
		if err != nil {
			return nil, err
		}
		done = append(done, imp)
	}
	return done, nil
}

func (f *fakeImports) NewStoreData(ctx context.Context, _ any) (any, func()) {
	return &fakeData{ctx}, func() { f.ended.Add(1) }
}

const kvComponentWAT = `(component
  (import "fermyon:spin/key-value" (instance $kv
    (export "store" (type (sub resource)))
    (export "get-count" (func (result u32)))))
  (import "fermyon:spin/llm" (instance $llm (export "infer" (func (result u32)))))
  (alias export $kv "get-count" (func $f))
  (core func $fl (canon lower (func $f)))
  (core module $m
    (import "kv" "get-count" (func $g (result i32)))
    (memory (export "memory") 1)
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
    (func (export "handle") (param $p i32) (param $n i32) (result i32)
      (i32.store16 (i32.const 16) (i32.const 0))
      (if (i32.gt_u (local.get $n) (i32.const 0)) (then
        (if (i32.ne (call $g) (i32.const 42)) (then
          (i32.store8 (i32.const 16) (i32.const 1))
          (i32.store8 (i32.const 17) (i32.const 1))))))
      (i32.const 16)))
  (core instance $i (instantiate $m (with "kv" (instance (export "get-count" (func $fl))))))
  (type $err (enum "success" "error"))
  (export $err2 "error" (type $err))
  (func $h (param "message" (list u8)) (result (result (error $err2)))
    (canon lift (core func $i "handle") (memory $i "memory") (realloc (func $i "cabi_realloc"))))
  (instance $inst (export "error" (type $err2)) (export "handle-message" (func $h)))
  (export "fermyon:spin/inbound-redis" (instance $inst))
)`

const answerModuleWAT = `(module
  (import "spin" "answer" (func $answer (result i32)))
  (import "outbound-redis" "publish" (func $publish (param i32)))
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 2048))
  (func (export "fermyon:spin/inbound-redis#handle-message") (param $p i32) (param $n i32) (result i32)
    (i32.store16 (i32.const 16) (i32.const 0))
    (if (i32.ne (call $answer) (i32.const 42)) (then
      (i32.store8 (i32.const 16) (i32.const 1))
      (i32.store8 (i32.const 17) (i32.const 1))))
    (if (i32.eq (local.get $n) (i32.const 7)) (then (call $publish (i32.const 0))))
    (i32.const 16))
)`

func TestImports(t *testing.T) {
	fake := &fakeImports{}
	comps := []ComponentConfig{
		{ID: "comp", WasmPath: writeWAT(t, "kv.wasm", kvComponentWAT), Imports: fake},
		{ID: "mod", WasmPath: writeWAT(t, "answer.wasm", answerModuleWAT), Imports: fake},
	}
	h, err := New(context.Background(), comps, Options{Stderr: &syncBuffer{}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if info, _ := h.Info("comp"); strings.Join(info.UnsupportedImports, ",") != "fermyon:spin/llm" {
		t.Errorf("component: %+v", info)
	}
	if info, _ := h.Info("mod"); strings.Join(info.UnsupportedImports, ",") != "outbound-redis" {
		t.Errorf("module: %+v", info)
	}
	for _, id := range []string{"comp", "mod"} {
		if err := h.Handle(context.Background(), id, []byte("x")); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	// The unsupported import still traps, naming itself.
	err = h.Handle(context.Background(), "mod", []byte("publish"))
	if err == nil || !strings.Contains(err.Error(), "outbound-redis") {
		t.Errorf("module calling an unsupported import: %v", err)
	}
	if got := fake.ended.Load(); got != 5 { // 2 trial instantiations at load + 3 messages
		t.Errorf("store data ended %d times, want 5", got)
	}
}

func TestHandleAfterClose(t *testing.T) {
	h, err := New(context.Background(), []ComponentConfig{{ID: "kv", WasmPath: writeWAT(t, "kv.wasm", kvComponentWAT)}}, Options{Stderr: &syncBuffer{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Handle(context.Background(), "kv", nil); err != nil {
		t.Fatal(err)
	}
	h.Close()
	h.Close()
	if err := h.Handle(context.Background(), "kv", nil); err == nil || !strings.Contains(err.Error(), "host is closed") {
		t.Fatalf("after Close: %v", err)
	}
}
