package wasmtime

// #include "binding.h"
import "C"

import (
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	// Linked for its cgo LDFLAGS (libwasmtime.a); its Go API is not used.
	_ "github.com/bytecodealliance/wasmtime-go/v39"
)

// handleTable maps integer handles (the void* data of C callbacks) to Go
// values. Handle 0 is never issued. Delete is idempotent. Lookups take no
// lock (every host call looks up its function and its store), so stores
// running on several threads do not contend on the table.
type handleTable struct {
	next atomic.Uintptr
	n    atomic.Int64
	m    sync.Map // uintptr -> any
}

var handles handleTable

func (t *handleTable) add(v any) uintptr {
	h := t.next.Add(1)
	t.m.Store(h, v)
	t.n.Add(1)
	return h
}

func (t *handleTable) get(h uintptr) any {
	v, _ := t.m.Load(h)
	return v
}

func (t *handleTable) del(h uintptr) {
	if _, ok := t.m.LoadAndDelete(h); ok {
		t.n.Add(-1)
	}
}

func (t *handleTable) len() int { return int(t.n.Load()) }

//export rsHandleDelete
func rsHandleDelete(h C.uintptr_t) { handles.del(uintptr(h)) }

// liveHandles reports how many callback handles are live (for leak tests).
func liveHandles() int { return handles.len() }

// cBytes returns a pointer to b's first byte for a C call (nil if empty).
// The caller keeps b alive across the call.
func cBytes(b []byte) *C.uint8_t {
	if len(b) == 0 {
		return nil
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0]))
}

// cStr returns a pointer to s's bytes (not NUL-terminated) and its length.
func cStr(s string) (*C.char, C.size_t) {
	if len(s) == 0 {
		return nil, 0
	}
	return (*C.char)(unsafe.Pointer(unsafe.StringData(s))), C.size_t(len(s))
}

// takeByteVec copies a wasm_byte_vec_t into Go memory and deletes it.
func takeByteVec(v *C.wasm_byte_vec_t) []byte {
	b := C.GoBytes(unsafe.Pointer(v.data), C.int(v.size))
	C.wasm_byte_vec_delete(v)
	return b
}

// Wat2Wasm translates WebAssembly text (core module or component) to binary.
func Wat2Wasm(wat string) ([]byte, error) {
	var out C.wasm_byte_vec_t
	p, n := cStr(wat)
	cerr := C.wasmtime_wat2wasm(p, n, &out)
	runtime.KeepAlive(wat)
	if cerr != nil {
		return nil, takeError(cerr)
	}
	return takeByteVec(&out), nil
}

// layouts reports sizeof/offsetof of the by-value C types declared in
// binding.h, keyed by the C expression (e.g. "sizeof(wasmtime_val_t)").
func layouts() map[string]uintptr {
	m := make(map[string]uintptr)
	for i := 0; ; i++ {
		var name *C.char
		v := C.rs_layout(C.int(i), &name)
		if name == nil {
			return m
		}
		m[C.GoString(name)] = uintptr(v)
	}
}

func unsafePointer(p *C.char) unsafe.Pointer { return unsafe.Pointer(p) }
