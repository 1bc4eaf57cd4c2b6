package wasi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"time"

	"github.com/redspin/redspin/internal/wasmtime"
)

// Mount is a host directory the guest sees, read-only, at GuestDir.
type Mount struct {
	HostDir, GuestDir string
}

// Config is what one store's WASI world is made of.
type Config struct {
	// Env is the guest's whole environment, as name/value pairs in the
	// order get-environment returns them. nil = empty.
	Env [][2]string
	// Mounts are the preopened directories, read-only. nil = none.
	Mounts []Mount
	// Stdout and Stderr receive what the guest writes, one Write per
	// write call. nil = discarded.
	Stdout, Stderr io.Writer
	// Context bounds every blocking call (wasi:io/poll, blocking reads):
	// when it is done the guest is interrupted with its error. nil =
	// context.Background().
	Context context.Context
	// Deadline, when not zero, also ends blocking calls: the guest is then
	// interrupted with DeadlineErr (nil = context.DeadlineExceeded).
	Deadline    time.Time
	DeadlineErr error
}

// Ctx is the WASI state of one store: its configuration, its open mounts
// and its resource table. Host functions reach it through the store's data
// (Attach). Not safe for concurrent use (a store runs one call at a time).
type Ctx struct {
	cfg   Config
	roots []*os.Root
	res   table
	// start is the monotonic clock's zero.
	start time.Time
	// call is what host functions get (hostFunc), reused from one host
	// call to the next: a store runs one at a time.
	call   Call
	inCall bool
}

// NewCtx returns the WASI state for one store. Close it once the store is
// gone.
func NewCtx(cfg Config) (*Ctx, error) {
	if cfg.Context == nil {
		cfg.Context = context.Background()
	}
	if cfg.DeadlineErr == nil {
		cfg.DeadlineErr = context.DeadlineExceeded
	}
	c := &Ctx{cfg: cfg, start: time.Now()}
	for _, m := range cfg.Mounts {
		r, err := os.OpenRoot(m.HostDir)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("files: mount %s: %w", m.GuestDir, err)
		}
		c.roots = append(c.roots, r)
	}
	return c, nil
}

// Attach makes c the WASI state of store s (before instantiating).
func (c *Ctx) Attach(s *wasmtime.Store) { s.SetValue(ctxKey{}, c) }

// Context returns the context that bounds the store's blocking calls
// (Config.Context): a host interface sharing this WASI (wasi:http) bounds
// its own I/O with it.
func (c *Ctx) Context() context.Context { return c.cfg.Context }

// Close closes every resource still open and the mounts. Idempotent.
func (c *Ctx) Close() error {
	c.res.closeAll()
	for _, r := range c.roots {
		r.Close()
	}
	c.roots = nil
	return nil
}

// Call is what a WASI host function sees: the store's Ctx and the caller
// (to turn resource handles into values and back). Valid during the host
// call only (the store reuses it for its next call).
type Call struct {
	*Ctx
	c caller
}

// caller is what a Call needs of *wasmtime.ComponentCaller (an interface
// so that the functions can be tested without a store).
type caller interface {
	Data() any
	FromHost(owned bool, rep, ty uint32) (wasmtime.Val, error)
	ToHost(r *wasmtime.Resource) (rep, ty uint32, owned bool, err error)
	Interrupt(cause error) error
}

// Data returns the store's data (wasmtime.Store.SetData): the state of
// the host's other interfaces for this message, e.g. the Spin interfaces'
// per-message instance.
func (x *Call) Data() any { return x.c.Data() }

// Func implements one function of a WASI interface: args lifted, results
// to fill. An error traps the guest.
type Func func(x *Call, args, results []wasmtime.Val) error

// Push adds v to the store's table as a new resource of type ty (see
// TypeOf) and returns the owned handle to give the guest. parent, when not
// zero, is the rep of the resource v is derived from: it cannot be dropped
// while v is alive. A v that is an io.Closer is closed when the guest drops
// it or the store ends.
func (x *Call) Push(ty uint32, v any, parent uint32) (wasmtime.Val, error) {
	rep, err := x.res.push(ty, v, parent)
	if err != nil {
		return wasmtime.Val{}, err
	}
	return x.c.FromHost(true, rep, ty)
}

// Borrow returns the value and rep of resource argument v of type ty
// (borrowed or owned; an owned one stays in the table: use Take).
func (x *Call) Borrow(v wasmtime.Val, ty uint32) (any, uint32, error) {
	if v.Kind != wasmtime.CResource || v.Resource == nil {
		return nil, 0, fmt.Errorf("expected a %s handle", typeName(ty))
	}
	defer v.Resource.Close()
	rep, got, _, err := x.c.ToHost(v.Resource)
	if err != nil {
		return nil, 0, err
	}
	if got != ty {
		return nil, 0, fmt.Errorf("expected a %s handle, got %s", typeName(ty), typeName(got))
	}
	e, err := x.res.get(rep, ty)
	if err != nil {
		return nil, 0, err
	}
	return e.v, rep, nil
}

// Take is Borrow for an owned argument: the resource leaves the table
// (the host now owns its value and does not close it).
func (x *Call) Take(v wasmtime.Val, ty uint32) (any, error) {
	val, rep, err := x.Borrow(v, ty)
	if err != nil {
		return nil, err
	}
	if _, err := x.res.take(rep, ty, "passed on"); err != nil {
		return nil, err
	}
	return val, nil
}

// errEmptyPoll traps a poll of no pollables (the WIT forbids it).
var errEmptyPoll = errors.New("wasi:io/poll.poll: empty list of pollables")

// Wait blocks until at least one of ps is ready and returns their
// indexes, or until the store's context is done or its deadline passes:
// then it returns the error to trap with (the message's interruption,
// which Handle reports as a timeout or cancellation). ps must not be
// empty.
func (x *Call) Wait(ps []Pollable) ([]uint32, error) {
	if len(ps) == 0 {
		return nil, errEmptyPoll
	}
	chans := make([]<-chan struct{}, len(ps))
	ready := func() []uint32 {
		var out []uint32
		for i, ch := range chans {
			select {
			case <-ch:
				out = append(out, uint32(i))
			default:
			}
		}
		return out
	}
	for i, p := range ps {
		chans[i] = p.Ready()
	}
	if r := ready(); len(r) > 0 {
		return r, nil
	}
	cases := make([]reflect.SelectCase, 0, len(ps)+2)
	for _, ch := range chans {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)})
	}
	ctx := x.cfg.Context
	cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())})
	if !x.cfg.Deadline.IsZero() {
		t := time.NewTimer(time.Until(x.cfg.Deadline))
		defer t.Stop()
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(t.C)})
	}
	i, _, _ := reflect.Select(cases)
	switch {
	case i < len(ps):
		return ready(), nil
	case i == len(ps):
		return nil, x.c.Interrupt(ctx.Err())
	default:
		return nil, x.c.Interrupt(x.cfg.DeadlineErr)
	}
}

// Pollable is something a guest can wait for with wasi:io/poll.
type Pollable interface {
	// Ready returns a channel that is closed once the event has happened
	// (and stays closed). It may be called several times.
	Ready() <-chan struct{}
}

// ChanPollable is a Pollable ready once its channel is closed (e.g. a
// future's completion).
type ChanPollable <-chan struct{}

// Ready returns the channel.
func (p ChanPollable) Ready() <-chan struct{} { return p }

// NewChanPollable returns a Pollable ready once done is closed.
func NewChanPollable(done <-chan struct{}) Pollable { return ChanPollable(done) }

// closedChan is always ready.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// readyPollable is always ready (stdout, files, empty stdin).
type readyPollable struct{}

func (readyPollable) Ready() <-chan struct{} { return closedChan }
