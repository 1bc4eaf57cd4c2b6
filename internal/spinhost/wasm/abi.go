package wasm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/redspin/redspin/internal/spinhost/outredis"
)

// guestMem reads and writes a core module's linear memory by the canonical
// ABI, allocating with the module's realloc. Every access is bounds-checked;
// a bad pointer is an error, which traps the guest.
type guestMem struct {
	// mem returns the memory's current bytes (it may move after realloc).
	mem     func() []byte
	realloc func(oldPtr, oldSize, align, newSize uint32) (uint32, error)
}

func (g *guestMem) slice(ptr, n uint32) ([]byte, error) {
	m := g.mem()
	end := uint64(ptr) + uint64(n)
	if end > uint64(len(m)) {
		return nil, fmt.Errorf("guest pointer %#x+%d is outside memory (%d bytes)", ptr, n, len(m))
	}
	return m[ptr:end:end], nil
}

func (g *guestMem) bytes(ptr, n uint32) ([]byte, error) {
	b, err := g.slice(ptr, n)
	if err != nil {
		return nil, err
	}
	return append([]byte{}, b...), nil
}

func (g *guestMem) str(ptr, n uint32) (string, error) {
	b, err := g.slice(ptr, n)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", errors.New("string argument is not valid UTF-8")
	}
	return string(b), nil
}

func (g *guestMem) u32(addr uint32) (uint32, error) {
	b, err := g.slice(addr, 4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

// strList reads a list<string> of n elements at ptr.
func (g *guestMem) strList(ptr, n uint32) ([]string, error) {
	if _, err := g.slice(ptr, n*8); err != nil || uint64(n)*8 > 1<<32 {
		return nil, fmt.Errorf("list<string> at %#x: %v", ptr, err)
	}
	out := make([]string, n)
	for i := range n {
		p, _ := g.u32(ptr + 8*i)
		l, _ := g.u32(ptr + 8*i + 4)
		s, err := g.str(p, l)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// params reads a list<redis-parameter> (16-byte elements: u8 case at 0;
// s64, or a (ptr, len) list<u8>, at 8).
func (g *guestMem) params(ptr, n uint32) ([]outredis.Param, error) {
	all, err := g.slice(ptr, n*16)
	if err != nil || uint64(n)*16 > 1<<32 {
		return nil, fmt.Errorf("list<redis-parameter> at %#x: %v", ptr, err)
	}
	all = append([]byte{}, all...)
	out := make([]outredis.Param, n)
	for i := range n {
		e := all[16*i:]
		switch e[0] {
		case 0:
			out[i] = outredis.IntParam(int64(binary.LittleEndian.Uint64(e[8:])))
		case 1:
			b, err := g.bytes(binary.LittleEndian.Uint32(e[8:]), binary.LittleEndian.Uint32(e[12:]))
			if err != nil {
				return nil, err
			}
			out[i] = outredis.BinaryParam(b)
		default:
			return nil, fmt.Errorf("redis-parameter case %d is not valid", e[0])
		}
	}
	return out, nil
}

func (g *guestMem) put8(addr uint32, v uint8) error {
	b, err := g.slice(addr, 1)
	if err == nil {
		b[0] = v
	}
	return err
}

func (g *guestMem) put32(addr, v uint32) error {
	b, err := g.slice(addr, 4)
	if err == nil {
		binary.LittleEndian.PutUint32(b, v)
	}
	return err
}

func (g *guestMem) put64(addr uint32, v uint64) error {
	b, err := g.slice(addr, 8)
	if err == nil {
		binary.LittleEndian.PutUint64(b, v)
	}
	return err
}

func (g *guestMem) alloc(size, align uint32) (uint32, error) {
	if size == 0 {
		return align, nil // a dangling, aligned pointer: nothing is read
	}
	p, err := g.realloc(0, 0, align, size)
	if err != nil {
		return 0, fmt.Errorf("cabi_realloc: %w", err)
	}
	if _, err := g.slice(p, size); err != nil {
		return 0, fmt.Errorf("cabi_realloc returned %w", err)
	}
	if p%align != 0 {
		return 0, fmt.Errorf("cabi_realloc returned %#x, not aligned to %d", p, align)
	}
	return p, nil
}

// putBytes copies b into a new allocation and stores (ptr, len) at addr.
func (g *guestMem) putBytes(addr uint32, b []byte) error {
	p, err := g.alloc(uint32(len(b)), 1)
	if err != nil {
		return err
	}
	dst, err := g.slice(p, uint32(len(b)))
	if err != nil {
		return err
	}
	copy(dst, b)
	if err := g.put32(addr, p); err != nil {
		return err
	}
	return g.put32(addr+4, uint32(len(b)))
}

// putList allocates n elements of size bytes (aligned to align), stores
// (ptr, n) at addr, then lets each(i, elemAddr) fill element i.
func (g *guestMem) putList(addr uint32, n int, size, align uint32, each func(i int, at uint32) error) error {
	total := uint64(n) * uint64(size)
	if total > 1<<31 {
		return fmt.Errorf("list of %d elements is too large for a 32-bit guest", n)
	}
	p, err := g.alloc(uint32(total), align)
	if err != nil {
		return err
	}
	if err := g.put32(addr, p); err != nil {
		return err
	}
	if err := g.put32(addr+4, uint32(n)); err != nil {
		return err
	}
	for i := range n {
		if err := each(i, p+uint32(i)*size); err != nil {
			return err
		}
	}
	return nil
}

func (g *guestMem) putStrings(addr uint32, ss []string) error {
	return g.putList(addr, len(ss), 8, 4, func(i int, at uint32) error { return g.putBytes(at, []byte(ss[i])) })
}

// putResults writes a list<redis-result> (16-byte elements, align 8).
func (g *guestMem) putResults(addr uint32, rs []outredis.Result) error {
	return g.putList(addr, len(rs), 16, 8, func(i int, at uint32) error {
		r := rs[i]
		if err := g.put8(at, uint8(r.Kind)); err != nil {
			return err
		}
		switch r.Kind {
		case outredis.ResultStatus:
			return g.putBytes(at+8, []byte(r.Status))
		case outredis.ResultInt64:
			return g.put64(at+8, uint64(r.Int64))
		case outredis.ResultBinary:
			return g.putBytes(at+8, r.Binary)
		}
		return nil
	})
}

// errCase is a lowered error: a variant case and, for cases with a string
// payload, the message.
type errCase struct {
	idx    uint8
	msg    string
	hasMsg bool
}

// putResultErr writes err(e) into a result return area whose payload is at
// payloadOff (the variant's case byte there, its string 4 bytes after).
func (g *guestMem) putResultErr(ret, payloadOff uint32, e errCase) error {
	if err := g.put8(ret, 1); err != nil {
		return err
	}
	if err := g.put8(ret+payloadOff, e.idx); err != nil {
		return err
	}
	if e.hasMsg {
		return g.putBytes(ret+payloadOff+4, []byte(e.msg))
	}
	return nil
}
