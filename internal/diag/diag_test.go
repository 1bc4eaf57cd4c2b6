package diag

import (
	"errors"
	"strings"
	"testing"
)

func TestErrorText(t *testing.T) {
	cause := errors.New("boom")
	tests := []struct {
		e    Error
		want string
	}{
		{Error{File: "spin.toml", Line: 12, Col: 3, Key: `component "x"`, Err: cause}, `spin.toml:12:3: component "x": boom`},
		{Error{File: "spin.toml", Line: 12, Err: cause}, "spin.toml:12: boom"},
		{Error{File: "rc.toml", Col: 5, Err: cause}, "rc.toml: boom"},
		{Error{Key: "k", Err: cause}, "k: boom"},
	}
	for _, tc := range tests {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%+v: got %q, want %q", tc.e, got, tc.want)
		}
		if !errors.Is(&tc.e, cause) {
			t.Errorf("%+v does not unwrap to its cause", tc.e)
		}
	}
}

func TestWarningText(t *testing.T) {
	for _, tc := range []struct {
		w    Warning
		want string
	}{
		{Warning{File: "spin.toml", Line: 4, Message: "m"}, "spin.toml:4: m"},
		{Warning{File: "spin.toml", Message: "m"}, "spin.toml: m"},
		{Warning{Message: "m"}, "m"},
	} {
		if got := tc.w.String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

// TestLinesPosition checks Lines against a scan from the start of the file
// (what go-toml's Parser.Shape does) at every offset, with CRLF, multi-byte
// runes, empty lines and no final newline.
func TestLinesPosition(t *testing.T) {
	data := []byte("a = 1\r\n\n[table]\nkey = \"é ü\"\n\nlast = 2")
	lines := NewLines(data)
	for off := 0; off <= len(data); off++ {
		wantLine := 1 + strings.Count(string(data[:off]), "\n")
		wantCol := off - (strings.LastIndexByte(string(data[:off]), '\n') + 1) + 1
		line, col := lines.Position(off)
		if line != wantLine || col != wantCol {
			t.Fatalf("Position(%d) = %d:%d, want %d:%d", off, line, col, wantLine, wantCol)
		}
	}
	if line, col := NewLines(nil).Position(0); line != 1 || col != 1 {
		t.Fatalf("empty file: %d:%d", line, col)
	}
}
