package host

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/redspin/redspin/internal/testutil/wasiwat"
)

// wasiOutWAT is a component writing through redspin's WASI: payload "order"
// writes out1 (stdout), err1 (stderr), out2 (stdout); "partial" writes an
// unfinished line to both; "loop" does that and spins forever.
var wasiOutWAT = `(component $C
` + wasiwat.IO("0.2.0", "0.2.3") + `
  (import "wasi:cli/stderr@0.2.12" (instance $istderr
    (alias outer $C $output-stream (type $os))
    (export "output-stream" (type $os2 (eq $os)))
    (export "get-stderr" (func (result (own $os2))))))
  (alias export $istderr "get-stderr" (func $get-stderr))
  (core module $memm (memory (export "memory") 1))
  (core instance $mem (instantiate $memm))
  (core func $get-stdout-l (canon lower (func $get-stdout)))
  (core func $get-stderr-l (canon lower (func $get-stderr)))
  (core func $write-l (canon lower (func $write) (memory $mem "memory")))
  (core module $m
    (import "host" "get-stdout" (func $get-stdout (result i32)))
    (import "host" "get-stderr" (func $get-stderr (result i32)))
    (import "host" "write" (func $write (param i32 i32 i32 i32)))
    (import "mem" "memory" (memory 1))
    (data (i32.const 0) "out1\nerr1\nout2\npartial")
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
    (func (export "handle") (param $p i32) (param $n i32) (result i32)
      (local $out i32) (local $err i32)
      (local.set $out (call $get-stdout))
      (local.set $err (call $get-stderr))
      (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 111)) ;; 'o'
        (then
          (call $write (local.get $out) (i32.const 0) (i32.const 5) (i32.const 300))
          (call $write (local.get $err) (i32.const 5) (i32.const 5) (i32.const 300))
          (call $write (local.get $out) (i32.const 10) (i32.const 5) (i32.const 300)))
        (else
          (call $write (local.get $out) (i32.const 15) (i32.const 7) (i32.const 300))
          (call $write (local.get $err) (i32.const 15) (i32.const 7) (i32.const 300))
          (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 108)) ;; 'l'
            (then (loop $l (br $l))))))
      (i32.store16 (i32.const 400) (i32.const 0))
      (i32.const 400)))
  (core instance $i (instantiate $m
    (with "host" (instance
      (export "get-stdout" (func $get-stdout-l))
      (export "get-stderr" (func $get-stderr-l))
      (export "write" (func $write-l))))
    (with "mem" (instance $mem))))
` + wasiwat.InboundRedis

// TestWASIOutput checks the output guarantees on redspin's WASI: whole
// lines to the log files and the echo, the partial last line of a message
// ended with a newline however it ends (returned or timed out), and the
// echo in the guest's write order across stdout and stderr.
func TestWASIOutput(t *testing.T) {
	wasm := writeWAT(t, "wasiout.wasm", wasiOutWAT)
	logDir, echo := t.TempDir(), &syncBuffer{}
	h, err := New(context.Background(), []ComponentConfig{{ID: "w", WasmPath: wasm}},
		Options{LogDir: logDir, Stderr: echo, HandlerTimeout: 200 * time.Millisecond, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if info, _ := h.Info("w"); info.WASI != WASIRedspin {
		t.Fatalf("WASI = %q", info.WASI)
	}
	if err := h.Handle(context.Background(), "w", []byte("order")); err != nil {
		t.Fatal(err)
	}
	if got := echo.String(); got != "out1\nerr1\nout2\n" {
		t.Errorf("echo = %q, want the guest's write order", got)
	}
	if err := h.Handle(context.Background(), "w", []byte("loop")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("loop: %v", err)
	}
	if err := h.Handle(context.Background(), "w", []byte("partial")); err != nil {
		t.Fatal(err)
	}
	for f, want := range map[string]string{"w_stdout.txt": "out1\nout2\npartial\npartial\n", "w_stderr.txt": "err1\npartial\npartial\n"} {
		b, _ := os.ReadFile(filepath.Join(logDir, f))
		if string(b) != want {
			t.Errorf("%s = %q, want %q", f, b, want)
		}
	}
	if got, want := echo.String(), "out1\nerr1\nout2\n"+"partial\npartial\n"+"partial\npartial\n"; got != want {
		t.Errorf("echo = %q, want %q", got, want)
	}
}
