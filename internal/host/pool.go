package host

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redspin/redspin/internal/wasi"
	"github.com/redspin/redspin/internal/wasmtime"
)

// Reuse is opt-in instance reuse (redspin up --max-instance-reuse-count
// and --idle-instance-timeout, as Spin 4's HTTP trigger has them). The zero
// value is a fresh instance per message, Spin's semantics.
type Reuse struct {
	// Min and Max bound how many messages one instance serves, one at a
	// time: each new instance draws its count in [Min, Max]. Max <= 1 = a
	// fresh instance per message (the default).
	Min, Max int
	// IdleTimeout drops an instance that has waited this long for a
	// message. 0 = DefaultIdleInstanceTimeout.
	IdleTimeout time.Duration
	// MaxLive caps the instances kept per component (the trigger's
	// --max-concurrency). A message that finds none free while MaxLive are
	// in use gets an instance of its own, dropped after it (several
	// channels sharing a component can run more messages at once than
	// MaxLive). 0 = no cap.
	MaxLive int
}

// DefaultIdleInstanceTimeout is Reuse.IdleTimeout's default (Spin's).
const DefaultIdleInstanceTimeout = time.Second

// enabled reports whether an instance may serve more than one message.
func (r Reuse) enabled() bool { return r.Max > 1 }

// ParseReuseCount parses --max-instance-reuse-count: a count n (>= 1) or a
// range a..b (1 <= a < b), a random count per instance.
func ParseReuseCount(s string) (min, max int, err error) {
	lo, hi, isRange := strings.Cut(strings.TrimSpace(s), "..")
	a, errA := strconv.Atoi(lo)
	b := a
	var errB error
	if isRange {
		b, errB = strconv.Atoi(hi)
	}
	switch {
	case errA != nil || errB != nil:
		return 0, 0, fmt.Errorf("%q: want a count (e.g. 1000) or a range a..b (e.g. 500..1000)", s)
	case a < 1:
		return 0, 0, fmt.Errorf("%q: a count must be at least 1 (1 = a fresh instance per message)", s)
	case isRange && b <= a:
		return 0, 0, fmt.Errorf("%q: the range's end must be above its start", s)
	}
	return a, b, nil
}

// instance is one store and the guest instantiated in it, serving one
// message at a time until it has served its count, idles too long or is
// poisoned by a failed message.
type instance struct {
	s  *wasmtime.Store
	io storeIO
	// ready: the guest is instantiated in s.
	ready bool
	// comp is a component's instance; mod a core module's.
	comp *wasmtime.ComponentInstance
	mod  *moduleInstance
	// uses counts the messages served, limit how many it may serve.
	uses, limit int
	// pooled: it counts against the pool's MaxLive.
	pooled bool
	// poisoned: the last message left it unfit for another (a core
	// module's memory above its threshold, see moduleGuest.handle).
	poisoned  bool
	idleSince time.Time
	// lastData is the host-interface data of the last message served
	// (Imports.NewStoreData's prev; nil before the first).
	lastData any
}

// drop frees the instance, the store first, then its WASI state (none
// when setting the store up failed). Idempotent.
func (in *instance) drop() {
	if in.s == nil {
		return
	}
	in.s.Close()
	if in.io != nil {
		in.io.close()
	}
	in.s, in.io = nil, nil
}

// storeIO is a store's WASI state for the messages it serves: begin binds
// it to a message (its context and deadline bound blocking calls), end ends
// that message's output at a line boundary (call it once the guest has
// returned), close frees it once the store is gone.
type storeIO interface {
	begin(ctx context.Context, dl msgDeadline)
	end()
	close()
}

// noIO is the storeIO of a guest without WASI.
type noIO struct{}

func (noIO) begin(context.Context, msgDeadline) {}
func (noIO) end()                               {}
func (noIO) close()                             {}

// moduleIO is a core module's Wasmtime WASI preview 1 output.
type moduleIO struct{ out, errOut stdioOut }

func (m *moduleIO) begin(context.Context, msgDeadline) {
	m.out.begin()
	m.errOut.begin()
}

func (m *moduleIO) end() {
	m.out.end()
	m.errOut.end()
}

func (m *moduleIO) close() {
	m.out.release()
	m.errOut.release()
}

// componentIO is a component's redspin WASI state and output writers.
type componentIO struct {
	w           *wasi.Ctx
	out, errOut *lineWriter // nil: the stream goes nowhere
}

func (c *componentIO) begin(ctx context.Context, dl msgDeadline) {
	c.w.SetMessage(ctx, dl.at, dl.cause)
}

func (c *componentIO) end() {
	if c.out != nil {
		c.out.EndMessage()
	}
	if c.errOut != nil {
		c.errOut.EndMessage()
	}
}

func (c *componentIO) close() { c.w.Close() }

// instancePool keeps one component's reusable instances. With reuse off it
// keeps none: every get makes a new instance and every put drops it. Idle
// instances are dropped by one timer per pool, armed only while some wait.
type instancePool struct {
	reuse Reuse
	// rw is the host's lock: the reaper holds it shared while it drops
	// instances, so that Host.Close never closes the engine under it.
	rw     *sync.RWMutex
	closed func() bool

	mu   sync.Mutex
	idle []*instance // oldest first; get takes the newest
	// live counts pooled instances (idle or in use); peak is its maximum.
	live, peak int
	timer      *time.Timer
	armed      bool
	shut       bool
}

func newInstancePool(r Reuse, h *Host) *instancePool {
	if r.IdleTimeout <= 0 {
		r.IdleTimeout = DefaultIdleInstanceTimeout
	}
	return &instancePool{reuse: r, rw: &h.mu, closed: h.closed.Load}
}

// get returns an idle instance, or a new, empty one (no store yet) that the
// caller sets up.
func (p *instancePool) get() *instance {
	if !p.reuse.enabled() {
		return &instance{limit: 1}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.idle); n > 0 {
		in := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		return in
	}
	in := &instance{limit: p.reuse.Min}
	if p.reuse.Max > p.reuse.Min {
		in.limit += rand.IntN(p.reuse.Max - p.reuse.Min + 1)
	}
	if p.reuse.MaxLive > 0 && p.live >= p.reuse.MaxLive {
		in.limit = 1 // an overflow instance: used once, never kept
		return in
	}
	in.pooled = true
	p.live++
	p.peak = max(p.peak, p.live)
	return in
}

// keeps reports whether in, which has just served a message that ended
// with err, may serve another: it is ready, pooled, below its count, and
// neither err nor the message (in.poisoned) poisoned it.
func (p *instancePool) keeps(in *instance, err error) bool {
	return in.ready && in.pooled && in.uses < in.limit && !in.poisoned && !poisons(err)
}

// put takes an instance back after a message: kept for the next one if
// keep (see keeps) and the pool is open, else dropped (if the caller has
// not already) and its slot freed.
func (p *instancePool) put(in *instance, keep bool) {
	if !keep {
		p.release(in)
		return
	}
	p.mu.Lock()
	if p.shut {
		p.mu.Unlock()
		p.release(in)
		return
	}
	in.idleSince = time.Now()
	p.idle = append(p.idle, in)
	if !p.armed {
		p.armed = true
		if p.timer == nil {
			p.timer = time.AfterFunc(p.reuse.IdleTimeout, p.reap)
		} else {
			p.timer.Reset(p.reuse.IdleTimeout)
		}
	}
	p.mu.Unlock()
}

// release drops in and frees its slot.
func (p *instancePool) release(in *instance) {
	in.drop()
	if in.pooled {
		p.mu.Lock()
		p.live--
		p.mu.Unlock()
	}
}

// reap drops the instances idle for IdleTimeout and re-arms itself for the
// oldest of the others.
func (p *instancePool) reap() {
	p.rw.RLock()
	defer p.rw.RUnlock()
	if p.closed() {
		return
	}
	now := time.Now()
	p.mu.Lock()
	n := 0
	for n < len(p.idle) && now.Sub(p.idle[n].idleSince) >= p.reuse.IdleTimeout {
		n++
	}
	old := make([]*instance, n)
	copy(old, p.idle[:n])
	p.idle = append(p.idle[:0], p.idle[n:]...)
	p.live -= n
	if len(p.idle) > 0 && !p.shut {
		p.timer.Reset(p.reuse.IdleTimeout - now.Sub(p.idle[0].idleSince))
	} else {
		p.armed = false
	}
	p.mu.Unlock()
	for _, in := range old {
		in.drop()
	}
}

// close drops every idle instance; the host's lock is held exclusively,
// so none is in use.
func (p *instancePool) close() {
	p.mu.Lock()
	p.shut = true
	if p.timer != nil {
		p.timer.Stop()
	}
	idle := p.idle
	p.idle = nil
	p.live -= len(idle)
	p.mu.Unlock()
	for _, in := range idle {
		in.drop()
	}
}

// stats returns the pooled instances alive now, idle now, and at most so far
// (tests).
func (p *instancePool) stats() (live, idle, peak int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.live, len(p.idle), p.peak
}

// reuseMemoryLimit is the memory size above which a core module's
// instance is not reused: half of MaxInstanceMemory, so that the next
// message still has room to grow, or defaultReuseMemoryLimit without a
// cap. A component's memories are not visible through the C API: its
// instance is dropped only when a message fails, e.g. when an allocation
// over MaxInstanceMemory makes it trap.
func (h *Host) reuseMemoryLimit() uint64 {
	if m := h.opts.MaxInstanceMemory; m > 0 {
		return m / 2
	}
	return defaultReuseMemoryLimit
}

// defaultReuseMemoryLimit: 128 MiB, far above what a core module handling
// messages of a few KiB grows to.
const defaultReuseMemoryLimit = 128 << 20

// poisons reports whether a message that ended with err leaves its
// instance unfit for another: anything but success and the guest's own
// err(error) result (a trap, a timeout or cancellation, a bad result, a
// host failure). A handler's err(...) does not poison.
func poisons(err error) bool {
	return err != nil && !errors.Is(err, ErrHandlerFailed)
}
