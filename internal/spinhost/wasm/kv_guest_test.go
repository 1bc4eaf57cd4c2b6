package wasm

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/redspin/redspin/internal/runtimeconfig"
	"github.com/redspin/redspin/internal/spinhost/kv"
)

// The key-value interfaces the older guest tests do not reach: Spin 1.x's
// `key-value` core imports (the spin1 guest's kv: commands) and
// wasi:keyvalue/store@0.2.0-draft2 (c-host's wasikv: commands, as a
// component and as a core module with canonical-ABI imports), all against
// the default SQLite store in a state directory.

// kvApp is the app-level key-value state of one run of redspin: a Manager
// on dir, whose "default" store the guest may open and whose "other" store
// is defined but not in the guest's key_value_stores.
func kvApp(t *testing.T, dir string) *kv.Manager {
	t.Helper()
	m, err := kv.New(kv.Config{StateDir: dir, Stores: map[string]runtimeconfig.KeyValueStore{
		"other": {Type: runtimeconfig.StoreSpin, Path: filepath.Join(dir, "other.db")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// defaultValue reads key from m's default store, as the host sees it.
func defaultValue(t *testing.T, m *kv.Manager, key string) (string, bool) {
	t.Helper()
	s, err := m.Store(context.Background(), kv.DefaultLabel)
	if err != nil {
		t.Fatal(err)
	}
	v, ok, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return string(v), ok
}

// sortedLines returns the lines of out, sorted (key listings have no order).
func sortedLines(out string) []string {
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	slices.Sort(lines)
	return lines
}

func TestGuestKeyValueDefaultStore(t *testing.T) {
	dir := t.TempDir()
	m := kvApp(t, dir)
	svc := testServices(t)
	svc.KV = m.Component("guest", []string{kv.DefaultLabel})

	spin1 := newCoreRunner(t, svc, "spin1/spin1", "canonical_abi_realloc", "handle-redis-message")
	hosts := map[string]guestRunner{
		"component": newComponentRunner(t, svc),
		"core":      newCoreRunner(t, svc, "c-host/c-host.core", "cabi_realloc", "fermyon:spin/inbound-redis#handle-message"),
	}

	t.Run("spin1", func(t *testing.T) {
		runSteps(t, spin1, []guestStep{
			{"kv:set:default|spin1|from spin1", true, "kv:set ok\n", ""},
			{"kv:get:default|spin1", true, "from spin1\n", ""},
			{"kv:exists:default|spin1", true, "true\n", ""},
			{"kv:exists:default|missing", true, "false\n", ""},
			{"kv:get:default|missing", false, "", "kv:get: no-such-key"},
			{"kv:set:default|gone|x", true, "kv:set ok\n", ""},
			{"kv:delete:default|gone", true, "kv:delete ok\n", ""},
			{"kv:exists:default|gone", true, "false\n", ""},
			{"kv:keys:default", true, "spin1\n", ""},
			{"kv:open:default", true, "kv:open ok\n", ""},
			{"kv:open:other", false, "", "kv:open: access-denied"},
			{"kv:set:other|k|v", false, "", "kv:set: access-denied"},
		})
		if v, ok := defaultValue(t, m, "spin1"); !ok || v != "from spin1" {
			t.Errorf("default store: spin1 = %q, %v", v, ok)
		}
		if _, ok := defaultValue(t, m, "gone"); ok {
			t.Error("default store: the deleted key is still there")
		}
	})

	for shape, r := range hosts {
		t.Run("wasikv-"+shape, func(t *testing.T) {
			key := "wasi-" + shape
			runSteps(t, r, []guestStep{
				{"wasikv:set:default|" + key + "|v-" + shape, true, "wasikv:set ok\n", ""},
				{"wasikv:get:default|" + key, true, "v-" + shape + "\n", ""},
				{"wasikv:get:default|spin1", true, "from spin1\n", ""},
				{"wasikv:get:default|missing", true, "(none)\n", ""},
				{"wasikv:exists:default|" + key, true, "true\n", ""},
				{"wasikv:exists:default|missing", true, "false\n", ""},
				{"wasikv:set:default|gone|x", true, "wasikv:set ok\n", ""},
				{"wasikv:delete:default|gone", true, "wasikv:delete ok\n", ""},
				{"wasikv:delete:default|gone", true, "wasikv:delete ok\n", ""},
				{"wasikv:get:default|gone", true, "(none)\n", ""},
				{"wasikv:open:default", true, "wasikv:open ok\n", ""},
				{"wasikv:open:other", false, "", "wasikv:open: access-denied"},
				{"wasikv:get:other|k", false, "", "wasikv:get: access-denied"},
				{"wasikv:open:nowhere", false, "", "wasikv:open: access-denied"},
			})
			if v, ok := defaultValue(t, m, key); !ok || v != "v-"+shape {
				t.Errorf("default store: %s = %q, %v", key, v, ok)
			}
			res := r.run(t, "wasikv:keys:default")
			if got := sortedLines(res.stdout); !res.ok || !slices.Contains(got, key) || !slices.Contains(got, "spin1") || slices.Contains(got, "gone") {
				t.Errorf("wasikv:keys:default: ok=%v keys %q stderr %q", res.ok, got, res.stderr)
			}
		})
	}

	// Access is denied before any store is touched: the other store's file
	// was never created.
	if _, err := os.Stat(filepath.Join(dir, "other.db")); !os.IsNotExist(err) {
		t.Errorf("other.db: %v (a denied open created the store)", err)
	}

	// Restart: a new Manager on the same state directory, as a new redspin
	// process would have. What each interface wrote is there for the others.
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, kv.DefaultFile)); err != nil {
		t.Fatalf("default store file: %v", err)
	}
	m = kvApp(t, dir)
	svc.KV = m.Component("guest", []string{kv.DefaultLabel})
	runSteps(t, spin1, []guestStep{
		{"kv:get:default|spin1", true, "from spin1\n", ""},
		{"kv:get:default|wasi-component", true, "v-component\n", ""},
		{"kv:get:default|wasi-core", true, "v-core\n", ""},
	})
	for shape, r := range hosts {
		runSteps(t, r, []guestStep{
			{"wasikv:get:default|spin1", true, "from spin1\n", ""},
			{"wasikv:get:default|wasi-" + shape, true, "v-" + shape + "\n", ""},
			{"kv:get:default|wasi-" + shape, true, "v-" + shape + "\n", ""},
		})
	}
	res := spin1.run(t, "kv:keys:default")
	if got := sortedLines(res.stdout); !res.ok || !slices.Equal(got, []string{"spin1", "wasi-component", "wasi-core"}) {
		t.Errorf("kv:keys:default after restart: ok=%v keys %q stderr %q", res.ok, got, res.stderr)
	}
}
