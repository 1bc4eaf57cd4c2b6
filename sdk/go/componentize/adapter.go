package componentize

import (
	"bytes"
	"errors"
	"fmt"
)

// findArena returns the address of the adapter arena: the data segment
// holding its magic, at that segment's constant offset.
func (m *module) findArena() (int32, error) {
	data := m.find(11)
	if data == nil {
		return 0, errors.New("no data section: is the module built with the SDK (package internal/cabi declares the adapter arena)?")
	}
	r := &reader{b: data.body}
	found := false
	var base int32
	for n := r.u32(); n > 0 && r.err == nil; n-- {
		flags := r.u32()
		var off int32
		active := flags == 0 || flags == 2
		if flags == 2 {
			r.u32() // memory index
		}
		if active {
			if op := r.byte(); op != 0x41 {
				return 0, fmt.Errorf("data segment offset is not an i32.const (opcode 0x%02x)", op)
			}
			off = r.s32()
			if end := r.byte(); end != 0x0b {
				return 0, errors.New("data segment offset expression is not one constant")
			}
		}
		seg := r.bytes(r.u32())
		if at := bytes.Index(seg, arenaMagic); at >= 0 && active {
			if found {
				return 0, errors.New("the adapter arena's magic appears twice in the data section")
			}
			found, base = true, off+int32(at)
		}
	}
	if r.err != nil {
		return 0, fmt.Errorf("data section: %w", r.err)
	}
	if !found {
		return 0, errors.New("adapter arena not found in the data section: is the module built with the SDK?")
	}
	return base, nil
}

// addAdapterRealloc appends cabi_realloc_adapter(old, oldSize, align, size)
// -> ptr: a bump allocator over the arena, after its magic, that traps when
// asked to reallocate (the adapter never does) or when the arena is full.
func (m *module) addAdapterRealloc() error {
	base, err := m.findArena()
	if err != nil {
		return err
	}
	start := (base + int32(len(arenaMagic)) + 15) &^ 15
	end := base + int32(arenaSize)
	types, funcs, globals, exports, code := m.find(1), m.find(3), m.find(6), m.find(7), m.find(10)
	if types == nil || funcs == nil || globals == nil || exports == nil || code == nil {
		return errors.New("the module lacks a type, function, global, export or code section")
	}
	// (i32 i32 i32 i32) -> i32
	typeIdx, err := types.appendToVector([]byte{0x60, 4, 0x7f, 0x7f, 0x7f, 0x7f, 1, 0x7f})
	if err != nil {
		return fmt.Errorf("type section: %w", err)
	}
	fn, err := funcs.appendToVector(appendU32(nil, typeIdx))
	if err != nil {
		return fmt.Errorf("function section: %w", err)
	}
	funcIdx := uint32(m.importedFuncs) + fn
	// (mut i32) = start
	g, err := globals.appendToVector(append(appendS32([]byte{0x7f, 1, 0x41}, start), 0x0b))
	if err != nil {
		return fmt.Errorf("global section: %w", err)
	}
	globalIdx := uint32(m.importedGlobals) + g
	if _, err := exports.appendToVector(appendU32(append(appendName(nil, exportAdapter), 0), funcIdx)); err != nil {
		return fmt.Errorf("export section: %w", err)
	}
	// params: 0 old, 1 old size, 2 align, 3 size; local 4: the result.
	body := []byte{1, 1, 0x7f, // one local i32
		0x20, 0, 0x04, 0x40, 0x00, 0x0b, // if old != 0: unreachable
		0x23} // global.get bump
	body = appendU32(body, globalIdx)
	body = append(body, 0x20, 2, 0x6a, 0x41, 1, 0x6b, // + align - 1
		0x41, 0, 0x20, 2, 0x6b, 0x71, // & -align
		0x22, 4, 0x20, 3, 0x6a, 0x41) // local.tee p; p + size > end
	body = appendS32(body, end)
	body = append(body, 0x4b, 0x04, 0x40, 0x00, 0x0b, // if: unreachable
		0x20, 4, 0x20, 3, 0x6a, 0x24) // bump = p + size
	body = appendU32(body, globalIdx)
	body = append(body, 0x20, 4, 0x0b) // return p
	if _, err := code.appendToVector(append(appendU32(nil, uint32(len(body))), body...)); err != nil {
		return fmt.Errorf("code section: %w", err)
	}
	return nil
}
