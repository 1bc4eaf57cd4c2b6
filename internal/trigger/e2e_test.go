package trigger

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/admin"
	"github.com/redspin/redspin/internal/testutil/redisserver"
)

// End-to-end tests against a real redis-server. They skip when it is not
// installed, unless REDSPIN_E2E=1.

func TestE2EConnectionKinds(t *testing.T) {
	alice := redisserver.User{Name: "alice", Password: "in-wonderland"}
	rs := redisserver.Start(t, redisserver.Options{TLS: true, Unix: true, Users: []redisserver.User{alice}})
	for _, tc := range []struct {
		name    string
		display string
		opts    *redis.UniversalOptions
	}{
		{"resp2", rs.Addr(), &redis.UniversalOptions{Addrs: []string{rs.Addr()}, Protocol: 2}},
		{"resp3", rs.Addr(), &redis.UniversalOptions{Addrs: []string{rs.Addr()}, Protocol: 3}},
		{"tls", rs.TLSAddr(), &redis.UniversalOptions{Addrs: []string{rs.TLSAddr()}, Protocol: 2, TLSConfig: rs.TLSConfig()}},
		{"acl-user", rs.Addr(), &redis.UniversalOptions{Addrs: []string{rs.Addr()}, Protocol: 2, Username: alice.Name, Password: alice.Password}},
		{"unix", rs.Socket, &redis.UniversalOptions{Addrs: []string{rs.Socket}, Protocol: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			ch := "kinds-" + tc.name
			hs := started(t, Config{Servers: []Server{{Display: tc.display, Options: tc.opts,
				Channels: []Channel{{Name: ch, Components: []string{"a", "b"}}}}}}, rec)
			want := fmt.Sprintf("Active Channels on %[1]s:\n\t%[1]s/%[2]s: [a,b]\n", tc.display, ch)
			if got := hs.stdout.String(); got != want {
				t.Errorf("stdout %q, want %q", got, want)
			}
			binary := "\x00\xff" + tc.name
			for _, p := range []string{binary, ""} {
				if err := rs.Client().Publish(context.Background(), ch, p).Err(); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, 5*time.Second, "4 invocations", func() bool { return rec.count() == 4 })
			for _, c := range []string{"a", "b"} {
				if got := rec.payloads(c); !slices.Equal(got, []string{binary, ""}) {
					t.Errorf("%s got %q", c, got)
				}
			}
			if strings.Contains(hs.logs.String(), alice.Password) {
				t.Error("logs contain the password")
			}
		})
	}
}

func TestE2EAuthFailure(t *testing.T) {
	rs := redisserver.Start(t, redisserver.Options{Password: "server-pw"})
	const wrong = "not-the-password-42"
	hs := newHarness(t, Config{ConnectRetry: -1, Servers: []Server{{Display: rs.Addr(),
		Options:  &redis.UniversalOptions{Addrs: []string{rs.Addr()}, Password: wrong, Protocol: 2},
		Channels: []Channel{{Name: "c", Components: []string{"x"}}}}}}, &recorder{})
	err := <-hs.done
	hs.done <- err
	if err == nil || !strings.HasPrefix(err.Error(), "Redis trigger failed to connect to "+rs.Addr()+": ") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), wrong) {
		t.Fatalf("error contains the password: %v", err)
	}
}

// A slow handler and a fast publisher: the reader keeps draining the socket,
// so Redis never hits its pub/sub output-buffer limit and disconnects us; the
// overflow is dropped and counted instead. A control subscriber that reads
// at the handler's pace, as Spin does, is disconnected by the same load.
func TestE2ESlowHandlerFastPublisher(t *testing.T) {
	// A 4 MiB hard limit (default 32 MiB) keeps the test small.
	rs := redisserver.Start(t, redisserver.Options{Args: []string{"--client-output-buffer-limit", "pubsub 4mb 2mb 60"}})
	release := make(chan struct{})
	slow := func() {
		select {
		case <-release:
		case <-time.After(2 * time.Millisecond):
		}
	}
	rec := &recorder{fn: func(ctx context.Context, _ string, _ []byte) error { slow(); return nil }}
	hs := started(t, Config{QueueSize: 1000, Servers: []Server{{Display: rs.Addr(),
		Options:  &redis.UniversalOptions{Addrs: []string{rs.Addr()}, Protocol: 2},
		Channels: []Channel{{Name: "flood", Components: []string{"slow"}}}}}}, rec)
	srv := httpAdmin(t, hs.tr)

	ctx := context.Background()
	control := redis.NewClient(&redis.Options{Addr: rs.Addr(), Protocol: 2}).Subscribe(ctx, "flood")
	defer control.Close()
	if _, err := control.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	controlErr := make(chan error, 1)
	go func() {
		for {
			if _, err := control.ReceiveTimeout(ctx, 20*time.Second); err != nil {
				controlErr <- err
				return
			}
			slow()
		}
	}()

	// 12 MiB at 5,000 messages/s: ten times faster than the handler, well
	// within what the reader drains.
	const n, batch = 12_000, 100
	payload := strings.Repeat("x", 1024)
	pub := rs.Client()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	pubStart := time.Now()
	for i := 0; i < n; i += batch {
		<-tick.C
		pipe := pub.Pipeline()
		for range batch {
			pipe.Publish(ctx, "flood", payload)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 30*time.Second, "every message read off the socket", func() bool { return hs.tr.Stats().Received == n })
	pubSeconds := time.Since(pubStart).Seconds()
	st := hs.tr.Stats()
	if st.Reconnects != 0 || len(hs.logLines("lost connection")) != 0 {
		t.Fatalf("Redis disconnected the subscriber: %+v", st)
	}
	select {
	case err := <-controlErr:
		t.Logf("control subscriber (Spin-style sequential reads) was disconnected, as expected: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("the control subscriber was not disconnected: the load does not exercise the output-buffer limit")
	}
	if st.Dropped == 0 {
		t.Fatalf("no drops with a 1000-message queue and a slow handler: %+v", st)
	}
	// A message is counted received before the lane drops it, and a drop
	// reaches the stats before /metrics: poll until they agree.
	waitFor(t, 10*time.Second, "/metrics to show the drops", func() bool {
		code, body := get(t, srv+"/metrics")
		wantLine := fmt.Sprintf(`redspin_messages_dropped_total{channel="flood",reason="queue_full",server=%q} %d`, rs.Addr(), hs.tr.Stats().Dropped)
		return code == 200 && strings.Contains(body, wantLine)
	})
	if got := hs.metric(admin.MetricReceived, nil); got != n {
		t.Errorf("received metric %v, want %d", got, n)
	}
	// Rate-limited to one a second (plus the first).
	if lines := hs.logLines("queue full"); len(lines) == 0 || float64(len(lines)) > pubSeconds+2 {
		t.Errorf("want a few rate-limited drop lines over %.1f s of publishing, got %d", pubSeconds, len(lines))
	}
	close(release)
	waitFor(t, 30*time.Second, "queue drained", func() bool {
		s := hs.tr.Stats()
		return s.Handled+s.Dropped == n
	})
}

// Redis is killed and restarted while a publisher is running: the trigger
// reports unhealthy, reconnects, resubscribes and handles later messages in
// order.
func TestE2ERedisRestartUnderLoad(t *testing.T) {
	rs := redisserver.Start(t, redisserver.Options{})
	rec := &recorder{}
	hs := started(t, Config{Servers: []Server{{Display: rs.Addr(),
		Options:  &redis.UniversalOptions{Addrs: []string{rs.Addr()}, Protocol: 2, MaxRetries: -1},
		Channels: []Channel{{Name: "load", Components: []string{"x"}}}}}}, rec)
	srv := httpAdmin(t, hs.tr)

	var seq atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		pub := redis.NewClient(&redis.Options{Addr: rs.Addr(), Protocol: 2, MaxRetries: -1})
		defer pub.Close()
		for i := 0; i < 1_000_000; i++ { // bounded
			select {
			case <-stop:
				return
			default:
			}
			if err := pub.Publish(context.Background(), "load", strconv.FormatInt(seq.Load(), 10)).Err(); err == nil {
				seq.Add(1)
			} else {
				time.Sleep(5 * time.Millisecond)
			}
		}
	})
	defer func() { close(stop); wg.Wait() }()

	waitFor(t, 10*time.Second, "load flowing", func() bool { return rec.count() > 200 })
	rs.Kill()
	waitFor(t, 5*time.Second, "unhealthy", func() bool { return !hs.tr.Healthy() })
	if code := probe(t, srv, "/healthz"); code != 503 {
		t.Errorf("/healthz = %d while Redis is down", code)
	}
	rs.Restart()
	waitFor(t, 15*time.Second, "reconnected", func() bool { return hs.tr.Healthy() && hs.tr.Stats().Reconnects == 1 })
	if code := probe(t, srv, "/healthz"); code != 200 {
		t.Errorf("/healthz = %d after reconnect", code)
	}
	after := rec.count()
	waitFor(t, 10*time.Second, "messages after reconnect", func() bool { return rec.count() > after+200 })

	got := rec.payloads("x")
	prev := -1
	for _, p := range got {
		v, _ := strconv.Atoi(p)
		if v <= prev {
			t.Fatalf("out of order: %d after %d", v, prev)
		}
		prev = v
	}
	if st := hs.tr.Stats(); st.Failed != 0 || st.Dropped != 0 {
		t.Errorf("stats = %+v", st)
	}
}

// Credentials Redis refuses fail the startup at once, with Redis's answer
// (and never the password); a refused connection is still retried.
func TestE2EAuthFailureIsNotRetried(t *testing.T) {
	rs := redisserver.Start(t, redisserver.Options{Password: "right-password"})
	if err := rs.Client().Do(context.Background(), "ACL", "SETUSER", "limited", "on", ">limited-pw", "~*", "&other", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, want string
		opts       *redis.UniversalOptions
	}{
		{"no password", "NOAUTH", &redis.UniversalOptions{Addrs: []string{rs.Addr()}, Protocol: 2}},
		{"wrong password", "WRONGPASS", &redis.UniversalOptions{Addrs: []string{rs.Addr()}, Protocol: 2, Password: "wrong-password"}},
		{"wrong password resp3", "WRONGPASS", &redis.UniversalOptions{Addrs: []string{rs.Addr()}, Protocol: 3, Password: "wrong-password"}},
		{"unknown user", "WRONGPASS", &redis.UniversalOptions{Addrs: []string{rs.Addr()}, Protocol: 2, Username: "nobody", Password: "wrong-password"}},
		{"no permission on the channel", "NOPERM", &redis.UniversalOptions{Addrs: []string{rs.Addr()}, Protocol: 2, Username: "limited", Password: "limited-pw"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A long retry budget: an error that is retried shows as a
			// "retrying" line and a slow return.
			hs := newHarness(t, Config{ConnectRetry: time.Minute, Servers: []Server{{Display: tc.opts.Addrs[0], Options: tc.opts,
				Channels: []Channel{{Name: "c", Components: []string{"x"}}}}}}, &recorder{})
			var err error
			select {
			case err = <-hs.done:
				hs.done <- err
			case <-time.After(10 * time.Second):
				t.Fatalf("Run still retrying after 10 s\n%s", hs.logs.String())
			}
			if err == nil || !strings.Contains(err.Error(), "Redis trigger failed to connect to "+tc.opts.Addrs[0]) ||
				!strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "authentication failed") {
				t.Errorf("Run = %v, want a failure quoting %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "wrong-password") || strings.Contains(hs.logs.String(), "wrong-password") {
				t.Errorf("the password leaked: %v\n%s", err, hs.logs.String())
			}
			if n := len(hs.logLines("retrying")); n != 0 {
				t.Errorf("%d retry lines for an authentication failure:\n%s", n, hs.logs.String())
			}
		})
	}
}

// When Redis kills the pub/sub connection, redspin resubscribes on one new
// connection of its own session. go-redis's own reconnection (inside the
// failing Receive, before redspin closes that PubSub) must not open a
// second one: a message published to that short-lived subscription would
// be counted by PUBLISH and lost.
func TestE2EOneConnectionPerReconnect(t *testing.T) {
	rs := redisserver.Start(t, redisserver.Options{})
	hs := started(t, Config{Servers: []Server{{Display: rs.Addr(), Options: &redis.UniversalOptions{Addrs: []string{rs.Addr()}, Protocol: 2},
		Channels: []Channel{{Name: "c", Components: []string{"x"}}}}}}, &recorder{})
	ctx := context.Background()
	admin := rs.Client() // one connection, opened before the first count
	connections := func() int {
		info, err := admin.Info(ctx, "stats").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(l, "total_connections_received:"); ok {
				n, _ := strconv.Atoi(v)
				return n
			}
		}
		t.Fatal("no total_connections_received in INFO stats")
		return 0
	}
	for i := range 3 {
		before := connections()
		if n, err := admin.ClientKillByFilter(ctx, "TYPE", "pubsub").Result(); err != nil || n != 1 {
			t.Fatalf("CLIENT KILL TYPE pubsub: %d, %v", n, err)
		}
		waitFor(t, 10*time.Second, "resubscribed", func() bool { return hs.tr.Stats().Reconnects == uint64(i+1) && hs.tr.Healthy() })
		if got := connections() - before; got != 1 {
			t.Errorf("kill %d: %d connections to resubscribe, want 1\n%s", i+1, got, hs.logs.String())
		}
	}
}
