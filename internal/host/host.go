package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redspin/redspin/internal/spinhost/cmasync"
	"github.com/redspin/redspin/internal/wasmtime"
)

// Guest shapes reported in ComponentInfo.Shape.
const (
	ShapeComponent   = "component"
	ShapeModule      = "module"
	ShapeSpin1Module = "spin1-module"
)

// DefaultHandlerTimeout is Options.HandlerTimeout's default (redspin up's
// --handler-timeout).
const DefaultHandlerTimeout = 60 * time.Second

// Export names redspin looks for.
const (
	exportInboundRedis  = "fermyon:spin/inbound-redis"
	exportSpin4Prefix   = "spin:redis/inbound-redis@"
	exportInboundStream = "redspin:streams/inbound-stream@0.1.0"
	funcHandleEntry     = "handle-entry"
	funcHandleMessage   = "handle-message"
	exportCoreHandler   = "fermyon:spin/inbound-redis#handle-message"
	exportCorePost      = "cabi_post_fermyon:spin/inbound-redis#handle-message"
	exportCabiRealloc   = "cabi_realloc"
	exportSpin1Handler  = "handle-redis-message"
	exportSpin1Realloc  = "canonical_abi_realloc"
	exportInitialize    = "_initialize"
	exportMemory        = "memory"
	wasiP1Module        = "wasi_snapshot_preview1"
	defaultEpochTick    = 10 * time.Millisecond
	slowCompileNotice   = "Preparing Wasm modules is taking a few seconds..."
	maxTicksPerDeadline = 10
)

// slowCompileAfter is how long compiling may take before New prints
// slowCompileNotice (as Spin does). A variable for tests.
var slowCompileAfter = 1250 * time.Millisecond

// ErrHandlerFailed is wrapped by Handle's error when the guest returned
// err(error).
var ErrHandlerFailed = errors.New("handler returned an error")

// ErrPayloadTooLarge is wrapped by Handle's error when a payload exceeds
// Options.MaxComponentPayload or Options.ComponentPayloadBudget (components)
// or 512 MiB (core modules).
var ErrPayloadTooLarge = errors.New("payload too large")

// Options configure a Host. Zero values are the defaults; for durations
// and limits a negative value turns the limit off.
type Options struct {
	// LogDir receives <id>_stdout.txt and <id>_stderr.txt. "" = no files.
	LogDir string
	// Follow reports whether a component's output is echoed to Stderr
	// (nil = all). Output of a component that is not followed, with no
	// LogDir, is discarded.
	Follow func(componentID string) bool
	// Stderr receives echoed guest output and notices. default: os.Stderr.
	Stderr io.Writer
	// Echo, when set, returns the writer that receives the echoed output of one component's stream
	// ("stdout" or "stderr") instead of Stderr; it is given whole lines (--log-format json wraps each
	// as JSON). nil = Stderr.
	Echo func(componentID, stream string) io.Writer
	// MaxInstanceMemory caps each linear memory of an instance, in bytes.
	// default: 0 = no cap.
	MaxInstanceMemory uint64
	// HandlerTimeout bounds each message, from the start of Handle (see
	// doc.go, "Limits"). 0 = DefaultHandlerTimeout; negative = no timeout
	// (the context's deadline and cancellation still apply).
	HandlerTimeout time.Duration
	// DisablePooling uses on-demand allocation instead of the pooling
	// allocator. DisableCache turns off the on-disk compiled-artifact cache.
	DisablePooling, DisableCache bool
	// CacheDir holds compiled artifacts. "" = no on-disk cache.
	CacheDir string
	// MaxComponentPayload caps a component's payload, in bytes (flag
	// --max-component-payload). 0 = DefaultMaxComponentPayload; negative =
	// no cap. Core modules take the payload straight into guest memory and
	// have their own cap of 512 MiB.
	MaxComponentPayload int
	// ComponentPayloadBudget bounds the payload bytes being lowered into
	// components at once by all messages of the Host, in bytes (flag
	// --component-payload-budget): a message waits for its share, and the
	// wait counts against its deadline. 0 = DefaultComponentPayloadBudget;
	// negative = no budget. It must not be below MaxComponentPayload.
	ComponentPayloadBudget int64
	// Logger receives diagnostics. nil = discard.
	Logger *slog.Logger

	// OutputCallbacks passes kept guest output through Wasmtime's custom
	// stream callbacks instead of pooled OS pipes: slower (a hand-off to a
	// Wasmtime thread per write), for comparison. Without /proc/self/fd
	// (where Wasmtime cannot open a pipe by path) callbacks are used anyway.
	OutputCallbacks bool

	// Pooling overrides the pooling allocator settings (nil = DefaultPooling).
	Pooling *wasmtime.PoolingConfig
	// EpochTick is how often a running guest's deadline is checked: the
	// timeout resolution. 0 = 10ms; negative = off: no epoch ticker, so a
	// running guest is never interrupted (deadlines still bound waiting for
	// the payload budget and lowering).
	EpochTick time.Duration
}

// DefaultPooling returns the pooling allocator settings used when
// Options.Pooling is nil.
//
//   - Room for 500 concurrent component instances (1000 linear memories).
//     Running out fails messages, so there is headroom for many channels at
//     a high --max-concurrency. It costs address space, not memory: each
//     linear memory reserves 4 GiB (~4 TiB in all, of 128 TiB on x86-64
//     Linux); where that cannot be reserved (ulimit -v, valgrind), New falls
//     back to on-demand allocation with a warning.
//   - The first 4 MiB of each freed linear memory is kept resident and reset
//     in place for the next instance, instead of being returned to the
//     kernel and faulted back in: it halves the cost of a guest that touches
//     megabytes per message (the Go guest: ~1.1 ms → ~0.55 ms of CPU) and costs the
//     small C and Rust guests nothing measurable.
//   - At most max(8, 4 × cores) freed slots stay warm, which bounds the
//     memory kept resident for idle slots at 4 MiB each (32 MiB on 2 cores);
//     more concurrent instances than that work, their slots just start cold.
func DefaultPooling() wasmtime.PoolingConfig {
	return wasmtime.PoolingConfig{
		TotalComponentInstances:  500,
		TotalCoreInstances:       2000,
		TotalMemories:            1000,
		TotalTables:              1000,
		MaxComponentInstanceSize: 8 << 20,
		MaxCoreInstanceSize:      8 << 20,
		TableElements:            100_000,
		MaxUnusedWarmSlots:       uint32(max(8, 4*runtime.NumCPU())),
		LinearMemoryKeepResident: 4 << 20,
		TableKeepResident:        16 << 10,
	}
}

// Mount is a host directory visible read-only to the guest.
type Mount struct {
	HostDir, GuestDir string
}

// ComponentConfig is one component to load.
type ComponentConfig struct {
	ID       string
	WasmPath string            // local file
	Env      map[string]string // the guest's whole environment
	Mounts   []Mount           // read-only
	// Imports provides host interfaces besides WASI (the Spin interfaces).
	// nil = none: every non-WASI import is unsupported.
	Imports Imports
}

// Imports are host interfaces linked for one component (the link methods
// of internal/spinhost/wasm.Services have these signatures). Imports they
// do not define load as trapping stubs.
type Imports interface {
	// LinkComponent defines what it implements of imports on l and returns
	// the names of the imports it defined.
	LinkComponent(l *wasmtime.ComponentLinker, imports []wasmtime.ImportInfo) ([]string, error)
	// LinkModule does the same for a core module; imports and the result
	// are "module#field".
	LinkModule(l *wasmtime.Linker, imports []string) ([]string, error)
	// NewStoreData returns the value host functions get from their
	// caller's Data for one message, and a function called when the
	// message's store is gone.
	NewStoreData(ctx context.Context) (data any, done func())
}

// ComponentInfo describes a loaded component.
type ComponentInfo struct {
	Shape  string // ShapeComponent, ShapeModule or ShapeSpin1Module
	Export string // the handler export used ("" when the component exports only StreamExport)
	// StreamExport is redspin:streams/inbound-stream@0.1.0 when the
	// component exports it; HandleEntry then calls it instead of Export.
	// "" = not exported.
	StreamExport string
	// UnsupportedImports are imports redspin does not provide; they load as
	// functions that trap when called.
	UnsupportedImports []string
}

// Stats counts work done by New.
type Stats struct {
	Compiled  int // modules/components compiled from source
	CacheHits int // loaded from the on-disk cache
}

// Host runs messages through compiled guests. Safe for concurrent use.
type Host struct {
	opts   Options
	engine *wasmtime.Engine
	guests map[string]*guest
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
	// wasiTypes are WASI's resource types (see wasiResourceTypes).
	wasiTypes map[string]*wasmtime.ResourceType

	// budget bounds the component payload bytes being lowered at once.
	budget payloadBudget
	// lowerRate is the expected time to lower one MiB of component
	// payload, in nanoseconds (see observeLowering).
	lowerRate atomic.Int64
}

// artifact is a compiled binary, shared by components with the same bytes.
type artifact struct {
	kind   binKind
	comp   *wasmtime.Component
	module *wasmtime.Module
}

type guest struct {
	id    string
	info  ComponentInfo
	art   *artifact
	wasi  bool
	env   [2][]string // names, values
	mount []Mount
	// imports are the component's host interfaces (nil = none).
	imports Imports

	// component shape
	clinker *wasmtime.ComponentLinker
	iface   *wasmtime.ExportIndex
	fn      *wasmtime.ExportIndex
	// entryIface and entryFn: redspin:streams/inbound-stream (nil = not exported).
	entryIface, entryFn *wasmtime.ExportIndex

	// module shapes
	linker                 *wasmtime.Linker
	pre                    *wasmtime.InstancePre
	handler, realloc, post string
	hasInit                bool

	stdout, stderr *sink
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
		guests: make(map[string]*guest),
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

// Stats reports how many binaries New compiled and loaded from the cache.
func (h *Host) Stats() Stats { return h.stats }

// Info describes a loaded component.
func (h *Host) Info(componentID string) (ComponentInfo, bool) {
	g, ok := h.guests[componentID]
	if !ok {
		return ComponentInfo{}, false
	}
	info := g.info
	info.UnsupportedImports = slices.Clone(info.UnsupportedImports)
	return info, true
}

// spin4Error rejects a Spin 4 (component-model async) handler; it reads as
// a sentence after the component's name.
type spin4Error struct{ export string }

func (e spin4Error) Error() string {
	return fmt.Sprintf("exports %s (Spin 4 async), not supported yet", e.export)
}

// detectShape checks a binary's exports and returns its shape and handler
// export, or an error naming what it exports instead.
func detectShape(b *binInfo) (shape, export string, err error) {
	has := func(name string) bool { return slices.Contains(b.exports, name) }
	listed := func() string {
		if len(b.exports) == 0 {
			return "it exports nothing"
		}
		return "it exports " + strings.Join(b.exports, ", ")
	}
	if b.kind == binComponent {
		var spin4 string
		for _, e := range b.exports {
			if strings.HasPrefix(e, exportSpin4Prefix) {
				spin4 = e
			}
		}
		switch {
		case has(exportInboundRedis) && spin4 != "":
			return "", "", fmt.Errorf("exports both %s and %s; a Redis component must export exactly one handler", exportInboundRedis, spin4)
		case spin4 != "":
			return "", "", spin4Error{spin4}
		case has(exportInboundRedis):
			return ShapeComponent, exportInboundRedis, nil
		case has(exportInboundStream):
			return ShapeComponent, "", nil
		}
		return "", "", fmt.Errorf("no Redis handler: %s (want %s); a component for redis-stream triggers may export %s instead",
			listed(), exportInboundRedis, exportInboundStream)
	}
	switch {
	case has(exportCoreHandler) && has(exportSpin1Handler):
		return "", "", fmt.Errorf("exports both %s and %s; a Redis module must export exactly one handler", exportCoreHandler, exportSpin1Handler)
	case has(exportCoreHandler):
		if !has(exportCabiRealloc) || !has(exportMemory) {
			return "", "", fmt.Errorf("module exports %s but not %s and %s", exportCoreHandler, exportCabiRealloc, exportMemory)
		}
		return ShapeModule, exportCoreHandler, nil
	case has(exportSpin1Handler):
		if !has(exportSpin1Realloc) || !has(exportMemory) {
			return "", "", fmt.Errorf("module exports %s but not %s and %s", exportSpin1Handler, exportSpin1Realloc, exportMemory)
		}
		return ShapeSpin1Module, exportSpin1Handler, nil
	}
	return "", "", fmt.Errorf("no Redis handler: %s (want %s, or %s for Spin 1.x modules)", listed(), exportCoreHandler, exportSpin1Handler)
}

// compile returns the artifact for wasm, from memory, the disk cache, or a
// fresh compile (which it then caches).
func (h *Host) compile(wasm []byte, kind binKind, cache *artifactCache) (*artifact, error) {
	key := contentKey(wasm)
	if a, ok := h.arts[key]; ok {
		return a, nil
	}
	a := &artifact{kind: kind}
	if data := cache.load(key, h.engine, kind); data != nil {
		var err error
		if kind == binComponent {
			a.comp, err = wasmtime.DeserializeComponent(h.engine, data)
		} else {
			a.module, err = wasmtime.DeserializeModule(h.engine, data)
		}
		if err == nil {
			h.stats.CacheHits++
			h.arts[key] = a
			return a, nil
		}
		h.logger.Warn("discarding unusable cached artifact", "err", err)
		cache.remove(key, h.engine, kind)
	}
	if h.slow == nil { // the first compile starts the clock for the notice
		h.slow = time.AfterFunc(slowCompileAfter, func() {
			fmt.Fprintln(h.stderr, slowCompileNotice)
		})
	}
	var ser []byte
	var err error
	start := time.Now()
	if kind == binComponent {
		if a.comp, err = wasmtime.NewComponent(h.engine, wasm); err != nil {
			return nil, fmt.Errorf("compile: %w", cmasync.CompileError(wasm, err))
		}
		if cache.dir != "" {
			ser, err = a.comp.Serialize()
		}
	} else {
		if a.module, err = wasmtime.NewModule(h.engine, wasm); err != nil {
			return nil, fmt.Errorf("compile: %w", err)
		}
		if cache.dir != "" {
			ser, err = a.module.Serialize()
		}
	}
	h.stats.Compiled++
	h.arts[key] = a
	h.logger.Debug("compiled", "bytes", len(wasm), "took", time.Since(start))
	if err == nil && ser != nil {
		err = cache.store(key, h.engine, kind, ser)
	}
	if err != nil {
		h.logger.Warn("cannot cache compiled artifact", "dir", cache.dir, "err", err)
	}
	return a, nil
}

// wasiP2Interfaces are the packages Wasmtime's WASI 0.2 linker provides.
var wasiP2Interfaces = []string{"wasi:cli/", "wasi:clocks/", "wasi:filesystem/", "wasi:io/", "wasi:random/", "wasi:sockets/"}

func providedByWASI(name string) bool {
	for _, p := range wasiP2Interfaces {
		if strings.HasPrefix(name, p) && strings.Contains(name, "@0.2.") {
			return true
		}
	}
	return false
}

func (h *Host) load(c ComponentConfig, cache *artifactCache) (*guest, error) {
	wasm, err := os.ReadFile(c.WasmPath)
	if err != nil {
		return nil, err
	}
	bin, err := readBinary(wasm)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.WasmPath, err)
	}
	shape, export, err := detectShape(bin)
	if err != nil {
		return nil, err
	}
	for _, m := range c.Mounts {
		if st, err := os.Stat(m.HostDir); err != nil {
			return nil, fmt.Errorf("files: %w", err)
		} else if !st.IsDir() {
			return nil, fmt.Errorf("files: %s is not a directory", m.HostDir)
		}
	}
	g := &guest{id: c.ID, info: ComponentInfo{Shape: shape, Export: export}, mount: c.Mounts, imports: c.Imports}
	if bin.kind == binComponent && slices.Contains(bin.exports, exportInboundStream) {
		g.info.StreamExport = exportInboundStream
	}
	names := make([]string, 0, len(c.Env))
	for k := range c.Env {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		g.env[0] = append(g.env[0], k)
		g.env[1] = append(g.env[1], c.Env[k])
	}
	if g.stdout, g.stderr, err = openSinks(&h.opts, c.ID); err != nil {
		return nil, fmt.Errorf("log files: %w", err)
	}
	closeSinks := func() { g.stdout.close(); g.stderr.close() }
	if g.art, err = h.compile(wasm, bin.kind, cache); err != nil {
		closeSinks()
		return nil, err
	}
	if shape == ShapeComponent {
		err = h.linkComponent(g, false)
		if err == nil {
			err = h.trial(g)
			if err != nil && strings.Contains(err.Error(), "mismatched resource types") {
				// An unsupported interface shares resource types with WASI
				// (wasi:http/types uses wasi:io streams): see linkComponent.
				h.logger.Warn("component imports interfaces that share WASI resources; WASI calls will fail", "component", c.ID, "err", err)
				g.clinker.Close()
				g.clinker, g.info.UnsupportedImports, g.wasi = nil, nil, false
				if err = h.linkComponent(g, true); err == nil {
					err = h.trial(g)
				}
			}
		}
	} else {
		err = h.linkModule(g, bin)
		if err == nil {
			err = h.trial(g)
		}
	}
	if err != nil {
		g.close()
		return nil, err
	}
	return g, nil
}

// linkComponent builds the component's linker: Wasmtime's WASI 0.2, and
// trapping stubs for the other imports. With stubsOnly, everything
// (WASI included) is a stub: the fallback for components whose unsupported
// imports alias WASI resource types, which the C API cannot express.
func (h *Host) linkComponent(g *guest, stubsOnly bool) error {
	comp := g.art.comp
	var ok bool
	if err := g.findEntryExport(); err != nil {
		return err
	}
	if g.iface == nil && g.info.Export != "" {
		if g.iface, ok = comp.ExportIndex(nil, exportInboundRedis); !ok {
			return fmt.Errorf("export %s not found", exportInboundRedis)
		}
		if g.fn, ok = comp.ExportIndex(g.iface, funcHandleMessage); !ok {
			return fmt.Errorf("%s does not export %s", exportInboundRedis, funcHandleMessage)
		}
	}
	g.clinker = wasmtime.NewComponentLinker(h.engine)
	if stubsOnly {
		for _, imp := range comp.Imports() {
			if imp.HasFuncs {
				g.info.UnsupportedImports = append(g.info.UnsupportedImports, imp.Name)
			}
		}
		if err := g.clinker.DefineUnknownImportsAsTraps(comp); err != nil {
			return fmt.Errorf("link: %w", err)
		}
		return nil
	}
	var unsupported, wasi []wasmtime.ImportInfo
	imports := comp.Imports()
	defer func() {
		for i := range imports {
			imports[i].Close()
		}
	}()
	for _, imp := range imports {
		if strings.HasPrefix(imp.Name, "wasi:") && providedByWASI(imp.Name) {
			g.wasi = true
			wasi = append(wasi, imp)
			continue
		}
		if imp.HasFuncs {
			unsupported = append(unsupported, imp)
			g.info.UnsupportedImports = append(g.info.UnsupportedImports, imp.Name)
		}
	}
	if g.wasi {
		if err := g.clinker.AddWASIP2(); err != nil {
			return fmt.Errorf("link WASI: %w", err)
		}
	}
	if g.imports != nil && len(unsupported) > 0 {
		done, err := g.imports.LinkComponent(g.clinker, unsupported)
		if err != nil {
			return fmt.Errorf("link host interfaces: %w", err)
		}
		unsupported = slices.DeleteFunc(unsupported, func(i wasmtime.ImportInfo) bool { return slices.Contains(done, i.Name) })
		g.info.UnsupportedImports = g.info.UnsupportedImports[:0]
		for _, i := range unsupported {
			g.info.UnsupportedImports = append(g.info.UnsupportedImports, i.Name)
		}
	}
	if err := h.defineTraps(g.clinker, unsupported, wasi); err != nil {
		return fmt.Errorf("link: %w", err)
	}
	return nil
}

// wasiTypesFor returns the host types of WASI resources (computed once).
func (h *Host) wasiTypesFor() (map[string]*wasmtime.ResourceType, error) {
	if h.wasiTypes == nil {
		t, err := wasiResourceTypes(h.engine)
		if err != nil {
			return nil, fmt.Errorf("probing WASI resource types: %w", err)
		}
		h.wasiTypes = t
	}
	return h.wasiTypes, nil
}

// defineTraps defines the functions (and resource types) of imports
// redspin does not provide as functions that fail when called, naming the
// import. (Wasmtime's define_unknown_imports_as_traps is not used: it would
// also shadow WASI imports that its linker matches by semver, e.g. a guest's
// @0.2.12 against Wasmtime's 0.2.x.)
//
// Resources the stubs share with WASI imports (wasi:http/types uses
// wasi:io's streams) get WASI's own types, so that the component's imports
// agree; resources shared between stubbed interfaces get one type.
func (h *Host) defineTraps(l *wasmtime.ComponentLinker, imps, wasi []wasmtime.ImportInfo) error {
	if len(imps) == 0 {
		return nil
	}
	type assigned struct {
		ty  *wasmtime.ResourceType
		num uint32
	}
	var own []assigned
	root := l.Root()
	defer root.Close()
	trap := func(name string) wasmtime.ComponentHostFunc {
		return func(*wasmtime.ComponentCaller, []wasmtime.Val, []wasmtime.Val) error {
			return fmt.Errorf("%s is not supported by redspin (unsupported import)", name)
		}
	}
	var resourceType uint32 = 1 << 31 // host resource types redspin never creates
	for _, imp := range imps {
		if !imp.Instance {
			if err := root.AddFunc(imp.Name, trap(imp.Name)); err != nil {
				return fmt.Errorf("%s: %w", imp.Name, err)
			}
			continue
		}
		li, err := root.AddInstance(imp.Name)
		if err != nil {
			return fmt.Errorf("%s: %w", imp.Name, err)
		}
		for i, r := range imp.Resources {
			if err := h.defineStubResource(li, r, imp.ResourceTypes[i], wasi, func(rt *wasmtime.ResourceType) uint32 {
				for _, a := range own {
					if a.ty.Equal(rt) {
						return a.num
					}
				}
				resourceType++
				own = append(own, assigned{rt, resourceType})
				return resourceType
			}); err != nil {
				li.Close()
				return fmt.Errorf("%s/%s: %w", imp.Name, r, err)
			}
		}
		for _, f := range imp.Funcs {
			if err := li.AddFunc(f, trap(imp.Name+"#"+f)); err != nil {
				li.Close()
				return fmt.Errorf("%s#%s: %w", imp.Name, f, err)
			}
		}
		li.Close()
	}
	return nil
}

func (h *Host) linkModule(g *guest, bin *binInfo) error {
	if g.info.Shape == ShapeModule {
		g.handler, g.realloc = exportCoreHandler, exportCabiRealloc
		if slices.Contains(bin.exports, exportCorePost) {
			g.post = exportCorePost
		}
		g.hasInit = slices.Contains(bin.exports, exportInitialize)
	} else {
		g.handler, g.realloc = exportSpin1Handler, exportSpin1Realloc
	}
	var other []string // non-WASI imports, "module#field"
	for _, imp := range bin.imports {
		if mod, _, _ := strings.Cut(imp, "#"); mod == wasiP1Module {
			g.wasi = true
		} else {
			other = append(other, imp)
		}
	}
	g.linker = wasmtime.NewLinker(h.engine)
	if g.wasi {
		if err := g.linker.DefineWASI(); err != nil {
			return fmt.Errorf("link WASI: %w", err)
		}
	}
	if g.imports != nil && len(other) > 0 {
		done, err := g.imports.LinkModule(g.linker, other)
		if err != nil {
			return fmt.Errorf("link host interfaces: %w", err)
		}
		other = slices.DeleteFunc(other, func(i string) bool { return slices.Contains(done, i) })
	}
	for _, imp := range other {
		if mod, _, _ := strings.Cut(imp, "#"); !slices.Contains(g.info.UnsupportedImports, mod) {
			g.info.UnsupportedImports = append(g.info.UnsupportedImports, mod)
		}
	}
	if err := g.linker.DefineUnknownImportsAsTraps(g.art.module); err != nil {
		return fmt.Errorf("link: %w", err)
	}
	var err error
	if g.pre, err = g.linker.InstantiatePre(g.art.module); err != nil {
		return fmt.Errorf("link: %w", err)
	}
	return nil
}

// defineStubResource defines resource name (of component type rt) in a
// stub instance: with WASI's type when rt is a WASI resource, else with the
// host type number that number(rt) assigns.
func (h *Host) defineStubResource(li *wasmtime.LinkerInstance, name string, rt *wasmtime.ResourceType,
	wasi []wasmtime.ImportInfo, number func(*wasmtime.ResourceType) uint32) error {
	for _, w := range wasi {
		for j, wt := range w.ResourceTypes {
			if !wt.Equal(rt) {
				continue
			}
			key := unversioned(w.Name) + "#" + w.Resources[j]
			types, err := h.wasiTypesFor()
			if err != nil {
				return err
			}
			ht := types[key]
			if ht == nil {
				return fmt.Errorf("uses WASI resource %s, which redspin cannot stub", key)
			}
			return li.AddResourceType(name, ht, nil)
		}
	}
	return li.AddResource(name, number(rt), nil)
}

// trial instantiates the guest once, so that problems show at load.
func (h *Host) trial(g *guest) error {
	s := wasmtime.NewStore(h.engine)
	defer s.Close()
	if g.imports != nil {
		data, done := g.imports.NewStoreData(context.Background())
		s.SetData(data)
		if done != nil {
			defer done()
		}
	}
	s.SetEpochDeadline(1 << 62)
	if h.opts.MaxInstanceMemory > 0 {
		s.SetLimits(int64(h.opts.MaxInstanceMemory), -1, -1, -1, -1)
	}
	var err error
	if g.clinker != nil {
		_, err = g.clinker.Instantiate(s, g.art.comp)
	} else {
		_, err = g.pre.Instantiate(s)
	}
	if err != nil {
		return fmt.Errorf("instantiate: %w", err)
	}
	return nil
}

func (g *guest) close() {
	g.fn.Close()
	g.iface.Close()
	g.entryFn.Close()
	g.entryIface.Close()
	if g.clinker != nil {
		g.clinker.Close()
	}
	if g.pre != nil {
		g.pre.Close()
	}
	if g.linker != nil {
		g.linker.Close()
	}
	g.stdout.close()
	g.stderr.close()
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
	if h.pipes != nil {
		h.pipes.close()
	}
	for _, g := range h.guests {
		g.close()
	}
	for _, a := range h.arts {
		if a.comp != nil {
			a.comp.Close()
		}
		if a.module != nil {
			a.module.Close()
		}
	}
	for _, t := range h.wasiTypes {
		t.Close()
	}
	return h.engine.Close()
}
