// Package wasi implements WASI 0.2 for components in Go, on the host
// functions and host resources of internal/wasmtime: wasi:io (error,
// poll, streams), wasi:cli (stdin, stdout, stderr, terminal-*,
// environment, exit), wasi:clocks (monotonic-clock, wall-clock),
// wasi:random (random, insecure, insecure-seed), wasi:filesystem (types,
// preopens: read-only mounts) and wasi:sockets (denied).
//
// It exists because Wasmtime's own WASI (add_wasip2) defines its stream and
// pollable resources as types the C API can neither create nor read, so an
// interface that shares them (wasi:http/types returns wasi:io streams)
// cannot be implemented beside it. Here every WASI resource is a host
// resource with a type number of this package, shared by every interface
// and every 0.2.x version that uses it, so other host interfaces can hand
// the guest streams and pollables of their own (see NewReaderStream,
// NewWriterStream, NewChanPollable and Call.Push).
//
// Link defines, on a component linker, every imported interface this
// package serves, by the exact imported name (so wasi:io/streams@0.2.0
// and @0.2.12 both link). Each store gets a Ctx (NewCtx, then
// Attach), which host functions find through the store (not its Data,
// which stays the other host interfaces'); it owns the store's resource
// table and is closed when the store is gone.
//
// wasi:http (types, outgoing-handler) is defined too, so that components
// importing it instantiate, but its functions fail with "wasi:http ... is
// not supported yet" until an implementation is passed to Link in Extra.
package wasi
