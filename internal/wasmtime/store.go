package wasmtime

// #include "binding.h"
import "C"

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync/atomic"
	"unsafe"
)

// Store holds the instances, memories and host state of one unit of
// execution (in redspin: one message). Not safe for concurrent use.
type Store struct {
	_ptr   *C.wasmtime_store_t
	ctx    *C.wasmtime_context_t
	engine *Engine
	data   *storeData
	// wasiSet records SetWASI: Wasmtime aborts the process if a guest calls
	// WASI in a store without a WASI context, so instantiating through a
	// linker with WASI installs an empty one when none was set.
	wasiSet bool
}

// ensureWASI gives the store an empty WASI context if it has none.
func (s *Store) ensureWASI() error {
	if s.wasiSet {
		return nil
	}
	return s.SetWASI(NewWASIConfig())
}

// storeData is the Go side of a store, reachable from C callbacks through
// the store's handle.
type storeData struct {
	handle   uintptr
	deadline func() (uint64, error)
	// interrupt is the error a deadline callback stopped the store with.
	interrupt atomic.Pointer[error]
	// Data is user data (see Store.SetData).
	data any
	// values are attached by key (see Store.SetValue): a few at most, so
	// a slice searched in order (no map per store).
	values []keyValue
	// caller and scratch serve component host calls without allocating:
	// a store runs one host call at a time (the component model forbids
	// reentering an instance from a host function), and inCall catches the
	// exception (a nested call allocates its own).
	caller  ComponentCaller
	scratch []Val
	inCall  bool
	// panicked records a recovered host-function panic.
	panicked atomic.Pointer[error]
}

// NewStore creates a store in engine e.
func NewStore(e *Engine) *Store {
	d := &storeData{}
	d.handle = handles.add(d)
	p := C.rs_store_new(e.ptr(), C.uintptr_t(d.handle))
	runtime.KeepAlive(e)
	return &Store{_ptr: p, ctx: C.wasmtime_store_context(p), engine: e, data: d}
}

func (s *Store) ptr() *C.wasmtime_store_t {
	maybeGC()
	if s._ptr == nil {
		panic("wasmtime: store: object has been closed")
	}
	return s._ptr
}

func (s *Store) context() *C.wasmtime_context_t {
	s.ptr()
	return s.ctx
}

// Engine returns the store's engine.
func (s *Store) Engine() *Engine { return s.engine }

// SetData attaches a Go value to the store; host functions get it back
// through their Caller.
func (s *Store) SetData(v any) { s.data.data = v }

// Data returns the value given to SetData.
func (s *Store) Data() any { return s.data.data }

// SetValue attaches v to the store under key, beside its Data, so that
// host functions of separate packages each find their own per-store state
// (ComponentCaller.Value). key should be a comparable type private to the
// package that sets it.
func (s *Store) SetValue(key, v any) {
	for i := range s.data.values {
		if s.data.values[i].key == key {
			s.data.values[i].v = v
			return
		}
	}
	s.data.values = append(s.data.values, keyValue{key, v})
}

type keyValue struct{ key, v any }

// value returns what SetValue attached under key (nil = nothing).
func (d *storeData) value(key any) any {
	for i := range d.values {
		if d.values[i].key == key {
			return d.values[i].v
		}
	}
	return nil
}

// SetLimits caps the store: memoryBytes per linear memory, table elements,
// instances, tables and memories. A negative value keeps Wasmtime's default
// (no limit).
func (s *Store) SetLimits(memoryBytes, tableElements, instances, tables, memories int64) {
	C.wasmtime_store_limiter(s.ptr(), C.int64_t(memoryBytes), C.int64_t(tableElements),
		C.int64_t(instances), C.int64_t(tables), C.int64_t(memories))
}

// SetEpochDeadline sets the deadline ticks epochs after the engine's
// current epoch (only meaningful with EngineConfig.EpochInterruption).
func (s *Store) SetEpochDeadline(ticks uint64) {
	C.wasmtime_context_set_epoch_deadline(s.context(), C.uint64_t(ticks))
}

// SetDeadlineCallback makes reaching the epoch deadline call fn instead of
// trapping: fn returns how many more ticks to run, or an error to interrupt
// the guest with. The interruption is reported as a TrapInterrupt error
// that wraps fn's error (so errors.Is(err, context.DeadlineExceeded) works
// when fn returns ctx.Err()).
func (s *Store) SetDeadlineCallback(fn func() (ticks uint64, err error)) {
	s.data.deadline = fn
	C.rs_store_deadline_callback(s.ptr(), C.uintptr_t(s.data.handle))
}

//export rsDeadline
func rsDeadline(h C.uintptr_t, delta *C.uint64_t) (cerr *C.wasmtime_error_t) {
	d, _ := handles.get(uintptr(h)).(*storeData)
	if d == nil || d.deadline == nil {
		return newCError(errors.New("epoch deadline reached"))
	}
	defer func() {
		if r := recover(); r != nil {
			err := fmt.Errorf("panic in deadline callback: %v", r)
			d.interrupt.Store(&err)
			cerr = newCError(err)
		}
	}()
	ticks, err := d.deadline()
	if err != nil {
		d.interrupt.Store(&err)
		return newCError(err)
	}
	*delta = C.uint64_t(ticks)
	return nil
}

// callErr post-processes an error from a call into this store: an
// interruption by the deadline callback becomes a TrapInterrupt wrapping
// its cause; a host-function panic is attached as the cause.
func (s *Store) callErr(err error) error { return s.data.callErr(err) }

func (d *storeData) callErr(err error) error {
	if err == nil || d == nil {
		return err
	}
	if p := d.interrupt.Swap(nil); p != nil {
		var we *Error
		if errors.As(err, &we) {
			we.isTrap, we.code, we.cause = true, TrapInterrupt, *p
			return we
		}
		return &Error{msg: err.Error(), isTrap: true, code: TrapInterrupt, cause: *p}
	}
	if p := d.panicked.Swap(nil); p != nil {
		var we *Error
		if errors.As(err, &we) && we.cause == nil {
			we.cause = *p
		}
	}
	return err
}

// SetWASI configures WASI (preview 1 for modules, preview 2 for components)
// for this store. w is consumed and cannot be used again, even on error.
func (s *Store) SetWASI(w *WASIConfig) error {
	p := w.take()
	s.wasiSet = true
	cerr := C.wasmtime_context_set_wasi(s.context(), p)
	runtime.KeepAlive(s)
	if cerr != nil {
		return takeError(cerr)
	}
	return nil
}

// Close frees the store and everything in it. Idempotent.
func (s *Store) Close() error {
	if s._ptr != nil {
		C.wasmtime_store_delete(s._ptr) // its finalizer frees the handle
		s._ptr, s.ctx = nil, nil
	}
	return nil
}

// WASIConfig is a WASI context under construction. It is consumed by
// Store.SetWASI; Close frees one that was never used.
//
// A new WASIConfig has no arguments, no environment, no preopened
// directories, an empty stdin, and discards stdout and stderr.
type WASIConfig struct {
	_ptr *C.wasi_config_t
}

// NewWASIConfig creates an empty WASI configuration.
func NewWASIConfig() *WASIConfig { return &WASIConfig{_ptr: C.wasi_config_new()} }

func (w *WASIConfig) ptr() *C.wasi_config_t {
	maybeGC()
	if w._ptr == nil {
		panic("wasmtime: wasi config: object has been closed or consumed")
	}
	return w._ptr
}

func (w *WASIConfig) take() *C.wasi_config_t {
	p := w.ptr()
	w._ptr = nil
	return p
}

// SetArgs sets the program arguments.
func (w *WASIConfig) SetArgs(args []string) error {
	cs := make([]*C.char, len(args))
	for i, a := range args {
		cs[i] = C.CString(a)
	}
	defer freeAll(cs)
	var p **C.char
	if len(cs) > 0 {
		p = &cs[0]
	}
	if !C.wasi_config_set_argv(w.ptr(), C.size_t(len(cs)), p) {
		return errors.New("wasi: invalid arguments")
	}
	return nil
}

// SetEnv sets the environment (names[i]=values[i]); nothing is inherited.
func (w *WASIConfig) SetEnv(names, values []string) error {
	if len(names) != len(values) {
		return errors.New("wasi: SetEnv: names and values differ in length")
	}
	if len(names) == 0 {
		return nil
	}
	ns := make([]*C.char, len(names))
	vs := make([]*C.char, len(values))
	for i := range names {
		ns[i], vs[i] = C.CString(names[i]), C.CString(values[i])
	}
	defer freeAll(ns)
	defer freeAll(vs)
	if !C.wasi_config_set_env(w.ptr(), C.size_t(len(ns)), &ns[0], &vs[0]) {
		return errors.New("wasi: invalid environment")
	}
	return nil
}

// PreopenDir makes hostDir visible to the guest at guestDir, read-only
// unless writable is set.
func (w *WASIConfig) PreopenDir(hostDir, guestDir string, writable bool) error {
	h, g := C.CString(hostDir), C.CString(guestDir)
	defer C.free(unsafe.Pointer(h))
	defer C.free(unsafe.Pointer(g))
	var dirPerms, filePerms C.wasi_dir_perms = C.RS_WASI_PERMS_READ, C.RS_WASI_PERMS_READ
	if writable {
		dirPerms, filePerms = C.RS_WASI_PERMS_READ|C.RS_WASI_PERMS_WRITE, C.RS_WASI_PERMS_READ|C.RS_WASI_PERMS_WRITE
	}
	if !C.wasi_config_preopen_dir(w.ptr(), h, g, dirPerms, C.wasi_file_perms(filePerms)) {
		return fmt.Errorf("wasi: cannot preopen %q at %q", hostDir, guestDir)
	}
	return nil
}

// SetStdout sends the guest's stdout to wr. Each guest write becomes one
// Write call, made from one of Wasmtime's own (tokio) threads, not from
// the goroutine running the guest, while the guest waits for it: wr must
// be safe to call from any goroutine. A write error is reported to the
// guest as a failed write.
func (w *WASIConfig) SetStdout(wr io.Writer) {
	C.rs_wasi_stdout(w.ptr(), C.uintptr_t(handles.add(wr)))
}

// SetStdoutFile sends the guest's stdout to the file at path, which
// Wasmtime opens with create and truncate (so use it for pipes and
// devices, e.g. /proc/self/fd/N of a pipe). Writes go straight to the file
// descriptor, without SetStdout's per-write callback.
func (w *WASIConfig) SetStdoutFile(path string) error {
	p := C.CString(path)
	defer C.free(unsafe.Pointer(p))
	if !C.wasi_config_set_stdout_file(w.ptr(), p) {
		return fmt.Errorf("wasi: cannot open %s for stdout", path)
	}
	return nil
}

// SetStderrFile is SetStdoutFile for stderr.
func (w *WASIConfig) SetStderrFile(path string) error {
	p := C.CString(path)
	defer C.free(unsafe.Pointer(p))
	if !C.wasi_config_set_stderr_file(w.ptr(), p) {
		return fmt.Errorf("wasi: cannot open %s for stderr", path)
	}
	return nil
}

// SetStderr is SetStdout for stderr.
func (w *WASIConfig) SetStderr(wr io.Writer) {
	C.rs_wasi_stderr(w.ptr(), C.uintptr_t(handles.add(wr)))
}

//export rsWasiWrite
func rsWasiWrite(h C.uintptr_t, buf *C.uchar, n C.size_t) (ret C.ptrdiff_t) {
	wr, _ := handles.get(uintptr(h)).(io.Writer)
	if wr == nil {
		return -1
	}
	defer func() {
		if r := recover(); r != nil {
			ret = -1
		}
	}()
	b := unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(n))
	written, err := wr.Write(b)
	if err != nil && written == 0 {
		return -1
	}
	return C.ptrdiff_t(written)
}

// Close frees a configuration that was not consumed. Idempotent.
func (w *WASIConfig) Close() error {
	if w._ptr != nil {
		C.wasi_config_delete(w._ptr)
		w._ptr = nil
	}
	return nil
}

func freeAll(cs []*C.char) {
	for _, c := range cs {
		C.free(unsafe.Pointer(c))
	}
}
