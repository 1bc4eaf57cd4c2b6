package manifest

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad checks that no input makes the loader panic, and that a
// successful load always yields a consistent manifest.
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(fixtureDir, "*.toml"))
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(""))
	f.Add([]byte("spin_manifest_version = 2\n[[trigger.redis]]\n[[trigger.redis.x]]\n[trigger.redis.x.y]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, _, err := Parse("fuzz.toml", data)
		if err != nil {
			if m != nil {
				t.Fatal("manifest returned with an error")
			}
			return
		}
		for _, rt := range m.RedisTriggers {
			if _, ok := m.Components[rt.Component]; !ok {
				t.Fatalf("trigger %q references missing component %q", rt.ID, rt.Component)
			}
		}
		if len(m.ComponentIDs) != len(m.Components) {
			t.Fatalf("%d IDs for %d components", len(m.ComponentIDs), len(m.Components))
		}
	})
}
