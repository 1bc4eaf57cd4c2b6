package admin

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/redspin/redspin/internal/observe"
)

// Metric names, exported so tests and benchmarks can read series back with
// Metrics.Value.
const (
	MetricReceived        = "redspin_messages_received_total"
	MetricHandled         = "redspin_handler_handled_total"
	MetricFailed          = "redspin_handler_failed_total"
	MetricTimedOut        = "redspin_handler_timed_out_total"
	MetricHandlerDuration = "redspin_handler_duration_seconds"
	MetricQueueDepth      = "redspin_queue_depth"
	MetricDropped         = "redspin_messages_dropped_total"
	MetricReconnects      = "redspin_redis_reconnects_total"
	MetricConnected       = "redspin_redis_connected"
	MetricBuildInfo       = "redspin_build_info"
)

// Metrics holds redspin's Prometheus collectors in a private registry.
// All methods are safe for concurrent use, and a nil *Metrics (and the nil
// per-lane, per-component and per-server views it hands out) records nothing.
type Metrics struct {
	reg        *prometheus.Registry
	received   *prometheus.CounterVec
	handled    *prometheus.CounterVec
	failed     *prometheus.CounterVec
	timedOut   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	queueDepth *prometheus.GaugeVec
	dropped    *prometheus.CounterVec
	reconnects *prometheus.CounterVec
	connected  *prometheus.GaugeVec
	streams    streamVecs
	outbound   *outboundVecs
	buildInfo  *prometheus.GaugeVec

	started time.Time
	errs    *lastErrors
	rates   *rateWindow
	buildMu sync.Mutex
	build   BuildInfo
}

var _ observe.Observer = (*Metrics)(nil)

// DurationBuckets are the handler-duration histogram buckets, in seconds.
var DurationBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// NewMetrics creates the collectors and registers them, with the Go runtime
// and process collectors, in a new private registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricReceived, Help: "Messages received from Redis, per server and channel.",
		}, []string{"server", "channel"}),
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricHandled, Help: "Handler invocations that succeeded, per component.",
		}, []string{"component"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricFailed, Help: "Handler invocations that returned an error or trapped (timeouts excluded), per component.",
		}, []string{"component"}),
		timedOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricTimedOut, Help: "Handler invocations that hit the handler timeout, per component.",
		}, []string{"component"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: MetricHandlerDuration, Help: "Handler invocation duration, per component.", Buckets: DurationBuckets,
		}, []string{"component"}),
		queueDepth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricQueueDepth, Help: "Messages waiting in a lane's queue (not yet started), per server and channel.",
		}, []string{"server", "channel"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricDropped, Help: "Messages dropped, per server, channel and reason (queue_full, shutdown).",
		}, []string{"server", "channel", "reason"}),
		reconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricReconnects, Help: "Successful reconnections (resubscribed after a lost connection), per server.",
		}, []string{"server"}),
		connected: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricConnected, Help: "1 while the server's pub/sub connection has every channel subscribed, else 0.",
		}, []string{"server"}),
	}
	m.buildInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: MetricBuildInfo, Help: "Always 1; the labels name redspin's version and commit, the Go and the Wasmtime version.",
	}, []string{"version", "revision", "goversion", "wasmtime"})
	m.started = time.Now()
	m.errs = &lastErrors{byComponent: map[string]LastError{}}
	m.rates = &rateWindow{}
	m.streams = newStreamVecs()
	m.reg.MustRegister(m.streams.collectors()...)
	m.outbound = newOutboundVecs()
	m.reg.MustRegister(m.outbound.collectors()...)
	m.reg.MustRegister(m.received, m.handled, m.failed, m.timedOut, m.duration,
		m.queueDepth, m.dropped, m.reconnects, m.connected, m.buildInfo,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the private registry, for callers that add collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// LaneMetrics records for one (server, channel) lane.
type LaneMetrics struct {
	received   prometheus.Counter
	depth      prometheus.Gauge
	full, shut prometheus.Counter
}

// Lane returns the recorder for one lane, creating its series (at zero).
func (m *Metrics) Lane(server, channel string) observe.LaneObserver {
	if m == nil {
		return (*LaneMetrics)(nil)
	}
	return &LaneMetrics{
		received: m.received.WithLabelValues(server, channel),
		depth:    m.queueDepth.WithLabelValues(server, channel),
		full:     m.dropped.WithLabelValues(server, channel, observe.DropQueueFull),
		shut:     m.dropped.WithLabelValues(server, channel, observe.DropShutdown),
	}
}

// Received counts one message received on the lane.
func (l *LaneMetrics) Received() {
	if l != nil {
		l.received.Inc()
	}
}

// SetQueueDepth records the lane's current queue length.
func (l *LaneMetrics) SetQueueDepth(n int) {
	if l != nil {
		l.depth.Set(float64(n))
	}
}

// Dropped counts n messages dropped for reason (observe.DropQueueFull or observe.DropShutdown).
func (l *LaneMetrics) Dropped(reason string, n int) {
	if l == nil || n <= 0 {
		return
	}
	if reason == observe.DropShutdown {
		l.shut.Add(float64(n))
	} else {
		l.full.Add(float64(n))
	}
}

// ComponentMetrics records handler outcomes for one component.
type ComponentMetrics struct {
	id                        string
	handled, failed, timedOut prometheus.Counter
	duration                  prometheus.Observer
	errs                      *lastErrors
}

// Component returns the recorder for one component, creating its series.
func (m *Metrics) Component(id string) observe.ComponentObserver {
	if m == nil {
		return (*ComponentMetrics)(nil)
	}
	return &ComponentMetrics{
		id:       id,
		errs:     m.errs,
		handled:  m.handled.WithLabelValues(id),
		failed:   m.failed.WithLabelValues(id),
		timedOut: m.timedOut.WithLabelValues(id),
		duration: m.duration.WithLabelValues(id),
	}
}

// Observe records one invocation's result and duration.
func (c *ComponentMetrics) Observe(r observe.Result, d time.Duration) {
	if c == nil {
		return
	}
	switch r {
	case observe.Handled:
		c.handled.Inc()
	case observe.TimedOut:
		c.timedOut.Inc()
	default:
		c.failed.Inc()
	}
	c.duration.Observe(d.Seconds())
}

// Failure records the invocation's error as the component's last error, with the current time.
func (c *ComponentMetrics) Failure(err error) {
	if c != nil && err != nil {
		c.errs.set(c.id, err, time.Now())
	}
}

// ServerMetrics records connection events for one Redis server.
type ServerMetrics struct {
	reconnects prometheus.Counter
	connected  prometheus.Gauge
}

// Server returns the recorder for one server (by its display address).
func (m *Metrics) Server(display string) observe.ServerObserver {
	if m == nil {
		return (*ServerMetrics)(nil)
	}
	return &ServerMetrics{
		reconnects: m.reconnects.WithLabelValues(display),
		connected:  m.connected.WithLabelValues(display),
	}
}

// Reconnected counts one successful reconnection.
func (s *ServerMetrics) Reconnected() {
	if s != nil {
		s.reconnects.Inc()
	}
}

// SetConnected records whether every channel of the server is subscribed.
func (s *ServerMetrics) SetConnected(up bool) {
	if s != nil {
		setBool(s.connected, up)
	}
}

// setBool sets a 0/1 gauge.
func setBool(g prometheus.Gauge, up bool) {
	if up {
		g.Set(1)
	} else {
		g.Set(0)
	}
}

// Totals are the counters summed over all labels.
type Totals struct {
	Received, Handled, Failed, TimedOut, Dropped, Reconnects uint64
}

// Totals reads every counter back from the registry and sums it over labels.
func (m *Metrics) Totals() Totals {
	if m == nil {
		return Totals{}
	}
	families, _ := m.reg.Gather()
	sum := func(name string) uint64 { return uint64(sumFamily(families, name, nil)) }
	return Totals{
		Received:   sum(MetricReceived),
		Handled:    sum(MetricHandled),
		Failed:     sum(MetricFailed),
		TimedOut:   sum(MetricTimedOut),
		Dropped:    sum(MetricDropped),
		Reconnects: sum(MetricReconnects),
	}
}

// Value returns the sum of the named counter or gauge over the series whose
// labels include every pair in match (nil matches all series). For a
// histogram it returns the sample count. A missing metric reads as 0.
func (m *Metrics) Value(name string, match map[string]string) float64 {
	if m == nil {
		return 0
	}
	families, _ := m.reg.Gather()
	return sumFamily(families, name, match)
}

func sumFamily(families []*dto.MetricFamily, name string, match map[string]string) float64 {
	var total float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			if !labelsMatch(s.GetLabel(), match) {
				continue
			}
			switch {
			case s.Counter != nil:
				total += s.GetCounter().GetValue()
			case s.Gauge != nil:
				total += s.GetGauge().GetValue()
			case s.Histogram != nil:
				total += float64(s.GetHistogram().GetSampleCount())
			}
		}
	}
	return total
}

func labelsMatch(have []*dto.LabelPair, want map[string]string) bool {
	for k, v := range want {
		found := false
		for _, lp := range have {
			if lp.GetName() == k && lp.GetValue() == v {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
