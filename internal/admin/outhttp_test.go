package admin

import (
	"fmt"
	"testing"
	"time"
)

func TestOutboundHTTPMetrics(t *testing.T) {
	m := NewMetrics()
	m.OutboundHTTP("notify", "api.example", 200, 10*time.Millisecond)
	m.OutboundHTTP("notify", "api.example", 204, 20*time.Millisecond)
	m.OutboundHTTP("notify", "api.example", 503, time.Millisecond)
	m.OutboundHTTP("notify", "denied.example", 0, 0)
	for _, c := range []struct {
		labels map[string]string
		want   float64
	}{
		{map[string]string{"component": "notify", "host": "api.example", "status_class": "2xx"}, 2},
		{map[string]string{"host": "api.example", "status_class": "5xx"}, 1},
		{map[string]string{"host": "denied.example", "status_class": "error"}, 1},
	} {
		if got := m.Value(MetricOutboundHTTP, c.labels); got != c.want {
			t.Errorf("%v: %v, want %v", c.labels, got, c.want)
		}
	}
	if got := m.Value(MetricOutboundHTTPDuration, map[string]string{"host": "api.example"}); got != 3 {
		t.Errorf("duration samples %v, want 3", got)
	}
	// The host label is bounded.
	for i := range maxOutboundHosts + 10 {
		m.OutboundHTTP("wide", fmt.Sprintf("h%d.example", i), 200, 0)
	}
	if got := m.Value(MetricOutboundHTTP, map[string]string{"component": "wide", "host": "other"}); got != 12 {
		t.Errorf("other: %v, want 12 (2 hosts were already known)", got)
	}
	var nilM *Metrics
	nilM.OutboundHTTP("x", "y", 200, 0) // records nothing, does not panic
}
