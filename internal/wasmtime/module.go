package wasmtime

// #include "binding.h"
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"
)

// Module is a compiled core Wasm module. Safe for concurrent use.
type Module struct {
	_ptr   *C.wasmtime_module_t
	engine *Engine
}

// NewModule compiles a core module (binary) for engine e.
func NewModule(e *Engine, wasm []byte) (*Module, error) {
	var p *C.wasmtime_module_t
	cerr := C.wasmtime_module_new(e.ptr(), cBytes(wasm), C.size_t(len(wasm)), &p)
	runtime.KeepAlive(wasm)
	runtime.KeepAlive(e)
	if cerr != nil {
		return nil, takeError(cerr)
	}
	return &Module{_ptr: p, engine: e}, nil
}

// DeserializeModule loads a module serialized by Module.Serialize with a
// compatible engine. The data must come from a trusted source.
func DeserializeModule(e *Engine, data []byte) (*Module, error) {
	var p *C.wasmtime_module_t
	cerr := C.wasmtime_module_deserialize(e.ptr(), cBytes(data), C.size_t(len(data)), &p)
	runtime.KeepAlive(data)
	runtime.KeepAlive(e)
	if cerr != nil {
		return nil, takeError(cerr)
	}
	return &Module{_ptr: p, engine: e}, nil
}

func (m *Module) ptr() *C.wasmtime_module_t {
	maybeGC()
	if m._ptr == nil {
		panic("wasmtime: module: object has been closed")
	}
	return m._ptr
}

// Serialize returns the compiled module's bytes, for DeserializeModule.
func (m *Module) Serialize() ([]byte, error) {
	var out C.wasm_byte_vec_t
	cerr := C.wasmtime_module_serialize(m.ptr(), &out)
	runtime.KeepAlive(m)
	if cerr != nil {
		return nil, takeError(cerr)
	}
	return takeByteVec(&out), nil
}

// Close frees the module. Idempotent.
func (m *Module) Close() error {
	if m._ptr != nil {
		C.wasmtime_module_delete(m._ptr)
		m._ptr = nil
	}
	return nil
}

// ValKind is a core Wasm value type.
type ValKind uint8

// Core value kinds.
const (
	KindI32 ValKind = 0
	KindI64 ValKind = 1
	KindF32 ValKind = 2
	KindF64 ValKind = 3
)

// Caller is what a core host function sees of its caller. It is valid only
// during the host call.
type Caller struct {
	ptr   *C.wasmtime_caller_t
	store *storeData
}

// Memory returns the caller's exported memory called name.
func (c *Caller) Memory(name string) (Memory, bool) {
	if c.ptr == nil {
		panic("wasmtime: caller used after its host call returned")
	}
	var item C.wasmtime_extern_t
	p, n := cStr(name)
	ok := C.wasmtime_caller_export_get(c.ptr, p, n, &item)
	runtime.KeepAlive(name)
	if !ok || item.kind != C.RS_EXTERN_MEMORY {
		if ok {
			C.wasmtime_extern_delete(&item)
		}
		return Memory{}, false
	}
	mem := *(*C.wasmtime_memory_t)(unsafe.Pointer(&item.of))
	return Memory{caller: c, ctx: C.wasmtime_caller_context(c.ptr), mem: mem}, true
}

// Data returns the store's user data (Store.SetData).
func (c *Caller) Data() any {
	if c.store == nil {
		return nil
	}
	return c.store.data
}

// HostFunc implements a core host function on i32/i64 values (f32/f64 are
// passed as their bit patterns). An error traps the guest.
type HostFunc func(c *Caller, args []uint64, results []uint64) error

type coreFunc struct {
	fn      HostFunc
	params  []ValKind
	results []ValKind
	name    string
}

// Linker links core modules with WASI preview 1 and host functions. Define
// everything first; after that it is safe for concurrent use.
type Linker struct {
	_ptr   *C.wasmtime_linker_t
	engine *Engine
	wasi   bool
}

// NewLinker creates a core-module linker.
func NewLinker(e *Engine) *Linker {
	p := C.wasmtime_linker_new(e.ptr())
	runtime.KeepAlive(e)
	return &Linker{_ptr: p, engine: e}
}

func (l *Linker) ptr() *C.wasmtime_linker_t {
	maybeGC()
	if l._ptr == nil {
		panic("wasmtime: linker: object has been closed")
	}
	return l._ptr
}

// AllowShadowing lets later definitions replace earlier ones.
func (l *Linker) AllowShadowing(allow bool) {
	C.wasmtime_linker_allow_shadowing(l.ptr(), C.bool(allow))
}

// DefineWASI defines wasi_snapshot_preview1 (the store needs SetWASI).
func (l *Linker) DefineWASI() error {
	if cerr := C.wasmtime_linker_define_wasi(l.ptr()); cerr != nil {
		return takeError(cerr)
	}
	l.wasi = true
	return nil
}

// DefineUnknownImportsAsTraps defines every import of m not yet defined as
// a function that traps when called.
func (l *Linker) DefineUnknownImportsAsTraps(m *Module) error {
	cerr := C.wasmtime_linker_define_unknown_imports_as_traps(l.ptr(), m.ptr())
	runtime.KeepAlive(m)
	if cerr != nil {
		return takeError(cerr)
	}
	return nil
}

// DefineFunc defines module.name as a host function with the given
// signature.
func (l *Linker) DefineFunc(module, name string, params, results []ValKind, fn HostFunc) error {
	ty := newFuncType(params, results)
	defer C.wasm_functype_delete(ty)
	h := handles.add(&coreFunc{fn: fn, params: params, results: results, name: module + "#" + name})
	mp, mn := cStr(module)
	np, nn := cStr(name)
	cerr := C.rs_linker_define_func(l.ptr(), mp, mn, np, nn, ty, C.uintptr_t(h))
	runtime.KeepAlive(module)
	runtime.KeepAlive(name)
	if cerr != nil {
		return takeError(cerr)
	}
	return nil
}

func newFuncType(params, results []ValKind) *C.wasm_functype_t {
	mk := func(ks []ValKind) C.wasm_valtype_vec_t {
		var v C.wasm_valtype_vec_t
		if len(ks) == 0 {
			C.wasm_valtype_vec_new_empty(&v)
			return v
		}
		ts := (*[1 << 20]*C.wasm_valtype_t)(C.malloc(C.size_t(len(ks)) * C.size_t(unsafe.Sizeof(uintptr(0)))))[:len(ks):len(ks)]
		for i, k := range ks {
			ts[i] = C.wasm_valtype_new(C.uint8_t(k))
		}
		C.wasm_valtype_vec_new(&v, C.size_t(len(ks)), &ts[0])
		C.free(unsafe.Pointer(&ts[0]))
		return v
	}
	p, r := mk(params), mk(results)
	return C.wasm_functype_new(&p, &r) // consumes p and r
}

//export rsCoreCall
func rsCoreCall(h C.uintptr_t, caller *C.wasmtime_caller_t, args *C.wasmtime_val_t, nargs C.size_t,
	results *C.wasmtime_val_t, nresults C.size_t) (trap *C.wasm_trap_t) {
	f, _ := handles.get(uintptr(h)).(*coreFunc)
	if f == nil {
		return newCTrap(fmt.Errorf("host function not found"))
	}
	ctx := C.wasmtime_caller_context(caller)
	sd, _ := handles.get(uintptr(C.rs_store_handle(ctx))).(*storeData)
	c := &Caller{ptr: caller, store: sd}
	defer func() {
		c.ptr = nil
		if r := recover(); r != nil {
			err := fmt.Errorf("panic in host function %s: %v", f.name, r)
			if sd != nil {
				sd.panicked.Store(&err)
			}
			trap = newCTrap(err)
		}
	}()
	av := unsafe.Slice(args, int(nargs))
	rv := unsafe.Slice(results, int(nresults))
	in := make([]uint64, len(av))
	for i := range av {
		in[i] = *(*uint64)(unsafe.Pointer(&av[i].of))
		if av[i].kind == C.wasmtime_valkind_t(KindI32) || av[i].kind == C.wasmtime_valkind_t(KindF32) {
			in[i] &= 0xffffffff
		}
	}
	out := make([]uint64, len(rv))
	if err := f.fn(c, in, out); err != nil {
		return newCTrap(err)
	}
	for i := range rv {
		k := KindI32
		if i < len(f.results) {
			k = f.results[i]
		}
		rv[i].kind = C.wasmtime_valkind_t(k)
		*(*uint64)(unsafe.Pointer(&rv[i].of)) = out[i]
	}
	return nil
}

// InstancePre is a module with its imports resolved, ready to instantiate
// quickly in many stores. Safe for concurrent use.
type InstancePre struct {
	_ptr   *C.wasmtime_instance_pre_t
	module *Module
	wasi   bool
}

// InstantiatePre resolves m's imports against l.
func (l *Linker) InstantiatePre(m *Module) (*InstancePre, error) {
	var p *C.wasmtime_instance_pre_t
	cerr := C.wasmtime_linker_instantiate_pre(l.ptr(), m.ptr(), &p)
	runtime.KeepAlive(l)
	runtime.KeepAlive(m)
	if cerr != nil {
		return nil, takeError(cerr)
	}
	return &InstancePre{_ptr: p, module: m, wasi: l.wasi}, nil
}

// Instantiate creates an instance in s (running any start function). If
// the linker defines WASI and s has none, s gets an empty WASI context.
func (ip *InstancePre) Instantiate(s *Store) (*Instance, error) {
	if ip._ptr == nil {
		panic("wasmtime: instance pre: object has been closed")
	}
	if ip.wasi {
		if err := s.ensureWASI(); err != nil {
			return nil, err
		}
	}
	var inst C.wasmtime_instance_t
	var trap *C.wasm_trap_t
	cerr := C.wasmtime_instance_pre_instantiate(ip._ptr, s.context(), &inst, &trap)
	runtime.KeepAlive(ip)
	runtime.KeepAlive(s)
	if cerr != nil {
		return nil, s.callErr(takeError(cerr))
	}
	if trap != nil {
		return nil, s.callErr(takeTrap(trap))
	}
	return &Instance{store: s, inst: inst}, nil
}

// Close frees the pre-instantiated module. Idempotent.
func (ip *InstancePre) Close() error {
	if ip._ptr != nil {
		C.wasmtime_instance_pre_delete(ip._ptr)
		ip._ptr = nil
	}
	return nil
}

// Instance is a core module instance in a Store; valid while the store is.
type Instance struct {
	store *Store
	inst  C.wasmtime_instance_t
}

func (i *Instance) export(name string) (C.wasmtime_extern_t, bool) {
	var item C.wasmtime_extern_t
	p, n := cStr(name)
	ok := C.wasmtime_instance_export_get(i.store.context(), &i.inst, p, n, &item)
	runtime.KeepAlive(name)
	runtime.KeepAlive(i)
	return item, bool(ok)
}

// Func returns the exported function called name.
func (i *Instance) Func(name string) (*Func, bool) {
	item, ok := i.export(name)
	if !ok {
		return nil, false
	}
	if item.kind != C.RS_EXTERN_FUNC {
		C.wasmtime_extern_delete(&item)
		return nil, false
	}
	return &Func{store: i.store, ctx: i.store.context(), sd: i.store.data, fn: *(*C.wasmtime_func_t)(unsafe.Pointer(&item.of))}, true
}

// Memory returns the exported memory called name.
func (i *Instance) Memory(name string) (Memory, bool) {
	item, ok := i.export(name)
	if !ok {
		return Memory{}, false
	}
	if item.kind != C.RS_EXTERN_MEMORY {
		C.wasmtime_extern_delete(&item)
		return Memory{}, false
	}
	return Memory{store: i.store, mem: *(*C.wasmtime_memory_t)(unsafe.Pointer(&item.of))}, true
}

// Func is an exported core function; valid while its store is (or, when
// obtained from a Caller, during that host call).
type Func struct {
	store  *Store // nil for a Caller's function
	caller *Caller
	ctx    *C.wasmtime_context_t
	sd     *storeData
	fn     C.wasmtime_func_t
}

func (f *Func) context() *C.wasmtime_context_t {
	if f.store != nil {
		return f.store.context()
	}
	if f.caller == nil || f.caller.ptr == nil {
		panic("wasmtime: caller's function used after its host call returned")
	}
	return f.ctx
}

// CallI32 calls the caller's exported function called export (e.g. its
// realloc) with i32 arguments, from inside a host function.
func (c *Caller) CallI32(export string, nresults int, args ...int32) ([]int32, error) {
	if c.ptr == nil {
		panic("wasmtime: caller used after its host call returned")
	}
	var item C.wasmtime_extern_t
	p, n := cStr(export)
	ok := C.wasmtime_caller_export_get(c.ptr, p, n, &item)
	runtime.KeepAlive(export)
	if !ok || item.kind != C.RS_EXTERN_FUNC {
		if ok {
			C.wasmtime_extern_delete(&item)
		}
		return nil, fmt.Errorf("caller exports no function %q", export)
	}
	f := &Func{caller: c, ctx: C.wasmtime_caller_context(c.ptr), sd: c.store,
		fn: *(*C.wasmtime_func_t)(unsafe.Pointer(&item.of))}
	return f.CallI32(nresults, args...)
}

// CallI32 calls a function taking and returning only i32 values (nresults
// of them). Traps and errors are returned as *Error.
func (f *Func) CallI32(nresults int, args ...int32) ([]int32, error) {
	var buf [8]C.wasmtime_val_t
	vals := buf[:0]
	if len(args)+nresults > len(buf) {
		vals = make([]C.wasmtime_val_t, 0, len(args)+nresults)
	}
	for _, a := range args {
		var v C.wasmtime_val_t
		v.kind = C.wasmtime_valkind_t(KindI32)
		*(*int32)(unsafe.Pointer(&v.of)) = a
		vals = append(vals, v)
	}
	vals = vals[:len(args)+nresults]
	var argp, resp *C.wasmtime_val_t
	if len(args) > 0 {
		argp = &vals[0]
	}
	if nresults > 0 {
		resp = &vals[len(args)]
	}
	var trap *C.wasm_trap_t
	cerr := C.wasmtime_func_call(f.context(), &f.fn, argp, C.size_t(len(args)), resp, C.size_t(nresults), &trap)
	runtime.KeepAlive(f)
	if cerr != nil {
		return nil, f.sd.callErr(takeError(cerr))
	}
	if trap != nil {
		return nil, f.sd.callErr(takeTrap(trap))
	}
	out := make([]int32, nresults)
	for i := range out {
		out[i] = *(*int32)(unsafe.Pointer(&vals[len(args)+i].of))
	}
	return out, nil
}

// Memory is a linear memory; valid while its store is (or, when obtained
// from a Caller, during that host call). Using it after that panics.
type Memory struct {
	store  *Store  // set for an instance's memory
	caller *Caller // set for a caller's memory
	ctx    *C.wasmtime_context_t
	mem    C.wasmtime_memory_t
}

// context returns the memory's store context, and panics, as
// Func.context does, when the store is closed or the host call that gave
// the memory has returned.
func (m Memory) context() *C.wasmtime_context_t {
	if m.store != nil {
		return m.store.context()
	}
	if m.caller == nil || m.caller.ptr == nil {
		panic("wasmtime: caller's memory used after its host call returned")
	}
	return m.ctx
}

// Data returns the memory's bytes. The slice aliases Wasm memory: it is
// invalidated by any call into the store that may grow memory, and by the
// end of the store (or of the host call the memory came from). Data panics
// if that end has already come.
func (m Memory) Data() []byte {
	return m.data(m.context())
}

// UnsafeData is Data without the check that the store (or host call) is
// still alive, for callers that have just checked it themselves: a Memory
// used after its end reads freed memory.
func (m Memory) UnsafeData() []byte {
	ctx := m.ctx
	if m.store != nil {
		ctx = m.store.ctx
	}
	if ctx == nil {
		return nil
	}
	return m.data(ctx)
}

func (m Memory) data(ctx *C.wasmtime_context_t) []byte {
	p := C.wasmtime_memory_data(ctx, &m.mem)
	n := C.wasmtime_memory_data_size(ctx, &m.mem)
	if p == nil || n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n))
}

// Size returns the memory's current size in bytes (panics as Data does).
func (m Memory) Size() uint64 {
	return uint64(C.wasmtime_memory_data_size(m.context(), &m.mem))
}

// Close frees the linker. Idempotent.
func (l *Linker) Close() error {
	if l._ptr != nil {
		C.wasmtime_linker_delete(l._ptr)
		l._ptr = nil
	}
	return nil
}
