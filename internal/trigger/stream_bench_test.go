package trigger

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/streamentry"
	"github.com/redspin/redspin/internal/testutil/redisserver"
)

type countHandler struct{ n atomic.Int64 }

func (c *countHandler) HandleEntry(context.Context, string, streamentry.Entry) (streamentry.Disposition, error) {
	c.n.Add(1)
	return streamentry.Disposition{}, nil
}

// BenchmarkStreamTrigger measures the trigger's own throughput (a no-op handler) on a pre-filled stream
// against a real redis-server: read, handle, ack. It reports entries/s for concurrency 1 and 8.
func BenchmarkStreamTrigger(b *testing.B) {
	for _, conc := range []int{1, 2, 8} {
		b.Run(fmt.Sprint("concurrency=", conc), func(b *testing.B) {
			srv := redisserver.Start(b, redisserver.Options{})
			rdb := srv.Client()
			ctx := context.Background()
			n := max(b.N, 1000)
			for i := 0; i < n; i += 500 {
				pipe := rdb.Pipeline()
				for j := i; j < min(i+500, n); j++ {
					pipe.XAdd(ctx, &redis.XAddArgs{Stream: "bench", Values: []any{"payload", "x"}})
				}
				if _, err := pipe.Exec(ctx); err != nil {
					b.Fatal(err)
				}
			}
			h := &countHandler{}
			tr, err := NewStream(StreamConfig{Streams: []Stream{{Display: srv.Addr(), Options: &redis.UniversalOptions{Addrs: []string{srv.Addr()}, Protocol: 2},
				Component: "c", Key: "bench", Group: "g", Concurrency: conc}}, Consumer: "b", ConsumerIdle: -1}, h)
			if err != nil {
				b.Fatal(err)
			}
			rctx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			b.ResetTimer()
			start := time.Now()
			go func() { done <- tr.Run(rctx) }()
			for h.n.Load() < int64(n) {
				time.Sleep(time.Millisecond)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			cancel()
			<-done
			if p := rdb.XPending(ctx, "bench", "g").Val().Count; p != 0 {
				b.Fatalf("%d entries still pending", p)
			}
			b.ReportMetric(float64(n)/elapsed.Seconds(), "entries/s")
		})
	}
}
