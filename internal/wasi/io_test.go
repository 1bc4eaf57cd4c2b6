package wasi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/redspin/redspin/internal/testutil/cresult"
	"github.com/redspin/redspin/internal/wasmtime"
)

func u64v(n uint64) wasmtime.Val { return wasmtime.Val{Kind: wasmtime.CU64, Num: n} }

func TestStdio(t *testing.T) {
	var out, errOut bytes.Buffer
	x, _ := newCall(t, Config{Stdout: &out, Stderr: &errOut})
	so := must(t, x, "wasi:cli/stdout", "get-stdout")
	if n := cresult.OK(t, must(t, x, "wasi:io/streams", "[method]output-stream.check-write", so)); n.Num == 0 {
		t.Fatal("check-write: 0")
	}
	cresult.OK(t, must(t, x, "wasi:io/streams", "[method]output-stream.write", so, wasmtime.Bytes([]byte("hello "))))
	cresult.OK(t, must(t, x, "wasi:io/streams", "[method]output-stream.blocking-write-and-flush", so, wasmtime.Bytes([]byte("world\n"))))
	cresult.OK(t, must(t, x, "wasi:io/streams", "[method]output-stream.write-zeroes", so, u64v(2)))
	if got := out.String(); got != "hello world\n\x00\x00" {
		t.Errorf("stdout = %q", got)
	}
	// blocking-write-and-flush takes at most 4096 bytes (WIT): more traps.
	if _, err := call(t, x, "wasi:io/streams", "[method]output-stream.blocking-write-and-flush", so, wasmtime.Bytes(make([]byte, 4097))); err == nil {
		t.Error("blocking write of 4097 bytes did not trap")
	}
	se := must(t, x, "wasi:cli/stderr", "get-stderr")
	cresult.OK(t, must(t, x, "wasi:io/streams", "[method]output-stream.blocking-write-and-flush", se, wasmtime.Bytes([]byte("oops"))))
	if errOut.String() != "oops" {
		t.Errorf("stderr = %q", errOut.String())
	}

	// stdin is empty: every read reports closed, at once.
	si := must(t, x, "wasi:cli/stdin", "get-stdin")
	for _, fn := range []string{"[method]input-stream.read", "[method]input-stream.blocking-read"} {
		if e := cresult.Err(t, must(t, x, "wasi:io/streams", fn, si, u64v(10))); e.Kind != wasmtime.CVariant || e.Str != "closed" {
			t.Errorf("%s on stdin = %+v, want closed", fn, e)
		}
	}
	for _, fn := range []string{"get-terminal-stdin"} {
		if v := must(t, x, "wasi:cli/terminal-stdin", fn); v.Kind != wasmtime.COption || v.Payload != nil {
			t.Errorf("%s = %+v, want none", fn, v)
		}
	}
}

func TestNilStdoutDiscards(t *testing.T) {
	x, _ := newCall(t, Config{})
	so := must(t, x, "wasi:cli/stdout", "get-stdout")
	cresult.OK(t, must(t, x, "wasi:io/streams", "[method]output-stream.blocking-write-and-flush", so, wasmtime.Bytes([]byte("x"))))
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestWriteErrorIsLastOperationFailed(t *testing.T) {
	x, _ := newCall(t, Config{Stdout: failWriter{}})
	so := must(t, x, "wasi:cli/stdout", "get-stdout")
	e := cresult.Err(t, must(t, x, "wasi:io/streams", "[method]output-stream.write", so, wasmtime.Bytes([]byte("x"))))
	if e.Str != "last-operation-failed" || e.Payload == nil {
		t.Fatalf("got %+v", e)
	}
	msg := must(t, x, "wasi:io/error", "[method]error.to-debug-string", *e.Payload)
	if msg.Str != "disk on fire" {
		t.Errorf("to-debug-string = %q", msg.Str)
	}
	if err := drop(x, *e.Payload); err != nil {
		t.Error(err)
	}
}

// A pollable is a child of the stream it was subscribed from: dropping
// the stream first traps; the other order works.
func TestChildResourceLifetimes(t *testing.T) {
	x, _ := newCall(t, Config{})
	si := must(t, x, "wasi:cli/stdin", "get-stdin")
	p := must(t, x, "wasi:io/streams", "[method]input-stream.subscribe", si)
	err := drop(x, si)
	if err == nil || !strings.Contains(err.Error(), "dropped while 1 resource(s) created from it are alive") {
		t.Fatalf("dropping the stream before its pollable: %v", err)
	}
	// The stream is still usable after the refused drop.
	must(t, x, "wasi:io/streams", "[method]input-stream.read", si, u64v(1))
	if err := drop(x, p); err != nil {
		t.Fatal(err)
	}
	if err := drop(x, si); err != nil {
		t.Fatal(err)
	}
	// Using or dropping a handle twice fails.
	if _, err := call(t, x, "wasi:io/streams", "[method]input-stream.read", si, u64v(1)); err == nil {
		t.Error("read on a dropped stream did not trap")
	}
	if err := drop(x, si); err == nil {
		t.Error("second drop did not fail")
	}
	// A handle of the wrong type is refused.
	so := must(t, x, "wasi:cli/stdout", "get-stdout")
	wrong := so
	wrong.Resource = &wasmtime.Resource{Host: true, Rep: so.Resource.Rep, Type: tyInputStream}
	if _, err := call(t, x, "wasi:io/streams", "[method]input-stream.read", wrong, u64v(1)); err == nil || !strings.Contains(err.Error(), "is a output-stream, not a input-stream") {
		t.Errorf("wrong type: %v", err)
	}
}

// closeCounter counts Close calls.
type closeCounter struct {
	io.Reader
	closed int
}

func (c *closeCounter) Close() error { c.closed++; return nil }

// Resources left when the store ends are closed by Ctx.Close, once.
func TestCtxCloseClosesResources(t *testing.T) {
	c, err := NewCtx(Config{})
	if err != nil {
		t.Fatal(err)
	}
	x := &Call{Ctx: c, c: &fakeCaller{}}
	r := &closeCounter{Reader: strings.NewReader("abc")}
	if _, err := x.Push(tyInputStream, NewReaderStream(r), 0); err != nil {
		t.Fatal(err)
	}
	c.Close()
	c.Close()
	if r.closed != 1 {
		t.Errorf("reader closed %d times, want 1", r.closed)
	}
}

func TestReaderStream(t *testing.T) {
	x, _ := newCall(t, Config{})
	pr, pw := io.Pipe()
	s, err := x.Push(tyInputStream, NewReaderStream(pr), 0)
	if err != nil {
		t.Fatal(err)
	}
	// Nothing written yet: read returns an empty list without blocking.
	if b := cresult.OK(t, must(t, x, "wasi:io/streams", "[method]input-stream.read", s, u64v(100))); len(b.Bytes) != 0 {
		t.Fatalf("read before any data = %q", b.Bytes)
	}
	p := must(t, x, "wasi:io/streams", "[method]input-stream.subscribe", s)
	if r := must(t, x, "wasi:io/poll", "[method]pollable.ready", p); r.Num != 0 {
		t.Fatal("ready before any data")
	}
	go pw.Write([]byte("hello"))
	// poll waits for the data.
	idx := must(t, x, "wasi:io/poll", "poll", wasmtime.Val{Kind: wasmtime.CList, Elems: []wasmtime.Val{p}})
	if len(idx.Elems) != 1 || idx.Elems[0].Num != 0 {
		t.Fatalf("poll = %+v", idx)
	}
	if b := cresult.OK(t, must(t, x, "wasi:io/streams", "[method]input-stream.read", s, u64v(3))); string(b.Bytes) != "hel" {
		t.Fatalf("read = %q", b.Bytes)
	}
	if b := cresult.OK(t, must(t, x, "wasi:io/streams", "[method]input-stream.blocking-read", s, u64v(100))); string(b.Bytes) != "lo" {
		t.Fatalf("read = %q", b.Bytes)
	}
	go func() {
		pw.Write([]byte("!"))
		pw.Close()
	}()
	if b := cresult.OK(t, must(t, x, "wasi:io/streams", "[method]input-stream.blocking-read", s, u64v(100))); string(b.Bytes) != "!" {
		t.Fatalf("read = %q", b.Bytes)
	}
	if e := cresult.Err(t, must(t, x, "wasi:io/streams", "[method]input-stream.blocking-read", s, u64v(100))); e.Str != "closed" {
		t.Fatalf("after EOF: %+v", e)
	}
	s2, _ := x.Push(tyInputStream, NewReaderStream(strings.NewReader("abcdef")), 0)
	if n := cresult.OK(t, must(t, x, "wasi:io/streams", "[method]input-stream.blocking-skip", s2, u64v(2))); n.Num != 2 {
		t.Errorf("skipped %d, want 2", n.Num)
	}
	if b := cresult.OK(t, must(t, x, "wasi:io/streams", "[method]input-stream.blocking-read", s2, u64v(100))); string(b.Bytes) != "cdef" {
		t.Errorf("after skip: %q", b.Bytes)
	}
}

func TestSplice(t *testing.T) {
	var out bytes.Buffer
	x, _ := newCall(t, Config{Stdout: &out})
	so := must(t, x, "wasi:cli/stdout", "get-stdout")
	in, _ := x.Push(tyInputStream, NewReaderStream(strings.NewReader("spliced")), 0)
	n := cresult.OK(t, must(t, x, "wasi:io/streams", "[method]output-stream.blocking-splice", so, in, u64v(100)))
	if n.Num != 7 || out.String() != "spliced" {
		t.Errorf("splice: %d bytes, stdout %q", n.Num, out.String())
	}
}

func list(vs ...wasmtime.Val) wasmtime.Val { return wasmtime.Val{Kind: wasmtime.CList, Elems: vs} }

func TestPollSeveral(t *testing.T) {
	x, _ := newCall(t, Config{})
	long := must(t, x, "wasi:clocks/monotonic-clock", "subscribe-duration", u64v(uint64(time.Hour)))
	short := must(t, x, "wasi:clocks/monotonic-clock", "subscribe-duration", u64v(uint64(20*time.Millisecond)))
	done := make(chan struct{})
	ch, _ := x.Push(tyPollable, NewChanPollable(done), 0)
	start := time.Now()
	idx := must(t, x, "wasi:io/poll", "poll", list(long, short, ch))
	if len(idx.Elems) != 1 || idx.Elems[0].Num != 1 {
		t.Fatalf("poll = %+v, want [1]", idx)
	}
	if d := time.Since(start); d < 15*time.Millisecond {
		t.Errorf("poll returned after %s, before the 20ms timer", d)
	}
	close(done)
	idx = must(t, x, "wasi:io/poll", "poll", list(long, short, ch))
	if len(idx.Elems) != 2 || idx.Elems[0].Num != 1 || idx.Elems[1].Num != 2 {
		t.Fatalf("poll = %+v, want [1 2]", idx)
	}
	if _, err := call(t, x, "wasi:io/poll", "poll", list()); err == nil {
		t.Error("poll of an empty list did not trap")
	}
	// A timer's pollable dropped before it fires stops its timer.
	for _, p := range []wasmtime.Val{long, short, ch} {
		if err := drop(x, p); err != nil {
			t.Fatal(err)
		}
	}
	if x.res.live() != 0 {
		t.Errorf("%d resources left", x.res.live())
	}
}

// poll honours the message's cancellation and deadline: the guest is
// interrupted with their error.
func TestPollInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(bg)
	x, f := newCall(t, Config{Context: ctx})
	long := must(t, x, "wasi:clocks/monotonic-clock", "subscribe-duration", u64v(uint64(time.Hour)))
	time.AfterFunc(20*time.Millisecond, cancel)
	if _, err := call(t, x, "wasi:io/poll", "poll", list(long)); !errors.Is(err, context.Canceled) || !errors.Is(f.interrupted, context.Canceled) {
		t.Fatalf("cancelled poll: %v (interrupt %v)", err, f.interrupted)
	}

	cause := errors.New("handler timed out")
	x, f = newCall(t, Config{Deadline: time.Now().Add(20 * time.Millisecond), DeadlineErr: cause})
	long = must(t, x, "wasi:clocks/monotonic-clock", "subscribe-duration", u64v(uint64(time.Hour)))
	start := time.Now()
	if _, err := call(t, x, "wasi:io/poll", "[method]pollable.block", long); err != cause || f.interrupted != cause {
		t.Fatalf("block past the deadline: %v (interrupt %v)", err, f.interrupted)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("deadline honoured after %s", d)
	}
	// A blocking read waits the same way.
	pr, _ := io.Pipe()
	s, _ := x.Push(tyInputStream, NewReaderStream(pr), 0)
	if _, err := call(t, x, "wasi:io/streams", "[method]input-stream.blocking-read", s, u64v(1)); err != cause {
		t.Fatalf("blocking read past the deadline: %v", err)
	}
}

// Take moves an owned resource out of the table (a host function taking
// own<T>): it fails while children live, and the value is not closed.
func TestTake(t *testing.T) {
	x, _ := newCall(t, Config{})
	r := &closeCounter{Reader: strings.NewReader("abc")}
	s, _ := x.Push(tyInputStream, NewReaderStream(r), 0)
	p := must(t, x, "wasi:io/streams", "[method]input-stream.subscribe", s)
	if _, err := x.Take(s, tyInputStream); err == nil {
		t.Fatal("took a stream with a live pollable")
	}
	if err := drop(x, p); err != nil {
		t.Fatal(err)
	}
	v, err := x.Take(s, tyInputStream)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := v.(InputStream); !ok || x.res.live() != 0 || r.closed != 0 {
		t.Errorf("after Take: %T, %d left, closed %d", v, x.res.live(), r.closed)
	}
	if _, err := x.Take(s, tyInputStream); err == nil {
		t.Error("took it twice")
	}
	v.(io.Closer).Close()
}
