//go:build unix

package e2e

import (
	"fmt"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redspin/redspin/internal/testutil/redisserver"
)

// oneChannelApp is an app with one channel "ch" and one C component "echo"
// at address.
func oneChannelApp(t testing.TB, address string) string {
	t.Helper()
	return channelApp(t, address, "echo", "@C@", "")
}

// channelApp is an app whose channel "ch" at address runs component id
// from source; extra is appended to the manifest (more keys of the
// component, more triggers and components).
func channelApp(t testing.TB, address, id, source, extra string) string {
	t.Helper()
	return app(t, fmt.Sprintf(`spin_manifest_version = 2
[application]
name = "one"
[application.trigger.redis]
address = %q
[[trigger.redis]]
channel = "ch"
component = %[2]q
[component.%[2]s]
source = %[3]q
%[4]s`, address, id, source, extra))
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
		// Refused credentials are final: no retry.
		if strings.Contains(errOut, "retrying") {
			t.Errorf("an authentication failure was retried:\n%s", errOut)
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
