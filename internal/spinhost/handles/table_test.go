package handles

import (
	"errors"
	"testing"
)

func TestTable(t *testing.T) {
	tb := NewTable[string](2)
	a, err := tb.Add("a")
	if err != nil || a != 1 {
		t.Fatalf("Add = %d, %v", a, err)
	}
	if _, err := tb.Add("b"); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.Add("c"); !errors.Is(err, ErrFull) {
		t.Fatalf("third Add: %v", err)
	}
	if v, ok := tb.Remove(a); !ok || v != "a" {
		t.Fatalf("Remove = %q, %v", v, ok)
	}
	if _, ok := tb.Get(a); ok || tb.Len() != 1 {
		t.Fatal("removed value still there")
	}
	if left := tb.Close(); len(left) != 1 || left[0] != "b" {
		t.Fatalf("Close = %q", left)
	}
	if _, err := tb.Add("d"); !errors.Is(err, ErrClosed) || tb.Len() != 0 {
		t.Fatalf("Add after Close: %v", err)
	}
}
