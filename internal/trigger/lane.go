package trigger

import (
	"cmp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redspin/redspin/internal/observe"
)

// lane is one channel of one server: a bounded FIFO queue feeding the
// channel's workers.
type lane struct {
	srv        *server
	name       string
	display    string // Channel.Display: what logs and metrics show
	components []string
	compMetric []observe.ComponentObserver
	metrics    observe.LaneObserver
	// running counts the handlers of each component running now, so that
	// shutdown can name the ones it abandons.
	running []atomic.Int64

	maxLen     int
	maxBytes   int64
	dropOldest bool
	maxPayload int // Channel.MaxPayload

	// pool recycles the buffers of the lane's payloads (see payloadPool for
	// who owns a buffer when).
	pool payloadPool

	mu      sync.Mutex
	cond    *sync.Cond
	buf     [][]byte // ring buffer of capacity maxLen
	head, n int
	bytes   int64
	closed  bool

	// drop logging, rate-limited: dropsPending drops not yet logged, lastLog
	// when the last drop line was written.
	dropsPending int
	lastLog      time.Time
}

func newLane(srv *server, ch Channel, components []string, cfg *Config) *lane {
	display := cmp.Or(ch.Display, ch.Name)
	l := &lane{
		srv:        srv,
		name:       ch.Name,
		display:    display,
		components: components,
		metrics:    cfg.Observer.Lane(srv.cfg.Display, display),
		maxLen:     cfg.QueueSize,
		maxBytes:   cfg.QueueBytes,
		dropOldest: cfg.Drop == DropOldest,
		maxPayload: ch.MaxPayload,
	}
	for _, c := range components {
		l.compMetric = append(l.compMetric, cfg.Observer.Component(c))
	}
	l.running = make([]atomic.Int64, len(components))
	l.cond = sync.NewCond(&l.mu)
	l.metrics.SetQueueDepth(0)
	return l
}

// push enqueues a payload without blocking. It reports how many messages
// were dropped to make room (or 1 when the incoming message itself was
// dropped). The lane owns p from now on: a dropped payload goes back to the
// pool at once, a queued one with the worker that takes it (pop).
func (l *lane) push(p []byte) (dropped int) {
	size := int64(len(p))
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		l.pool.put(p)
		l.dropped(observe.DropShutdown, 1)
		return 1
	}
	full := func() bool {
		// An empty queue always accepts, so a message larger than the byte
		// bound is still delivered when nothing else is waiting.
		return l.n > 0 && (l.n >= l.maxLen || l.bytes+size > l.maxBytes)
	}
	if full() {
		if !l.dropOldest {
			l.dropsPending++
			l.mu.Unlock()
			l.pool.put(p)
			l.dropped(observe.DropQueueFull, 1)
			l.maybeLogDrops()
			return 1
		}
		for full() {
			old := l.buf[l.head]
			l.buf[l.head] = nil
			l.head = (l.head + 1) % l.maxLen
			l.n--
			l.bytes -= int64(len(old))
			l.pool.put(old)
			dropped++
		}
		l.dropsPending += dropped
	}
	if l.buf == nil {
		l.buf = make([][]byte, l.maxLen)
	}
	l.buf[(l.head+l.n)%l.maxLen] = p
	l.n++
	l.bytes += size
	// The gauge is set under the lock: set after it, a push descheduled
	// between the two could overwrite a later pop's value and leave the
	// gauge wrong until the next message.
	l.metrics.SetQueueDepth(l.n)
	l.cond.Signal()
	l.mu.Unlock()
	if dropped > 0 {
		l.dropped(observe.DropQueueFull, dropped)
		l.maybeLogDrops()
	}
	return dropped
}

// pop blocks until a message is available or the lane is closed (ok false).
// The caller owns p and gives it back with l.pool.put once every handler
// returned.
func (l *lane) pop() (p []byte, ok bool) {
	l.mu.Lock()
	for l.n == 0 && !l.closed {
		l.cond.Wait()
	}
	if l.n == 0 {
		l.mu.Unlock()
		return nil, false
	}
	p = l.buf[l.head]
	l.buf[l.head] = nil
	l.head = (l.head + 1) % l.maxLen
	l.n--
	l.bytes -= int64(len(p))
	l.metrics.SetQueueDepth(l.n)
	l.mu.Unlock()
	return p, true
}

// close stops the lane: workers finish the message they hold and exit, and
// messages still queued are discarded. It returns how many were discarded.
func (l *lane) close() int {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return 0
	}
	l.closed = true
	discarded := l.n
	for i := 0; i < l.n; i++ {
		l.pool.put(l.buf[(l.head+i)%l.maxLen])
		l.buf[(l.head+i)%l.maxLen] = nil
	}
	l.n, l.head, l.bytes = 0, 0, 0
	l.metrics.SetQueueDepth(0)
	l.cond.Broadcast()
	l.mu.Unlock()
	l.dropped(observe.DropShutdown, discarded)
	return discarded
}

func (l *lane) depth() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

func (l *lane) dropped(reason string, n int) {
	if n <= 0 {
		return
	}
	l.srv.t.stats.dropped.Add(uint64(n))
	l.metrics.Dropped(reason, n)
}

// maybeLogDrops logs pending queue-full drops at most once per second.
func (l *lane) maybeLogDrops() { l.flushDrops(false) }

// flushDrops logs the drops not yet logged: always when force, otherwise
// only if a second has passed since the last line.
func (l *lane) flushDrops(force bool) {
	l.mu.Lock()
	n := l.dropsPending
	now := time.Now()
	if n == 0 || (!force && now.Sub(l.lastLog) < time.Second) {
		l.mu.Unlock()
		return
	}
	l.dropsPending = 0
	l.lastLog = now
	l.mu.Unlock()
	policy := DropNewest
	if l.dropOldest {
		policy = DropOldest
	}
	l.srv.t.log.Warn("queue full: dropped messages",
		"server", l.srv.cfg.Display, "channel", l.display, "dropped", n,
		"policy", policy, "queue_size", l.maxLen, "queue_bytes", l.maxBytes)
}
