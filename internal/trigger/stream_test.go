package trigger

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/admin"
	"github.com/redspin/redspin/internal/streamentry"
	"github.com/redspin/redspin/internal/testutil/redisserver"
)

var errFirst = errors.New("first delivery fails")

// A delivery that fails stays pending and is delivered again (with Redis's delivery count raised, through
// XCLAIM); the second delivery succeeds and the entry is acknowledged. With concurrency 1, entries are
// handled in stream order.
func TestStreamFailedDeliveryIsRetried(t *testing.T) {
	srv := redisserver.Start(t, redisserver.Options{})
	rdb := srv.Client()
	rec := &entryRecorder{fn: func(_ context.Context, e streamentry.Entry) (streamentry.Disposition, error) {
		if string(e.Payload) == "flaky" && e.Deliveries == 1 {
			return streamentry.Disposition{}, errFirst
		}
		return streamentry.Disposition{}, nil
	}}
	hs := startStreams(t, StreamConfig{Streams: []Stream{testStream(srv, "orders")}, Consumer: "c1"}, rec)
	var ids []string
	for i := range 5 {
		ids = append(ids, xadd(t, rdb, "orders", "payload", fmt.Sprint("m", i)))
	}
	flaky := xadd(t, rdb, "orders", "payload", "flaky", "other", "x")
	waitFor(t, 10*time.Second, "flaky entry handled twice and acked", func() bool {
		return len(rec.byID(flaky)) == 2 && pendingCount(t, rdb, "orders", "g") == 0
	})
	got := rec.byID(flaky)
	if got[0].deliveries != 1 || got[1].deliveries != 2 {
		t.Errorf("deliveries of the flaky entry = %d, %d; want 1, 2", got[0].deliveries, got[1].deliveries)
	}
	var order []string
	for _, c := range rec.snapshot()[:5] {
		order = append(order, c.id)
	}
	if !slices.Equal(order, ids) {
		t.Errorf("handling order %v, want stream order %v", order, ids)
	}
	st := hs.tr.Stats()
	if st.Received != 7 || st.Handled != 6 || st.Failed != 1 || st.Retried != 1 || st.DeadLettered != 0 {
		t.Errorf("stats = %+v", st)
	}
	labels := map[string]string{"stream": "orders", "group": "g"}
	if v := hs.metrics.Value(admin.MetricStreamRetried, labels); v != 1 {
		t.Errorf("%s = %v, want 1", admin.MetricStreamRetried, v)
	}
	if v := hs.metrics.Value(admin.MetricStreamHandled, labels); v != 6 {
		t.Errorf("%s = %v, want 6", admin.MetricStreamHandled, v)
	}
}

// A poison entry is handled exactly max_deliveries times, then moved to the dead-letter stream with all
// its fields plus redspin.* fields, and acknowledged.
func TestStreamPoisonEntryDeadLettered(t *testing.T) {
	srv := redisserver.Start(t, redisserver.Options{})
	rdb := srv.Client()
	rec := &entryRecorder{fn: func(context.Context, streamentry.Entry) (streamentry.Disposition, error) {
		return streamentry.Disposition{}, errors.New("poison")
	}}
	s := testStream(srv, "orders")
	s.MaxDeliveries = 3
	hs := startStreams(t, StreamConfig{Streams: []Stream{s}, Consumer: "c1"}, rec)
	id := xadd(t, rdb, "orders", "payload", "bad", "extra", "42")
	waitFor(t, 10*time.Second, "dead letter", func() bool { return rdb.XLen(context.Background(), "orders:dead").Val() == 1 })
	if n := pendingCount(t, rdb, "orders", "g"); n != 0 {
		t.Errorf("pending after dead-lettering = %d, want 0", n)
	}
	calls := rec.byID(id)
	if len(calls) != 3 {
		t.Fatalf("handler ran %d times, want exactly max_deliveries = 3", len(calls))
	}
	for i, c := range calls {
		if c.deliveries != int64(i+1) {
			t.Errorf("delivery %d reported count %d", i+1, c.deliveries)
		}
	}
	msgs, err := rdb.XRange(context.Background(), "orders:dead", "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	v := msgs[0].Values
	want := map[string]string{
		"payload": "bad", "extra": "42",
		streamentry.FieldStream: "orders", streamentry.FieldID: id, streamentry.FieldGroup: "g",
		streamentry.FieldComponent: "comp", streamentry.FieldDeliveries: "3", streamentry.FieldError: "poison",
	}
	for k, w := range want {
		if v[k] != w {
			t.Errorf("dead letter field %s = %v, want %q", k, v[k], w)
		}
	}
	if ts, err := time.Parse(time.RFC3339, fmt.Sprint(v[streamentry.FieldTime])); err != nil || time.Since(ts) > time.Minute {
		t.Errorf("dead letter time %v: %v", v[streamentry.FieldTime], err)
	}
	if len(v) != len(want)+1 {
		t.Errorf("dead letter has %d fields, want %d: %v", len(v), len(want)+1, v)
	}
	if st := hs.tr.Stats(); st.DeadLettered != 1 || st.Failed != 3 || st.Retried != 2 {
		t.Errorf("stats = %+v", st)
	}
	if v := hs.metrics.Value(admin.MetricStreamDeadLettered, map[string]string{"stream": "orders"}); v != 1 {
		t.Errorf("%s = %v", admin.MetricStreamDeadLettered, v)
	}
}

// A handler can dead-letter an entry at once with a reason; a dead-letter key of the wrong type makes the
// script refuse before writing, so the entry stays pending (never acknowledged without its dead letter).
func TestStreamDeadLetterFromHandlerAndWrongType(t *testing.T) {
	srv := redisserver.Start(t, redisserver.Options{})
	rdb := srv.Client()
	ctx := context.Background()
	rdb.Set(ctx, "blocked:dead", "not a stream", 0)
	rec := &entryRecorder{fn: func(context.Context, streamentry.Entry) (streamentry.Disposition, error) {
		return streamentry.Disposition{Action: streamentry.DeadLetter, Reason: "invalid order"}, nil
	}}
	hs := startStreams(t, StreamConfig{Streams: []Stream{testStream(srv, "orders"), testStream(srv, "blocked")}, Consumer: "c1"}, rec)
	xadd(t, rdb, "orders", "payload", "x")
	blocked := xadd(t, rdb, "blocked", "payload", "y")
	waitFor(t, 10*time.Second, "dead letter", func() bool { return rdb.XLen(ctx, "orders:dead").Val() == 1 })
	msgs := rdb.XRange(ctx, "orders:dead", "-", "+").Val()
	if got := msgs[0].Values[streamentry.FieldError]; got != "invalid order" {
		t.Errorf("reason = %v", got)
	}
	waitFor(t, 10*time.Second, "refused dead letter logged", func() bool {
		return strings.Contains(hs.logs.String(), "could not dead-letter")
	})
	p := rdb.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: "blocked", Group: "g", Start: "-", End: "+", Count: 10}).Val()
	if len(p) != 1 || p[0].ID != blocked {
		t.Errorf("pending on blocked = %+v, want the entry %s still pending", p, blocked)
	}
	if typ := rdb.Type(ctx, "blocked:dead").Val(); typ != "string" {
		t.Errorf("blocked:dead type = %s", typ)
	}
}

// A handler timeout is a failed delivery: retried, and counted as timed out.
func TestStreamHandlerTimeoutIsFailedDelivery(t *testing.T) {
	srv := redisserver.Start(t, redisserver.Options{})
	rdb := srv.Client()
	rec := &entryRecorder{fn: func(ctx context.Context, e streamentry.Entry) (streamentry.Disposition, error) {
		if e.Deliveries == 1 {
			tctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
			defer cancel()
			<-tctx.Done()
			return streamentry.Disposition{}, fmt.Errorf("handler timeout: %w", tctx.Err())
		}
		return streamentry.Disposition{}, nil
	}}
	hs := startStreams(t, StreamConfig{Streams: []Stream{testStream(srv, "orders")}, Consumer: "c1"}, rec)
	id := xadd(t, rdb, "orders", "payload", "slow")
	waitFor(t, 10*time.Second, "retry after timeout", func() bool {
		return len(rec.byID(id)) == 2 && pendingCount(t, rdb, "orders", "g") == 0
	})
	if st := hs.tr.Stats(); st.TimedOut != 1 || st.Handled != 1 || st.Retried != 1 {
		t.Errorf("stats = %+v", st)
	}
	if v := hs.metrics.Value(admin.MetricTimedOut, map[string]string{"component": "comp"}); v != 1 {
		t.Errorf("%s = %v", admin.MetricTimedOut, v)
	}
}

// Deleting the stream (and with it the group) while running: NOGROUP is logged, the group is created
// again, and new entries are handled.
func TestStreamNoGroupRecovery(t *testing.T) {
	srv := redisserver.Start(t, redisserver.Options{})
	rdb := srv.Client()
	ctx := context.Background()
	rec := &entryRecorder{}
	hs := startStreams(t, StreamConfig{Streams: []Stream{testStream(srv, "orders")}, Consumer: "c1"}, rec)
	first := xadd(t, rdb, "orders", "payload", "1")
	waitFor(t, 5*time.Second, "first entry", func() bool { return len(rec.byID(first)) == 1 })
	rdb.Del(ctx, "orders")
	var second string
	waitFor(t, 10*time.Second, "entry after the group was recreated", func() bool {
		if second == "" && strings.Contains(hs.logs.String(), "NOGROUP") {
			second = xadd(t, rdb, "orders", "payload", "2")
		}
		return second != "" && len(rec.byID(second)) == 1
	})
	if !hs.tr.Ready() {
		t.Error("not ready after recovery")
	}
}

// Pending entries deleted from the stream are counted and logged as lost, both when this consumer
// re-reads its own pending list at startup (nil entries, acknowledged) and when XAUTOCLAIM reports them;
// live pending entries are recovered (crash recovery). Both reply protocols are parsed.
func TestStreamCrashRecoveryAndTrimmedEntries(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprint("RESP", proto), func(t *testing.T) { testCrashRecovery(t, proto) })
	}
}

func testCrashRecovery(t *testing.T, proto int) {
	srv := redisserver.Start(t, redisserver.Options{})
	rdb := srv.Client()
	ctx := context.Background()
	rdb.XGroupCreateMkStream(ctx, "orders", "g", "0")
	var ids []string
	for i := range 6 {
		ids = append(ids, xadd(t, rdb, "orders", "payload", fmt.Sprint(i)))
	}
	// A crashed "c1" left 0..2 pending, a crashed "c2" 3..5; one entry of each was then deleted.
	rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "c1", Streams: []string{"orders", ">"}, Count: 3})
	rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "c2", Streams: []string{"orders", ">"}, Count: 3})
	rdb.XDel(ctx, "orders", ids[1], ids[4])
	time.Sleep(300 * time.Millisecond) // entries of c2 must be idle for longer than the claim idle time

	rec := &entryRecorder{}
	s := testStream(srv, "orders")
	s.ClaimIdle = 200 * time.Millisecond
	s.Options.Protocol = proto
	hs := startStreams(t, StreamConfig{Streams: []Stream{s}, Consumer: "c1"}, rec)
	waitFor(t, 10*time.Second, "recovery", func() bool { return pendingCount(t, rdb, "orders", "g") == 0 })
	for _, i := range []int{0, 2, 3, 5} {
		c := rec.byID(ids[i])
		if len(c) != 1 || c[0].deliveries != 2 {
			t.Errorf("entry %d: calls %+v, want one with delivery count 2", i, c)
		}
	}
	for _, i := range []int{1, 4} {
		if c := rec.byID(ids[i]); len(c) != 0 {
			t.Errorf("deleted entry %d handled: %+v", i, c)
		}
	}
	st := hs.tr.Stats()
	if st.Trimmed != 2 || st.Claimed != 2 || st.Handled != 4 {
		t.Errorf("stats = %+v, want 2 trimmed, 2 claimed, 4 handled", st)
	}
	if v := hs.metrics.Value(admin.MetricStreamTrimmed, nil); v != 2 {
		t.Errorf("%s = %v", admin.MetricStreamTrimmed, v)
	}
	if n := strings.Count(hs.logs.String(), "pending entries were deleted"); n != 2 {
		t.Errorf("trimmed log lines = %d, want 2 (pending re-read, XAUTOCLAIM)", n)
	}
}

// Idle consumers with nothing pending are deleted; one with pending entries is kept.
func TestStreamConsumerCleanup(t *testing.T) {
	srv := redisserver.Start(t, redisserver.Options{})
	rdb := srv.Client()
	ctx := context.Background()
	rdb.XGroupCreateMkStream(ctx, "orders", "g", "0")
	xadd(t, rdb, "orders", "payload", "held")
	rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "holder", Streams: []string{"orders", ">"}, Count: 1})
	rdb.XGroupCreateConsumer(ctx, "orders", "g", "gone")
	names := func() []string {
		var out []string
		for _, c := range rdb.XInfoConsumers(ctx, "orders", "g").Val() {
			out = append(out, c.Name)
		}
		slices.Sort(out)
		return out
	}
	time.Sleep(150 * time.Millisecond) // let "gone" and "holder" become idle
	startStreams(t, StreamConfig{Streams: []Stream{testStream(srv, "orders")}, Consumer: "me", ConsumerIdle: 100 * time.Millisecond}, &entryRecorder{})
	waitFor(t, 10*time.Second, "idle consumer deleted", func() bool { return !slices.Contains(names(), "gone") })
	if got := names(); !slices.Equal(got, []string{"holder", "me"}) {
		t.Errorf("consumers = %v, want [holder me]", got)
	}
}

// Graceful shutdown under load: every entry read is either handled and acknowledged or, when its handler
// outlives the shutdown timeout, left pending; nothing else is pending.
func TestStreamGracefulShutdown(t *testing.T) {
	srv := redisserver.Start(t, redisserver.Options{})
	rdb := srv.Client()
	ctx := context.Background()
	var stuck atomic.Int64
	rec := &entryRecorder{fn: func(ctx context.Context, e streamentry.Entry) (streamentry.Disposition, error) {
		if string(e.Payload) == "stuck" {
			stuck.Add(1)
			<-ctx.Done()
			return streamentry.Disposition{}, ctx.Err()
		}
		time.Sleep(2 * time.Millisecond)
		return streamentry.Disposition{}, nil
	}}
	s := testStream(srv, "orders")
	s.Concurrency = 4
	hs := startStreams(t, StreamConfig{Streams: []Stream{s}, Consumer: "c1", ShutdownTimeout: 300 * time.Millisecond}, rec)
	for i := range 400 {
		p := fmt.Sprint(i)
		if i == 50 {
			p = "stuck"
		}
		xadd(t, rdb, "orders", "payload", p)
	}
	waitFor(t, 10*time.Second, "stuck entry running and load in flight", func() bool {
		return stuck.Load() == 1 && len(rec.snapshot()) > 100
	})
	if err := hs.stop(); err != nil {
		t.Fatal(err)
	}
	st := hs.tr.Stats()
	calls := len(rec.snapshot())
	if int(st.Received) != calls || int(st.Handled) != calls-1 {
		t.Errorf("stats %+v, %d calls: want every received entry handled but the stuck one", st, calls)
	}
	p := rdb.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: "orders", Group: "g", Start: "-", End: "+", Count: 10}).Val()
	if len(p) != 1 {
		t.Fatalf("pending after shutdown = %+v, want only the stuck entry", p)
	}
	if got := rec.byID(p[0].ID); len(got) != 1 || got[0].payload != "stuck" {
		t.Errorf("pending entry %s is not the stuck one: %+v", p[0].ID, got)
	}
	if lag := rdb.XInfoGroups(ctx, "orders").Val()[0].Lag; lag != int64(400-calls) {
		t.Errorf("lag = %d, want the %d entries never read", lag, 400-calls)
	}
}

// Redis killed and restarted with AOF appendfsync always while entries are added and handled: every entry
// whose XADD succeeded is handled, nothing stays pending, and the outage is reported and counted.
func TestStreamRedisRestartWithAOFLosesNothing(t *testing.T) {
	srv := redisserver.Start(t, redisserver.Options{Args: []string{"--appendonly", "yes", "--appendfsync", "always"}})
	rdb := srv.Client()
	ctx := context.Background()
	var seen sync.Map
	rec := &entryRecorder{fn: func(_ context.Context, e streamentry.Entry) (streamentry.Disposition, error) {
		seen.Store(string(e.Payload), true)
		return streamentry.Disposition{}, nil
	}}
	s := testStream(srv, "orders")
	s.Concurrency = 8
	hs := startStreams(t, StreamConfig{Streams: []Stream{s}, Consumer: "c1"}, rec)

	const n = 2000
	var added []string
	for i := 0; i < n; i++ {
		if i == n/2 {
			// Down long enough for the trigger to notice (go-redis's own retries hide a quick restart).
			srv.Kill()
			waitFor(t, 10*time.Second, "the trigger reports the outage", func() bool { return !hs.tr.Healthy() })
			srv.Restart()
		}
		p := fmt.Sprint(i)
		if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: "orders", Values: []any{"payload", p}}).Err(); err != nil {
			continue // the restart: this entry may or may not exist; it is not counted
		}
		added = append(added, p)
	}
	waitFor(t, 30*time.Second, "every added entry handled and nothing pending", func() bool {
		for _, p := range added {
			if _, ok := seen.Load(p); !ok {
				return false
			}
		}
		return pendingCount(t, rdb, "orders", "g") == 0
	})
	if len(added) < n-50 {
		t.Errorf("only %d of %d XADDs succeeded", len(added), n)
	}
	if st := hs.tr.Stats(); st.Reconnects < 1 || !hs.tr.Healthy() {
		t.Errorf("after the restart: stats %+v, healthy %v; want a counted reconnect and healthy again", st, hs.tr.Healthy())
	}
}

// The group's lag is exported as NaN (unknown), never 0, when Redis reports NULL (after an XDEL in the
// middle of the stream).
func TestStreamLagUnknownAfterXDEL(t *testing.T) {
	srv := redisserver.Start(t, redisserver.Options{})
	rdb := srv.Client()
	ctx := context.Background()
	rdb.XGroupCreateMkStream(ctx, "orders", "g", "0")
	ids := []string{xadd(t, rdb, "orders", "payload", "1"), xadd(t, rdb, "orders", "payload", "2"), xadd(t, rdb, "orders", "payload", "3")}
	info, err := GroupState(ctx, rdb, "orders", "g")
	if err != nil || !info.LagKnown || info.Lag != 3 {
		t.Fatalf("before XDEL: %+v, %v", info, err)
	}
	rdb.XDel(ctx, "orders", ids[1]) // a hole in the middle: Redis can no longer count the lag
	info, err = GroupState(ctx, rdb, "orders", "g")
	if err != nil || info.LagKnown {
		t.Fatalf("after XDEL: %+v, %v; want lag unknown", info, err)
	}
	m := admin.NewMetrics()
	obs := m.Stream("s", "orders", "g")
	obs.SetGroup(info)
	if v := m.Value(admin.MetricStreamLag, nil); !math.IsNaN(v) {
		t.Errorf("%s = %v, want NaN", admin.MetricStreamLag, v)
	}

	time.Sleep(20 * time.Millisecond) // the oldest entry must be measurably old
	rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "c", Streams: []string{"orders", ">"}, Count: 1})
	info, err = GroupState(ctx, rdb, "orders", "g")
	if err != nil || info.Pending != 1 || info.OldestPendingAge < 20*time.Millisecond || info.OldestPendingAge > time.Minute {
		t.Fatalf("with one pending entry: %+v, %v", info, err)
	}
	obs.SetGroup(info)
	if v := m.Value(admin.MetricStreamPending, nil); v != 1 {
		t.Errorf("%s = %v, want 1", admin.MetricStreamPending, v)
	}
	if v := m.Value(admin.MetricStreamOldestPendingAge, nil); v < 0.02 {
		t.Errorf("%s = %v, want >= 0.02", admin.MetricStreamOldestPendingAge, v)
	}
}

// A server that cannot be reached fails Run at startup with an error naming the group and stream; a
// cancellation during the startup retries returns promptly and cleanly.
func TestStreamStartupFailureAndCancel(t *testing.T) {
	s := Stream{Display: "127.0.0.1:1", Options: &redis.UniversalOptions{Addrs: []string{"127.0.0.1:1"}, MaxRetries: -1},
		Component: "comp", Key: "orders", Group: "g"}
	tr, err := NewStream(StreamConfig{Streams: []Stream{s}, ConnectRetry: -1}, &entryRecorder{})
	if err != nil {
		t.Fatal(err)
	}
	err = tr.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), `failed to create group "g" on stream "orders" at 127.0.0.1:1`) {
		t.Fatalf("Run = %v", err)
	}
	tr, err = NewStream(StreamConfig{Streams: []Stream{s}, ConnectRetry: time.Minute}, &entryRecorder{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	begin := time.Now()
	if err := tr.Run(ctx); err != nil {
		t.Fatalf("cancelled Run = %v, want nil", err)
	}
	if d := time.Since(begin); d > 3*time.Second {
		t.Errorf("cancelled Run took %s", d)
	}
	if tr.Ready() {
		t.Error("ready after a run that never started")
	}
}

func TestNewStreamValidates(t *testing.T) {
	ok := Stream{Display: "x:1", Options: &redis.UniversalOptions{}, Component: "c", Key: "s", Group: "g"}
	for _, tc := range []struct {
		name string
		edit func(*Stream)
		want string
	}{
		{"start", func(s *Stream) { s.Start = ">" }, `start ">"`},
		{"dead letter is the stream", func(s *Stream) { s.DeadLetter = "s" }, "must differ"},
		{"no group", func(s *Stream) { s.Group = "" }, "empty group"},
		{"negative concurrency", func(s *Stream) { s.Concurrency = -1 }, "concurrency -1"},
	} {
		s := ok
		tc.edit(&s)
		if _, err := NewStream(StreamConfig{Streams: []Stream{s}}, &entryRecorder{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := NewStream(StreamConfig{Streams: []Stream{ok, ok}}, &entryRecorder{}); err == nil || !strings.Contains(err.Error(), "configured twice") {
		t.Errorf("duplicate: err = %v", err)
	}
}

// A handler may ask for a retry after a delay; that counts toward max_deliveries like a failure, so an
// entry retried forever ends in the dead-letter stream.
func TestStreamHandlerRetry(t *testing.T) {
	srv := redisserver.Start(t, redisserver.Options{})
	rdb := srv.Client()
	ctx := context.Background()
	var mu sync.Mutex
	seen := map[string][]time.Time{}
	rec := &entryRecorder{fn: func(_ context.Context, e streamentry.Entry) (streamentry.Disposition, error) {
		mu.Lock()
		seen[e.ID] = append(seen[e.ID], time.Now())
		mu.Unlock()
		if string(e.Payload) == "later" && e.Deliveries == 1 || string(e.Payload) == "never" {
			return streamentry.Disposition{Action: streamentry.Retry, RetryAfter: 150 * time.Millisecond}, nil
		}
		return streamentry.Disposition{}, nil
	}}
	s := testStream(srv, "orders")
	s.MaxDeliveries = 2
	hs := startStreams(t, StreamConfig{Streams: []Stream{s}, Consumer: "c1"}, rec)
	later := xadd(t, rdb, "orders", "payload", "later")
	never := xadd(t, rdb, "orders", "payload", "never")
	waitFor(t, 10*time.Second, "retried entry acked and the other dead-lettered", func() bool {
		return len(rec.byID(later)) == 2 && rdb.XLen(ctx, "orders:dead").Val() == 1 && pendingCount(t, rdb, "orders", "g") == 0
	})
	mu.Lock()
	gap := seen[later][1].Sub(seen[later][0])
	mu.Unlock()
	if gap < 150*time.Millisecond {
		t.Errorf("retry came after %s, want at least the 150ms the handler asked for", gap)
	}
	if n := len(rec.byID(never)); n != 2 {
		t.Errorf("entry that always asks for a retry ran %d times, want max_deliveries = 2", n)
	}
	if got := rdb.XRange(ctx, "orders:dead", "-", "+").Val()[0].Values[streamentry.FieldError]; got != "the handler asked for a retry" {
		t.Errorf("dead letter error = %v", got)
	}
	if st := hs.tr.Stats(); st.Handled != 4 || st.Failed != 0 || st.Retried != 2 || st.DeadLettered != 1 {
		t.Errorf("stats = %+v", st)
	}
}

// Two live consumers of one group: an entry stuck on a hung consumer is claimed by the other once it has
// been idle for claim_idle, and handled there with its delivery count raised.
func TestStreamClaimFromHungConsumer(t *testing.T) {
	srv := redisserver.Start(t, redisserver.Options{})
	rdb := srv.Client()
	hung := &entryRecorder{fn: func(ctx context.Context, e streamentry.Entry) (streamentry.Disposition, error) {
		<-ctx.Done() // never finishes until shutdown
		return streamentry.Disposition{}, ctx.Err()
	}}
	s := testStream(srv, "orders")
	s.ClaimIdle = 300 * time.Millisecond
	startStreams(t, StreamConfig{Streams: []Stream{s}, Consumer: "hung", ShutdownTimeout: time.Millisecond}, hung)
	id := xadd(t, rdb, "orders", "payload", "x")
	waitFor(t, 5*time.Second, "the hung consumer took the entry", func() bool { return len(hung.byID(id)) == 1 })

	healthy := &entryRecorder{}
	hs := startStreams(t, StreamConfig{Streams: []Stream{s}, Consumer: "healthy"}, healthy)
	waitFor(t, 10*time.Second, "the entry claimed and handled by the healthy consumer", func() bool {
		return len(healthy.byID(id)) == 1 && pendingCount(t, rdb, "orders", "g") == 0
	})
	if c := healthy.byID(id)[0]; c.deliveries != 2 {
		t.Errorf("delivery count on the claiming consumer = %d, want 2", c.deliveries)
	}
	if st := hs.tr.Stats(); st.Claimed != 1 || st.Handled != 1 {
		t.Errorf("claiming consumer stats = %+v", st)
	}
}

// With every slot busy the reader reads ahead a window of one entry per slot and no more: the rest of the
// backlog stays in Redis (lag). At shutdown the entries read ahead are in-flight work: handled and acked
// when slots free up within the shutdown timeout, left pending for another consumer when it runs out.
func TestStreamReadAheadWindow(t *testing.T) {
	for _, finish := range []bool{true, false} {
		t.Run(fmt.Sprint("handlers finish=", finish), func(t *testing.T) {
			srv := redisserver.Start(t, redisserver.Options{})
			rdb := srv.Client()
			ctx := context.Background()
			gate := make(chan struct{})
			rec := &entryRecorder{fn: func(ctx context.Context, e streamentry.Entry) (streamentry.Disposition, error) {
				select {
				case <-gate:
					return streamentry.Disposition{}, nil
				case <-ctx.Done():
					return streamentry.Disposition{}, ctx.Err()
				}
			}}
			s := testStream(srv, "orders")
			s.Concurrency = 2
			s.ReadAhead = 2
			timeout := 200 * time.Millisecond
			if finish {
				timeout = 10 * time.Second
			}
			for i := range 10 { // before the start, so that the first read sees them all
				xadd(t, rdb, "orders", "payload", fmt.Sprint(i))
			}
			hs := startStreams(t, StreamConfig{Streams: []Stream{s}, Consumer: "c1", ShutdownTimeout: timeout}, rec)
			waitFor(t, 10*time.Second, "2 entries running and 2 read ahead", func() bool {
				return len(rec.snapshot()) == 2 && pendingCount(t, rdb, "orders", "g") == 4
			})
			lag := func() int64 { return rdb.XInfoGroups(ctx, "orders").Val()[0].Lag }
			if l := lag(); l != 6 {
				t.Errorf("lag = %d, want the 6 entries beyond the window left in Redis", l)
			}
			hs.cancel()
			if finish {
				waitFor(t, 10*time.Second, "shutdown started", hs.tr.stopping.Load)
				close(gate)
			}
			err := <-hs.done
			hs.done <- err
			if err != nil {
				t.Fatal(err)
			}
			calls, pending := len(rec.snapshot()), pendingCount(t, rdb, "orders", "g")
			if finish && (calls != 4 || pending != 0 || hs.tr.Stats().Handled != 4) {
				t.Errorf("%d calls, %d pending, stats %+v: want the 2 running and the 2 read-ahead entries handled and acked",
					calls, pending, hs.tr.Stats())
			}
			if !finish && (calls != 2 || pending != 4) {
				t.Errorf("%d calls, %d pending: want the 2 running entries timed out and the 2 read ahead never started, all 4 pending", calls, pending)
			}
			if !finish {
				// The 2 never started were released: idle for claim_idle, so the next XAUTOCLAIM of any
				// consumer takes them; the 2 that timed out were not.
				p, err := rdb.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: "orders", Group: "g", Start: "-", End: "+", Count: 10}).Result()
				if err != nil {
					t.Fatal(err)
				}
				released := 0
				for _, e := range p {
					if e.Idle >= s.ClaimIdle {
						released++
					}
				}
				if released != 2 {
					t.Errorf("pending %+v: want exactly the 2 entries read ahead released (idle >= %v)", p, s.ClaimIdle)
				}
			}
			if l := lag(); l != 6 {
				t.Errorf("lag after shutdown = %d, want 6 (never read)", l)
			}
		})
	}
}

// An entry whose handler runs longer than claim_idle is claimed back by its own consumer's XAUTOCLAIM while
// still running: it is not started twice, and its slot is not counted twice (no more than concurrency
// handlers run at once afterwards, and the reader does not stall).
func TestStreamClaimedBackWhileRunningKeepsSlots(t *testing.T) {
	srv := redisserver.Start(t, redisserver.Options{})
	rdb := srv.Client()
	var running, most atomic.Int64
	gate := make(chan struct{})
	rec := &entryRecorder{fn: func(ctx context.Context, e streamentry.Entry) (streamentry.Disposition, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		if string(e.Payload) == "slow" {
			<-gate
		} else {
			time.Sleep(10 * time.Millisecond)
		}
		return streamentry.Disposition{}, nil
	}}
	s := testStream(srv, "orders")
	s.Concurrency = 2
	s.ClaimIdle = 150 * time.Millisecond
	hs := startStreams(t, StreamConfig{Streams: []Stream{s}, Consumer: "c1"}, rec)
	slow := xadd(t, rdb, "orders", "payload", "slow")
	waitFor(t, 10*time.Second, "the slow entry claimed back while running", func() bool {
		return hs.tr.Stats().Claimed >= 2
	})
	for i := range 40 {
		xadd(t, rdb, "orders", "payload", fmt.Sprint(i))
	}
	waitFor(t, 10*time.Second, "the other entries handled", func() bool { return len(rec.snapshot()) == 41 })
	if got := rec.byID(slow); len(got) != 1 {
		t.Errorf("the slow entry was started %d times while running, want once", len(got))
	}
	// Once it returns, a claim before its XACK reaches Redis may deliver it again (at-least-once).
	close(gate)
	waitFor(t, 10*time.Second, "nothing pending", func() bool { return pendingCount(t, rdb, "orders", "g") == 0 })
	if m := most.Load(); m > 2 {
		t.Errorf("%d handlers ran at once, want at most concurrency 2", m)
	}
}

// With the default window a process reads 16 entries ahead at concurrency 1, and the rest of the backlog
// stays in Redis.
func TestStreamReadAheadDefault(t *testing.T) {
	srv := redisserver.Start(t, redisserver.Options{})
	rdb := srv.Client()
	ctx := context.Background()
	gate := make(chan struct{})
	rec := &entryRecorder{fn: func(ctx context.Context, e streamentry.Entry) (streamentry.Disposition, error) {
		<-gate
		return streamentry.Disposition{}, nil
	}}
	for i := range 40 {
		xadd(t, rdb, "orders", "payload", fmt.Sprint(i))
	}
	hs := startStreams(t, StreamConfig{Streams: []Stream{testStream(srv, "orders")}, Consumer: "c1"}, rec)
	waitFor(t, 10*time.Second, "1 entry running and 16 read ahead", func() bool {
		return len(rec.snapshot()) == 1 && pendingCount(t, rdb, "orders", "g") == 17
	})
	if l := rdb.XInfoGroups(ctx, "orders").Val()[0].Lag; l != 23 {
		t.Errorf("lag = %d, want the 23 entries beyond the window left in Redis", l)
	}
	close(gate)
	waitFor(t, 10*time.Second, "all 40 handled and acked", func() bool {
		return hs.tr.Stats().Handled == 40 && pendingCount(t, rdb, "orders", "g") == 0
	})
	if n := len(rec.snapshot()); n != 40 {
		t.Errorf("%d calls, want 40 (each entry once)", n)
	}
	for i, c := range rec.snapshot() {
		if c.payload != fmt.Sprint(i) {
			t.Fatalf("call %d got payload %q: want stream order", i, c.payload)
		}
	}
}

// Entries waiting in the read-ahead window keep their lease: while slow handlers run, another consumer's
// XAUTOCLAIM never takes them (without renewal the last one would wait longer than claim_idle), and an
// entry another consumer took anyway is skipped, not handled twice.
func TestStreamReadAheadLease(t *testing.T) {
	srv := redisserver.Start(t, redisserver.Options{})
	rdb := srv.Client()
	ctx := context.Background()
	const slow = 400 * time.Millisecond
	rec := &entryRecorder{fn: func(ctx context.Context, e streamentry.Entry) (streamentry.Disposition, error) {
		select {
		case <-time.After(slow):
			return streamentry.Disposition{}, nil
		case <-ctx.Done():
			return streamentry.Disposition{}, ctx.Err()
		}
	}}
	var ids []string
	for i := range 5 {
		ids = append(ids, xadd(t, rdb, "orders", "payload", fmt.Sprint(i)))
	}
	s := testStream(srv, "orders")
	s.ClaimIdle = time.Second
	s.ReadAhead = 4
	hs := startStreams(t, StreamConfig{Streams: []Stream{s}, Consumer: "c1"}, rec)
	waitFor(t, 10*time.Second, "1 running and 4 read ahead", func() bool {
		return len(rec.snapshot()) == 1 && pendingCount(t, rdb, "orders", "g") == 5
	})
	// Another consumer takes the last entry read ahead outright.
	if err := rdb.XClaimJustID(ctx, &redis.XClaimArgs{Stream: "orders", Group: "g", Consumer: "thief", MinIdle: 0,
		Messages: []string{ids[4]}}).Err(); err != nil {
		t.Fatal(err)
	}
	// and claims whatever stays idle for claim_idle while c1 works through its window (5 x 400 ms).
	stolen := map[string]bool{}
	deadline := time.Now().Add(10 * time.Second)
	for hs.tr.Stats().Handled < 4 && time.Now().Before(deadline) {
		got, _, err := rdb.XAutoClaimJustID(ctx, &redis.XAutoClaimArgs{Stream: "orders", Group: "g", Consumer: "thief",
			MinIdle: s.ClaimIdle, Start: "0-0", Count: 10}).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range got {
			if id != ids[4] {
				stolen[id] = true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(stolen) != 0 {
		t.Errorf("entries %v claimed by another consumer while waiting in the window", stolen)
	}
	waitFor(t, 10*time.Second, "4 handled", func() bool { return hs.tr.Stats().Handled == 4 })
	hs.cancel() // before c1's own XAUTOCLAIM could take entry 4 back from the thief
	err := <-hs.done
	hs.done <- err
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		want := 1
		if i == 4 {
			want = 0
		}
		if n := len(rec.byID(id)); n != want {
			t.Errorf("entry %d handled %d times by c1, want %d", i, n, want)
		}
	}
	p, err := rdb.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: "orders", Group: "g", Start: "-", End: "+", Count: 10}).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 1 || p[0].ID != ids[4] || p[0].Consumer != "thief" || p[0].RetryCount != 1 {
		t.Errorf("pending = %+v, want only entry 4, on thief, delivered once (the lease renewals count no delivery)", p)
	}
	if !strings.Contains(hs.logs.String(), "claimed by another consumer") {
		t.Errorf("no log line for the skipped entry:\n%s", hs.logs.String())
	}
}
