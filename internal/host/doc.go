// Package host runs Spin Redis handlers: it compiles each guest once and
// runs every message in a fresh, isolated Wasmtime store and instance, or,
// with Options.Reuse, in an instance that earlier messages used.
//
// Three guest shapes are accepted, detected from the binary before it is
// compiled (see spec sections 4.1 and 4.6):
//
//   - "component": a component exporting fermyon:spin/inbound-redis, with
//     WASI 0.2 imports (served by internal/wasi). Imports redspin does not
//     provide load as functions that trap when called (listed in
//     ComponentInfo.UnsupportedImports).
//   - "module": a core module exporting fermyon:spin/inbound-redis#handle-message
//     and cabi_realloc (canonical ABI, WASI preview 1).
//   - "spin1-module": a Spin 1.x module exporting handle-redis-message and
//     canonical_abi_realloc.
//
// For every shape, err(success) counts as success; only err(error) or a trap
// fails a message.
//
// # Lifecycle
//
// New compiles (or loads from the on-disk cache) every component, checks
// that each instantiates, and starts the epoch ticker that enforces
// HandlerTimeout. Handle may then be called from any number of goroutines.
// Close waits for messages in flight, stops the ticker and frees everything.
//
// # Instance reuse
//
// Every message takes an instance from its component's pool (pool.go): a
// new store with the guest's WASI state, instantiated on first use, or
// with Options.Reuse an idle one. What is per message is bound to the
// store for the call and ended after it: the host interfaces' store data
// (their connections are closed), the epoch deadline, the WASI context's
// context and deadline, and the output, ended at a line boundary. A message
// that fails other than by the guest's err(...) result, or leaves a core
// module's memory above half of MaxInstanceMemory (128 MiB without a cap),
// drops its instance. Without Reuse the pool keeps nothing.
//
// # Imports
//
// Components get redspin's own WASI 0.2 (internal/wasi), by the exact
// version each imports; core modules get Wasmtime's WASI preview 1.
// ComponentConfig.Imports adds host interfaces (redspin's Spin interfaces);
// every other import is defined as a function that fails when called, with
// an error naming it, so a component that imports e.g. fermyon:spin/llm
// still loads and runs as long as it does not call it. wasi:http is
// defined by internal/wasi (it shares WASI's streams) and fails when
// called: it is not supported yet.
//
// # Layout
//
// host.go (Host, New, Close), options.go (Options and the public types),
// guest.go (the guest interface and loading), component.go and module.go
// (the two guest kinds: linking and calling), handle.go and entry.go (the
// message paths), pool.go (instances and their reuse), epoch.go (the epoch ticker and deadlines), shape.go
// (export detection), compile.go and cache.go (compiling and the on-disk
// cache), traps.go (stubs for unsupported imports), wasictx.go (each
// store's WASI), stdio.go and outpipe.go (guest output), payload.go
// (payload limits).
//
// # Output
//
// Guest stdout/stderr are written to <LogDir>/<id>_stdout.txt and
// _stderr.txt (append) and echoed to Options.Stderr for followed components.
// With no LogDir, a component that is not followed has its output
// discarded. Output is written in whole lines, so lines from concurrent
// messages never interleave: a component's as the guest writes them (each
// write is a host call), a core module's through a pooled pipe (outpipe.go)
// read while it runs and at its end.
//
// Where one message's output ends: when a message ends, however it ends
// (returned, trapped, timed out, cancelled), everything it wrote has
// reached its sinks before Handle returns, and an unfinished last line is
// ended with a '\n'. So a message's output is always a run of whole lines,
// and the next message on the same stream starts on a new line. (A later
// instance reuse ends a message's output the same way, at the end of each
// handler call.)
//
// # Limits
//
// MaxInstanceMemory caps each linear memory (a guest whose allocation fails
// usually reports it or traps; the error names the component).
//
// A message's deadline is the earlier of HandlerTimeout and its context's
// deadline, fixed when Handle starts, and it covers the whole message:
// waiting for the payload budget, lowering the payload, and the guest. The
// guest is interrupted through Wasmtime's epoch interruption, checked every
// EpochTick; lowering cannot be interrupted, so a component payload that
// cannot be lowered in the time left fails at once.
//
// Component payloads cost ~74 bytes of transient memory per byte while
// they are lowered (the C API passes a list<u8> as one 32-byte value per
// byte, which Wasmtime copies into its own values): MaxComponentPayload
// caps one, and ComponentPayloadBudget bounds the bytes being lowered at
// once by all messages, so that concurrency cannot multiply the cost. Core
// modules take the payload straight into guest memory (up to 512 MiB).
package host
