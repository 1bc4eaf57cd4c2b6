package hosterr

import (
	"errors"
	"fmt"
	"testing"
)

type kind uint8

type testErr struct {
	k   kind
	msg string
}

func (e *testErr) Error() string            { return fmt.Sprintf("test: %d: %s", e.k, e.msg) }
func (e *testErr) HostErrorKind() kind      { return e.k }
func (e *testErr) HostErrorMessage() string { return e.msg }

type otherKind uint8

func TestKindAndMessage(t *testing.T) {
	wrapped := fmt.Errorf("open: %w", &testErr{k: 2, msg: "denied"})
	for _, tc := range []struct {
		name    string
		err     error
		kind    kind
		message string
	}{
		{"nil", nil, 9, ""},
		{"plain error is the catch-all", errors.New("boom"), 9, "boom"},
		{"classified", &testErr{k: 1, msg: "x"}, 1, "x"},
		{"wrapped", wrapped, 2, "denied"},
		{"empty message falls back to the text", &testErr{k: 3}, 3, "test: 3: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := KindOf(tc.err, kind(9)); got != tc.kind {
				t.Errorf("KindOf = %d, want %d", got, tc.kind)
			}
			if got := MessageOf[kind](tc.err); got != tc.message {
				t.Errorf("MessageOf = %q, want %q", got, tc.message)
			}
		})
	}
	// Another interface's kind type does not match.
	if got := KindOf(wrapped, otherKind(7)); got != 7 {
		t.Errorf("KindOf with another kind type = %d, want 7", got)
	}
}
