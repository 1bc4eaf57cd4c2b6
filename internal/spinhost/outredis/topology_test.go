package outredis

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/spinhost/allowedhosts"
	"github.com/redspin/redspin/internal/testutil/redistopo"
)

// topo holds the Sentinel and Cluster topologies, started once for the
// package.
var topo redistopo.Shared

func TestMain(m *testing.M) { topo.Main(m) }

// TestKeySlot checks the slot function against Redis's documented values.
func TestKeySlot(t *testing.T) {
	for key, want := range map[string]uint16{"123456789": 0x31C3 % 16384, "foo": 12182, "{user1000}.following": 3443,
		"{user1000}.followers": 3443, "foo{}{bar}": keySlot([]byte("foo{}{bar}")), "{}x": crc16([]byte("{}x")) % 16384} {
		if got := keySlot([]byte(key)); got != want {
			t.Errorf("keySlot(%q) = %d, want %d", key, got, want)
		}
	}
}

// TestSentinelOutbound: a redis+sentinel:// address reaches the primary;
// after a failover the next Open reaches the new one and sees the data
// written before (replicated with WAIT). A primary the sentinels name that
// allowed_outbound_hosts does not allow is refused before any connection.
func TestSentinelOutbound(t *testing.T) {
	s := topo.Sentinel(t)
	ctx := context.Background()
	inst := newInstance(t, Config{})
	h := mustOpen(t, inst, s.URL())
	if err := inst.Set(ctx, h, "out-k", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	if res, err := inst.Execute(ctx, h, "WAIT", []Param{IntParam(1), IntParam(5000)}); err != nil || res[0].Int64 < 1 {
		t.Fatalf("WAIT: %+v %v", res, err)
	}
	before, err := s.Primary()
	if err != nil {
		t.Fatal(err)
	}
	if res, err := inst.Execute(ctx, h, "ROLE", nil); err != nil || string(res[0].Binary) != "master" {
		t.Fatalf("ROLE: %+v %v", res, err)
	}
	sw, err := s.Failover()
	if err != nil || sw.Old != before {
		t.Fatalf("failover: %+v %v", sw, err)
	}
	h2 := mustOpen(t, inst, s.URL())
	if v, ok, err := inst.Get(ctx, h2, "out-k"); err != nil || !ok || string(v) != "v1" {
		t.Fatalf("GET on the new primary: %q %v %v", v, ok, err)
	}
	if err := inst.Set(ctx, h2, "out-k", []byte("v2")); err != nil {
		t.Fatalf("SET on the new primary: %v", err)
	}
	nc := s.Node(sw.New).Client()
	defer nc.Close()
	if v, err := nc.Get(ctx, "out-k").Result(); err != nil || v != "v2" {
		t.Fatalf("the new primary %s holds %q, %v", sw.New, v, err)
	}

	// Only the sentinels allowed: the primary they name is refused.
	var entries []string
	for _, n := range s.Sentinels {
		entries = append(entries, "redis://"+n.Addr())
	}
	pc := s.Node(sw.New).Client()
	defer pc.Close()
	conns := func() string { return connsReceived(t, pc) }
	// After the failover the sentinels and the replica connect to the new
	// primary for a while: wait until its count has been still for a second.
	was := settledConns(t, conns)
	denied := newInstance(t, Config{Allowed: allowedhosts.MustParse(entries...)})
	_, err = denied.Open(ctx, s.URL())
	if KindOf(err) != KindInvalidAddress || !strings.Contains(MessageOf(err), "primary named by sentinel") ||
		!strings.Contains(MessageOf(err), sw.New) {
		t.Fatalf("Open with the primary not allowed = %v", err)
	}
	if now := conns(); now != was {
		t.Errorf("the denied primary got a connection: %s, was %s", now, was)
	}
	// A sentinel the URL names but the list does not allow: refused at once.
	if _, err := newInstance(t, Config{Allowed: allowedhosts.MustParse(entries[0])}).Open(ctx, s.URL()); KindOf(err) != KindInvalidAddress {
		t.Fatalf("Open with a sentinel not allowed = %v", err)
	}
}

// TestClusterOutbound: a redis+cluster:// handle routes each command to the
// node serving its key (following and remembering MOVED), returns Redis's
// CROSSSLOT error for multi-key commands across slots as other(message), and
// runs them within one slot (hash tag). A node a redirection names that
// allowed_outbound_hosts does not allow gets no connection.
func TestClusterOutbound(t *testing.T) {
	c := topo.Cluster(t)
	ctx := context.Background()
	inst := newInstance(t, Config{})
	h := mustOpen(t, inst, c.URL())
	owners := map[string]bool{}
	for i := range 20 {
		k := "out-" + strconv.Itoa(i)
		if err := inst.Set(ctx, h, k, []byte(k)); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
		owner, _, err := c.Owner(k)
		if err != nil {
			t.Fatal(err)
		}
		owners[owner] = true
		for _, n := range c.Nodes() {
			if n.Addr() != owner {
				continue
			}
			nc := n.Client()
			if v, err := nc.Get(ctx, k).Result(); err != nil || v != k {
				t.Errorf("%s on its node %s = %q, %v", k, owner, v, err)
			}
			_ = nc.Close()
		}
		if v, ok, err := inst.Get(ctx, h, k); err != nil || !ok || string(v) != k {
			t.Errorf("GET %s = %q %v %v", k, v, ok, err)
		}
	}
	if len(owners) != 3 {
		t.Errorf("20 keys on %d primaries, want 3", len(owners))
	}
	// Multi-key across slots: Redis's CROSSSLOT error, as an error.
	_, err := inst.Execute(ctx, h, "MSET", []Param{BinaryParam([]byte("out-0")), IntParam(1), BinaryParam([]byte("out-1")), IntParam(2)})
	if KindOf(err) != KindOther || !strings.HasPrefix(MessageOf(err), "CROSSSLOT") {
		t.Fatalf("MSET across slots = %v", err)
	}
	if _, err := inst.Del(ctx, h, []string{"out-0", "out-1"}); KindOf(err) != KindOther || !strings.HasPrefix(MessageOf(err), "CROSSSLOT") {
		t.Fatalf("DEL across slots = %v", err)
	}
	// The handle still works, and one slot (hash tag) takes multi-key commands.
	if res, err := inst.Execute(ctx, h, "MSET", []Param{BinaryParam([]byte("{t}a")), IntParam(1), BinaryParam([]byte("{t}b")), IntParam(2)}); err != nil || res[0].Status != "OK" {
		t.Fatalf("MSET in one slot = %+v %v", res, err)
	}
	if n, err := inst.Del(ctx, h, []string{"{t}a", "{t}b"}); err != nil || n != 2 {
		t.Fatalf("DEL in one slot = %d %v", n, err)
	}

	// Only the first node allowed: a key on another node is refused, and
	// that node counts no new connection.
	nodes := c.Nodes()
	first := nodes[0]
	var other string
	for i := range 100 {
		k := "deny-" + strconv.Itoa(i)
		if owner, _, _ := c.Owner(k); owner != first.Addr() {
			other = k
			break
		}
	}
	owner, _, _ := c.Owner(other)
	var on *redistopo.Node
	for _, n := range nodes {
		if n.Addr() == owner {
			on = n
		}
	}
	oc := on.Client()
	defer oc.Close()
	stat := func() string { return connsReceived(t, oc) }
	was := settledConns(t, stat)
	denied := newInstance(t, Config{Allowed: allowedhosts.MustParse("redis://" + first.Addr())})
	dh := mustOpen(t, denied, "redis+cluster://"+first.Addr())
	_, _, err = denied.Get(ctx, dh, other)
	if KindOf(err) != KindInvalidAddress || !strings.Contains(MessageOf(err), "cluster node named by a redirection") {
		t.Fatalf("GET on a denied node = %v", err)
	}
	if now := stat(); now != was {
		t.Errorf("the denied node got a connection: %s, was %s", now, was)
	}
}

// settledConns polls conns until it has not changed for a second (at most
// 15 s) and returns it.
func settledConns(t *testing.T, conns func() string) string {
	t.Helper()
	last, since := conns(), time.Now()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		if now := conns(); now != last {
			last, since = now, time.Now()
		} else if time.Since(since) >= time.Second {
			return last
		}
	}
	t.Fatalf("connections to the node did not settle: %s", last)
	return ""
}

// connsReceived is the node's total_connections_received line.
func connsReceived(t *testing.T, c *redis.Client) string {
	t.Helper()
	info, err := c.Info(context.Background(), "stats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for l := range strings.SplitSeq(info, "\r\n") {
		if strings.HasPrefix(l, "total_connections_received:") {
			return l
		}
	}
	t.Fatal("INFO stats has no total_connections_received")
	return ""
}
