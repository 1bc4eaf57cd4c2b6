package admin

import (
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redspin/redspin/internal/observe"
)

// Metric names of the redis-stream trigger, labelled by server, stream and group.
const (
	MetricStreamReceived         = "redspin_stream_entries_received_total"
	MetricStreamHandled          = "redspin_stream_entries_handled_total"
	MetricStreamFailed           = "redspin_stream_entries_failed_total"
	MetricStreamTimedOut         = "redspin_stream_entries_timed_out_total"
	MetricStreamRetried          = "redspin_stream_entries_retried_total"
	MetricStreamDeadLettered     = "redspin_stream_entries_dead_lettered_total"
	MetricStreamClaimed          = "redspin_stream_entries_claimed_total"
	MetricStreamTrimmed          = "redspin_stream_entries_trimmed_total"
	MetricStreamHandlerDuration  = "redspin_stream_handler_duration_seconds"
	MetricStreamInFlight         = "redspin_stream_in_flight"
	MetricStreamPending          = "redspin_stream_group_pending"
	MetricStreamLag              = "redspin_stream_group_lag"
	MetricStreamOldestPendingAge = "redspin_stream_group_oldest_pending_age_seconds"
	MetricStreamConnected        = "redspin_stream_connected"
	MetricStreamReconnects       = "redspin_stream_reconnects_total"
)

var streamLabels = []string{"server", "stream", "group"}

// streamVecs are the redis-stream collectors.
type streamVecs struct {
	received, handled, failed, timedOut, retried, dead, claimed, trimmed, reconnects *prometheus.CounterVec
	duration                                                                         *prometheus.HistogramVec
	inFlight, pending, lag, oldest, connected                                        *prometheus.GaugeVec
}

func newStreamVecs() streamVecs {
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, streamLabels)
	}
	gauge := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, streamLabels)
	}
	return streamVecs{
		received: counter(MetricStreamReceived, "Stream entries delivered to this process (first deliveries, retries and claims)."),
		handled:  counter(MetricStreamHandled, "Stream entries whose handler succeeded (then acknowledged)."),
		failed:   counter(MetricStreamFailed, "Failed deliveries of stream entries (error, trap or timeout)."),
		timedOut: counter(MetricStreamTimedOut, "Failed deliveries of stream entries that hit the handler timeout (a subset of the failed ones)."),
		retried:  counter(MetricStreamRetried, "Failed stream entries scheduled for another delivery."),
		dead:     counter(MetricStreamDeadLettered, "Stream entries moved to the dead-letter stream."),
		claimed:  counter(MetricStreamClaimed, "Pending stream entries claimed from idle consumers with XAUTOCLAIM."),
		trimmed:  counter(MetricStreamTrimmed, "Pending stream entries lost because they were deleted (trimmed) before being handled."),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: MetricStreamHandlerDuration, Help: "Handler duration of stream entries.", Buckets: DurationBuckets,
		}, streamLabels),
		inFlight:   gauge(MetricStreamInFlight, "Stream entries being handled by this process now."),
		pending:    gauge(MetricStreamPending, "Entries delivered to the group and not yet acknowledged (XPENDING), all consumers."),
		lag:        gauge(MetricStreamLag, "Entries not yet delivered to the group (XINFO GROUPS lag); NaN when Redis does not know it."),
		oldest:     gauge(MetricStreamOldestPendingAge, "Age of the group's oldest pending entry, from its ID; 0 when none is pending."),
		connected:  gauge(MetricStreamConnected, "1 while the trigger's last Redis call succeeded (reading the stream), else 0."),
		reconnects: counter(MetricStreamReconnects, "Returns to reading the stream after a lost connection."),
	}
}

func (v streamVecs) collectors() []prometheus.Collector {
	return []prometheus.Collector{v.received, v.handled, v.failed, v.timedOut, v.retried, v.dead, v.claimed, v.trimmed,
		v.reconnects, v.duration, v.inFlight, v.pending, v.lag, v.oldest, v.connected}
}

// StreamMetrics records one redis-stream trigger; a nil *StreamMetrics records nothing.
type StreamMetrics struct {
	received, handled, failed, timedOut, retried, dead, claimed, trimmed, reconnects prometheus.Counter
	duration                                                                         prometheus.Observer
	inFlight, pending, lag, oldest, connected                                        prometheus.Gauge
}

var _ observe.StreamObserver = (*StreamMetrics)(nil)

// Stream returns the recorder for one (server, stream, group), creating its series. The lag starts as
// NaN (unknown) until the first refresh.
func (m *Metrics) Stream(server, stream, group string) observe.StreamObserver {
	if m == nil {
		return (*StreamMetrics)(nil)
	}
	l := []string{server, stream, group}
	v := m.streams
	s := &StreamMetrics{
		received: v.received.WithLabelValues(l...), handled: v.handled.WithLabelValues(l...),
		failed: v.failed.WithLabelValues(l...), retried: v.retried.WithLabelValues(l...),
		dead: v.dead.WithLabelValues(l...), claimed: v.claimed.WithLabelValues(l...),
		trimmed: v.trimmed.WithLabelValues(l...), duration: v.duration.WithLabelValues(l...),
		inFlight: v.inFlight.WithLabelValues(l...), pending: v.pending.WithLabelValues(l...),
		lag: v.lag.WithLabelValues(l...), oldest: v.oldest.WithLabelValues(l...),
		timedOut: v.timedOut.WithLabelValues(l...), reconnects: v.reconnects.WithLabelValues(l...),
		connected: v.connected.WithLabelValues(l...),
	}
	s.lag.Set(math.NaN())
	return s
}

// Received implements observe.StreamObserver.
func (s *StreamMetrics) Received(n int) {
	if s != nil {
		s.received.Add(float64(n))
	}
}

// Finished implements observe.StreamObserver.
func (s *StreamMetrics) Finished(r observe.Result, d time.Duration) {
	if s == nil {
		return
	}
	switch r {
	case observe.Handled:
		s.handled.Inc()
	case observe.TimedOut:
		s.failed.Inc()
		s.timedOut.Inc()
	default:
		s.failed.Inc()
	}
	s.duration.Observe(d.Seconds())
}

// Retried implements observe.StreamObserver.
func (s *StreamMetrics) Retried() {
	if s != nil {
		s.retried.Inc()
	}
}

// DeadLettered implements observe.StreamObserver.
func (s *StreamMetrics) DeadLettered() {
	if s != nil {
		s.dead.Inc()
	}
}

// Claimed implements observe.StreamObserver.
func (s *StreamMetrics) Claimed(n int) {
	if s != nil {
		s.claimed.Add(float64(n))
	}
}

// Trimmed implements observe.StreamObserver.
func (s *StreamMetrics) Trimmed(n int) {
	if s != nil {
		s.trimmed.Add(float64(n))
	}
}

// SetInFlight implements observe.StreamObserver.
func (s *StreamMetrics) SetInFlight(n int) {
	if s != nil {
		s.inFlight.Set(float64(n))
	}
}

// SetGroup implements observe.StreamObserver; an unknown lag is exported as NaN, never 0.
func (s *StreamMetrics) SetGroup(g observe.GroupInfo) {
	if s == nil {
		return
	}
	s.pending.Set(float64(g.Pending))
	if g.LagKnown {
		s.lag.Set(float64(g.Lag))
	} else {
		s.lag.Set(math.NaN())
	}
	s.oldest.Set(g.OldestPendingAge.Seconds())
}

// SetConnected implements observe.StreamObserver.
func (s *StreamMetrics) SetConnected(up bool) {
	if s != nil {
		setBool(s.connected, up)
	}
}

// Reconnected implements observe.StreamObserver.
func (s *StreamMetrics) Reconnected() {
	if s != nil {
		s.reconnects.Inc()
	}
}
