//go:build wasip1

package cabi

import "runtime/debug"

//go:wasmexport cabi_realloc
func cabiRealloc(oldPtr, oldSize, align, newSize uint32) uint32 {
	return alloc(oldPtr, oldSize, align, newSize)
}

// adapterArena is memory for the WASI preview1-to-preview2 adapter of a
// component made from this module. The adapter allocates its state through
// the module's cabi_realloc_adapter on the first WASI call, which Go makes
// while _initialize is still starting the runtime, when calling any Go
// export traps. So cabi_realloc_adapter is not Go code: the post-link step
// (package componentize) finds this array by its leading magic bytes in the
// data section and appends a small bump allocator over it. Go never touches
// it beyond the magic.
var adapterArena = [192 << 10]byte{'S', 'P', 'I', 'N', '-', 'A', 'D', 'A', 'P', 'T', 'E', 'R', '-', 'A', 'R', 'N'}

func init() {
	// Read the magic so that the linker keeps adapterArena.
	if adapterArena[0] != 'S' {
		panic("redspin sdk: adapter arena magic missing")
	}
	// The collector stays off outside handlers (see the package comment).
	gcPercent = debug.SetGCPercent(-1)
}
