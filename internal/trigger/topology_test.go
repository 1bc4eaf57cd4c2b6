package trigger

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/admin"
	"github.com/redspin/redspin/internal/redisurl"
	"github.com/redspin/redspin/internal/streamentry"
	"github.com/redspin/redspin/internal/testutil/redistopo"
)

// topo holds the Sentinel and Cluster topologies, started once for the
// package (a cluster takes seconds to form).
var topo redistopo.Shared

func TestMain(m *testing.M) { topo.Main(m) }

// topoURL parses a topology's URL.
func topoURL(t *testing.T, raw string) *redisurl.URL {
	t.Helper()
	u, err := redisurl.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// topoClient is a client for u's topology (it follows failovers and
// routes by key), closed at cleanup.
func topoClient(t *testing.T, u *redisurl.URL) redis.UniversalClient {
	c := redisurl.NewClient(u.UniversalOptions())
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// gapWatch samples healthy every 2 ms until its stop is called, which
// reports whether healthy was ever false and when it first became true
// again after that.
func gapWatch(healthy func() bool) (stop func() (gap bool, upAt time.Time)) {
	var gap bool
	var upAt time.Time
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			switch h := healthy(); {
			case !h:
				gap, upAt = true, time.Time{}
			case gap && upAt.IsZero():
				upAt = time.Now()
			}
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	})
	return func() (bool, time.Time) { close(done); wg.Wait(); return gap, upAt }
}

// publishExact publishes n numbered messages to channel through pub and
// fails unless each PUBLISH counted exactly want receivers.
func publishExact(t *testing.T, pub redis.UniversalClient, channel, prefix string, n int, want int64) {
	t.Helper()
	for i := range n {
		got, err := pub.Publish(context.Background(), channel, prefix+strconv.Itoa(i)).Result()
		if err != nil || got != want {
			t.Fatalf("PUBLISH %s%d = %d, %v; want %d receivers", prefix, i, got, err, want)
		}
	}
}

// TestSentinelPubSubFailover: the pub/sub trigger on a redis+sentinel://
// URL follows the primary across a SENTINEL FAILOVER and across the
// primary being killed: /healthz is 503 in the gap, the reconnect metric
// counts it, and every message published to the primary before and after
// (each counted by PUBLISH as received) is handled exactly once, in order.
func TestSentinelPubSubFailover(t *testing.T) {
	s := topo.Sentinel(t)
	u := topoURL(t, s.URL())
	rec := &recorder{}
	hs := started(t, Config{Servers: []Server{{Display: u.Display(), Options: u.UniversalOptions(),
		Channels: []Channel{{Name: "fo", Components: []string{"x"}}}}}}, rec)
	admin := httpAdmin(t, hs.tr)
	pub := topoClient(t, u)

	want := []string{}
	phase := func(prefix string, n int) {
		t.Helper()
		publishExact(t, pub, "fo", prefix, n, 1)
		for i := range n {
			want = append(want, prefix+strconv.Itoa(i))
		}
		waitFor(t, 10*time.Second, prefix+" handled", func() bool { return rec.count() >= len(want) })
	}
	phase("before-", 50)

	for i, how := range []string{"SENTINEL FAILOVER", "kill the primary"} {
		sawGap := gapWatch(hs.tr.Healthy)
		var sw redistopo.Switch
		var err error
		if i == 0 {
			sw, err = s.Failover()
		} else {
			sw, err = s.KillPrimary()
		}
		if err != nil {
			t.Fatalf("%s: %v", how, err)
		}
		primary := sw.New
		// Resubscribed on the new primary: the trigger says so and the
		// primary counts its subscriber.
		pc := s.Node(primary).Client()
		waitFor(t, 20*time.Second, "resubscribed on the new primary", func() bool {
			m, err := pc.PubSubNumSub(context.Background(), "fo").Result()
			return err == nil && m["fo"] == 1 && hs.tr.Healthy()
		})
		_ = pc.Close()
		t.Logf("%s: %s -> %s; sentinels agreed after %s, trigger resubscribed on the new primary after %s",
			how, sw.Old, sw.New, sw.Agreed.Round(time.Millisecond), time.Since(sw.Forced).Round(time.Millisecond))
		if gap, _ := sawGap(); !gap {
			t.Errorf("%s: the trigger never reported unhealthy", how)
		}
		st := hs.tr.Stats()
		if st.Reconnects < uint64(i+1) {
			t.Errorf("%s: reconnects = %d, want >= %d", how, st.Reconnects, i+1)
		}
		if m := hs.metric(admin_MetricReconnects, map[string]string{"server": u.Display()}); m != float64(st.Reconnects) {
			t.Errorf("%s: reconnect metric = %v, stats say %d", how, m, st.Reconnects)
		}
		if code := probe(t, admin, "/healthz"); code != 200 {
			t.Errorf("%s: /healthz = %d after resubscribing", how, code)
		}
		phase(fmt.Sprintf("after-%d-", i), 50)
	}
	time.Sleep(50 * time.Millisecond) // a duplicate would show up by now
	if got := rec.payloads("x"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("handled %d messages, want exactly the %d published:\ngot  %v\nwant %v", len(got), len(want), got, want)
	}
}

// admin_MetricReconnects names the reconnect metric (admin is shadowed in
// the test above).
const admin_MetricReconnects = admin.MetricReconnects

// TestSentinelStreamFailover: the stream trigger continues its consumer
// group on the new primary. Entries acknowledged (and replicated, WAIT)
// before the failover are not delivered again; an entry in flight at the
// failover stays pending in the replicated group and, failed once, is
// redelivered by the new primary with delivery count 2; entries added after
// the failover are handled. Exact accounting of every entry.
func TestSentinelStreamFailover(t *testing.T) {
	s := topo.Sentinel(t)
	u := topoURL(t, s.URL())
	rdb := topoClient(t, u)
	ctx := context.Background()
	key := "fo-stream-" + strconv.FormatInt(time.Now().UnixNano(), 36)

	release := make(chan struct{})
	var held atomic.Bool
	rec := &entryRecorder{fn: func(ctx context.Context, e streamentry.Entry) (streamentry.Disposition, error) {
		if string(e.Payload) == "held" && e.Deliveries == 1 {
			held.Store(true)
			<-release
			return streamentry.Disposition{}, fmt.Errorf("fails once, after the failover")
		}
		return streamentry.Disposition{}, nil
	}}
	st := Stream{Display: u.Display(), Options: u.UniversalOptions(), Component: "comp", Key: key, Group: "g",
		Concurrency: 2, RetryBackoff: 20 * time.Millisecond, ClaimIdle: 10 * time.Second}
	hs := startStreams(t, StreamConfig{Streams: []Stream{st}}, rec)
	defer close(release)

	var before []string
	for i := range 20 {
		before = append(before, xaddU(t, rdb, key, "payload", "b"+strconv.Itoa(i)))
	}
	waitFor(t, 10*time.Second, "entries acked", func() bool {
		n, err := rdb.XPending(ctx, key, "g").Result()
		return err == nil && n.Count == 0 && len(rec.snapshot()) == 20
	})
	heldID := xaddU(t, rdb, key, "payload", "held")
	waitFor(t, 10*time.Second, "held entry in flight", held.Load)
	// The group state (20 acks, 1 pending) reaches the replica before the
	// failover: what async replication does not promise without WAIT.
	if n, err := rdb.Do(ctx, "WAIT", 1, 5000).Int(); err != nil || n < 1 {
		t.Fatalf("WAIT = %d, %v", n, err)
	}
	sw, err := s.Failover()
	if err != nil {
		t.Fatal(err)
	}
	release <- struct{}{}
	var after []string
	for i := range 20 {
		after = append(after, xaddU(t, rdb, key, "payload", "a"+strconv.Itoa(i)))
	}
	waitFor(t, 20*time.Second, "all entries handled and acked on the new primary", func() bool {
		n, err := rdb.XPending(ctx, key, "g").Result()
		return err == nil && n.Count == 0 && len(rec.snapshot()) == 20+2+20
	})
	t.Logf("stream: %s -> %s; every entry acked on the new primary %s after SENTINEL FAILOVER", sw.Old, sw.New,
		time.Since(sw.Forced).Round(time.Millisecond))
	for _, id := range append(before, after...) {
		if c := rec.byID(id); len(c) != 1 {
			t.Errorf("entry %s handled %d times, want 1", id, len(c))
		}
	}
	if c := rec.byID(heldID); len(c) != 2 || c[0].deliveries != 1 || c[1].deliveries != 2 {
		t.Errorf("held entry deliveries = %+v, want 1 then 2", c)
	}
	if got := hs.tr.Stats(); got.DeadLettered != 0 || got.Handled != 41 || got.Failed != 1 {
		t.Errorf("stats = %+v", got)
	}
}

// xaddU adds an entry through a topology client and returns its ID.
func xaddU(t *testing.T, rdb redis.UniversalClient, stream string, values ...any) string {
	t.Helper()
	id, err := rdb.XAdd(context.Background(), &redis.XAddArgs{Stream: stream, Values: values}).Result()
	if err != nil {
		t.Fatalf("XADD %s: %v", stream, err)
	}
	return id
}

// TestClusterPubSub: the pub/sub trigger on a redis+cluster:// URL uses
// classic SUBSCRIBE on one node and receives PUBLISH sent to any node
// (Redis broadcasts it across the cluster); when that node is killed it
// resubscribes through the cluster's new primary. Every message is handled
// exactly once.
func TestClusterPubSub(t *testing.T) {
	c := topo.Cluster(t)
	u := topoURL(t, c.URL())
	rec := &recorder{}
	const channel = "cluster-ch"
	hs := started(t, Config{Servers: []Server{{Display: u.Display(), Options: u.UniversalOptions(),
		Channels: []Channel{{Name: channel, Components: []string{"x"}}}}}}, rec)

	var want []string
	// publishEverywhere publishes n messages on every running node and
	// checks the receiver counts: 1 on the node the trigger is on, 0 on the
	// others (PUBLISH counts only its node's subscribers).
	publishEverywhere := func(prefix string, n int) {
		t.Helper()
		counted := int64(0)
		for _, node := range c.Nodes() {
			if node.Pid() == 0 {
				continue
			}
			nc := node.Client()
			for i := range n {
				p := fmt.Sprintf("%s%d-%d", prefix, node.Port, i)
				got, err := nc.Publish(context.Background(), channel, p).Result()
				if err != nil {
					t.Fatalf("PUBLISH on %s: %v", node.Addr(), err)
				}
				counted += got
				want = append(want, p)
			}
			_ = nc.Close()
		}
		if counted != int64(n) {
			t.Errorf("PUBLISH counted %d receivers over all nodes, want %d (one subscriber on one node)", counted, n)
		}
		waitFor(t, 10*time.Second, prefix+" handled", func() bool { return rec.count() >= len(want) })
	}
	publishEverywhere("before-", 10)

	sawGap := gapWatch(hs.tr.Healthy)
	sw, err := c.KillPrimary(channel)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "resubscribed", func() bool { return hs.tr.Healthy() && hs.tr.Stats().Reconnects >= 1 })
	gap, upAt := sawGap()
	if !gap {
		t.Errorf("the trigger never reported unhealthy")
	}
	t.Logf("killed %s (the node serving the channel's slot); %s took over after %s; the trigger resubscribed %s after the kill",
		sw.Old, sw.New, sw.Agreed.Round(time.Millisecond), upAt.Sub(sw.Forced).Round(time.Millisecond))
	publishEverywhere("after-", 10)
	time.Sleep(50 * time.Millisecond) // a duplicate would show up by now
	got := rec.payloads("x")
	if len(got) != len(want) {
		t.Fatalf("handled %d messages, want %d", len(got), len(want))
	}
	seen := map[string]bool{}
	for _, p := range got {
		seen[p] = true
	}
	for _, p := range want {
		if !seen[p] {
			t.Errorf("message %q not handled", p)
		}
	}
}

// TestClusterStreams: two stream triggers whose keys live on different
// nodes read, acknowledge, retry and dead-letter there. One dead-letter
// stream is in another slot than its stream (the atomic script gets
// CROSSSLOT; the trigger falls back to XADD then XACK), the other shares its
// stream's slot through a hash tag (the script runs). Exact accounting: each
// good entry handled once and acked, each bad one dead-lettered once.
func TestClusterStreams(t *testing.T) {
	c := topo.Cluster(t)
	u := topoURL(t, c.URL())
	rdb := topoClient(t, u)
	ctx := context.Background()
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	plain, tagged := "plain-"+suffix, "{tag-"+suffix+"}.stream"
	pNode, _, err := c.Owner(plain)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ { // a tagged key on another node than the plain one
		tagged = "{tag-" + suffix + strconv.Itoa(i) + "}.stream"
		if tNode, _, err := c.Owner(tagged); err == nil && tNode != pNode {
			break
		}
		if i > 100 {
			t.Fatal("no key on another node")
		}
	}
	if slot := func(k string) int64 { return rdb.ClusterKeySlot(ctx, k).Val() }; slot(plain) == slot(plain+DefaultDeadLetterSuffix) ||
		slot(tagged) != slot(tagged+DefaultDeadLetterSuffix) {
		t.Fatalf("test keys: want the plain dead-letter key in another slot and the tagged one in the same")
	}
	rec := &entryRecorder{fn: func(_ context.Context, e streamentry.Entry) (streamentry.Disposition, error) {
		if strings.HasPrefix(string(e.Payload), "bad") {
			return streamentry.Disposition{}, fmt.Errorf("bad entry")
		}
		return streamentry.Disposition{}, nil
	}}
	var streams []Stream
	for _, key := range []string{plain, tagged} {
		streams = append(streams, Stream{Display: u.Display(), Options: u.UniversalOptions(), Component: "comp",
			Key: key, Group: "g", MaxDeliveries: 2, RetryBackoff: 10 * time.Millisecond, ClaimIdle: 10 * time.Second})
	}
	hs := startStreams(t, StreamConfig{Streams: streams}, rec)

	// Payloads name their stream: entry IDs of two streams can be equal.
	var good []string
	bad := map[string][]string{} // stream → IDs
	for _, key := range []string{plain, tagged} {
		for i := range 10 {
			p := key + "-ok" + strconv.Itoa(i)
			xaddU(t, rdb, key, "payload", p)
			good = append(good, p)
		}
		for i := range 2 {
			bad[key] = append(bad[key], xaddU(t, rdb, key, "payload", "bad-"+key+strconv.Itoa(i)))
		}
	}
	waitFor(t, 20*time.Second, "entries handled and dead-lettered", func() bool {
		for _, key := range []string{plain, tagged} {
			p, err := rdb.XPending(ctx, key, "g").Result()
			n, _ := rdb.XLen(ctx, key+DefaultDeadLetterSuffix).Result()
			if err != nil || p.Count != 0 || n != 2 {
				return false
			}
		}
		return true
	})
	calls := map[string]int{}
	for _, c := range rec.snapshot() {
		calls[c.payload]++
	}
	for _, p := range good {
		if calls[p] != 1 {
			t.Errorf("entry %s handled %d times, want 1", p, calls[p])
		}
	}
	for _, key := range []string{plain, tagged} {
		dead, err := rdb.XRange(ctx, key+DefaultDeadLetterSuffix, "-", "+").Result()
		if err != nil || len(dead) != 2 {
			t.Fatalf("%s dead letters = %v, %v", key, dead, err)
		}
		for i, d := range dead {
			if d.Values[streamentry.FieldID] != bad[key][i] || d.Values[streamentry.FieldStream] != key {
				t.Errorf("%s dead letter %d = %v, want the entry %s", key, i, d.Values, bad[key][i])
			}
			if p := "bad-" + key + strconv.Itoa(i); calls[p] != 2 {
				t.Errorf("%s handled %d times, want 2 (max_deliveries)", p, calls[p])
			}
		}
	}
	if len(rec.snapshot()) != 20+4*2 {
		t.Errorf("%d handler calls, want %d", len(rec.snapshot()), 20+4*2)
	}
	if st := hs.tr.Stats(); st.Handled != 20 || st.DeadLettered != 4 {
		t.Errorf("stats = %+v", st)
	}
}
