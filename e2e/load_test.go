//go:build unix

package e2e

import (
	"bufio"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redspin/redspin/internal/testutil/redisserver"
)

// SIGTERM while a handler is running: redspin stops reading, discards what
// is queued, lets the in-flight handler finish, prints the summary and exits
// 0. The slow handler is `alloc:1024` (touches 1 GiB of guest memory: about
// a second); it is known to be in flight when /metrics shows the message
// received and the queue holding only the one after it.
func TestSIGTERMLetsInFlightHandlerFinish(t *testing.T) {
	t.Parallel()
	rs := redisserver.Start(t, redisserver.Options{})
	dir := oneChannelApp(t, rs.URL())
	p := startRedspin(t, runOpts{}, upArgs(dir, "--listen-admin", "127.0.0.1:0")...)
	admin := p.adminAddr()
	p.waitSubscribed(rs.Addr())
	for _, msg := range []string{"alloc:1024", "print:queued-behind"} {
		if err := rs.Client().Publish(ctx(t), "ch", msg).Err(); err != nil {
			t.Fatal(err)
		}
	}
	waitSteady(t, "the first message in flight and the second queued", func() bool {
		m := scrape(t, admin)
		return m.sum(mReceived) == 2 && m.sum(mQueueDepth) == 1
	})
	if m := scrape(t, admin); m.sum(mHandled) != 0 {
		t.Fatalf("the slow handler finished before SIGTERM (%v handled); the test needs a slower one", m.sum(mHandled))
	}
	p.signal(syscall.SIGTERM)
	code := p.wait(exitTimeout)
	errOut := p.stderr.String()
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, p.output())
	}
	// The handler finished after shutdown began, and its output is there.
	shut := strings.Index(errOut, "shutting down")
	done := strings.Index(errOut, "alloc:1024 ok\n")
	if shut < 0 || done < 0 || done < shut {
		t.Errorf("want the handler's output after the shutdown line\n%s", errOut)
	}
	if got := logFile(dir, "echo", "stdout"); got != "alloc:1024 ok\n" {
		t.Errorf("component stdout %q", got)
	}
	if !strings.Contains(errOut, "shutdown: dropped queued messages that had not started") {
		t.Errorf("no line about the discarded queued message\n%s", errOut)
	}
	if s := exitSummary(t, errOut); s != (summary{received: 2, handled: 1, dropped: 1}) {
		t.Errorf("summary %+v, want 2 received, 1 handled, 1 dropped", s)
	}
}

// A second signal exits at once, without waiting for the handler, with
// the shell's code for a death by that signal (130 for SIGINT, 143 for
// SIGTERM); both signals work even when redspin starts with SIGINT ignored
// (a background job of a script). Repeated under load (a loop in flight
// and a publisher keeping the other worker busy), since the second signal
// was once lost in about one run in ten: the second signal is sent as soon
// as redspin acknowledges the first, which is the earliest moment a second
// signal can count (see handleSignals in cmd/redspin).
func TestSecondSignalExitsAtOnce(t *testing.T) {
	t.Parallel()
	rs := redisserver.Start(t, redisserver.Options{})
	dir := oneChannelApp(t, rs.URL())
	client := rs.Client()
	const rounds = 6
	for i := range rounds {
		sig, code := syscall.SIGTERM, 143
		if i%2 == 1 {
			sig, code = syscall.SIGINT, 130
		}
		p := startRedspin(t, runOpts{ignoreSIGINT: sig == syscall.SIGINT},
			upArgs(dir, "--listen-admin", "127.0.0.1:0", "--handler-timeout", "0", "--max-concurrency", "2", "--quiet")...)
		admin := p.adminAddr()
		p.waitSubscribed(rs.Addr())
		if err := client.Publish(ctx(t), "ch", "loop").Err(); err != nil {
			t.Fatal(err)
		}
		waitSteady(t, "the loop in flight", func() bool {
			m := scrape(t, admin)
			return m.sum(mReceived) == 1 && m.sum(mQueueDepth) == 0
		})
		stop := make(chan struct{})
		var load sync.WaitGroup
		load.Go(func() {
			for range 5000 {
				select {
				case <-stop:
					return
				default:
				}
				_ = client.Publish(ctx(t), "ch", "print:load").Err()
			}
		})
		p.waitFor("load being handled", func() bool { return scrape(t, admin).sum(mHandled) >= 20 })
		p.signal(sig)
		p.waitStderr("received signal: shutting down; send it again to exit at once")
		if p.exited() {
			t.Fatalf("round %d: exited on the first signal with a handler in flight\n%s", i, p.output())
		}
		begin := time.Now()
		p.signal(sig)
		got := p.wait(exitTimeout)
		close(stop)
		load.Wait()
		if got != code || !strings.Contains(p.stderr.String(), "second signal: exiting without waiting for handlers") {
			t.Fatalf("round %d: exit %d after the second %v; want %d and a line saying why\n%s", i, got, sig, code, p.output())
		}
		t.Logf("round %d: exit %d %s after the second %v", i, got, time.Since(begin).Round(time.Millisecond), sig)
	}
}

// A slow handler and a fast publisher, against a Redis whose pub/sub
// output-buffer limit is set low: redspin keeps reading, so Redis never
// disconnects it; the overflow of its small queue is dropped and counted in
// /metrics, and every message is accounted for (handled or dropped). A raw
// subscriber that does not read is disconnected by the same load, which
// shows the limit is real.
func TestSlowHandlerFastPublisher(t *testing.T) {
	t.Parallel()
	rs := redisserver.Start(t, redisserver.Options{})
	if err := rs.Client().ConfigSet(ctx(t), "client-output-buffer-limit", "pubsub 4mb 2mb 60").Err(); err != nil {
		t.Fatal(err)
	}
	dir := oneChannelApp(t, rs.URL())
	p := startRedspin(t, runOpts{}, upArgs(dir, "--listen-admin", "127.0.0.1:0", "--queue-size", "5", "--quiet")...)
	admin := p.adminAddr()
	p.waitSubscribed(rs.Addr())
	subID := subscriberID(t, rs, "")

	// The control: subscribes, then never reads.
	control, err := net.Dial("tcp", rs.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer control.Close()
	if _, err := io.WriteString(control, "SUBSCRIBE ch\r\n"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the control subscribed", func() bool {
		n, err := rs.Client().PubSubNumSub(ctx(t), "ch").Result()
		return err == nil && n["ch"] == 2
	})

	// 2,000 messages of 8 KiB (16 MiB, 4 times the hard limit; 4 MiB leaves
	// a -race redspin on a loaded machine room for a stall of ~250 ms) in 1 s:
	// pipelined batches of 20 every 10 ms. Each is `alloc:16` (a few ms in
	// the guest, so the handler keeps up with less than 1 message in 10),
	// padded.
	const n, batch = 2000, 20
	payload := "alloc:16 " + strings.Repeat("x", 8<<10)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < n; i += batch {
		<-tick.C
		pipe := rs.Client().Pipeline()
		for range batch {
			pipe.Publish(ctx(t), "ch", payload)
		}
		if _, err := pipe.Exec(ctx(t)); err != nil {
			t.Fatal(err)
		}
	}

	var m metrics
	waitUntil(t, "every message received and the queue drained", func() bool {
		m = scrape(t, admin)
		return m.sum(mReceived) == n && m.sum(mQueueDepth) == 0 &&
			m.sum(mHandled)+m.sum(mDropped, `reason="queue_full"`) == n
	})
	dropped := m.sum(mDropped, `reason="queue_full"`)
	if dropped == 0 || m.sum(mHandled) == 0 {
		t.Errorf("handled %v, dropped %v: want both > 0", m.sum(mHandled), dropped)
	}
	if m.sum(mReconnects) != 0 || m.sum(mConnected) != 1 {
		t.Errorf("reconnects %v, connected %v: redspin lost its connection", m.sum(mReconnects), m.sum(mConnected))
	}
	// Still the same subscriber connection on the server.
	if id := subscriberID(t, rs, control.LocalAddr().String()); id != subID {
		t.Errorf("redspin's subscriber connection changed (%s → %s)", subID, id)
	}
	// The control was disconnected by Redis for its output buffer, and
	// redspin was not.
	waitUntil(t, "Redis to close the control connection", func() bool {
		list, err := rs.Client().ClientList(ctx(t)).Result()
		return err == nil && !strings.Contains(list, "addr="+control.LocalAddr().String()+" ")
	})
	if log, _ := os.ReadFile(filepath.Join(rs.Dir, "redis.log")); !strings.Contains(string(log), "overcoming of output buffer limits") ||
		strings.Count(string(log), "overcoming of output buffer limits") != 1 {
		t.Errorf("want exactly one output-buffer disconnection (the control) in redis.log:\n%s", log)
	}
	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.output())
	}
	// Checked after exit, when every log line has reached the pipe.
	if strings.Contains(p.stderr.String(), "lost connection") {
		t.Errorf("redspin lost its connection:\n%s", p.stderr)
	}
	if !strings.Contains(p.stderr.String(), "queue full: dropped messages") {
		t.Errorf("no drop line:\n%s", p.stderr)
	}
	s := exitSummary(t, p.stderr.String())
	if s.received != n || s.handled+s.dropped != n || s.dropped != int(dropped) {
		t.Errorf("summary %+v, /metrics dropped %v", s, dropped)
	}
	t.Logf("handled %d, dropped %d of %d", s.handled, s.dropped, n)
}

// subscriberID returns the client id of the one subscribed connection
// whose address is not exclude (redspin's).
func subscriberID(t *testing.T, rs *redisserver.Server, exclude string) string {
	t.Helper()
	list, err := rs.Client().ClientList(ctx(t)).Result()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	sc := bufio.NewScanner(strings.NewReader(list))
	for sc.Scan() {
		f := map[string]string{}
		for _, kv := range strings.Fields(sc.Text()) {
			k, v, _ := strings.Cut(kv, "=")
			f[k] = v
		}
		if f["sub"] == "1" && f["addr"] != exclude {
			ids = append(ids, f["id"])
		}
	}
	if len(ids) != 1 {
		t.Fatalf("want one subscriber, got %d:\n%s", len(ids), list)
	}
	return ids[0]
}
