package host

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/redspin/redspin/internal/wasmtime"
)

// memoryModuleWAT is a core-module guest: payload "g" grows memory a page
// at a time until memory.grow fails, then traps; "b" asks for 1 GiB at once
// (refused), then traps; anything else traps at once.
const memoryModuleWAT = `(module
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (func (export "fermyon:spin/inbound-redis#handle-message") (param $p i32) (param $n i32) (result i32)
    (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 103))
      (then (loop $l (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))))
    (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 98))
      (then (drop (memory.grow (i32.const 16384)))))
    unreachable))`

// The "(instance memory reached N of its M cap)" hint is added only when
// the memory really reached the cap, not to every trap of a capped guest.
func TestMemoryCapHint(t *testing.T) {
	trapComponent := strings.Replace(strings.Replace(handlerComponentWAT,
		`(i32.store16 (i32.const 16) (i32.const 0)) (i32.const 16)`, `unreachable`, 1),
		"EXPORTS", `(export "fermyon:spin/inbound-redis" (instance $inst))`, 1)
	h, err := New(context.Background(), []ComponentConfig{
		{ID: "mod", WasmPath: writeWAT(t, "mem.wasm", memoryModuleWAT)},
		{ID: "comp", WasmPath: writeWAT(t, "trap.wasm", trapComponent)},
	}, Options{MaxInstanceMemory: 1 << 20, Stderr: &syncBuffer{}, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	const hint = "(instance memory reached 1 MiB of its 1 MiB cap)"
	err = h.Handle(context.Background(), "mod", []byte("g"))
	if !errors.Is(err, wasmtime.TrapUnreachable) || !strings.Contains(err.Error(), hint) {
		t.Errorf("trap at the cap: %v\nwant the hint %q", err, hint)
	}
	for _, c := range []struct{ id, payload, why string }{
		{"mod", "t", "a trap far below the cap"},
		{"mod", "b", "a trap after a refused grow that left the memory far below the cap (not visible through the C API)"},
		{"comp", "t", "a component's trap (its memories are not visible through the C API)"},
	} {
		err := h.Handle(context.Background(), c.id, []byte(c.payload))
		if !errors.Is(err, wasmtime.TrapUnreachable) || strings.Contains(err.Error(), "instance memory") || strings.Contains(err.Error(), "cap") {
			t.Errorf("%s: %v\nwant a trap without a memory hint", c.why, err)
		}
	}
}
