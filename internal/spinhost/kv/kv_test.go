package kv

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"

	"github.com/redspin/redspin/internal/runtimeconfig"
)

func newManager(t *testing.T, cfg Config) *Manager {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func openStore(t *testing.T, m *Manager, label string) (*Instance, uint32) {
	t.Helper()
	inst := m.Component("comp", []string{label}).NewInstance()
	t.Cleanup(func() { _ = inst.Close() })
	h, err := inst.Open(context.Background(), label)
	if err != nil {
		t.Fatalf("Open(%q): %v", label, err)
	}
	return inst, h
}

// exercise runs the store operations against one open store.
func exercise(t *testing.T, inst *Instance, h uint32) {
	t.Helper()
	ctx := context.Background()
	if v, ok, err := inst.Get(ctx, h, "a"); err != nil || ok || v != nil {
		t.Fatalf("Get(missing) = %q %v %v", v, ok, err)
	}
	if err := inst.Set(ctx, h, "a", []byte("1\x00")); err != nil {
		t.Fatal(err)
	}
	if err := inst.Set(ctx, h, "b", nil); err != nil {
		t.Fatal(err)
	}
	if err := inst.Set(ctx, h, "a", []byte("2\x00")); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := inst.Get(ctx, h, "a"); err != nil || !ok || string(v) != "2\x00" {
		t.Fatalf("Get(a) = %q %v %v", v, ok, err)
	}
	if v, ok, err := inst.Get(ctx, h, "b"); err != nil || !ok || len(v) != 0 {
		t.Fatalf("Get(b) = %q %v %v, want empty and present", v, ok, err)
	}
	if ok, err := inst.Exists(ctx, h, "a"); err != nil || !ok {
		t.Fatalf("Exists(a) = %v %v", ok, err)
	}
	if ok, err := inst.Exists(ctx, h, "zzz"); err != nil || ok {
		t.Fatalf("Exists(zzz) = %v %v", ok, err)
	}
	keys, err := inst.Keys(ctx, h)
	slices.Sort(keys)
	if err != nil || !reflect.DeepEqual(keys, []string{"a", "b"}) {
		t.Fatalf("Keys = %q %v", keys, err)
	}
	if err := inst.Delete(ctx, h, "b"); err != nil {
		t.Fatal(err)
	}
	if err := inst.Delete(ctx, h, "never"); err != nil {
		t.Fatalf("Delete(missing): %v", err)
	}
	if ok, _ := inst.Exists(ctx, h, "b"); ok {
		t.Fatal("b exists after Delete")
	}
	if _, err := inst.LegacyGet(ctx, h, "b"); KindOf(err) != KindNoSuchKey {
		t.Fatalf("LegacyGet(missing): %v", err)
	}
	if v, err := inst.LegacyGet(ctx, h, "a"); err != nil || string(v) != "2\x00" {
		t.Fatalf("LegacyGet(a): %q %v", v, err)
	}
}

func TestDefaultStoreIsSpinsSQLiteFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state dir", ".spin")
	m := newManager(t, Config{StateDir: dir})
	want := filepath.Join(dir, "sqlite_key_value.db")
	if m.DefaultPath() != want {
		t.Fatalf("DefaultPath = %q, want %q", m.DefaultPath(), want)
	}
	if m.Summary("default") != `"`+want+`"` {
		t.Fatalf("Summary = %s", m.Summary("default"))
	}
	inst, h := openStore(t, m, "default")
	exercise(t, inst, h)
	_ = m.Close()

	// The file holds Spin's table and rows.
	db, err := sql.Open("sqlite", want)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var store, key string
	var value []byte
	if err := db.QueryRow(`SELECT store, key, value FROM spin_key_value`).Scan(&store, &key, &value); err != nil {
		t.Fatal(err)
	}
	if store != "default" || key != "a" || string(value) != "2\x00" {
		t.Fatalf("row = %q %q %q", store, key, value)
	}
	// A row written as `spin up` would is visible after a restart.
	if _, err := db.Exec(`INSERT INTO spin_key_value (store, key, value) VALUES ('default', 'from-spin', x'6869')`); err != nil {
		t.Fatal(err)
	}
	m2 := newManager(t, Config{StateDir: dir})
	inst2, h2 := openStore(t, m2, "default")
	if v, ok, err := inst2.Get(context.Background(), h2, "from-spin"); err != nil || !ok || string(v) != "hi" {
		t.Fatalf("after restart: %q %v %v", v, ok, err)
	}
	if v, ok, _ := inst2.Get(context.Background(), h2, "a"); !ok || string(v) != "2\x00" {
		t.Fatalf("value did not survive a restart: %q", v)
	}
}

func TestInMemoryDefault(t *testing.T) {
	m := newManager(t, Config{})
	if m.DefaultPath() != "" || m.Summary("default") != "a temporary in-memory store" {
		t.Fatalf("DefaultPath %q Summary %q", m.DefaultPath(), m.Summary("default"))
	}
	inst, h := openStore(t, m, "default")
	exercise(t, inst, h)
}

func TestSpinStoresShareAFile(t *testing.T) {
	dir := t.TempDir()
	shared := filepath.Join(dir, "shared.db")
	m := newManager(t, Config{StateDir: dir, Stores: map[string]runtimeconfig.KeyValueStore{
		"one": {Type: "spin", Path: shared},
		"two": {Type: "spin", Path: shared},
		"mem": {Type: "spin"},
	}})
	ctx := context.Background()
	inst := m.Component("c", []string{"one", "two", "mem"}).NewInstance()
	h1, err := inst.Open(ctx, "one")
	if err != nil {
		t.Fatal(err)
	}
	h2, err := inst.Open(ctx, "two")
	if err != nil {
		t.Fatal(err)
	}
	_ = inst.Set(ctx, h1, "k", []byte("one"))
	if ok, _ := inst.Exists(ctx, h2, "k"); ok {
		t.Fatal("labels sharing a file see each other's keys")
	}
	hm, err := inst.Open(ctx, "mem")
	if err != nil {
		t.Fatal(err)
	}
	exercise(t, inst, hm)
}

func TestRedisStore(t *testing.T) {
	mr := miniredis.RunT(t)
	m := newManager(t, Config{Stores: map[string]runtimeconfig.KeyValueStore{
		"cache": {Type: "redis", URL: "redis://" + mr.Addr()},
	}})
	if m.Summary("cache") != "redis at "+mr.Addr() {
		t.Fatalf("Summary = %q", m.Summary("cache"))
	}
	inst, h := openStore(t, m, "cache")
	exercise(t, inst, h)
	if v, _ := mr.Get("a"); v != "2\x00" {
		t.Fatalf("redis has %q", v)
	}
}

func TestNewErrors(t *testing.T) {
	_, err := New(Config{Stores: map[string]runtimeconfig.KeyValueStore{
		"az":  {Type: "azure_cosmos"},
		"aws": {Type: "aws_dynamo"},
		"x":   {Type: "etcd"},
		"r":   {Type: "redis", URL: "http://nope"},
	}})
	if err == nil {
		t.Fatal("New accepted unsupported stores")
	}
	for _, want := range []string{
		`key_value_store.az: type "azure_cosmos" is not supported by redspin`,
		`key_value_store.aws: type "aws_dynamo" is not supported`,
		`key_value_store.x: unknown type "etcd"`,
		`key_value_store.r:`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestAccessControl(t *testing.T) {
	var logs bytes.Buffer
	m := newManager(t, Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx := context.Background()
	inst := m.Component("counter", []string{"default", "undefined"}).NewInstance()
	defer inst.Close()

	_, err := inst.Open(ctx, "other")
	if KindOf(err) != KindAccessDenied {
		t.Fatalf("unlisted label: %v, want access-denied", err)
	}
	if !strings.Contains(logs.String(), `key_value_stores = [\"other\"]`) || !strings.Contains(logs.String(), "component=counter") {
		t.Fatalf("log lacks the fix:\n%s", logs.String())
	}
	if _, err := inst.Open(ctx, "undefined"); KindOf(err) != KindNoSuchStore {
		t.Fatalf("listed but undefined: %v, want no-such-store", err)
	}
	err = m.Check("counter", []string{"default", "undefined"})
	if err == nil || !strings.Contains(err.Error(), `component "counter": unknown key_value_stores label "undefined"`) {
		t.Fatalf("Check: %v", err)
	}
	if err := m.Check("counter", []string{"default"}); err != nil {
		t.Fatal(err)
	}
}

func TestInstanceTable(t *testing.T) {
	m := newManager(t, Config{TableCapacity: 2})
	ctx := context.Background()
	inst := m.Component("c", []string{"default"}).NewInstance()
	h1, _ := inst.Open(ctx, "default")
	h2, err := inst.Open(ctx, "default")
	if err != nil || h1 == h2 || h1 == 0 || h2 == 0 {
		t.Fatalf("handles %d %d %v", h1, h2, err)
	}
	if _, err := inst.Open(ctx, "default"); KindOf(err) != KindStoreTableFull {
		t.Fatalf("third open: %v, want store-table-full", err)
	}
	inst.Drop(h1)
	if _, _, err := inst.Get(ctx, h1, "k"); KindOf(err) != KindInvalidStore {
		t.Fatalf("dropped handle: %v", err)
	}
	if _, err := inst.Open(ctx, "default"); err != nil {
		t.Fatalf("open after drop: %v", err)
	}
	if _, err := inst.ListKeys(ctx, h2, new(string)); err == nil || MessageOf(err) != "list_keys: cursor not supported" {
		t.Fatalf("cursor: %v", err)
	}
	if keys, err := inst.ListKeys(ctx, h2, nil); err != nil || keys == nil {
		t.Fatalf("ListKeys: %v %v", keys, err)
	}
	_ = inst.Close()
	if _, _, err := inst.Get(ctx, h2, "k"); KindOf(err) != KindInvalidStore {
		t.Fatalf("after Close: %v", err)
	}
	if _, err := inst.Open(ctx, "default"); err == nil {
		t.Fatal("Open after Close succeeded")
	}
}

func TestSeedAndLimits(t *testing.T) {
	m := newManager(t, Config{MaxResultBytes: 10})
	ctx := context.Background()
	if err := m.Seed(ctx, []Pair{{"k", []byte("v")}, {"big", []byte("01234567890")}}); err != nil {
		t.Fatal(err)
	}
	inst, h := openStore(t, m, "default")
	if v, ok, err := inst.Get(ctx, h, "k"); err != nil || !ok || string(v) != "v" {
		t.Fatalf("seeded key: %q %v %v", v, ok, err)
	}
	if _, _, err := inst.Get(ctx, h, "big"); err == nil || !strings.Contains(err.Error(), "exceeds limit of 10 bytes") {
		t.Fatalf("large value: %v", err)
	}
}

func TestErrorCases(t *testing.T) {
	tests := []struct {
		err       error
		legacy    uint8
		wasi      uint8
		wasiMsg   string
		legacyMsg string
	}{
		{kindErr(KindStoreTableFull, "x"), LegacyStoreTableFull, WASIOther, "store table full", ""},
		{kindErr(KindNoSuchStore, "x"), LegacyNoSuchStore, WASINoSuchStore, "", ""},
		{kindErr(KindAccessDenied, "x"), LegacyAccessDenied, WASIAccessDenied, "", ""},
		{kindErr(KindInvalidStore, "x"), LegacyInvalidStore, WASINoSuchStore, "", ""},
		{kindErr(KindNoSuchKey, "x"), LegacyNoSuchKey, WASIOther, "x", ""},
		{kindErr(KindOther, "disk full"), LegacyIO, WASIOther, "disk full", "disk full"},
	}
	for _, tc := range tests {
		if c, msg := LegacyCase(tc.err); c != tc.legacy || msg != tc.legacyMsg {
			t.Errorf("LegacyCase(%v) = %d %q", tc.err, c, msg)
		}
		if c, msg := WASICase(tc.err); c != tc.wasi || msg != tc.wasiMsg {
			t.Errorf("WASICase(%v) = %d %q", tc.err, c, msg)
		}
	}
}
