package admin

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redspin/redspin/internal/observe"
)

type fakeSource struct{ ready, healthy atomic.Bool }

func (f *fakeSource) Status() observe.Status {
	return observe.Status{Ready: f.ready.Load(), Healthy: f.healthy.Load(),
		Servers: []observe.ServerStatus{{Server: "127.0.0.1:6379", State: "subscribed", Channels: 2}}}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestProbesFollowStatus(t *testing.T) {
	src := &fakeSource{}
	m := NewMetrics()
	srv, err := Start("127.0.0.1:0", m, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(context.Background())
	base := "http://" + srv.Addr()

	for _, tc := range []struct {
		ready, healthy   bool
		wantReady, wantH int
	}{
		{false, false, 503, 503},
		{true, true, 200, 200},
		{true, false, 200, 503},
	} {
		src.ready.Store(tc.ready)
		src.healthy.Store(tc.healthy)
		if code, _ := get(t, base+"/readyz"); code != tc.wantReady {
			t.Errorf("ready=%v: /readyz = %d, want %d", tc.ready, code, tc.wantReady)
		}
		code, body := get(t, base+"/healthz")
		if code != tc.wantH {
			t.Errorf("healthy=%v: /healthz = %d, want %d", tc.healthy, code, tc.wantH)
		}
		var st observe.Status
		if err := json.Unmarshal([]byte(body), &st); err != nil || st.Healthy != tc.healthy || len(st.Servers) != 1 || st.Servers[0].State != "subscribed" {
			t.Errorf("/healthz body %q (%v)", body, err)
		}
	}
	if code, _ := get(t, base+"/nope"); code != 404 {
		t.Errorf("/nope = %d", code)
	}
}

func TestMetricsExpositionAndReadBack(t *testing.T) {
	m := NewMetrics()
	lane := m.Lane("127.0.0.1:6379", "orders")
	lane.Received()
	lane.Received()
	lane.SetQueueDepth(7)
	lane.Dropped(observe.DropQueueFull, 3)
	lane.Dropped(observe.DropShutdown, 2)
	comp := m.Component("checkout")
	comp.Observe(observe.Handled, 2*time.Millisecond)
	comp.Observe(observe.Failed, time.Millisecond)
	comp.Observe(observe.TimedOut, 3*time.Second)
	srvm := m.Server("127.0.0.1:6379")
	srvm.Reconnected()
	srvm.SetConnected(true)

	want := Totals{Received: 2, Handled: 1, Failed: 1, TimedOut: 1, Dropped: 5, Reconnects: 1}
	if got := m.Totals(); got != want {
		t.Errorf("Totals = %+v, want %+v", got, want)
	}
	if got := m.Value(MetricDropped, map[string]string{"reason": observe.DropShutdown}); got != 2 {
		t.Errorf("shutdown drops = %v", got)
	}
	if got := m.Value(MetricHandlerDuration, map[string]string{"component": "checkout"}); got != 3 {
		t.Errorf("duration samples = %v", got)
	}
	if got := m.Value(MetricQueueDepth, nil); got != 7 {
		t.Errorf("queue depth = %v", got)
	}

	srv, err := Start("127.0.0.1:0", m, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(context.Background())
	code, body := get(t, "http://"+srv.Addr()+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	for _, line := range []string{
		`redspin_messages_received_total{channel="orders",server="127.0.0.1:6379"} 2`,
		`redspin_handler_handled_total{component="checkout"} 1`,
		`redspin_handler_failed_total{component="checkout"} 1`,
		`redspin_handler_timed_out_total{component="checkout"} 1`,
		`redspin_handler_duration_seconds_bucket{component="checkout",le="0.0025"} 2`,
		`redspin_queue_depth{channel="orders",server="127.0.0.1:6379"} 7`,
		`redspin_messages_dropped_total{channel="orders",reason="queue_full",server="127.0.0.1:6379"} 3`,
		`redspin_redis_reconnects_total{server="127.0.0.1:6379"} 1`,
		`redspin_redis_connected{server="127.0.0.1:6379"} 1`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, line) {
			t.Errorf("/metrics lacks %q", line)
		}
	}
	// nil source: the process is up.
	if code, _ := get(t, "http://"+srv.Addr()+"/healthz"); code != 200 {
		t.Errorf("/healthz with nil source = %d", code)
	}
}

func TestNilMetricsRecordNothing(t *testing.T) {
	var m *Metrics
	m.Lane("s", "c").Received()
	m.Lane("s", "c").Dropped(observe.DropQueueFull, 1)
	m.Component("x").Observe(observe.Failed, time.Second)
	m.Server("s").Reconnected()
	if m.Totals() != (Totals{}) || m.Value(MetricReceived, nil) != 0 {
		t.Fatal("nil metrics reported values")
	}
}

func TestPrivateRegistries(t *testing.T) {
	a, b := NewMetrics(), NewMetrics() // would panic with the global registry
	a.Lane("s", "c").Received()
	if b.Totals().Received != 0 {
		t.Fatal("metrics instances share state")
	}
}

func TestStartListenError(t *testing.T) {
	srv, err := Start("127.0.0.1:0", nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(context.Background())
	_, err = Start(srv.Addr(), nil, nil, nil)
	if err == nil || !strings.Contains(err.Error(), srv.Addr()) {
		t.Fatalf("second listen: %v", err)
	}
}
