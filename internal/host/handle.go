package host

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/redspin/redspin/internal/wasmtime"
)

// Handle runs payload through component componentID in a fresh instance,
// or with Options.Reuse in one of its earlier instances (pool.go).
// It returns nil on ok or err(success); otherwise an error that names the
// component and the cause: ErrHandlerFailed for err(error), a trap
// (errors.Is(err, wasmtime.ErrTrap)), a timeout or cancellation
// (errors.Is(err, context.DeadlineExceeded) / context.Canceled), or
// ErrPayloadTooLarge.
func (h *Host) Handle(ctx context.Context, componentID string, payload []byte) error {
	g, ok := h.guests[componentID]
	if !ok {
		return fmt.Errorf("unknown component %q", componentID)
	}
	if g.base().info.Export == "" {
		return fmt.Errorf("component %q: exports only %s, so only a redis-stream trigger can run it", componentID, exportInboundStream)
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed.Load() {
		return fmt.Errorf("component %q: host is closed", componentID)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("component %q: %w", componentID, err)
	}
	dl := h.deadlineOf(ctx)
	if err := g.checkPayload(h, len(payload)); err != nil {
		return fmt.Errorf("component %q: %w", componentID, err)
	}
	defer h.started()()
	err := h.inInstance(ctx, dl, g, g.lowers(len(payload)), func(in *instance, lowered func(), ph *phaseClock) error {
		return g.handle(h, in, payload, lowered, ph)
	})
	if err != nil {
		return fmt.Errorf("component %q: %w", componentID, err)
	}
	return nil
}

// inInstance runs call in an instance of g, the one way every export is
// called: a new one, or with reuse an idle one from g's pool. The message's
// state (host-interface data, deadline, WASI context and output) is bound
// to the instance's store for the call and ended after it; the instance
// then goes back to the pool, which drops it unless it may serve another
// message. A component call that lowers lower bytes of payload first takes
// them from the payload budget; call gives them back (lowered) as soon as
// the guest has returned, and they are given back at the latest when
// inInstance returns.
func (h *Host) inInstance(ctx context.Context, dl msgDeadline, g guest, lower int,
	call func(in *instance, lowered func(), ph *phaseClock) error) error {
	ph := phaseClock{span: trace.SpanFromContext(ctx)}
	ph.start(h.phases)
	lowered := func() {}
	if lower > 0 {
		var err error
		if lowered, err = h.reserveLowering(ctx, dl, lower); err != nil {
			return err
		}
		defer lowered()
	}
	pool := g.base().pool
	in := pool.get()
	defer ph.done(h.phases)
	// One deferred step ends the message, whatever happened after get:
	// output is ended once the guest has returned and can no longer write;
	// the host-interface data once the store is gone or idle. keep stays
	// false on an error or a panic on the way (recovered by the caller), so
	// that the instance is dropped and neither its store nor a MaxLive slot
	// leaks.
	keep := false
	end := func() {}
	defer func() {
		if in.io != nil {
			in.io.end()
		}
		if !keep {
			in.drop()
		}
		end()
		pool.put(in, keep)
	}()
	if in.s == nil {
		if err := h.newStore(g, in); err != nil {
			return err
		}
	}
	end = h.beginMessage(ctx, dl, g, in)
	err := h.ready(g, in)
	if err == nil {
		ph.instantiated(h.phases)
		err = call(in, lowered, &ph)
	}
	in.uses++
	keep = pool.keeps(in, err)
	return err
}

// newStore gives in a store for g: limits and WASI, no guest yet.
func (h *Host) newStore(g guest, in *instance) error {
	in.s = wasmtime.NewStore(h.engine)
	if h.opts.MaxInstanceMemory > 0 {
		in.s.SetLimits(int64(h.opts.MaxInstanceMemory), -1, -1, -1, -1)
	}
	var err error
	if in.io, err = g.setupStore(h, in.s); err != nil {
		in.s.Close()
		in.s, in.io = nil, nil // io may hold a typed nil
		return err
	}
	return nil
}

// ready instantiates g in in's store unless it already is.
func (h *Host) ready(g guest, in *instance) error {
	if in.ready {
		return nil
	}
	if err := g.instantiate(h, in); err != nil {
		return h.describe("instantiate", err, nil)
	}
	in.ready = true
	return nil
}

// beginMessage binds one message to in's store: the host-interface data,
// the deadline, and the WASI context. end ends the host-interface data
// (call it when the guest has returned and its output is ended).
func (h *Host) beginMessage(ctx context.Context, dl msgDeadline, g guest, in *instance) (end func()) {
	// Host calls (outbound HTTP, Redis, key-value) end at the message's
	// deadline too: the epoch deadline stops only guest code. A guest
	// without host interfaces makes none, so it gets no timer.
	sctx, cancel := ctx, context.CancelFunc(func() {})
	if !dl.at.IsZero() && g.base().hostData {
		sctx, cancel = context.WithDeadlineCause(ctx, dl.at, dl.cause)
	}
	done := g.base().newStoreData(sctx, in)
	h.armDeadline(ctx, dl, in.s)
	in.io.begin(ctx, dl)
	return func() {
		if done != nil {
			if in.s != nil {
				in.s.SetData(nil)
			}
			done()
		}
		cancel()
	}
}

// describe turns a guest failure into the error Handle reports. mem is the
// instance's exported memory when the host can see it (core modules), else
// nil.
func (h *Host) describe(op string, err error, mem *wasmtime.Memory) error {
	if errors.Is(err, wasmtime.TrapInterrupt) {
		var we *wasmtime.Error
		if errors.As(err, &we) && we.Unwrap() != nil {
			return fmt.Errorf("%s: %w", op, we.Unwrap())
		}
		return fmt.Errorf("%s: interrupted: %w", op, err)
	}
	msg := op
	if errors.Is(err, wasmtime.ErrTrap) {
		msg += ": guest trapped"
	}
	if size, ok := h.atMemoryCap(mem); ok {
		return fmt.Errorf("%s: %w (instance memory reached %s of its %s cap)", msg, err,
			formatBytes(size), formatBytes(h.opts.MaxInstanceMemory))
	}
	return fmt.Errorf("%s: %w", msg, err)
}

// atMemoryCap reports whether mem has grown to its cap (within
// memCapSlack of it) and its size. Wasmtime's C API has no resource-limiter
// callback, so a refused memory.grow leaves no trace but the memory's size,
// and a component's memories are not visible at all: for components the
// answer is always false, and the error carries no memory hint.
func (h *Host) atMemoryCap(mem *wasmtime.Memory) (uint64, bool) {
	limit := h.opts.MaxInstanceMemory
	if limit == 0 || mem == nil {
		return 0, false
	}
	size := mem.Size()
	return size, size+max(limit/memCapSlack, 64<<10) > limit
}

// memCapSlack: a memory within 1/memCapSlack of its cap (at least one 64
// KiB page) has hit it; allocators grow in steps (Go's runtime by 4 MiB),
// so the last refused step is rarely exactly the remainder.
const memCapSlack = 8

func formatBytes(n uint64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

func handlerResult(ok bool, errCase string) error {
	if ok || errCase == "success" {
		return nil
	}
	if errCase == "error" {
		return ErrHandlerFailed
	}
	return fmt.Errorf("%w (error case %q)", ErrHandlerFailed, errCase)
}

// phaseTimes accumulates per-message time by phase (benchmarks only; nil
// in normal use). Not safe for concurrent messages.
type phaseTimes struct {
	instantiate, call, teardown time.Duration
	n                           int
}

// phaseClock times one message: store+WASI+instantiate (for modules also
// _initialize; none of it for a reused instance), call (for modules also
// realloc, post-return), and teardown (output end, store drop unless the
// instance is kept). It adds the events "instantiated" and "called" to span, the
// component's span when the message is traced.
type phaseClock struct {
	t0, t1, t2 time.Time
	span       trace.Span
}

func (c *phaseClock) start(p *phaseTimes) {
	if p != nil {
		c.t0 = time.Now()
	}
}

func (c *phaseClock) instantiated(p *phaseTimes) {
	if c.span.IsRecording() {
		c.span.AddEvent("instantiated")
	}
	if p != nil {
		c.t1 = time.Now()
	}
}

func (c *phaseClock) called(p *phaseTimes) {
	if c.span.IsRecording() {
		c.span.AddEvent("called")
	}
	if p != nil {
		c.t2 = time.Now()
	}
}

func (c *phaseClock) done(p *phaseTimes) {
	if p == nil || c.t1.IsZero() || c.t2.IsZero() {
		return
	}
	p.instantiate += c.t1.Sub(c.t0)
	p.call += c.t2.Sub(c.t1)
	p.teardown += time.Since(c.t2)
	p.n++
}
