// Package blobstore is a directory of immutable blobs named by their
// SHA-256 digest (<dir>/sha256/<hex>). Locked apps and OCI pulls share it:
// a pull stores every layer here after verifying its digest, and a locked
// app's digest-only content is looked up here, so a second start needs no
// network.
//
// Blobs are written to a temporary file and renamed into place only after
// their digest has been checked, so a path returned by the store always holds
// the content its name promises. Concurrent writers of one digest race
// harmlessly.
package blobstore

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ErrDigestMismatch is wrapped when content does not hash to its digest.
var ErrDigestMismatch = errors.New("digest mismatch")

// ErrInvalidDigest is wrapped when a digest is not "sha256:" and 64 hex digits.
var ErrInvalidDigest = errors.New("invalid digest")

// Store is a content-addressed blob directory. The zero value is not usable;
// call [New].
type Store struct {
	dir string
}

// New returns the store rooted at dir (created on first write).
func New(dir string) *Store { return &Store{dir: dir} }

// Dir returns the store's root directory.
func (s *Store) Dir() string { return s.dir }

// ParseDigest checks that digest is "sha256:" followed by 64 hex digits and
// returns the lower-case hex part.
func ParseDigest(digest string) (string, error) {
	h, ok := strings.CutPrefix(digest, "sha256:")
	if !ok {
		return "", fmt.Errorf("%w %q: must start with 'sha256:'", ErrInvalidDigest, digest)
	}
	if _, err := hex.DecodeString(h); err != nil || len(h) != 64 {
		return "", fmt.Errorf("%w %q: expected 'sha256:' and 64 hex digits", ErrInvalidDigest, digest)
	}
	return strings.ToLower(h), nil
}

// Digest returns the "sha256:<hex>" digest of b.
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Path returns where the blob with this digest lives (whether or not it is
// there yet).
func (s *Store) Path(digest string) (string, error) {
	h, err := ParseDigest(digest)
	if err != nil {
		return "", err
	}
	return filepath.Join(s.dir, "sha256", h), nil
}

// Lookup returns the path of the blob with this digest when the store holds it.
func (s *Store) Lookup(digest string) (string, bool) {
	p, err := s.Path(digest)
	if err != nil {
		return "", false
	}
	st, err := os.Stat(p)
	if err != nil || !st.Mode().IsRegular() {
		return "", false
	}
	return p, true
}

// Put stores the content read from r under digest, verifying it while
// copying; max bounds its size (0 means no bound). It returns the blob's
// path. A blob already present is not read again (r is left unread).
func (s *Store) Put(r io.Reader, digest string, max int64) (string, error) {
	dest, err := s.Path(digest)
	if err != nil {
		return "", err
	}
	if p, ok := s.Lookup(digest); ok {
		return p, nil
	}
	dir := filepath.Dir(dest)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("blob store: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return "", fmt.Errorf("blob store: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	h := sha256.New()
	src := r
	if max > 0 {
		src = io.LimitReader(r, max+1)
	}
	n, err := io.Copy(io.MultiWriter(tmp, h), src)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("blob %s: %w", digest, err)
	}
	if max > 0 && n > max {
		return "", fmt.Errorf("blob %s: larger than %d bytes", digest, max)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, digest) {
		return "", fmt.Errorf("blob %s: %w: the content hashes to %s", digest, ErrDigestMismatch, got)
	}
	if err := os.Chmod(tmp.Name(), 0o444); err != nil {
		return "", fmt.Errorf("blob store: %w", err)
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return "", fmt.Errorf("blob store: %w", err)
	}
	return dest, nil
}

// PutBytes stores b and returns its digest and path.
func (s *Store) PutBytes(b []byte) (digest, path string, err error) {
	digest = Digest(b)
	path, err = s.Put(bytes.NewReader(b), digest, 0)
	return digest, path, err
}
