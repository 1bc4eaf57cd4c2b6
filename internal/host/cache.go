package host

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"

	"github.com/redspin/redspin/internal/wasmtime"
)

// artifactCache stores serialized compiled modules and components on disk,
// keyed by the binary's sha256 and the engine's fingerprint.
type artifactCache struct {
	dir string // "" = disabled
}

func contentKey(wasm []byte) string {
	h := sha256.Sum256(wasm)
	return hex.EncodeToString(h[:])
}

func (c *artifactCache) path(key string, e *wasmtime.Engine, kind binKind) string {
	ext := ".cwasm"
	if kind == binComponent {
		ext = ".ccwasm"
	}
	return filepath.Join(c.dir, key+"-"+e.Fingerprint()+ext)
}

// load returns the cached artifact, or nil.
func (c *artifactCache) load(key string, e *wasmtime.Engine, kind binKind) []byte {
	if c.dir == "" {
		return nil
	}
	b, err := os.ReadFile(c.path(key, e, kind))
	if err != nil {
		return nil
	}
	return b
}

// store writes an artifact atomically (temp file + rename).
func (c *artifactCache) store(key string, e *wasmtime.Engine, kind binKind, data []byte) error {
	if c.dir == "" {
		return nil
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return err
	}
	final := c.path(key, e, kind)
	f, err := os.CreateTemp(c.dir, ".tmp-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), final); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

// remove deletes a cached artifact that failed to load.
func (c *artifactCache) remove(key string, e *wasmtime.Engine, kind binKind) {
	if c.dir != "" {
		os.Remove(c.path(key, e, kind))
	}
}
