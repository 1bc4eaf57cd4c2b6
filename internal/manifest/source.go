package manifest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/redspin/redspin/internal/diag"
)

// maxDownload bounds a downloaded component (1 GiB).
const maxDownload = 1 << 30

// FetchSource returns the local path of component c's Wasm:
//   - a path source, made absolute relative to the manifest directory; it
//     must exist;
//   - a { url, digest } source, downloaded into cacheDir (kept under
//     cacheDir/wasm/sha256/<hex>, reused when present) and verified;
//   - a registry source: an [ErrUnsupported] error.
//
// It is safe for concurrent use; concurrent downloads of the same digest
// race harmlessly (content-addressed, renamed into place).
func FetchSource(ctx context.Context, m *Manifest, c *Component, cacheDir string) (string, error) {
	ctxName := diag.Sprintf("component %q", c.ID)
	fail := func(err error) (string, error) {
		return "", &Error{File: m.File, Line: c.Line, Key: ctxName, Err: err}
	}
	s := c.Source
	switch {
	case s.URL != "":
		p, err := download(ctx, s.URL, s.Digest, cacheDir)
		if err != nil {
			return fail(err)
		}
		return p, nil
	case s.Package != "":
		return fail(errf(ErrUnsupported, "registry source %s is not supported by redspin yet; use a path or { url, digest } source", s))
	}
	p := s.Path
	if !filepath.IsAbs(p) {
		p = filepath.Join(m.Dir, p)
	}
	st, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fail(errf(ErrNotFound, "source %q does not exist (looked for %s); build the component first (e.g. `spin build`)", s.Path, p))
		}
		return fail(diag.Errorf("source %q: %w", s.Path, err))
	}
	if st.IsDir() {
		return fail(errf(ErrInvalidSource, "source %q is a directory, not a .wasm file", s.Path))
	}
	return p, nil
}

// download fetches url into the cache, verifying digest ("sha256:<hex>").
func download(ctx context.Context, url, digest, cacheDir string) (string, error) {
	hexDigest, ok := strings.CutPrefix(digest, "sha256:")
	if !ok {
		return "", errf(ErrInvalidSource, "invalid `digest` %q; must start with 'sha256:'", digest)
	}
	if _, err := hex.DecodeString(hexDigest); err != nil || len(hexDigest) != 64 {
		return "", errf(ErrInvalidSource, "invalid `digest` %q; expected 'sha256:' and 64 hex digits", digest)
	}
	if cacheDir == "" {
		return "", diag.Errorf("no cache directory for downloading %q", url)
	}
	dir := filepath.Join(cacheDir, "wasm", "sha256")
	dest := filepath.Join(dir, strings.ToLower(hexDigest))
	if st, err := os.Stat(dest); err == nil && st.Mode().IsRegular() {
		return dest, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create download cache: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", diag.Errorf("Error fetching source URL %q: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", diag.Errorf("Error fetching source URL %q: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", diag.Errorf("Error fetching source URL %q: HTTP status %s", url, resp.Status)
	}
	tmp, err := os.CreateTemp(dir, "download-*")
	if err != nil {
		return "", fmt.Errorf("create download file: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(resp.Body, maxDownload+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", diag.Errorf("Error fetching source URL %q: %w", url, err)
	}
	if n > maxDownload {
		return "", diag.Errorf("Error fetching source URL %q: larger than %d bytes", url, maxDownload)
	}
	actual := "sha256:" + hex.EncodeToString(h.Sum(nil))
	if !strings.EqualFold(actual, digest) {
		return "", errf(ErrDigestMismatch, "Error fetching source URL %q: invalid content digest; expected %s, downloaded %s", url, digest, actual)
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return "", fmt.Errorf("save download: %w", err)
	}
	return dest, nil
}
