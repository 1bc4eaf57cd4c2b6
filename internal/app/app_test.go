package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/redspin/redspin/internal/variables"
)

// writeApp writes spin.toml (and an empty hello.wasm) into a new directory.
func writeApp(t *testing.T, manifest string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "spin.toml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hello.wasm"), []byte("\x00asm"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

const twoServers = `spin_manifest_version = 2
[application]
name = "two"
[application.trigger.redis]
address = "redis://default-host:6379"
[variables]
chan = { default = "news" }
other = { required = true }
[[trigger.redis]]
channel = "{{ chan }}"
component = "a"
[[trigger.redis]]
channel = "alpha"
component = "b"
address = "{{ other }}"
[[trigger.redis]]
channel = "{{chan}}"
component = "b"
[[trigger.redis]]
channel = "news"
component = "a"
[component.a]
source = "hello.wasm"
environment = { GREETING = "hi", KEEP = "1" }
[component.b]
source = "hello.wasm"
`

func TestLoadGroupsServersAndChannels(t *testing.T) {
	dir := writeApp(t, twoServers)
	a, err := Load(context.Background(), Options{
		From:   dir,
		Getenv: env(map[string]string{"SPIN_VARIABLE_OTHER": "redis://:secret@second:6380/2"}),
		Cwd:    dir,
		Env:    []string{"GREETING=override"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if len(a.Servers) != 2 {
		t.Fatalf("servers = %+v", a.Servers)
	}
	s0, s1 := a.Servers[0], a.Servers[1]
	if s0.Display != "default-host:6379" || len(s0.Channels) != 1 || s0.Channels[0].Name != "news" ||
		!slices.Equal(s0.Channels[0].Components, []string{"a", "b"}) {
		t.Errorf("server 0 = %+v", s0)
	}
	if s1.Display != "second:6380" || s1.Channels[0].Name != "alpha" || s1.URL.Password != "secret" {
		t.Errorf("server 1 = %+v", s1)
	}
	dup := 0
	for _, w := range a.Warnings {
		if strings.Contains(w, `component "a" is already subscribed to channel "news"`) {
			dup++
		}
		if strings.Contains(w, "secret") {
			t.Errorf("a warning shows the password: %s", w)
		}
	}
	if dup != 1 {
		t.Errorf("want one duplicate warning, got %q", a.Warnings)
	}
	if got := a.ComponentIDs(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("components = %q", got)
	}
	ca := a.Components[0]
	if ca.Env["GREETING"] != "override" || ca.Env["KEEP"] != "1" {
		t.Errorf("env = %v", ca.Env)
	}
	if ca.WasmPath != filepath.Join(dir, "hello.wasm") {
		t.Errorf("wasm path = %q", ca.WasmPath)
	}
	if a.StateDir != filepath.Join(dir, ".spin") || a.LogDir != filepath.Join(dir, ".spin", "logs") {
		t.Errorf("dirs = %q %q", a.StateDir, a.LogDir)
	}
}

func TestLoadRequiredVariable(t *testing.T) {
	dir := writeApp(t, strings.Replace(twoServers, `address = "{{ other }}"`, `address = "redis://x:1"`, 1))
	_, err := Load(context.Background(), Options{From: dir, Getenv: env(nil), Cwd: dir})
	if err == nil || !strings.Contains(err.Error(), "no provider resolved required variable") || !strings.Contains(err.Error(), "other") {
		t.Fatalf("strict: err = %v", err)
	}
	a, err := Load(context.Background(), Options{From: dir, Getenv: env(nil), Cwd: dir, SkipComponents: true, AllowUnresolved: true})
	if err != nil {
		t.Fatalf("check mode: %v", err)
	}
	if !slices.ContainsFunc(a.Warnings, func(w string) bool { return strings.Contains(w, "other") }) {
		t.Errorf("check mode: no warning for the missing variable: %q", a.Warnings)
	}
}

func TestLoadTriggerVariableMissing(t *testing.T) {
	dir := writeApp(t, twoServers)
	_, err := Load(context.Background(), Options{From: dir, Getenv: env(nil), Cwd: dir, SkipComponents: true})
	if err == nil || !strings.Contains(err.Error(), `failed to resolve redis trigger address "{{ other }}" for component "b"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadComponentFilter(t *testing.T) {
	dir := writeApp(t, twoServers)
	opts := Options{From: dir, Getenv: env(map[string]string{"SPIN_VARIABLE_OTHER": "redis://h"}), Cwd: dir, SkipComponents: true}
	opts.ComponentIDs = []string{"b"}
	a, err := Load(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.ComponentIDs(); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("components = %q", got)
	}
	opts.ComponentIDs = []string{"nope"}
	_, err = Load(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), `"nope": no such component; valid ids: a, b`) {
		t.Fatalf("err = %v", err)
	}
}

const noAddress = `spin_manifest_version = 2
[application]
name = "hello"
[[trigger.redis]]
channel = "messages"
component = "hello"
[component.hello]
source = "hello.wasm"
`

func TestLoadNoAddress(t *testing.T) {
	dir := writeApp(t, noAddress)
	_, err := Load(context.Background(), Options{From: dir, Getenv: env(nil), Cwd: dir})
	if !errors.Is(err, ErrNoAddress) || !strings.Contains(err.Error(), "--embedded-redis") {
		t.Fatalf("err = %v", err)
	}
	a, err := Load(context.Background(), Options{From: dir, Getenv: env(nil), Cwd: dir, Embedded: true})
	if err != nil {
		t.Fatal(err)
	}
	if !a.HasEmbedded() || !a.Servers[0].Embedded || a.Servers[0].Display != "embedded" {
		t.Fatalf("server = %+v", a.Servers[0])
	}
	if err := a.ServeEmbedded("redis://127.0.0.1:7777"); err != nil {
		t.Fatal(err)
	}
	if s := a.Servers[0]; s.Display != "127.0.0.1:7777" || s.Address != "redis://127.0.0.1:7777" || len(s.Channels) != 1 || s.Embedded {
		t.Fatalf("server after ServeEmbedded = %+v", s)
	}
}

// A trigger that names the embedded Redis's address explicitly shares its
// server: one connection, each (channel, component) once.
func TestServeEmbeddedMergesSameAddress(t *testing.T) {
	dir := writeApp(t, `spin_manifest_version = 2
[application]
name = "mixed"
[[trigger.redis]]
channel = "a"
component = "hello"
[[trigger.redis]]
channel = "b"
component = "hello"
[[trigger.redis]]
address = "redis://127.0.0.1:7777"
channel = "a"
component = "hello"
[[trigger.redis]]
address = "redis://127.0.0.1:7777"
channel = "c"
component = "hello"
[component.hello]
source = "hello.wasm"
`)
	a, err := Load(context.Background(), Options{From: dir, Getenv: env(nil), Cwd: dir, Embedded: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Servers) != 2 {
		t.Fatalf("servers before = %+v", a.Servers)
	}
	if err := a.ServeEmbedded("redis://127.0.0.1:7777"); err != nil {
		t.Fatal(err)
	}
	if len(a.Servers) != 1 || a.HasEmbedded() {
		t.Fatalf("servers after = %+v", a.Servers)
	}
	var got []string
	for _, c := range a.Servers[0].Channels {
		got = append(got, c.Name+"="+strings.Join(c.Components, ","))
	}
	if want := []string{"a=hello", "b=hello", "c=hello"}; !slices.Equal(got, want) {
		t.Errorf("channels = %q, want %q", got, want)
	}
	if !slices.ContainsFunc(a.Warnings, func(w string) bool { return strings.Contains(w, "both explicitly and through the embedded Redis") }) {
		t.Errorf("no warning for the pair listed both ways: %q", a.Warnings)
	}
}

func TestLoadBadAddress(t *testing.T) {
	dir := writeApp(t, strings.Replace(noAddress, `channel = "messages"`, "channel = \"messages\"\naddress = \"redis:/localhost:6379\"", 1))
	_, err := Load(context.Background(), Options{From: dir, Getenv: env(nil), Cwd: dir})
	if err == nil || !strings.Contains(err.Error(), `trigger "hello-redis-trigger"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadNoRedisTriggers(t *testing.T) {
	dir := writeApp(t, `spin_manifest_version = 2
[application]
name = "web"
[[trigger.http]]
route = "/..."
component = "web"
[component.web]
source = "hello.wasm"
`)
	a, err := Load(context.Background(), Options{From: dir, Getenv: env(nil), Cwd: dir})
	if !errors.Is(err, ErrNoRedisTriggers) {
		t.Fatalf("err = %v", err)
	}
	if !slices.ContainsFunc(a.Warnings, func(w string) bool { return strings.Contains(w, `trigger type "http" is ignored`) }) {
		t.Errorf("warnings = %q", a.Warnings)
	}
}

func TestLoadStagesFiles(t *testing.T) {
	dir := writeApp(t, strings.Replace(noAddress, `source = "hello.wasm"`, `source = "hello.wasm"
files = ["static/**/*", { source = "data/one.txt", destination = "/etc/one.txt" }]
exclude_files = ["static/secret.txt"]`, 1))
	for name, body := range map[string]string{"static/a.txt": "A", "static/sub/b.txt": "B", "static/secret.txt": "S", "data/one.txt": "1"} {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(body), 0o644)
	}
	a, err := Load(context.Background(), Options{From: dir, Getenv: env(nil), Cwd: dir, Embedded: true})
	if err != nil {
		t.Fatal(err)
	}
	c := a.Components[0]
	if len(c.Mounts) != 1 || c.Mounts[0].GuestDir != "/" {
		t.Fatalf("mounts = %+v", c.Mounts)
	}
	root := c.Mounts[0].HostDir
	for name, want := range map[string]string{"static/a.txt": "A", "static/sub/b.txt": "B", "etc/one.txt": "1"} {
		got, err := os.ReadFile(filepath.Join(root, name))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v", name, got, err)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "static/secret.txt")); !os.IsNotExist(err) {
		t.Errorf("excluded file was staged: %v", err)
	}
	a.Close()
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("Close left the staging dir: %v", err)
	}
}

func TestServerFor(t *testing.T) {
	dir := writeApp(t, twoServers)
	a, err := Load(context.Background(), Options{From: dir, Getenv: env(map[string]string{"SPIN_VARIABLE_OTHER": "redis://second:6380"}), Cwd: dir, SkipComponents: true})
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := a.ServerFor("alpha"); !ok || s.Display != "second:6380" {
		t.Errorf("alpha → %+v, %v", s, ok)
	}
	if s, ok := a.ServerFor("news"); !ok || s.Display != "default-host:6379" {
		t.Errorf("news → %+v, %v", s, ok)
	}
	if _, ok := a.ServerFor("none"); ok {
		t.Error("an unsubscribed channel found a server")
	}
}

// TestAddressDisplay: a secret address is shown as its template cut down to
// host:port or the socket path, without credentials, database or query.
func TestAddressDisplay(t *testing.T) {
	for in, want := range map[string]string{
		"{{ url }}": "{{ url }}",
		"redis://:{{ pw }}@cache:6379/1?x={{ y }}":    "cache:6379",
		"rediss://u:{{ pw }}@{{ host }}#insecure":     "{{ host }}",
		"redis://{{ host }}:{{ port }}":               "{{ host }}:{{ port }}",
		"redis+unix:///run/{{ s }}.sock?pass={{ p }}": "/run/{{ s }}.sock",
		"redis://u:p@": "(address hidden)",
		"redis+sentinel://:{{ pw }}@s1,s2:26380/mymaster/1?sentinel_pass={{ p }}": "s1,s2:26380/mymaster",
		"redis+sentinel://{{ hosts }}/{{ name }}":                                 "{{ hosts }}/{{ name }}",
		"rediss+cluster://u:{{ pw }}@n1:7000,n2:7001":                             "n1:7000,n2:7001",
	} {
		if got := addressDisplay(in); got != want {
			t.Errorf("addressDisplay(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDefaultAddressEmptyOrUnresolved: a default address that renders to ""
// is no address (not an unresolved one); one whose variable has no value is
// an error, or with AllowUnresolved a server shown as its template.
func TestDefaultAddressEmptyOrUnresolved(t *testing.T) {
	dir := writeApp(t, `spin_manifest_version = 2
[application]
name = "d"
[application.trigger.redis]
address = "{{ addr }}"
[variables]
addr = { required = true }
[[trigger.redis]]
channel = "c"
component = "a"
[component.a]
source = "hello.wasm"
`)
	opts := Options{From: dir, Getenv: env(map[string]string{"SPIN_VARIABLE_ADDR": ""}), Cwd: dir, SkipComponents: true}
	_, err := Load(context.Background(), opts)
	if !errors.Is(err, variables.ErrRequired) {
		t.Fatalf("unresolved, strict: %v", err)
	}
	opts.AllowUnresolved = true
	a, err := Load(context.Background(), opts)
	if err != nil || len(a.Servers) != 1 || a.Servers[0].Display != "{{ addr }} (unresolved)" || a.Servers[0].URL != nil {
		t.Fatalf("unresolved, allowed: %+v, %v", a, err)
	}
	opts = Options{From: dir, Variables: []string{"addr="}, Getenv: env(nil), Cwd: dir, SkipComponents: true}
	if _, err := Load(context.Background(), opts); !errors.Is(err, ErrNoAddress) {
		t.Fatalf("empty: %v", err)
	}
}
