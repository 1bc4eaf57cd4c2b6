package admin

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/observe"
	"github.com/redspin/redspin/internal/streamentry"
	"github.com/redspin/redspin/internal/testutil/redisserver"
	"github.com/redspin/redspin/internal/trigger"
)

// rejecter is a handler that fails every payload starting with "fail" and accepts the others.
type rejecter struct{}

func (rejecter) Handle(_ context.Context, id string, payload []byte) error {
	if strings.HasPrefix(string(payload), "fail") {
		return fmt.Errorf("component %q: payload %q rejected", id, payload)
	}
	return nil
}

// liveAdmin is a pub/sub trigger (channel "orders" -> component "checkout") and a stream trigger
// (stream "jobs", group "workers" -> component "ingest", one delivery before the dead-letter stream)
// on a real redis-server, recording into one Metrics served by an admin server.
type liveAdmin struct {
	base   string // admin server URL
	client *redis.Client
}

func startLiveAdmin(t *testing.T) *liveAdmin {
	t.Helper()
	rs := redisserver.Start(t, redisserver.Options{})
	opts := &redis.UniversalOptions{Addrs: []string{rs.Addr()}}
	m := NewMetrics()
	m.SetBuild(BuildInfo{Version: "(devel)", Wasmtime: "39.0.1", Go: "go1.26"})
	pubsub, err := trigger.New(trigger.Config{
		Servers: []trigger.Server{{Display: rs.Addr(), Options: opts,
			Channels: []trigger.Channel{{Name: "orders", Components: []string{"checkout"}}}}},
		Observer: m,
	}, rejecter{})
	if err != nil {
		t.Fatal(err)
	}
	streams, err := trigger.NewStream(trigger.StreamConfig{
		Streams: []trigger.Stream{{Display: rs.Addr(), Options: opts, Component: "ingest", Key: "jobs",
			Group: "workers", MaxDeliveries: 1}},
		Consumer: "test-consumer",
		Refresh:  100 * time.Millisecond,
		Observer: m,
	}, streamentry.FromPlain(rejecter{}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- pubsub.Run(ctx) }()
	go func() { done <- streams.Run(ctx) }()
	srv, err := Start("127.0.0.1:0", m, observe.Merge(pubsub, streams), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				t.Errorf("trigger Run: %v", err)
			}
		}
		_ = srv.Close(context.Background())
	})
	l := &liveAdmin{base: "http://" + srv.Addr(), client: rs.Client()}
	l.waitStatus(t, "ready", func(r StatusReport) bool { return r.Ready && r.Healthy })
	return l
}

// publish sends payloads to the channel and the stream.
func (l *liveAdmin) publish(t *testing.T, payloads ...string) {
	t.Helper()
	ctx := context.Background()
	for _, p := range payloads {
		if err := l.client.Publish(ctx, "orders", p).Err(); err != nil {
			t.Fatal(err)
		}
		if err := l.client.XAdd(ctx, &redis.XAddArgs{Stream: "jobs", Values: []string{"payload", p}}).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// waitStatus polls /status.json until ok holds (10 s at most) and returns the report.
func (l *liveAdmin) waitStatus(t *testing.T, what string, ok func(StatusReport) bool) StatusReport {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := getStatus(t, l.base)
		if ok(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("/status.json never showed %s; last: %+v", what, r)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func component(r StatusReport, id string) ComponentReport {
	for _, c := range r.Components {
		if c.Component == id {
			return c
		}
	}
	return ComponentReport{}
}

func TestStatusJSONLive(t *testing.T) {
	l := startLiveAdmin(t)
	l.publish(t, "a", "b", "fail-1", "c")
	r := l.waitStatus(t, "every message settled", func(r StatusReport) bool {
		// A scrape is not atomic: counters, histograms and the last error move one after the other, so wait
		// for every one of them. The stream trigger counts a batch as received after starting its handlers.
		settled := func(id string) bool {
			c := component(r, id)
			return c.Handled+c.Failed == 4 && c.Duration.Count == 4 && c.LastError != nil
		}
		return len(r.Streams) == 1 && r.Streams[0].DeadLettered == 1 && r.Streams[0].Received == 4 &&
			r.Streams[0].Handled+r.Streams[0].Failed == 4 && r.Streams[0].Duration.Count == 4 &&
			settled("checkout") && settled("ingest")
	})
	if len(r.Servers) != 1 || r.Servers[0].State != "subscribed" || !r.Servers[0].Connected || r.Servers[0].Reconnects != 0 {
		t.Errorf("servers = %+v", r.Servers)
	}
	if len(r.Channels) != 1 || r.Channels[0].Channel != "orders" || r.Channels[0].Received != 4 || r.Channels[0].QueueDepth != 0 {
		t.Errorf("channels = %+v", r.Channels)
	}
	s := r.Streams[0]
	if s.Stream != "jobs" || s.Group != "workers" || s.Consumer != "test-consumer" || s.State != "reading" ||
		s.Received != 4 || s.Handled != 3 || s.Failed != 1 || s.Retried != 0 || s.Duration.Count != 4 || s.Duration.P50 == nil {
		t.Errorf("stream = %+v", s)
	}
	for _, id := range []string{"checkout", "ingest"} {
		c := component(r, id)
		if c.Handled != 3 || c.Failed != 1 || c.TimedOut != 0 || c.Duration.Count != 4 {
			t.Errorf("component %s = %+v", id, c)
		}
		if c.LastError == nil || c.LastError.Error != fmt.Sprintf(`component %q: payload "fail-1" rejected`, id) ||
			time.Since(c.LastError.Time) > time.Minute {
			t.Errorf("component %s last error = %+v", id, c.LastError)
		}
	}
	code, body := get(t, l.base+"/metrics")
	for _, line := range []string{
		fmt.Sprintf(`redspin_stream_connected{group="workers",server=%q,stream="jobs"} 1`, s.Server),
		fmt.Sprintf(`redspin_stream_reconnects_total{group="workers",server=%q,stream="jobs"} 0`, s.Server),
		fmt.Sprintf(`redspin_stream_entries_timed_out_total{group="workers",server=%q,stream="jobs"} 0`, s.Server),
	} {
		if code != 200 || !strings.Contains(body, line) {
			t.Errorf("/metrics (%d) lacks %s", code, line)
		}
	}
	// The group state is refreshed every 100 ms: nothing pending (all acknowledged or dead-lettered),
	// nothing left to deliver.
	l.waitStatus(t, "the group's pending 0 and lag 0", func(r StatusReport) bool {
		return r.Streams[0].Pending == 0 && r.Streams[0].Lag != nil && *r.Streams[0].Lag == 0
	})
}
