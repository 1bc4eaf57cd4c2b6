package trigger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// awaitStartup collects the startup outcome of n readers, the same for both trigger types: any failure
// (or a cancellation) cancels the others through cancel, since one server down at startup fails the
// whole run. It returns the failures joined; cancellations are not errors.
func awaitStartup(startup <-chan error, n int, cancel context.CancelFunc) error {
	var errs []error
	for range n {
		err := <-startup
		switch {
		case err == nil:
		case errors.Is(err, errStartupCancelled):
			cancel()
		default:
			errs = append(errs, err)
			cancel()
		}
	}
	return errors.Join(errs...)
}

// lifecycle is the run state both trigger types share: Run may be called once (ran), started once every
// connection is up for the first time, stopping once shutdown began.
type lifecycle struct{ started, stopping, ran atomic.Bool }

// runContexts are the contexts of one Run: readers end with Run's context, handlers outlive it and are
// cancelled only when the shutdown timeout expires (or when Run returns).
type runContexts struct {
	readers, handlers             context.Context
	cancelReaders, cancelHandlers context.CancelFunc
}

// begin opens Run for both trigger types: it refuses a second call (naming the trigger type) and
// derives the run's contexts from ctx. The caller defers end.
func (l *lifecycle) begin(ctx context.Context, what string) (*runContexts, error) {
	if !l.ran.CompareAndSwap(false, true) {
		return nil, fmt.Errorf("%s: Run called twice", what)
	}
	r := &runContexts{}
	r.handlers, r.cancelHandlers = context.WithCancel(context.WithoutCancel(ctx))
	r.readers, r.cancelReaders = context.WithCancel(ctx)
	return r, nil
}

// end cancels both contexts.
func (r *runContexts) end() {
	r.cancelReaders()
	r.cancelHandlers()
}

// startReaders starts n readers (run(i, startup) each reports its startup outcome once) and waits for
// their startup. When one fails it waits for all readers to exit and returns the failures; otherwise it
// marks the trigger started, unless Run's context ended meanwhile.
func (l *lifecycle) startReaders(r *runContexts, readers *sync.WaitGroup, n int, run func(i int, startup chan<- error)) error {
	startup := make(chan error, n)
	for i := range n {
		readers.Go(func() { run(i, startup) })
	}
	if err := awaitStartup(startup, n, r.cancelReaders); err != nil {
		readers.Wait()
		return err
	}
	if r.readers.Err() == nil {
		l.started.Store(true)
	}
	return nil
}

// Ready reports whether the trigger has started (every channel subscribed, every stream group created
// and read); it turns false again when shutdown begins.
func (l *lifecycle) Ready() bool { return l.started.Load() && !l.stopping.Load() }

// healthy is true while stopping (draining is healthy), else when every connection is up.
func healthy[T any](l *lifecycle, conns []T, up func(T) bool) bool {
	if l.stopping.Load() {
		return true
	}
	for _, c := range conns {
		if !up(c) {
			return false
		}
	}
	return true
}

// connState is a connection's state as Status reports it, for both trigger types.
type connState struct {
	state      atomic.Int32
	reconnects atomic.Uint64
	lastErr    atomic.Pointer[string] // redacted; nil while connected
}

// lastError is the last connection error's text, "" when none.
func (c *connState) lastError() string {
	if e := c.lastErr.Load(); e != nil {
		return *e
	}
	return ""
}

// drain is the shutdown wait both trigger types share. It waits until done is closed, at most timeout
// (not at all when timeout is negative); then it cancels the handlers (cancel) and waits grace more for
// them to return. onTime reports whether every handler finished before the timeout. When some ignored
// the cancellation too, drain logs them by name (running) and returns an error wrapping
// ErrHandlersAbandoned: the caller then owns handlers that may still use what it would free.
func drain(log *slog.Logger, done <-chan struct{}, timeout, grace time.Duration, cancel context.CancelFunc,
	running func() string) (onTime bool, err error) {
	if wait(done, timeout) {
		return true, nil
	}
	log.Warn("shutdown timeout: cancelling handlers still running", "timeout", timeout.String(),
		"handlers", running())
	cancel()
	if wait(done, grace) {
		return false, nil
	}
	names := running()
	log.Error("handlers ignored cancellation; exiting without them", "grace", grace.String(), "handlers", names)
	return false, fmt.Errorf("shutdown: %w: %s", ErrHandlersAbandoned, names)
}
