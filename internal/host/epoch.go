package host

import (
	"context"
	"fmt"
	"time"

	"github.com/redspin/redspin/internal/wasmtime"
)

// ticker advances the engine's epoch every tick while a message is in
// flight, and sleeps while none is (an idle host costs no CPU). Pausing is
// safe because deadlines are wall-clock times: a store sets its epoch
// deadline when its message starts, and the deadline callback compares the
// clock, not the tick count.
func (h *Host) ticker() {
	defer h.tickWG.Done()
	t := time.NewTicker(h.tick)
	defer t.Stop()
	for {
		if h.running.Load() == 0 {
			t.Stop()
			select {
			case <-h.stop:
				return
			case <-h.wake:
			}
			t.Reset(h.tick)
			continue
		}
		select {
		case <-h.stop:
			return
		case <-t.C:
			h.engine.IncrementEpoch()
		}
	}
}

// started records a message in flight, waking the ticker for the first;
// the returned function records its end.
func (h *Host) started() (done func()) {
	if h.running.Add(1) == 1 {
		select {
		case h.wake <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
	return func() { h.running.Add(-1) }
}

// timeoutError is the cause of an interruption by HandlerTimeout.
type timeoutError struct{ d time.Duration }

func (e timeoutError) Error() string { return fmt.Sprintf("handler timed out after %s", e.d) }
func (e timeoutError) Unwrap() error { return context.DeadlineExceeded }
func (e timeoutError) Timeout() bool { return true }

// armDeadline sets the store's epoch deadline from the message's deadline
// dl (see deadlineOf). Reaching it runs a callback that stops the guest
// once the deadline has passed or ctx is done, and otherwise extends it.
func (h *Host) armDeadline(ctx context.Context, dl msgDeadline, s *wasmtime.Store) {
	deadline, cause := dl.at, dl.cause
	if h.tick < 0 || deadline.IsZero() && ctx.Done() == nil {
		s.SetEpochDeadline(1 << 62)
		return
	}
	ticks := func() uint64 {
		if deadline.IsZero() {
			return maxTicksPerDeadline
		}
		n := uint64(time.Until(deadline)/h.tick) + 1
		return min(n, maxTicksPerDeadline)
	}
	s.SetEpochDeadline(ticks())
	s.SetDeadlineCallback(func() (uint64, error) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return 0, cause
		}
		return ticks(), nil
	})
}
