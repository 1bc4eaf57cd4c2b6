//go:build unix

package e2e

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/redspin/redspin/internal/testutil/redisserver"
)

// One channel, three components of three shapes (C component, C core
// module, Rust core module): every message reaches every component.
func TestFanOut(t *testing.T) {
	t.Parallel()
	rs := redisserver.Start(t, redisserver.Options{})
	dir := app(t, fmt.Sprintf(`spin_manifest_version = 2
[application]
name = "fan-out"
[application.trigger.redis]
address = "%s"
[[trigger.redis]]
channel = "events"
component = "comp"
[[trigger.redis]]
channel = "events"
component = "core"
[[trigger.redis]]
channel = "events"
component = "rust"
[component.comp]
source = "@C@"
[component.core]
source = "@CCORE@"
[component.rust]
source = "@RUSTCORE@"
`, rs.URL()))
	p := startRedspin(t, runOpts{}, upArgs(dir)...)
	p.waitSubscribed(rs.Addr())
	if want := "\t" + rs.Addr() + "/events: [comp,core,rust]\n"; !strings.Contains(p.stdout.String(), want) {
		t.Fatalf("stdout lacks %q\n%s", want, p.output())
	}
	const n = 5
	for i := range n {
		if err := rs.Client().Publish(ctx(t), "events", fmt.Sprintf("print:fan-%d", i)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	comps := []string{"comp", "core", "rust"}
	p.waitFor("every component's output for every message", func() bool {
		for _, c := range comps {
			for i := range n {
				if !hasLine(logFile(dir, c, "stdout"), fmt.Sprintf("fan-%d", i)) {
					return false
				}
			}
		}
		return true
	})
	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.output())
	}
	// Echoed to stderr too: each line three times (once per component).
	// The echo and the log file are written separately, so this is checked
	// after exit, when shutdown has flushed both.
	for i := range n {
		if got := countLines(p.stderr.String(), fmt.Sprintf("fan-%d", i)); got != 3 {
			t.Errorf("stderr has %q %d times, want 3\n%s", fmt.Sprintf("fan-%d", i), got, p.stderr)
		}
	}
	if s := exitSummary(t, p.stderr.String()); s != (summary{received: n, handled: 3 * n}) {
		t.Errorf("summary %+v, want %d received, %d handled", s, n, 3*n)
	}
}

// Two triggers on two Redis servers: one connection each, both served.
func TestTwoServers(t *testing.T) {
	t.Parallel()
	a := redisserver.Start(t, redisserver.Options{})
	b := redisserver.Start(t, redisserver.Options{})
	dir := app(t, fmt.Sprintf(`spin_manifest_version = 2
[application]
name = "two"
[[trigger.redis]]
address = "%s"
channel = "shared"
component = "on-a"
[[trigger.redis]]
address = "%s"
channel = "shared"
component = "on-b"
[component.on-a]
source = "@C@"
[component.on-b]
source = "@CCORE@"
`, a.URL(), b.URL()))
	p := startRedspin(t, runOpts{}, upArgs(dir)...)
	p.waitSubscribed(a.Addr(), b.Addr())
	for _, want := range []string{"\t" + a.Addr() + "/shared: [on-a]\n", "\t" + b.Addr() + "/shared: [on-b]\n"} {
		if !strings.Contains(p.stdout.String(), want) {
			t.Fatalf("stdout lacks %q\n%s", want, p.output())
		}
	}
	// One pub/sub subscriber on each server, subscribed to the channel.
	for _, s := range []*redisserver.Server{a, b} {
		n, err := s.Client().PubSubNumSub(ctx(t), "shared").Result()
		if err != nil || n["shared"] != 1 {
			t.Fatalf("%s: PUBSUB NUMSUB shared = %v, %v", s.Addr(), n, err)
		}
	}
	if err := a.Client().Publish(ctx(t), "shared", "print:from-a").Err(); err != nil {
		t.Fatal(err)
	}
	if err := b.Client().Publish(ctx(t), "shared", "print:from-b").Err(); err != nil {
		t.Fatal(err)
	}
	p.waitFor("both servers' messages", func() bool {
		return hasLine(logFile(dir, "on-a", "stdout"), "from-a") && hasLine(logFile(dir, "on-b", "stdout"), "from-b")
	})
	// Each message went only to its server's component.
	if strings.Contains(logFile(dir, "on-a", "stdout"), "from-b") || strings.Contains(logFile(dir, "on-b", "stdout"), "from-a") {
		t.Errorf("a message crossed servers:\non-a: %q\non-b: %q", logFile(dir, "on-a", "stdout"), logFile(dir, "on-b", "stdout"))
	}
	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.output())
	}
	if s := exitSummary(t, p.stderr.String()); s != (summary{received: 2, handled: 2}) {
		t.Errorf("summary %+v", s)
	}
}

// {{ redis_url }} in the address and {{ chan }} in the channel, set through
// SPIN_VARIABLE_* and through --variable (which wins over the environment).
func TestVariablesInAddressAndChannel(t *testing.T) {
	t.Parallel()
	rs := redisserver.Start(t, redisserver.Options{})
	manifest := `spin_manifest_version = 2
[application]
name = "vars"
[variables]
redis_url = { required = true }
chan = { required = true }
[application.trigger.redis]
address = "{{ redis_url }}"
[[trigger.redis]]
channel = "{{ chan }}"
component = "echo"
[component.echo]
source = "@C@"
`
	for _, tc := range []struct {
		name    string
		channel string
		env     []string
		args    []string
	}{
		{"env", "from-env", []string{"SPIN_VARIABLE_REDIS_URL=" + rs.URL(), "SPIN_VARIABLE_CHAN=from-env"}, nil},
		{"flag", "from-flag", nil, []string{"--variable", "redis_url=" + rs.URL(), "--variable", "chan=from-flag"}},
		{"flag-over-env", "flag-wins", []string{"SPIN_VARIABLE_REDIS_URL=redis://127.0.0.1:1", "SPIN_VARIABLE_CHAN=env-loses"},
			[]string{"--variable", "redis_url=" + rs.URL(), "--variable", "chan=flag-wins"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := app(t, manifest)
			p := startRedspin(t, runOpts{env: tc.env}, upArgs(dir, tc.args...)...)
			p.waitSubscribed(rs.Addr())
			if want := "\t" + rs.Addr() + "/" + tc.channel + ": [echo]\n"; !strings.Contains(p.stdout.String(), want) {
				t.Fatalf("stdout lacks %q\n%s", want, p.output())
			}
			if err := rs.Client().Publish(ctx(t), tc.channel, "print:via-"+tc.name).Err(); err != nil {
				t.Fatal(err)
			}
			p.waitFor("the message", func() bool { return hasLine(logFile(dir, "echo", "stdout"), "via-"+tc.name) })
			if code := p.stop(syscall.SIGTERM); code != 0 {
				t.Fatalf("exit %d\n%s", code, p.output())
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		dir := app(t, manifest)
		code, out, errOut := runRedspin(t, runOpts{env: []string{"SPIN_VARIABLE_CHAN=x"}}, upArgs(dir)...)
		if code != 1 || !strings.Contains(errOut, "redis_url") {
			t.Fatalf("exit %d, want 1 and an error naming redis_url\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
	})
}

// An inline component (component = { source = ... }) gets the ID
// "<trigger-id>-component" and runs.
func TestInlineComponent(t *testing.T) {
	t.Parallel()
	rs := redisserver.Start(t, redisserver.Options{})
	dir := app(t, fmt.Sprintf(`spin_manifest_version = 2
[application]
name = "inline"
[application.trigger.redis]
address = "%s"
[[trigger.redis]]
id = "inl"
channel = "in"
component = { source = "@C@", environment = { WHO = "inline-env" } }
`, rs.URL()))
	p := startRedspin(t, runOpts{}, upArgs(dir)...)
	p.waitSubscribed(rs.Addr())
	if want := "\t" + rs.Addr() + "/in: [inl-component]\n"; !strings.Contains(p.stdout.String(), want) {
		t.Fatalf("stdout lacks %q\n%s", want, p.output())
	}
	if err := rs.Client().Publish(ctx(t), "in", "env:WHO").Err(); err != nil {
		t.Fatal(err)
	}
	p.waitFor("the inline component's output", func() bool {
		return hasLine(logFile(dir, "inl-component", "stdout"), "inline-env")
	})
	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.output())
	}
}

// Empty and binary payloads reach the guests byte for byte.
func TestBinaryAndEmptyPayloads(t *testing.T) {
	t.Parallel()
	rs := redisserver.Start(t, redisserver.Options{})
	dir := app(t, fmt.Sprintf(`spin_manifest_version = 2
[application]
name = "payloads"
[application.trigger.redis]
address = "%s"
[[trigger.redis]]
channel = "bin"
component = "comp"
[[trigger.redis]]
channel = "bin"
component = "core"
[component.comp]
source = "@C@"
[component.core]
source = "@CCORE@"
`, rs.URL()))
	p := startRedspin(t, runOpts{}, upArgs(dir)...)
	p.waitSubscribed(rs.Addr())
	// "len:" then every byte value, NUL and invalid UTF-8 included, and a
	// newline and CR in the middle.
	bin := []byte("len:")
	for i := range 256 {
		bin = append(bin, byte(i))
	}
	bin = append(bin, "\r\n\x00\xff\xfe"...)
	for _, payload := range [][]byte{{}, bin, []byte("x")} {
		if err := rs.Client().Publish(ctx(t), "bin", payload).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// One channel is one ordered lane, so the lines come in publish order.
	want := fmt.Sprintf("c got 0 bytes\nlen=%d\nc got 1 bytes\n", len(bin))
	p.waitFor("the guests' answers", func() bool {
		return logFile(dir, "comp", "stdout") == want && logFile(dir, "core", "stdout") == want
	})
	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.output())
	}
	if s := exitSummary(t, p.stderr.String()); s != (summary{received: 3, handled: 6}) {
		t.Errorf("summary %+v", s)
	}
}

// A failing, trapping or timed-out component does not stop the others (nor
// later messages); each failure is a WARN line naming component and channel;
// the exit summary counts them.
func TestFailingComponentDoesNotStopOthers(t *testing.T) {
	t.Parallel()
	rs := redisserver.Start(t, redisserver.Options{})
	dir := app(t, fmt.Sprintf(`spin_manifest_version = 2
[application]
name = "failures"
[application.trigger.redis]
address = "%s"
[[trigger.redis]]
channel = "mixed"
component = "good"
[[trigger.redis]]
channel = "mixed"
component = "bad"
[[trigger.redis]]
channel = "other"
component = "bystander"
[component.good]
source = "@C@"
files = ["ok.txt"]
[component.bad]
source = "@CCORE@"
[component.bystander]
source = "@C@"
`, rs.URL()))
	writeFile(t, dir, "ok.txt", "file content\n")
	p := startRedspin(t, runOpts{}, upArgs(dir, "--handler-timeout", "1s")...)
	p.waitSubscribed(rs.Addr())
	publish := func(ch, msg string) {
		t.Helper()
		if err := rs.Client().Publish(ctx(t), ch, msg).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// "bad" has no ok.txt: it fails on this message, "good" prints the file.
	publish("mixed", "file:/ok.txt")
	publish("other", "print:other-1")
	publish("mixed", "trap")
	publish("other", "print:other-2")
	publish("mixed", "fail")
	publish("mixed", "loop") // both time out after 1 s
	publish("other", "print:other-3")
	publish("mixed", "print:still-alive")
	p.waitFor("the last message on both channels", func() bool {
		return hasLine(logFile(dir, "good", "stdout"), "still-alive") &&
			hasLine(logFile(dir, "bad", "stdout"), "still-alive") &&
			hasLine(logFile(dir, "bystander", "stdout"), "other-3")
	})
	if got, want := logFile(dir, "good", "stdout"), "file content\nstill-alive\n"; got != want {
		t.Errorf("good's stdout %q, want %q", got, want)
	}
	if got, want := logFile(dir, "bystander", "stdout"), "other-1\nother-2\nother-3\n"; got != want {
		t.Errorf("bystander's stdout %q, want %q", got, want)
	}
	if !strings.Contains(logFile(dir, "bad", "stderr"), "file:/ok.txt: ") {
		t.Errorf("bad's stderr lacks the file error: %q", logFile(dir, "bad", "stderr"))
	}
	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.output())
	}
	errOut := p.stderr.String()
	// WARN lines: bad fails on file:, both trap, both fail, both time out.
	warns := map[string]int{}
	re := regexp.MustCompile(`level=WARN msg="component handler (failed|timed out)" component=(\S+) channel=(\S+) `)
	for _, m := range re.FindAllStringSubmatch(errOut, -1) {
		warns[m[1]+" "+m[2]+" "+m[3]]++
	}
	wantWarns := map[string]int{
		"failed good mixed":    2, // trap, fail
		"failed bad mixed":     3, // file, trap, fail
		"timed out good mixed": 1,
		"timed out bad mixed":  1,
	}
	if fmt.Sprint(warns) != fmt.Sprint(wantWarns) {
		t.Errorf("WARN lines %v, want %v\n%s", warns, wantWarns, errOut)
	}
	for _, want := range []string{"trap", "handler timed out after 1s"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	// 8 messages; mixed: 5 messages × 2 components, other: 3 × 1.
	want := summary{received: 8, handled: 2 + 1 + 3, failed: 5, timedOut: 2}
	if s := exitSummary(t, errOut); s != want {
		t.Errorf("summary %+v, want %+v", s, want)
	}
}

// Messages on one channel are handled in arrival order: the component's
// stdout log lists 200 numbered messages in order.
func TestOrderedPerChannel(t *testing.T) {
	t.Parallel()
	rs := redisserver.Start(t, redisserver.Options{})
	dir := app(t, fmt.Sprintf(`spin_manifest_version = 2
[application]
name = "ordered"
[application.trigger.redis]
address = "%s"
[[trigger.redis]]
channel = "seq"
component = "seq"
[[trigger.redis]]
channel = "seq2"
component = "seq2"
[component.seq]
source = "@C@"
[component.seq2]
source = "@CCORE@"
`, rs.URL()))
	p := startRedspin(t, runOpts{}, upArgs(dir, "--quiet")...)
	p.waitSubscribed(rs.Addr())
	const n = 200
	pipe := rs.Client().Pipeline()
	for i := range n {
		pipe.Publish(ctx(t), "seq", "print:"+strconv.Itoa(i))
		pipe.Publish(ctx(t), "seq2", "print:"+strconv.Itoa(i))
	}
	if _, err := pipe.Exec(ctx(t)); err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for i := range n {
		fmt.Fprintf(&want, "%d\n", i)
	}
	for _, c := range []string{"seq", "seq2"} {
		p.waitFor(c+"'s 200 lines", func() bool { return strings.Count(logFile(dir, c, "stdout"), "\n") >= n })
		if got := logFile(dir, c, "stdout"); got != want.String() {
			t.Errorf("%s's stdout is not 0..%d in order:\n%s", c, n-1, got)
		}
	}
	// --quiet: nothing echoed.
	if strings.Contains(p.stderr.String(), "\n199\n") {
		t.Errorf("--quiet echoed component output")
	}
	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.output())
	}
	if s := exitSummary(t, p.stderr.String()); s != (summary{received: 2 * n, handled: 2 * n}) {
		t.Errorf("summary %+v", s)
	}
}
