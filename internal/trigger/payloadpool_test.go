package trigger

import "testing"

func TestPayloadPoolClasses(t *testing.T) {
	var p payloadPool
	for _, tc := range []struct{ n, cap int }{{0, 0}, {1, 64}, {64, 64}, {65, 128}, {65536, 65536}, {65537, 131072}, {4 << 20, 4 << 20}, {4<<20 + 1, 4<<20 + 1}} {
		b := p.get(tc.n)
		if len(b) != tc.n || cap(b) != tc.cap {
			t.Errorf("get(%d): len %d cap %d, want cap %d", tc.n, len(b), cap(b), tc.cap)
		}
		p.put(b)
	}
	// A buffer given back is reused for the next payload of its class
	// (sync.Pool may drop it at a GC, so only the reuse is checked, not
	// that it always happens).
	b := p.get(1000)
	b[0] = 'x'
	p.put(b)
	if c := p.get(700); cap(c) != 1024 {
		t.Errorf("get(700) after put: cap %d", cap(c))
	}
	p.put(make([]byte, 100)) // not a class size: ignored
}

func TestPayloadPoolNoAllocs(t *testing.T) {
	var p payloadPool
	p.put(p.get(65536))
	if n := testing.AllocsPerRun(100, func() { p.put(p.get(65536)) }); n != 0 {
		t.Errorf("%v allocations per get+put, want 0", n)
	}
}
