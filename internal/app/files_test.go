package app

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestGlobRegexp(t *testing.T) {
	tests := []struct {
		glob string
		yes  []string
		no   []string
	}{
		{"static/*", []string{"static/a.txt"}, []string{"static/x/a.txt", "staticx/a", "a.txt"}},
		{"static/**/*", []string{"static/a", "static/x/y/z.txt"}, []string{"other/a"}},
		{"**/*.txt", []string{"a.txt", "x/y/a.txt"}, []string{"a.md"}},
		{"file?.md", []string{"file1.md"}, []string{"file10.md"}},
		{"[ab].txt", []string{"a.txt", "b.txt"}, []string{"c.txt"}},
		{"[!ab].txt", []string{"c.txt"}, []string{"a.txt"}},
		{"./x.txt", []string{"x.txt"}, nil},
	}
	for _, tc := range tests {
		re, err := globRegexp(tc.glob)
		if err != nil {
			t.Fatalf("%s: %v", tc.glob, err)
		}
		for _, s := range tc.yes {
			if !re.MatchString(s) {
				t.Errorf("%q should match %q", tc.glob, s)
			}
		}
		for _, s := range tc.no {
			if re.MatchString(s) {
				t.Errorf("%q should not match %q", tc.glob, s)
			}
		}
	}
	if _, err := globRegexp("a[b"); err == nil {
		t.Error("unclosed class accepted")
	}
}

func TestGlobFiles(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"static/a.txt", "static/sub/b.txt", "static/sub/c.md", "other/d.txt", "top.txt"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := globFiles(dir, "static/**/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if want := []string{"static/a.txt", "static/sub/b.txt"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	got, err = globFiles(dir, "missing/*")
	if err != nil || len(got) != 0 {
		t.Fatalf("missing dir: %q, %v", got, err)
	}
	if _, err := globFiles(dir, "../x/*"); err == nil {
		t.Fatal("a pattern escaping the manifest dir was accepted")
	}
}
