package wasihttp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/redspin/redspin/internal/spinhost/outhttp"
	"github.com/redspin/redspin/internal/wasi"
	"github.com/redspin/redspin/internal/wasmtime"
)

// future is a future-incoming-response: the request runs in a goroutine
// of its own until its response headers arrive.
type future struct {
	done   chan struct{}
	cancel context.CancelCauseFunc

	mu      sync.Mutex
	resp    *outhttp.Response
	err     error
	taken   bool
	dropped bool
}

var errFutureDropped = errors.New("the guest dropped the future-incoming-response")

// send starts req on inst.
func send(ctx context.Context, inst *outhttp.Instance, req *outhttp.Request, opts outhttp.Options) *future {
	ctx, cancel := context.WithCancelCause(ctx)
	f := &future{done: make(chan struct{}), cancel: cancel}
	go func() {
		resp, err := inst.Send(ctx, req, opts)
		f.mu.Lock()
		f.resp, f.err = resp, err
		dropped := f.dropped
		f.mu.Unlock()
		close(f.done)
		if dropped && resp != nil {
			resp.Body.Close()
		}
	}()
	return f
}

// Ready implements wasi.Pollable.
func (f *future) Ready() <-chan struct{} { return f.done }

// Close cancels the request unless its response was taken.
func (f *future) Close() error {
	f.mu.Lock()
	f.dropped = true
	resp, taken := f.resp, f.taken
	f.mu.Unlock()
	if !taken {
		f.cancel(errFutureDropped)
		if resp != nil {
			resp.Body.Close()
		}
	}
	return nil
}

// inResponse is an incoming-response.
type inResponse struct {
	resp     *outhttp.Response
	consumed bool
}

// Close closes the body unless it was consumed.
func (r *inResponse) Close() error {
	if !r.consumed {
		r.resp.Body.Close()
	}
	return nil
}

// inBody is an incoming-body: the response body, read by its stream
// and, after finish, drained for the trailers.
type inBody struct {
	mu       sync.Mutex // serialises reads (the stream's pump, finish's drain)
	resp     *outhttp.Response
	streamed bool
	finished bool
}

// Read reads the body (the stream's side; never closes it).
func (b *inBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.resp.Body.Read(p)
}

// Close is the guest dropping the body without finish.
func (b *inBody) Close() error {
	if !b.finished {
		b.resp.Body.Close()
	}
	return nil
}

// bodySource is what the input-stream reads: inBody without its Close
// (dropping the stream does not end the body).
type bodySource struct{ b *inBody }

func (s bodySource) Read(p []byte) (int, error) { return s.b.Read(p) }

// futureTrailers is a future-trailers.
type futureTrailers struct {
	done     chan struct{}
	trailers http.Header
	err      error
	taken    bool
}

func (f *futureTrailers) Ready() <-chan struct{} { return f.done }

// finishBody drains what the guest left unread, then resolves the
// trailers and closes the body.
func finishBody(b *inBody) *futureTrailers {
	f := &futureTrailers{done: make(chan struct{})}
	go func() {
		defer close(f.done)
		defer b.resp.Body.Close()
		_, err := io.Copy(io.Discard, bodySource{b})
		if err != nil {
			f.err = err
			return
		}
		f.trailers = b.resp.Trailer()
	}()
	return f
}

var responseFuncs = map[string]wasi.Func{
	"[method]future-incoming-response.subscribe": subscribe(tyFuture, func(v any) wasi.Pollable { return v.(*future) }),
	"[method]future-incoming-response.get": func(x *wasi.Call, args, results []wasmtime.Val) error {
		v, _, err := x.Borrow(args[0], tyFuture)
		if err != nil {
			return err
		}
		f := v.(*future)
		select {
		case <-f.done:
		default:
			results[0] = wasmtime.None()
			return nil
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.taken {
			e := wasmtime.ErrVal(nil)
			results[0] = wasmtime.Some(e)
			return nil
		}
		f.taken = true
		var inner wasmtime.Val
		if f.err != nil {
			e := lowerError(f.err)
			inner = wasmtime.ErrVal(&e)
		} else {
			r, err := x.Push(tyInResponse, &inResponse{resp: f.resp}, 0)
			if err != nil {
				f.resp.Body.Close()
				return err
			}
			inner = wasmtime.OkVal(&r)
		}
		results[0] = wasmtime.Some(wasmtime.OkVal(&inner))
		return nil
	},
	"[method]incoming-response.status": func(x *wasi.Call, args, results []wasmtime.Val) error {
		v, _, err := x.Borrow(args[0], tyInResponse)
		if err != nil {
			return err
		}
		results[0] = wasmtime.Val{Kind: wasmtime.CU16, Num: uint64(v.(*inResponse).resp.Status)}
		return nil
	},
	"[method]incoming-response.headers": func(x *wasi.Call, args, results []wasmtime.Val) error {
		v, rep, err := x.Borrow(args[0], tyInResponse)
		if err != nil {
			return err
		}
		h, err := x.Push(tyFields, fieldsOf(v.(*inResponse).resp.Header, true), rep)
		results[0] = h
		return err
	},
	"[method]incoming-response.consume": func(x *wasi.Call, args, results []wasmtime.Val) error {
		v, _, err := x.Borrow(args[0], tyInResponse)
		if err != nil {
			return err
		}
		r := v.(*inResponse)
		if r.consumed {
			results[0] = wasmtime.ErrVal(nil)
			return nil
		}
		r.consumed = true
		b, err := x.Push(tyInBody, &inBody{resp: r.resp}, 0)
		results[0] = wasmtime.OkVal(&b)
		return err
	},
	"[method]incoming-body.stream": func(x *wasi.Call, args, results []wasmtime.Val) error {
		v, rep, err := x.Borrow(args[0], tyInBody)
		if err != nil {
			return err
		}
		b := v.(*inBody)
		if b.streamed {
			results[0] = wasmtime.ErrVal(nil)
			return nil
		}
		b.streamed = true
		s, err := x.Push(tyInputStream, wasi.NewReaderStream(bodySource{b}), rep)
		results[0] = wasmtime.OkVal(&s)
		return err
	},
	"[static]incoming-body.finish": func(x *wasi.Call, args, results []wasmtime.Val) error {
		v, err := x.Take(args[0], tyInBody)
		if err != nil {
			return err
		}
		b := v.(*inBody)
		b.finished = true
		t, err := x.Push(tyTrailers, finishBody(b), 0)
		results[0] = t
		return err
	},
	"[method]future-trailers.subscribe": subscribe(tyTrailers, func(v any) wasi.Pollable { return v.(*futureTrailers) }),
	"[method]future-trailers.get": func(x *wasi.Call, args, results []wasmtime.Val) error {
		v, _, err := x.Borrow(args[0], tyTrailers)
		if err != nil {
			return err
		}
		f := v.(*futureTrailers)
		select {
		case <-f.done:
		default:
			results[0] = wasmtime.None()
			return nil
		}
		if f.taken {
			results[0] = wasmtime.Some(wasmtime.ErrVal(nil))
			return nil
		}
		f.taken = true
		var inner wasmtime.Val
		switch {
		case f.err != nil:
			e := lowerError(f.err)
			inner = wasmtime.ErrVal(&e)
		case len(f.trailers) == 0:
			n := wasmtime.None()
			inner = wasmtime.OkVal(&n)
		default:
			t, err := x.Push(tyFields, fieldsOf(f.trailers, false), 0)
			if err != nil {
				return err
			}
			s := wasmtime.Some(t)
			inner = wasmtime.OkVal(&s)
		}
		results[0] = wasmtime.Some(wasmtime.OkVal(&inner))
		return nil
	},
	"http-error-code": func(x *wasi.Call, args, results []wasmtime.Val) error {
		v, _, err := x.Borrow(args[0], tyError)
		if err != nil {
			return err
		}
		var he *outhttp.Error
		if e, ok := v.(error); ok && errors.As(e, &he) {
			results[0] = wasmtime.Some(lowerError(he))
		} else {
			results[0] = wasmtime.None()
		}
		return nil
	},
}

// subscribe returns a subscribe function: a pollable child of the
// resource, ready when pollable(value) is.
func subscribe(ty uint32, pollable func(any) wasi.Pollable) wasi.Func {
	return func(x *wasi.Call, args, results []wasmtime.Val) error {
		v, rep, err := x.Borrow(args[0], ty)
		if err != nil {
			return err
		}
		p, err := x.Push(tyPollable, wasi.NewChanPollable(pollable(v).Ready()), rep)
		results[0] = p
		return err
	}
}
