package trigger

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/testutil/redisserver"
)

// BenchmarkE2EReader measures how fast one connection's reader moves 1 KiB
// messages into a lane (handler is a no-op), against a real redis-server.
func BenchmarkE2EReader(b *testing.B) {
	rs := redisserver.Start(b, redisserver.Options{})
	tr, err := New(Config{Servers: []Server{{Display: rs.Addr(), Options: &redis.UniversalOptions{Addrs: []string{rs.Addr()}, Protocol: 2},
		Channels: []Channel{{Name: "bench", Components: []string{"x"}}}}}}, handlerFunc(func(context.Context, string, []byte) error { return nil }))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tr.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for !tr.Ready() {
		time.Sleep(5 * time.Millisecond)
	}
	payload := strings.Repeat("x", 1024)
	pub := rs.Client()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i += 1000 {
		pipe := pub.Pipeline()
		for j := i; j < min(b.N, i+1000); j++ {
			pipe.Publish(ctx, "bench", payload)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
	pubDone := time.Since(start)
	for tr.Stats().Received < uint64(b.N) {
		if tr.Stats().Reconnects > 0 {
			b.Fatal("disconnected")
		}
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	b.ReportMetric(float64(b.N)/pubDone.Seconds(), "pub-msgs/s")
}
