package lockedapp_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/redspin/redspin/internal/app"
	"github.com/redspin/redspin/internal/lockedapp"
)

// TestAppLoadsLockedApp runs the whole `-f app.lock.json` path: detection
// by content, conversion, source fetch and file staging.
func TestAppLoadsLockedApp(t *testing.T) {
	dir := t.TempDir()
	wasm, err := filepath.Abs(filepath.Join("..", "..", "examples", "hello-redis", "hello.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	assets := filepath.Join(dir, "assets")
	if err := os.MkdirAll(filepath.Join(assets, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(assets, "sub", "f.txt"), []byte("from dir"), 0o644); err != nil {
		t.Fatal(err)
	}
	lock := `{
	  "spin_lock_version": 0,
	  "metadata": {"name": "locked", "triggers": {"redis": {"address": "redis://127.0.0.1:6399"}}},
	  "variables": {"ch": {"default": "jobs"}},
	  "triggers": [{"id": "t1", "trigger_type": "redis", "trigger_config": {"component": "hello", "channel": "{{ ch }}"}}],
	  "components": [{
	    "id": "hello",
	    "source": {"content_type": "application/wasm", "source": "` + lockedapp.FileURL(wasm) + `"},
	    "env": {"NAME": "locked"},
	    "files": [{"source": "` + lockedapp.FileURL(assets) + `", "path": "/assets"}, {"inline": "aGk", "path": "greeting.txt"}]
	  }]
	}`
	path := filepath.Join(dir, "app.lock.json")
	if err := os.WriteFile(path, []byte(lock), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := app.Load(context.Background(), app.Options{From: path, CacheDir: t.TempDir(), Cwd: dir, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if len(a.Servers) != 1 || a.Servers[0].Display != "127.0.0.1:6399" || len(a.Servers[0].Channels) != 1 || a.Servers[0].Channels[0].Name != "jobs" {
		t.Fatalf("servers: %+v", a.Servers)
	}
	if len(a.Components) != 1 {
		t.Fatalf("components: %+v", a.Components)
	}
	c := a.Components[0]
	if c.WasmPath != wasm || c.Env["NAME"] != "locked" {
		t.Errorf("component: wasm %q env %v", c.WasmPath, c.Env)
	}
	if len(c.Mounts) != 1 {
		t.Fatalf("mounts: %+v", c.Mounts)
	}
	root := c.Mounts[0].HostDir
	for rel, want := range map[string]string{"assets/sub/f.txt": "from dir", "greeting.txt": "hi"} {
		if b, err := os.ReadFile(filepath.Join(root, rel)); err != nil || string(b) != want {
			t.Errorf("staged %s: %q %v", rel, b, err)
		}
	}
	if a.StateDir != filepath.Join(dir, ".spin") {
		t.Errorf("state dir %q", a.StateDir)
	}
}
