package streamentry

import (
	"context"
	"errors"
	"testing"
)

type fakePlain struct {
	got []byte
	err error
}

func (f *fakePlain) Handle(_ context.Context, _ string, payload []byte) error {
	f.got = payload
	return f.err
}

func TestFromPlain(t *testing.T) {
	f := &fakePlain{}
	h := FromPlain(f)
	d, err := h.HandleEntry(context.Background(), "c", Entry{Payload: []byte("hi")})
	if err != nil || d.Action != Ack || string(f.got) != "hi" {
		t.Fatalf("ok: got %v, %v, payload %q", d, err, f.got)
	}
	f.err = errors.New("boom")
	if _, err := h.HandleEntry(context.Background(), "c", Entry{}); !errors.Is(err, f.err) {
		t.Fatalf("error: got %v, want %v", err, f.err)
	}
}
