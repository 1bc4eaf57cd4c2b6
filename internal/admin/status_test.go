package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/redspin/redspin/internal/observe"
)

func getStatus(t *testing.T, base string) StatusReport {
	t.Helper()
	code, body := get(t, base+"/status.json")
	if code != 200 {
		t.Fatalf("/status.json = %d: %s", code, body)
	}
	var r StatusReport
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("/status.json: %v: %s", err, body)
	}
	return r
}

func TestStatusJSONValues(t *testing.T) {
	m := NewMetrics()
	m.SetBuild(BuildInfo{Version: "v1.2.3", Commit: "abc", Wasmtime: "39.0.1", Go: "go1.26.0"})
	lane := m.Lane("127.0.0.1:6379", "orders")
	for range 3 {
		lane.Received()
	}
	lane.SetQueueDepth(4)
	lane.Dropped(observe.DropQueueFull, 2)
	comp := m.Component("checkout")
	for _, d := range []time.Duration{700 * time.Microsecond, 800 * time.Microsecond, 900 * time.Microsecond, 40 * time.Millisecond} {
		comp.Observe(observe.Handled, d) // three in (0.5 ms, 1 ms], one in (25 ms, 50 ms]
	}
	comp.Observe(observe.TimedOut, 3*time.Second)
	before := time.Now()
	comp.Failure(errors.New("component \"checkout\": deadline exceeded"))
	m.Component("quiet")
	st := m.Stream("127.0.0.1:6379", "jobs", "workers")
	st.Received(5)
	st.Finished(observe.Handled, 2*time.Millisecond)
	st.Finished(observe.Failed, time.Millisecond)
	st.Finished(observe.TimedOut, time.Second)
	st.DeadLettered()
	st.SetGroup(observe.GroupInfo{Pending: 3, OldestPendingAge: 1500 * time.Millisecond}) // lag unknown
	m.Server("127.0.0.1:6379").SetConnected(true)

	src := &fakeSource{}
	src.ready.Store(true)
	srv, err := Start("127.0.0.1:0", m, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(context.Background())
	base := "http://" + srv.Addr()

	r := getStatus(t, base)
	if !r.Ready || r.Healthy || r.Build.Version != "v1.2.3" || r.Build.Wasmtime != "39.0.1" || r.UptimeSeconds <= 0 {
		t.Errorf("header: ready %v healthy %v build %+v uptime %v", r.Ready, r.Healthy, r.Build, r.UptimeSeconds)
	}
	if len(r.Servers) != 1 || !r.Servers[0].Connected || r.Servers[0].State != "subscribed" || r.Servers[0].Channels != 2 {
		t.Errorf("servers = %+v", r.Servers)
	}
	if len(r.Channels) != 1 {
		t.Fatalf("channels = %+v", r.Channels)
	}
	if c := r.Channels[0]; c.Channel != "orders" || c.Received != 3 || c.QueueDepth != 4 || c.DroppedQueueFull != 2 ||
		c.DroppedShutdown != 0 || c.ReceivedRate != nil {
		t.Errorf("channel = %+v (no rate before a second sample)", c)
	}
	if len(r.Streams) != 1 {
		t.Fatalf("streams = %+v", r.Streams)
	}
	if s := r.Streams[0]; s.Stream != "jobs" || s.Group != "workers" || s.Received != 5 || s.Handled != 1 || s.Failed != 2 || s.TimedOut != 1 ||
		s.DeadLettered != 1 || s.Pending != 3 || s.Lag != nil || s.OldestPending != 1.5 || s.Duration.Count != 3 {
		t.Errorf("stream = %+v", s)
	}
	if len(r.Components) != 2 {
		t.Fatalf("components = %+v", r.Components)
	}
	c := r.Components[0]
	if c.Component != "checkout" || c.Handled != 4 || c.Failed != 0 || c.TimedOut != 1 || c.Duration.Count != 5 {
		t.Errorf("component = %+v", c)
	}
	// 5 samples: rank 2.5 falls in the (0.5 ms, 1 ms] bucket (3 samples), ranks 4.5 and 4.95 in (2.5 s, 5 s] (the 5th).
	for _, q := range []struct {
		name      string
		got       *float64
		want      float64
		tolerance float64
	}{
		{"p50", c.Duration.P50, 0.0005 + 0.0005*2.5/3, 1e-9},
		{"p90", c.Duration.P90, 2.5 + 2.5*0.5, 1e-9},
		{"p99", c.Duration.P99, 2.5 + 2.5*0.95, 1e-9},
	} {
		if q.got == nil || math.Abs(*q.got-q.want) > q.tolerance {
			t.Errorf("%s = %v, want %v", q.name, q.got, q.want)
		}
	}
	if c.LastError == nil || !strings.Contains(c.LastError.Error, "deadline exceeded") || c.LastError.Time.Before(before) {
		t.Errorf("last error = %+v", c.LastError)
	}
	if q := r.Components[1]; q.Component != "quiet" || q.LastError != nil || q.Duration.P50 != nil {
		t.Errorf("quiet component = %+v", q)
	}

	// A second sample a second later gives rates.
	for range 4 {
		lane.Received()
	}
	time.Sleep(1100 * time.Millisecond) // the rate window needs samples a second apart
	r = getStatus(t, base)
	if rate := r.Channels[0].ReceivedRate; rate == nil || *rate <= 0 || *rate > 4 {
		t.Errorf("received rate = %v, want 4 messages over >1 s", rate)
	}
	if rate := r.Components[0].HandledRate; rate == nil || *rate != 0 {
		t.Errorf("handled rate = %v, want 0", rate)
	}
	code, body := get(t, base+"/metrics")
	if code != 200 || !strings.Contains(body, `redspin_build_info{goversion="go1.26.0",revision="abc",version="v1.2.3",wasmtime="39.0.1"} 1`) {
		t.Errorf("/metrics lacks the build info: %d", code)
	}
}

func TestRateWindow(t *testing.T) {
	var w rateWindow
	t0 := time.Unix(1000, 0)
	if past, dt := w.observe(t0, map[string]float64{"a": 1}); past != nil || dt != 0 {
		t.Fatalf("first sample: %v %v", past, dt)
	}
	if _, dt := w.observe(t0.Add(500*time.Millisecond), map[string]float64{"a": 2}); dt != 0 {
		t.Fatalf("half a second later: dt %v", dt)
	}
	past, dt := w.observe(t0.Add(2*time.Second), map[string]float64{"a": 5})
	if past["a"] != 1 || dt != 2 {
		t.Fatalf("2 s later: %v %v", past, dt)
	}
	past, dt = w.observe(t0.Add(11500*time.Millisecond), map[string]float64{"a": 9})
	if past["a"] != 5 || dt != 9.5 {
		t.Fatalf("after the window: %v %v (the first sample must be gone)", past, dt)
	}
	if len(w.samples) != 2 {
		t.Fatalf("samples kept: %d", len(w.samples))
	}
}

func TestLastErrorIsBounded(t *testing.T) {
	m := NewMetrics()
	m.Component("c").Failure(errors.New(strings.Repeat("é", 2000)))
	e := m.errs.get("c")
	if e == nil || len(e.Error) > maxErrorText+len("…") || !strings.HasSuffix(e.Error, "…") || !json.Valid([]byte(`"`+e.Error+`"`)) {
		t.Fatalf("stored %d bytes", len(e.Error))
	}
}

func TestStatusPageServed(t *testing.T) {
	srv, err := Start("127.0.0.1:0", nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(context.Background())
	code, body := get(t, "http://"+srv.Addr()+"/")
	if code != 200 || !strings.Contains(body, "<title>redspin status</title>") || !strings.Contains(body, `fetch("status.json"`) {
		t.Fatalf("/ = %d", code)
	}
	for _, external := range []string{"http://", "https://", "src=\"/", "<link rel=\"stylesheet\""} {
		if strings.Contains(body, external) {
			t.Errorf("the page refers to an external asset (%q)", external)
		}
	}
	// nil metrics: the JSON still has every list, empty.
	r := getStatus(t, "http://"+srv.Addr())
	if !r.Ready || r.Channels == nil || r.Components == nil || r.Streams == nil {
		t.Errorf("nil metrics report = %+v", r)
	}
}

// BenchmarkStatusReport builds /status.json's report for 50 channels, 50 components and 10 streams.
func BenchmarkStatusReport(b *testing.B) {
	m := NewMetrics()
	for i := range 50 {
		l := m.Lane("127.0.0.1:6379", fmt.Sprint("channel-", i))
		l.Received()
		c := m.Component(fmt.Sprint("component-", i))
		c.Observe(observe.Handled, time.Millisecond)
		c.Failure(errors.New("boom"))
	}
	for i := range 10 {
		m.Stream("127.0.0.1:6379", fmt.Sprint("stream-", i), "g").Finished(observe.Handled, time.Millisecond)
	}
	b.ReportAllocs()
	for b.Loop() {
		if r := m.Status(nil); len(r.Components) != 50 {
			b.Fatal(len(r.Components))
		}
	}
}
