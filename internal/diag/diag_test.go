package diag

import (
	"errors"
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
