package app

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

const streamsApp = `spin_manifest_version = 2
[application]
name = "shop"
[application.trigger.redis-stream]
address = "redis://:{{ password }}@default-host:6379"
[variables]
password = { default = "s3cret", secret = true }
prefix = { default = "eu" }
[[trigger.redis]]
address = "redis://pubsub:6379"
channel = "news"
component = "a"
[[trigger.redis-stream]]
component = "a"
stream = "{{ prefix }}-orders"
[[trigger.redis-stream]]
component = "b"
stream = "{{ prefix }}-orders"
address = "rediss://tls-host:6380"
group = "{{ prefix }}-auditors"
dead_letter_stream = "{orders}:dead"
concurrency = 3
read_ahead = 5
max_deliveries = 2
retry_backoff = "100ms"
[component.a]
source = "hello.wasm"
[component.b]
source = "hello.wasm"
`

func TestLoadStreamTriggers(t *testing.T) {
	dir := writeApp(t, streamsApp)
	a, err := Load(context.Background(), Options{From: dir, Getenv: env(nil), Cwd: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Servers) != 1 || len(a.Streams) != 2 || len(a.Components) != 2 {
		t.Fatalf("servers %+v, streams %+v, components %d", a.Servers, a.Streams, len(a.Components))
	}
	s := a.Streams[0]
	if s.Stream != "eu-orders" || s.Group != "shop-a" || s.DeadLetter != "eu-orders:dead" || s.Field != "payload" ||
		s.Start != "0" || s.Concurrency != 1 || s.ReadAhead != 16 || s.MaxDeliveries != 5 || s.Display != "default-host:6379" ||
		s.URL.UniversalOptions().Password != "s3cret" {
		t.Errorf("defaults: %+v", s)
	}
	s = a.Streams[1]
	if s.Group != "eu-auditors" || s.DeadLetter != "{orders}:dead" || s.Concurrency != 3 || s.ReadAhead != 5 || s.MaxDeliveries != 2 ||
		s.RetryBackoff != 100*time.Millisecond || s.Display != "tls-host:6380" || s.URL.UniversalOptions().TLSConfig == nil {
		t.Errorf("explicit: %+v", s)
	}
	if got, ok := a.StreamFor("eu-orders"); !ok || got.ID != a.Streams[0].ID {
		t.Errorf("StreamFor = %+v, %v", got, ok)
	}
}

func TestLoadStreamTriggerErrors(t *testing.T) {
	tests := []struct{ name, from, to, want string }{
		{"same group twice", "address = \"rediss://tls-host:6380\"\ngroup = \"{{ prefix }}-auditors\"", `group = "shop-a"`, `both read stream "eu-orders" as group "shop-a"`},
		{"bad address", `address = "rediss://tls-host:6380"`, `address = "redis:/nope"`, `trigger "b-redis-stream-trigger": address`},
		{"empty stream", `stream = "{{ prefix }}-orders"
address`, `stream = ""
address`, "stream resolves to an empty string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := strings.Replace(streamsApp, tc.from, tc.to, 1)
			if m == streamsApp {
				t.Fatal("replacement did not apply")
			}
			dir := writeApp(t, m)
			_, err := Load(context.Background(), Options{From: dir, Getenv: env(nil), Cwd: dir})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("error leaks the password: %v", err)
			}
		})
	}
}

// Stream triggers without an address run on the embedded Redis; -c drops the triggers of other components.
func TestLoadStreamEmbeddedAndFilter(t *testing.T) {
	dir := writeApp(t, `spin_manifest_version = 2
[application]
name = "solo"
[[trigger.redis-stream]]
component = "a"
stream = "jobs"
[[trigger.redis-stream]]
component = "b"
stream = "jobs"
[component.a]
source = "hello.wasm"
[component.b]
source = "hello.wasm"
`)
	_, err := Load(context.Background(), Options{From: dir, Getenv: env(nil), Cwd: dir})
	if !errors.Is(err, ErrNoAddress) || !strings.Contains(err.Error(), "[[trigger.redis-stream]]") {
		t.Fatalf("err = %v", err)
	}
	a, err := Load(context.Background(), Options{From: dir, Getenv: env(nil), Cwd: dir, Embedded: true, ComponentIDs: []string{"b"}})
	if err != nil {
		t.Fatal(err)
	}
	if !a.HasEmbedded() || len(a.Streams) != 1 || a.Streams[0].Component != "b" || a.Streams[0].Display != "embedded" || len(a.Servers) != 0 {
		t.Fatalf("app = %+v", a.Streams)
	}
	if err := a.ServeEmbedded("redis://127.0.0.1:7777"); err != nil {
		t.Fatal(err)
	}
	if s := a.Streams[0]; s.Embedded || s.Display != "127.0.0.1:7777" || a.HasEmbedded() {
		t.Fatalf("after ServeEmbedded: %+v", s)
	}
}

// Stream triggers resolve their addresses as pub/sub triggers do (one function): a secret address is
// displayed from its template, ignored URL parameters are warned about once per address, whether pub/sub
// or stream triggers use it, and an unresolved address is allowed by AllowUnresolved.
func TestLoadStreamAddressLikePubSub(t *testing.T) {
	manifest := `spin_manifest_version = 2
[application]
name = "shop"
[application.trigger.redis]
address = "{{ url }}"
[application.trigger.redis-stream]
address = "{{ url }}"
[variables]
url = { default = "redis://:pw@secret-host:6379/0?foo=1", secret = true }
[[trigger.redis]]
channel = "news"
component = "a"
[[trigger.redis-stream]]
component = "a"
stream = "orders"
[[trigger.redis-stream]]
component = "a"
stream = "audit"
address = "redis://other:6380?bar=1"
[component.a]
source = "hello.wasm"
`
	dir := writeApp(t, manifest)
	a, err := Load(context.Background(), Options{From: dir, Getenv: env(nil), Cwd: dir})
	if err != nil {
		t.Fatal(err)
	}
	if a.Servers[0].Display != "{{ url }}" || a.Streams[0].Display != "{{ url }}" || a.Streams[1].Display != "other:6380" {
		t.Errorf("displays: pub/sub %q, streams %q, %q", a.Servers[0].Display, a.Streams[0].Display, a.Streams[1].Display)
	}
	want := []string{
		"Redis server {{ url }}: ignoring 1 unknown query parameter(s) that a secret variable supplies (not named): redspin reads only protocol (and db, user, pass for unix sockets)",
		`Redis server other:6380: ignoring unknown query parameter(s) "bar": redspin reads only protocol (and db, user, pass for unix sockets)`,
	}
	if !slices.Equal(a.Warnings, want) {
		t.Errorf("warnings:\n%q\nwant\n%q", a.Warnings, want)
	}
	for _, w := range a.Warnings {
		if strings.Contains(w, "pw") || strings.Contains(w, "secret-host") {
			t.Errorf("warning leaks the secret: %s", w)
		}
	}

	m := strings.Replace(manifest, "address = \"redis://other:6380?bar=1\"", `address = "redis://{{ missing }}:6380"`, 1)
	m = strings.Replace(m, "[variables]\n", "[variables]\nmissing = { required = true }\n", 1)
	dir = writeApp(t, m)
	if _, err := Load(context.Background(), Options{From: dir, Getenv: env(nil), Cwd: dir}); err == nil ||
		!strings.Contains(err.Error(), `failed to resolve redis-stream trigger address "redis://{{ missing }}:6380" for component "a"`) {
		t.Fatalf("unresolved address: err = %v", err)
	}
	a, err = Load(context.Background(), Options{From: dir, Getenv: env(nil), Cwd: dir, AllowUnresolved: true})
	if err != nil {
		t.Fatal(err)
	}
	if s := a.Streams[1]; s.Display != "{{ missing }}:6380 (unresolved)" || s.URL != nil {
		t.Errorf("unresolved stream address: %+v", s)
	}
}
