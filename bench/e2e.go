package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"
)

// A run's end is found by scraping /metrics, which costs redspin about a
// millisecond of CPU per scrape (mostly the process collector reading
// /proc): scraping every few milliseconds would tax a slow guest's run by
// a fifth. So the wait between scrapes is half the time the run still
// needs at its rate so far, within [minPoll, maxPoll]: few scrapes while
// most messages are pending, and an end time within minPoll.
const (
	minPoll = time.Millisecond
	maxPoll = 50 * time.Millisecond
)

// nextPoll is the wait before the next scrape, given how many of n
// messages were done after elapsed.
func nextPoll(done float64, n int, elapsed time.Duration) time.Duration {
	if done <= 0 {
		return minPoll * 5
	}
	remaining := time.Duration(float64(elapsed) * (float64(n) - done) / done)
	return min(max(remaining/2, minPoll), maxPoll)
}

// e2eRun publishes n messages as fast as Redis accepts them and waits until
// redspin has finished all of them (handled, failed, timed out or dropped),
// polling /metrics. It returns messages per second from the first publish
// to the poll that saw the last completion, the counters' deltas, and
// redspin's CPU time per message over the run in µs (which includes serving
// the scrapes).
func e2eRun(ctx context.Context, p *redspinProc, pub *redis.Client, rt route, payload []byte, n int, stall time.Duration) (float64, counters, float64, error) {
	base, err := p.Metrics()
	if err != nil {
		return 0, counters{}, 0, err
	}
	cpu0 := p.CPUTime()
	first, err := rt.sendN(ctx, pub, payload, n)
	if err != nil {
		return 0, counters{}, 0, err
	}
	last := base
	lastMove := time.Now()
	for {
		c, err := p.Metrics()
		now := time.Now()
		if err != nil {
			return 0, counters{}, 0, err
		}
		if c.finished()-base.finished() >= float64(n) {
			d := counters{c.handled - base.handled, c.failed - base.failed, c.timedOut - base.timedOut, c.dropped - base.dropped}
			cpu := float64((p.CPUTime() - cpu0).Microseconds()) / float64(n)
			return float64(n) / now.Sub(first).Seconds(), d, cpu, rt.done(ctx, pub)
		}
		if c.finished() != last.finished() {
			last, lastMove = c, now
		} else if now.Sub(lastMove) > stall {
			return 0, counters{}, 0, fmt.Errorf("%w for %s: %.0f of %d finished", errStalled, stall, c.finished()-base.finished(), n)
		}
		select {
		case <-ctx.Done():
			return 0, counters{}, 0, ctx.Err()
		case <-p.done:
			return 0, counters{}, 0, fmt.Errorf("redspin exited:\n%s", p.output())
		case <-time.After(nextPoll(c.finished()-base.finished(), n, now.Sub(first))):
		}
	}
}

// latencyPayload is a `len:` command padded to size: every guest answers it
// with one short line, "len=<n>", printed from inside the handler.
func latencyPayload(size int) []byte {
	b := []byte("len:")
	for len(b) < size {
		b = append(b, 'x')
	}
	return b[:max(size, 4)]
}

// plainPayload is a message the guests treat as plain: they print only
// "<guest> got <n> bytes".
func plainPayload(size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = 'm'
	}
	return b
}

// LatencyResult is the publish → handler latency at a fixed rate.
type LatencyResult struct {
	Method  string  `json:"method"`
	RatePS  float64 `json:"rate_per_s"`
	Samples int     `json:"samples"`
	P50us   float64 `json:"p50_us"`
	P99us   float64 `json:"p99_us"`
	MaxUs   float64 `json:"max_us"`
}

// latencyRun publishes count messages at rate (one PUBLISH at a time, on a
// fixed schedule) and measures, per message, publish → the guest's "len="
// line read from redspin's stderr (method "stdout-line"). When the guest's
// output is not echoed (a quiet redspin), it falls back to publish → the
// handled counter moving in /metrics (method "metrics-poll", one message
// in flight at a time).
func latencyRun(ctx context.Context, p *redspinProc, pub *redis.Client, rt route, size int, rate float64, count int) (LatencyResult, error) {
	payload := latencyPayload(size)
	// Drain stale line timestamps.
	for len(p.lenLine) > 0 {
		<-p.lenLine
	}
	// Probe: does the guest's line reach us?
	if err := rt.send(ctx, pub, payload); err != nil {
		return LatencyResult{}, err
	}
	select {
	case <-p.lenLine:
		return latencyLines(ctx, p, pub, rt, payload, rate, count)
	case <-time.After(2 * time.Second):
		return latencyPoll(ctx, p, pub, rt, payload, min(count, 100))
	}
}

func latencyLines(ctx context.Context, p *redspinProc, pub *redis.Client, rt route, payload []byte, rate float64, count int) (LatencyResult, error) {
	interval := time.Duration(float64(time.Second) / rate)
	sent := make([]time.Time, 0, count)
	start := time.Now()
	for i := range count {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		sent = append(sent, time.Now())
		if err := rt.send(ctx, pub, payload); err != nil {
			return LatencyResult{}, err
		}
	}
	lat := make([]time.Duration, 0, count)
	timeout := time.After(10 * time.Second)
	for i := range count {
		select {
		case t := <-p.lenLine:
			lat = append(lat, t.Sub(sent[i]))
		case <-timeout:
			return LatencyResult{}, fmt.Errorf("latency: %d of %d lines seen", i, count)
		case <-ctx.Done():
			return LatencyResult{}, ctx.Err()
		}
	}
	return latencySummary("stdout-line", rate, lat), nil
}

func latencyPoll(ctx context.Context, p *redspinProc, pub *redis.Client, rt route, payload []byte, count int) (LatencyResult, error) {
	lat := make([]time.Duration, 0, count)
	start := time.Now()
	for range count {
		base, err := p.Metrics()
		if err != nil {
			return LatencyResult{}, err
		}
		t0 := time.Now()
		if err := rt.send(ctx, pub, payload); err != nil {
			return LatencyResult{}, err
		}
		for {
			c, err := p.Metrics()
			if err != nil {
				return LatencyResult{}, err
			}
			if c.finished() > base.finished() {
				lat = append(lat, time.Since(t0))
				break
			}
			if time.Since(t0) > 10*time.Second {
				return LatencyResult{}, fmt.Errorf("latency: message not handled in 10s")
			}
		}
	}
	return latencySummary("metrics-poll", float64(count)/time.Since(start).Seconds(), lat), nil
}

func latencySummary(method string, rate float64, lat []time.Duration) LatencyResult {
	slices.Sort(lat)
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	return LatencyResult{
		Method: method, RatePS: rate, Samples: len(lat),
		P50us: us(percentile(lat, 50)), P99us: us(percentile(lat, 99)), MaxUs: us(lat[len(lat)-1]),
	}
}
