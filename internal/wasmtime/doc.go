// Package wasmtime is redspin's Go binding over the Wasmtime 39 C API: engine
// and configuration, core modules and components (compile, serialize,
// deserialize), linkers with WASI and host functions, stores with limits and
// epoch deadlines, and traps as Go errors. It is the only package in redspin
// that uses cgo.
//
// The static library comes from github.com/bytecodealliance/wasmtime-go/v39,
// imported only for its link flags. binding.h declares just the C types and
// functions used here; TestLayout checks them against the upstream headers.
//
// # Ownership
//
// Every C object is owned by exactly one Go value, which frees it in Close.
// Close is idempotent; using an object after Close panics with "object has
// been closed". Finalizers are not used: callers close what they create
// (per-message objects with defer). Values that borrow a Store (Instance,
// Func, ComponentInstance, Memory) are valid until the Store is closed.
//
// # Concurrency
//
// Engine, Module, Component, Linker, InstancePre and ComponentLinker (once
// configured) are safe for concurrent use. A Store and everything in it must
// be used by one goroutine at a time.
//
// # Callbacks
//
// Host functions, WASI output writers and deadline callbacks are Go values in
// a handle table; only the integer handle crosses into C. A panic in a host
// function is recovered and becomes an error (a trap) for that call only.
package wasmtime
