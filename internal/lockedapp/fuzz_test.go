package lockedapp

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/redspin/redspin/internal/blobstore"
)

// FuzzDecode feeds arbitrary bytes, seeded with the committed locked apps,
// through Decode and the conversion to a manifest: bad registry content gets
// an error, never a panic.
func FuzzDecode(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"spin_lock_version":1,"triggers":[{"id":"t","trigger_type":"redis-stream","trigger_config":{"component":"c","stream":"s"}}],"components":[{"id":"c","source":{"content_type":"application/wasm","content":{"inline":"AGFzbQEAAAA"}}}]}`))
	store := blobstore.New(f.TempDir())
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Decode(data)
		if err != nil {
			return
		}
		_, _, _ = l.Manifest(filepath.Join(dir, "app.lock.json"), dir, store)
	})
}
