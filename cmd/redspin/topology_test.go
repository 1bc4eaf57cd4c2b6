package main

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/redisurl"
	"github.com/redspin/redspin/internal/streamentry"
	"github.com/redspin/redspin/internal/testutil/redistopo"
)

// topo holds the cluster, started once for the package.
var topo redistopo.Shared

func TestMain(m *testing.M) { topo.Main(m) }

// TestClusterPublishAndDeadLetters: `redspin publish` on a redis+cluster://
// address reports the subscribers of every node (PUBLISH alone counts only
// the node that took it), and `redspin dead-letters` lists and replays a
// dead-letter stream whose source stream is in another slot.
func TestClusterPublishAndDeadLetters(t *testing.T) {
	c := topo.Cluster(t)
	ctx := context.Background()
	// Two subscribers, on two different nodes.
	var subs []*redis.PubSub
	for _, n := range c.Nodes()[:2] {
		nc := n.Client()
		defer nc.Close()
		ps := nc.Subscribe(ctx, "cl-pub")
		defer ps.Close()
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		subs = append(subs, ps)
	}
	u, err := redisurl.Parse(c.URL())
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, ctx, "", "publish", "-a", c.URL(), "cl-pub", "hello")
	if want := "Published 5 bytes to " + u.Display() + "/cl-pub: 2 subscribers across the cluster\n"; code != exitOK || out != want {
		t.Fatalf("publish: exit %d\n%q\nwant %q\n%s", code, out, want, errOut)
	}
	for _, ps := range subs {
		if m, err := ps.ReceiveMessage(ctx); err != nil || m.Payload != "hello" {
			t.Fatalf("subscriber: %v %v", m, err)
		}
	}

	rc := redisurl.NewClient(u.UniversalOptions())
	defer rc.Close()
	if rc.ClusterKeySlot(ctx, "orders").Val() == rc.ClusterKeySlot(ctx, "orders:dead").Val() {
		t.Fatal("test keys share a slot")
	}
	// The cluster is the package's: start from empty streams, so that the test also passes with -count.
	for _, k := range []string{"orders", "orders:dead"} {
		if err := rc.Del(ctx, k).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := rc.XAdd(ctx, &redis.XAddArgs{Stream: "orders:dead", ID: "5-1", Values: []any{"payload", "a",
		streamentry.FieldStream, "orders", streamentry.FieldID, "1-1", streamentry.FieldGroup, "g",
		streamentry.FieldComponent, "h", streamentry.FieldDeliveries, "5", streamentry.FieldError, "boom",
		streamentry.FieldTime, "2026-12-03T10:00:00Z"}}).Err(); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, ctx, "", "dead-letters", "list", "-a", c.URL(), "--stream", "orders")
	if code != exitOK || !strings.Contains(out, "5-1  1-1") || !strings.Contains(out, "boom") {
		t.Fatalf("dead-letters list: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, ctx, "", "dead-letters", "replay", "-a", c.URL(), "--stream", "orders", "--all")
	got := rc.XRange(ctx, "orders", "-", "+").Val()
	if code != exitOK || len(got) != 1 || got[0].Values["payload"] != "a" || rc.XLen(ctx, "orders:dead").Val() != 0 {
		t.Fatalf("dead-letters replay: exit %d, source %+v\n%s%s", code, got, out, errOut)
	}
}
