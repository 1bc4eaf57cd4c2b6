package wasm

import (
	"encoding/binary"
	"fmt"

	"github.com/redspin/redspin/internal/wasmtime"
)

// abiType describes a WIT value type for reading and writing it in a core
// module's memory by the canonical ABI, as [wasmtime.Val] trees: the same
// values the component adapters lift and lower, so one adapter serves both
// guest shapes. (Used by the database interfaces, whose types are too many
// to lower by hand.)
type abiType struct {
	kind   wasmtime.CKind
	elem   *abiType   // list, option
	fields []*abiType // record, tuple
	names  []string   // record fields; variant and enum cases
	cases  []*abiType // variant cases (nil: no payload); result: ok, err
}

func prim(k wasmtime.CKind) *abiType { return &abiType{kind: k} }

var (
	tBool   = prim(wasmtime.CBool)
	tU8     = prim(wasmtime.CU8)
	tU32    = prim(wasmtime.CU32)
	tS32    = prim(wasmtime.CS32)
	tS64    = prim(wasmtime.CS64)
	tU64    = prim(wasmtime.CU64)
	tString = prim(wasmtime.CString)
	tBytes  = &abiType{kind: wasmtime.CList, elem: tU8}
)

func tList(e *abiType) *abiType   { return &abiType{kind: wasmtime.CList, elem: e} }
func tOption(e *abiType) *abiType { return &abiType{kind: wasmtime.COption, elem: e} }
func tTuple(f ...*abiType) *abiType {
	return &abiType{kind: wasmtime.CTuple, fields: f}
}
func tResult(ok, err *abiType) *abiType {
	return &abiType{kind: wasmtime.CResult, cases: []*abiType{ok, err}}
}
func tEnum(names ...string) *abiType { return &abiType{kind: wasmtime.CEnum, names: names} }

// tRecord takes name, type pairs.
func tRecord(nt ...any) *abiType {
	t := &abiType{kind: wasmtime.CRecord}
	for i := 0; i < len(nt); i += 2 {
		t.names = append(t.names, nt[i].(string))
		t.fields = append(t.fields, nt[i+1].(*abiType))
	}
	return t
}

// tVariant takes name, type pairs (a nil type: no payload).
func tVariant(nt ...any) *abiType {
	t := &abiType{kind: wasmtime.CVariant}
	for i := 0; i < len(nt); i += 2 {
		t.names = append(t.names, nt[i].(string))
		c, _ := nt[i+1].(*abiType)
		t.cases = append(t.cases, c)
	}
	return t
}

func alignTo(n, a uint32) uint32 { return (n + a - 1) / a * a }

// payloadCases are a variant-like type's cases (option: none, some).
func (t *abiType) payloadCases() []*abiType {
	if t.kind == wasmtime.COption {
		return []*abiType{nil, t.elem}
	}
	return t.cases
}

func discSize(n int) uint32 {
	switch {
	case n <= 1<<8:
		return 1
	case n <= 1<<16:
		return 2
	}
	return 4
}

func (t *abiType) align() uint32 {
	switch t.kind {
	case wasmtime.CBool, wasmtime.CS8, wasmtime.CU8:
		return 1
	case wasmtime.CS16, wasmtime.CU16:
		return 2
	case wasmtime.CS64, wasmtime.CU64, wasmtime.CF64:
		return 8
	case wasmtime.CRecord, wasmtime.CTuple:
		a := uint32(1)
		for _, f := range t.fields {
			a = max(a, f.align())
		}
		return a
	case wasmtime.CEnum:
		return discSize(len(t.names))
	case wasmtime.CVariant, wasmtime.COption, wasmtime.CResult:
		cs := t.payloadCases()
		a := discSize(len(cs))
		for _, c := range cs {
			if c != nil {
				a = max(a, c.align())
			}
		}
		return a
	}
	return 4 // s32, u32, f32, char, string, list
}

func (t *abiType) size() uint32 {
	switch t.kind {
	case wasmtime.CBool, wasmtime.CS8, wasmtime.CU8:
		return 1
	case wasmtime.CS16, wasmtime.CU16:
		return 2
	case wasmtime.CS64, wasmtime.CU64, wasmtime.CF64, wasmtime.CString, wasmtime.CList:
		return 8
	case wasmtime.CRecord, wasmtime.CTuple:
		var s uint32
		for _, f := range t.fields {
			s = alignTo(s, f.align()) + f.size()
		}
		return alignTo(s, t.align())
	case wasmtime.CEnum:
		return discSize(len(t.names))
	case wasmtime.CVariant, wasmtime.COption, wasmtime.CResult:
		var m uint32
		for _, c := range t.payloadCases() {
			if c != nil {
				m = max(m, c.size())
			}
		}
		return alignTo(t.payloadOffset()+m, t.align())
	}
	return 4
}

func (t *abiType) payloadOffset() uint32 {
	cs := t.payloadCases()
	var a uint32 = 1
	for _, c := range cs {
		if c != nil {
			a = max(a, c.align())
		}
	}
	return alignTo(discSize(len(cs)), a)
}

func (g *guestMem) putDisc(addr uint32, n int, i uint32) error {
	switch discSize(n) {
	case 1:
		return g.put8(addr, uint8(i))
	case 2:
		b, err := g.slice(addr, 2)
		if err == nil {
			binary.LittleEndian.PutUint16(b, uint16(i))
		}
		return err
	}
	return g.put32(addr, i)
}

func (g *guestMem) disc(addr uint32, n int) (uint32, error) {
	b, err := g.slice(addr, discSize(n))
	if err != nil {
		return 0, err
	}
	switch len(b) {
	case 1:
		return uint32(b[0]), nil
	case 2:
		return uint32(binary.LittleEndian.Uint16(b)), nil
	}
	return binary.LittleEndian.Uint32(b), nil
}

func caseIndex(names []string, name string) (uint32, error) {
	for i, n := range names {
		if n == name {
			return uint32(i), nil
		}
	}
	return 0, fmt.Errorf("case %q is not in the type", name)
}

// store writes v (of type t) at addr, allocating strings and lists with
// the module's realloc.
func (g *guestMem) store(addr uint32, t *abiType, v wasmtime.Val) error {
	switch t.kind {
	case wasmtime.CBool, wasmtime.CS8, wasmtime.CU8:
		return g.put8(addr, uint8(v.Num))
	case wasmtime.CS16, wasmtime.CU16:
		b, err := g.slice(addr, 2)
		if err == nil {
			binary.LittleEndian.PutUint16(b, uint16(v.Num))
		}
		return err
	case wasmtime.CS32, wasmtime.CU32, wasmtime.CF32, wasmtime.CChar:
		return g.put32(addr, uint32(v.Num))
	case wasmtime.CS64, wasmtime.CU64, wasmtime.CF64:
		return g.put64(addr, v.Num)
	case wasmtime.CString:
		return g.putBytes(addr, []byte(v.Str))
	case wasmtime.CList:
		if t.elem.kind == wasmtime.CU8 {
			b := v.Bytes
			if b == nil {
				b = make([]byte, len(v.Elems))
				for i, e := range v.Elems {
					b[i] = byte(e.Num)
				}
			}
			return g.putBytes(addr, b)
		}
		return g.putList(addr, len(v.Elems), t.elem.size(), t.elem.align(), func(i int, at uint32) error {
			return g.store(at, t.elem, v.Elems[i])
		})
	case wasmtime.CRecord, wasmtime.CTuple:
		if len(v.Elems) != len(t.fields) {
			return fmt.Errorf("%d fields for a type of %d", len(v.Elems), len(t.fields))
		}
		var off uint32
		for i, f := range t.fields {
			off = alignTo(off, f.align())
			if err := g.store(addr+off, f, v.Elems[i]); err != nil {
				return err
			}
			off += f.size()
		}
		return nil
	case wasmtime.CEnum:
		i, err := caseIndex(t.names, v.Str)
		if err != nil {
			return err
		}
		return g.putDisc(addr, len(t.names), i)
	}
	// variant, option, result
	cs := t.payloadCases()
	var i uint32
	switch t.kind {
	case wasmtime.CVariant:
		var err error
		if i, err = caseIndex(t.names, v.Str); err != nil {
			return err
		}
	case wasmtime.COption:
		if v.Payload != nil {
			i = 1
		}
	case wasmtime.CResult:
		if !v.Ok {
			i = 1
		}
	}
	if err := g.putDisc(addr, len(cs), i); err != nil {
		return err
	}
	if cs[i] == nil || v.Payload == nil {
		return nil
	}
	return g.store(addr+t.payloadOffset(), cs[i], *v.Payload)
}

// load reads a value of type t at addr.
func (g *guestMem) load(addr uint32, t *abiType) (wasmtime.Val, error) {
	v := wasmtime.Val{Kind: t.kind}
	switch t.kind {
	case wasmtime.CBool, wasmtime.CS8, wasmtime.CU8:
		b, err := g.slice(addr, 1)
		if err != nil {
			return v, err
		}
		v.Num = uint64(b[0])
		if t.kind == wasmtime.CS8 {
			v.Num = uint64(int64(int8(b[0])))
		}
	case wasmtime.CS16, wasmtime.CU16:
		b, err := g.slice(addr, 2)
		if err != nil {
			return v, err
		}
		v.Num = uint64(binary.LittleEndian.Uint16(b))
		if t.kind == wasmtime.CS16 {
			v.Num = uint64(int64(int16(v.Num)))
		}
	case wasmtime.CS32, wasmtime.CU32, wasmtime.CF32, wasmtime.CChar:
		n, err := g.u32(addr)
		if err != nil {
			return v, err
		}
		v.Num = uint64(n)
		if t.kind == wasmtime.CS32 {
			v.Num = uint64(int64(int32(n)))
		}
	case wasmtime.CS64, wasmtime.CU64, wasmtime.CF64:
		b, err := g.slice(addr, 8)
		if err != nil {
			return v, err
		}
		v.Num = binary.LittleEndian.Uint64(b)
	case wasmtime.CString, wasmtime.CList:
		p, err := g.u32(addr)
		if err != nil {
			return v, err
		}
		n, err := g.u32(addr + 4)
		if err != nil {
			return v, err
		}
		if t.kind == wasmtime.CString {
			v.Str, err = g.str(p, n)
			return v, err
		}
		if t.elem.kind == wasmtime.CU8 {
			v.Bytes, err = g.bytes(p, n)
			return v, err
		}
		return g.loadList(p, n, t.elem)
	case wasmtime.CRecord, wasmtime.CTuple:
		v.Names = t.names
		v.Elems = make([]wasmtime.Val, len(t.fields))
		var off uint32
		for i, f := range t.fields {
			off = alignTo(off, f.align())
			var err error
			if v.Elems[i], err = g.load(addr+off, f); err != nil {
				return v, err
			}
			off += f.size()
		}
	case wasmtime.CEnum:
		i, err := g.disc(addr, len(t.names))
		if err != nil {
			return v, err
		}
		if int(i) >= len(t.names) {
			return v, fmt.Errorf("enum case %d is not valid", i)
		}
		v.Str = t.names[i]
	default: // variant, option, result
		cs := t.payloadCases()
		i, err := g.disc(addr, len(cs))
		if err != nil {
			return v, err
		}
		if int(i) >= len(cs) {
			return v, fmt.Errorf("case %d is not valid", i)
		}
		switch t.kind {
		case wasmtime.CVariant:
			v.Str = t.names[i]
		case wasmtime.CResult:
			v.Ok = i == 0
		}
		if cs[i] != nil {
			p, err := g.load(addr+t.payloadOffset(), cs[i])
			if err != nil {
				return v, err
			}
			v.Payload = &p
		}
	}
	return v, nil
}
