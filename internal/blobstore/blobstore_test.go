package blobstore

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestPutVerifiesAndLooksUp(t *testing.T) {
	s := New(t.TempDir())
	d, p, err := s.PutBytes([]byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := s.Lookup(d); !ok || got != p {
		t.Fatalf("Lookup(%s) = %q, %v", d, got, ok)
	}
	if b, _ := os.ReadFile(p); string(b) != "hello" {
		t.Fatalf("content %q", b)
	}
	other := Digest([]byte("other"))
	if _, err := s.Put(strings.NewReader("not other"), other, 0); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("mismatched put: %v", err)
	}
	if _, ok := s.Lookup(other); ok {
		t.Fatal("a mismatched blob was stored")
	}
	if _, err := s.Put(strings.NewReader("other"), other, 3); err == nil || !strings.Contains(err.Error(), "larger than 3 bytes") {
		t.Fatalf("oversized put: %v", err)
	}
	for _, bad := range []string{"md5:00", "sha256:xyz", "sha256:" + strings.Repeat("a", 63)} {
		if _, err := s.Path(bad); !errors.Is(err, ErrInvalidDigest) {
			t.Errorf("Path(%q): %v", bad, err)
		}
	}
}
