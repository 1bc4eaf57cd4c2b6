//go:build unix

package e2e

import (
	"github.com/redspin/redspin/internal/testutil/syncbuf"

	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Generous bounds: a 2-core machine running other packages' tests, maybe
// under -race. Waits poll and return as soon as the condition holds.
const (
	waitTimeout = 60 * time.Second
	exitTimeout = 60 * time.Second
	pollEvery   = 10 * time.Millisecond
)

// Guests (testdata/guests/README.md describes their protocol).
var (
	guestC        = guestPath("c", "c.wasm")      // C component
	guestCCore    = guestPath("c", "c.core.wasm") // C core module (canonical ABI)
	guestRustCore = guestPath("rust", "rust.core.wasm")
)

func guestPath(dir, file string) string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return filepath.Join(filepath.Dir(wd), "testdata", "guests", dir, file)
}

// syncBuffer collects a stream of the child process.
type syncBuffer = syncbuf.Buffer

// proc is one running redspin process.
type proc struct {
	t      testing.TB
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{}
	code   int // exit code, valid once done is closed (-1: killed by a signal)
}

// opts for starting redspin.
type runOpts struct {
	dir string   // working directory ("" = a new temp dir)
	env []string // extra environment, KEY=VALUE
	// ignoreSIGINT starts redspin with SIGINT ignored, as a background job
	// of a non-interactive shell is (through sh's trap and exec: the pid
	// is redspin's).
	ignoreSIGINT bool
}

// startRedspin starts the binary with args. The process is in its own
// process group; it is killed (by pid) when the test ends if still running.
func startRedspin(t testing.TB, o runOpts, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary, args...)
	if o.ignoreSIGINT {
		cmd = exec.Command("sh", append([]string{"-c", `trap "" INT; exec "$0" "$@"`, binary}, args...)...)
	}
	cmd.Dir = o.dir
	if cmd.Dir == "" {
		cmd.Dir = t.TempDir()
	}
	cmd.Env = append(cleanEnv(), o.env...)
	p := &proc{t: t, cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	cmd.Stdin = nil
	ownProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redspin: %v", err)
	}
	go func() {
		err := cmd.Wait()
		p.code = 0
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				p.code = ee.ExitCode()
			} else {
				p.code = -2
			}
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.exited() {
			_ = cmd.Process.Kill() // by pid: only the process this test started
			<-p.done
			t.Logf("redspin killed at cleanup\nstdout:\n%s\nstderr:\n%s", p.stdout, p.stderr)
		}
		// A binary built with -race reports races on stderr.
		if strings.Contains(p.stderr.String(), "WARNING: DATA RACE") {
			t.Errorf("the race detector fired in redspin:\n%s", p.stderr)
		}
	})
	return p
}

// cleanEnv is the test's environment without variables that would change
// redspin's behaviour behind a test's back.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "SPIN_") || k == "RUNTIME_CONFIG_FILE" || k == "DISABLE_WASMTIME_CACHE" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// runRedspin runs the binary to completion (bounded) and returns its exit
// code and output.
func runRedspin(t testing.TB, o runOpts, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	p := startRedspin(t, o, args...)
	code = p.wait(exitTimeout)
	return code, p.stdout.String(), p.stderr.String()
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// output is both streams, for failure messages.
func (p *proc) output() string {
	return fmt.Sprintf("stdout:\n%s\nstderr:\n%s", p.stdout, p.stderr)
}

// signal sends sig to the process (by pid).
func (p *proc) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v: %v", sig, err)
	}
}

// wait waits for the process to exit and returns its exit code; it fails
// the test (and kills the process) after d.
func (p *proc) wait(d time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(d):
		_ = p.cmd.Process.Kill()
		<-p.done
		p.t.Fatalf("redspin did not exit within %s\n%s", d, p.output())
		return 0
	}
}

// stop sends sig and returns the exit code.
func (p *proc) stop(sig syscall.Signal) int {
	p.t.Helper()
	p.signal(sig)
	return p.wait(exitTimeout)
}

// waitFor polls cond until it holds; it fails the test after waitTimeout,
// or at once if the process exits first.
func (p *proc) waitFor(what string, cond func() bool) {
	p.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if p.exited() {
			if cond() {
				return
			}
			p.t.Fatalf("redspin exited (code %d) while waiting for %s\n%s", p.code, what, p.output())
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("timed out after %s waiting for %s\n%s", waitTimeout, what, p.output())
		}
		time.Sleep(pollEvery)
	}
}

// waitStdout waits until stdout contains s.
func (p *proc) waitStdout(s string) {
	p.t.Helper()
	p.waitFor(fmt.Sprintf("%q on stdout", s), func() bool { return strings.Contains(p.stdout.String(), s) })
}

// waitStderr waits until stderr contains s.
func (p *proc) waitStderr(s string) {
	p.t.Helper()
	p.waitFor(fmt.Sprintf("%q on stderr", s), func() bool { return strings.Contains(p.stderr.String(), s) })
}

// waitSubscribed waits for Spin's "Active Channels" block of every server.
func (p *proc) waitSubscribed(servers ...string) {
	p.t.Helper()
	for _, s := range servers {
		p.waitStdout("Active Channels on " + s + ":\n")
	}
}

var adminRe = regexp.MustCompile(`Admin endpoints on http://([^/\s]+)/`)

// adminAddr waits for the admin endpoints line and returns its host:port.
func (p *proc) adminAddr() string {
	p.t.Helper()
	var addr string
	p.waitFor("the admin endpoints line", func() bool {
		m := adminRe.FindStringSubmatch(p.stdout.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	})
	return addr
}

// waitUntil polls cond until it holds or fails the test after waitTimeout.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", waitTimeout, what)
		}
		time.Sleep(pollEvery)
	}
}

// waitSteady is waitUntil for a condition on counters that redspin updates
// one after another (received before queued, queued before popped): it
// must hold on three polls in a row, so that a moment between two updates
// does not count.
func waitSteady(t testing.TB, what string, cond func() bool) {
	t.Helper()
	n := 0
	waitUntil(t, what, func() bool {
		if !cond() {
			n = 0
			return false
		}
		n++
		return n == 3
	})
}

var httpClient = &http.Client{Timeout: 5 * time.Second}

// probe GETs an admin path and returns the status code and body (0 on a
// transport error).
func probe(addr, path string) (int, string) {
	resp, err := httpClient.Get("http://" + addr + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metrics is one scrape of /metrics: series (name{labels}) to value.
type metrics map[string]float64

var seriesRe = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$`)

// scrape reads /metrics in the Prometheus text format.
func scrape(t testing.TB, addr string) metrics {
	t.Helper()
	code, body := probe(addr, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", code, body)
	}
	m := metrics{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		g := seriesRe.FindStringSubmatch(line)
		if g == nil {
			t.Fatalf("/metrics: unparsable line %q", line)
		}
		v, err := strconv.ParseFloat(g[4], 64)
		if err != nil {
			t.Fatalf("/metrics: line %q: %v", line, err)
		}
		m[g[1]+"{"+g[3]+"}"] = v
	}
	return m
}

// sum adds the series of metric name whose labels include every
// `key="value"` in match.
func (m metrics) sum(name string, match ...string) float64 {
	var total float64
	for series, v := range m {
		n, labels, _ := strings.Cut(series, "{")
		if n != name {
			continue
		}
		ok := true
		for _, want := range match {
			if !strings.Contains(labels, want) {
				ok = false
				break
			}
		}
		if ok {
			total += v
		}
	}
	return total
}

// Metric names (internal/admin).
const (
	mReceived   = "redspin_messages_received_total"
	mHandled    = "redspin_handler_handled_total"
	mFailed     = "redspin_handler_failed_total"
	mTimedOut   = "redspin_handler_timed_out_total"
	mQueueDepth = "redspin_queue_depth"
	mDropped    = "redspin_messages_dropped_total"
	mReconnects = "redspin_redis_reconnects_total"
	mConnected  = "redspin_redis_connected"
)

// app writes spin.toml into a new temp dir and returns the dir. In body,
// @C@, @CCORE@ and @RUSTCORE@ stand for the guests' absolute paths.
func app(t testing.TB, body string) string {
	t.Helper()
	dir := t.TempDir()
	body = strings.NewReplacer("@C@", guestC, "@CCORE@", guestCCore, "@RUSTCORE@", guestRustCore).Replace(body)
	if err := os.WriteFile(filepath.Join(dir, "spin.toml"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// upArgs is `up -f dir` with the shared cache.
func upArgs(dir string, extra ...string) []string {
	return append([]string{"up", "-f", dir, "--cache-dir", cacheDir}, extra...)
}

// logFile reads a component's stdout or stderr log ("" when missing).
func logFile(dir, component, stream string) string {
	b, _ := os.ReadFile(filepath.Join(dir, ".spin", "logs", component+"_"+stream+".txt"))
	return string(b)
}

// hasLine reports whether text has s as a whole line.
func hasLine(text, s string) bool {
	return strings.Contains("\n"+text, "\n"+s+"\n")
}

// countLines counts the lines of text equal to s.
func countLines(text, s string) int {
	n := 0
	for _, l := range strings.Split(text, "\n") {
		if l == s {
			n++
		}
	}
	return n
}

// summaryRe matches the exit summary line.
var summaryRe = regexp.MustCompile(`redspin: (\d+) received, (\d+) handled, (\d+) failed, (\d+) timed out, (\d+) dropped, (\d+) reconnects`)

// summary is the parsed exit summary line.
type summary struct{ received, handled, failed, timedOut, dropped, reconnects int }

// exitSummary parses the exit summary line from stderr; it fails the test
// when there is none.
func exitSummary(t testing.TB, stderr string) summary {
	t.Helper()
	m := summaryRe.FindAllStringSubmatch(stderr, -1)
	if len(m) != 1 {
		t.Fatalf("want exactly one exit summary line on stderr, got %d:\n%s", len(m), stderr)
	}
	n := make([]int, 6)
	for i := range n {
		n[i], _ = strconv.Atoi(m[0][i+1])
	}
	return summary{n[0], n[1], n[2], n[3], n[4], n[5]}
}

// ctx returns a context bounded by the wait timeout.
func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return c
}

// writeFile writes dir/name.
func writeFile(t testing.TB, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
