package host

import (
	"bytes"
	"errors"
	"fmt"
)

// binKind is what a Wasm binary's header says it is.
type binKind int

const (
	binModule binKind = iota + 1
	binComponent
)

var (
	wasmMagic        = []byte{0x00, 'a', 's', 'm'}
	moduleVersion    = []byte{0x01, 0x00, 0x00, 0x00}
	componentVersion = []byte{0x0d, 0x00, 0x01, 0x00}
)

// binInfo is what redspin reads from a binary before compiling it.
type binInfo struct {
	kind    binKind
	exports []string
	// imports of a core module, as "module#name"; of a component, the
	// top-level import names (e.g. "wasi:cli/stdout@0.2.12").
	imports []string
}

var errTruncated = errors.New("truncated section")

// reader reads the LEB128 and name encodings shared by modules and
// components.
type reader struct {
	b []byte
	i int
}

func (r *reader) byte() (byte, error) {
	if r.i >= len(r.b) {
		return 0, errTruncated
	}
	c := r.b[r.i]
	r.i++
	return c, nil
}

func (r *reader) uleb() (uint64, error) {
	v, _, _, err := r.leb()
	return v, err
}

// leb reads a LEB128 value's bits, how many it holds, and its last byte
// (whose bit 6 is a signed value's sign).
func (r *reader) leb() (v uint64, bits int, last byte, err error) {
	for shift := 0; shift < 64; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return 0, 0, 0, err
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, shift + 7, c, nil
		}
	}
	return 0, 0, 0, errors.New("LEB128 value too long")
}

func (r *reader) bytes(n uint64) ([]byte, error) {
	if n > uint64(len(r.b)-r.i) {
		return nil, errTruncated
	}
	b := r.b[r.i : r.i+int(n)]
	r.i += int(n)
	return b, nil
}

func (r *reader) name() (string, error) {
	n, err := r.uleb()
	if err != nil {
		return "", err
	}
	b, err := r.bytes(n)
	return string(b), err
}

// readBinary identifies a module or component and reads its top-level
// export names (and a module's imports).
// vec reads a vector: its length, then each entry with entry.
func (r *reader) vec(entry func() error) error {
	n, err := r.uleb()
	if err != nil {
		return err
	}
	for k := uint64(0); k < n; k++ {
		if err := entry(); err != nil {
			return err
		}
	}
	return nil
}

// sections calls fn with the id and payload of each section left, in
// order, and stops at fn's first error.
func (r *reader) sections(fn func(id byte, payload []byte) error) error {
	for r.i < len(r.b) {
		id, err := r.byte()
		if err != nil {
			return err
		}
		size, err := r.uleb()
		if err != nil {
			return err
		}
		payload, err := r.bytes(size)
		if err != nil {
			return fmt.Errorf("section %d: %w", id, err)
		}
		if err := fn(id, payload); err != nil {
			return err
		}
	}
	return nil
}

func readBinary(b []byte) (*binInfo, error) {
	if len(b) < 8 || !bytes.Equal(b[:4], wasmMagic) {
		return nil, errors.New("not a WebAssembly binary (bad magic number)")
	}
	info := &binInfo{}
	switch {
	case bytes.Equal(b[4:8], moduleVersion):
		info.kind = binModule
	case bytes.Equal(b[4:8], componentVersion):
		info.kind = binComponent
	default:
		return nil, fmt.Errorf("unsupported WebAssembly version/layer % x", b[4:8])
	}
	r := &reader{b: b, i: 8}
	err := r.sections(func(id byte, payload []byte) error {
		s := &reader{b: payload}
		var err error
		switch {
		case info.kind == binModule && id == 2:
			err = readModuleImports(s, info)
		case info.kind == binModule && id == 7:
			err = readModuleExports(s, info)
		case info.kind == binComponent && id == 10:
			// Import names are informational (Wasmtime reads the imports
			// that matter): a section this reader does not follow must not
			// refuse a component Wasmtime would load.
			if readComponentImports(s, info) != nil {
				info.imports = nil
			}
		case info.kind == binComponent && id == 11:
			err = readComponentExports(s, info)
		}
		if err != nil {
			return fmt.Errorf("section %d: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return info, nil
}

func readModuleExports(r *reader, info *binInfo) error {
	return r.vec(func() error {
		name, err := r.name()
		if err != nil {
			return err
		}
		if _, err := r.byte(); err != nil { // kind
			return err
		}
		if _, err := r.uleb(); err != nil { // index
			return err
		}
		info.exports = append(info.exports, name)
		return nil
	})
}

func readLimits(r *reader) error {
	flags, err := r.byte()
	if err != nil {
		return err
	}
	if _, err := r.uleb(); err != nil {
		return err
	}
	if flags&1 != 0 {
		if _, err := r.uleb(); err != nil {
			return err
		}
	}
	if flags&8 != 0 { // custom page size
		if _, err := r.uleb(); err != nil {
			return err
		}
	}
	return nil
}

func readRefType(r *reader) error {
	c, err := r.byte()
	if err != nil {
		return err
	}
	if c == 0x63 || c == 0x64 { // (ref null? ht)
		_, err = r.uleb()
	}
	return err
}

func readModuleImports(r *reader, info *binInfo) error {
	return r.vec(func() error {
		mod, err := r.name()
		if err != nil {
			return err
		}
		name, err := r.name()
		if err != nil {
			return err
		}
		kind, err := r.byte()
		if err != nil {
			return err
		}
		switch kind {
		case 0x00: // func
			_, err = r.uleb()
		case 0x01: // table
			if err = readRefType(r); err == nil {
				err = readLimits(r)
			}
		case 0x02: // memory
			err = readLimits(r)
		case 0x03: // global
			if err = readRefType(r); err == nil {
				_, err = r.byte()
			}
		case 0x04: // tag
			if _, err = r.byte(); err == nil {
				_, err = r.uleb()
			}
		default:
			return fmt.Errorf("unknown import kind 0x%02x", kind)
		}
		if err != nil {
			return err
		}
		info.imports = append(info.imports, mod+"#"+name)
		return nil
	})
}

// readExternName reads a component import/export name (importname' /
// exportname'): a tag byte, the name, and for tag 0x02 a version suffix.
func readExternName(r *reader) (string, error) {
	tag, err := r.byte()
	if err != nil {
		return "", err
	}
	name, err := r.name()
	if err != nil {
		return "", err
	}
	switch tag {
	case 0x00, 0x01:
	case 0x02:
		if _, err := r.name(); err != nil {
			return "", err
		}
	default:
		return "", fmt.Errorf("unknown extern name tag 0x%02x", tag)
	}
	return name, nil
}

func readExternDesc(r *reader) error {
	k, err := r.byte()
	if err != nil {
		return err
	}
	switch k {
	case 0x00: // core module: 0x11 typeidx
		if _, err := r.byte(); err != nil {
			return err
		}
		_, err = r.uleb()
	case 0x01, 0x04, 0x05: // func, component, instance: typeidx
		_, err = r.uleb()
	case 0x02: // value bound
		var b byte
		if b, err = r.byte(); err == nil {
			_ = b
			_, err = r.uleb() // value index or valtype (s33 / primitive)
		}
	case 0x03: // type bound
		var b byte
		if b, err = r.byte(); err == nil && b == 0x00 {
			_, err = r.uleb()
		}
	default:
		return fmt.Errorf("unknown externdesc 0x%02x", k)
	}
	return err
}

func readComponentImports(r *reader, info *binInfo) error {
	return r.vec(func() error {
		name, err := readExternName(r)
		if err != nil {
			return err
		}
		if err := readExternDesc(r); err != nil {
			return err
		}
		info.imports = append(info.imports, name)
		return nil
	})
}

func readComponentExports(r *reader, info *binInfo) error {
	return r.vec(func() error {
		name, err := readExternName(r)
		if err != nil {
			return err
		}
		sort, err := r.byte()
		if err != nil {
			return err
		}
		if sort == 0x00 { // core sort
			if _, err := r.byte(); err != nil {
				return err
			}
		}
		if _, err := r.uleb(); err != nil { // index
			return err
		}
		has, err := r.byte()
		if err != nil {
			return err
		}
		if has == 0x01 {
			if err := readExternDesc(r); err != nil {
				return err
			}
		}
		info.exports = append(info.exports, name)
		return nil
	})
}
