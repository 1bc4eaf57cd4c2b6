package wasi

import (
	"context"
	"testing"

	"github.com/redspin/redspin/internal/wasmtime"
)

// fakeCaller stands in for a store: resources are plain host values.
type fakeCaller struct{ interrupted error }

func (f *fakeCaller) Data() any { return nil }

func (f *fakeCaller) FromHost(owned bool, rep, ty uint32) (wasmtime.Val, error) {
	return wasmtime.Val{Kind: wasmtime.CResource, Resource: &wasmtime.Resource{Host: true, Owned: owned, Rep: rep, Type: ty}}, nil
}

func (f *fakeCaller) ToHost(r *wasmtime.Resource) (uint32, uint32, bool, error) {
	return r.Rep, r.Type, r.Owned, nil
}

func (f *fakeCaller) Interrupt(cause error) error {
	f.interrupted = cause
	return cause
}

// newCall returns a Call on a fresh Ctx for cfg (closed with the test).
func newCall(t *testing.T, cfg Config) (*Call, *fakeCaller) {
	t.Helper()
	c, err := NewCtx(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	f := &fakeCaller{}
	return &Call{Ctx: c, c: f}, f
}

// call runs function fn of interface iface (unversioned) with args and
// returns its result (zero Val for functions without one).
func call(t *testing.T, x *Call, iface, fn string, args ...wasmtime.Val) (wasmtime.Val, error) {
	t.Helper()
	f, ok := interfaces()[iface][fn]
	if !ok {
		t.Fatalf("%s#%s not implemented", iface, fn)
	}
	res := make([]wasmtime.Val, 1)
	err := f(x, args, res)
	return res[0], err
}

// must is call that fails the test on a trap.
func must(t *testing.T, x *Call, iface, fn string, args ...wasmtime.Val) wasmtime.Val {
	t.Helper()
	v, err := call(t, x, iface, fn, args...)
	if err != nil {
		t.Fatalf("%s#%s: %v", iface, fn, err)
	}
	return v
}

// drop drops a resource as the guest would ([resource-drop]).
func drop(x *Call, v wasmtime.Val) error {
	return x.res.remove(v.Resource.Rep, v.Resource.Type)
}

var bg = context.Background()
