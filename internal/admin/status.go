package admin

import (
	"math"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"

	"github.com/redspin/redspin/internal/observe"
)

// BuildInfo names the running binary; the status page and the redspin_build_info metric show it.
type BuildInfo struct {
	Version  string `json:"version"`  // module or release version; "(devel)" for a local build
	Commit   string `json:"commit"`   // VCS revision; "" when unknown
	Wasmtime string `json:"wasmtime"` // version of the linked Wasmtime (the wasmtime-go module's)
	Go       string `json:"go"`       // Go toolchain version
	Dirty    bool   `json:"dirty"`    // built from a modified work tree
}

// SetBuild records the binary's build information (zero until called).
func (m *Metrics) SetBuild(b BuildInfo) {
	if m == nil {
		return
	}
	m.buildMu.Lock()
	m.build = b
	m.buildMu.Unlock()
	m.buildInfo.Reset()
	m.buildInfo.WithLabelValues(b.Version, b.Commit, b.Go, b.Wasmtime).Set(1)
}

// LastError is a component's most recent handler error.
type LastError struct {
	Time  time.Time `json:"time"`
	Error string    `json:"error"`
}

// maxErrorText bounds the stored error text (bytes); longer texts are cut and end with "…".
const maxErrorText = 1024

type lastErrors struct {
	mu          sync.Mutex
	byComponent map[string]LastError
}

func (l *lastErrors) set(id string, err error, at time.Time) {
	text := err.Error()
	if len(text) > maxErrorText {
		cut := maxErrorText
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut] + "…"
	}
	l.mu.Lock()
	l.byComponent[id] = LastError{Time: at, Error: text}
	l.mu.Unlock()
}

func (l *lastErrors) get(id string) *LastError {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.byComponent[id]; ok {
		return &e
	}
	return nil
}

// StatusReport is the document served as /status.json; docs/observability.md describes it. Counters are
// totals since the process started; rates are per second over the last RateWindow (null until two
// samples at least a second apart exist); durations are in seconds.
type StatusReport struct {
	Time          time.Time         `json:"time"`
	Started       time.Time         `json:"started"`
	UptimeSeconds float64           `json:"uptime_seconds"`
	Ready         bool              `json:"ready"`
	Healthy       bool              `json:"healthy"`
	Build         BuildInfo         `json:"build"`
	RateWindow    float64           `json:"rate_window_seconds"`
	Servers       []ServerReport    `json:"servers"`
	Channels      []ChannelReport   `json:"channels"`
	Streams       []StreamReport    `json:"streams"`
	Components    []ComponentReport `json:"components"`
}

// ServerReport is one Redis server's pub/sub connection.
type ServerReport struct {
	observe.ServerStatus
	Connected bool `json:"connected"`
}

// ChannelReport is one pub/sub (server, channel) lane.
type ChannelReport struct {
	Server           string   `json:"server"`
	Channel          string   `json:"channel"`
	Received         uint64   `json:"received"`
	ReceivedRate     *float64 `json:"received_per_second"`
	QueueDepth       int64    `json:"queue_depth"`
	DroppedQueueFull uint64   `json:"dropped_queue_full"`
	DroppedShutdown  uint64   `json:"dropped_shutdown"`
	DroppedRate      *float64 `json:"dropped_per_second"`
}

// StreamReport is one redis-stream trigger (server, stream, group) with its connection state.
type StreamReport struct {
	Server        string    `json:"server"`
	Stream        string    `json:"stream"`
	Group         string    `json:"group"`
	Consumer      string    `json:"consumer"`
	State         string    `json:"state"`
	Reconnects    uint64    `json:"reconnects"`
	LastError     string    `json:"last_error,omitempty"`
	Received      uint64    `json:"received"`
	Handled       uint64    `json:"handled"`
	Failed        uint64    `json:"failed"`    // timeouts included
	TimedOut      uint64    `json:"timed_out"` // failed deliveries that hit the handler timeout
	Retried       uint64    `json:"retried"`
	DeadLettered  uint64    `json:"dead_lettered"`
	Claimed       uint64    `json:"claimed"`
	Trimmed       uint64    `json:"trimmed"`
	InFlight      int64     `json:"in_flight"`
	Pending       int64     `json:"pending"`
	Lag           *int64    `json:"lag"` // null when Redis does not know it
	OldestPending float64   `json:"oldest_pending_age_seconds"`
	ReceivedRate  *float64  `json:"received_per_second"`
	HandledRate   *float64  `json:"handled_per_second"`
	FailedRate    *float64  `json:"failed_per_second"`
	Duration      Durations `json:"duration_seconds"`
}

// ComponentReport is one component's handler invocations, over every trigger that runs it.
type ComponentReport struct {
	Component   string     `json:"component"`
	Handled     uint64     `json:"handled"`
	Failed      uint64     `json:"failed"`    // errors and traps, timeouts excluded
	TimedOut    uint64     `json:"timed_out"` // invocations that hit their deadline
	HandledRate *float64   `json:"handled_per_second"`
	FailedRate  *float64   `json:"failed_per_second"` // failed and timed out
	Duration    Durations  `json:"duration_seconds"`
	LastError   *LastError `json:"last_error"` // null when none failed
}

// Durations summarises a duration histogram since start: sample count and estimated quantiles (linear
// interpolation within the buckets, as PromQL's histogram_quantile); the quantiles are null without samples.
type Durations struct {
	Count uint64   `json:"count"`
	P50   *float64 `json:"p50"`
	P90   *float64 `json:"p90"`
	P99   *float64 `json:"p99"`
}

// RateWindow is the span over which /status.json computes rates.
const RateWindow = 10 * time.Second

// Status builds the report from the registry and src (nil src: no connection state, ready and healthy).
func (m *Metrics) Status(src observe.StatusSource) StatusReport {
	st := status(src)
	now := time.Now()
	r := StatusReport{Time: now, Ready: st.Ready, Healthy: st.Healthy, RateWindow: RateWindow.Seconds(),
		Servers: []ServerReport{}, Channels: []ChannelReport{}, Streams: []StreamReport{}, Components: []ComponentReport{}}
	if m == nil {
		return r
	}
	r.Started, r.UptimeSeconds = m.started, now.Sub(m.started).Seconds()
	m.buildMu.Lock()
	r.Build = m.build
	m.buildMu.Unlock()

	families, _ := m.reg.Gather()
	fam := map[string]*dto.MetricFamily{}
	for _, f := range families {
		fam[f.GetName()] = f
	}
	cur := map[string]float64{}       // every counter by series key, for the rates
	index := map[string]*dto.Metric{} // every series by series key
	for _, f := range families {
		if !strings.HasPrefix(f.GetName(), "redspin_") {
			continue // the Go and process collectors
		}
		for _, s := range f.GetMetric() {
			var pairs []string
			for _, lp := range s.GetLabel() {
				pairs = append(pairs, lp.GetName(), lp.GetValue())
			}
			k := seriesKey(f.GetName(), pairs)
			index[k] = s
			if s.Counter != nil {
				cur[k] = s.GetCounter().GetValue()
			}
		}
	}
	past, dt := m.rates.observe(now, cur)
	// rate is the per-second increase of the sum of the series named by keys; nil without a past sample.
	rate := func(keys ...string) *float64 {
		if dt == 0 {
			return nil
		}
		var d float64
		for _, k := range keys {
			d += cur[k] - past[k]
		}
		v := max(d, 0) / dt
		return &v
	}
	series := func(name string) []*dto.Metric { return fam[name].GetMetric() }
	// val and hist read one series, named by its label pairs in the registry's (sorted) order.
	val := func(name string, labels ...string) float64 {
		s := index[seriesKey(name, labels)]
		switch {
		case s == nil:
		case s.Counter != nil:
			return s.GetCounter().GetValue()
		case s.Gauge != nil:
			return s.GetGauge().GetValue()
		}
		return 0
	}
	hist := func(name string, labels ...string) Durations {
		if s := index[seriesKey(name, labels)]; s != nil && s.Histogram != nil {
			return durations(s.GetHistogram())
		}
		return Durations{}
	}

	connected := map[string]bool{}
	for _, s := range series(MetricConnected) {
		connected[label(s, "server")] = s.GetGauge().GetValue() == 1
	}
	for _, s := range st.Servers {
		r.Servers = append(r.Servers, ServerReport{ServerStatus: s, Connected: connected[s.Server]})
	}

	for _, s := range series(MetricReceived) {
		srv, ch := label(s, "server"), label(s, "channel")
		c := ChannelReport{Server: srv, Channel: ch,
			Received:         uint64(val(MetricReceived, "channel", ch, "server", srv)),
			QueueDepth:       int64(val(MetricQueueDepth, "channel", ch, "server", srv)),
			DroppedQueueFull: uint64(val(MetricDropped, "channel", ch, "reason", observe.DropQueueFull, "server", srv)),
			DroppedShutdown:  uint64(val(MetricDropped, "channel", ch, "reason", observe.DropShutdown, "server", srv)),
			ReceivedRate:     rate(seriesKey(MetricReceived, []string{"channel", ch, "server", srv})),
			DroppedRate: rate(
				seriesKey(MetricDropped, []string{"channel", ch, "reason", observe.DropQueueFull, "server", srv}),
				seriesKey(MetricDropped, []string{"channel", ch, "reason", observe.DropShutdown, "server", srv})),
		}
		r.Channels = append(r.Channels, c)
	}

	streamState := map[[3]string]observe.StreamStatus{}
	for _, s := range st.Streams {
		streamState[[3]string{s.Server, s.Stream, s.Group}] = s
	}
	for _, s := range series(MetricStreamReceived) {
		l := []string{"group", label(s, "group"), "server", label(s, "server"), "stream", label(s, "stream")}
		k := [3]string{label(s, "server"), label(s, "stream"), label(s, "group")}
		ss := streamState[k]
		sr := StreamReport{Server: k[0], Stream: k[1], Group: k[2], Consumer: ss.Consumer, State: ss.State,
			Reconnects: ss.Reconnects, LastError: ss.LastError,
			Received:      uint64(val(MetricStreamReceived, l...)),
			Handled:       uint64(val(MetricStreamHandled, l...)),
			Failed:        uint64(val(MetricStreamFailed, l...)),
			TimedOut:      uint64(val(MetricStreamTimedOut, l...)),
			Retried:       uint64(val(MetricStreamRetried, l...)),
			DeadLettered:  uint64(val(MetricStreamDeadLettered, l...)),
			Claimed:       uint64(val(MetricStreamClaimed, l...)),
			Trimmed:       uint64(val(MetricStreamTrimmed, l...)),
			InFlight:      int64(val(MetricStreamInFlight, l...)),
			Pending:       int64(val(MetricStreamPending, l...)),
			OldestPending: val(MetricStreamOldestPendingAge, l...),
			Duration:      hist(MetricStreamHandlerDuration, l...),
			ReceivedRate:  rate(seriesKey(MetricStreamReceived, l)),
			HandledRate:   rate(seriesKey(MetricStreamHandled, l)),
			FailedRate:    rate(seriesKey(MetricStreamFailed, l)),
		}
		if lag := val(MetricStreamLag, l...); !math.IsNaN(lag) {
			n := int64(lag)
			sr.Lag = &n
		}
		r.Streams = append(r.Streams, sr)
	}

	for _, s := range series(MetricHandled) {
		id := label(s, "component")
		l := []string{"component", id}
		c := ComponentReport{Component: id,
			Handled:     uint64(val(MetricHandled, l...)),
			Failed:      uint64(val(MetricFailed, l...)),
			TimedOut:    uint64(val(MetricTimedOut, l...)),
			Duration:    hist(MetricHandlerDuration, l...),
			LastError:   m.errs.get(id),
			HandledRate: rate(seriesKey(MetricHandled, l)),
			FailedRate:  rate(seriesKey(MetricFailed, l), seriesKey(MetricTimedOut, l)),
		}
		r.Components = append(r.Components, c)
	}
	return r
}

// rateWindow keeps counter samples, at most one a second, over the last RateWindow.
type rateWindow struct {
	mu      sync.Mutex
	samples []rateSample
}

type rateSample struct {
	at     time.Time
	values map[string]float64
}

// observe stores cur (unless the newest sample is under a second old) and returns the oldest sample
// within the window with its age in seconds; 0 when no sample is at least a second old.
func (w *rateWindow) observe(now time.Time, cur map[string]float64) (map[string]float64, float64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.samples) > 0 && now.Sub(w.samples[0].at) > RateWindow {
		w.samples = w.samples[1:]
	}
	var past map[string]float64
	var dt float64
	if len(w.samples) > 0 && now.Sub(w.samples[0].at) >= time.Second {
		past, dt = w.samples[0].values, now.Sub(w.samples[0].at).Seconds()
	}
	if n := len(w.samples); n == 0 || now.Sub(w.samples[n-1].at) >= time.Second {
		w.samples = append(w.samples, rateSample{at: now, values: cur})
	}
	return past, dt
}

// durations estimates the quantiles of a cumulative histogram.
func durations(h *dto.Histogram) Durations {
	d := Durations{Count: h.GetSampleCount()}
	if d.Count == 0 {
		return d
	}
	buckets := h.GetBucket()
	sort.Slice(buckets, func(i, j int) bool { return buckets[i].GetUpperBound() < buckets[j].GetUpperBound() })
	q := func(q float64) *float64 {
		rank := q * float64(d.Count)
		lower, below := 0.0, 0.0
		for _, b := range buckets {
			upper, cum := b.GetUpperBound(), float64(b.GetCumulativeCount())
			if cum >= rank {
				if math.IsInf(upper, 1) {
					return &lower
				}
				v := lower
				if cum > below {
					v = lower + (upper-lower)*(rank-below)/(cum-below)
				}
				return &v
			}
			lower, below = upper, cum
		}
		return &lower // above the highest finite bucket: its bound, as histogram_quantile
	}
	d.P50, d.P90, d.P99 = q(0.5), q(0.9), q(0.99)
	return d
}

func label(s *dto.Metric, name string) string {
	for _, lp := range s.GetLabel() {
		if lp.GetName() == name {
			return lp.GetValue()
		}
	}
	return ""
}

func seriesKey(name string, pairs []string) string {
	return name + "\x00" + strings.Join(pairs, "\x00")
}
