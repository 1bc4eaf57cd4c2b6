package host

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/redspin/redspin/internal/wasmtime"
)

// Handle runs payload through component componentID in a fresh instance.
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
	if g.info.Export == "" {
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
	if err := h.checkPayload(g, len(payload)); err != nil {
		return fmt.Errorf("component %q: %w", componentID, err)
	}
	defer h.started()()
	if err := h.run(ctx, dl, g, payload); err != nil {
		return fmt.Errorf("component %q: %w", componentID, err)
	}
	return nil
}

// checkPayload refuses a payload over the cap of g's shape.
func (h *Host) checkPayload(g *guest, n int) error {
	if g.clinker != nil {
		return h.checkComponentPayload(n)
	}
	if n > maxModulePayload {
		return fmt.Errorf("%w: %d bytes exceeds the core-module payload limit of %s", ErrPayloadTooLarge, n, formatBytes(maxModulePayload))
	}
	return nil
}

// run handles one message in a fresh store.
func (h *Host) run(ctx context.Context, dl msgDeadline, g *guest, payload []byte) error {
	lower := 0
	if g.clinker != nil {
		lower = len(payload)
	}
	return h.inStore(ctx, dl, g, lower, func(s *wasmtime.Store, lowered func(), ph *phaseClock) error {
		if g.clinker != nil {
			return h.callComponent(s, g, payload, lowered, ph)
		}
		return h.callModule(s, g, payload, ph)
	})
}

// inStore runs call in a fresh store for g, the one way every export is
// called. A component call that lowers lower bytes of payload first takes
// them from the payload budget; call gives them back (lowered) as soon as
// the guest has returned, and they are given back at the latest when
// inStore returns.
func (h *Host) inStore(ctx context.Context, dl msgDeadline, g *guest, lower int,
	call func(s *wasmtime.Store, lowered func(), ph *phaseClock) error) error {
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
	s, flush, end, err := h.newStore(ctx, dl, g)
	if err != nil {
		return err
	}
	defer ph.done(h.phases)
	defer end()
	// Output is flushed once the store is gone, when the guest can no longer
	// write.
	defer flush()
	defer s.Close()
	return call(s, lowered, &ph)
}

// newStore makes the per-message store: host-interface data, limits,
// deadline and WASI. flush writes buffered guest output (call it when the
// guest has returned); end ends the host-interface data (call it after the
// store is closed).
func (h *Host) newStore(ctx context.Context, dl msgDeadline, g *guest) (_ *wasmtime.Store, flush, end func(), err error) {
	var storeDone func()
	s := wasmtime.NewStore(h.engine)
	if g.imports != nil {
		// Host calls (outbound HTTP, Redis, key-value) end at the message's
		// deadline too: the epoch deadline stops only guest code.
		sctx, cancel := ctx, context.CancelFunc(func() {})
		if !dl.at.IsZero() {
			sctx, cancel = context.WithDeadlineCause(ctx, dl.at, dl.cause)
		}
		data, done := g.imports.NewStoreData(sctx)
		s.SetData(data)
		storeDone = func() {
			if done != nil {
				done()
			}
			cancel()
		}
		defer func() {
			if err != nil {
				storeDone()
			}
		}()
	}
	if h.opts.MaxInstanceMemory > 0 {
		s.SetLimits(int64(h.opts.MaxInstanceMemory), -1, -1, -1, -1)
	}
	h.armDeadline(ctx, dl, s)
	flush = func() {}
	if g.wasi {
		w := wasmtime.NewWASIConfig()
		if err := w.SetEnv(g.env[0], g.env[1]); err != nil {
			w.Close()
			s.Close()
			return nil, nil, nil, err
		}
		for _, m := range g.mount {
			if err := w.PreopenDir(m.HostDir, m.GuestDir, false); err != nil {
				w.Close()
				s.Close()
				return nil, nil, nil, err
			}
		}
		// A stream that goes nowhere stays unset, so Wasmtime discards it;
		// a kept one goes through a pipe (or a callback, see Options).
		var out, errOut stdioOut
		out.set(h.pipes, w, g.stdout, (*wasmtime.WASIConfig).SetStdout, (*wasmtime.WASIConfig).SetStdoutFile)
		errOut.set(h.pipes, w, g.stderr, (*wasmtime.WASIConfig).SetStderr, (*wasmtime.WASIConfig).SetStderrFile)
		flush = func() {
			out.finish()
			errOut.finish()
		}
		if err := s.SetWASI(w); err != nil {
			s.Close()
			flush()
			return nil, nil, nil, fmt.Errorf("WASI: %w", err)
		}
	}
	end = func() {}
	if storeDone != nil {
		end = storeDone
	}
	return s, flush, end, nil
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

// callComponent instantiates g and calls its handler; lowered is called as
// soon as the call has returned (the payload's lowered copies are freed).
func (h *Host) callComponent(s *wasmtime.Store, g *guest, payload []byte, lowered func(), ph *phaseClock) error {
	inst, err := g.clinker.Instantiate(s, g.art.comp)
	if err != nil {
		return h.describe("instantiate", err, nil)
	}
	f, ok := inst.Func(g.fn)
	if !ok {
		return fmt.Errorf("%s#%s is not a function", exportInboundRedis, funcHandleMessage)
	}
	ph.instantiated(h.phases)
	start := time.Now()
	ok, errCase, err := f.CallBytesResult(payload)
	lowered()
	h.observeLowering(len(payload), time.Since(start))
	ph.called(h.phases)
	if err != nil {
		return h.describe("handle-message", err, nil)
	}
	return handlerResult(ok, errCase)
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

func (h *Host) callModule(s *wasmtime.Store, g *guest, payload []byte, ph *phaseClock) error {
	inst, err := g.pre.Instantiate(s)
	if err != nil {
		return h.describe("instantiate", err, nil)
	}
	ph.instantiated(h.phases)
	defer ph.called(h.phases)
	mem, ok := inst.Memory(exportMemory)
	if !ok {
		return fmt.Errorf("%s is not a memory", exportMemory)
	}
	if g.hasInit {
		f, ok := inst.Func(exportInitialize)
		if !ok {
			return fmt.Errorf("%s is not a function", exportInitialize)
		}
		if _, err := f.CallI32(0); err != nil {
			return h.describe(exportInitialize, err, &mem)
		}
	}
	realloc, ok := inst.Func(g.realloc)
	if !ok {
		return fmt.Errorf("%s is not a function", g.realloc)
	}
	handler, ok := inst.Func(g.handler)
	if !ok {
		return fmt.Errorf("%s is not a function", g.handler)
	}
	r, err := realloc.CallI32(1, 0, 0, 1, int32(len(payload)))
	if err != nil {
		return h.describe(g.realloc, err, &mem)
	}
	ptr := uint32(r[0])
	data := mem.Data()
	if uint64(ptr)+uint64(len(payload)) > uint64(len(data)) {
		return fmt.Errorf("%s returned %d, outside memory (%d bytes) for a %d-byte payload", g.realloc, ptr, len(data), len(payload))
	}
	copy(data[ptr:], payload)
	r, err = handler.CallI32(1, int32(ptr), int32(len(payload)))
	if err != nil {
		return h.describe(g.handler, err, &mem)
	}
	ret := uint32(r[0])
	data = mem.Data() // memory may have grown
	if uint64(ret)+2 > uint64(len(data)) {
		return fmt.Errorf("%s returned %d, outside memory", g.handler, ret)
	}
	tag, errCase := data[ret], data[ret+1]
	if g.post != "" {
		if post, ok := inst.Func(g.post); ok {
			if _, err := post.CallI32(0, int32(ret)); err != nil {
				return h.describe(g.post, err, &mem)
			}
		}
	}
	switch {
	case tag == 0:
		return nil
	case tag == 1 && errCase == 0:
		return nil // err(success)
	case tag == 1 && errCase == 1:
		return ErrHandlerFailed
	}
	return fmt.Errorf("%s returned an invalid result (tag %d, case %d)", g.handler, tag, errCase)
}

// phaseTimes accumulates per-message time by phase (benchmarks only; nil
// in normal use). Not safe for concurrent messages.
type phaseTimes struct {
	instantiate, call, teardown time.Duration
	n                           int
}

// phaseClock times one message: store+WASI+instantiate, call (for modules
// also _initialize, realloc, post-return), and teardown (flush + store
// drop). It adds the events "instantiated" and "called" to span, the
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
