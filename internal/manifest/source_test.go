package manifest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

func TestFetchSourcePath(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "target", "app.wasm"), "\x00asm")
	if err := os.MkdirAll(filepath.Join(dir, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	m := &Manifest{File: "spin.toml", Dir: dir}
	ctx := context.Background()

	got, err := FetchSource(ctx, m, &Component{ID: "a", Source: Source{Path: "target/app.wasm"}}, "")
	if err != nil || got != filepath.Join(dir, "target", "app.wasm") {
		t.Fatalf("got %q, %v", got, err)
	}

	_, err = FetchSource(ctx, m, &Component{ID: "b", Line: 7, Source: Source{Path: "missing.wasm"}}, "")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `spin.toml:7: component "b": source "missing.wasm" does not exist`) {
		t.Fatalf("missing: %v", err)
	}

	_, err = FetchSource(ctx, m, &Component{ID: "c", Source: Source{Path: "adir"}}, "")
	if !errors.Is(err, ErrInvalidSource) {
		t.Fatalf("directory: %v", err)
	}

	_, err = FetchSource(ctx, m, &Component{ID: "d", Source: Source{Registry: "ttl.sh", Package: "user:app", Version: "1.0.0"}}, "")
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), `registry source "user:app@1.0.0" from registry "ttl.sh" is not supported by redspin yet`) {
		t.Fatalf("registry: %v", err)
	}
}

func TestFetchSourceURL(t *testing.T) {
	body := []byte("\x00asm\x01\x00\x00\x00")
	sum := sha256.Sum256(body)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/app.wasm":
			w.Write(body)
		case "/tampered.wasm":
			w.Write(append(body, 'x'))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("test server not on loopback: %s", srv.URL)
	}
	cache := t.TempDir()
	m := &Manifest{File: "spin.toml", Dir: t.TempDir()}
	ctx := context.Background()

	c := &Component{ID: "remote", Source: Source{URL: srv.URL + "/app.wasm", Digest: digest}}
	got, err := FetchSource(ctx, m, c, cache)
	if err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(got); err != nil || string(data) != string(body) || !strings.HasPrefix(got, cache) {
		t.Fatalf("downloaded %q: %q, %v", got, data, err)
	}
	again, err := FetchSource(ctx, m, c, cache)
	if err != nil || again != got || hits.Load() != 1 {
		t.Fatalf("second fetch %q, %v; %d requests (want 1, cached)", again, err, hits.Load())
	}

	bad := &Component{ID: "bad", Source: Source{URL: srv.URL + "/tampered.wasm", Digest: digest}}
	fresh := t.TempDir() // the first cache already holds this digest
	_, err = FetchSource(ctx, m, bad, fresh)
	if !errors.Is(err, ErrDigestMismatch) || !strings.Contains(err.Error(), "expected "+digest+", downloaded sha256:") {
		t.Fatalf("mismatch: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(fresh, "wasm", "sha256")); len(entries) != 0 {
		t.Errorf("cache holds %d files after a mismatch, want 0", len(entries))
	}

	missing := &Component{ID: "gone", Source: Source{URL: srv.URL + "/gone.wasm", Digest: "sha256:" + strings.Repeat("0", 64)}}
	if _, err := FetchSource(ctx, m, missing, cache); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("404: %v", err)
	}

	prefix := &Component{ID: "p", Source: Source{URL: srv.URL + "/app.wasm", Digest: "md5:00"}}
	if _, err := FetchSource(ctx, m, prefix, cache); !errors.Is(err, ErrInvalidSource) {
		t.Fatalf("digest prefix: %v", err)
	}
}
