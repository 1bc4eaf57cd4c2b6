package trigger

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"

	"github.com/redspin/redspin/internal/observe"
	"github.com/redspin/redspin/internal/streamentry"
)

// Defaults of a redis-stream trigger's zero values (see Stream and StreamConfig).
const (
	DefaultStreamField      = "payload"
	DefaultStreamStart      = "0"
	DefaultMaxDeliveries    = 5
	DefaultRetryBackoff     = time.Second
	DefaultStreamBlock      = 500 * time.Millisecond
	DefaultStreamRefresh    = 5 * time.Second
	DefaultConsumerIdle     = time.Hour
	DefaultDeadLetterSuffix = ":dead"
	// DefaultReadAhead is the read-ahead window when a trigger sets none and its concurrency is lower:
	// 16 entries per XREADGROUP made the C module's stream mode 1.7-2.2x faster than a window of one
	// (docs/performance.md).
	DefaultReadAhead = 16
	// readAheadBytes is about the most the window holds when entries are large (aheadLimit).
	readAheadBytes = 1 << 20
	// releaseTimeout bounds the script that releases unstarted entries at shutdown.
	releaseTimeout            = 2 * time.Second
	defaultClaimIdleNoTimeout = 5 * time.Minute
	maxRetryBackoff           = 5 * time.Minute
)

// Stream is one redis-stream trigger: one component reading one stream through one consumer group.
type Stream struct {
	// Display names the server in output, logs and metrics: "host:port" or a socket path, never credentials.
	Display string
	// Options connect to the server: one node, a Sentinel-managed primary (MasterName) or a cluster
	// (IsClusterMode); see redisurl.NewClient.
	Options *redis.UniversalOptions
	// Component is the component every entry runs.
	Component string
	// Key is the stream key; Group the consumer group (both required).
	Key, Group string
	// Field names the entry field passed as the payload; "" means DefaultStreamField.
	Field string
	// Start is where a new group starts: "0" (the whole stream) or "$" (new entries only); "" means "0".
	Start string
	// Concurrency is the number of entries handled at once by this process; 0 means 1 (stream order).
	Concurrency int
	// ReadAhead is the read-ahead window: how many entries the reader may hold delivered to this consumer
	// but not started yet, so that a slot that frees up starts the next one without a round trip (fewer
	// when entries are large: about 1 MiB in all, at least one per slot). 0 means the larger of
	// DefaultReadAhead and Concurrency.
	ReadAhead int
	// MaxDeliveries: a failed delivery whose delivery count has reached it dead-letters the entry; 0 means
	// DefaultMaxDeliveries.
	MaxDeliveries int64
	// DeadLetter is the dead-letter stream; "" means Key + DefaultDeadLetterSuffix.
	DeadLetter string
	// ClaimIdle: entries pending on any consumer for longer are claimed with XAUTOCLAIM. 0 means twice
	// StreamConfig.HandlerTimeout plus 30 s (5 min without a handler timeout).
	ClaimIdle time.Duration
	// RetryBackoff is the delay before the first retry of a failed entry, doubling with each delivery;
	// 0 means DefaultRetryBackoff. Delays are capped at half of ClaimIdle.
	RetryBackoff time.Duration
}

// StreamConfig configures a StreamTrigger. Zero values mean the documented default.
type StreamConfig struct {
	// Streams are the triggers to run.
	Streams []Stream
	// Consumer is this process's consumer name in every group; "" means DefaultConsumerName().
	Consumer string
	// HandlerTimeout is the host's handler timeout (0 = none); it sets the default claim idle time.
	HandlerTimeout time.Duration
	// ShutdownTimeout bounds how long Run waits for in-flight handlers after its context is cancelled;
	// then their context is cancelled and their entries stay pending. 0 means DefaultShutdownTimeout;
	// negative means no wait (cancel at once).
	ShutdownTimeout time.Duration
	// CancelGrace is how long Run waits for cancelled handlers to return before it gives up on them
	// (Run then returns an error wrapping ErrHandlersAbandoned). 0 means DefaultCancelGrace; negative
	// means no wait.
	CancelGrace time.Duration
	// ConnectRetry is the time budget for creating the groups at startup before Run fails. Default 4 s;
	// negative means a single attempt.
	ConnectRetry time.Duration
	// Block is the longest XREADGROUP BLOCK; it bounds how long shutdown waits for a read. Default 0.5 s.
	Block time.Duration
	// Refresh is how often the group's pending count, lag and oldest pending age are read. Default 5 s.
	Refresh time.Duration
	// ConsumerIdle: other consumers of the group idle this long with no pending entries are deleted.
	// Default 1 h; negative disables the cleanup.
	ConsumerIdle time.Duration
	// Stdout receives one "Reading stream ..." line per trigger (nil = discard).
	Stdout io.Writer
	// Logger receives diagnostics (nil = discard).
	Logger *slog.Logger
	// Observer records what the trigger does (nil = observe.Nop).
	Observer observe.Observer
	// TracerProvider traces each entry's delivery; nil = no tracing, at no cost.
	TracerProvider trace.TracerProvider
}

// DefaultConsumerName is "<hostname>-<pid>-<random>": unique per live process, and recognisable.
func DefaultConsumerName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "redspin"
	}
	return fmt.Sprintf("%s-%d-%04x", host, os.Getpid(), rand.N(1<<16))
}

// DefaultClaimIdle is the claim idle time used when a trigger sets none: comfortably above the handler
// timeout, so that an entry still being handled is never claimed by another replica.
func DefaultClaimIdle(handlerTimeout time.Duration) time.Duration {
	if handlerTimeout <= 0 {
		return defaultClaimIdleNoTimeout
	}
	return 2*handlerTimeout + 30*time.Second
}

// StreamStats are a StreamTrigger's totals since New. Received counts deliveries to this process;
// Handled, Failed and TimedOut handler invocations.
type StreamStats struct {
	Received, Handled, Failed, TimedOut, Retried, DeadLettered, Claimed, Trimmed, Reconnects uint64
}

// String formats the stats for the exit summary line.
func (s StreamStats) String() string {
	return fmt.Sprintf("streams: %d received, %d handled, %d failed, %d timed out, %d retried, %d dead-lettered, %d claimed, %d lost to trimming, %d reconnects",
		s.Received, s.Handled, s.Failed, s.TimedOut, s.Retried, s.DeadLettered, s.Claimed, s.Trimmed, s.Reconnects)
}

type streamStats struct {
	received, handled, failed, timedOut, retried, dead, claimed, trimmed, reconnects atomic.Uint64
}

// StreamTrigger runs redis-stream triggers: consumer groups read with XREADGROUP, entries acknowledged
// after their handler succeeded, failures retried and dead-lettered. Create it with NewStream, run it
// once with Run.
type StreamTrigger struct {
	cfg       StreamConfig
	h         streamentry.Handler
	log       *slog.Logger
	consumers []*streamConsumer
	stats     streamStats

	lifecycle // started: every group created and reading
	stdoutMu  sync.Mutex
}

// NewStream validates cfg and prepares the trigger; it does not connect.
func NewStream(cfg StreamConfig, h streamentry.Handler) (*StreamTrigger, error) {
	if h == nil {
		return nil, errors.New("stream trigger: nil handler")
	}
	if len(cfg.Streams) == 0 {
		return nil, errors.New("stream trigger: no streams configured")
	}
	if cfg.Consumer == "" {
		cfg.Consumer = DefaultConsumerName()
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	if cfg.CancelGrace == 0 {
		cfg.CancelGrace = DefaultCancelGrace
	}
	if cfg.ConnectRetry == 0 {
		cfg.ConnectRetry = DefaultConnectRetry
	}
	if cfg.Block <= 0 {
		cfg.Block = DefaultStreamBlock
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = DefaultStreamRefresh
	}
	if cfg.ConsumerIdle == 0 {
		cfg.ConsumerIdle = DefaultConsumerIdle
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
	t := &StreamTrigger{cfg: cfg, h: h, log: cfg.Logger}
	type key struct{ srv, stream, group string }
	seen := map[key]bool{}
	for _, s := range cfg.Streams {
		if err := s.normalize(cfg.HandlerTimeout); err != nil {
			return nil, err
		}
		k := key{s.Display, s.Key, s.Group}
		if seen[k] {
			return nil, fmt.Errorf("stream trigger: stream %q group %q on %s is configured twice: the components would split its entries; give one of them another group", s.Key, s.Group, s.Display)
		}
		seen[k] = true
		t.consumers = append(t.consumers, newStreamConsumer(t, s))
	}
	return t, nil
}

// normalize fills in defaults and validates one stream.
func (s *Stream) normalize(handlerTimeout time.Duration) error {
	name := fmt.Sprintf("stream trigger %q on %s", s.Key, s.Display)
	switch {
	case s.Options == nil:
		return fmt.Errorf("%s: no connection options", name)
	case s.Display == "":
		return fmt.Errorf("stream trigger %q: empty display address", s.Key)
	case s.Key == "":
		return fmt.Errorf("stream trigger on %s: empty stream key", s.Display)
	case s.Group == "":
		return fmt.Errorf("%s: empty group", name)
	case s.Component == "":
		return fmt.Errorf("%s: no component", name)
	case s.Concurrency < 0:
		return fmt.Errorf("%s: concurrency %d: must be at least 1", name, s.Concurrency)
	case s.ReadAhead < 0:
		return fmt.Errorf("%s: read_ahead %d: must be at least 1", name, s.ReadAhead)
	case s.MaxDeliveries < 0:
		return fmt.Errorf("%s: max_deliveries %d: must be at least 1", name, s.MaxDeliveries)
	case s.ClaimIdle < 0 || s.RetryBackoff < 0:
		return fmt.Errorf("%s: claim idle and retry backoff must not be negative", name)
	}
	if s.Field == "" {
		s.Field = DefaultStreamField
	}
	switch s.Start {
	case "":
		s.Start = DefaultStreamStart
	case "0", "$":
	default:
		return fmt.Errorf("%s: start %q: want \"0\" (the whole stream) or \"$\" (new entries only)", name, s.Start)
	}
	if s.Concurrency == 0 {
		s.Concurrency = 1
	}
	if s.ReadAhead == 0 {
		s.ReadAhead = max(DefaultReadAhead, s.Concurrency)
	}
	if s.MaxDeliveries == 0 {
		s.MaxDeliveries = DefaultMaxDeliveries
	}
	if s.DeadLetter == "" {
		s.DeadLetter = s.Key + DefaultDeadLetterSuffix
	}
	if s.DeadLetter == s.Key {
		return fmt.Errorf("%s: the dead-letter stream must differ from the stream", name)
	}
	if s.ClaimIdle == 0 {
		s.ClaimIdle = DefaultClaimIdle(handlerTimeout)
	}
	if s.RetryBackoff == 0 {
		s.RetryBackoff = DefaultRetryBackoff
	}
	return nil
}

// Consumer is this process's consumer name.
func (t *StreamTrigger) Consumer() string { return t.cfg.Consumer }

// Stats returns the totals so far; safe to call at any time.
func (t *StreamTrigger) Stats() StreamStats {
	s := &t.stats
	return StreamStats{
		Received: s.received.Load(), Handled: s.handled.Load(), Failed: s.failed.Load(),
		TimedOut: s.timedOut.Load(), Retried: s.retried.Load(), DeadLettered: s.dead.Load(),
		Claimed: s.claimed.Load(), Trimmed: s.trimmed.Load(), Reconnects: s.reconnects.Load(),
	}
}

// Healthy reports whether every trigger's last Redis call succeeded; true while draining at shutdown.
func (t *StreamTrigger) Healthy() bool {
	return healthy(&t.lifecycle, t.consumers, func(c *streamConsumer) bool { return c.state.Load() == streamReading })
}

// Status implements observe.StatusSource.
func (t *StreamTrigger) Status() observe.Status {
	st := observe.Status{Ready: t.Ready(), Healthy: t.Healthy()}
	for _, c := range t.consumers {
		ss := observe.StreamStatus{
			Server: c.cfg.Display, Stream: c.cfg.Key, Group: c.cfg.Group, Consumer: t.cfg.Consumer,
			State: streamStateNames[c.state.Load()], Reconnects: c.reconnects.Load(), LastError: c.lastError(),
		}
		st.Streams = append(st.Streams, ss)
	}
	return st
}

var _ observe.StatusSource = (*StreamTrigger)(nil)

// Run creates the groups (retrying briefly), then reads and handles entries until ctx is cancelled. It
// returns an error only when a group cannot be created at startup. On cancellation it stops reading,
// waits for in-flight handlers (up to ShutdownTimeout; entries still running then stay pending),
// flushes the acknowledgements and returns nil, or an error wrapping ErrHandlersAbandoned when some
// handlers ignored cancellation for CancelGrace too. Run may be called once.
func (t *StreamTrigger) Run(ctx context.Context) error {
	r, err := t.begin(ctx, "stream trigger")
	if err != nil {
		return err
	}
	defer r.end()
	defer func() {
		for _, c := range t.consumers {
			c.close()
		}
	}()

	var readers sync.WaitGroup
	err = t.startReaders(r, &readers, len(t.consumers), func(i int, startup chan<- error) {
		t.consumers[i].run(r.readers, r.handlers, startup)
	})
	if err != nil {
		return err
	}
	<-r.readers.Done()

	t.stopping.Store(true)
	t.log.Info("shutting down: stopping stream reads, then waiting for in-flight handlers",
		"timeout", t.cfg.ShutdownTimeout.String())
	// Readers stop within one BLOCK, then start the entries they read ahead as slots free up: both are
	// in-flight work the shutdown timeout bounds.
	done := make(chan struct{})
	go func() {
		readers.Wait()
		for _, c := range t.consumers {
			c.handlers.Wait()
		}
		close(done)
	}()
	onTime, err := drain(t.log, done, t.cfg.ShutdownTimeout, t.cfg.CancelGrace, r.cancelHandlers, t.running)
	if !onTime {
		t.log.Warn("shutdown: entries still being handled stay pending for another consumer")
	}
	var ackers sync.WaitGroup
	for _, c := range t.consumers {
		ackers.Go(c.stopAcks)
	}
	ackers.Wait()
	return err
}

// printStream writes the line announcing one trigger.
func (t *StreamTrigger) printStream(c *streamConsumer) {
	t.stdoutMu.Lock()
	defer t.stdoutMu.Unlock()
	fmt.Fprintf(t.cfg.Stdout, "Reading stream %s/%s as group %q consumer %q (dead letters: %s): [%s]\n",
		c.cfg.Display, c.cfg.Key, c.cfg.Group, t.cfg.Consumer, c.cfg.DeadLetter, c.cfg.Component)
}

// isNoGroup reports Redis's NOGROUP error (the stream or the group was deleted).
func isNoGroup(err error) bool { return err != nil && strings.HasPrefix(err.Error(), "NOGROUP") }

// running names the handlers running now, as drain reports them: `component "c" on server/stream (N
// entries)`, one per trigger with entries in flight.
func (t *StreamTrigger) running() string {
	var names []string
	for _, c := range t.consumers {
		c.mu.Lock()
		n := len(c.inflight)
		c.mu.Unlock()
		if n > 0 {
			names = append(names, fmt.Sprintf("component %q on %s/%s (%d entries)", c.cfg.Component, c.cfg.Display, c.cfg.Key, n))
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
