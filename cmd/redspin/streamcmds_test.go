package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/streamentry"
	"github.com/redspin/redspin/internal/testutil/redisserver"
	"github.com/redspin/redspin/internal/wasmtime"
)

func TestPublishStream(t *testing.T) {
	rs := redisserver.Start(t, redisserver.Options{})
	rc := rs.Client()
	ctx := context.Background()
	url := rs.URL()
	code, out, errOut := runCLI(t, ctx, "", "publish", "-a", url, "--stream", "orders", "hello")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	code, _, errOut = runCLI(t, ctx, "from-stdin", "publish", "-a", url, "--stream", "orders", "--field", "body")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got := rc.XRange(ctx, "orders", "-", "+").Val()
	if len(got) != 2 || fmt.Sprint(got[0].Values) != "map[payload:hello]" || fmt.Sprint(got[1].Values) != "map[body:from-stdin]" {
		t.Fatalf("stream = %+v", got)
	}
	if want := fmt.Sprintf("Added 5 bytes to %s/orders as entry %s (field \"payload\")\n", rs.Addr(), got[0].ID); out != want {
		t.Errorf("stdout = %q, want %q", out, want)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"publish", "-a", url, "--field", "x", "ch", "m"}, exitUsage, "--field needs --stream"},
		{[]string{"publish", "-a", url, "--stream", "s", "a", "b"}, exitUsage, "accepts at most 1 arg(s)"},
		{[]string{"publish", "-a", url, "-c", "comp", "m"}, exitUsage, "-c/--component selects a trigger in the app, which is not read with -a/--address"},
		{[]string{"publish", "-a", "redis:/bad", "--stream", "s", "m"}, exitUsage, "-a/--address"},
		{[]string{"publish", "-a", url, "--stream", "str", "m"}, exitFailure, "XADD to stream str on " + rs.Addr() + ": WRONGTYPE"},
	} {
		rc.Set(ctx, "str", "x", 0)
		code, _, errOut := runCLI(t, ctx, "", tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

// addDeadLetter writes a dead-letter entry with a fixed ID, as the trigger would.
func addDeadLetter(t *testing.T, rc *redis.Client, stream, id, sourceID, errText string, fields ...any) {
	t.Helper()
	vals := append(fields, streamentry.FieldStream, "orders", streamentry.FieldID, sourceID,
		streamentry.FieldGroup, "workers", streamentry.FieldComponent, "handler",
		streamentry.FieldDeliveries, "5", streamentry.FieldError, errText, streamentry.FieldTime, "2026-12-03T10:00:00Z")
	if err := rc.XAdd(context.Background(), &redis.XAddArgs{Stream: stream, ID: id, Values: vals}).Err(); err != nil {
		t.Fatal(err)
	}
}

func TestDeadLetters(t *testing.T) {
	rs := redisserver.Start(t, redisserver.Options{})
	rc := rs.Client()
	ctx := context.Background()
	url := rs.URL()
	dl := func(args ...string) (int, string, string) {
		return runCLI(t, ctx, "", append([]string{"dead-letters"}, append(args, "-a", url, "--stream", "orders")...)...)
	}
	code, out, errOut := dl("list")
	if code != exitOK || out != "No dead letters in "+rs.Addr()+"/orders:dead\n" {
		t.Fatalf("empty list: exit %d\n%s%s", code, out, errOut)
	}
	addDeadLetter(t, rc, "orders:dead", "5-1", "1-1", "component \"handler\": handler returned an error", "payload", "a", "n", "1")
	addDeadLetter(t, rc, "orders:dead", "5-2", "1-2", "line one\nline two", "payload", "b")
	addDeadLetter(t, rc, "orders:dead", "5-3", "1-3", "x", "payload", "c")
	code, out, errOut = dl("list", "-n", "2")
	want := `ID   SOURCE ID  DELIVERIES  DEAD-LETTERED         ERROR
5-1  1-1        5           2026-12-03T10:00:00Z  component "handler": handler returned an error
5-2  1-2        5           2026-12-03T10:00:00Z  line one\nline two
2 of 3 entries in ` + rs.Addr() + "/orders:dead (-n 0 lists all)\n"
	if code != exitOK || out != want {
		t.Fatalf("list: exit %d\n%s\nwant\n%s\n%s", code, out, want, errOut)
	}

	// Replay one: back in the source stream with its original fields only.
	code, out, errOut = dl("replay", "5-1")
	got := rc.XRange(ctx, "orders", "-", "+").Val()
	if code != exitOK || len(got) != 1 || fmt.Sprint(got[0].Values) != "map[n:1 payload:a]" ||
		out != fmt.Sprintf("Replayed 5-1 as %s\nReplayed 1 entries from orders:dead to orders on %s\n", got[0].ID, rs.Addr()) {
		t.Fatalf("replay: exit %d, source %+v\n%s%s", code, got, out, errOut)
	}
	if ids := deadIDs(t, rc); ids != "5-2 5-3" {
		t.Errorf("dead letters after replay: %s", ids)
	}
	// A missing ID fails after the others were done.
	code, _, errOut = dl("purge", "9-9", "5-3")
	if code != exitFailure || !strings.Contains(errOut, "dead-letter stream orders:dead: no such entry: 9-9") {
		t.Errorf("purge with a missing ID: exit %d: %s", code, errOut)
	}
	if ids := deadIDs(t, rc); ids != "5-2" {
		t.Errorf("dead letters after purge: %s", ids)
	}
	code, out, _ = dl("replay", "--all")
	if code != exitOK || !strings.HasSuffix(out, "Replayed 1 entries from orders:dead to orders on "+rs.Addr()+"\n") || rc.XLen(ctx, "orders").Val() != 2 {
		t.Errorf("replay --all: exit %d\n%s", code, out)
	}
	addDeadLetter(t, rc, "orders:dead", "6-1", "1-4", "x", "payload", "d")
	addDeadLetter(t, rc, "orders:dead", "6-2", "1-5", "x", "payload", "e")
	code, out, _ = dl("purge", "--all")
	if code != exitOK || out != "Purged 2 entries from orders:dead on "+rs.Addr()+"\n" || deadIDs(t, rc) != "" {
		t.Errorf("purge --all: exit %d\n%s", code, out)
	}
	// --dead-letter-stream overrides the default name.
	addDeadLetter(t, rc, "other", "7-1", "1-6", "x", "payload", "f")
	if code, out, _ := dl("list", "--dead-letter-stream", "other"); code != exitOK || !strings.Contains(out, "7-1  1-6") {
		t.Errorf("list --dead-letter-stream: exit %d\n%s", code, out)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"replay"}, "give the dead-letter entry IDs (see `redspin dead-letters list`) or --all"},
		{[]string{"purge", "5-1", "--all"}, "give entry IDs or --all, not both"},
		{[]string{"list", "-a", url}, "--stream is required with -a/--address"},
	} {
		code, _, errOut := runCLI(t, ctx, "", append([]string{"dead-letters"}, tc.args...)...)
		if tc.args[0] != "list" {
			code, _, errOut = dl(tc.args...)
		}
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want usage error %q", tc.args, code, errOut, tc.want)
		}
	}
}

func deadIDs(t *testing.T, rc *redis.Client) string {
	t.Helper()
	var ids []string
	for _, m := range rc.XRange(context.Background(), "orders:dead", "-", "+").Val() {
		ids = append(ids, m.ID)
	}
	return strings.Join(ids, " ")
}

// TestStreamCommandsReadTheApp: without -a, the commands use the selected
// trigger's address, field and dead-letter stream.
func TestStreamCommandsReadTheApp(t *testing.T) {
	rs := redisserver.Start(t, redisserver.Options{})
	rc := rs.Client()
	ctx := context.Background()
	dir := t.TempDir()
	manifest := `spin_manifest_version = 2
[application]
name = "shop"
[application.trigger.redis-stream]
address = "` + rs.URL() + `"
[[trigger.redis-stream]]
component = "a"
stream = "orders"
field = "body"
dead_letter_stream = "{orders}:dead"
[[trigger.redis-stream]]
component = "b"
stream = "audit"
[[trigger.redis-stream]]
component = "c"
stream = "audit"
group = "second"
[component.a]
source = "a.wasm"
[component.b]
source = "a.wasm"
[component.c]
source = "a.wasm"
`
	if err := os.WriteFile(filepath.Join(dir, "spin.toml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, ctx, "", "publish", "-f", dir, "--stream", "orders", "hi")
	got := rc.XRange(ctx, "orders", "-", "+").Val()
	if code != exitOK || len(got) != 1 || fmt.Sprint(got[0].Values) != "map[body:hi]" || !strings.Contains(out, `(field "body")`) {
		t.Fatalf("publish: exit %d, stream %+v\n%s%s", code, got, out, errOut)
	}
	// -c selects the trigger too; --field overrides its field.
	if code, _, errOut := runCLI(t, ctx, "", "publish", "-f", dir, "-c", "b", "--field", "x", "m"); code != exitOK ||
		fmt.Sprint(rc.XRange(ctx, "audit", "-", "+").Val()[0].Values) != "map[x:m]" {
		t.Fatalf("publish -c b: exit %d: %s", code, errOut)
	}
	addDeadLetter(t, rc, "{orders}:dead", "5-1", "1-1", "boom", "body", "a")
	if code, out, errOut := runCLI(t, ctx, "", "dead-letters", "list", "-f", dir, "-c", "a"); code != exitOK ||
		!strings.Contains(out, "5-1  1-1        5           2026-12-03T10:00:00Z  boom\n") {
		t.Fatalf("list: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, ctx, "", "dead-letters", "replay", "-f", dir, "--stream", "orders", "--all"); code != exitOK ||
		rc.XLen(ctx, "orders").Val() != 2 || rc.XLen(ctx, "{orders}:dead").Val() != 0 {
		t.Fatalf("replay: exit %d: %s", code, errOut)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"dead-letters", "list", "-f", dir}, `3 redis-stream triggers match no selection: stream "orders" (component "a"), stream "audit" (component "b"), stream "audit" (component "c"); choose one with --stream and -c`},
		{[]string{"dead-letters", "list", "-f", dir, "--stream", "audit"}, `2 redis-stream triggers match --stream audit:`},
		{[]string{"publish", "-f", dir, "--stream", "nope", "m"}, `no redis-stream trigger in the app matches --stream nope; the app has: stream "orders" (component "a")`},
	} {
		code, _, errOut := runCLI(t, ctx, "", tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want usage error %q", tc.args, code, errOut, tc.want)
		}
	}
	if code, _, errOut := runCLI(t, ctx, "", "dead-letters", "list", "-f", dir, "-c", "c"); code != exitOK {
		t.Errorf("list -c c: exit %d: %s", code, errOut)
	}
}

// TestCheckHandlerExports: check names both handler exports, and a pub/sub
// trigger on a component with only the stream handler is an error.
func TestCheckHandlerExports(t *testing.T) {
	dir := t.TempDir()
	wat, err := os.ReadFile(filepath.Join("..", "..", "testdata", "guests", "stream", "stream-only.wat"))
	if err != nil {
		t.Fatal(err)
	}
	wasm, err := wasmtime.Wat2Wasm(string(wat))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "stream-only.wasm"), wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	stream, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "guests", "stream", "stream.wasm"))
	write := func(pubsubComponent string) {
		t.Helper()
		m := fmt.Sprintf(`spin_manifest_version = 2
[application]
name = "x"
[application.trigger.redis]
address = "redis://127.0.0.1:1"
[application.trigger.redis-stream]
address = "redis://127.0.0.1:1"
[[trigger.redis]]
channel = "ch"
component = %q
[[trigger.redis-stream]]
stream = "s"
component = "only"
[component.only]
source = "stream-only.wasm"
[component.both]
source = %q
`, pubsubComponent, stream)
		if err := os.WriteFile(filepath.Join(dir, "spin.toml"), []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("both")
	code, out, errOut := runCLI(t, context.Background(), "", "check", "-f", dir, "--cache-dir", t.TempDir())
	if code != exitOK || !strings.Contains(out, "\tboth: component exporting fermyon:spin/inbound-redis and redspin:streams/inbound-stream@0.1.0\n") ||
		!strings.Contains(out, "\tonly: component exporting redspin:streams/inbound-stream@0.1.0\n") {
		t.Fatalf("check: exit %d\n%s%s", code, out, errOut)
	}
	write("only")
	code, _, errOut = runCLI(t, context.Background(), "", "check", "-f", dir, "--cache-dir", t.TempDir())
	if want := `component "only" exports only redspin:streams/inbound-stream@0.1.0, so the redis trigger on channel "ch" cannot run it`; code != exitFailure || !strings.Contains(errOut, want) {
		t.Fatalf("check with a pub/sub trigger on a stream-only component: exit %d, stderr %q; want %q", code, errOut, want)
	}
}

// A trigger without an address needs a running `up --embedded-redis`.
func TestStreamCommandsNeedAnAddress(t *testing.T) {
	dir := t.TempDir()
	m := "spin_manifest_version = 2\n[application]\nname = \"x\"\n[[trigger.redis-stream]]\ncomponent = \"a\"\nstream = \"orders\"\n[component.a]\nsource = \"a.wasm\"\n"
	if err := os.WriteFile(filepath.Join(dir, "spin.toml"), []byte(m), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, context.Background(), "", "dead-letters", "list", "-f", dir)
	if want := `stream "orders": the trigger has no address and no embedded Redis is running for the app (start ` + "`redspin up --embedded-redis`" + `, or give -a)`; code != exitFailure || !strings.Contains(errOut, want) {
		t.Errorf("exit %d, stderr %q; want %q", code, errOut, want)
	}
}
