package wasmtime

// #include "binding.h"
import "C"

import (
	"math"
	"unsafe"
)

// CKind is the kind of a component value (wasmtime/component/val.h order).
type CKind uint8

// Component value kinds.
const (
	CBool CKind = iota
	CS8
	CU8
	CS16
	CU16
	CS32
	CU32
	CS64
	CU64
	CF32
	CF64
	CChar
	CString
	CList
	CRecord
	CTuple
	CVariant
	CEnum
	COption
	CResult
	CFlags
	CResource
)

// Val is a component-model value, converted to and from Wasmtime's
// representation at host-function boundaries.
//
//   - bool, integers, char: Num (sign-extended for signed kinds); floats:
//     Num holds the IEEE bits (use F64/F32 helpers).
//   - string: Str. enum: Str is the case name. variant: Str is the case
//     name, Payload the value if any.
//   - list, tuple: Elems. A list<u8> may instead use Bytes (host results);
//     lifted list<u8> arguments always arrive in Bytes.
//   - record: Names[i] and Elems[i]. flags: Names are the set flags.
//   - option: Payload (nil = none). result: Ok, and Payload if any.
//   - resource: Resource.
type Val struct {
	Kind     CKind
	Num      uint64
	Str      string
	Bytes    []byte
	Elems    []Val
	Names    []string
	Payload  *Val
	Ok       bool
	Resource *Resource
}

// Resource is a component resource handle. Host resources carry Rep and
// Type chosen by the host; guest resources are opaque (Host is false).
// A Resource received from Wasmtime (a Call result or host-function
// argument) owns a handle: Close it when done (Wasmtime's own cleanup runs
// when its store is closed). Returning it to Wasmtime moves the handle.
type Resource struct {
	Host  bool
	Owned bool
	Rep   uint32
	Type  uint32
	any   *C.wasmtime_component_resource_any_t // for guest resources
}

// Convenience constructors.
func U8(v uint8) Val               { return Val{Kind: CU8, Num: uint64(v)} }
func U32(v uint32) Val             { return Val{Kind: CU32, Num: uint64(v)} }
func S64(v int64) Val              { return Val{Kind: CS64, Num: uint64(v)} }
func Str(s string) Val             { return Val{Kind: CString, Str: s} }
func Bytes(b []byte) Val           { return Val{Kind: CList, Bytes: b} }
func Enum(c string) Val            { return Val{Kind: CEnum, Str: c} }
func OkVal(p *Val) Val             { return Val{Kind: CResult, Ok: true, Payload: p} }
func ErrVal(p *Val) Val            { return Val{Kind: CResult, Payload: p} }
func Some(p Val) Val               { return Val{Kind: COption, Payload: &p} }
func None() Val                    { return Val{Kind: COption} }
func Variant(c string, p *Val) Val { return Val{Kind: CVariant, Str: c, Payload: p} }

// F64 returns a float64 value's number.
func (v Val) F64() float64 { return math.Float64frombits(v.Num) }

func nameToGo(n *C.wasm_name_t) string {
	if n.size == 0 {
		return ""
	}
	return C.GoStringN(n.data, C.int(n.size))
}

func nameToC(s string, out *C.wasm_name_t) {
	p, n := cStr(s)
	C.wasm_byte_vec_new(out, n, p)
}

// valFromC copies a C component value into Go (the C value is not freed).
func valFromC(c *C.wasmtime_component_val_t) Val {
	k := CKind(c.kind)
	of := unsafe.Pointer(&c.of)
	v := Val{Kind: k}
	switch k {
	case CBool:
		if *(*C.bool)(of) {
			v.Num = 1
		}
	case CS8:
		v.Num = uint64(int64(*(*int8)(of)))
	case CU8:
		v.Num = uint64(*(*uint8)(of))
	case CS16:
		v.Num = uint64(int64(*(*int16)(of)))
	case CU16:
		v.Num = uint64(*(*uint16)(of))
	case CS32:
		v.Num = uint64(int64(*(*int32)(of)))
	case CU32, CChar:
		v.Num = uint64(*(*uint32)(of))
	case CS64, CU64, CF64:
		v.Num = *(*uint64)(of)
	case CF32:
		v.Num = uint64(*(*uint32)(of))
	case CString, CEnum:
		v.Str = nameToGo((*C.wasm_name_t)(of))
	case CList, CTuple:
		l := (*C.wasmtime_component_vallist_t)(of)
		elems := unsafe.Slice(l.data, int(l.size))
		if k == CList && len(elems) > 0 && CKind(elems[0].kind) == CU8 {
			v.Bytes = make([]byte, len(elems))
			for i := range elems {
				v.Bytes[i] = *(*uint8)(unsafe.Pointer(&elems[i].of))
			}
			break
		}
		v.Elems = make([]Val, len(elems))
		for i := range elems {
			v.Elems[i] = valFromC(&elems[i])
		}
	case CRecord:
		r := (*C.wasmtime_component_valrecord_t)(of)
		ents := unsafe.Slice(r.data, int(r.size))
		v.Names = make([]string, len(ents))
		v.Elems = make([]Val, len(ents))
		for i := range ents {
			v.Names[i] = nameToGo(&ents[i].name)
			v.Elems[i] = valFromC(&ents[i].val)
		}
	case CVariant:
		vv := (*C.wasmtime_component_valvariant_t)(of)
		v.Str = nameToGo(&vv.discriminant)
		if vv.val != nil {
			p := valFromC(vv.val)
			v.Payload = &p
		}
	case COption:
		if p := *(**C.wasmtime_component_val_t)(of); p != nil {
			pv := valFromC(p)
			v.Payload = &pv
		}
	case CResult:
		r := (*C.wasmtime_component_valresult_t)(of)
		v.Ok = bool(r.is_ok)
		if r.val != nil {
			p := valFromC(r.val)
			v.Payload = &p
		}
	case CFlags:
		f := (*C.wasmtime_component_valflags_t)(of)
		names := unsafe.Slice(f.data, int(f.size))
		v.Names = make([]string, len(names))
		for i := range names {
			v.Names[i] = nameToGo(&names[i])
		}
	case CResource:
		if ra := *(**C.wasmtime_component_resource_any_t)(of); ra != nil {
			v.Resource = &Resource{any: C.wasmtime_component_resource_any_clone(ra)}
		}
	}
	return v
}

// valToC writes v into c, allocating with Wasmtime's allocators so that
// Wasmtime (or wasmtime_component_val_delete) can free it.
func valToC(v *Val, c *C.wasmtime_component_val_t) {
	c.kind = C.wasmtime_component_valkind_t(v.Kind)
	of := unsafe.Pointer(&c.of)
	switch v.Kind {
	case CBool:
		*(*C.bool)(of) = v.Num != 0
	case CS8, CU8:
		*(*uint8)(of) = uint8(v.Num)
	case CS16, CU16:
		*(*uint16)(of) = uint16(v.Num)
	case CS32, CU32, CChar, CF32:
		*(*uint32)(of) = uint32(v.Num)
	case CS64, CU64, CF64:
		*(*uint64)(of) = v.Num
	case CString, CEnum:
		nameToC(v.Str, (*C.wasm_name_t)(of))
	case CList, CTuple:
		l := (*C.wasmtime_component_vallist_t)(of)
		if v.Kind == CList && v.Bytes != nil {
			C.wasmtime_component_vallist_new_uninit(l, C.size_t(len(v.Bytes)))
			elems := unsafe.Slice(l.data, len(v.Bytes))
			for i, b := range v.Bytes {
				elems[i].kind = C.wasmtime_component_valkind_t(CU8)
				*(*uint8)(unsafe.Pointer(&elems[i].of)) = b
			}
			break
		}
		C.wasmtime_component_vallist_new_uninit(l, C.size_t(len(v.Elems)))
		elems := unsafe.Slice(l.data, len(v.Elems))
		for i := range v.Elems {
			valToC(&v.Elems[i], &elems[i])
		}
	case CRecord:
		r := (*C.wasmtime_component_valrecord_t)(of)
		C.wasmtime_component_valrecord_new_uninit(r, C.size_t(len(v.Elems)))
		ents := unsafe.Slice(r.data, len(v.Elems))
		for i := range v.Elems {
			name := ""
			if i < len(v.Names) {
				name = v.Names[i]
			}
			nameToC(name, &ents[i].name)
			valToC(&v.Elems[i], &ents[i].val)
		}
	case CVariant:
		vv := (*C.wasmtime_component_valvariant_t)(of)
		nameToC(v.Str, &vv.discriminant)
		vv.val = heapVal(v.Payload)
	case COption:
		*(**C.wasmtime_component_val_t)(of) = heapVal(v.Payload)
	case CResult:
		r := (*C.wasmtime_component_valresult_t)(of)
		r.is_ok = C.bool(v.Ok)
		r.val = heapVal(v.Payload)
	case CFlags:
		f := (*C.wasmtime_component_valflags_t)(of)
		C.wasmtime_component_valflags_new_uninit(f, C.size_t(len(v.Names)))
		names := unsafe.Slice(f.data, len(v.Names))
		for i, n := range v.Names {
			nameToC(n, &names[i])
		}
	case CResource:
		*(**C.wasmtime_component_resource_any_t)(of) = nil
		if r := v.Resource; r != nil && r.any != nil {
			*(**C.wasmtime_component_resource_any_t)(of) = r.any
			r.any = nil // ownership moves to Wasmtime
		}
	}
}

func heapVal(v *Val) *C.wasmtime_component_val_t {
	if v == nil {
		return nil
	}
	var tmp C.wasmtime_component_val_t
	valToC(v, &tmp)
	return C.wasmtime_component_val_new(&tmp) // moves tmp's contents
}

// ToHost converts a resource argument into its host rep and type (for host
// resources); it fails for guest-defined resources.
func (c *ComponentCaller) ToHost(r *Resource) (rep, ty uint32, owned bool, err error) {
	if r.Host {
		return r.Rep, r.Type, r.Owned, nil
	}
	if r.any == nil {
		return 0, 0, false, errResourceNil
	}
	h := C.rs_resource_to_host(c.ctx, r.any)
	if h.err != nil {
		return 0, 0, false, takeError(h.err)
	}
	return uint32(h.rep), uint32(h.ty), bool(h.owned), nil
}

// FromHost makes a resource value for a host resource (to return from a
// host function).
func (c *ComponentCaller) FromHost(owned bool, rep, ty uint32) (Val, error) {
	h := C.rs_resource_from_host(c.ctx, C.bool(owned), C.uint32_t(rep), C.uint32_t(ty))
	if h.err != nil {
		return Val{}, takeError(h.err)
	}
	return Val{Kind: CResource, Resource: &Resource{Host: true, Owned: owned, Rep: rep, Type: ty, any: h.any}}, nil
}

// ResourceType returns the resource's type (closed by the caller), or nil.
func (r *Resource) ResourceType() *ResourceType {
	if r == nil || r.any == nil {
		return nil
	}
	return &ResourceType{_ptr: C.wasmtime_component_resource_any_type(r.any)}
}

// Close frees the resource's handle. Idempotent.
func (r *Resource) Close() {
	if r != nil && r.any != nil {
		C.wasmtime_component_resource_any_delete(r.any)
		r.any = nil
	}
}

var errResourceNil = errorString("resource has no handle")

type errorString string

func (e errorString) Error() string { return string(e) }
