package trigger

import (
	"context"
	"errors"
	"log/slog"
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

// cancelGrace is how long drain waits for handlers after cancelling them.
const cancelGrace = 5 * time.Second

// drain is the shutdown wait both trigger types share: it waits until done is closed, at most timeout;
// then it cancels the handlers (cancel) and waits cancelGrace more for them to return. It reports whether
// every handler finished before the timeout.
func drain(log *slog.Logger, done <-chan struct{}, timeout time.Duration, cancel context.CancelFunc) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-done:
		return true
	case <-timer.C:
	}
	log.Warn("shutdown timeout: cancelling handlers still running", "timeout", timeout.String())
	cancel()
	grace := time.NewTimer(cancelGrace)
	defer grace.Stop()
	select {
	case <-done:
	case <-grace.C:
		log.Error("handlers ignored cancellation; exiting without them")
	}
	return false
}
