package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"
)

// Stream modes: the app's trigger is a redis-stream trigger on benchStream
// instead of a pub/sub channel. "stream" reads with concurrency 1 (in stream
// order, compared with "ordered"), "stream-concurrent" with one entry in
// flight per CPU (compared with "concurrent").
const (
	modeStream           = "stream"
	modeStreamConcurrent = "stream-concurrent"
)

// benchStream is the stream the bench app's stream trigger reads.
const benchStream = "bench-stream"

// isStream reports a stream mode.
func isStream(mode string) bool { return mode == modeStream || mode == modeStreamConcurrent }

// engineMode is the engine-limit mode a mode is compared with: the engine
// has no stream, so a stream mode's limit is its pub/sub twin's.
func engineMode(mode string) string {
	switch mode {
	case modeStream:
		return "ordered"
	case modeStreamConcurrent:
		return "concurrent"
	}
	return mode
}

// engineModes are the distinct engine modes of modes, in order.
func engineModes(modes []string) []string {
	var out []string
	for _, m := range modes {
		if e := engineMode(m); !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

// route is how a mode's messages reach redspin: PUBLISH on benchChannel,
// or XADD (field "payload") to benchStream.
type route struct{ stream bool }

func routeFor(mode string) route { return route{stream: isStream(mode)} }

// sendN sends payload n times as fast as Redis accepts, pipelined, and
// returns when the first batch was sent.
func (r route) sendN(ctx context.Context, c *redis.Client, payload []byte, n int) (time.Time, error) {
	if !r.stream {
		return publishN(ctx, c, benchChannel, payload, n)
	}
	batch := pipelineBatch(len(payload))
	var first time.Time
	for sent := 0; sent < n; {
		k := min(batch, n-sent)
		p := c.Pipeline()
		for range k {
			p.XAdd(ctx, &redis.XAddArgs{Stream: benchStream, Values: []any{"payload", payload}})
		}
		if first.IsZero() {
			first = time.Now()
		}
		if _, err := p.Exec(ctx); err != nil {
			return first, fmt.Errorf("XADD: %w", err)
		}
		sent += k
	}
	return first, nil
}

// send sends payload once.
func (r route) send(ctx context.Context, c *redis.Client, payload []byte) error {
	if !r.stream {
		return c.Publish(ctx, benchChannel, payload).Err()
	}
	return c.XAdd(ctx, &redis.XAddArgs{Stream: benchStream, Values: []any{"payload", payload}}).Err()
}

// done runs after a run whose messages were all handled: a stream's
// entries are trimmed away (they are acked or about to be; an entry still
// pending when trimmed is only counted by redspin), so that Redis's memory
// does not grow with every run.
func (r route) done(ctx context.Context, c *redis.Client) error {
	if !r.stream {
		return nil
	}
	return c.XTrimMaxLen(ctx, benchStream, 0).Err()
}
