package admin

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redspin/redspin/internal/observe"
)

// Outbound HTTP metric names.
const (
	MetricOutboundHTTP         = "redspin_outbound_http_requests_total"
	MetricOutboundHTTPDuration = "redspin_outbound_http_duration_seconds"
)

// maxOutboundHosts bounds the host label's values: a component allowed
// "*://*:*" could otherwise create a series per host it calls. Hosts past
// the first 200 are counted as "other".
const maxOutboundHosts = 200

var _ observe.OutboundHTTPObserver = (*Metrics)(nil)

// outboundVecs are the outbound HTTP collectors.
type outboundVecs struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec

	mu    sync.Mutex
	hosts map[string]bool
}

func newOutboundVecs() *outboundVecs {
	return &outboundVecs{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricOutboundHTTP,
			Help: "Outbound HTTP requests made by guests, per component, host and status class (1xx..5xx, or error when no response came).",
		}, []string{"component", "host", "status_class"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: MetricOutboundHTTPDuration, Help: "Outbound HTTP request duration, from sending to the end of the response body, per component and host.",
			Buckets: DurationBuckets,
		}, []string{"component", "host"}),
		hosts: map[string]bool{},
	}
}

func (o *outboundVecs) collectors() []prometheus.Collector {
	return []prometheus.Collector{o.requests, o.duration}
}

func (o *outboundVecs) hostLabel(h string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.hosts[h] {
		return h
	}
	if len(o.hosts) >= maxOutboundHosts {
		return "other"
	}
	o.hosts[h] = true
	return h
}

// StatusClass returns the status_class label of an HTTP status: "2xx" for
// 200..299 and so on, "error" for 0 (no response).
func StatusClass(status int) string {
	if status < 100 || status > 599 {
		return "error"
	}
	return strconv.Itoa(status/100) + "xx"
}

// OutboundHTTP records one outbound HTTP request of a component.
func (m *Metrics) OutboundHTTP(component, host string, status int, d time.Duration) {
	if m == nil {
		return
	}
	h := m.outbound.hostLabel(host)
	m.outbound.requests.WithLabelValues(component, h, StatusClass(status)).Inc()
	m.outbound.duration.WithLabelValues(component, h).Observe(d.Seconds())
}
