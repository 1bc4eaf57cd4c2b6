package trigger

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/admin"
	"github.com/redspin/redspin/internal/observe"
)

func TestFanOutBinaryAndEmptyPayloads(t *testing.T) {
	mr := miniredis.RunT(t)
	rec := &recorder{}
	// Channels given unsorted: output and subscription order must be sorted.
	hs := started(t, Config{Servers: []Server{miniServer(mr,
		Channel{Name: "zeta", Components: []string{"solo"}},
		Channel{Name: "alpha", Components: []string{"first", "second"}},
	)}}, rec)

	want := fmt.Sprintf("Active Channels on %[1]s:\n\t%[1]s/alpha: [first,second]\n\t%[1]s/zeta: [solo]\n", mr.Addr())
	if got := hs.stdout.String(); got != want {
		t.Fatalf("stdout:\n%q\nwant:\n%q", got, want)
	}
	if n := mr.PubSubNumSub("alpha", "zeta"); n["alpha"] != 1 || n["zeta"] != 1 {
		t.Fatalf("subscribers = %v, want one per channel", n)
	}
	if got := mr.PubSubNumPat(); got != 0 {
		t.Fatalf("pattern subscriptions = %d, want 0 (plain SUBSCRIBE only)", got)
	}

	binary := string([]byte{0, 0xff, 0xfe, '\n', 0x80, 0})
	pub := publisher(t, mr.Addr())
	ctx := context.Background()
	for _, p := range []string{"hello", "", binary} {
		if err := pub.Publish(ctx, "alpha", p).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Publish(ctx, "zeta", "z").Err(); err != nil {
		t.Fatal(err)
	}
	// Handled is counted after a handler returns, its invocation when it
	// starts: wait for both.
	waitFor(t, 5*time.Second, "7 invocations handled", func() bool { return rec.count() == 7 && hs.tr.Stats().Handled == 7 })

	for _, comp := range []string{"first", "second"} {
		if got := rec.payloads(comp); !slices.Equal(got, []string{"hello", "", binary}) {
			t.Errorf("%s got %q", comp, got)
		}
	}
	if got := rec.payloads("solo"); !slices.Equal(got, []string{"z"}) {
		t.Errorf("solo got %q", got)
	}
	st := hs.tr.Stats()
	if st.Received != 4 || st.Handled != 7 || st.Failed != 0 || st.Dropped != 0 {
		t.Errorf("stats = %+v", st)
	}
	if got := hs.metric(admin.MetricReceived, map[string]string{"channel": "alpha", "server": mr.Addr()}); got != 3 {
		t.Errorf("received{alpha} = %v, want 3", got)
	}
	if got := hs.metric(admin.MetricHandled, map[string]string{"component": "first"}); got != 3 {
		t.Errorf("handled{first} = %v, want 3", got)
	}
	if got := hs.metric(admin.MetricHandlerDuration, map[string]string{"component": "second"}); got != 3 {
		t.Errorf("duration samples{second} = %v, want 3", got)
	}
	if err := hs.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestFanOutRunsComponentsConcurrently(t *testing.T) {
	mr := miniredis.RunT(t)
	// Each component waits until both have started: only passes if they overlap.
	var entered sync.WaitGroup
	entered.Add(2)
	both := make(chan struct{})
	go func() { entered.Wait(); close(both) }()
	rec := &recorder{fn: func(ctx context.Context, _ string, _ []byte) error {
		entered.Done()
		select {
		case <-both:
			return nil
		case <-time.After(5 * time.Second):
			return errors.New("components did not run concurrently")
		}
	}}
	hs := started(t, Config{Servers: []Server{miniServer(mr, Channel{Name: "c", Components: []string{"a", "b"}})}}, rec)
	mr.Publish("c", "x")
	waitFor(t, 10*time.Second, "both handled", func() bool { return hs.tr.Stats().Handled+hs.tr.Stats().Failed == 2 })
	if st := hs.tr.Stats(); st.Handled != 2 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestOrderedPerChannel(t *testing.T) {
	mr := miniredis.RunT(t)
	var mu sync.Mutex
	finished := map[string][]string{} // completion order per component
	rec := &recorder{fn: func(ctx context.Context, comp string, p []byte) error {
		// uneven handler time: with any overlap, completion order would differ
		if p[len(p)-1]%3 == 0 {
			time.Sleep(200 * time.Microsecond)
		}
		mu.Lock()
		finished[comp] = append(finished[comp], string(p))
		mu.Unlock()
		return nil
	}}
	started(t, Config{Servers: []Server{miniServer(mr,
		Channel{Name: "one", Components: []string{"c1"}},
		Channel{Name: "two", Components: []string{"c2"}},
	)}}, rec)
	pub := publisher(t, mr.Addr())
	const n = 500
	pipe := pub.Pipeline()
	for i := range n {
		pipe.Publish(context.Background(), "one", strconv.Itoa(i))
		pipe.Publish(context.Background(), "two", strconv.Itoa(i))
	}
	if _, err := pipe.Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "all handled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(finished["c1"])+len(finished["c2"]) == 2*n
	})
	mu.Lock()
	defer mu.Unlock()
	for _, comp := range []string{"c1", "c2"} {
		got := finished[comp]
		for i, p := range got {
			if p != strconv.Itoa(i) {
				t.Fatalf("%s: message %d is %q: out of order (first 20: %v)", comp, i, p, got[:20])
			}
		}
	}
}

func TestMaxConcurrencyOverlaps(t *testing.T) {
	for _, tc := range []struct{ conc, want int }{{1, 1}, {4, 4}} {
		t.Run(strconv.Itoa(tc.conc), func(t *testing.T) {
			mr := miniredis.RunT(t)
			var active, peak atomic.Int32
			release := make(chan struct{})
			var releaseOnce sync.Once
			defer releaseOnce.Do(func() { close(release) }) // also when a wait fails
			rec := &recorder{fn: func(ctx context.Context, _ string, _ []byte) error {
				n := active.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				<-release
				active.Add(-1)
				return nil
			}}
			hs := started(t, Config{MaxConcurrency: tc.conc,
				Servers: []Server{miniServer(mr, Channel{Name: "c", Components: []string{"x"}})}}, rec)
			for i := range 4 {
				mr.Publish("c", strconv.Itoa(i))
			}
			// All 4 are either running or queued; queued ones show in the depth gauge.
			depth := map[string]string{"channel": "c"}
			waitFor(t, 5*time.Second, "4 messages running or queued", func() bool {
				return int(active.Load())+int(hs.metric(admin.MetricQueueDepth, depth)) == 4 && int(active.Load()) == tc.want
			})
			releaseOnce.Do(func() { close(release) })
			waitFor(t, 5*time.Second, "4 handled", func() bool { return hs.tr.Stats().Handled == 4 })
			if got := int(peak.Load()); got != tc.want {
				t.Fatalf("peak concurrency = %d, want %d", got, tc.want)
			}
		})
	}
}

// blockFirst returns a handler that blocks on the first message until
// release is closed, and a channel closed once that first message started.
func blockFirst() (*recorder, chan struct{}, chan struct{}) {
	first, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	rec := &recorder{fn: func(ctx context.Context, _ string, _ []byte) error {
		once.Do(func() { close(first); <-release })
		return nil
	}}
	return rec, first, release
}

func TestDropPolicies(t *testing.T) {
	for _, tc := range []struct {
		policy string
		want   []string
	}{
		{DropNewest, []string{"m1", "m2", "m3"}},
		{DropOldest, []string{"m1", "m9", "m10"}},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			mr := miniredis.RunT(t)
			rec, first, release := blockFirst()
			hs := started(t, Config{QueueSize: 2, Drop: tc.policy, Servers: []Server{miniServer(mr,
				Channel{Name: "slow", Components: []string{"c"}},
				Channel{Name: "other", Components: []string{"o"}},
			)}}, rec)
			mr.Publish("slow", "m1")
			<-first
			for i := 2; i <= 10; i++ {
				mr.Publish("slow", fmt.Sprintf("m%d", i))
			}
			waitFor(t, 5*time.Second, "10 received", func() bool { return hs.tr.Stats().Received == 10 })
			// Another lane is unaffected by the full one.
			mr.Publish("other", "free")
			waitFor(t, 5*time.Second, "other lane handled", func() bool { return len(rec.payloads("o")) == 1 })

			lane := map[string]string{"channel": "slow", "server": mr.Addr()}
			if got := hs.tr.Stats().Dropped; got != 7 {
				t.Errorf("dropped = %d, want 7", got)
			}
			if got := hs.metric(admin.MetricDropped, map[string]string{"channel": "slow", "reason": observe.DropQueueFull}); got != 7 {
				t.Errorf("dropped metric = %v, want 7", got)
			}
			if got := hs.metric(admin.MetricQueueDepth, lane); got != 2 {
				t.Errorf("queue depth = %v, want 2", got)
			}
			waitFor(t, 3*time.Second, "drop log line", func() bool { return len(hs.logLines("queue full")) > 0 })
			if lines := hs.logLines("queue full"); !strings.Contains(lines[0], "channel=slow") || !strings.Contains(lines[0], "level=WARN") {
				t.Errorf("drop log: %q", lines)
			}
			close(release)
			waitFor(t, 5*time.Second, "3 handled on slow", func() bool { return len(rec.payloads("c")) == 3 })
			if got := rec.payloads("c"); !slices.Equal(got, tc.want) {
				t.Errorf("handled %q, want %q", got, tc.want)
			}
			if got := hs.metric(admin.MetricQueueDepth, lane); got != 0 {
				t.Errorf("queue depth after drain = %v, want 0", got)
			}
		})
	}
}

func TestQueueBytesBound(t *testing.T) {
	mr := miniredis.RunT(t)
	rec, first, release := blockFirst()
	hs := started(t, Config{QueueBytes: 10, Servers: []Server{miniServer(mr, Channel{Name: "c", Components: []string{"x"}})}}, rec)
	mr.Publish("c", "first")
	<-first
	for _, p := range []string{"aaaa", "bbbb", "cccc", strings.Repeat("z", 50)} {
		mr.Publish("c", p)
	}
	// A message is counted received before the lane drops it: wait for
	// both counts, then check that no third drop follows.
	waitFor(t, 5*time.Second, "5 received, 2 dropped", func() bool {
		st := hs.tr.Stats()
		return st.Received == 5 && st.Dropped >= 2
	})
	if got := hs.tr.Stats().Dropped; got != 2 {
		t.Fatalf("dropped = %d, want 2 (8 of 10 bytes queued)", got)
	}
	close(release)
	waitFor(t, 5*time.Second, "3 handled", func() bool { return hs.tr.Stats().Handled == 3 })
	// An oversized message still goes through an empty queue.
	big := strings.Repeat("y", 100)
	mr.Publish("c", big)
	waitFor(t, 5*time.Second, "big handled", func() bool { return hs.tr.Stats().Handled == 4 })
	if got := rec.payloads("x"); got[3] != big {
		t.Fatalf("last payload %q", got[3])
	}
}

func TestHandlerFailuresDoNotStopOthers(t *testing.T) {
	mr := miniredis.RunT(t)
	rec := &recorder{fn: func(ctx context.Context, comp string, p []byte) error {
		switch comp {
		case "bad":
			return errors.New("guest returned error")
		case "slowpoke":
			return fmt.Errorf("component %q: %w", comp, context.DeadlineExceeded)
		case "panicky":
			panic("boom")
		}
		return nil
	}}
	hs := started(t, Config{Servers: []Server{miniServer(mr,
		Channel{Name: "c", Components: []string{"bad", "good", "slowpoke", "panicky"}},
	)}}, rec)
	for i := range 3 {
		mr.Publish("c", strconv.Itoa(i))
	}
	waitFor(t, 5*time.Second, "12 invocations", func() bool {
		st := hs.tr.Stats()
		return st.Handled+st.Failed+st.TimedOut == 12
	})
	// The counts are taken before the WARN line and the metric of each
	// invocation: check those once the trigger has stopped.
	if err := hs.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	st := hs.tr.Stats()
	if st.Handled != 3 || st.Failed != 6 || st.TimedOut != 3 {
		t.Fatalf("stats = %+v, want 3 handled, 6 failed, 3 timed out", st)
	}
	if got := rec.payloads("good"); !slices.Equal(got, []string{"0", "1", "2"}) {
		t.Fatalf("good got %q", got)
	}
	if got := hs.metric(admin.MetricFailed, map[string]string{"component": "bad"}); got != 3 {
		t.Errorf("failed{bad} = %v", got)
	}
	if got := hs.metric(admin.MetricTimedOut, map[string]string{"component": "slowpoke"}); got != 3 {
		t.Errorf("timed_out{slowpoke} = %v", got)
	}
	lines := hs.logLines("component handler failed")
	if len(lines) != 6 {
		t.Fatalf("want 6 failure lines, got %d:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	// The components of a message run concurrently: their lines come in
	// any order.
	bad := hs.logLines("component=bad")
	if len(bad) != 3 {
		t.Fatalf("want 3 failure lines for bad, got %d:\n%s", len(bad), strings.Join(lines, "\n"))
	}
	for _, want := range []string{"level=WARN", "component handler failed", "channel=c", "server=" + mr.Addr(), "guest returned error"} {
		if !strings.Contains(bad[0], want) {
			t.Errorf("failure log %q lacks %q", bad[0], want)
		}
	}
	if n := len(hs.logLines("component handler timed out")); n != 3 {
		t.Errorf("want 3 timeout lines, got %d", n)
	}
}

func TestTwoServers(t *testing.T) {
	mr1, mr2 := miniredis.RunT(t), miniredis.RunT(t)
	rec := &recorder{}
	hs := started(t, Config{Servers: []Server{
		miniServer(mr1, Channel{Name: "c", Components: []string{"one"}}),
		miniServer(mr2, Channel{Name: "c", Components: []string{"two"}}),
	}}, rec)
	mr1.Publish("c", "to-one")
	mr2.Publish("c", "to-two")
	waitFor(t, 5*time.Second, "both handled", func() bool { return rec.count() == 2 })
	if got := rec.payloads("one"); !slices.Equal(got, []string{"to-one"}) {
		t.Errorf("one got %q", got)
	}
	if got := rec.payloads("two"); !slices.Equal(got, []string{"to-two"}) {
		t.Errorf("two got %q", got)
	}
	out := hs.stdout.String()
	for _, mr := range []*miniredis.Miniredis{mr1, mr2} {
		block := fmt.Sprintf("Active Channels on %[1]s:\n\t%[1]s/c: [", mr.Addr())
		if !strings.Contains(out, block) {
			t.Errorf("stdout lacks block for %s:\n%s", mr.Addr(), out)
		}
	}
}

func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func TestStartupFailure(t *testing.T) {
	const password = "hunter2-very-secret"
	addr := closedPort(t)
	// 3 s: each attempt is go-redis's 5 dials 100 ms apart, so that a loaded
	// machine still fits the two retries this test wants to see.
	hs := newHarness(t, Config{ConnectRetry: 3 * time.Second, Servers: []Server{{
		Display:  addr,
		Options:  &redis.UniversalOptions{Addrs: []string{addr}, Password: password, Protocol: 2},
		Channels: []Channel{{Name: "c", Components: []string{"x"}}},
	}}}, &recorder{})
	var err error
	select {
	case err = <-hs.done:
		hs.done <- err
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not fail")
	}
	if err == nil {
		t.Fatal("Run succeeded against a closed port")
	}
	prefix := "Redis trigger failed to connect to " + addr + ": "
	if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), "refused") {
		t.Errorf("error = %q, want prefix %q and the cause", err, prefix)
	}
	if retries := hs.logLines("retrying"); len(retries) < 2 {
		t.Errorf("want a log line per retried attempt, got:\n%s", hs.logs.String())
	}
	for what, s := range map[string]string{"error": err.Error(), "logs": hs.logs.String(), "stdout": hs.stdout.String()} {
		if strings.Contains(s, password) {
			t.Errorf("%s contains the password: %s", what, s)
		}
	}
	if hs.stdout.String() != "" {
		t.Errorf("stdout = %q, want nothing", hs.stdout.String())
	}
}

func TestStartupFailureWrongPassword(t *testing.T) {
	mr := miniredis.RunT(t)
	mr.RequireAuth("right-password")
	const password = "wrong-password-xyz"
	hs := newHarness(t, Config{ConnectRetry: -1, Servers: []Server{{
		Display:  mr.Addr(),
		Options:  &redis.UniversalOptions{Addrs: []string{mr.Addr()}, Password: password, Protocol: 2},
		Channels: []Channel{{Name: "c", Components: []string{"x"}}},
	}}}, &recorder{})
	err := <-hs.done
	hs.done <- err
	if err == nil || !strings.HasPrefix(err.Error(), "Redis trigger failed to connect to "+mr.Addr()+": ") {
		t.Fatalf("error = %v", err)
	}
	if strings.Contains(err.Error(), password) || strings.Contains(hs.logs.String(), password) {
		t.Fatalf("password leaked: %v", err)
	}
}

func TestOneServerDownFailsStartup(t *testing.T) {
	mr := miniredis.RunT(t)
	addr := closedPort(t)
	hs := newHarness(t, Config{ConnectRetry: -1, Servers: []Server{
		miniServer(mr, Channel{Name: "c", Components: []string{"x"}}),
		{Display: addr, Options: &redis.UniversalOptions{Addrs: []string{addr}}, Channels: []Channel{{Name: "c", Components: []string{"x"}}}},
	}}, &recorder{})
	err := <-hs.done
	hs.done <- err
	if err == nil || !strings.Contains(err.Error(), "Redis trigger failed to connect to "+addr) {
		t.Fatalf("error = %v", err)
	}
	if strings.Contains(err.Error(), mr.Addr()) {
		t.Errorf("error names the healthy server: %v", err)
	}
}

func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	mr := miniredis.RunT(t)
	rec, first, release := blockFirst()
	var handlerCtxErr atomic.Value
	inner := rec.fn
	rec.fn = func(ctx context.Context, c string, p []byte) error {
		err := inner(ctx, c, p)
		handlerCtxErr.Store(fmt.Sprint(ctx.Err()))
		return err
	}
	hs := started(t, Config{Servers: []Server{miniServer(mr, Channel{Name: "c", Components: []string{"x"}})}}, rec)
	mr.Publish("c", "in-flight")
	<-first
	mr.Publish("c", "queued-1")
	mr.Publish("c", "queued-2")
	waitFor(t, 5*time.Second, "3 received", func() bool { return hs.tr.Stats().Received == 3 })

	hs.cancel()
	waitFor(t, 5*time.Second, "not ready while stopping", func() bool { return !hs.tr.Ready() })
	waitFor(t, 5*time.Second, "unsubscribed", func() bool { return mr.PubSubNumSub("c")["c"] == 0 })
	select {
	case err := <-hs.done:
		t.Fatalf("Run returned (%v) before the in-flight handler finished", err)
	default:
	}
	close(release)
	select {
	case err := <-hs.done:
		hs.done <- err
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the handler finished")
	}
	if got := rec.payloads("x"); !slices.Equal(got, []string{"in-flight"}) {
		t.Errorf("handled %q, want only the in-flight message", got)
	}
	if got := handlerCtxErr.Load(); got != "<nil>" {
		t.Errorf("handler context was cancelled during graceful shutdown: %v", got)
	}
	st := hs.tr.Stats()
	if st.Handled != 1 || st.Dropped != 2 {
		t.Errorf("stats = %+v, want 1 handled, 2 dropped", st)
	}
	if got := hs.metric(admin.MetricDropped, map[string]string{"reason": observe.DropShutdown}); got != 2 {
		t.Errorf("shutdown drops metric = %v", got)
	}
	if n := len(hs.logLines("dropped queued messages")); n != 1 {
		t.Errorf("want one shutdown drop line, got %d:\n%s", n, hs.logs.String())
	}
}

func TestShutdownTimeoutCancelsHandlers(t *testing.T) {
	mr := miniredis.RunT(t)
	startedCh := make(chan struct{})
	rec := &recorder{fn: func(ctx context.Context, _ string, _ []byte) error {
		close(startedCh)
		<-ctx.Done()
		return ctx.Err()
	}}
	hs := started(t, Config{ShutdownTimeout: 200 * time.Millisecond,
		Servers: []Server{miniServer(mr, Channel{Name: "c", Components: []string{"x"}})}}, rec)
	mr.Publish("c", "stuck")
	<-startedCh
	begin := time.Now()
	if err := hs.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("shutdown took %s", d)
	}
	if hs.tr.Stats().Failed != 1 {
		t.Errorf("stats = %+v", hs.tr.Stats())
	}
	if len(hs.logLines("shutdown timeout")) != 1 {
		t.Errorf("no shutdown timeout line:\n%s", hs.logs.String())
	}
}

// A handler that ignores cancellation (a host call that blocks forever) is
// abandoned after ShutdownTimeout + CancelGrace: Run returns then, with
// ErrHandlersAbandoned, and the log and the error name the component and
// its channel. The handler returns only when the test ends.
func TestShutdownAbandonsHandlersIgnoringCancellation(t *testing.T) {
	mr := miniredis.RunT(t)
	startedCh := make(chan struct{}, 2)
	never := make(chan struct{})
	defer close(never)
	rec := &recorder{fn: func(ctx context.Context, _ string, _ []byte) error {
		startedCh <- struct{}{}
		<-never
		return nil
	}}
	const timeout, grace = 150 * time.Millisecond, 150 * time.Millisecond
	hs := started(t, Config{ShutdownTimeout: timeout, CancelGrace: grace, MaxConcurrency: 2,
		Servers: []Server{miniServer(mr,
			Channel{Name: "stuck", Components: []string{"blocker"}},
			Channel{Name: "idle", Components: []string{"other"}})}}, rec)
	mr.Publish("stuck", "1")
	mr.Publish("stuck", "2")
	<-startedCh
	<-startedCh
	begin := time.Now()
	err := hs.stop()
	took := time.Since(begin)
	if !errors.Is(err, ErrHandlersAbandoned) {
		t.Fatalf("Run = %v, want ErrHandlersAbandoned", err)
	}
	want := fmt.Sprintf(`component "blocker" on %s/stuck (2 messages)`, mr.Addr())
	if !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "other") {
		t.Errorf("error %q does not name exactly %s", err, want)
	}
	if took < timeout+grace || took > timeout+grace+2*time.Second {
		t.Errorf("Run returned %s after cancel, want about %s", took, timeout+grace)
	}
	lines := hs.logLines("handlers ignored cancellation; exiting without them")
	if len(lines) != 1 || !strings.Contains(lines[0], "blocker") || !strings.Contains(lines[0], "/stuck") {
		t.Errorf("want one ERROR line naming the handler, got %q\n%s", lines, hs.logs.String())
	}
}

// Every duration of Config: 0 is the default, negative is off. A negative
// ShutdownTimeout cancels in-flight handlers at once, and a negative
// CancelGrace abandons a handler that ignores cancellation at once.
func TestConfigDurationRule(t *testing.T) {
	base := Config{Servers: []Server{{Display: "x", Options: &redis.UniversalOptions{}, Channels: []Channel{{Name: "c", Components: []string{"x"}}}}}}
	tr, err := New(base, &recorder{})
	if err != nil {
		t.Fatal(err)
	}
	got := []time.Duration{tr.cfg.ShutdownTimeout, tr.cfg.CancelGrace, tr.cfg.ConnectRetry, tr.cfg.HealthCheckInterval}
	if want := []time.Duration{DefaultShutdownTimeout, DefaultCancelGrace, DefaultConnectRetry, DefaultHealthCheckInterval}; !slices.Equal(got, want) {
		t.Errorf("zero durations became %v, want the defaults %v", got, want)
	}
	off := base
	off.ShutdownTimeout, off.CancelGrace, off.ConnectRetry, off.HealthCheckInterval = -1, -1, -1, -1
	if tr, err = New(off, &recorder{}); err != nil {
		t.Fatal(err)
	}
	got = []time.Duration{tr.cfg.ShutdownTimeout, tr.cfg.CancelGrace, tr.cfg.ConnectRetry, tr.cfg.HealthCheckInterval}
	if slices.ContainsFunc(got, func(d time.Duration) bool { return d >= 0 }) {
		t.Errorf("negative durations became %v, want them kept (off)", got)
	}

	mr := miniredis.RunT(t)
	startedCh := make(chan struct{})
	never := make(chan struct{})
	defer close(never)
	var cancelled atomic.Bool
	rec := &recorder{fn: func(ctx context.Context, _ string, _ []byte) error {
		close(startedCh)
		<-ctx.Done()
		cancelled.Store(true)
		<-never
		return nil
	}}
	hs := started(t, Config{ShutdownTimeout: -1, CancelGrace: -1,
		Servers: []Server{miniServer(mr, Channel{Name: "c", Components: []string{"x"}})}}, rec)
	mr.Publish("c", "stuck")
	<-startedCh
	begin := time.Now()
	if err := hs.stop(); !errors.Is(err, ErrHandlersAbandoned) {
		t.Fatalf("Run = %v, want ErrHandlersAbandoned", err)
	}
	if d := time.Since(begin); d > 2*time.Second {
		t.Errorf("shutdown with both off took %s", d)
	}
	waitFor(t, 5*time.Second, "the handler's context cancelled", cancelled.Load)
}

func TestReconnectAfterRedisRestart(t *testing.T) {
	mr := miniredis.RunT(t)
	rec := &recorder{}
	hs := started(t, Config{Servers: []Server{miniServer(mr, Channel{Name: "c", Components: []string{"x"}})}}, rec)
	srv := httpAdmin(t, hs.tr)
	if code := probe(t, srv, "/healthz"); code != 200 {
		t.Fatalf("/healthz = %d before restart", code)
	}
	mr.Publish("c", "before")
	waitFor(t, 5*time.Second, "before handled", func() bool { return rec.count() == 1 })

	mr.Close()
	waitFor(t, 5*time.Second, "unhealthy", func() bool { return !hs.tr.Healthy() })
	if code := probe(t, srv, "/healthz"); code != 503 {
		t.Errorf("/healthz = %d while Redis is down, want 503", code)
	}
	if st := hs.tr.Status(); st.Servers[0].State != "reconnecting" || st.Servers[0].LastError == "" {
		t.Errorf("status = %+v", st)
	}
	if code := probe(t, srv, "/readyz"); code != 200 {
		t.Errorf("/readyz = %d while reconnecting, want 200 (ready stays latched)", code)
	}
	if err := mr.Restart(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "healthy again", hs.tr.Healthy)
	waitFor(t, 5*time.Second, "resubscribed", func() bool { return mr.PubSubNumSub("c")["c"] == 1 })
	if code := probe(t, srv, "/healthz"); code != 200 {
		t.Errorf("/healthz = %d after reconnect", code)
	}
	mr.Publish("c", "after")
	waitFor(t, 5*time.Second, "after handled", func() bool { return rec.count() == 2 })
	if got := rec.payloads("x"); !slices.Equal(got, []string{"before", "after"}) {
		t.Errorf("payloads %q", got)
	}
	if st := hs.tr.Stats(); st.Reconnects != 1 {
		t.Errorf("reconnects = %d, want 1", st.Reconnects)
	}
	if got := hs.metric(admin.MetricReconnects, map[string]string{"server": mr.Addr()}); got != 1 {
		t.Errorf("reconnects metric = %v", got)
	}
	if len(hs.logLines("level=WARN msg=\"lost connection")) != 1 || len(hs.logLines("level=INFO msg=\"reconnected")) != 1 {
		t.Errorf("want one WARN loss line and one INFO recovery line:\n%s", hs.logs.String())
	}
}

func TestReconnectKeepsTryingWithoutBusyLoop(t *testing.T) {
	mr := miniredis.RunT(t)
	hs := started(t, Config{Servers: []Server{miniServer(mr, Channel{Name: "c", Components: []string{"x"}})}}, &recorder{})
	mr.Close()
	waitFor(t, 5*time.Second, "unhealthy", func() bool { return !hs.tr.Healthy() })
	// Backoff: 100ms, 200ms, 400ms, 800ms, 1.6s ... in 2 s at most ~6 attempts.
	time.Sleep(2 * time.Second)
	attempts := len(hs.logLines("reconnect attempt failed"))
	if attempts < 2 || attempts > 10 {
		t.Errorf("%d reconnect attempts in 2s; want a few (backoff)", attempts)
	}
	if err := hs.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestHealthCheckDetectsSilentConnection(t *testing.T) {
	// A proxy that stops forwarding (but keeps the socket open) simulates a
	// half-open connection: only the PING health check can notice it.
	mr := miniredis.RunT(t)
	px := newProxy(t, mr.Addr())
	rec := &recorder{}
	// 500 ms: short enough for a quick test, long enough that a stall of a
	// loaded machine does not look like a silent connection.
	hs := started(t, Config{HealthCheckInterval: 500 * time.Millisecond, Servers: []Server{{
		Display: "proxy", Options: &redis.UniversalOptions{Addrs: []string{px.addr()}, Protocol: 2},
		Channels: []Channel{{Name: "c", Components: []string{"x"}}},
	}}}, rec)
	px.freeze()
	waitFor(t, 10*time.Second, "unhealthy", func() bool { return !hs.tr.Healthy() })
	// The state changes before the WARN line is written.
	waitFor(t, 5*time.Second, "the PING timeout logged", func() bool { return len(hs.logLines("no reply to PING")) > 0 })
	px.thaw()
	waitFor(t, 15*time.Second, "healthy again", hs.tr.Healthy)
	waitFor(t, 5*time.Second, "resubscribed", func() bool { return mr.PubSubNumSub("c")["c"] >= 1 })
	// Published until handled: a reconnect in between could lose one.
	waitFor(t, 10*time.Second, "a message handled after recovery", func() bool {
		mr.Publish("c", "after")
		return rec.count() >= 1
	})
}

func TestNewValidates(t *testing.T) {
	ok := Server{Display: "h:1", Options: &redis.UniversalOptions{}, Channels: []Channel{{Name: "c", Components: []string{"x"}}}}
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "no Redis servers"},
		{Config{Servers: []Server{ok}, Drop: "middle"}, `invalid drop policy "middle"`},
		{Config{Servers: []Server{ok}, MaxConcurrency: -1}, "invalid max concurrency"},
		{Config{Servers: []Server{ok}, QueueSize: -1}, "invalid queue size"},
		{Config{Servers: []Server{{Display: "h:1", Options: &redis.UniversalOptions{}}}}, "no channels"},
		{Config{Servers: []Server{{Display: "h:1", Options: &redis.UniversalOptions{},
			Channels: []Channel{{Name: "c", Components: []string{"x"}}, {Name: "c", Components: []string{"y"}}}}}}, "listed twice"},
		{Config{Servers: []Server{{Display: "h:1", Options: &redis.UniversalOptions{}, Channels: []Channel{{Name: "c"}}}}}, "no components"},
	} {
		_, err := New(tc.cfg, &recorder{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
	tr, err := New(Config{Servers: []Server{{Display: "h:1", Options: &redis.UniversalOptions{},
		Channels: []Channel{{Name: "c", Components: []string{"x", "y", "x"}}}}}}, &recorder{})
	if err != nil {
		t.Fatal(err)
	}
	if got := tr.servers[0].lanes[0].components; !slices.Equal(got, []string{"x", "y"}) {
		t.Errorf("components = %v, want deduplicated", got)
	}
	// Before Run: neither ready nor healthy.
	if st := tr.Status(); st.Ready || st.Healthy || st.Servers[0].State != "connecting" || st.Servers[0].Channels != 1 {
		t.Errorf("status before Run = %+v", st)
	}
}

func TestStatsString(t *testing.T) {
	s := Stats{Received: 5, Handled: 4, Failed: 1, TimedOut: 2, Dropped: 3, Reconnects: 6}
	want := "5 received, 4 handled, 1 failed, 2 timed out, 3 dropped, 6 reconnects"
	if s.String() != want {
		t.Fatalf("%q", s.String())
	}
}

func TestOneServerDownOthersContinue(t *testing.T) {
	up, down := miniredis.RunT(t), miniredis.RunT(t)
	rec := &recorder{}
	hs := newHarness(t, Config{Servers: []Server{
		miniServer(up, Channel{Name: "c", Components: []string{"up"}}),
		miniServer(down, Channel{Name: "c", Components: []string{"down"}}),
	}}, rec)
	waitFor(t, 10*time.Second, "ready", hs.tr.Ready)
	srv := httpAdmin(t, hs.tr)
	upAddr, downAddr := up.Addr(), down.Addr()

	down.Close()
	waitFor(t, 5*time.Second, "unhealthy", func() bool { return !hs.tr.Healthy() })
	st := hs.tr.Status()
	states := map[string]string{}
	for _, s := range st.Servers {
		states[s.Server] = s.State
	}
	if states[upAddr] != "subscribed" || states[downAddr] != "reconnecting" {
		t.Errorf("states = %v", states)
	}
	if code := probe(t, srv, "/healthz"); code != 503 {
		t.Errorf("/healthz = %d with one server down", code)
	}
	if got := hs.metric(admin.MetricConnected, map[string]string{"server": downAddr}); got != 0 {
		t.Errorf("connected{down} = %v", got)
	}
	up.Publish("c", "still-working")
	waitFor(t, 5*time.Second, "healthy server's message handled", func() bool { return len(rec.payloads("up")) == 1 })

	if err := down.Restart(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "healthy again", hs.tr.Healthy)
	down.Publish("c", "back")
	waitFor(t, 5*time.Second, "recovered server's message handled", func() bool { return len(rec.payloads("down")) == 1 })
	if got := hs.metric(admin.MetricConnected, nil); got != 2 {
		t.Errorf("connected total = %v, want 2", got)
	}
}
