package app

import (
	"os"
	"path/filepath"

	"github.com/redspin/redspin/internal/blobstore"
	"github.com/redspin/redspin/internal/lockedapp"
	"github.com/redspin/redspin/internal/manifest"
)

// DefaultCacheDir is redspin/ in the user cache dir (e.g. ~/.cache/redspin),
// or "" when the platform has none.
func DefaultCacheDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "redspin")
	}
	return ""
}

// BlobStore is the content store under cacheDir ("" means DefaultCacheDir)
// that locked apps and OCI pulls share.
func BlobStore(cacheDir string) *blobstore.Store {
	if cacheDir == "" {
		cacheDir = DefaultCacheDir()
	}
	return blobstore.New(filepath.Join(cacheDir, "blobs"))
}

// loadManifest reads the app file at path: a Spin locked app (detected by
// its content) or a spin.toml.
func loadManifest(path, cacheDir string) (*manifest.Manifest, []manifest.Warning, error) {
	if lockedapp.IsLockedFile(path) {
		return lockedapp.Load(path, BlobStore(cacheDir))
	}
	return manifest.Load(path)
}
