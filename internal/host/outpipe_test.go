package host

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"
)

// A message's output reaches the sink line by line while it runs, and all
// of it, the partial last line included, by the time end returns; nothing
// is left for the next message.
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
	if got, want := buf.String(), "live\nabcdef\nghi"; got != want {
		t.Fatalf("first message: %q, want %q", got, want)
	}
	// The same pipe for a second message: no leftovers.
	if p2, _ := pp.get(); p2 != p {
		t.Fatal("the pool did not reuse the pipe")
	}
	pp.begin(p, &lineWriter{sink: s})
	write("second\n")
	pp.end(p)
	if got, want := buf.String(), "live\nabcdef\nghisecond\n"; got != want {
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
