package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// A message's output reaches the sink line by line while it runs, and all
// of it, the partial last line included (ended with a newline), by the
// time end returns; nothing is left for the next message.
func TestPipeOutput(t *testing.T) {
	pp := &pipePool{}
	defer pp.close()
	buf := &syncBuffer{}
	s := &sink{echo: buf}
	p, err := pp.get()
	if err != nil {
		t.Fatal(err)
	}
	write := func(b string) {
		t.Helper()
		if _, err := p.w.Write([]byte(b)); err != nil {
			t.Fatal(err)
		}
	}
	pp.begin(p, &lineWriter{sink: s})
	write("live\n")
	deadline := time.Now().Add(10 * time.Second)
	for buf.String() != "live\n" {
		if time.Now().After(deadline) {
			t.Fatalf("a whole line did not reach the sink while the message ran: %q", buf.String())
		}
		time.Sleep(time.Millisecond)
	}
	write("abc")
	write("def\nghi")
	pp.end(p)
	pp.put(p)
	if got, want := buf.String(), "live\nabcdef\nghi\n"; got != want {
		t.Fatalf("first message: %q, want %q", got, want)
	}
	// The same pipe for a second message: no leftovers.
	if p2, _ := pp.get(); p2 != p {
		t.Fatal("the pool did not reuse the pipe")
	}
	pp.begin(p, &lineWriter{sink: s})
	write("second\n")
	pp.end(p)
	if got, want := buf.String(), "live\nabcdef\nghi\nsecond\n"; got != want {
		t.Fatalf("second message: %q, want %q", got, want)
	}
	// More than a pipe holds, in one message: the reader keeps it flowing.
	pp.begin(p, &lineWriter{sink: s})
	big := strings.Repeat("x", 99) + "\n"
	for range 30000 { // 3 MB
		write(big)
	}
	pp.end(p)
	if n := strings.Count(buf.String(), big); n != 30000 {
		t.Fatalf("%d of 30000 big lines", n)
	}
}

// Kept output goes through pipes on Linux, and both ways give the same
// files and echo.
func TestOutputPipesAndCallbacks(t *testing.T) {
	for _, callbacks := range []bool{false, true} {
		f := newFixture(t, Options{OutputCallbacks: callbacks}, nil, nil)
		if runtime.GOOS == "linux" && !callbacks && f.h.pipes == nil {
			t.Fatal("pipes unavailable on Linux: guest output would take the slow callback path")
		}
		if callbacks && f.h.pipes != nil {
			t.Fatal("OutputCallbacks set, yet pipes are in use")
		}
		for _, g := range f.guests {
			id := g.id()
			for _, p := range []string{"print:one", "stderr:two", "print:three"} {
				if err := f.h.Handle(context.Background(), id, []byte(p)); err != nil {
					t.Fatalf("%s %s: %v", id, p, err)
				}
			}
			// Handle returns after the output has reached the sinks.
			if got := f.stdout(t, id); got != "one\nthree\n" {
				t.Errorf("callbacks=%v %s: stdout file %q", callbacks, id, got)
			}
			if got := f.stderrFile(t, id); got != "two\n" {
				t.Errorf("callbacks=%v %s: stderr file %q", callbacks, id, got)
			}
		}
		if n := strings.Count(f.stderr.String(), "one\n"); n != len(f.guests) {
			t.Errorf("callbacks=%v: echo has %d \"one\" lines, want %d", callbacks, n, len(f.guests))
		}
		f.h.Close()
		// Every pipe is closed with the host.
		if f.h.pipes != nil && len(f.h.pipes.all) != 0 {
			t.Errorf("%d pipes left open after Close", len(f.h.pipes.all))
		}
	}
}

// Without a pipe to be had (here: the pool closed, as when the process is
// out of file descriptors), output falls back to the callback stream and
// the message still succeeds with its output.
func TestOutputFallsBackToCallbacks(t *testing.T) {
	f := newFixture(t, Options{}, nil, nil)
	if f.h.pipes == nil {
		t.Skip("no pipes on this system: callbacks are the only path")
	}
	f.h.pipes.close()
	for _, g := range f.guests {
		if err := f.h.Handle(context.Background(), g.id(), []byte("print:fallback")); err != nil {
			t.Fatalf("%s: %v", g.id(), err)
		}
		if got := f.stdout(t, g.id()); got != "fallback\n" {
			t.Errorf("%s: stdout file %q", g.id(), got)
		}
	}
}

// partialLineWAT is a core-module guest that writes "partial" (no newline)
// to stdout and stderr, then loops forever when the payload is "loop" and
// returns otherwise.
const partialLineWAT = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "partial")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (func (export "fermyon:spin/inbound-redis#handle-message") (param $p i32) (param $n i32) (result i32)
    (i32.store (i32.const 0) (i32.const 100))
    (i32.store (i32.const 4) (i32.const 7))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8)))
    (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 108))
      (then (loop $l (br $l))))
    (i32.store16 (i32.const 16) (i32.const 0))
    (i32.const 16)))`

// A message's output ends at a line boundary, however the message ends:
// a timed-out message's unfinished line is not joined to the next
// message's in the log file (nor in the echo), through pipes and through
// callbacks alike.
func TestOutputEndsAtLineBoundary(t *testing.T) {
	wasm := writeWAT(t, "partial.wasm", partialLineWAT)
	for _, callbacks := range []bool{false, true} {
		t.Run(fmt.Sprintf("callbacks=%v", callbacks), func(t *testing.T) {
			logDir, echo := t.TempDir(), &syncBuffer{}
			h, err := New(context.Background(), []ComponentConfig{{ID: "p", WasmPath: wasm}},
				Options{LogDir: logDir, Stderr: echo, OutputCallbacks: callbacks, HandlerTimeout: 200 * time.Millisecond, DisableCache: true})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			if err := h.Handle(context.Background(), "p", []byte("loop")); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("loop: %v", err)
			}
			if err := h.Handle(context.Background(), "p", []byte("return")); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{"p_stdout.txt", "p_stderr.txt"} {
				b, _ := os.ReadFile(filepath.Join(logDir, f))
				if string(b) != "partial\npartial\n" {
					t.Errorf("%s = %q, want %q", f, b, "partial\npartial\n")
				}
			}
			if got := echo.String(); got != strings.Repeat("partial\n", 4) {
				t.Errorf("echo = %q", got)
			}
		})
	}
}

// EndMessage ends an unfinished line exactly once: after a buffered partial
// line, after a line too long to buffer, and not after a complete line.
func TestLineWriterEndMessage(t *testing.T) {
	buf := &syncBuffer{}
	w := &lineWriter{sink: &sink{echo: buf}}
	w.Write([]byte("done\n"))
	w.EndMessage()
	long := strings.Repeat("y", maxPartialLine+10)
	w.Write([]byte(long))
	w.EndMessage()
	w.Write([]byte("part"))
	w.EndMessage()
	w.EndMessage()
	if got, want := buf.String(), "done\n"+long+"\npart\n"; got != want {
		t.Errorf("got %d bytes ending %q, want %d bytes ending %q", len(got), got[max(0, len(got)-20):], len(want), want[len(want)-20:])
	}
}
