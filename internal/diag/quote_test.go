package diag

import (
	"errors"
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	long := strings.Repeat("x", 3<<20)
	tests := []struct{ in, want string }{
		{"", `""`},
		{"plain", `"plain"`},
		{"a\x00b\n", `"a\x00b\n"`},
		{"\xff", `"\xff"`},
		{strings.Repeat("a", MaxQuoted), `"` + strings.Repeat("a", MaxQuoted) + `"`},
		{long, `"` + strings.Repeat("x", MaxQuoted) + `"... (3145728 bytes)`},
		// A rune that straddles the cut is left out whole.
		{strings.Repeat("a", MaxQuoted-1) + "é" + "zz", `"` + strings.Repeat("a", MaxQuoted-1) + `"... (203 bytes)`},
	}
	for _, tc := range tests {
		if got := Quote(tc.in); got != tc.want {
			t.Errorf("Quote(%.40q) = %.300s, want %.300s", tc.in, got, tc.want)
		}
	}
}

func TestErrorfQuotesThroughQuote(t *testing.T) {
	cause := errors.New("boom")
	long := strings.Repeat("v", 1000)
	err := Errorf("key %q (%s, %v, %5.2s|%d): %w", long+"\x00", "s", "v", "abc", 7, cause)
	want := `key "` + strings.Repeat("v", MaxQuoted) + `"... (1001 bytes) (s, v,    ab|7): boom`
	if err.Error() != want {
		t.Fatalf("Errorf = %s\nwant    %s", err, want)
	}
	if !errors.Is(err, cause) {
		t.Fatal("Errorf lost the %w cause")
	}
	if got := Sprintf("%q", "a\x00"); got != `"a\x00"` {
		t.Fatalf("Sprintf = %s", got)
	}
}
