package componentize

import (
	"bytes"
	"errors"
	"fmt"
)

// section is one section of a module: its id and its body.
type section struct {
	id   byte
	body []byte
}

// module is a core module cut into sections, with what Module checks.
type module struct {
	sections         []section
	exports          map[string]bool
	hasComponentType bool
	importedFuncs    int
	importedGlobals  int
}

var errTruncated = errors.New("truncated module")

// reader reads LEB128 numbers and names.
type reader struct {
	b   []byte
	i   int
	err error
}

func (r *reader) byte() byte {
	if r.i >= len(r.b) {
		r.err = errTruncated
		return 0
	}
	c := r.b[r.i]
	r.i++
	return c
}

func (r *reader) u32() uint32 {
	var v uint32
	for shift := 0; shift < 35; shift += 7 {
		c := r.byte()
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
	r.err = errors.New("bad LEB128 number")
	return 0
}

func (r *reader) s32() int32 {
	var v int64
	shift := 0
	for {
		c := r.byte()
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return int32(v)
		}
		if shift >= 35 {
			r.err = errors.New("bad LEB128 number")
			return 0
		}
	}
}

func (r *reader) bytes(n uint32) []byte {
	if uint64(r.i)+uint64(n) > uint64(len(r.b)) {
		r.err = errTruncated
		r.i = len(r.b)
		return nil
	}
	b := r.b[r.i : r.i+int(n)]
	r.i += int(n)
	return b
}

func (r *reader) name() string { return string(r.bytes(r.u32())) }

// limits skips a limits encoding (memories and tables).
func (r *reader) limits() {
	flags := r.byte()
	r.u32()
	if flags&1 != 0 {
		r.u32()
	}
}

// parse cuts raw into sections and reads the imports, exports and custom
// section names.
func parse(raw []byte) (*module, error) {
	m := &module{exports: map[string]bool{}}
	r := &reader{b: raw, i: 8}
	for r.i < len(raw) && r.err == nil {
		id := r.byte()
		body := r.bytes(r.u32())
		if r.err != nil {
			break
		}
		m.sections = append(m.sections, section{id: id, body: body})
		switch id {
		case 0:
			br := &reader{b: body}
			if n := br.name(); br.err == nil && bytes.HasPrefix([]byte(n), []byte("component-type")) {
				m.hasComponentType = true
			}
		case 2:
			if err := m.readImports(body); err != nil {
				return nil, fmt.Errorf("import section: %w", err)
			}
		case 7:
			br := &reader{b: body}
			for n := br.u32(); n > 0 && br.err == nil; n-- {
				name := br.name()
				kind := br.byte()
				br.u32()
				if kind == 0 {
					m.exports[name] = true
				}
			}
			if br.err != nil {
				return nil, fmt.Errorf("export section: %w", br.err)
			}
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return m, nil
}

func (m *module) readImports(body []byte) error {
	r := &reader{b: body}
	for n := r.u32(); n > 0 && r.err == nil; n-- {
		r.name()
		r.name()
		switch kind := r.byte(); kind {
		case 0: // func
			r.u32()
			m.importedFuncs++
		case 1: // table
			r.byte()
			r.limits()
		case 2: // memory
			r.limits()
		case 3: // global
			r.byte()
			r.byte()
			m.importedGlobals++
		default:
			return fmt.Errorf("unknown import kind %d", kind)
		}
	}
	return r.err
}

// find returns the section with id (the first one), or nil.
func (m *module) find(id byte) *section {
	for i := range m.sections {
		if m.sections[i].id == id {
			return &m.sections[i]
		}
	}
	return nil
}

// appendToVector appends item to the vector that is the section's body and
// returns the index of the new element.
func (s *section) appendToVector(item []byte) (uint32, error) {
	r := &reader{b: s.body}
	n := r.u32()
	if r.err != nil {
		return 0, r.err
	}
	body := appendU32(nil, n+1)
	body = append(body, s.body[r.i:]...)
	s.body = append(body, item...)
	return n, nil
}

// encode writes the module back out.
func (m *module) encode() []byte {
	out := append(append([]byte{}, wasmMagic...), moduleVersion...)
	for _, s := range m.sections {
		out = append(out, s.id)
		out = appendU32(out, uint32(len(s.body)))
		out = append(out, s.body...)
	}
	return out
}

func appendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func appendS32(b []byte, v int32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendName(b []byte, s string) []byte {
	return append(appendU32(b, uint32(len(s))), s...)
}

// customBody is the body of a custom section.
func customBody(name string, payload []byte) []byte {
	return append(appendName(nil, name), payload...)
}
