package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redspin/redspin/internal/testutil/redisserver"
)

func TestUpReuseFlagErrors(t *testing.T) {
	dir := copyExample(t, "hello-redis")
	for _, tc := range []struct{ flag, value, want string }{
		{"--max-instance-reuse-count", "0", `--max-instance-reuse-count "0": a count must be at least 1`},
		{"--max-instance-reuse-count", "-2", `--max-instance-reuse-count "-2": a count must be at least 1`},
		{"--max-instance-reuse-count", "10..10", `--max-instance-reuse-count "10..10": the range's end must be above its start`},
		{"--max-instance-reuse-count", "9..3", `the range's end must be above its start`},
		{"--max-instance-reuse-count", "lots", `--max-instance-reuse-count "lots": want a count (e.g. 1000) or a range a..b`},
		{"--idle-instance-timeout", "0s", "--idle-instance-timeout 0s: must be above 0"},
		{"--idle-instance-timeout", "-1s", "--idle-instance-timeout -1s: must be above 0"},
	} {
		code, _, errOut := runCLI(t, context.Background(), "", "up", "-f", dir, tc.flag, tc.value)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s %s: exit %d, stderr:\n%s\nwant exit %d and %q", tc.flag, tc.value, code, errOut, exitUsage, tc.want)
		}
	}
}

// TestUpInstanceReuse runs redspin up with --max-instance-reuse-count 3:
// the c guest's global counter (component and core module) restarts every
// third message, its log files and echo hold each message's line whole,
// and the Redis connections a reused c-host instance opens are closed at
// the end of each message.
func TestUpInstanceReuse(t *testing.T) {
	srv := redisserver.Start(t, redisserver.Options{})
	guests := mustAbs(t, "../../testdata/guests")
	dir := writeManifest(t, `spin_manifest_version = 2
[application]
name = "reuse"
[application.trigger.redis]
address = "`+srv.URL()+`"
[[trigger.redis]]
channel = "in"
component = "comp"
[[trigger.redis]]
channel = "in-mod"
component = "mod"
[[trigger.redis]]
channel = "host"
component = "host"
[component.comp]
source = "`+guests+`/c/c.wasm"
[component.mod]
source = "`+guests+`/c/c.core.wasm"
[component.host]
source = "`+guests+`/c-host/c-host.wasm"
allowed_outbound_hosts = ["redis://127.0.0.1:*"]
`)
	out, errOut, stop := startCLI(t, "up", "-f", dir, "--max-instance-reuse-count", "3", "--idle-instance-timeout", "1m", "--cache-dir", t.TempDir())
	waitFor(t, "Active Channels", func() bool { return strings.Contains(out.String(), "/host: [host]") })
	client := srv.Client()
	defer client.Close()
	ctx := context.Background()
	clients := func() int {
		list, err := client.ClientList(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(list, "\n")
	}
	baseline := clients()
	for i := range 5 {
		msg := "count"
		if i == 1 {
			msg = "count:partial"
		}
		for _, ch := range []string{"in", "in-mod"} {
			if err := client.Publish(ctx, ch, msg).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	for range 3 {
		if err := client.Publish(ctx, "host", "redis2:openmany:"+srv.URL()+"|2").Err(); err != nil {
			t.Fatal(err)
		}
	}
	logs := filepath.Join(dir, ".spin", "logs")
	want := "count=1\ncount=2\ncount=3\ncount=1\ncount=2\n"
	for _, id := range []string{"comp", "mod"} {
		waitFor(t, id+"'s five lines", func() bool {
			b, _ := os.ReadFile(filepath.Join(logs, id+"_stdout.txt"))
			return strings.Count(string(b), "\n") >= 5
		})
		if b, _ := os.ReadFile(filepath.Join(logs, id+"_stdout.txt")); string(b) != want {
			t.Errorf("%s stdout log %q, want %q (a new instance every third message)", id, b, want)
		}
	}
	waitFor(t, "the c-host messages", func() bool {
		b, _ := os.ReadFile(filepath.Join(logs, "host_stdout.txt"))
		return strings.Count(string(b), "opened 2\n") == 3
	})
	// The guest keeps its connections open: the host closes them at the
	// end of each message, although the instance lives on. (Leaked ones
	// would close only when a garbage collection finds them, seconds later.)
	deadline := time.Now().Add(3 * time.Second)
	for n := clients(); n != baseline; n = clients() {
		if time.Now().After(deadline) {
			t.Fatalf("%d Redis clients, %d before the messages: the reused instance's connections were not closed", n, baseline)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s", code, errOut)
	}
	if e := errOut.String(); strings.Count(e, "count=2\n") != 4 || strings.Count(e, "count=3\n") != 2 {
		t.Errorf("echo lacks the whole lines:\n%s", e)
	}
	if !strings.Contains(errOut.String(), "13 received, 13 handled, 0 failed") {
		t.Errorf("no exit summary:\n%s", errOut)
	}
}
