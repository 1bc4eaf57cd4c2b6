// Package cresult unpacks component-model result values in tests of host
// interfaces (internal/wasi, wasi:http): the payload of an ok or err case,
// failing the test on the other case.
package cresult

import (
	"testing"

	"github.com/redspin/redspin/internal/wasmtime"
)

// OK returns the ok payload of the result v (the zero Val for a bare ok)
// and fails the test if v is not ok(...).
func OK(t testing.TB, v wasmtime.Val) wasmtime.Val {
	t.Helper()
	if v.Kind != wasmtime.CResult || !v.Ok {
		t.Fatalf("want ok, got %+v", v)
	}
	return payload(v)
}

// Err returns the err payload of the result v (the zero Val for a bare
// err) and fails the test if v is not err(...).
func Err(t testing.TB, v wasmtime.Val) wasmtime.Val {
	t.Helper()
	if v.Kind != wasmtime.CResult || v.Ok {
		t.Fatalf("want err, got %+v", v)
	}
	return payload(v)
}

func payload(v wasmtime.Val) wasmtime.Val {
	if v.Payload == nil {
		return wasmtime.Val{}
	}
	return *v.Payload
}
