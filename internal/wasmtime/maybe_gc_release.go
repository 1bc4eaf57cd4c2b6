//go:build !debug

package wasmtime

func maybeGC() {}
