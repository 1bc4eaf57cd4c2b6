package main

import (
	"github.com/redspin/redspin/internal/testutil/syncbuf"

	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/testutil/goguest"
)

// lockedBuffer is a goroutine-safe buffer for captured output.
type lockedBuffer = syncbuf.Buffer

// runCLI runs the command to completion and returns its exit code and output.
func runCLI(t *testing.T, ctx context.Context, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut lockedBuffer
	code := run(ctx, args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// startCLI runs the command in the background; stop cancels it and returns the exit code.
func startCLI(t *testing.T, args ...string) (out, errOut *lockedBuffer, stop func() int) {
	t.Helper()
	out, errOut = &lockedBuffer{}, &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, strings.NewReader(""), out, errOut) }()
	var once sync.Once
	code := 0
	stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(60 * time.Second):
				t.Fatal("redspin up did not stop within 60 s of cancellation")
			}
		})
		return code
	}
	t.Cleanup(func() { stop() })
	return out, errOut, stop
}

// waitFor polls until cond holds or fails the test after a generous deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// copyExample copies examples/<name> into a temp dir so runs leave no .spin behind.
func copyExample(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join("..", "..", "examples", name)
	dst := t.TempDir()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func writeManifest(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "spin.toml"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCheckExample(t *testing.T) {
	dir := copyExample(t, "hello-redis")
	code, out, errOut := runCLI(t, context.Background(), "", "check", "-f", dir, "--embedded-redis", "--cache-dir", t.TempDir())
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{`App "hello-redis"`, "Redis embedded (up --embedded-redis starts it on 127.0.0.1:6379, or a free port if that is taken):\n",
		"\tembedded/messages: [hello]", "hello: component exporting fermyon:spin/inbound-redis\n\t\tWASI: redspin WASI 0.2\n", "OK"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
}

func TestCheckNoAddressNamesTheFlag(t *testing.T) {
	dir := copyExample(t, "hello-redis")
	code, _, errOut := runCLI(t, context.Background(), "", "check", "-f", dir, "--no-components")
	if code != exitFailure || !strings.Contains(errOut, "--embedded-redis") {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
}

func TestCheckManifestErrorHasPosition(t *testing.T) {
	dir := writeManifest(t, "spin_manifest_version = 2\n[application]\nname = \"x\"\nbogus = 1\n")
	code, _, errOut := runCLI(t, context.Background(), "", "check", "-f", dir, "--no-components")
	if code != exitFailure || !strings.Contains(errOut, "spin.toml:4:") || !strings.Contains(errOut, "bogus") {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
}

func TestCheckNoRedisTriggers(t *testing.T) {
	dir := writeManifest(t, `spin_manifest_version = 2
[application]
name = "web"
[[trigger.http]]
route = "/..."
component = "web"
[component.web]
source = "web.wasm"
`)
	code, out, errOut := runCLI(t, context.Background(), "", "check", "-f", dir)
	if code != exitOK || !strings.Contains(out, "nothing to run") || !strings.Contains(errOut, `trigger type "http" is ignored`) {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	code, _, errOut = runCLI(t, context.Background(), "", "up", "-f", dir)
	if code != exitFailure || !strings.Contains(errOut, "no Redis triggers") {
		t.Fatalf("up: exit %d, stderr:\n%s", code, errOut)
	}
}

func TestUpUsageErrors(t *testing.T) {
	dir := copyExample(t, "hello-redis")
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"up", "-f", dir, "--quiet", "--follow", "hello"}, exitUsage, "cannot be used together"},
		{[]string{"up", "-f", dir, "--drop", "sideways"}, exitUsage, "--drop"},
		{[]string{"up", "-f", dir, "--embedded-redis", "--follow", "nope"}, exitUsage, `--follow "nope": no such component; valid ids: hello`},
		{[]string{"up", "-f", dir, "-c", "nope"}, exitUsage, `-c/--component-id "nope": no such component; valid ids: hello`},
		{[]string{"up", "-f", dir, "--queue-size", "0"}, exitUsage, "--queue-size 0: must be at least 1"},
		{[]string{"up", "-f", dir, "--queue-bytes", "-5"}, exitUsage, "--queue-bytes -5: must be at least 1"},
		{[]string{"up", "-f", dir, "--handler-timeout", "-1s"}, exitUsage, "--handler-timeout -1s: must not be negative"},
		{[]string{"up", "-f", dir, "--shutdown-timeout", "-1s"}, exitUsage, "--shutdown-timeout -1s: must not be negative"},
		{[]string{"up", "-f", dir, "--max-component-payload", "-1"}, exitUsage, "--max-component-payload -1: want 0 (no cap)"},
		{[]string{"up", "-f", dir, "--component-payload-budget", "-1"}, exitUsage, "--component-payload-budget -1: must not be negative"},
		{[]string{"up", "-f", dir, "--max-component-payload", "20000000"}, exitUsage, "--max-component-payload 20000000 exceeds --component-payload-budget 12582912"},
		{[]string{"up", "-f", dir, "--publish", "messages"}, exitUsage, `--publish "messages": want CHANNEL=MESSAGE`},
		{[]string{"up", "--no-such-flag"}, exitUsage, "unknown flag"},
		{[]string{"up", "-f", filepath.Join(dir, "hello.wasm")}, exitFailure, "not supported"},
	}
	for _, tc := range tests {
		code, _, errOut := runCLI(t, context.Background(), "", tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, stderr:\n%s\nwant exit %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

func TestUpConnectFailure(t *testing.T) {
	dir := writeManifest(t, `spin_manifest_version = 2
[application]
name = "x"
[application.trigger.redis]
address = "redis://:hunter2@127.0.0.1:1"
[[trigger.redis]]
channel = "c"
component = "hello"
[component.hello]
source = "`+filepath.Join(mustAbs(t, "../../examples/hello-redis"), "hello.wasm")+`"
`)
	code, out, errOut := runCLI(t, context.Background(), "", "up", "-f", dir, "--cache-dir", t.TempDir())
	if code != exitFailure || !strings.Contains(errOut, "Redis trigger failed to connect to 127.0.0.1:1") {
		t.Fatalf("exit %d\nstderr:\n%s", code, errOut)
	}
	if strings.Contains(out+errOut, "hunter2") {
		t.Fatal("the password appears in the output")
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestUpQuickStart runs the README's first command (in a copy of the
// example) and checks that the published message reaches the component.
func TestUpQuickStart(t *testing.T) {
	dir := copyExample(t, "hello-redis")
	out, errOut, stop := startCLI(t, "up", "-f", dir, "--embedded-redis", "--publish", "messages=hello", "--cache-dir", t.TempDir())
	waitFor(t, "the component's output", func() bool { return strings.Contains(errOut.String(), "Got message: hello\n") })
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{"Embedded Redis listening on redis://127.0.0.1:", "Active Channels on 127.0.0.1:", "/messages: [hello]"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut.String(), "1 received, 1 handled, 0 failed") {
		t.Errorf("no exit summary:\n%s", errOut)
	}
	logs, err := os.ReadFile(filepath.Join(dir, ".spin", "logs", "hello_stdout.txt"))
	if err != nil || len(logs) == 0 {
		t.Errorf("component stdout log: %q, %v", logs, err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".spin", "redis-url")); !os.IsNotExist(err) {
		t.Errorf("redis-url file left behind after exit: %v", err)
	}
}

func TestPublish(t *testing.T) {
	mr := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer client.Close()
	sub := client.Subscribe(context.Background(), "ch")
	defer sub.Close()
	if _, err := sub.Receive(context.Background()); err != nil {
		t.Fatal(err)
	}
	msgs := sub.Channel()
	url := "redis://" + mr.Addr()
	if code, _, errOut := runCLI(t, context.Background(), "", "publish", "-a", url, "ch", "arg-message"); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, context.Background(), "from-stdin", "publish", "-a", url, "ch"); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	file := filepath.Join(t.TempDir(), "m.bin")
	os.WriteFile(file, []byte{0, 1, 2}, 0o644)
	if code, _, errOut := runCLI(t, context.Background(), "", "publish", "-a", url, "ch", "@"+file); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// Standard input loses one trailing newline (as `echo hello |` sends
	// it), unless --raw; an argument and a file are sent exactly.
	for _, c := range []struct {
		stdin string
		args  []string
	}{
		{"hello\n", nil},
		{"two\n\n", []string{"-"}},
		{"crlf\r\n", nil},
		{"raw\n", []string{"--raw"}},
		{"arg\n", []string{"arg\n"}},
	} {
		args := append([]string{"publish", "-a", url, "ch"}, c.args...)
		if code, _, errOut := runCLI(t, context.Background(), c.stdin, args...); code != exitOK {
			t.Fatalf("stdin %q %q: exit %d: %s", c.stdin, c.args, code, errOut)
		}
	}
	want := []string{"arg-message", "from-stdin", "\x00\x01\x02", "hello", "two\n", "crlf", "raw\n", "arg\n"}
	var got []string
	for range want {
		select {
		case m := <-msgs:
			got = append(got, m.Payload)
		case <-time.After(5 * time.Second):
			t.Fatalf("messages: %q", got)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("messages: %q, want %q", got, want)
	}
	if code, _, errOut := runCLI(t, context.Background(), "", "publish", "-a", "redis:/bad", "ch", "x"); code != exitUsage || !strings.Contains(errOut, "-a/--address") {
		t.Fatalf("bad URL: exit %d: %s", code, errOut)
	}
}

// With --embedded-redis, an app whose triggers all have an address starts
// no embedded Redis, and `publish` in the app's directory goes to the
// app's own server (not to a stale .spin/redis-url) and says how many
// subscribers got the message.
func TestEmbeddedOnlyWhenNeeded(t *testing.T) {
	mr := miniredis.RunT(t)
	dir := writeManifest(t, fmt.Sprintf(`spin_manifest_version = 2
[application]
name = "own-redis"
[[trigger.redis]]
address = "redis://%s"
channel = "ch"
component = "hello"
[component.hello]
source = %q
`, mr.Addr(), mustAbs(t, "../../examples/hello-redis/hello.wasm")))
	// A stale URL file from an earlier embedded run.
	os.MkdirAll(filepath.Join(dir, ".spin"), 0o755)
	os.WriteFile(filepath.Join(dir, ".spin", "redis-url"), []byte("redis://127.0.0.1:1\n"), 0o644)
	out, errOut, stop := startCLI(t, "up", "-f", dir, "--embedded-redis", "--cache-dir", t.TempDir())
	waitFor(t, "Active Channels", func() bool { return strings.Contains(out.String(), "Active Channels on "+mr.Addr()) })
	if strings.Contains(out.String(), "Embedded Redis listening") {
		t.Errorf("an embedded Redis was started for an app with its own address:\n%s", out)
	}
	code, pubOut, pubErr := runCLI(t, context.Background(), "", "publish", "-f", dir, "ch", "to-own")
	if code != exitOK || !strings.Contains(pubOut, "Published 6 bytes to "+mr.Addr()+"/ch: 1 subscriber\n") {
		t.Errorf("publish: exit %d\nstdout:\n%s\nstderr:\n%s", code, pubOut, pubErr)
	}
	waitFor(t, "the component's output", func() bool { return strings.Contains(errOut.String(), "Got message: to-own\n") })
	// Nobody on this channel: published, with a warning.
	code, pubOut, pubErr = runCLI(t, context.Background(), "", "publish", "-a", "redis://"+mr.Addr(), "nobody", "x")
	if code != exitOK || pubOut != "" || !strings.Contains(pubErr, "nobody is subscribed") {
		t.Errorf("publish to no subscriber: exit %d\nstdout:\n%s\nstderr:\n%s", code, pubOut, pubErr)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

// A component with `dependencies`: one warning (with its line) in check,
// an error in up.
func TestDependencies(t *testing.T) {
	dir := writeManifest(t, fmt.Sprintf(`spin_manifest_version = 2
[application]
name = "deps"
[[trigger.redis]]
address = "redis://127.0.0.1:1"
channel = "ch"
component = "hello"
[component.hello]
source = %q
[component.hello.dependencies]
"a:b/c" = { path = "dep.wasm" }
`, mustAbs(t, "../../examples/hello-redis/hello.wasm")))
	code, out, errOut := runCLI(t, context.Background(), "", "check", "-f", dir, "--no-components")
	if code != exitOK || strings.Count(out+errOut, "dependencies") != 1 || !strings.Contains(out+errOut, "spin.toml:10") {
		t.Errorf("check: exit %d, want 0 and one warning naming the line\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, context.Background(), "", "up", "-f", dir, "--cache-dir", t.TempDir())
	if code != exitFailure || !strings.Contains(errOut, `component "hello" has `+"`dependencies`") {
		t.Errorf("up: exit %d, want 1 and the dependencies error\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

// TestUpHostInterfaces runs the host-interfaces guest, as a component and as
// a core module, against the embedded Redis: outbound Redis writes land in
// Redis, variables and the seeded default key-value store reach the guest,
// and a host outside allowed_outbound_hosts is refused.
func TestUpHostInterfaces(t *testing.T) {
	guests := mustAbs(t, "../../testdata/guests/c-host")
	dir := writeManifest(t, `spin_manifest_version = 2
[application]
name = "hosts"
[variables]
greeting = { default = "hello from a variable" }
[[trigger.redis]]
channel = "in"
component = "comp"
[[trigger.redis]]
channel = "in-mod"
component = "mod"
[component.comp]
source = "`+guests+`/c-host.wasm"
allowed_outbound_hosts = ["redis://127.0.0.1:*"]
key_value_stores = ["default"]
variables = { greet = "{{ greeting }}" }
[component.mod]
source = "`+guests+`/c-host.core.wasm"
allowed_outbound_hosts = ["redis://127.0.0.1:*"]
key_value_stores = ["default"]
variables = { greet = "{{ greeting }}" }
`)
	out, errOut, stop := startCLI(t, "up", "-f", dir, "--embedded-redis", "--key-value", "seeded=yes", "--cache-dir", t.TempDir())
	waitFor(t, "Active Channels", func() bool { return strings.Contains(out.String(), "/in-mod: [mod]") })
	var url string
	for _, line := range strings.Split(out.String(), "\n") {
		if u, ok := strings.CutPrefix(line, "Embedded Redis listening on "); ok {
			url = u
		}
	}
	client := redis.NewClient(&redis.Options{Addr: strings.TrimPrefix(url, "redis://")})
	defer client.Close()
	ctx := context.Background()
	for _, ch := range []string{"in", "in-mod"} {
		for _, msg := range []string{
			"redis2:set:" + url + "|key-" + ch + "|value-" + ch,
			"var:greet",
			"kv:get:default|seeded",
			"redis2:get:redis://192.0.2.1:6379|x",
		} {
			if err := client.Publish(ctx, ch, msg).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor(t, "8 handler results", func() bool {
		return strings.Contains(errOut.String(), "redis2:get: invalid-address") && strings.Count(errOut.String(), "handler failed") == 2
	})
	for _, ch := range []string{"in", "in-mod"} {
		if v, err := client.Get(ctx, "key-"+ch).Result(); err != nil || v != "value-"+ch {
			t.Errorf("Redis key-%s = %q, %v", ch, v, err)
		}
	}
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	e := errOut.String()
	if strings.Count(e, "hello from a variable\n") != 2 || strings.Count(e, "yes\n") != 2 {
		t.Errorf("variables or key-value output missing:\n%s", e)
	}
	if !strings.Contains(e, `allowed_outbound_hosts = [\"redis://192.0.2.1:6379\"]`) {
		t.Errorf("the refusal does not name the fix:\n%s", e)
	}
	if !strings.Contains(out.String(), `Storing default key-value data to "`) {
		t.Errorf("no key-value line:\n%s", out)
	}
}

// TestUpVariablesReachGuest resolves one component variable from each
// provider (--variable, runtime-config static and env providers,
// SPIN_VARIABLE_*, the declared default) and reads them all from the guest.
func TestUpVariablesReachGuest(t *testing.T) {
	guests := mustAbs(t, "../../testdata/guests/c-host")
	dir := writeManifest(t, `spin_manifest_version = 2
[application]
name = "vars"
[variables]
from_flag = { required = true }
from_static = { required = true }
from_rc_env = { required = true }
from_env = { required = true }
from_default = { default = "default-value" }
secret_one = { required = true, secret = true }
[[trigger.redis]]
channel = "in"
component = "comp"
[component.comp]
source = "`+guests+`/c-host.wasm"
variables = { a = "{{ from_flag }}", b = "{{ from_static }}", c = "{{ from_rc_env }}", d = "{{ from_env }}", e = "[{{ from_default }}]", s = "{{ secret_one }}" }
`)
	rc := filepath.Join(dir, "runtime-config.toml")
	os.WriteFile(rc, []byte(`[[variables_provider]]
type = "static"
values = { from_static = "static-value", from_flag = "loses-to-the-flag" }
[[variables_provider]]
type = "env"
prefix = "RSTEST"
`), 0o644)
	t.Setenv("RSTEST_FROM_RC_ENV", "rc-env-value")
	t.Setenv("SPIN_VARIABLE_FROM_ENV", "env-value")
	t.Setenv("SPIN_VARIABLE_SECRET_ONE", "hunter2")
	out, errOut, stop := startCLI(t, "up", "-f", dir, "--embedded-redis", "--runtime-config-file", rc,
		"--variable", "from_flag=flag-value", "--cache-dir", t.TempDir(),
		"--publish", "in=var:a", "--publish", "in=var:b", "--publish", "in=var:c", "--publish", "in=var:d", "--publish", "in=var:e")
	want := []string{"flag-value\n", "static-value\n", "rc-env-value\n", "env-value\n", "[default-value]\n"}
	waitFor(t, "five variables", func() bool {
		for _, w := range want {
			if !strings.Contains(errOut.String(), w) {
				return false
			}
		}
		return true
	})
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s", code, errOut)
	}
	if strings.Contains(out.String()+errOut.String(), "hunter2") {
		t.Error("a secret value appears in redspin's output")
	}
}

// TestPublishReadsVariables: publish reads the app as up does (-f,
// --variable, --runtime-config-file), so in examples/variables it dials the
// address and finds the channel the variables give; a failed dial of the
// app's address suggests -a.
func TestPublishReadsVariables(t *testing.T) {
	mr := miniredis.RunT(t)
	ctx := context.Background()
	client := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer client.Close()
	sub := client.Subscribe(ctx, "other")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	example := mustAbs(t, "../../examples/variables")
	code, out, errOut := runCLI(t, ctx, "", "publish", "-f", example,
		"--variable", "redis_address=redis://"+mr.Addr(), "--variable", "channel=other", "other", "by-flag")
	if code != exitOK || out != "Published 7 bytes to "+mr.Addr()+"/other: 1 subscriber\n" {
		t.Fatalf("publish --variable: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	rc := filepath.Join(t.TempDir(), "runtime-config.toml")
	os.WriteFile(rc, []byte("[[variables_provider]]\ntype = \"static\"\nvalues = { redis_address = \"redis://"+mr.Addr()+"\" }\n"), 0o644)
	code, out, errOut = runCLI(t, ctx, "", "publish", "-f", example, "--runtime-config-file", rc, "other", "by-rc")
	if code != exitOK || out != "Published 5 bytes to "+mr.Addr()+"/other: 1 subscriber\n" {
		t.Fatalf("publish --runtime-config-file: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{"by-flag", "by-rc"} {
		select {
		case m := <-sub.Channel():
			if m.Payload != want {
				t.Fatalf("got %q, want %q", m.Payload, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no message %q", want)
		}
	}
	// Nothing listens on the address the variables give: the error names it
	// and suggests -a; with -a the app is not read, so there is no hint.
	closed := "redis://127.0.0.1:1" // nothing listens on port 1
	code, _, errOut = runCLI(t, ctx, "", "publish", "-f", example, "--variable", "redis_address="+closed, "greetings", "x")
	if code != exitFailure || !strings.Contains(errOut, "publish to "+strings.TrimPrefix(closed, "redis://")+" (the address comes from the app: give the same -f, --variable, --runtime-config-file and SPIN_VARIABLE_* as `redspin up`, or the server's URL with -a/--address): dial tcp") {
		t.Errorf("publish to a closed port: exit %d\n%s", code, errOut)
	}
	streamApp := writeManifest(t, `spin_manifest_version = 2
[application]
name = "s"
[variables]
addr = { required = true }
[[trigger.redis-stream]]
address = "{{ addr }}"
component = "c"
stream = "orders"
[component.c]
source = "c.wasm"
`)
	code, _, errOut = runCLI(t, ctx, "", "publish", "-f", streamApp, "--variable", "addr="+closed, "--stream", "orders", "x")
	if code != exitFailure || !strings.Contains(errOut, "XADD to stream orders on 127.0.0.1:1 (the address comes from the app: ") {
		t.Errorf("publish --stream to a closed port: exit %d\n%s", code, errOut)
	}
	code, _, errOut = runCLI(t, ctx, "", "publish", "-a", closed, "greetings", "x")
	if code != exitFailure || strings.Contains(errOut, "-a/--address") || !strings.Contains(errOut, "dial tcp") {
		t.Errorf("publish -a to a closed port: exit %d\n%s", code, errOut)
	}
}

// TestCLIImportGraph keeps modules that only tests or deploy/ need out of
// the CLI's import graph: a newcomer's `go run ./cmd/redspin` downloads the
// modules of this graph only (the README's first-run figures depend on it).
func TestCLIImportGraph(t *testing.T) {
	goguest.RequireGo(t)
	out, err := exec.Command("go", "list", "-deps", "-f", "{{with .Module}}{{.Path}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, m := range strings.Fields(string(out)) {
		for _, banned := range []string{"k8s.io/", "sigs.k8s.io/", "gotest.tools/"} {
			if strings.HasPrefix(m, banned) {
				t.Errorf("cmd/redspin depends on module %s: keep it to tests (see README, Quick start)", m)
			}
		}
	}
}

// TestUpFetchExample runs examples/fetch as its README says, against a
// loopback server: the JS component's fetch() reaches it through wasi:http,
// and `check` reports no unsupported import.
func TestUpFetchExample(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "fetched "+r.URL.Path)
	}))
	defer srv.Close()
	dir := copyExample(t, "fetch")
	cache := t.TempDir()
	if d, err := os.UserCacheDir(); err == nil {
		cache = filepath.Join(d, "redspin", "test-artifacts") // a JS component compiles for a minute
	}
	code, out, errOut := runCLI(t, context.Background(), "", "check", "-f", dir, "--embedded-redis", "--cache-dir", cache)
	if code != exitOK || strings.Contains(out+errOut, "wasi:http") {
		t.Fatalf("check: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	url := srv.URL + "/hello"
	outb, errb, stop := startCLI(t, "up", "-f", dir, "--embedded-redis", "--publish", "urls="+url, "--cache-dir", cache)
	want := "GET " + url + ": 200, text/plain, 14 bytes\n"
	for deadline := time.Now().Add(90 * time.Second); !strings.Contains(errb.String(), want); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("no %q in the output\nstdout:\n%s\nstderr:\n%s", want, outb, errb)
		}
	}
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, outb, errb)
	}
	if !strings.Contains(errb.String(), "1 received, 1 handled, 0 failed") {
		t.Errorf("no exit summary:\n%s", errb)
	}
}
