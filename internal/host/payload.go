package host

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/semaphore"
)

// Component payloads are expensive to pass in: Wasmtime's C API lowers a
// list<u8> from one 32-byte wasmtime_component_val_t per byte, which
// Wasmtime copies into its own vector of values before writing the bytes
// into guest memory. Both vectors live until the call returns. Measured by
// BenchmarkComponentPayload (see RATIONALE.md, "Component payloads"):
// lowerBytesPerByte bytes of transient memory per payload byte, and at
// about lowerPerMiB of CPU per MiB.
const (
	// DefaultMaxComponentPayload is Options.MaxComponentPayload's default:
	// one such message costs ~600 MB of transient memory and ~0.8 s.
	DefaultMaxComponentPayload = 8 << 20
	// DefaultComponentPayloadBudget is Options.ComponentPayloadBudget's
	// default: lowerBytesPerByte × the budget ≈ 890 MiB of transient
	// memory, under 1 GiB with room for the payloads' other copies.
	DefaultComponentPayloadBudget = 12 << 20
	// maxModulePayload caps core-module payloads, which are copied straight
	// into guest memory (1 byte per byte): Redis's own bulk-string limit
	// (proto-max-bulk-len's default), and below the 2 GiB that an i32
	// length can carry.
	maxModulePayload = 512 << 20
	// lowerBytesPerByte is the measured peak transient memory per payload
	// byte of lowering a list<u8> into a component (72-74).
	lowerBytesPerByte = 74
	// lowerPerMiB is the time lowering one MiB is first assumed to take (the
	// CPU time it took here, ~100 ms, less a margin for faster machines);
	// each big component message then corrects the estimate
	// (observeLowering). A message whose payload needs more than the time
	// it has left fails at once instead of overrunning its deadline.
	lowerPerMiB = 80 * time.Millisecond
	// lowerObserveMin is the smallest payload whose call time updates the
	// estimate (below it, instantiation and the guest dominate).
	lowerObserveMin = 256 << 10
)

// Flag names, used in errors so that an operator knows what to change.
const (
	flagMaxComponentPayload    = "--max-component-payload"
	flagComponentPayloadBudget = "--component-payload-budget"
	flagHandlerTimeout         = "--handler-timeout"
)

// msgDeadline is when a message must end (zero: no deadline) and the error
// it then ends with.
type msgDeadline struct {
	at    time.Time
	cause error
}

// deadlineOf returns the deadline of a message starting now: the earlier
// of HandlerTimeout and ctx's deadline.
func (h *Host) deadlineOf(ctx context.Context) msgDeadline {
	var d msgDeadline
	if t := h.opts.HandlerTimeout; t > 0 {
		d = msgDeadline{time.Now().Add(t), timeoutError{t}}
	}
	if at, ok := ctx.Deadline(); ok && (d.at.IsZero() || at.Before(d.at)) {
		d = msgDeadline{at, context.DeadlineExceeded}
	}
	return d
}

// lowerTime is the time lowering n payload bytes into a component is
// expected to take.
func (h *Host) lowerTime(n int) time.Duration {
	return time.Duration(int64(n) / 1024 * h.lowerRate.Load() / 1024)
}

// observeLowering updates the lowering estimate with a component call of
// n payload bytes that took d (the guest's own work included, which only
// makes the estimate safer). The estimate moves a quarter of the way to
// each observation, within [lowerPerMiB/8, 8 × lowerPerMiB].
func (h *Host) observeLowering(n int, d time.Duration) {
	if n < lowerObserveMin {
		return
	}
	obs := int64(d) * (1 << 20) / int64(n)
	obs = min(max(obs, int64(lowerPerMiB/8)), int64(8*lowerPerMiB))
	for {
		cur := h.lowerRate.Load()
		if h.lowerRate.CompareAndSwap(cur, cur+(obs-cur)/4) {
			return
		}
	}
}

// payloadBudget bounds the payload bytes being lowered into components at
// once, across every component of a Host (one Host serves a process).
type payloadBudget struct {
	sem  *semaphore.Weighted // nil: no budget
	size int64
}

func newPayloadBudget(size int64) payloadBudget {
	if size <= 0 {
		return payloadBudget{}
	}
	return payloadBudget{sem: semaphore.NewWeighted(size), size: size}
}

// checkComponentPayload refuses a component payload over the cap.
// MaxPayload is the longest payload, in bytes, that Handle accepts for
// componentID: MaxComponentPayload for a component (0 when it is
// unlimited), the core-module limit for a module, 0 for an unknown ID.
func (h *Host) MaxPayload(componentID string) int {
	switch h.guests[componentID].(type) {
	case *componentGuest:
		return max(h.maxPay, 0)
	case *moduleGuest:
		return maxModulePayload
	}
	return 0
}

func (h *Host) checkComponentPayload(n int) error {
	if h.maxPay >= 0 && n > h.maxPay {
		return fmt.Errorf("%w: %d bytes exceeds the component payload limit of %s (raise %s)",
			ErrPayloadTooLarge, n, formatBytes(uint64(h.maxPay)), flagMaxComponentPayload)
	}
	return nil
}

// reserveLowering takes n bytes of the payload budget for lowering a
// component payload, waiting for them at most until the latest moment the
// lowering can still finish before dl. It fails at once when the payload
// cannot be lowered in the time left. release gives the bytes back
// (idempotent).
func (h *Host) reserveLowering(ctx context.Context, dl msgDeadline, n int) (release func(), err error) {
	need := h.lowerTime(n)
	if !dl.at.IsZero() {
		if left := time.Until(dl.at); need > left {
			return nil, fmt.Errorf("%w: a %s payload needs about %s to pass into a component and %s is left (lower %s or raise %s)",
				dl.cause, formatBytes(uint64(n)), need.Round(time.Millisecond), max(left, 0).Round(time.Millisecond),
				flagMaxComponentPayload, flagHandlerTimeout)
		}
	}
	b := h.budget
	if b.sem == nil || n == 0 {
		return func() {}, nil
	}
	if int64(n) > b.size {
		return nil, fmt.Errorf("%w: %d bytes exceeds the component payload budget of %s (raise %s)",
			ErrPayloadTooLarge, n, formatBytes(uint64(b.size)), flagComponentPayloadBudget)
	}
	if !b.sem.TryAcquire(int64(n)) {
		wctx := ctx
		if !dl.at.IsZero() {
			var cancel context.CancelFunc
			wctx, cancel = context.WithDeadline(ctx, dl.at.Add(-need))
			defer cancel()
		}
		start := time.Now()
		if err := b.sem.Acquire(wctx, int64(n)); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			cause := dl.cause
			if cause == nil {
				cause = context.DeadlineExceeded
			}
			return nil, fmt.Errorf("%w: waited %s for %s of the component payload budget (%s %s is in use by other messages)",
				cause, time.Since(start).Round(time.Millisecond), formatBytes(uint64(n)), flagComponentPayloadBudget, formatBytes(uint64(b.size)))
		}
	}
	released := false
	return func() {
		if !released {
			released = true
			b.sem.Release(int64(n))
		}
	}, nil
}

// checkPayloadOptions reports options whose payload cap can never fit the
// budget.
func checkPayloadOptions(maxPay int, budget int64) error {
	if budget > 0 && maxPay >= 0 && int64(maxPay) > budget {
		return fmt.Errorf("%s %s exceeds %s %s: such payloads could never be handled",
			flagMaxComponentPayload, formatBytes(uint64(maxPay)), flagComponentPayloadBudget, formatBytes(uint64(budget)))
	}
	return nil
}
