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

	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/observe"
	"github.com/redspin/redspin/internal/redisurl"
	"github.com/redspin/redspin/internal/resp"
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
	// node is the data node the current session subscribed on (Sentinel:
	// the primary the sentinels named; see followPrimary).
	node atomic.Pointer[string]
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
// Each session finds its node afresh: a Sentinel session asks the sentinels
// for the primary and a Cluster session loads the slot map, so that after a
// failover the next session reaches the new primary. It dials exactly one
// pub/sub connection and never reconnects it: the next session does, and
// resubscribes (a connection reopened inside a failing read would hold a
// subscription about to be discarded, and a message published to it would
// be lost although PUBLISH counted a subscriber).
func (s *server) session(ctx context.Context, onSubscribed func()) (subscribed bool, err error) {
	var (
		confirmed atomic.Bool
		reason    atomic.Pointer[error]
	)
	fail := func(err error) (bool, error) {
		if r := reason.Load(); r != nil {
			err = *r
		}
		return subscribed, err
	}
	var sentinels []*redis.SentinelClient
	if s.opts.MasterName != "" {
		s.node.Store(nil)
		sentinels = s.sentinelClients()
		defer func() {
			for _, c := range sentinels {
				_ = c.Close()
			}
		}()
	}
	addr, err := s.dataNode(ctx, sentinels)
	if err != nil {
		return false, err
	}
	c, err := dialSub(ctx, &s.opts, addr, s.names)
	if err != nil {
		return false, err
	}
	defer c.close()

	stop := make(chan struct{})
	defer close(stop)
	go s.watch(ctx, c, stop, &confirmed, &reason)
	if sentinels != nil {
		s.node.Store(&addr)
		go s.followPrimary(ctx, c, sentinels, stop, &confirmed, &reason)
	}
	if err := c.handshake(); err != nil {
		return fail(err)
	}
	pending := make(map[string]bool, len(s.names))
	for _, n := range s.names {
		pending[n] = true
	}
	// The payload goes into a buffer of its lane's pool (see payloadPool).
	var target *lane
	var taken []byte // the pool buffer alloc took for the reply being read
	alloc := func(channel []byte, n int) []byte {
		if target = s.byName[string(channel)]; target == nil {
			return make([]byte, n)
		}
		if target.maxPayload > 0 && n > target.maxPayload {
			return nil // read past it: no component would take it
		}
		taken = target.pool.get(n)
		return taken
	}
	unexpected := 0 // messages of channels not subscribed, this session
	for {
		taken = nil
		p, err := c.rd.ReadPush(alloc)
		if taken != nil && (err != nil || p.Kind != resp.Message) {
			// Not delivered: a read that failed midway, or a pmessage
			// (never subscribed to here). The buffer goes back.
			target.pool.put(taken)
		}
		if err != nil {
			if !subscribed {
				err = fmt.Errorf("SUBSCRIBE: %w", err)
			}
			return fail(err)
		}
		switch p.Kind {
		case resp.Message:
			if target == nil {
				// Once per session: a misbehaving server could send many.
				if unexpected++; unexpected == 1 {
					s.t.log.Error("message from unexpected channel; further ones in this session are not logged",
						"server", s.cfg.Display, "channel", truncateName(p.Channel))
				}
				continue
			}
			if p.Skipped > 0 {
				s.tooLarge(target, p.Skipped)
				continue
			}
			s.deliver(target, p.Payload)
		case resp.Subscribed:
			if pending[string(p.Channel)] {
				delete(pending, string(p.Channel))
				if len(pending) == 0 {
					subscribed = true
					confirmed.Store(true)
					onSubscribed()
				}
			}
		}
		// resp.Pong: the health check's reply; receiving it was the point.
	}
}

// dataNode returns the address to subscribe on: the URL's node, the primary
// the sentinels name (Sentinel), or the primary serving the first
// channel's slot (Cluster: classic pub/sub reaches every node, and this is
// the node go-redis's cluster client picks, so that a failover of that
// slot is what moves the subscription).
func (s *server) dataNode(ctx context.Context, sentinels []*redis.SentinelClient) (string, error) {
	switch {
	case s.opts.MasterName != "":
		return s.askPrimary(ctx, sentinels)
	case s.opts.IsClusterMode:
		cc, ok := redisurl.NewClient(&s.opts).(*redis.ClusterClient)
		if !ok {
			return "", errors.New("cluster: no cluster client for the options")
		}
		defer func() { _ = cc.Close() }()
		node, err := cc.MasterForKey(ctx, s.names[0])
		if err != nil {
			return "", fmt.Errorf("cluster: find the node serving channel %s: %w", s.lanes[0].display, err)
		}
		return node.Options().Addr, nil
	}
	return s.opts.Addrs[0], nil
}

// sentinelClients returns a client of each sentinel the URL names, in URL
// order, for one session.
func (s *server) sentinelClients() []*redis.SentinelClient {
	dial := s.opts.Dialer
	if dial == nil {
		dial = redisurl.Dialer(&s.opts)
	}
	clients := make([]*redis.SentinelClient, len(s.opts.Addrs))
	for i, a := range s.opts.Addrs {
		clients[i] = redis.NewSentinelClient(&redis.Options{Addr: a, Username: s.opts.SentinelUsername,
			Password: s.opts.SentinelPassword, Dialer: dial, Protocol: 2, MaxRetries: -1,
			DialTimeout: followEvery * 4, ReadTimeout: followEvery * 4, WriteTimeout: followEvery * 4})
	}
	return clients
}

// askPrimary asks the sentinels, in URL order, for the primary's address;
// the first answer counts, a sentinel that does not answer is skipped.
func (s *server) askPrimary(ctx context.Context, sentinels []*redis.SentinelClient) (string, error) {
	var errs []error
	for i, c := range sentinels {
		a, err := c.GetMasterAddrByName(ctx, s.opts.MasterName).Result()
		switch {
		case err == nil && len(a) == 2:
			return net.JoinHostPort(a[0], a[1]), nil
		case err == nil || errors.Is(err, redis.Nil):
			err = fmt.Errorf("does not know primary %q", s.opts.MasterName)
		}
		errs = append(errs, fmt.Errorf("sentinel %s: %w", s.opts.Addrs[i], err))
	}
	return "", fmt.Errorf("no sentinel named the primary: %w", errors.Join(errs...))
}

// watch closes c (ending the session's read) when ctx ends, when the
// subscription is not confirmed in time, or when the connection stops
// answering PINGs: nothing arrived for an interval after one was sent.
func (s *server) watch(ctx context.Context, c *subConn, stop <-chan struct{},
	confirmed *atomic.Bool, reason *atomic.Pointer[error]) {
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
	// lastRecv is the tick at which the reader's byte count (seen) last
	// moved: whole replies, or part of a long one.
	lastRecv, seen := begin, int64(0)
	abort := func(err error) {
		reason.Store(&err)
		c.close()
	}
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			c.close()
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
			// Bytes arriving count as traffic even inside a reply: a payload
			// that takes longer than the interval to arrive is not an idle
			// connection (its PONG would queue behind it).
			if n := c.rd.BytesRead(); n != seen {
				seen, lastRecv = n, now
			}
			idle := now.Sub(lastRecv)
			if !pingAt.IsZero() && !lastRecv.Before(pingAt) {
				pingAt = time.Time{} // answered (or other traffic arrived)
			}
			switch {
			case !pingAt.IsZero() && now.Sub(pingAt) > interval:
				abort(fmt.Errorf("no reply to PING within %s", interval))
				return
			case pingAt.IsZero() && idle >= interval:
				pingAt = now
				if err := c.ping(); err != nil {
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

// followPrimary ends a Sentinel session (closing c, with the reason) when
// the sentinels name another primary than the node the session subscribed
// on. Without it the subscription would stay on a primary that a SENTINEL
// FAILOVER demoted: the sentinels reconfigure (and disconnect the clients
// of) the old primary up to 10 s later, while PUBLISH goes to the new one.
// The sentinels are asked in URL order; one that does not answer is
// skipped.
func (s *server) followPrimary(ctx context.Context, c *subConn, sentinels []*redis.SentinelClient, stop <-chan struct{}, confirmed *atomic.Bool, reason *atomic.Pointer[error]) {
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
		primary, err := s.askPrimary(ctx, sentinels)
		if err == nil && primary != *node {
			err := fmt.Errorf("Sentinel failover: the primary is now %s, not %s", primary, *node)
			reason.Store(&err)
			c.close()
			return
		}
	}
}

// deliver moves one message into its lane's queue; it never blocks. The
// payload is a buffer of the lane's pool, which the lane now owns (see
// payloadPool).
func (s *server) deliver(l *lane, payload []byte) {
	s.t.stats.received.Add(1)
	l.metrics.Received()
	l.push(payload)
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

// tooLarge records a message of n bytes that no component of l accepts
// (over l.maxPayload): received, and failed for each component without
// running it, as the host would have refused it after the read.
func (s *server) tooLarge(l *lane, n int) {
	s.t.stats.received.Add(1)
	l.metrics.Received()
	err := fmt.Errorf("payload of %d bytes exceeds %d, the most any component of channel %s accepts; not read into memory (raise --max-component-payload)",
		n, l.maxPayload, l.display)
	s.t.log.Warn("message not handled: payload too large", "channel", l.display, "server", s.cfg.Display,
		"bytes", n, "limit", l.maxPayload, "components", strings.Join(l.components, ","))
	for i := range l.components {
		s.t.stats.failed.Add(1)
		l.compMetric[i].Failure(err)
		l.compMetric[i].Observe(observe.Failed, 0)
	}
}

// truncateName returns a channel name for a log line: at most 200 bytes.
func truncateName(b []byte) string {
	const most = 200
	if len(b) <= most {
		return string(b)
	}
	return string(b[:most]) + fmt.Sprintf("... (%d bytes)", len(b))
}
