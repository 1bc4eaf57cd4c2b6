package host

import (
	"os"
	"path/filepath"
	"testing"
)

// TestFitKeepResident: keep-resident stays at the default for guests with
// small memory images, and drops below the JavaScript guests' heap
// snapshots (from ~1 MiB) when every guest has one.
func TestFitKeepResident(t *testing.T) {
	guest := func(name, file string) string {
		p := filepath.Join(guestsDir, name, file)
		if !fileExists(p) {
			t.Skipf("guest %s not built", p)
		}
		return p
	}
	c, rust, js := guest("c", "c.wasm"), guest("rust", "rust.wasm"), guest("js", "js.wasm")
	const keep = 4 << 20
	for _, tc := range []struct {
		name  string
		paths []string
		want  uint64
	}{
		{"small images", []string{c, rust, guest("c", "c.core.wasm")}, keep},
		{"js", []string{js}, 960 << 10},
		{"js among others: unchanged", []string{c, js, rust}, keep},
		{"js twice", []string{js, guest("js-j2w", "js-j2w.wasm")}, 960 << 10},
		{"missing file", []string{filepath.Join(t.TempDir(), "none.wasm")}, keep},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, _ := fitKeepResident(keep, tc.paths); got != tc.want {
				t.Errorf("fitKeepResident = %d, want %d", got, tc.want)
			}
		})
	}
	// Below the image already: unchanged.
	if got, _ := fitKeepResident(512<<10, []string{js}); got != 512<<10 {
		t.Errorf("fitKeepResident(512 KiB, js) = %d, want it unchanged", got)
	}
}

// TestMemoryImage reads data segments from a hand-made core module: one
// active segment at i32.const 0x20000 (3 bytes), one passive (ignored), one
// at global.get 0 (offset unknown: ignored).
func TestMemoryImage(t *testing.T) {
	mod := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	data := []byte{0x03, // 3 segments
		0x00, 0x41, 0x80, 0x80, 0x08, 0x0b, 0x03, 'a', 'b', 'c', // active, i32.const 0x20000
		0x01, 0x02, 'x', 'y', // passive
		0x00, 0x23, 0x00, 0x0b, 0x01, 'z', // active, global.get 0
	}
	mod = append(mod, 11, byte(len(data)))
	mod = append(mod, data...)
	if start, size := memoryImage(mod); start != 0x20000 || size != 3 {
		t.Errorf("memoryImage = (%#x, %d), want (0x20000, 3)", start, size)
	}
	if start, size := memoryImage(mod[:len(mod)-3]); start != 0 || size != 0 {
		t.Errorf("truncated: memoryImage = (%#x, %d), want (0, 0)", start, size)
	}
	for _, tc := range []struct {
		in   []byte
		want uint64
	}{{[]byte{0x7f}, ^uint64(0)}, {[]byte{0x80, 0x7f}, ^uint64(127)}, {[]byte{0x3f}, 63}, {[]byte{0xc0, 0x00}, 64}} {
		if got, err := (&reader{b: tc.in}).sleb(); err != nil || got != tc.want {
			t.Errorf("sleb(% x) = %#x, %v; want %#x", tc.in, got, err, tc.want)
		}
	}
	if b, err := os.ReadFile(filepath.Join(guestsDir, "js", "js.wasm")); err == nil {
		if start, size := memoryImage(b); start < 900<<10 || size < largeImage {
			t.Errorf("js.wasm: memoryImage = (%d, %d), want a large image from ~1 MiB", start, size)
		}
	}
}
