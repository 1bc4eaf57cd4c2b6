package main

import (
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	s := summarize([]float64{30, 10, 20})
	if s.Median != 20 || s.Min != 10 || s.Max != 30 || len(s.Runs) != 3 || s.Runs[0] != 30 {
		t.Fatalf("summarize = %+v", s)
	}
	if s := summarize([]float64{4, 1}); s.Median != 2.5 {
		t.Fatalf("even median = %v, want 2.5", s.Median)
	}
	if s := summarize(nil); s.Median != 0 {
		t.Fatalf("empty = %+v", s)
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i))
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50}, {99, 99}, {100, 100}, {0, 1}} {
		if got := percentile(ds, c.p); got != c.want {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
}

func TestCountFor(t *testing.T) {
	if n := countFor(1000, 2*time.Second, 10, 100000); n != 2000 {
		t.Fatalf("countFor = %d", n)
	}
	if n := countFor(1, time.Second, 10, 100); n != 10 {
		t.Fatalf("lower clamp = %d", n)
	}
	if n := countFor(1e9, time.Second, 10, 100); n != 100 {
		t.Fatalf("upper clamp = %d", n)
	}
}

func TestParseMetrics(t *testing.T) {
	text := `# HELP redspin_handler_handled_total x
# TYPE redspin_handler_handled_total counter
redspin_handler_handled_total{component="guest"} 1234
redspin_handler_failed_total{component="guest"} 2
redspin_messages_dropped_total{channel="bench",reason="queue_full",server="127.0.0.1:1"} 3
redspin_messages_dropped_total{channel="bench",reason="shutdown",server="127.0.0.1:1"} 1
redspin_handler_duration_seconds_bucket{component="guest",le="0.0005"} 7
go_goroutines 12
`
	m := parseMetrics(text)
	if m.handled != 1234 || m.failed != 2 || m.dropped != 4 {
		t.Fatalf("parseMetrics = %+v", m)
	}
}

func TestNextPoll(t *testing.T) {
	for _, tc := range []struct {
		done    float64
		n       int
		elapsed time.Duration
		want    time.Duration
	}{
		{0, 1000, 0, 5 * time.Millisecond},                        // nothing done yet: a short first wait
		{100, 1000, 100 * time.Millisecond, maxPoll},              // 900 ms to go: capped
		{900, 1000, 900 * time.Millisecond, maxPoll},              // 100 ms to go: half is 50 ms
		{990, 1000, 990 * time.Millisecond, 5 * time.Millisecond}, // 10 ms to go
		{1000, 1000, time.Second, minPoll},                        // done (the caller stops first)
	} {
		if got := nextPoll(tc.done, tc.n, tc.elapsed); got != tc.want {
			t.Errorf("nextPoll(%v, %d, %v) = %v, want %v", tc.done, tc.n, tc.elapsed, got, tc.want)
		}
	}
}
