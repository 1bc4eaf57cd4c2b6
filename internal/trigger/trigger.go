package trigger

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"

	"github.com/redspin/redspin/internal/observe"
	"github.com/redspin/redspin/internal/telemetry"
)

// Handler runs one component for one message. It returns an error wrapping
// context.DeadlineExceeded when the invocation timed out. Handle is called
// concurrently (for the components of one channel, and across channels) and
// must not modify payload, which is shared by those calls, nor keep it (or
// anything pointing into it) after returning: the pub/sub trigger reads a
// later message into the same buffer.
type Handler interface {
	Handle(ctx context.Context, componentID string, payload []byte) error
}

// Server is one Redis server and the channels to subscribe on it.
type Server struct {
	// Display names the server in output, logs and metrics: "host:port" or a
	// socket path, never credentials.
	Display string
	// Options connect to the server: one node, a Sentinel-managed primary
	// (MasterName) or a cluster (IsClusterMode); see redisurl.NewClient.
	Options  *redis.UniversalOptions
	Channels []Channel
}

// Channel is one channel and the components it runs, in manifest order,
// without duplicates.
type Channel struct {
	Name string
	// Display names the channel in output, logs and metrics; "" = Name.
	// The app sets it to the channel's template when a secret variable went
	// into the name.
	Display    string
	Components []string
	// MaxPayload is the longest payload, in bytes, that any of Components
	// accepts (see host.Host.MaxPayload). A longer message is read past
	// without being kept in memory and fails for every component at once,
	// with an error naming its size and the limit. 0 = no limit: every
	// payload is read and handed to the components.
	MaxPayload int
}

// Drop policies for a full lane queue.
const (
	DropNewest = "newest" // discard the incoming message (default)
	DropOldest = "oldest" // discard the oldest queued message
)

// Defaults for the zero values of Config.
const (
	DefaultQueueSize           = 10_000
	DefaultQueueBytes          = 64 << 20
	DefaultShutdownTimeout     = 30 * time.Second
	DefaultCancelGrace         = 5 * time.Second
	DefaultConnectRetry        = 4 * time.Second
	DefaultHealthCheckInterval = 5 * time.Second
)

// ErrHandlersAbandoned is returned (wrapped) by Run when handlers were still
// running after ShutdownTimeout and CancelGrace: Run returned without them,
// and they still use the Handler, which the caller must therefore not free
// (the process should exit instead).
var ErrHandlersAbandoned = errors.New("handlers ignored cancellation and were abandoned")

// Config configures a Trigger. Zero values mean the documented default.
// Every duration follows one rule: 0 means its default, a negative value
// turns it off.
type Config struct {
	Servers []Server
	// MaxConcurrency is the number of messages of one channel handled at once.
	// Default 1: messages on a channel are handled in arrival order.
	MaxConcurrency int
	// QueueSize and QueueBytes bound each lane's queue of messages waiting to
	// be handled. Defaults 10,000 messages and 64 MiB. A message is always
	// accepted into an empty queue, whatever its size.
	QueueSize  int
	QueueBytes int64
	// Drop is the policy when a lane's queue is full: DropNewest (default) or
	// DropOldest.
	Drop string
	// ShutdownTimeout bounds how long Run waits for in-flight handlers after
	// its context is cancelled; then their context is cancelled.
	// 0 = DefaultShutdownTimeout (30 s); negative = no wait: cancel them at
	// once.
	ShutdownTimeout time.Duration
	// CancelGrace is how long Run waits, after cancelling the handlers'
	// context at the shutdown timeout, for them to return; then it returns
	// ErrHandlersAbandoned, naming them in the log. So Run returns at most
	// ShutdownTimeout + CancelGrace after its context is cancelled.
	// 0 = DefaultCancelGrace (5 s); negative = no wait: abandon at once.
	CancelGrace time.Duration
	// ConnectRetry is the time budget for retrying the first connection to a
	// server before Run fails; an authentication failure is never retried.
	// 0 = DefaultConnectRetry (4 s); negative = no retry: a single attempt.
	ConnectRetry time.Duration
	// HealthCheckInterval: a connection idle this long is sent a PING, and one
	// that stays silent for twice this long is considered lost.
	// 0 = DefaultHealthCheckInterval (5 s); negative = no health check.
	HealthCheckInterval time.Duration
	// Stdout receives the "Active Channels on ..." lines (nil = discard).
	Stdout io.Writer
	// Logger receives diagnostics (nil = discard).
	Logger *slog.Logger
	// Observer records what the trigger does (nil = observe.Nop).
	Observer observe.Observer
	// TracerProvider traces each message (a root span, a child per component); nil = no tracing, at
	// no cost.
	TracerProvider trace.TracerProvider
}

// Stats are the trigger's totals since New. Handled, Failed and TimedOut
// count handler invocations (one per component per message); the others
// count messages.
type Stats struct {
	Received, Handled, Failed, TimedOut, Dropped, Reconnects uint64
}

// String formats the stats for the exit summary line.
func (s Stats) String() string {
	return fmt.Sprintf("%d received, %d handled, %d failed, %d timed out, %d dropped, %d reconnects",
		s.Received, s.Handled, s.Failed, s.TimedOut, s.Dropped, s.Reconnects)
}

type stats struct {
	received, handled, failed, timedOut, dropped, reconnects atomic.Uint64
}

// Trigger runs the Redis trigger. Create it with New, run it once with Run.
type Trigger struct {
	cfg     Config
	h       Handler
	log     *slog.Logger
	servers []*server
	tracer  trace.Tracer
	tracing bool // TracerProvider set
	stats   stats

	lifecycle // started: every server subscribed at least once

	stdoutMu sync.Mutex
}

// New validates cfg and prepares a trigger; it does not connect.
func New(cfg Config, h Handler) (*Trigger, error) {
	if h == nil {
		return nil, errors.New("trigger: nil handler")
	}
	if len(cfg.Servers) == 0 {
		return nil, errors.New("trigger: no Redis servers configured")
	}
	switch {
	case cfg.MaxConcurrency < 0:
		return nil, fmt.Errorf("invalid max concurrency %d: must be at least 1", cfg.MaxConcurrency)
	case cfg.MaxConcurrency == 0:
		cfg.MaxConcurrency = 1
	}
	switch {
	case cfg.QueueSize < 0:
		return nil, fmt.Errorf("invalid queue size %d: must be at least 1", cfg.QueueSize)
	case cfg.QueueSize == 0:
		cfg.QueueSize = DefaultQueueSize
	}
	switch {
	case cfg.QueueBytes < 0:
		return nil, fmt.Errorf("invalid queue bytes %d: must be positive", cfg.QueueBytes)
	case cfg.QueueBytes == 0:
		cfg.QueueBytes = DefaultQueueBytes
	}
	switch cfg.Drop {
	case "":
		cfg.Drop = DropNewest
	case DropNewest, DropOldest:
	default:
		return nil, fmt.Errorf("invalid drop policy %q: use %q or %q", cfg.Drop, DropNewest, DropOldest)
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&cfg.ShutdownTimeout, DefaultShutdownTimeout},
		{&cfg.CancelGrace, DefaultCancelGrace},
		{&cfg.ConnectRetry, DefaultConnectRetry},
		{&cfg.HealthCheckInterval, DefaultHealthCheckInterval},
	} {
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Observer == nil {
		cfg.Observer = observe.Nop{}
	}
	t := &Trigger{cfg: cfg, h: h, log: cfg.Logger, tracer: telemetry.Tracer(cfg.TracerProvider), tracing: cfg.TracerProvider != nil}
	for i, sc := range cfg.Servers {
		if sc.Options == nil {
			return nil, fmt.Errorf("trigger: server %q: no connection options", sc.Display)
		}
		if sc.Display == "" {
			return nil, fmt.Errorf("trigger: server %d: empty display address", i)
		}
		if len(sc.Channels) == 0 {
			return nil, fmt.Errorf("trigger: server %s: no channels", sc.Display)
		}
		s := newServer(t, sc)
		seen := map[string]bool{}
		for _, ch := range sc.Channels {
			if ch.Name == "" {
				return nil, fmt.Errorf("trigger: server %s: empty channel name", sc.Display)
			}
			if seen[ch.Name] {
				return nil, fmt.Errorf("trigger: server %s: channel %q listed twice", sc.Display, ch.Name)
			}
			seen[ch.Name] = true
			comps := dedup(ch.Components)
			if len(comps) == 0 {
				return nil, fmt.Errorf("trigger: server %s: channel %q has no components", sc.Display, ch.Name)
			}
			s.addLane(newLane(s, ch, comps, &t.cfg))
		}
		t.servers = append(t.servers, s)
	}
	return t, nil
}

func dedup(ids []string) []string {
	var out []string
	for _, id := range ids {
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// Stats returns the totals so far; safe to call at any time.
func (t *Trigger) Stats() Stats {
	return Stats{
		Received:   t.stats.received.Load(),
		Handled:    t.stats.handled.Load(),
		Failed:     t.stats.failed.Load(),
		TimedOut:   t.stats.timedOut.Load(),
		Dropped:    t.stats.dropped.Load(),
		Reconnects: t.stats.reconnects.Load(),
	}
}

// Healthy reports whether every server's subscription is up. It is false
// before the first subscription and while any server is reconnecting, and
// true while draining at shutdown.
func (t *Trigger) Healthy() bool {
	return healthy(&t.lifecycle, t.servers, func(s *server) bool { return s.state.Load() == stateSubscribed })
}

// Status implements observe.StatusSource.
func (t *Trigger) Status() observe.Status {
	st := observe.Status{Ready: t.Ready(), Healthy: t.Healthy()}
	for _, s := range t.servers {
		ss := observe.ServerStatus{
			Server:     s.cfg.Display,
			State:      stateNames[s.state.Load()],
			Channels:   len(s.lanes),
			Reconnects: s.reconnects.Load(),
		}
		ss.LastError = s.lastError()
		st.Servers = append(st.Servers, ss)
	}
	return st
}

var _ observe.StatusSource = (*Trigger)(nil)

// Run connects to every server, subscribes, prints the active channels and
// handles messages until ctx is cancelled. It returns an error only when a
// server cannot be reached at startup ("Redis trigger failed to connect to
// ..."); once running it reconnects instead of failing. On cancellation it
// stops reading, discards queued messages, waits for in-flight handlers (up
// to ShutdownTimeout), cancels the handlers still running and waits for
// them up to CancelGrace, and returns nil, or an error wrapping
// ErrHandlersAbandoned when some never returned. Run may be called once.
func (t *Trigger) Run(ctx context.Context) error {
	r, err := t.begin(ctx, "trigger")
	if err != nil {
		return err
	}
	defer r.end()

	var workers sync.WaitGroup
	for _, s := range t.servers {
		for _, l := range s.lanes {
			for range t.cfg.MaxConcurrency {
				workers.Go(func() { t.work(r.handlers, l) })
			}
		}
	}

	var readers sync.WaitGroup
	err = t.startReaders(r, &readers, len(t.servers), func(i int, startup chan<- error) {
		t.servers[i].run(r.readers, startup)
	})
	if err != nil {
		t.closeLanes(false)
		workers.Wait()
		return err
	}

	tick := time.NewTicker(time.Second)
	defer tick.Stop()
loop:
	for {
		select {
		case <-r.readers.Done():
			break loop
		case <-tick.C:
			t.eachLane(func(l *lane) { l.flushDrops(false) })
		}
	}

	// Shutdown: stop reading, discard what has not started, drain the rest.
	t.stopping.Store(true)
	t.log.Info("shutting down: closing subscriptions, then waiting for in-flight handlers",
		"timeout", t.cfg.ShutdownTimeout.String())
	readers.Wait()
	t.closeLanes(true)

	done := make(chan struct{})
	go func() { workers.Wait(); close(done) }()
	if _, err := drain(t.log, done, t.cfg.ShutdownTimeout, t.cfg.CancelGrace, r.cancelHandlers, t.running); err != nil {
		return err
	}
	return nil
}

// wait waits for done at most d (not at all when d is negative) and
// reports whether it closed.
func wait(done <-chan struct{}, d time.Duration) bool {
	if d < 0 {
		select {
		case <-done:
			return true
		default:
			return false
		}
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-done:
		return true
	case <-timer.C:
		return false
	}
}

// running names the handlers running now: `component "c" on server/channel`
// (with a count when several messages of one lane run it), sorted.
func (t *Trigger) running() string {
	var names []string
	t.eachLane(func(l *lane) {
		for i, id := range l.components {
			switch n := l.running[i].Load(); {
			case n == 1:
				names = append(names, fmt.Sprintf("component %q on %s/%s", id, l.srv.cfg.Display, l.name))
			case n > 1:
				names = append(names, fmt.Sprintf("component %q on %s/%s (%d messages)", id, l.srv.cfg.Display, l.name, n))
			}
		}
	})
	if len(names) == 0 {
		return "none"
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// closeLanes closes every lane, logging the discarded messages once.
func (t *Trigger) closeLanes(logDiscarded bool) {
	var total int
	var where []string
	t.eachLane(func(l *lane) {
		l.flushDrops(true)
		if n := l.close(); n > 0 {
			total += n
			where = append(where, fmt.Sprintf("%s/%s: %d", l.srv.cfg.Display, l.display, n))
		}
	})
	if logDiscarded && total > 0 {
		sort.Strings(where)
		t.log.Warn("shutdown: dropped queued messages that had not started",
			"dropped", total, "lanes", strings.Join(where, ", "))
	}
}

func (t *Trigger) eachLane(f func(*lane)) {
	for _, s := range t.servers {
		for _, l := range s.lanes {
			f(l)
		}
	}
}

// printChannels writes Spin's "Active Channels" block for one server.
func (t *Trigger) printChannels(s *server) {
	var b strings.Builder
	fmt.Fprintf(&b, "Active Channels on %s:\n", s.cfg.Display)
	for _, l := range s.lanes {
		fmt.Fprintf(&b, "\t%s/%s: [%s]\n", s.cfg.Display, l.display, strings.Join(l.components, ","))
	}
	t.stdoutMu.Lock()
	defer t.stdoutMu.Unlock()
	_, _ = io.WriteString(t.cfg.Stdout, b.String())
}
