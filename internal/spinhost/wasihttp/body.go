package wasihttp

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/redspin/redspin/internal/spinhost/outhttp"
	"github.com/redspin/redspin/internal/wasi"
	"github.com/redspin/redspin/internal/wasmtime"
)

// pipeCap is how much of a request body the host holds: the guest's
// output-stream accepts this much before the server has taken it.
const pipeCap = 64 << 10

// outBody is an outgoing-body: the guest writes into a bounded pipe that
// the HTTP client reads as the request body.
type outBody struct {
	mu       sync.Mutex
	cond     *sync.Cond
	buf      []byte
	written  int64
	declared int64 // the request's content-length; -1 = none
	finished bool
	err      error         // the body was abandoned (guest drop, reader gone)
	space    chan struct{} // closed when the writer may write again; nil = not waiting
	trailers http.Header   // set by finish
	// reqTrailer is the request's Trailer map, filled in before EOF.
	reqTrailer http.Header
	streamOut  bool // write() was called
}

var (
	errBodyDropped  = errors.New("the outgoing-body was dropped without outgoing-body.finish")
	errBodyUnread   = errors.New("the request body is no longer read (the request ended)")
	errBodyFinished = errors.New("the outgoing-body is finished")
)

// newOutBody returns a body that must hold exactly declared bytes (the
// request's content-length), or any number when declared is -1.
func newOutBody(declared int64) *outBody {
	b := &outBody{declared: declared}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// bodySizeError is a body that does not hold the bytes its content-length
// declares: HTTP-request-body-size with the bytes written, as Wasmtime's
// wasi-http reports it.
type bodySizeError struct{ written, declared int64 }

func (e bodySizeError) Error() string {
	return fmt.Sprintf("%d body bytes written where content-length declares %d", e.written, e.declared)
}

// sizeErr fails the body (mu held): the request is not sent with a body
// its content-length misstates.
func (b *outBody) sizeErr() error {
	b.err = &outhttp.Error{Code: outhttp.HTTPRequestBodySize, Err: bodySizeError{b.written, b.declared}}
	b.cond.Broadcast()
	b.wakeWriter()
	return b.err
}

// wakeWriter closes the space channel (mu held).
func (b *outBody) wakeWriter() {
	if b.space != nil {
		close(b.space)
		b.space = nil
	}
}

// CheckWrite implements wasi.OutputStream.
func (b *outBody) CheckWrite() (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return 0, b.err
	}
	return max(pipeCap-len(b.buf), 0), nil
}

// Write implements wasi.OutputStream.
func (b *outBody) Write(p []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return b.err
	}
	if b.finished {
		return errBodyFinished
	}
	if b.declared >= 0 && b.written+int64(len(p)) > b.declared {
		b.written += int64(len(p))
		return b.sizeErr()
	}
	b.buf = append(b.buf, p...)
	b.written += int64(len(p))
	b.cond.Broadcast()
	return nil
}

// Flush implements wasi.OutputStream: the HTTP client takes what was
// written as it can.
func (b *outBody) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// Ready implements wasi.Pollable: ready when there is room or the body
// failed.
func (b *outBody) Ready() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil || len(b.buf) < pipeCap {
		return closed
	}
	if b.space == nil {
		b.space = make(chan struct{})
	}
	return b.space
}

// finish ends the body with trailers (nil = none).
func (b *outBody) finish(trailers http.Header) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return b.err
	}
	if b.declared >= 0 && b.written != b.declared {
		return b.sizeErr()
	}
	b.finished = true
	b.trailers = trailers
	b.cond.Broadcast()
	return nil
}

// abort fails the body (reader and writer) with err unless it is
// finished.
func (b *outBody) abort(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err == nil && !b.finished {
		b.err = err
	}
	b.cond.Broadcast()
	b.wakeWriter()
}

// Close is the guest dropping the outgoing-body.
func (b *outBody) Close() error {
	b.abort(errBodyDropped)
	return nil
}

// bodyReader is the HTTP client's side of an outBody.
type bodyReader struct{ b *outBody }

func (r bodyReader) Read(p []byte) (int, error) {
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.buf) == 0 && !b.finished && b.err == nil {
		b.cond.Wait()
	}
	if len(b.buf) > 0 {
		n := copy(p, b.buf)
		b.buf = b.buf[n:]
		if len(b.buf) == 0 {
			b.buf = nil
		}
		b.wakeWriter()
		return n, nil
	}
	if b.err != nil {
		if se := (bodySizeError{}); errors.As(b.err, &se) {
			// The request is aborted, as Wasmtime aborts a body that
			// misstates its length: the response is HTTP-protocol-error.
			return 0, &outhttp.Error{Code: outhttp.HTTPProtocolError, Msg: "request body aborted", Err: se}
		}
		return 0, b.err
	}
	for k, v := range b.trailers {
		b.reqTrailer[k] = v
	}
	return 0, io.EOF
}

func (r bodyReader) Close() error {
	r.b.abort(errBodyUnread)
	return nil
}

// closed is a closed channel: always ready.
var closed = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// outBodyWriter is the output-stream of an outgoing-body (dropping it
// closes nothing: the body continues until finish).
type outBodyWriter struct{ *outBody }

// Close hides outBody's Close: dropping the stream is not dropping the
// body.
func (outBodyWriter) Close() error { return nil }

var outBodyFuncs = map[string]wasi.Func{
	"[method]outgoing-body.write": func(x *wasi.Call, args, results []wasmtime.Val) error {
		v, rep, err := x.Borrow(args[0], tyOutBody)
		if err != nil {
			return err
		}
		b := v.(*outBody)
		if b.streamOut {
			results[0] = wasmtime.ErrVal(nil)
			return nil
		}
		b.streamOut = true
		s, err := x.Push(tyOutputStream, wasi.OutputStream(outBodyWriter{b}), rep)
		results[0] = wasmtime.OkVal(&s)
		return err
	},
	"[static]outgoing-body.finish": func(x *wasi.Call, args, results []wasmtime.Val) error {
		v, err := x.Take(args[0], tyOutBody)
		if err != nil {
			return err
		}
		b := v.(*outBody)
		var trailers http.Header
		if t := args[1]; t.Payload != nil {
			f, err := x.Take(*t.Payload, tyFields)
			if err != nil {
				return err
			}
			trailers = f.(*fields).header()
		}
		if err := b.finish(trailers); err != nil {
			e := lowerError(err)
			results[0] = wasmtime.ErrVal(&e)
			return nil
		}
		results[0] = okUnit()
		return nil
	},
}
