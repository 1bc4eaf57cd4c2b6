package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redspin/redspin/internal/wasmtime"
)

// Host runs messages through compiled guests. Safe for concurrent use.
type Host struct {
	opts   Options
	engine *wasmtime.Engine
	guests map[string]guest
	arts   map[string]*artifact
	logger *slog.Logger
	stderr io.Writer
	stats  Stats
	stop   chan struct{}
	tickWG sync.WaitGroup
	// running counts messages in flight; the epoch ticker runs only while
	// it is above zero, so an idle host does not wake up every tick.
	running atomic.Int64
	// wake (buffer 1) tells a paused ticker that a message has started.
	wake chan struct{}
	// pipes carry kept guest output (nil: callback streams).
	pipes *pipePool
	// mu is held shared by each Handle and exclusively by Close, so Close
	// waits for messages in flight.
	mu     sync.RWMutex
	closed atomic.Bool
	maxPay int
	tick   time.Duration
	// slow prints slowCompileNotice if compiling takes long.
	slow *time.Timer
	// phases, when set (benchmarks), times each message's phases.
	phases *phaseTimes

	// budget bounds the component payload bytes being lowered at once.
	budget payloadBudget
	// lowerRate is the expected time to lower one MiB of component
	// payload, in nanoseconds (see observeLowering).
	lowerRate atomic.Int64
}

// lockedWriter serializes writes to a shared writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// New loads and compiles comps. Errors name the component and the problem.
func New(ctx context.Context, comps []ComponentConfig, opts Options) (_ *Host, err error) {
	h := &Host{
		opts:   opts,
		guests: make(map[string]guest),
		arts:   make(map[string]*artifact),
		logger: opts.Logger,
		stop:   make(chan struct{}),
		wake:   make(chan struct{}, 1),
		maxPay: opts.MaxComponentPayload,
		tick:   opts.EpochTick,
	}
	if h.logger == nil {
		h.logger = slog.New(slog.DiscardHandler)
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	h.stderr = &lockedWriter{w: opts.Stderr}
	h.opts.Stderr = h.stderr
	if h.maxPay == 0 {
		h.maxPay = DefaultMaxComponentPayload
	}
	budget := opts.ComponentPayloadBudget
	if budget == 0 {
		budget = DefaultComponentPayloadBudget
	}
	if err := checkPayloadOptions(h.maxPay, budget); err != nil {
		return nil, err
	}
	h.budget = newPayloadBudget(budget)
	h.lowerRate.Store(int64(lowerPerMiB))
	if h.tick == 0 {
		h.tick = defaultEpochTick
	}
	switch t := h.opts.HandlerTimeout; {
	case t == 0:
		h.opts.HandlerTimeout = DefaultHandlerTimeout
	case t < 0:
		h.opts.HandlerTimeout = 0 // none
	}
	cfg := wasmtime.EngineConfig{EpochInterruption: true, ParallelCompilation: true}
	if !opts.DisablePooling {
		p := DefaultPooling()
		if opts.Pooling != nil {
			p = *opts.Pooling
		} else {
			p.LinearMemoryKeepResident = h.keepResidentFor(p.LinearMemoryKeepResident, comps)
		}
		cfg.Pooling = &p
	}
	h.engine, err = wasmtime.NewEngine(cfg)
	if err != nil && cfg.Pooling != nil {
		// The pool reserves address space up front, which a ulimit or
		// strict overcommit may refuse: run without it rather than not at all.
		h.logger.Warn("pooling allocator unavailable; using on-demand allocation", "err", err)
		cfg.Pooling = nil
		h.engine, err = wasmtime.NewEngine(cfg)
	}
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			h.Close()
		}
	}()
	if h.tick > 0 {
		h.tickWG.Add(1)
		go h.ticker()
	}
	if !opts.OutputCallbacks {
		if h.pipes, err = probePipes(); err != nil {
			h.logger.Debug("guest output through callback streams: cannot open a pipe by path", "err", err)
			h.pipes, err = nil, nil
		}
	}

	cache := &artifactCache{}
	if !opts.DisableCache {
		cache.dir = opts.CacheDir
	}
	defer func() {
		if h.slow != nil {
			h.slow.Stop()
		}
	}()
	for _, c := range comps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if _, dup := h.guests[c.ID]; dup {
			return nil, fmt.Errorf("component %q: listed twice", c.ID)
		}
		g, err := h.load(c, cache)
		var s4 spin4Error
		if errors.As(err, &s4) {
			return nil, fmt.Errorf("component %q %w", c.ID, err)
		}
		if err != nil {
			return nil, fmt.Errorf("component %q: %w", c.ID, err)
		}
		h.guests[c.ID] = g
	}
	return h, nil
}

// Stats reports how many binaries New compiled and loaded from the cache.
func (h *Host) Stats() Stats { return h.stats }

// Info describes a loaded component.
func (h *Host) Info(componentID string) (ComponentInfo, bool) {
	g, ok := h.guests[componentID]
	if !ok {
		return ComponentInfo{}, false
	}
	info := g.base().info
	info.UnsupportedImports = slices.Clone(info.UnsupportedImports)
	return info, true
}

// Close stops the host and frees everything. It waits for messages in
// flight (cancel their contexts first to stop them); later Handle calls
// fail. Idempotent.
func (h *Host) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed.Swap(true) {
		return nil
	}
	close(h.stop)
	h.tickWG.Wait()
	// Guests first: their idle instances (instance reuse) still hold
	// output pipes, which go back to the pool as they are dropped.
	for _, g := range h.guests {
		g.close()
	}
	if h.pipes != nil {
		h.pipes.close()
	}
	for _, a := range h.arts {
		if a.comp != nil {
			a.comp.Close()
		}
		if a.module != nil {
			a.module.Close()
		}
	}
	return h.engine.Close()
}
