//go:build unix

package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/testutil/redisserver"
)

// oneChannelApp is an app with one channel "ch" and one C component "echo"
// at address.
func oneChannelApp(t testing.TB, address string) string {
	t.Helper()
	return app(t, fmt.Sprintf(`spin_manifest_version = 2
[application]
name = "one"
[application.trigger.redis]
address = %q
[[trigger.redis]]
channel = "ch"
component = "echo"
[component.echo]
source = "@C@"
`, address))
}

// Redis is killed and restarted on the same port while a publisher keeps
// publishing: redspin logs the loss, /healthz turns 503, it reconnects and
// resubscribes, /healthz turns 200, messages published after recovery are
// handled, and the process never exits.
func TestRedisRestartUnderLoad(t *testing.T) {
	t.Parallel()
	rs := redisserver.Start(t, redisserver.Options{})
	dir := oneChannelApp(t, rs.URL())
	p := startRedspin(t, runOpts{}, upArgs(dir, "--listen-admin", "127.0.0.1:0", "--quiet", "--log-level", "debug")...)
	admin := p.adminAddr()
	p.waitSubscribed(rs.Addr())
	waitUntil(t, "/healthz 200", func() bool { code, _ := probe(admin, "/healthz"); return code == http.StatusOK })
	if code, body := probe(admin, "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz %d %s once subscribed", code, body)
	}

	// The publisher: a pipelined batch of 2 numbered messages every 5 ms
	// (about 400 messages/s, well below what one lane handles, so that
	// nothing is dropped), at most 10,000 batches; errors while Redis is down
	// are expected and counted.
	var (
		sent, failed atomic.Int64 // sent: the highest index published
		attempted    atomic.Int64 // the highest index tried
		stop         = make(chan struct{})
		stopOnce     sync.Once
		wg           sync.WaitGroup
	)
	stopPublisher := func() { stopOnce.Do(func() { close(stop) }); wg.Wait() }
	defer stopPublisher()
	// Its own client: one dial attempt per publish while Redis is down.
	pub := redis.NewClient(&redis.Options{Addr: rs.Addr(), Protocol: 2, MaxRetries: -1, DialerRetries: 1})
	defer pub.Close()
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		const batch = 2
		for i := 0; i < 10_000*batch; i += batch {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			attempted.Store(int64(i + batch - 1))
			pipe := pub.Pipeline()
			for j := i; j < i+batch; j++ {
				pipe.Publish(ctx(t), "ch", "print:load-"+strconv.Itoa(j))
			}
			if _, err := pipe.Exec(ctx(t)); err != nil {
				failed.Add(1)
			} else {
				sent.Store(int64(i + batch - 1))
			}
		}
	})

	p.waitFor("load being handled", func() bool { return strings.Count(logFile(dir, "echo", "stdout"), "\n") >= 100 })
	rs.Kill()
	p.waitStderr("lost connection to Redis; reconnecting")
	var body string
	waitUntil(t, "/healthz 503 while Redis is down", func() bool {
		var code int
		code, body = probe(admin, "/healthz")
		return code == http.StatusServiceUnavailable
	})
	if !strings.Contains(body, `"state":"reconnecting"`) || !strings.Contains(body, `"healthy":false`) {
		t.Errorf("/healthz body while down: %s", body)
	}
	if m := scrape(t, admin); m.sum(mConnected) != 0 {
		t.Errorf("%s = %v while Redis is down", mConnected, m.sum(mConnected))
	}
	// Stay down while the publisher keeps trying and redspin keeps retrying.
	waitUntil(t, "publishes failing while Redis is down", func() bool { return failed.Load() >= 3 })
	p.waitFor("redspin retrying", func() bool { return strings.Count(p.stderr.String(), "reconnect attempt failed") >= 2 })
	if p.exited() {
		t.Fatalf("redspin exited while Redis was down\n%s", p.output())
	}

	// Ready (every channel subscribed once) is not liveness: it stays 200.
	if code, body := probe(admin, "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz %d %s while reconnecting", code, body)
	}

	rs.Restart()
	p.waitStderr("reconnected to Redis and resubscribed")
	waitUntil(t, "/healthz 200 after the restart", func() bool { code, _ := probe(admin, "/healthz"); return code == http.StatusOK })
	// A message published after recovery (by a fresh client) is handled,
	// and so is the load that goes on after it.
	if err := rs.Client().Publish(ctx(t), "ch", "print:after-restart").Err(); err != nil {
		t.Fatal(err)
	}
	// Every index tried from here on is published after the recovery.
	after := attempted.Load()
	handledAfter := func(log string) bool {
		for _, l := range strings.Split(log, "\n") {
			if n, ok := strings.CutPrefix(l, "load-"); ok {
				if i, err := strconv.ParseInt(n, 10, 64); err == nil && i > after {
					return true
				}
			}
		}
		return false
	}
	deadline := time.Now().Add(waitTimeout)
	for {
		log := logFile(dir, "echo", "stdout")
		if hasLine(log, "after-restart") && handledAfter(log) {
			break
		}
		if time.Now().After(deadline) || p.exited() {
			tail := log[max(0, len(log)-300):]
			t.Fatalf("messages published after the restart (index > %d) not handled; published up to %d, %d batches failed; log ends:\n%s\n%s",
				after, sent.Load(), failed.Load(), tail, p.output())
		}
		time.Sleep(pollEvery)
	}
	stopPublisher()
	// Let the queue drain, so that shutdown discards nothing.
	var m metrics
	waitUntil(t, "every received message handled", func() bool {
		m = scrape(t, admin)
		return m.sum(mQueueDepth) == 0 && m.sum(mReceived) == m.sum(mHandled)
	})
	if m.sum(mReconnects) != 1 || m.sum(mConnected) != 1 {
		t.Errorf("%s = %v, %s = %v; want 1 and 1", mReconnects, m.sum(mReconnects), mConnected, m.sum(mConnected))
	}
	if p.exited() {
		t.Fatalf("redspin exited\n%s", p.output())
	}
	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.output())
	}
	s := exitSummary(t, p.stderr.String())
	if s.reconnects != 1 || s.failed != 0 || s.dropped != 0 || s.received != s.handled || s.received < 100 {
		t.Errorf("summary %+v: want 1 reconnect, no failures, every received message handled", s)
	}
	t.Logf("published up to index %d (%d batches failed while down), redspin: %+v", sent.Load(), failed.Load(), s)
}

// An address nothing listens on: a retry line per attempt, then exit 1 with
// "Redis trigger failed to connect to 127.0.0.1:<port>", in bounded time.
func TestUnreachableAddress(t *testing.T) {
	t.Parallel()
	// Port 1 (tcpmux): never one a parallel test's redis-server could take
	// while redspin retries, as a freshly freed port could be.
	const port = 1
	dir := oneChannelApp(t, fmt.Sprintf("redis://127.0.0.1:%d", port))
	begin := time.Now()
	code, out, errOut := runRedspin(t, runOpts{}, upArgs(dir)...)
	took := time.Since(begin)
	want := fmt.Sprintf("Redis trigger failed to connect to 127.0.0.1:%d", port)
	if code != 1 || !strings.Contains(errOut, want) {
		t.Fatalf("exit %d, want 1 and %q\nstdout:\n%s\nstderr:\n%s", code, want, out, errOut)
	}
	if n := strings.Count(errOut, "could not connect to Redis; retrying"); n < 1 {
		t.Errorf("no retry lines before giving up:\n%s", errOut)
	}
	if !strings.Contains(errOut, "connection refused") {
		t.Errorf("the error does not give the cause:\n%s", errOut)
	}
	if strings.Contains(out, "Active Channels") {
		t.Errorf("printed Active Channels without a connection:\n%s", out)
	}
	// About 4 s of retries (README: "a few seconds"); generous for slow machines.
	if took > 30*time.Second {
		t.Errorf("took %s to give up", took)
	}
	t.Logf("gave up after %s", took.Round(time.Millisecond))
}

// rediss:// against redis-server --tls-port with a generated CA that the
// system does not trust: with #insecure it works; without it the connection
// fails with a certificate error; trusting the CA through SSL_CERT_FILE (Go's
// standard way on Unix) makes it work without #insecure.
func TestTLS(t *testing.T) {
	t.Parallel()
	rs := redisserver.Start(t, redisserver.Options{TLS: true})
	tlsURL := "rediss://" + rs.TLSAddr()

	t.Run("insecure", func(t *testing.T) {
		dir := oneChannelApp(t, tlsURL+"#insecure")
		p := startRedspin(t, runOpts{}, upArgs(dir)...)
		p.waitSubscribed(rs.TLSAddr())
		publishAndExpect(t, p, rs, dir, "print:over-tls")
	})
	t.Run("untrusted", func(t *testing.T) {
		dir := oneChannelApp(t, tlsURL)
		code, out, errOut := runRedspin(t, runOpts{}, upArgs(dir)...)
		want := "Redis trigger failed to connect to " + rs.TLSAddr()
		if code != 1 || !strings.Contains(errOut, want) || !strings.Contains(errOut, "x509: certificate signed by unknown authority") {
			t.Fatalf("exit %d, want 1, %q and the certificate error\nstdout:\n%s\nstderr:\n%s", code, want, out, errOut)
		}
		t.Logf("without #insecure: exit %d, %s", code, errorLine(errOut))
	})
	t.Run("trusted-via-SSL_CERT_FILE", func(t *testing.T) {
		dir := oneChannelApp(t, tlsURL)
		p := startRedspin(t, runOpts{env: []string{"SSL_CERT_FILE=" + rs.CAFile}}, upArgs(dir)...)
		p.waitSubscribed(rs.TLSAddr())
		publishAndExpect(t, p, rs, dir, "print:verified-tls")
	})
}

// publishAndExpect publishes msg ("print:<text>") on ch, waits for echo to
// print it, and stops redspin with SIGTERM expecting exit 0.
func publishAndExpect(t *testing.T, p *proc, rs *redisserver.Server, dir, msg string) {
	t.Helper()
	if err := rs.Client().Publish(ctx(t), "ch", msg).Err(); err != nil {
		t.Fatal(err)
	}
	text := strings.TrimPrefix(msg, "print:")
	p.waitFor("the message", func() bool { return hasLine(logFile(dir, "echo", "stdout"), text) })
	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.output())
	}
}

// An ACL user:password@ URL works, and neither that password nor the
// default user's ever appears in redspin's output (stdout, stderr, log
// files), in `up` or `check`, or when the password is wrong.
func TestACLUser(t *testing.T) {
	t.Parallel()
	alice := redisserver.User{Name: "alice", Password: "s3cret-Alice-pw"}
	rs := redisserver.Start(t, redisserver.Options{Password: "default-Pw-xyz", Users: []redisserver.User{alice}})
	secrets := []string{alice.Password, "default-Pw-xyz", url.QueryEscape(alice.Password), "wr0ng-Pass-word"}
	noSecrets := func(t *testing.T, where, text string) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s contains a password (%q):\n%s", where, s, text)
			}
		}
	}

	t.Run("up", func(t *testing.T) {
		dir := oneChannelApp(t, rs.UserURL(alice))
		p := startRedspin(t, runOpts{}, upArgs(dir, "--log-level", "debug")...)
		p.waitSubscribed(rs.Addr())
		// The subscriber is authenticated as alice.
		clients, err := rs.Client().ClientList(ctx(t)).Result()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(clients, "user=alice") || !strings.Contains(clients, "sub=1") {
			t.Errorf("no subscriber authenticated as alice:\n%s", clients)
		}
		publishAndExpect(t, p, rs, dir, "print:acl-ok")
		noSecrets(t, "stdout", p.stdout.String())
		noSecrets(t, "stderr", p.stderr.String())
		noSecrets(t, "the log files", logFile(dir, "echo", "stdout")+logFile(dir, "echo", "stderr"))
	})
	t.Run("check", func(t *testing.T) {
		dir := oneChannelApp(t, rs.UserURL(alice))
		code, out, errOut := runRedspin(t, runOpts{}, "check", "-f", dir, "--cache-dir", cacheDir)
		if code != 0 || !strings.Contains(out, "Redis "+rs.Addr()+":") {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
		noSecrets(t, "check's output", out+errOut)
	})
	t.Run("wrong-password", func(t *testing.T) {
		dir := oneChannelApp(t, rs.UserURL(redisserver.User{Name: "alice", Password: "wr0ng-Pass-word"}))
		code, out, errOut := runRedspin(t, runOpts{}, upArgs(dir, "--log-level", "debug")...)
		if code != 1 || !strings.Contains(errOut, "Redis trigger failed to connect to "+rs.Addr()) {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
		if !strings.Contains(errOut, "WRONGPASS") {
			t.Errorf("the error does not say the credentials are wrong:\n%s", errOut)
		}
		noSecrets(t, "the output", out+errOut)
		t.Logf("wrong password: exit %d, %s", code, errorLine(errOut))
	})
}

// redis+unix:// and unix:// socket URLs.
func TestUnixSocket(t *testing.T) {
	t.Parallel()
	rs := redisserver.Start(t, redisserver.Options{Unix: true})
	for _, scheme := range []string{"redis+unix", "unix"} {
		t.Run(scheme, func(t *testing.T) {
			dir := oneChannelApp(t, scheme+"://"+rs.Socket)
			p := startRedspin(t, runOpts{}, upArgs(dir)...)
			p.waitSubscribed(rs.Socket)
			if want := "\t" + rs.Socket + "/ch: [echo]\n"; !strings.Contains(p.stdout.String(), want) {
				t.Errorf("stdout lacks %q\n%s", want, p.output())
			}
			// Subscribed over the socket, not TCP.
			clients, err := rs.Client().ClientList(ctx(t)).Result()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(clients, "sub=1") || !strings.Contains(clients, "laddr="+rs.Socket) {
				t.Errorf("no subscriber on the socket:\n%s", clients)
			}
			publishAndExpect(t, p, rs, dir, "print:via-"+scheme)
		})
	}
}

// errorLine returns the "Error: ..." line of stderr.
func errorLine(stderr string) string {
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "Error: ") {
			return l
		}
	}
	return "(no Error: line)"
}

// A Redis that stops answering without closing the connection (SIGSTOP on
// the redis-server this test started): the health-check PING notices within
// about twice its 5 s interval, /healthz turns 503, and after SIGCONT redspin
// resubscribes and handles new messages.
func TestHungRedis(t *testing.T) {
	t.Parallel()
	rs := redisserver.Start(t, redisserver.Options{})
	dir := oneChannelApp(t, rs.URL())
	p := startRedspin(t, runOpts{}, upArgs(dir, "--listen-admin", "127.0.0.1:0")...)
	admin := p.adminAddr()
	p.waitSubscribed(rs.Addr())
	pid := rs.Pid()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	}
	defer resume()
	begin := time.Now()
	waitUntil(t, "/healthz 503 while Redis is hung", func() bool { code, _ := probe(admin, "/healthz"); return code == http.StatusServiceUnavailable })
	t.Logf("/healthz 503 %s after SIGSTOP", time.Since(begin).Round(100*time.Millisecond))
	p.waitStderr("no reply to PING within")
	resume()
	p.waitStderr("reconnected to Redis and resubscribed")
	waitUntil(t, "/healthz 200 after SIGCONT", func() bool { code, _ := probe(admin, "/healthz"); return code == http.StatusOK })
	publishAndExpect(t, p, rs, dir, "print:after-hang")
	if s := exitSummary(t, p.stderr.String()); s.reconnects < 1 || s.received != 1 || s.handled != 1 {
		t.Errorf("summary %+v", s)
	}
}
