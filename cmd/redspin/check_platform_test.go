package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redspin/redspin/internal/testutil/wasiwat"
	"github.com/redspin/redspin/internal/wasmtime"
)

// platformCacheDir is a compile cache kept between runs (the JS guest is
// 14 MB), or a fresh one with REDSPIN_TEST_FRESH_CACHE set.
func platformCacheDir(t *testing.T) string {
	if d, err := os.UserCacheDir(); err == nil && os.Getenv("REDSPIN_TEST_FRESH_CACHE") == "" {
		return filepath.Join(d, "redspin", "test-check")
	}
	return t.TempDir()
}

// TestCheckPlatformImports: `check` of an app whose guests import every
// synchronous version of Spin's SQLite, PostgreSQL, MySQL and MQTT
// interfaces (unversioned, 2.0.0, spin:sqlite 3.0.0 and 3.1.0's sync
// functions, spin:postgres 3.0.0, 4.0.0, 4.1.0 and 4.2.0's sync functions, as
// components and as canonical-ABI core modules) lists none of them as
// unsupported: the only warning is the JS platform guest's LLM import,
// which redspin does not provide. A Redis handler importing the wholly
// async spin:mysql@3.0.0 does not load, and check names it and says why.
func TestCheckPlatformImports(t *testing.T) {
	guests, err := filepath.Abs(filepath.Join("..", "..", "testdata", "guests"))
	if err != nil {
		t.Fatal(err)
	}
	const perms = `sqlite_databases = ["default"]
key_value_stores = ["default"]
allowed_outbound_hosts = ["postgres://127.0.0.1:5432", "mysql://127.0.0.1:3306", "mqtt://127.0.0.1:1883", "redis://127.0.0.1:6379", "http://127.0.0.1:80"]
`
	manifest := "spin_manifest_version = 2\n[application]\nname = \"platform\"\n"
	comps := map[string]string{
		"jsp": "js-platform/js-platform.wasm", "csqlite": "c-sqlite/c-sqlite.wasm", "csqlitecore": "c-sqlite/c-sqlite.core.wasm",
		"csqlite30": "c-sqlite30/c-sqlite30.wasm", "csqlite30core": "c-sqlite30/c-sqlite30.core.wasm", "cmqtt": "c-mqtt/c-mqtt.wasm",
		"cmqttcore": "c-mqtt/c-mqtt.core.wasm", "rdbms": "rdbms/rdbms.wasm", "rdbmsmod": "rdbms/rdbms-module.wasm",
		"rdbms40": "rdbms40/rdbms40.wasm",
	}
	for id, file := range comps {
		p := filepath.Join(guests, file)
		if _, err := os.Stat(p); err != nil {
			t.Skipf("guest not built: %v", err)
		}
		manifest += fmt.Sprintf("[[trigger.redis]]\nchannel = %q\ncomponent = %q\n[component.%s]\nsource = %q\n%s", id, id, id, p, perms)
	}
	cache := platformCacheDir(t)
	code, out, errOut := runCLI(t, context.Background(), "", "check", "-f", writeManifest(t, manifest), "--embedded-redis", "--cache-dir", cache)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	var warnings []string
	for _, l := range strings.Split(errOut, "\n") {
		if strings.HasPrefix(l, "Warning: ") {
			warnings = append(warnings, l)
		}
	}
	want := `Warning: component "jsp" imports fermyon:spin/llm, which redspin does not provide: a call that uses it fails that message`
	if len(warnings) != 1 || warnings[0] != want {
		t.Errorf("warnings:\n%s\nwant only:\n%s", strings.Join(warnings, "\n"), want)
	}
	for id := range comps {
		if !strings.Contains(out, "\t"+id+": ") {
			t.Errorf("stdout does not list component %s:\n%s", id, out)
		}
	}

	// A Redis handler importing spin:mysql@3.0.0 (every function async)
	// does not load.
	wasm, err := wasmtime.Wat2Wasm(`(component $C
	  (type $s (stream u8))
	  (import "spin:mysql/mysql@3.0.0" (instance (export "query" (func (result $s)))))
	  (core module $m
	    (memory (export "memory") 1)
	    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 64))
	    (func (export "handle") (param i32 i32) (result i32) (i32.const 16)))
	  (core instance $i (instantiate $m))
	  (core instance $mem (instantiate $m))` + wasiwat.InboundRedis)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "async.wasm"), wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	manifest = fmt.Sprintf("spin_manifest_version = 2\n[application]\nname = \"async\"\n[[trigger.redis]]\nchannel = \"a\"\n"+
		"component = \"async\"\n[component.async]\nsource = %q\n%s", filepath.Join(dir, "async.wasm"), perms)
	code, out, errOut = runCLI(t, context.Background(), "", "check", "-f", writeManifest(t, manifest), "--embedded-redis", "--cache-dir", cache)
	if code == exitOK || !strings.Contains(errOut, `component "async": compile: component-model async is not supported: the component uses `+
		"async imports spin:mysql/mysql@3.0.0, and it needs component-model async, which Wasmtime 39's C API (redspin's engine) cannot serve") {
		t.Errorf("async guest: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}
