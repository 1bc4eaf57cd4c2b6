package main

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// pipelineBatch is how many PUBLISH commands go in one round trip: enough to
// keep Redis busy, small enough that one batch of 64 KiB payloads stays far
// below the 8 MiB soft output-buffer limit of a pub/sub client.
func pipelineBatch(payload int) int {
	switch {
	case payload >= 32<<10:
		return 16
	case payload >= 1<<10:
		return 64
	}
	return 256
}

// publishN publishes payload n times on channel as fast as Redis accepts,
// pipelined, and returns the time the first batch was sent. Each PUBLISH
// must reach at least one subscriber. With received non-nil, it keeps at
// most window messages in flight (published, not yet received), so that a
// subscriber that is merely slower than the publisher is not disconnected
// by Redis's 32 MiB pub/sub output-buffer limit.
func publishN(ctx context.Context, c *redis.Client, channel string, payload []byte, n int) (time.Time, error) {
	return publishWindow(ctx, c, channel, payload, n, nil, 0)
}

func publishWindow(ctx context.Context, c *redis.Client, channel string, payload []byte, n int, received *atomic.Int64, window int) (time.Time, error) {
	batch := pipelineBatch(len(payload))
	var first time.Time
	for sent := 0; sent < n; {
		for received != nil && sent-int(received.Load()) > window {
			if ctx.Err() != nil {
				return first, ctx.Err()
			}
			runtime.Gosched()
		}
		k := min(batch, n-sent)
		p := c.Pipeline()
		cmds := make([]*redis.IntCmd, k)
		for i := range k {
			cmds[i] = p.Publish(ctx, channel, payload)
		}
		if first.IsZero() {
			first = time.Now()
		}
		if _, err := p.Exec(ctx); err != nil {
			return first, fmt.Errorf("publish: %w", err)
		}
		for _, cmd := range cmds {
			if cmd.Val() < 1 {
				return first, fmt.Errorf("publish on %q reached no subscriber", channel)
			}
		}
		sent += k
	}
	return first, nil
}

// transportRun measures the Redis path alone: a native go-redis subscriber
// counts n messages sent by publishN. It returns messages per second from
// the first publish to the n-th message received.
func transportRun(ctx context.Context, r *redisServer, payload []byte, n int, timeout time.Duration) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	sub := r.Client()
	defer sub.Close()
	pub := r.Client()
	defer pub.Close()
	channel := fmt.Sprintf("bench-transport-%d", time.Now().UnixNano())
	ps := sub.Subscribe(ctx, channel)
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil { // the subscription confirmation
		return 0, fmt.Errorf("subscribe: %w", err)
	}
	done := make(chan error, 1)
	var last time.Time
	var received atomic.Int64
	go func() {
		for i := 0; i < n; i++ {
			m, err := ps.ReceiveMessage(ctx)
			if err != nil {
				done <- fmt.Errorf("subscriber after %d of %d messages: %w", i, n, err)
				return
			}
			if len(m.Payload) != len(payload) {
				done <- fmt.Errorf("subscriber got %d bytes, want %d", len(m.Payload), len(payload))
				return
			}
			received.Add(1)
		}
		last = time.Now()
		done <- nil
	}()
	// In flight: at most 8 MiB (Redis's soft pub/sub limit), at least 2 batches.
	window := max(8<<20/max(len(payload), 1), 2*pipelineBatch(len(payload)))
	first, err := publishWindow(ctx, pub, channel, payload, n, &received, window)
	if err != nil {
		cancel()
		<-done
		return 0, err
	}
	if err := <-done; err != nil {
		return 0, err
	}
	return float64(n) / last.Sub(first).Seconds(), nil
}
