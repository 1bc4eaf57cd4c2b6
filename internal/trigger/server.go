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
	"github.com/redspin/redspin/internal/redisurl"
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
	opts    redis.UniversalOptions // private copy
	lanes   []*lane                // sorted by channel name
	byName  map[string]*lane
	names   []string
	metrics observe.ServerObserver

	connState
	// dialed is set once the current session has connected (see
	// sessionDialer).
	dialed atomic.Bool
	// node is the data node the current session dialed last (Sentinel:
	// the primary it subscribed on; see followPrimary).
	node atomic.Pointer[string]
}

// topology reports whether the server is a Sentinel or Cluster one: its
// sessions dial sentinels and cluster nodes before their pub/sub
// connection, so sessionDialer locks only once the session subscribed.
func (s *server) topology() bool { return s.opts.MasterName != "" || s.opts.IsClusterMode }

func newServer(t *Trigger, cfg Server) *server {
	s := &server{
		t:       t,
		cfg:     cfg,
		opts:    *cfg.Options,
		byName:  map[string]*lane{},
		metrics: t.cfg.Observer.Server(cfg.Display),
	}
	s.opts.Dialer = s.sessionDialer(cfg.Options.Dialer)
	return s
}

// errOwnReconnect is what go-redis's own reconnection of a session's
// pub/sub connection gets (see sessionDialer).
var errOwnReconnect = errors.New("one connection per session: redspin reconnects and resubscribes itself")

// sessionDialer wraps dial (go-redis's default when nil) so that a session
// connects at most once (Sentinel and Cluster: dials no data node once it
// has subscribed). When a pub/sub connection fails, go-redis
// reconnects and resubscribes by itself, inside the Receive that failed,
// before redspin sees the error and closes that PubSub: a message published
// in between would go to a subscription about to be discarded, and be lost
// although PUBLISH counted a subscriber (TestFaultClientKillPubsub caught
// it). Refusing that dial leaves the resubscription to the next session.
// Failed dials do not count, so go-redis's dial retries still work.
//
// A Sentinel or Cluster session dials sentinels and nodes (to find the
// primary, to load the slot map) before its pub/sub connection, so it locks
// once subscribed instead, and keeps allowing dials to the sentinels the
// URL names (go-redis watches them for +switch-master).
func (s *server) sessionDialer(dial redisurl.DialFunc) redisurl.DialFunc {
	if dial == nil {
		dial = redisurl.Dialer(&s.opts)
	}
	topology := s.topology()
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if s.dialed.Load() && !(s.opts.MasterName != "" && slices.Contains(s.opts.Addrs, addr)) {
			return nil, errOwnReconnect
		}
		c, err := dial(ctx, network, addr)
		if err == nil && !topology {
			s.dialed.Store(true)
		}
		if err == nil && !slices.Contains(s.opts.Addrs, addr) {
			s.node.Store(&addr)
		}
		return c, err
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

// channelList names the server's channels for logs, by their Display.
func (s *server) channelList() string {
	shown := make([]string, len(s.lanes))
	for i, l := range s.lanes {
		shown[i] = l.display
	}
	return strings.Join(shown, ",")
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

// redact removes opts's passwords (the node's and the sentinels') from an
// error's text.
func redact(opts *redis.UniversalOptions, err error) error {
	msg := err.Error()
	for _, pw := range []string{opts.Password, opts.SentinelPassword} {
		if pw != "" && strings.Contains(msg, pw) {
			msg = strings.ReplaceAll(msg, pw, "****")
		}
	}
	if msg != err.Error() {
		return errors.New(msg)
	}
	return err
}

// run connects (retrying briefly), reports the startup outcome on startup
// exactly once, then keeps the subscription alive until ctx ends.
func (s *server) run(ctx context.Context, startup chan<- error) {
	log := s.t.log.With("server", s.cfg.Display)
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
			log.Info("subscribed", "channels", s.channelList())
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
		wasUp, err := s.session(ctx, onSubscribed)
		if ctx.Err() != nil {
			if !started {
				startup <- errStartupCancelled
			}
			return
		}
		s.setErr(err)
		if !started {
			attempts++
			if authFailure(err) {
				// Retrying cannot fix credentials: fail now.
				startup <- fmt.Errorf("Redis trigger failed to connect to %s: %w (authentication failed: check the password and user in the address)", s.cfg.Display, s.redact(err))
				return
			}
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

// authFailure reports whether Redis refused the credentials (WRONGPASS,
// NOAUTH) or the user's permissions (NOPERM): a retry meets the same answer.
func authFailure(err error) bool {
	return redis.IsAuthError(err) || redis.IsPermissionError(err)
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
//
// Each session has its own client, so that a Sentinel session asks the
// sentinels for the primary afresh and a Cluster session loads the slot map
// afresh: after a failover the next session reaches the new primary.
func (s *server) session(ctx context.Context, onSubscribed func()) (subscribed bool, err error) {
	s.dialed.Store(false)
	client := redisurl.NewClient(&s.opts)
	defer func() { _ = client.Close() }()
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
	if s.opts.MasterName != "" {
		s.node.Store(nil)
		go s.followPrimary(ctx, ps, stop, &confirmed, &reason)
	}

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
					s.dialed.Store(true) // Sentinel, Cluster: lock now (see sessionDialer)
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

// followEvery is how often a Sentinel session asks the sentinels which
// node is the primary.
const followEvery = 250 * time.Millisecond

// followPrimary ends a Sentinel session (closing ps, with the reason) when
// the sentinels name another primary than the node the session subscribed
// on. Without it the subscription would stay on a primary that a SENTINEL
// FAILOVER demoted: go-redis closes only its command connections at
// +switch-master, and the sentinels reconfigure (and disconnect the clients
// of) the old primary up to 10 s later, while PUBLISH goes to the new one.
// The sentinels are asked in URL order; one that does not answer is
// skipped.
func (s *server) followPrimary(ctx context.Context, ps *redis.PubSub, stop <-chan struct{}, confirmed *atomic.Bool, reason *atomic.Pointer[error]) {
	clients := make([]*redis.SentinelClient, len(s.opts.Addrs))
	for i, a := range s.opts.Addrs {
		clients[i] = redis.NewSentinelClient(&redis.Options{Addr: a, Username: s.opts.SentinelUsername,
			Password: s.opts.SentinelPassword, Dialer: redisurl.Dialer(&s.opts), Protocol: 2, MaxRetries: -1,
			DialTimeout: followEvery * 4, ReadTimeout: followEvery * 4, WriteTimeout: followEvery * 4})
	}
	defer func() {
		for _, c := range clients {
			_ = c.Close()
		}
	}()
	tick := time.NewTicker(followEvery)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		node := s.node.Load()
		if !confirmed.Load() || node == nil {
			continue
		}
		for _, c := range clients {
			a, err := c.GetMasterAddrByName(ctx, s.opts.MasterName).Result()
			if err != nil || len(a) != 2 {
				continue
			}
			if primary := net.JoinHostPort(a[0], a[1]); primary != *node {
				err := fmt.Errorf("Sentinel failover: the primary is now %s, not %s", primary, *node)
				reason.Store(&err)
				_ = ps.Close()
				return
			}
			break
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
