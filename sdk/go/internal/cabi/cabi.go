// Package cabi is the guest side of the component model's canonical ABI
// shared by the SDK's packages: the cabi_realloc export, which the host
// calls to hand the guest lists and strings, the collector discipline that
// keeps that export free of imported calls, and helpers that lower Go values
// into arguments and lift results out of a return area.
//
// # Memory handed over by the host
//
// cabi_realloc allocates ordinary Go byte slices and keeps each one in a
// table until the SDK takes it over ([Take], [TakeString]), so the
// collector neither frees it early nor leaks it. Go's collector does not
// move objects, so addresses given to the host stay valid.
//
// # The collector and cabi_realloc
//
// A collection reads the clock, a WASI import, and the component model
// forbids imported calls while the host is inside cabi_realloc (Wasmtime
// traps "cannot leave component instance"). So the collector is off
// whenever the host may call cabi_realloc: between messages (while the host
// lowers a payload) and during every imported call that returns a list or
// string ([PauseGC], [ResumeGC]). It runs at its normal setting (GOGC,
// default 100) only while handler code runs ([BeginHandler], [EndHandler]).
//
// Everything here assumes one thread, as a wasip1 guest has.
package cabi

import (
	"runtime"
	"runtime/debug"
	"strconv"
	"unsafe"
)

// live keeps the buffers handed to the host reachable until the SDK takes
// them over, keyed by the address given to the host.
var live = map[uintptr][]byte{}

// gcPercent is the collector's setting while handler code runs; inHandler
// says whether it runs now.
var (
	gcPercent = 100
	inHandler bool
)

// alloc is cabi_realloc: a Go byte slice of newSize bytes (plus room for the
// alignment), remembered in live. Zero bytes get a non-null aligned address.
func alloc(oldPtr, oldSize, align, newSize uint32) uint32 {
	align = max(align, 1)
	if newSize == 0 {
		return align
	}
	buf := make([]byte, newSize+align)
	start := uintptr(unsafe.Pointer(&buf[0]))
	p := unsafe.Add(unsafe.Pointer(&buf[0]), -start&(uintptr(align)-1))
	if oldPtr != 0 {
		copy(unsafe.Slice((*byte)(p), newSize), unsafe.Slice(at(oldPtr), min(oldSize, newSize)))
		delete(live, uintptr(oldPtr))
	}
	live[uintptr(p)] = buf
	return Ptr(p)
}

// Take returns the n bytes the host wrote at ptr (a buffer it allocated
// through cabi_realloc) without copying them, and stops keeping the buffer
// alive on the SDK's behalf: the caller now owns it. n == 0 gives nil.
func Take(ptr, n uint32) []byte {
	if n == 0 {
		return nil
	}
	delete(live, uintptr(ptr))
	return unsafe.Slice(at(ptr), n)
}

// TakeString is [Take] for a string (the host has checked it is UTF-8).
func TakeString(ptr, n uint32) string {
	if n == 0 {
		return ""
	}
	delete(live, uintptr(ptr))
	return unsafe.String(at(ptr), n)
}

// TakeStrings lifts a list<string> at ptr with n elements.
func TakeStrings(ptr, n uint32) []string {
	if n == 0 {
		return nil
	}
	words := Take(ptr, 8*n)
	out := make([]string, n)
	for i := range out {
		out[i] = TakeString(le32(words[8*i:]), le32(words[8*i+4:]))
	}
	return out
}

// BeginHandler switches the collector on for handler code; [EndHandler]
// switches it off again (waiting for a running collection to finish).
func BeginHandler() {
	inHandler = true
	debug.SetGCPercent(gcPercent)
}

// EndHandler ends what [BeginHandler] began.
func EndHandler() {
	debug.SetGCPercent(-1)
	inHandler = false
}

// PauseGC switches the collector off before an imported call that may call
// cabi_realloc; [ResumeGC] restores it after the call.
func PauseGC() {
	if inHandler {
		debug.SetGCPercent(-1)
	}
}

// ResumeGC ends what [PauseGC] began.
func ResumeGC() {
	if inHandler {
		debug.SetGCPercent(gcPercent)
	}
}

// at is the Go pointer for the guest address p (guest memory is the Go
// heap's, and its objects do not move).
func at(p uint32) *byte { return (*byte)(unsafe.Add(nil, uintptr(p))) }

// Ptr is the 32-bit guest address of p, as the canonical ABI passes it.
func Ptr(p unsafe.Pointer) uint32 { return uint32(uintptr(p)) }

// StringArg lowers s to (address, length). The caller keeps s alive
// (runtime.KeepAlive) until the imported call returns.
func StringArg(s string) (uint32, uint32) {
	return Ptr(unsafe.Pointer(unsafe.StringData(s))), uint32(len(s))
}

// BytesArg lowers b to (address, length), like [StringArg].
func BytesArg(b []byte) (uint32, uint32) {
	return Ptr(unsafe.Pointer(unsafe.SliceData(b))), uint32(len(b))
}

// StringsArg lowers a list<string>: an array of (address, length) pairs.
// The caller keeps both ss and the returned array alive until the call
// returns.
func StringsArg(ss []string) (list []uint32, ptr, n uint32) {
	list = make([]uint32, 2*len(ss))
	for i, s := range ss {
		list[2*i], list[2*i+1] = StringArg(s)
	}
	return list, Ptr(unsafe.Pointer(unsafe.SliceData(list))), uint32(len(ss))
}

// Area is a return area: 32 bytes, 8-byte aligned, enough for every result
// the SDK's interfaces return.
type Area [4]uint64

// Ptr is the area's guest address.
func (a *Area) Ptr() uint32 { return Ptr(unsafe.Pointer(a)) }

func (a *Area) bytes() *[32]byte { return (*[32]byte)(unsafe.Pointer(a)) }

// U8 reads the byte at off (a discriminant or a bool).
func (a *Area) U8(off int) uint8 { return a.bytes()[off] }

// U32 reads the little-endian u32 at off (an address, a length, a handle).
func (a *Area) U32(off int) uint32 { return le32(a.bytes()[off:]) }

// U64 reads the little-endian u64 at off.
func (a *Area) U64(off int) uint64 {
	return uint64(a.U32(off)) | uint64(a.U32(off+4))<<32
}

// Bytes takes over the list<u8> whose (address, length) is at off.
func (a *Area) Bytes(off int) []byte { return Take(a.U32(off), a.U32(off+4)) }

// String takes over the string whose (address, length) is at off.
func (a *Area) String(off int) string { return TakeString(a.U32(off), a.U32(off+4)) }

// Strings takes over the list<string> whose (address, length) is at off.
func (a *Area) Strings(off int) []string { return TakeStrings(a.U32(off), a.U32(off+4)) }

// StringPairs takes over the list<tuple<string, string>> whose (address,
// length) is at off, flattened: first, second, first, second, ... (its
// memory is that of a list<string> twice as long).
func (a *Area) StringPairs(off int) []string { return TakeStrings(a.U32(off), 2*a.U32(off+4)) }

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// NotWasm panics with a message saying that iface is only available in a
// GOOS=wasip1 guest. The SDK's imports call it when built for the host.
func NotWasm(iface string) {
	panic(iface + " is only available in a GOOS=wasip1 GOARCH=wasm guest run by redspin or Spin")
}

// The shapes of imported calls the SDK's interfaces share: a handle (or
// none), a string, maybe bytes or a list of strings, and the return area.
// Each call runs with the collector paused and keeps its arguments alive.

// CallString calls f(h, s, ret).
func CallString(f func(h, p, n, ret uint32), h uint32, s string, a *Area) {
	p, n := StringArg(s)
	PauseGC()
	f(h, p, n, a.Ptr())
	ResumeGC()
	runtime.KeepAlive(s)
}

// CallStringBytes calls f(h, s, b, ret).
func CallStringBytes(f func(h, p, n, bp, bn, ret uint32), h uint32, s string, b []byte, a *Area) {
	p, n := StringArg(s)
	bp, bn := BytesArg(b)
	PauseGC()
	f(h, p, n, bp, bn, a.Ptr())
	ResumeGC()
	runtime.KeepAlive(s)
	runtime.KeepAlive(b)
}

// CallStringStrings calls f(h, s, list, ret).
func CallStringStrings(f func(h, p, n, lp, ln, ret uint32), h uint32, s string, list []string, a *Area) {
	p, n := StringArg(s)
	arr, lp, ln := StringsArg(list)
	PauseGC()
	f(h, p, n, lp, ln, a.Ptr())
	ResumeGC()
	runtime.KeepAlive(s)
	runtime.KeepAlive(list)
	runtime.KeepAlive(arr)
}

// IsErr reports whether the result at the start of the area is err.
func (a *Area) IsErr() bool { return a.U8(0) != 0 }

// Variant lifts the error variant at off whose case otherCase carries a
// string (the other cases carry nothing): the case and that string.
func (a *Area) Variant(off int, otherCase uint8) (uint8, string) {
	c := a.U8(off)
	if c == otherCase {
		return c, a.String(off + 4)
	}
	return c, ""
}

// OptionBytes lifts option<list<u8>> at off: found is false for none, and a
// found empty value is an empty, non-nil slice.
func (a *Area) OptionBytes(off int) (value []byte, found bool) {
	if a.U8(off) == 0 {
		return nil, false
	}
	v := a.Bytes(off + 4)
	if v == nil {
		v = []byte{}
	}
	return v, true
}

// CaseName is names[c], or "error(c)" for a case the SDK does not know.
func CaseName(names []string, c uint8) string {
	if int(c) < len(names) {
		return names[c]
	}
	return "error(" + strconv.Itoa(int(c)) + ")"
}
