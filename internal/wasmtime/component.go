package wasmtime

// #include "binding.h"
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"
)

// Component is a compiled component. Safe for concurrent use.
type Component struct {
	_ptr   *C.wasmtime_component_t
	engine *Engine
}

// NewComponent compiles a component (binary) for engine e.
func NewComponent(e *Engine, wasm []byte) (*Component, error) {
	var p *C.wasmtime_component_t
	cerr := C.wasmtime_component_new(e.ptr(), cBytes(wasm), C.size_t(len(wasm)), &p)
	runtime.KeepAlive(wasm)
	runtime.KeepAlive(e)
	if cerr != nil {
		return nil, takeError(cerr)
	}
	return &Component{_ptr: p, engine: e}, nil
}

// DeserializeComponent loads a component serialized by
// Component.Serialize with a compatible engine. The data must be trusted.
func DeserializeComponent(e *Engine, data []byte) (*Component, error) {
	var p *C.wasmtime_component_t
	cerr := C.wasmtime_component_deserialize(e.ptr(), cBytes(data), C.size_t(len(data)), &p)
	runtime.KeepAlive(data)
	runtime.KeepAlive(e)
	if cerr != nil {
		return nil, takeError(cerr)
	}
	return &Component{_ptr: p, engine: e}, nil
}

func (c *Component) ptr() *C.wasmtime_component_t {
	maybeGC()
	if c._ptr == nil {
		panic("wasmtime: component: object has been closed")
	}
	return c._ptr
}

// Serialize returns the compiled component's bytes.
func (c *Component) Serialize() ([]byte, error) {
	var out C.wasm_byte_vec_t
	cerr := C.wasmtime_component_serialize(c.ptr(), &out)
	runtime.KeepAlive(c)
	if cerr != nil {
		return nil, takeError(cerr)
	}
	return takeByteVec(&out), nil
}

// ExportIndex looks up an export: name in parent (an exported instance), or
// at the top level when parent is nil. The index is valid for every
// instance of c; cache it. The caller closes it.
func (c *Component) ExportIndex(parent *ExportIndex, name string) (*ExportIndex, bool) {
	var pp *C.wasmtime_component_export_index_t
	if parent != nil {
		pp = parent.ptr()
	}
	p, n := cStr(name)
	idx := C.wasmtime_component_get_export_index(c.ptr(), pp, p, n)
	runtime.KeepAlive(name)
	runtime.KeepAlive(c)
	runtime.KeepAlive(parent)
	if idx == nil {
		return nil, false
	}
	return &ExportIndex{_ptr: idx}, true
}

// ImportInfo describes one top-level import of a component.
type ImportInfo struct {
	Name string
	// Instance is true for an instance import (an interface).
	Instance bool
	// HasFuncs is true when the import is a function or an instance with at
	// least one function (false for type-only interfaces).
	HasFuncs bool
	// Funcs and Resources name the functions and resource types an
	// instance import exports (e.g. "[method]fields.get", "fields").
	Funcs, Resources []string
	// ResourceTypes are the types of Resources (same order), for telling
	// which resources of different imports are the same type. Close frees
	// them.
	ResourceTypes []*ResourceType
}

// Close frees the import's resource types. Idempotent.
func (i *ImportInfo) Close() {
	for _, t := range i.ResourceTypes {
		t.Close()
	}
	i.ResourceTypes = nil
}

// ResourceType is a component resource type.
type ResourceType struct {
	_ptr *C.wasmtime_component_resource_type_t
}

func (t *ResourceType) ptr() *C.wasmtime_component_resource_type_t {
	maybeGC()
	if t._ptr == nil {
		panic("wasmtime: resource type: object has been closed")
	}
	return t._ptr
}

// Equal reports whether two resource types are the same type.
func (t *ResourceType) Equal(o *ResourceType) bool {
	return bool(C.wasmtime_component_resource_type_equal(t.ptr(), o.ptr()))
}

// Clone returns an independent copy (closed separately).
func (t *ResourceType) Clone() *ResourceType {
	return &ResourceType{_ptr: C.wasmtime_component_resource_type_clone(t.ptr())}
}

// Close frees the type. Idempotent.
func (t *ResourceType) Close() {
	if t != nil && t._ptr != nil {
		C.wasmtime_component_resource_type_delete(t._ptr)
		t._ptr = nil
	}
}

// Item kinds (wasmtime/component/types/component.h).
const (
	itemComponentInstance = 1
	itemComponentFunc     = 3
	itemResource          = 4
)

// Imports lists the component's top-level imports.
func (c *Component) Imports() []ImportInfo {
	ty := C.wasmtime_component_type(c.ptr())
	defer C.wasmtime_component_type_delete(ty)
	e := c.engine.ptr()
	n := int(C.wasmtime_component_type_import_count(ty, e))
	out := make([]ImportInfo, 0, n)
	for i := 0; i < n; i++ {
		var name *C.char
		var nameLen C.size_t
		var item C.wasmtime_component_item_t
		if !C.wasmtime_component_type_import_nth(ty, e, C.size_t(i), &name, &nameLen, &item) {
			continue
		}
		info := ImportInfo{Name: C.GoStringN(name, C.int(nameLen))}
		switch item.kind {
		case itemComponentFunc:
			info.HasFuncs = true
		case itemComponentInstance:
			info.Instance = true
			it := *(**C.wasmtime_component_instance_type_t)(unsafe.Pointer(&item.of))
			m := int(C.wasmtime_component_instance_type_export_count(it, e))
			for j := 0; j < m; j++ {
				var sub C.wasmtime_component_item_t
				var sn *C.char
				var sl C.size_t
				if C.wasmtime_component_instance_type_export_nth(it, e, C.size_t(j), &sn, &sl, &sub) {
					switch sub.kind {
					case itemComponentFunc:
						info.HasFuncs = true
						info.Funcs = append(info.Funcs, C.GoStringN(sn, C.int(sl)))
					case itemResource:
						info.Resources = append(info.Resources, C.GoStringN(sn, C.int(sl)))
						rt := *(**C.wasmtime_component_resource_type_t)(unsafe.Pointer(&sub.of))
						info.ResourceTypes = append(info.ResourceTypes,
							&ResourceType{_ptr: C.wasmtime_component_resource_type_clone(rt)})
					}
					C.wasmtime_component_item_delete(&sub)
				}
			}
		}
		C.wasmtime_component_item_delete(&item)
		out = append(out, info)
	}
	runtime.KeepAlive(c)
	return out
}

// Close frees the component. Idempotent.
func (c *Component) Close() error {
	if c._ptr != nil {
		C.wasmtime_component_delete(c._ptr)
		c._ptr = nil
	}
	return nil
}

// ExportIndex identifies a component export; see Component.ExportIndex.
type ExportIndex struct {
	_ptr *C.wasmtime_component_export_index_t
}

func (x *ExportIndex) ptr() *C.wasmtime_component_export_index_t {
	maybeGC()
	if x._ptr == nil {
		panic("wasmtime: export index: object has been closed")
	}
	return x._ptr
}

// Close frees the index. Idempotent.
func (x *ExportIndex) Close() error {
	if x != nil && x._ptr != nil {
		C.wasmtime_component_export_index_delete(x._ptr)
		x._ptr = nil
	}
	return nil
}

// ComponentLinker links components with WASI preview 2 and host functions.
// Define everything first; then it is safe for concurrent Instantiate.
type ComponentLinker struct {
	_ptr   *C.wasmtime_component_linker_t
	engine *Engine
	// open is the linker instance currently borrowing the linker, if any:
	// Wasmtime requires exclusive access while one exists.
	open *LinkerInstance
	wasi bool
}

// NewComponentLinker creates a component linker.
func NewComponentLinker(e *Engine) *ComponentLinker {
	p := C.wasmtime_component_linker_new(e.ptr())
	runtime.KeepAlive(e)
	return &ComponentLinker{_ptr: p, engine: e}
}

func (l *ComponentLinker) ptr() *C.wasmtime_component_linker_t {
	maybeGC()
	if l._ptr == nil {
		panic("wasmtime: component linker: object has been closed")
	}
	if l.open != nil {
		panic("wasmtime: component linker used while a LinkerInstance is open")
	}
	return l._ptr
}

// AllowShadowing lets later definitions replace earlier ones.
func (l *ComponentLinker) AllowShadowing(allow bool) {
	C.wasmtime_component_linker_allow_shadowing(l.ptr(), C.bool(allow))
}

// AddWASIP2 defines the WASI 0.2 interfaces (wasi:cli, io, clocks,
// filesystem, random, sockets); stores need SetWASI before a guest uses them.
func (l *ComponentLinker) AddWASIP2() error {
	if cerr := C.wasmtime_component_linker_add_wasip2(l.ptr()); cerr != nil {
		return takeError(cerr)
	}
	l.wasi = true
	return nil
}

// DefineUnknownImportsAsTraps defines every import of c that is not yet
// defined as functions that trap when called.
func (l *ComponentLinker) DefineUnknownImportsAsTraps(c *Component) error {
	cerr := C.wasmtime_component_linker_define_unknown_imports_as_traps(l.ptr(), c.ptr())
	runtime.KeepAlive(c)
	if cerr != nil {
		return takeError(cerr)
	}
	return nil
}

// Root opens the linker's root instance for definitions. The linker cannot
// be used until the returned instance is closed.
func (l *ComponentLinker) Root() *LinkerInstance {
	li := &LinkerInstance{_ptr: C.wasmtime_component_linker_root(l.ptr()), linker: l}
	l.open = li
	return li
}

// Instantiate creates an instance of c in s. If the linker has WASI and s
// has no WASI context, s gets an empty one.
func (l *ComponentLinker) Instantiate(s *Store, c *Component) (*ComponentInstance, error) {
	if l.wasi {
		if err := s.ensureWASI(); err != nil {
			return nil, err
		}
	}
	var inst C.wasmtime_component_instance_t
	cerr := C.wasmtime_component_linker_instantiate(l.ptr(), s.context(), c.ptr(), &inst)
	runtime.KeepAlive(l)
	runtime.KeepAlive(s)
	runtime.KeepAlive(c)
	if cerr != nil {
		return nil, s.callErr(takeError(cerr))
	}
	return &ComponentInstance{store: s, inst: inst}, nil
}

// Close frees the linker. Idempotent.
func (l *ComponentLinker) Close() error {
	if l._ptr != nil {
		if l.open != nil {
			l.open.Close()
		}
		C.wasmtime_component_linker_delete(l._ptr)
		l._ptr = nil
	}
	return nil
}

// LinkerInstance is an instance being defined in a ComponentLinker (the
// root, or a named interface). Close it before using the linker again;
// nested instances must be closed before their parent.
type LinkerInstance struct {
	_ptr   *C.wasmtime_component_linker_instance_t
	linker *ComponentLinker
	parent *LinkerInstance
	child  *LinkerInstance
}

func (li *LinkerInstance) ptr() *C.wasmtime_component_linker_instance_t {
	maybeGC()
	if li._ptr == nil {
		panic("wasmtime: linker instance: object has been closed")
	}
	if li.child != nil {
		panic("wasmtime: linker instance used while a nested instance is open")
	}
	return li._ptr
}

// AddInstance opens a nested instance called name (e.g. "fermyon:spin/redis@2.0.0").
func (li *LinkerInstance) AddInstance(name string) (*LinkerInstance, error) {
	var out *C.wasmtime_component_linker_instance_t
	p, n := cStr(name)
	cerr := C.wasmtime_component_linker_instance_add_instance(li.ptr(), p, n, &out)
	runtime.KeepAlive(name)
	if cerr != nil {
		return nil, takeError(cerr)
	}
	child := &LinkerInstance{_ptr: out, linker: li.linker, parent: li}
	li.child = child
	return child, nil
}

// ComponentHostFunc implements a component host function. args are the
// lifted arguments; the function fills in results (len = the function's
// result count). An error traps the guest. The slices (not the values in
// them) are the store's and reused by its next host call: do not keep them
// past the call, nor the caller.
type ComponentHostFunc func(c *ComponentCaller, args []Val, results []Val) error

type componentFunc struct {
	fn   ComponentHostFunc
	name string
}

// ComponentCaller is what a component host function sees of its store.
// Valid only during the host call.
type ComponentCaller struct {
	ctx   *C.wasmtime_context_t
	store *storeData
}

// Data returns the store's user data (Store.SetData).
func (c *ComponentCaller) Data() any {
	if c.store == nil {
		return nil
	}
	return c.store.data
}

// Value returns what Store.SetValue attached under key (nil = nothing).
func (c *ComponentCaller) Value(key any) any {
	if c.store == nil {
		return nil
	}
	return c.store.value(key)
}

// Interrupt stops the guest the way the epoch deadline callback does: the
// call that is running fails with a TrapInterrupt error wrapping cause
// (so errors.Is(err, context.DeadlineExceeded) works for ctx.Err()). A
// host function that blocks (e.g. waiting for I/O) returns Interrupt's
// result when the message's context or deadline ends the wait.
func (c *ComponentCaller) Interrupt(cause error) error {
	if c.store != nil {
		c.store.interrupt.Store(&cause)
	}
	return cause
}

// AddFunc defines a host function called name in this instance.
func (li *LinkerInstance) AddFunc(name string, fn ComponentHostFunc) error {
	h := handles.add(&componentFunc{fn: fn, name: name})
	p, n := cStr(name)
	cerr := C.rs_component_add_func(li.ptr(), p, n, C.uintptr_t(h))
	runtime.KeepAlive(name)
	if cerr != nil {
		return takeError(cerr)
	}
	return nil
}

// ResourceDestructor is called when the guest drops an owned host resource
// of the type, with the resource's rep.
type ResourceDestructor func(c *ComponentCaller, rep uint32) error

type resourceDtor struct {
	fn   ResourceDestructor
	name string
}

// AddResource defines a host resource type called name, identified by ty
// (a host-chosen number; see ResourceHost).
func (li *LinkerInstance) AddResource(name string, ty uint32, dtor ResourceDestructor) error {
	h := handles.add(&resourceDtor{fn: dtor, name: name})
	p, n := cStr(name)
	cerr := C.rs_component_add_resource(li.ptr(), p, n, C.uint32_t(ty), C.uintptr_t(h))
	runtime.KeepAlive(name)
	if cerr != nil {
		return takeError(cerr)
	}
	return nil
}

// AddResourceType defines a resource called name with an existing type
// (e.g. one taken from a WASI resource value with Resource.ResourceType).
func (li *LinkerInstance) AddResourceType(name string, ty *ResourceType, dtor ResourceDestructor) error {
	h := handles.add(&resourceDtor{fn: dtor, name: name})
	p, n := cStr(name)
	cerr := C.rs_component_add_resource_type(li.ptr(), p, n, ty.ptr(), C.uintptr_t(h))
	runtime.KeepAlive(name)
	runtime.KeepAlive(ty)
	if cerr != nil {
		return takeError(cerr)
	}
	return nil
}

// Close finishes the instance's definitions. Idempotent.
func (li *LinkerInstance) Close() error {
	if li._ptr == nil {
		return nil
	}
	if li.child != nil {
		li.child.Close()
	}
	C.wasmtime_component_linker_instance_delete(li._ptr)
	li._ptr = nil
	if li.parent != nil {
		li.parent.child = nil
	} else if li.linker.open == li {
		li.linker.open = nil
	}
	return nil
}

//export rsComponentCall
func rsComponentCall(h C.uintptr_t, ctx *C.wasmtime_context_t, args *C.wasmtime_component_val_t, nargs C.size_t,
	results *C.wasmtime_component_val_t, nresults C.size_t) (cerr *C.wasmtime_error_t) {
	f, _ := handles.get(uintptr(h)).(*componentFunc)
	if f == nil {
		return newCError(errors.New("host function not found"))
	}
	sd, _ := handles.get(uintptr(C.rs_store_handle(ctx))).(*storeData)
	// The store's caller and argument buffer serve the call unless one is
	// already running (see storeData.inCall).
	var c *ComponentCaller
	var vals []Val
	n := int(nargs) + int(nresults)
	if sd != nil && !sd.inCall {
		sd.inCall = true
		c = &sd.caller
		if cap(sd.scratch) < n {
			sd.scratch = make([]Val, max(n, 8))
		}
		vals = sd.scratch[:n]
	} else {
		c = &ComponentCaller{}
		vals = make([]Val, n)
	}
	c.ctx, c.store = ctx, sd
	defer func() {
		c.ctx = nil
		clear(vals)
		if sd != nil && c == &sd.caller {
			sd.inCall = false
		}
		if r := recover(); r != nil {
			err := fmt.Errorf("panic in host function %s: %v", f.name, r)
			if sd != nil {
				sd.panicked.Store(&err)
			}
			cerr = newCError(err)
		}
	}()
	in, out := vals[:nargs:nargs], vals[nargs:]
	av := unsafe.Slice(args, int(nargs))
	for i := range av {
		in[i] = valFromC(&av[i])
	}
	if err := f.fn(c, in, out); err != nil {
		return newCError(err)
	}
	rv := unsafe.Slice(results, int(nresults))
	for i := range rv {
		valToC(&out[i], &rv[i])
	}
	return nil
}

//export rsResourceDrop
func rsResourceDrop(h C.uintptr_t, ctx *C.wasmtime_context_t, rep C.uint32_t) (cerr *C.wasmtime_error_t) {
	d, _ := handles.get(uintptr(h)).(*resourceDtor)
	if d == nil || d.fn == nil {
		return nil
	}
	sd, _ := handles.get(uintptr(C.rs_store_handle(ctx))).(*storeData)
	c := &ComponentCaller{ctx: ctx, store: sd}
	defer func() {
		c.ctx = nil
		if r := recover(); r != nil {
			cerr = newCError(fmt.Errorf("panic in resource destructor %s: %v", d.name, r))
		}
	}()
	if err := d.fn(c, uint32(rep)); err != nil {
		return newCError(err)
	}
	return nil
}

// ComponentInstance is an instance of a component in a Store; valid while
// the store is.
type ComponentInstance struct {
	store *Store
	inst  C.wasmtime_component_instance_t
}

// Func returns the exported function at idx.
func (ci *ComponentInstance) Func(idx *ExportIndex) (*ComponentFunc, bool) {
	var f C.wasmtime_component_func_t
	ok := C.wasmtime_component_instance_get_func(&ci.inst, ci.store.context(), idx.ptr(), &f)
	runtime.KeepAlive(idx)
	runtime.KeepAlive(ci)
	if !ok {
		return nil, false
	}
	return &ComponentFunc{store: ci.store, fn: f}, true
}

// ComponentFunc is an exported component function; valid while its store is.
type ComponentFunc struct {
	store *Store
	fn    C.wasmtime_component_func_t
}

// ErrResultShape reports a function whose result is not result<_, enum>.
var ErrResultShape = errors.New("function result is not result<_, enum>")

// CallBytesResult calls a function of type
// func(list<u8>) -> result<_, enum> (Spin's handle-message) with payload,
// runs post-return, and reports ok, or the enum case name of the error.
//
// The C API passes a list<u8> as one 32-byte value per byte, so callers
// should cap the payload size.
func (f *ComponentFunc) CallBytesResult(payload []byte) (ok bool, errCase string, err error) {
	r := C.rs_call_bytes_result(&f.fn, f.store.context(), cBytes(payload), C.size_t(len(payload)))
	runtime.KeepAlive(payload)
	runtime.KeepAlive(f)
	if r.err != nil {
		return false, "", f.store.callErr(takeError(r.err))
	}
	if r.shape_ok == 0 {
		return false, "", ErrResultShape
	}
	if r.is_ok != 0 {
		return true, "", nil
	}
	return false, C.GoStringN(&r.case_name[0], C.int(r.case_len)), nil
}

// Call calls the function with args and returns its results (nresults of
// them), running post-return.
func (f *ComponentFunc) Call(args []Val, nresults int) ([]Val, error) {
	cargs := make([]C.wasmtime_component_val_t, len(args)+nresults)
	// Args are built in C-allocated memory owned by cargs; freed below.
	for i := range args {
		valToC(&args[i], &cargs[i])
	}
	var argp, resp *C.wasmtime_component_val_t
	if len(args) > 0 {
		argp = &cargs[0]
	}
	if nresults > 0 {
		resp = &cargs[len(args)]
	}
	ctx := f.store.context()
	cerr := C.wasmtime_component_func_call(&f.fn, ctx, argp, C.size_t(len(args)), resp, C.size_t(nresults))
	for i := range args {
		C.wasmtime_component_val_delete(&cargs[i])
	}
	if cerr != nil {
		runtime.KeepAlive(f)
		return nil, f.store.callErr(takeError(cerr))
	}
	out := make([]Val, nresults)
	for i := range out {
		out[i] = valFromC(&cargs[len(args)+i])
	}
	cerr = C.wasmtime_component_func_post_return(&f.fn, ctx)
	for i := 0; i < nresults; i++ {
		C.wasmtime_component_val_delete(&cargs[len(args)+i])
	}
	runtime.KeepAlive(f)
	if cerr != nil {
		return nil, f.store.callErr(takeError(cerr))
	}
	return out, nil
}
