package trigger

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/admin"
	"github.com/redspin/redspin/internal/streamentry"
	"github.com/redspin/redspin/internal/testutil/redisserver"
)

// entryCall is one recorded HandleEntry invocation.
type entryCall struct {
	id         string
	payload    string
	deliveries int64
}

// entryRecorder is a fake streamentry.Handler that records calls and answers with fn (nil: ack).
type entryRecorder struct {
	mu    sync.Mutex
	calls []entryCall
	fn    func(ctx context.Context, e streamentry.Entry) (streamentry.Disposition, error)
}

func (r *entryRecorder) HandleEntry(ctx context.Context, _ string, e streamentry.Entry) (streamentry.Disposition, error) {
	r.mu.Lock()
	r.calls = append(r.calls, entryCall{e.ID, string(e.Payload), e.Deliveries})
	fn := r.fn
	r.mu.Unlock()
	if fn != nil {
		return fn(ctx, e)
	}
	return streamentry.Disposition{}, nil
}

func (r *entryRecorder) snapshot() []entryCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]entryCall(nil), r.calls...)
}

// byID returns the calls for one entry ID.
func (r *entryRecorder) byID(id string) []entryCall {
	var out []entryCall
	for _, c := range r.snapshot() {
		if c.id == id {
			out = append(out, c)
		}
	}
	return out
}

// streamHarness runs a StreamTrigger against a real redis-server.
type streamHarness struct {
	runner
	tr      *StreamTrigger
	metrics *admin.Metrics
}

// testStream is a Stream on srv with short test timings.
func testStream(srv *redisserver.Server, key string) Stream {
	return Stream{
		Display: srv.Addr(), Options: &redis.UniversalOptions{Addrs: []string{srv.Addr()}},
		Component: "comp", Key: key, Group: "g", RetryBackoff: 20 * time.Millisecond, ClaimIdle: 10 * time.Second,
	}
}

// startStreams starts a StreamTrigger and waits until it is ready.
func startStreams(t *testing.T, cfg StreamConfig, h streamentry.Handler) *streamHarness {
	t.Helper()
	hs := &streamHarness{runner: newRunner(t, "stream trigger", 20*time.Second), metrics: admin.NewMetrics()}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(hs.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if cfg.Observer == nil {
		cfg.Observer = hs.metrics
	}
	if cfg.Block == 0 {
		cfg.Block = 100 * time.Millisecond
	}
	if cfg.Refresh == 0 {
		cfg.Refresh = 50 * time.Millisecond
	}
	if cfg.ConsumerIdle == 0 {
		cfg.ConsumerIdle = -1
	}
	tr, err := NewStream(cfg, h)
	if err != nil {
		t.Fatalf("NewStream: %v", err)
	}
	hs.tr = tr
	hs.start(tr.Run)
	hs.waitReady(tr.Ready)
	return hs
}

// xadd adds an entry with field payload=v and returns its ID.
func xadd(t *testing.T, rdb *redis.Client, stream string, values ...any) string {
	t.Helper()
	id, err := rdb.XAdd(context.Background(), &redis.XAddArgs{Stream: stream, Values: values}).Result()
	if err != nil {
		t.Fatalf("XADD %s: %v", stream, err)
	}
	return id
}

// pendingCount is the group's XPENDING count.
func pendingCount(t *testing.T, rdb *redis.Client, stream, group string) int64 {
	t.Helper()
	p, err := rdb.XPending(context.Background(), stream, group).Result()
	if err != nil {
		t.Fatalf("XPENDING: %v", err)
	}
	return p.Count
}
