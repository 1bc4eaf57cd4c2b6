package app

import (
	"context"
	"errors"
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
		s.Start != "0" || s.Concurrency != 1 || s.MaxDeliveries != 5 || s.Display != "default-host:6379" ||
		s.URL.Options().Password != "s3cret" {
		t.Errorf("defaults: %+v", s)
	}
	s = a.Streams[1]
	if s.Group != "eu-auditors" || s.DeadLetter != "{orders}:dead" || s.Concurrency != 3 || s.MaxDeliveries != 2 ||
		s.RetryBackoff != 100*time.Millisecond || s.Display != "tls-host:6380" || s.URL.Options().TLSConfig == nil {
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
