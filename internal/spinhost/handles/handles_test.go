package handles

import (
	"math"
	"testing"
)

func TestNext(t *testing.T) {
	table := map[uint32]string{}
	var last uint32
	for want := uint32(1); want <= 3; want++ {
		if h := Next(table, &last); h != want {
			t.Fatalf("Next = %d, want %d", h, want)
		}
		table[want] = "x"
	}
	// Wrapping skips 0 and the handles still in use.
	last = math.MaxUint32 - 1
	table[math.MaxUint32] = "x"
	if h := Next(table, &last); h != 4 {
		t.Fatalf("after wrapping: Next = %d, want 4 (0 and 1-3 and 2^32-1 are taken or invalid)", h)
	}
}

func TestTableContinueAfter(t *testing.T) {
	prev := NewTable[string](4)
	a, _ := prev.Add("a")
	b, _ := prev.Add("b")
	next := NewTable[string](4)
	next.ContinueAfter(prev)
	c, _ := next.Add("c")
	if c == a || c == b || c <= b {
		t.Fatalf("after ContinueAfter: handle %d, the previous table gave out %d and %d", c, a, b)
	}
	next.ContinueAfter(nil)
}
