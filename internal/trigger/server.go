package trigger

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/observe"
)

// Connection states of a server, as reported by Status.
const (
	stateConnecting int32 = iota
	stateSubscribed
	stateReconnecting
	stateStopped
)

var stateNames = [...]string{"connecting", "subscribed", "reconnecting", "stopped"}

// Reconnect backoff: jittered exponential between these bounds.
const (
	backoffMin = 100 * time.Millisecond
	backoffMax = 5 * time.Second
	// reconnectLogEvery: failed reconnect attempts are logged at DEBUG, with
	// a WARN reminder at most this often.
	reconnectLogEvery = 30 * time.Second
)

// errStartupCancelled reports that ctx ended before the first subscription.
var errStartupCancelled = errors.New("cancelled before subscribing")

// server owns one Redis server's pub/sub connection and its lanes.
type server struct {
	t       *Trigger
	cfg     Server
	opts    redis.Options // private copy; go-redis fills in defaults
	lanes   []*lane       // sorted by channel name
	byName  map[string]*lane
	names   []string
	metrics observe.ServerObserver

	connState
}

func newServer(t *Trigger, cfg Server) *server {
	return &server{
		t:       t,
		cfg:     cfg,
		opts:    *cfg.Options,
		byName:  map[string]*lane{},
		metrics: t.cfg.Observer.Server(cfg.Display),
	}
}

func (s *server) addLane(l *lane) {
	s.byName[l.name] = l
	s.lanes = append(s.lanes, l)
	slices.SortFunc(s.lanes, func(a, b *lane) int { return strings.Compare(a.name, b.name) })
	s.names = s.names[:0]
	for _, l := range s.lanes {
		s.names = append(s.names, l.name)
	}
}

func (s *server) setState(st int32) {
	s.state.Store(st)
	s.metrics.SetConnected(st == stateSubscribed)
}

func (s *server) setErr(err error) {
	msg := s.redact(err).Error()
	s.lastErr.Store(&msg)
}

// redact removes the password from an error's text (go-redis errors should
// never contain it; this is a second line of defence).
func (s *server) redact(err error) error { return redact(&s.opts, err) }

// redact removes opts's password from an error's text.
func redact(opts *redis.Options, err error) error {
	if pw := opts.Password; pw != "" && strings.Contains(err.Error(), pw) {
		return errors.New(strings.ReplaceAll(err.Error(), pw, "****"))
	}
	return err
}

// run connects (retrying briefly), reports the startup outcome on startup
// exactly once, then keeps the subscription alive until ctx ends.
func (s *server) run(ctx context.Context, startup chan<- error) {
	log := s.t.log.With("server", s.cfg.Display)
	client := redis.NewClient(&s.opts)
	defer func() { _ = client.Close() }()
	defer s.setState(stateStopped)
	s.setState(stateConnecting)

	var (
		started   bool
		attempts  int // failed attempts since the last subscription
		upSince   time.Time
		downSince time.Time
		lastWarn  time.Time
		bo        = backoff{min: backoffMin, max: backoffMax}
	)
	begin := time.Now()
	retry := 250 * time.Millisecond
	onSubscribed := func() {
		upSince = time.Now()
		s.setState(stateSubscribed)
		s.lastErr.Store(nil)
		if !started {
			started = true
			log.Info("subscribed", "channels", strings.Join(s.names, ","))
			s.t.printChannels(s)
			startup <- nil
		} else {
			s.reconnects.Add(1)
			s.t.stats.reconnects.Add(1)
			s.metrics.Reconnected()
			log.Info("reconnected to Redis and resubscribed", "channels", len(s.names),
				"attempts", attempts+1, "downtime", time.Since(downSince).Round(time.Millisecond).String())
		}
		attempts = 0
	}

	for {
		if started {
			log.Debug("reconnecting to Redis")
		} else {
			log.Info("connecting to Redis", "attempt", attempts+1)
		}
		wasUp, err := s.session(ctx, client, onSubscribed)
		if ctx.Err() != nil {
			if !started {
				startup <- errStartupCancelled
			}
			return
		}
		s.setErr(err)
		if !started {
			attempts++
			if s.t.cfg.ConnectRetry < 0 || time.Since(begin)+retry > s.t.cfg.ConnectRetry {
				startup <- fmt.Errorf("Redis trigger failed to connect to %s: %w%s", s.cfg.Display, s.redact(err), s.tlsHint(err))
				return
			}
			log.Warn("could not connect to Redis; retrying", "attempt", attempts,
				"retry_in", retry.String(), "error", s.redact(err))
			if !sleep(ctx, retry) {
				startup <- errStartupCancelled
				return
			}
			retry *= 2
			continue
		}
		if wasUp {
			s.setState(stateReconnecting)
			downSince = time.Now()
			lastWarn = downSince
			if downSince.Sub(upSince) >= backoffMax {
				bo.reset() // a connection that stayed up a while starts over fast
			}
			log.Warn("lost connection to Redis; reconnecting", "error", s.redact(err))
		} else {
			attempts++
			if time.Since(lastWarn) >= reconnectLogEvery {
				lastWarn = time.Now()
				log.Warn("still reconnecting to Redis", "attempts", attempts,
					"down_for", time.Since(downSince).Round(time.Second).String(), "error", s.redact(err))
			} else {
				log.Debug("reconnect attempt failed", "attempt", attempts, "error", s.redact(err))
			}
		}
		if !sleep(ctx, bo.next()) {
			return
		}
	}
}

// tlsHint suggests the other scheme when a connection failed the way a
// TLS/plain-text mismatch fails: a TLS client waits for a handshake a
// plain-text Redis never sends (a timeout), and a TLS server drops a
// plain-text client (end of file or reset).
func (s *server) tlsHint(err error) string {
	var ne net.Error
	timeout := errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
	closed := errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
	switch {
	case s.opts.TLSConfig != nil && timeout:
		return " (no TLS handshake in time: if this port serves plain-text Redis, use redis:// instead of rediss://)"
	case s.opts.TLSConfig == nil && closed:
		return " (the server closed the connection: if this port serves TLS, use rediss://)"
	}
	return ""
}

// session opens one pub/sub connection, subscribes every channel and reads
// until the connection fails or ctx ends. It calls onSubscribed (from this
// goroutine) once every channel is confirmed, and reports whether that
// happened.
func (s *server) session(ctx context.Context, client *redis.Client, onSubscribed func()) (subscribed bool, err error) {
	ps := client.Subscribe(ctx) // no channels yet: no I/O
	defer func() { _ = ps.Close() }()

	var (
		lastRecv  atomic.Int64
		confirmed atomic.Bool
		reason    atomic.Pointer[error]
	)
	lastRecv.Store(time.Now().UnixNano())
	stop := make(chan struct{})
	defer close(stop)
	go s.watch(ctx, ps, stop, &lastRecv, &confirmed, &reason)

	fail := func(err error) (bool, error) {
		if r := reason.Load(); r != nil {
			err = *r
		}
		return subscribed, err
	}
	if err := ps.Subscribe(ctx, s.names...); err != nil {
		return fail(err)
	}
	pending := make(map[string]bool, len(s.names))
	for _, n := range s.names {
		pending[n] = true
	}
	for {
		msg, err := ps.Receive(ctx)
		if err != nil {
			return fail(err)
		}
		lastRecv.Store(time.Now().UnixNano())
		switch m := msg.(type) {
		case *redis.Message:
			s.deliver(m)
		case *redis.Subscription:
			if m.Kind == "subscribe" && pending[m.Channel] {
				delete(pending, m.Channel)
				if len(pending) == 0 {
					subscribed = true
					confirmed.Store(true)
					onSubscribed()
				}
			}
		case *redis.Pong:
			// health-check reply; receiving it was the point
		}
	}
}

// watch closes ps (ending the session's Receive) when ctx ends, when the
// subscription is not confirmed in time, or when the connection stops
// answering PINGs.
func (s *server) watch(ctx context.Context, ps *redis.PubSub, stop <-chan struct{},
	lastRecv *atomic.Int64, confirmed *atomic.Bool, reason *atomic.Pointer[error]) {
	interval := s.t.cfg.HealthCheckInterval
	confirmTimeout := 10 * time.Second
	tickEvery := time.Second
	if interval > 0 {
		confirmTimeout = max(2*interval, time.Second)
		tickEvery = min(max(interval/4, 10*time.Millisecond), time.Second)
	}
	begin := time.Now()
	tick := time.NewTicker(tickEvery)
	defer tick.Stop()
	var pingAt time.Time // when the outstanding PING was sent
	abort := func(err error) {
		reason.Store(&err)
		_ = ps.Close()
	}
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			_ = ps.Close()
			return
		case now := <-tick.C:
			if !confirmed.Load() {
				if now.Sub(begin) > confirmTimeout {
					abort(fmt.Errorf("no subscription confirmation within %s", confirmTimeout))
					return
				}
				continue
			}
			if interval <= 0 {
				continue
			}
			idle := now.Sub(time.Unix(0, lastRecv.Load()))
			if !pingAt.IsZero() && lastRecv.Load() >= pingAt.UnixNano() {
				pingAt = time.Time{} // answered (or other traffic arrived)
			}
			switch {
			case !pingAt.IsZero() && now.Sub(pingAt) > interval:
				abort(fmt.Errorf("no reply to PING within %s", interval))
				return
			case pingAt.IsZero() && idle >= interval:
				pingAt = now
				if err := ps.Ping(ctx); err != nil {
					abort(fmt.Errorf("health-check PING: %w", err))
					return
				}
			}
		}
	}
}

// deliver moves one message into its lane's queue; it never blocks.
func (s *server) deliver(m *redis.Message) {
	l := s.byName[m.Channel]
	if l == nil {
		s.t.log.Error("message from unexpected channel", "server", s.cfg.Display, "channel", m.Channel)
		return
	}
	s.t.stats.received.Add(1)
	l.metrics.Received()
	// The string is ours alone (go-redis allocated it for this message), so
	// it is handed on without a second copy; handlers must not modify it.
	l.push(unsafe.Slice(unsafe.StringData(m.Payload), len(m.Payload)))
}

// backoff yields jittered exponential delays in [d/2, d], d doubling from
// min up to max.
type backoff struct {
	min, max time.Duration
	cur      time.Duration
}

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	half := b.cur / 2
	return half + rand.N(half+1)
}

func (b *backoff) reset() { b.cur = 0 }

// sleep waits d or until ctx ends, reporting whether the full d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
