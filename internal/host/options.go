package host

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"time"

	"github.com/redspin/redspin/internal/wasi"
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
	// Reuse lets an instance serve several messages (pool.go). The zero
	// value = a fresh instance per message.
	Reuse Reuse
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

	// OutputCallbacks passes the kept output of core modules (Wasmtime's
	// WASI preview 1) through Wasmtime's custom stream callbacks instead of
	// pooled OS pipes: slower (a hand-off to a Wasmtime thread per write),
	// for comparison. Without /proc/self/fd (where Wasmtime cannot open a
	// pipe by path) callbacks are used anyway. Components write through
	// redspin's WASI, which needs neither.
	OutputCallbacks bool

	// Pooling overrides the pooling allocator settings (nil = DefaultPooling,
	// with keep-resident fitted to the guests' memory images).
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
//     small C and Rust guests nothing measurable. When every loaded guest
//     has a large memory image (a JavaScript engine's heap snapshot), New
//     keeps resident only the memory below it (memimage.go): Wasmtime copies
//     the image back over the kept-resident region on every reset, touched
//     or not. An explicit Options.Pooling is used as given.
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
	// message has ended. prev is the data of the previous message on the
	// same store (instance reuse; nil for a store's first message): handles
	// the new data gives out must not repeat prev's, so that a handle a
	// guest kept in a global from an earlier message is invalid, never
	// another message's resource.
	NewStoreData(ctx context.Context, prev any) (data any, done func())
}

// WASIInterfaces may be implemented by Imports that implement WASI
// interfaces on internal/wasi, sharing its streams and pollables (a
// wasi:http implementation): the host passes them to wasi.Link, keyed by
// unversioned interface name ("wasi:http/types"), where they replace the
// built-in ones (wasi:http's fail as not supported yet).
type WASIInterfaces interface {
	WASIInterfaces() map[string]wasi.Interface
}

// ComponentInfo describes a loaded component.
type ComponentInfo struct {
	Shape  string // ShapeComponent, ShapeModule or ShapeSpin1Module
	Export string // the handler export used ("" when the component exports only StreamExport)
	// StreamExport is redspin:streams/inbound-stream@0.1.0 when the
	// component exports it; HandleEntry then calls it instead of Export.
	// "" = not exported.
	StreamExport string
	// WASI is the WASI the guest gets: WASIRedspin for components,
	// WASIPreview1 for core modules, WASINone when it imports no WASI.
	WASI WASIPath
	// UnsupportedImports are imports redspin does not provide; they load as
	// functions that trap when called.
	UnsupportedImports []string
}

// Stats counts work done by New.
type Stats struct {
	Compiled  int // modules/components compiled from source
	CacheHits int // loaded from the on-disk cache
}
