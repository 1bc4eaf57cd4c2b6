package wasi

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/redspin/redspin/internal/wasmtime"
)

// InputStream is the host side of a wasi:io/streams input-stream.
type InputStream interface {
	// Read returns up to n bytes without blocking; none (and no error)
	// when nothing is available yet, io.EOF once the stream has ended, any
	// other error when it failed.
	Read(n int) ([]byte, error)
	// Ready's channel is closed once Read has something to return (data,
	// EOF or an error).
	Pollable
}

// OutputStream is the host side of a wasi:io/streams output-stream.
type OutputStream interface {
	// CheckWrite returns how many bytes Write accepts now (0: wait for
	// Ready).
	CheckWrite() (int, error)
	// Write writes p (at most CheckWrite bytes).
	Write(p []byte) error
	// Flush makes what was written visible; it may block.
	Flush() error
	// Ready's channel is closed once CheckWrite is above zero.
	Pollable
}

// maxWrite is what a synchronous output stream accepts per write.
const maxWrite = 1 << 20

// writerStream writes synchronously to a Go writer.
type writerStream struct {
	w io.Writer
}

// NewWriterStream returns an OutputStream that writes to w, synchronously:
// each guest write is one w.Write (so it blocks while w does), flushing is
// a no-op, and a write error fails the stream. w is never closed (the
// caller closes it, e.g. when an HTTP body is finished).
func NewWriterStream(w io.Writer) OutputStream {
	if w == nil {
		return discardStream
	}
	return &writerStream{w: w}
}

// discardStream is every store's stream that goes nowhere (it has no
// state to share).
var discardStream OutputStream = &writerStream{w: io.Discard}

func (s *writerStream) CheckWrite() (int, error) { return maxWrite, nil }
func (s *writerStream) Ready() <-chan struct{}   { return closedChan }
func (s *writerStream) Flush() error             { return nil }
func (s *writerStream) Write(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	_, err := s.w.Write(p)
	return err
}

// readerStream reads a Go reader in a goroutine of its own, one chunk at
// a time, so that read never blocks the guest and poll can wait for it.
type readerStream struct {
	r      io.Reader
	mu     sync.Mutex
	buf    []byte
	err    error         // sticky: io.EOF or the failure
	ready  chan struct{} // closed when buf or err is set; replaced when drained
	want   chan struct{} // (buffer 1) asks the pump for the next chunk
	closed chan struct{}
	once   sync.Once
}

// readChunk is how much a reader stream reads ahead: it bounds the memory
// a stream holds for a guest that does not read.
const readChunk = 64 << 10

// NewReaderStream returns an InputStream over r. A goroutine reads r one
// chunk (64 KiB) ahead of the guest, so at most one chunk is buffered;
// guest reads never block (blocking-read and poll wait for the chunk). An
// io.Closer r is closed when the guest drops the stream or its store ends,
// which also ends the goroutine once its pending Read returns.
func NewReaderStream(r io.Reader) InputStream {
	s := &readerStream{r: r, ready: make(chan struct{}), want: make(chan struct{}, 1), closed: make(chan struct{})}
	s.want <- struct{}{}
	go s.pump()
	return s
}

func (s *readerStream) pump() {
	for {
		select {
		case <-s.closed:
			return
		case <-s.want:
		}
		b := make([]byte, readChunk)
		n, err := s.r.Read(b)
		s.mu.Lock()
		s.buf = b[:n]
		if err != nil {
			s.err = err
		}
		if n > 0 || err != nil {
			close(s.ready)
		} else {
			s.want <- struct{}{} // nothing read: try again
		}
		s.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (s *readerStream) Ready() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ready
}

func (s *readerStream) Read(n int) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.buf) > 0 {
		k := min(n, len(s.buf))
		out := append([]byte(nil), s.buf[:k]...)
		s.buf = s.buf[k:]
		if len(s.buf) == 0 && s.err == nil {
			s.ready = make(chan struct{})
			s.want <- struct{}{}
		}
		return out, nil
	}
	return nil, s.err
}

func (s *readerStream) Close() error {
	s.once.Do(func() { close(s.closed) })
	if c, ok := s.r.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// emptyStream is stdin: always at its end.
type emptyStream struct{}

func (emptyStream) Read(int) ([]byte, error) { return nil, io.EOF }
func (emptyStream) Ready() <-chan struct{}   { return closedChan }

// streamError is the stream-error of a failed operation: closed for EOF,
// else last-operation-failed with an error resource.
func (x *Call) streamError(err error) (wasmtime.Val, error) {
	if errors.Is(err, io.EOF) {
		return wasmtime.Variant("closed", nil), nil
	}
	e, perr := x.Push(tyError, err, 0)
	if perr != nil {
		return wasmtime.Val{}, perr
	}
	return wasmtime.Variant("last-operation-failed", &e), nil
}

// errResult sets results[0] to err(stream-error for err).
func (x *Call) errResult(results []wasmtime.Val, err error) error {
	se, perr := x.streamError(err)
	if perr != nil {
		return perr
	}
	results[0] = wasmtime.ErrVal(&se)
	return nil
}

func okResult(p *wasmtime.Val) wasmtime.Val { return wasmtime.OkVal(p) }

func argU64(args []wasmtime.Val, i int) (uint64, error) {
	if i >= len(args) {
		return 0, fmt.Errorf("missing argument %d", i)
	}
	return args[i].Num, nil
}

func inputOf(x *Call, args []wasmtime.Val) (InputStream, uint32, error) {
	v, rep, err := x.Borrow(args[0], tyInputStream)
	if err != nil {
		return nil, 0, err
	}
	return v.(InputStream), rep, nil
}

func outputOf(x *Call, args []wasmtime.Val) (OutputStream, uint32, error) {
	v, rep, err := x.Borrow(args[0], tyOutputStream)
	if err != nil {
		return nil, 0, err
	}
	return v.(OutputStream), rep, nil
}

// readStream implements read (blocking: blocking-read).
func readStream(blocking bool) Func {
	return func(x *Call, args, results []wasmtime.Val) error {
		s, _, err := inputOf(x, args)
		if err != nil {
			return err
		}
		n, _ := argU64(args, 1)
		n = min(n, readChunk*16)
		for {
			b, err := s.Read(int(n))
			if err != nil && len(b) == 0 {
				return x.errResult(results, err)
			}
			if len(b) > 0 || !blocking || n == 0 {
				v := wasmtime.Bytes(append([]byte{}, b...))
				results[0] = okResult(&v)
				return nil
			}
			if _, err := x.Wait([]Pollable{s}); err != nil {
				return err
			}
		}
	}
}

// skipStream implements skip and blocking-skip.
func skipStream(blocking bool) Func {
	read := readStream(blocking)
	return func(x *Call, args, results []wasmtime.Val) error {
		if err := read(x, args, results); err != nil {
			return err
		}
		if r := results[0]; r.Ok {
			n := wasmtime.Val{Kind: wasmtime.CU64, Num: uint64(len(r.Payload.Bytes))}
			results[0] = okResult(&n)
		}
		return nil
	}
}

func subscribeTo(ty uint32) Func {
	return func(x *Call, args, results []wasmtime.Val) error {
		v, rep, err := x.Borrow(args[0], ty)
		if err != nil {
			return err
		}
		p, err := x.Push(tyPollable, pollRef{v.(Pollable)}, rep)
		results[0] = p
		return err
	}
}

func checkWrite(x *Call, args, results []wasmtime.Val) error {
	s, _, err := outputOf(x, args)
	if err != nil {
		return err
	}
	n, err := s.CheckWrite()
	if err != nil {
		return x.errResult(results, err)
	}
	v := wasmtime.Val{Kind: wasmtime.CU64, Num: uint64(n)}
	results[0] = okResult(&v)
	return nil
}

// writeStream implements write, blocking-write-and-flush and (with
// zeroes) the write-zeroes pair.
func writeStream(blocking, zeroes bool) Func {
	return func(x *Call, args, results []wasmtime.Val) error {
		s, _, err := outputOf(x, args)
		if err != nil {
			return err
		}
		var p []byte
		if zeroes {
			n, _ := argU64(args, 1)
			if n > maxWrite {
				return fmt.Errorf("write-zeroes of %d bytes exceeds check-write", n)
			}
			p = make([]byte, n)
		} else if len(args) > 1 {
			p = args[1].Bytes
		}
		if blocking && len(p) > 4096 {
			return fmt.Errorf("blocking write of %d bytes: at most 4096 allowed", len(p))
		}
		for blocking {
			n, err := s.CheckWrite()
			if err != nil {
				return x.errResult(results, err)
			}
			if n >= len(p) {
				break
			}
			if _, err := x.Wait([]Pollable{s}); err != nil {
				return err
			}
		}
		if err := s.Write(p); err != nil {
			return x.errResult(results, err)
		}
		if blocking {
			if err := s.Flush(); err != nil {
				return x.errResult(results, err)
			}
		}
		results[0] = okResult(nil)
		return nil
	}
}

func flushStream(x *Call, args, results []wasmtime.Val) error {
	s, _, err := outputOf(x, args)
	if err != nil {
		return err
	}
	if err := s.Flush(); err != nil {
		return x.errResult(results, err)
	}
	results[0] = okResult(nil)
	return nil
}

// spliceStream implements splice and blocking-splice: read from the input
// argument, write what was read.
func spliceStream(blocking bool) Func {
	read := readStream(blocking)
	return func(x *Call, args, results []wasmtime.Val) error {
		out, _, err := outputOf(x, args)
		if err != nil {
			return err
		}
		n, _ := argU64(args, 2)
		if w, err := out.CheckWrite(); err == nil {
			n = min(n, uint64(w))
		}
		if err := read(x, []wasmtime.Val{args[1], {Kind: wasmtime.CU64, Num: n}}, results); err != nil {
			return err
		}
		r := results[0]
		if !r.Ok {
			return nil
		}
		if err := out.Write(r.Payload.Bytes); err != nil {
			return x.errResult(results, err)
		}
		v := wasmtime.Val{Kind: wasmtime.CU64, Num: uint64(len(r.Payload.Bytes))}
		results[0] = okResult(&v)
		return nil
	}
}

var ioStreams = Interface{
	"[method]input-stream.read":                             readStream(false),
	"[method]input-stream.blocking-read":                    readStream(true),
	"[method]input-stream.skip":                             skipStream(false),
	"[method]input-stream.blocking-skip":                    skipStream(true),
	"[method]input-stream.subscribe":                        subscribeTo(tyInputStream),
	"[method]output-stream.check-write":                     checkWrite,
	"[method]output-stream.write":                           writeStream(false, false),
	"[method]output-stream.blocking-write-and-flush":        writeStream(true, false),
	"[method]output-stream.write-zeroes":                    writeStream(false, true),
	"[method]output-stream.blocking-write-zeroes-and-flush": writeStream(true, true),
	"[method]output-stream.flush":                           flushStream,
	"[method]output-stream.blocking-flush":                  flushStream,
	"[method]output-stream.subscribe":                       subscribeTo(tyOutputStream),
	"[method]output-stream.splice":                          spliceStream(false),
	"[method]output-stream.blocking-splice":                 spliceStream(true),
}

var ioError = Interface{
	"[method]error.to-debug-string": func(x *Call, args, results []wasmtime.Val) error {
		v, _, err := x.Borrow(args[0], tyError)
		if err != nil {
			return err
		}
		results[0] = wasmtime.Str(v.(error).Error())
		return nil
	},
}

func pollablesOf(x *Call, list wasmtime.Val) ([]Pollable, error) {
	ps := make([]Pollable, len(list.Elems))
	for i, v := range list.Elems {
		p, _, err := x.Borrow(v, tyPollable)
		if err != nil {
			return nil, err
		}
		ps[i] = p.(Pollable)
	}
	return ps, nil
}

var ioPoll = Interface{
	"poll": func(x *Call, args, results []wasmtime.Val) error {
		ps, err := pollablesOf(x, args[0])
		if err != nil {
			return err
		}
		idx, err := x.Wait(ps)
		if err != nil {
			return err
		}
		out := make([]wasmtime.Val, len(idx))
		for i, n := range idx {
			out[i] = wasmtime.U32(n)
		}
		results[0] = wasmtime.Val{Kind: wasmtime.CList, Elems: out}
		return nil
	},
	"[method]pollable.ready": func(x *Call, args, results []wasmtime.Val) error {
		v, _, err := x.Borrow(args[0], tyPollable)
		if err != nil {
			return err
		}
		ready := false
		select {
		case <-v.(Pollable).Ready():
			ready = true
		default:
		}
		results[0] = wasmtime.Val{Kind: wasmtime.CBool, Num: b2n(ready)}
		return nil
	},
	"[method]pollable.block": func(x *Call, args, results []wasmtime.Val) error {
		v, _, err := x.Borrow(args[0], tyPollable)
		if err != nil {
			return err
		}
		_, err = x.Wait([]Pollable{v.(Pollable)})
		return err
	},
}

// pollRef is a pollable derived from another resource (a stream): it
// waits on it but does not own it (dropping it closes nothing).
type pollRef struct{ p Pollable }

func (r pollRef) Ready() <-chan struct{} { return r.p.Ready() }

func b2n(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
