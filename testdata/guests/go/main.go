// Command go is the "go" test guest: a Spin Redis handler written against the
// component-model canonical ABI by hand, for big Go's GOOS=wasip1 GOARCH=wasm
// -buildmode=c-shared (a WASI preview1 reactor). Protocol: ../README.md.
//
// Canonical ABI of
//
//	handle-message: func(message: list<u8>) -> result<_, error>   (error: enum {success, error})
//
// The protocol itself is in protocol.go, shared with ../go-sdk.
//
// core signature (ptr i32, len i32) -> i32: the returned i32 points to a 2-byte result
// area, byte 0 = 0 ok / 1 err, byte 1 = the error case (0 success, 1 error). The host
// lowers the payload into our memory through cabi_realloc.
package main

import (
	"runtime/debug"
	"unsafe"
)

const name = "go"

// live keeps the buffers handed to the host reachable until the handler takes them
// over (Go's GC does not move objects, so their addresses stay valid).
var live = map[uintptr][]byte{}

// gcPercent is the collector's setting (GOGC, default 100) while a handler runs. Outside
// handlers the collector is off, so that cabi_realloc never starts a collection: a
// collection reads the clock (WASI), and the component model forbids imported calls
// inside realloc (Wasmtime traps "cannot leave component instance"). Without this, a
// payload of about 1 MiB or more, which grows the heap past the collector's goal, traps.
var gcPercent int

//go:wasmexport cabi_realloc
func cabiRealloc(oldPtr, oldSize, align, newSize uint32) uint32 {
	if newSize == 0 {
		return align // any non-null aligned pointer will do for zero bytes
	}
	buf := make([]byte, newSize+align)
	p := uintptr(unsafe.Pointer(&buf[0]))
	p = (p + uintptr(align) - 1) &^ (uintptr(align) - 1)
	if oldPtr != 0 {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(p)), newSize),
			unsafe.Slice((*byte)(unsafe.Pointer(uintptr(oldPtr))), min(oldSize, newSize)))
		delete(live, uintptr(oldPtr))
	}
	live[p] = buf
	return uint32(p)
}

var retArea [2]byte

//go:wasmexport fermyon:spin/inbound-redis#handle-message
func handleMessage(ptr, length uint32) uint32 {
	debug.SetGCPercent(gcPercent)
	defer debug.SetGCPercent(-1) // waits for a running collection to finish
	var msg []byte
	if length > 0 {
		msg = unsafe.Slice((*byte)(unsafe.Pointer(uintptr(ptr))), length)
	}
	r := handle(msg)
	delete(live, uintptr(ptr))
	switch r {
	case errError:
		retArea[0], retArea[1] = 1, 1
	case errSuccess:
		retArea[0], retArea[1] = 1, 0
	default:
		retArea[0], retArea[1] = 0, 0
	}
	return uint32(uintptr(unsafe.Pointer(&retArea[0])))
}

// adapterArena is memory for the WASI preview1-to-preview2 adapter. The adapter
// allocates its state through the main module's `cabi_realloc_adapter` (or
// `cabi_realloc`) on the first WASI call, which Go makes while `_initialize` is still
// starting the runtime, when any //go:wasmexport call traps. So
// `cabi_realloc_adapter` is not Go code: scripts/guests/tools/add-adapter-realloc.mjs
// finds this array by its leading magic bytes in the data section and appends a small
// bump allocator over it. Go never touches it beyond the magic.
var adapterArena = [192 << 10]byte{'S', 'P', 'I', 'N', '-', 'A', 'D', 'A', 'P', 'T', 'E', 'R', '-', 'A', 'R', 'N'}

func main() {}

func init() {
	// Read the magic so that the linker keeps adapterArena.
	if adapterArena[0] != 'S' {
		panic("adapter arena magic missing")
	}
	gcPercent = debug.SetGCPercent(-1)
}
