package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// check prints each stream trigger with its group, consumer and dead-letter stream, and suggests
// hash-tagged names when the two streams could sit in different cluster slots.
func TestCheckStreamTriggers(t *testing.T) {
	dir := writeStreamApp(t, `[[trigger.redis-stream]]
component = "hello"
stream = "orders"
[[trigger.redis-stream]]
component = "hello"
stream = "{audit}"
group = "auditors"
dead_letter_stream = "{audit}:dead"
max_deliveries = 2
`)
	code, out, errOut := runCLI(t, context.Background(), "", "check", "-f", dir, "--cache-dir", t.TempDir())
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{
		`Stream 127.0.0.1:6390/orders: [hello] group "shop-hello", consumer <hostname>-<pid>-<random> (--consumer overrides), dead letters to "orders:dead" (field "payload", start "0", concurrency 1, read_ahead 16, max_deliveries 5)`,
		`note: on a Redis Cluster "orders" and "orders:dead" may sit in different hash slots`,
		`stream = "{orders}", dead_letter_stream = "{orders}:dead"`,
		`Stream 127.0.0.1:6390/{audit}: [hello] group "auditors", consumer <hostname>-<pid>-<random> (--consumer overrides), dead letters to "{audit}:dead" (field "payload", start "0", concurrency 1, read_ahead 16, max_deliveries 2)`,
		"hello: component exporting fermyon:spin/inbound-redis", "OK",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "note: on a Redis Cluster"); n != 1 {
		t.Errorf("%d cluster notes, want 1 (the hash-tagged trigger needs none)", n)
	}
}

// writeStreamApp writes the app "shop" with the given trigger tables, the app-level redis-stream address
// redis://127.0.0.1:6390 and the component "hello" (examples/hello-redis's file), and returns its directory.
func writeStreamApp(t *testing.T, triggers string) string {
	t.Helper()
	wasm, err := filepath.Abs(filepath.Join("..", "..", "examples", "hello-redis", "hello.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return writeManifest(t, `spin_manifest_version = 2
[application]
name = "shop"
[application.trigger.redis-stream]
address = "redis://127.0.0.1:6390"
`+triggers+`[component.hello]
source = "`+wasm+`"
`)
}

func TestHashTag(t *testing.T) {
	for key, want := range map[string]string{"orders": "orders", "{orders}:dead": "orders", "a{}b": "a{}b", "x{y}{z}": "y", "{": "{"} {
		if got := hashTag(key); got != want {
			t.Errorf("hashTag(%q) = %q, want %q", key, got, want)
		}
	}
}
