package host

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
)

// Keep-resident and memory images.
//
// The pooling allocator resets the first LinearMemoryKeepResident bytes of
// a freed linear memory in place for the next instance, and returns the
// rest to the kernel. Wasmtime 39 does so without knowing which pages the
// instance touched: it zeroes that whole region and copies the memory's
// initial image (its data segments) back over it. For a guest whose image
// is small (C, Rust, Go: a few KiB to 1.5 MiB) that is cheaper than
// faulting the pages in again. A JavaScript guest's image is the engine's
// pre-initialised heap (StarlingMonkey: 8.5 MiB from ~1 MiB on), of which a
// message touches a few hundred KiB: copying 3 MiB of it back per message
// cost the JS component ~1 ms of its ~3.3 ms (RATIONALE.md, "Keep-resident
// below a large memory image"). So when every guest of a host has such an
// image, New keeps resident only the memory below it.

// largeImage is the size of a memory image from which New keeps it out of
// the kept-resident region.
const largeImage = 1 << 20

// keepResidentPage is the granularity of the kept-resident size.
const keepResidentPage = 64 << 10

// keepResidentFor is fitKeepResident for comps, logged.
func (h *Host) keepResidentFor(keep uint64, comps []ComponentConfig) uint64 {
	paths := make([]string, len(comps))
	for i, c := range comps {
		paths[i] = c.WasmPath
	}
	fit, why := fitKeepResident(keep, paths)
	if fit != keep {
		h.logger.Debug("pooling: keep-resident lowered below a large memory image", slog.Uint64("bytes", fit), slog.String("wasm", why))
	}
	return fit
}

// fitKeepResident returns keep, lowered to the start of the lowest large
// memory image (rounded down to a Wasm page) when every binary at paths
// has one below keep (all JavaScript guests, say); else keep. Lowering it
// for a mix would move the cost onto the other guests: with a JS guest in
// the same host (BenchmarkHandle), keeping 960 KiB resident made a Rust
// module's message ~35 % and a Go module's call 1.5–2× slower (their data
// and heap lie above it).
// Binaries it cannot read do not count (load reports them).
func fitKeepResident(keep uint64, paths []string) (uint64, string) {
	fit, why := keep, ""
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		start, size := memoryImage(b)
		if size < largeImage || start >= keep {
			return keep, ""
		}
		if s := start / keepResidentPage * keepResidentPage; s < fit {
			fit, why = s, p
		}
	}
	return fit, why
}

// memoryImage returns where the largest memory image of binary b (a core
// module, or a component and the core modules nested in it) starts and how
// many bytes of data it holds: its active data segments with constant
// offsets. (0, 0) when it has none or b cannot be parsed.
func memoryImage(b []byte) (start, size uint64) {
	if len(b) < 8 || !bytes.Equal(b[:4], wasmMagic) {
		return 0, 0
	}
	component := bytes.Equal(b[4:8], componentVersion)
	r := &reader{b: b, i: 8}
	r.sections(func(id byte, body []byte) error {
		var s, z uint64
		switch {
		case component && (id == 1 || id == 4): // core module, nested component
			s, z = memoryImage(body)
		case !component && id == 11: // data
			s, z = dataSegments(body)
		}
		if z > size {
			start, size = s, z
		}
		return nil
	})
	return start, size
}

// dataSegments reads a module's data section: the lowest constant offset
// of its active segments and their total size.
func dataSegments(body []byte) (start, size uint64) {
	r := &reader{b: body}
	first := true
	err := r.vec(func() error {
		flags, err := r.uleb()
		if err != nil {
			return err
		}
		off, known := uint64(0), false
		if flags == 0 || flags == 2 { // active
			if flags == 2 {
				if _, err := r.uleb(); err != nil { // memory index
					return err
				}
			}
			if off, known, err = constExpr(r); err != nil {
				return err
			}
		}
		n, err := r.uleb()
		if err != nil {
			return err
		}
		if _, err := r.bytes(n); err != nil {
			return err
		}
		if known {
			if first || off < start {
				start, first = off, false
			}
			size += n
		}
		return nil
	})
	if err != nil {
		return 0, 0
	}
	return start, size
}

// constExpr reads an offset expression up to its end: the value of an
// i32.const or i64.const, else known is false.
func constExpr(r *reader) (v uint64, known bool, err error) {
	op, err := r.byte()
	if err != nil {
		return 0, false, err
	}
	switch op {
	case 0x41, 0x42: // i32.const, i64.const
		if v, err = r.sleb(); err != nil {
			return 0, false, err
		}
		if op == 0x41 {
			v = uint64(uint32(v))
		}
		known = true
	case 0x23: // global.get
		if _, err := r.uleb(); err != nil {
			return 0, false, err
		}
	default: // extended constant expressions: not followed
		return 0, false, errUnknownExpr
	}
	if end, err := r.byte(); err != nil || end != 0x0b {
		return 0, false, errUnknownExpr
	}
	return v, known, nil
}

var errUnknownExpr = errors.New("offset expression not followed")

// sleb reads a signed LEB128 value (as its two's complement bits).
func (r *reader) sleb() (uint64, error) {
	v, bits, last, err := r.leb()
	if err == nil && bits < 64 && last&0x40 != 0 {
		v |= ^uint64(0) << bits
	}
	return v, err
}
