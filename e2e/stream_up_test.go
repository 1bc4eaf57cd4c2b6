//go:build unix

package e2e

import (
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/testutil/redisserver"
)

// `redspin up` runs a redis-stream trigger with a real guest (c-host): every entry's field reaches the
// guest unchanged (it records it with an outbound SADD), failing entries are dead-lettered after
// max_deliveries with the redspin.* fields, nothing stays pending, /readyz and /metrics cover the stream,
// and SIGTERM exits 0 with the stream summary.
func TestStreamUpRealGuest(t *testing.T) {
	srv := redisserver.Start(t, redisserver.Options{})
	rdb := srv.Client()
	addr := "redis://" + srv.Addr()
	dir := app(t, fmt.Sprintf(`spin_manifest_version = 2
[application]
name = "shop"
[application.trigger.redis-stream]
address = %[1]q
[[trigger.redis-stream]]
component = "recorder"
stream = "orders"
field = "body"
concurrency = 4
max_deliveries = 2
retry_backoff = "20ms"
[component.recorder]
source = %[2]q
allowed_outbound_hosts = [%[1]q]
`, addr, guestPath("c-host", "c-host.wasm")))
	c := ctx(t)
	const n = 40
	for i := range n {
		rdb.XAdd(c, &redis.XAddArgs{Stream: "orders", Values: []any{"body", fmt.Sprintf("redis2:sadd:%s|seen|m%d", addr, i), "n", i}})
	}
	poison := rdb.XAdd(c, &redis.XAddArgs{Stream: "orders", Values: []any{"body", "fail"}}).Val()

	p := startRedspin(t, runOpts{}, upArgs(dir, "--listen-admin", "127.0.0.1:0", "--quiet", "--consumer", "e2e-1")...)
	admin := p.adminAddr()
	p.waitStdout(`Reading stream ` + srv.Addr() + `/orders as group "shop-recorder" consumer "e2e-1" (dead letters: orders:dead): [recorder]`)
	waitUntil(t, "every entry recorded and the poison entry dead-lettered", func() bool {
		return rdb.SCard(c, "seen").Val() == n && rdb.XLen(c, "orders:dead").Val() == 1
	})
	waitUntil(t, "nothing pending", func() bool { return rdb.XPending(c, "orders", "shop-recorder").Val().Count == 0 })
	dead := rdb.XRange(c, "orders:dead", "-", "+").Val()[0].Values
	for k, want := range map[string]string{"body": "fail", "redspin.id": poison, "redspin.deliveries": "2",
		"redspin.component": "recorder", "redspin.group": "shop-recorder", "redspin.stream": "orders"} {
		if dead[k] != want {
			t.Errorf("dead letter %s = %v, want %q", k, dead[k], want)
		}
	}
	if code, body := probe(admin, "/readyz"); code != 200 || !strings.Contains(body, `"consumer":"e2e-1"`) {
		t.Errorf("/readyz = %d %s", code, body)
	}
	m := scrape(t, admin)
	if got := m.sum("redspin_stream_entries_handled_total", `stream="orders"`); got != n {
		t.Errorf("handled = %v, want %d", got, n)
	}
	if got := m.sum("redspin_stream_entries_dead_lettered_total"); got != 1 {
		t.Errorf("dead-lettered = %v, want 1", got)
	}
	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code %d\n%s", code, p.stderr)
	}
	if want := fmt.Sprintf("redspin: streams: %d received, %d handled, 2 failed", n+2, n); !strings.Contains(p.stderr.String(), want) {
		t.Errorf("no %q summary in stderr:\n%s", want, p.stderr)
	}
}

// The README's durable-mode command, in a copy of the repository's examples: the entry added by --publish
// reaches hello-redis's component through the stream, and SIGINT exits 0 with the stream summary.
func TestStreamQuickStart(t *testing.T) {
	t.Parallel()
	root := copyExamples(t)
	p := startRedspin(t, runOpts{dir: root},
		"up", "-f", "examples/hello-stream", "--embedded-redis", "--publish", "orders=hello", "--cache-dir", cacheDir)
	p.waitStderr("Got message: hello\n")
	p.waitStdout(`/orders as group "hello-stream-hello" consumer "`)
	if code := p.stop(syscall.SIGINT); code != 0 {
		t.Fatalf("exit %d after SIGINT\n%s", code, p.output())
	}
	if !strings.Contains(p.stderr.String(), "redspin: streams: 1 received, 1 handled, 0 failed") {
		t.Errorf("no stream summary:\n%s", p.stderr)
	}
}
