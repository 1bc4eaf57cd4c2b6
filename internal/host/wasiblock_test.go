package host

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redspin/redspin/internal/testutil/wasiwat"
)

// wasiBlockWAT blocks on a monotonic-clock pollable an hour away.
var wasiBlockWAT = `(component $C
  (import "wasi:io/poll@0.2.12" (instance $ipoll
    (export "pollable" (type $p (sub resource)))
    (export "[method]pollable.block" (func (param "self" (borrow $p))))))
  (alias export $ipoll "pollable" (type $pollable))
  (alias export $ipoll "[method]pollable.block" (func $block))
  (import "wasi:clocks/monotonic-clock@0.2.12" (instance $iclock
    (alias outer $C $pollable (type $p))
    (export "pollable" (type $p2 (eq $p)))
    (export "subscribe-duration" (func (param "when" u64) (result (own $p2))))))
  (alias export $iclock "subscribe-duration" (func $sub))
  (core module $memm (memory (export "memory") 1))
  (core instance $mem (instantiate $memm))
  (core func $block-l (canon lower (func $block)))
  (core func $sub-l (canon lower (func $sub)))
  (core module $m
    (import "host" "block" (func $block (param i32)))
    (import "host" "sub" (func $sub (param i64) (result i32)))
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
    (func (export "handle") (param i32 i32) (result i32)
      (call $block (call $sub (i64.const 3600000000000)))
      (i32.const 400)))
  (core instance $i (instantiate $m
    (with "host" (instance (export "block" (func $block-l)) (export "sub" (func $sub-l))))))
` + wasiwat.InboundRedis

// TestWASIBlockHonoursDeadline: a guest waiting in wasi:io/poll is
// interrupted by the handler timeout and by cancellation, reported as for
// a guest that spins.
func TestWASIBlockHonoursDeadline(t *testing.T) {
	wasm := writeWAT(t, "block.wasm", wasiBlockWAT)
	h, err := New(context.Background(), []ComponentConfig{{ID: "b", WasmPath: wasm}},
		Options{Stderr: &syncBuffer{}, HandlerTimeout: 200 * time.Millisecond, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	start := time.Now()
	err = h.Handle(context.Background(), "b", []byte("x"))
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("timeout: %v after %s", err, time.Since(start))
	}
	var te interface{ Timeout() bool }
	if !errors.As(err, &te) {
		t.Errorf("not reported as the handler timeout: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if err := h.Handle(ctx, "b", []byte("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
