package wasi

import "github.com/redspin/redspin/internal/wasmtime"

// NewFakeCall returns a Call on c without a store, for unit tests of host
// interfaces built on this package (wasi:http): resource handles are plain
// host values, Data returns data, and an interruption is returned as the
// error it carries.
func NewFakeCall(c *Ctx, data any) *Call { return &Call{Ctx: c, c: plainCaller{data}} }

// Drop drops resource v as the guest's [resource-drop] would: it fails
// while resources created from v are alive.
func (x *Call) Drop(v wasmtime.Val) error {
	if v.Kind != wasmtime.CResource || v.Resource == nil {
		return errNotResource
	}
	return x.res.remove(v.Resource.Rep, v.Resource.Type)
}

// Live returns how many resources the store's table holds.
func (x *Call) Live() int { return x.res.live() }

var errNotResource = errorString("not a resource handle")

type errorString string

func (e errorString) Error() string { return string(e) }

// plainCaller is NewFakeCall's caller.
type plainCaller struct{ data any }

func (p plainCaller) Data() any { return p.data }

func (plainCaller) FromHost(owned bool, rep, ty uint32) (wasmtime.Val, error) {
	return wasmtime.Val{Kind: wasmtime.CResource, Resource: &wasmtime.Resource{Host: true, Owned: owned, Rep: rep, Type: ty}}, nil
}

func (plainCaller) ToHost(r *wasmtime.Resource) (uint32, uint32, bool, error) {
	return r.Rep, r.Type, r.Owned, nil
}

func (plainCaller) Interrupt(cause error) error { return cause }
