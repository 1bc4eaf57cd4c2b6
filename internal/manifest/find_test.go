package manifest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFind(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "app", "spin.toml"), "")
	write(t, filepath.Join(root, "app", "other.toml"), "")
	write(t, filepath.Join(root, "app", "app.wasm"), "")
	if err := os.MkdirAll(filepath.Join(root, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, from, want string
		sentinel         error
		msg              string
	}{
		{"file", filepath.Join(root, "app", "other.toml"), filepath.Join(root, "app", "other.toml"), nil, ""},
		{"dir", filepath.Join(root, "app"), filepath.Join(root, "app", "spin.toml"), nil, ""},
		{"dir without manifest", filepath.Join(root, "empty"), "", ErrNotFound, "does not contain a file named 'spin.toml'"},
		{"missing", filepath.Join(root, "nope.toml"), "", ErrNotFound, "No such file or directory"},
		{"wasm file", filepath.Join(root, "app", "app.wasm"), "", ErrUnsupported, "running a bare .wasm is not supported by redspin yet"},
		{"oci", "ghcr.io/fermyon/app:v1", "", ErrUnsupported, "looks like an OCI registry reference"},
		{"oci digest", "registry.example.com:5000/a/b@sha256:" + strings.Repeat("a", 64), "", ErrUnsupported, "OCI"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Find(tc.from)
			if tc.sentinel == nil {
				if err != nil || got != tc.want {
					t.Fatalf("Find(%q) = %q, %v; want %q", tc.from, got, err, tc.want)
				}
				return
			}
			if !errors.Is(err, tc.sentinel) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Find(%q) = %q, %v; want %v containing %q", tc.from, got, err, tc.sentinel, tc.msg)
			}
		})
	}
}

func TestFindUpward(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "repo", ".git", "HEAD"), "")
	write(t, filepath.Join(root, "repo", "spin.toml"), "")
	deep := filepath.Join(root, "repo", "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}

	t.Chdir(deep)
	got, err := Find("")
	if err != nil || got != filepath.Join("..", "..", "spin.toml") {
		t.Fatalf("from a/b: %q, %v", got, err)
	}

	t.Chdir(filepath.Join(root, "repo"))
	if got, err := Find(""); err != nil || got != "spin.toml" {
		t.Fatalf("from repo: %q, %v", got, err)
	}

	// The search stops at a Git root: a spin.toml above it is not found.
	write(t, filepath.Join(root, "spin.toml"), "")
	if err := os.Remove(filepath.Join(root, "repo", "spin.toml")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(deep)
	if _, err := Find(""); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"spin.toml" not found`) {
		t.Fatalf("above git root: %v", err)
	}
}
