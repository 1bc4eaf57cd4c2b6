//go:build debug

package wasmtime

import "runtime"

// maybeGC runs a collection before every use of a C object in debug builds
// (go test -tags debug, ideally with GOGC=1), so that a missing
// runtime.KeepAlive or a freed object shows up as a crash in tests.
func maybeGC() { runtime.GC() }
