// Package ociregistry runs go-containerregistry's in-memory OCI registry on
// loopback for tests, optionally behind basic auth, and can corrupt one blob
// to test digest checks.
package ociregistry

import (
	"bytes"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

// Registry is a running test registry.
type Registry struct {
	// Host is "127.0.0.1:<port>", the registry part of references.
	Host string

	srv *httptest.Server

	mu      sync.Mutex
	corrupt map[string]bool // blob digests served with altered content
	blobGet map[string]int  // blob GETs by digest
}

// Options configure [Start]. The zero value is an open registry.
type Options struct {
	// User and Password, when User is set, are required (basic auth) on
	// every request.
	User, Password string
}

// Start runs a registry until the test ends.
func Start(t testing.TB, opts Options) *Registry {
	t.Helper()
	r := &Registry{corrupt: map[string]bool{}, blobGet: map[string]int{}}
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	h := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if opts.User != "" {
			u, p, ok := req.BasicAuth()
			if !ok || u != opts.User || p != opts.Password {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		}
		if i := strings.Index(req.URL.Path, "/blobs/sha256:"); i >= 0 && req.Method == http.MethodGet {
			d := req.URL.Path[i+len("/blobs/"):]
			r.mu.Lock()
			r.blobGet[d]++
			bad := r.corrupt[d]
			r.mu.Unlock()
			if bad {
				rec := httptest.NewRecorder()
				inner.ServeHTTP(rec, req)
				body := rec.Body.Bytes()
				if len(body) > 0 {
					body[0] ^= 0xff
				}
				for k, v := range rec.Header() {
					w.Header()[k] = v
				}
				w.WriteHeader(rec.Code)
				_, _ = io.Copy(w, bytes.NewReader(body))
				return
			}
		}
		inner.ServeHTTP(w, req)
	})
	r.srv = httptest.NewServer(h)
	t.Cleanup(r.Close)
	r.Host = strings.TrimPrefix(r.srv.URL, "http://")
	return r
}

// Close stops the registry (idempotent); later requests fail to connect.
func (r *Registry) Close() { r.srv.Close() }

// Corrupt makes the registry serve the blob with this digest altered.
func (r *Registry) Corrupt(digest string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.corrupt[digest] = true
}

// BlobGets returns how many times the blob with this digest was fetched.
func (r *Registry) BlobGets(digest string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.blobGet[digest]
}
