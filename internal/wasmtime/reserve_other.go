//go:build !unix

package wasmtime

// reserveAddressSpace cannot check anything here; Wasmtime will.
func reserveAddressSpace(uint64) error { return nil }
