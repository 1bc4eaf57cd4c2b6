package trigger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/observe"
	"github.com/redspin/redspin/internal/redisurl"
	"github.com/redspin/redspin/internal/streamentry"
)

// States of a stream consumer, as reported by Status.
const (
	streamConnecting int32 = iota
	streamReading
	streamReconnecting
	streamStopped
)

var streamStateNames = [...]string{"connecting", "reading", "reconnecting", "stopped"}

// streamConsumer runs one Stream: a reader that reads as many entries as it has free slots plus a
// read-ahead window (Stream.ReadAhead entries, fewer when entries are large), one long-lived handler
// goroutine per slot fed by the reader (with concurrency 1 the reader itself), and an acker that batches
// XACKs. With concurrency > 1 the reader also refills an empty window while every slot is busy, so the
// read overlaps the running handlers. Entries waiting in the window keep their lease: see renewAhead.
type streamConsumer struct {
	t      *StreamTrigger
	cfg    Stream
	log    *slog.Logger
	obs    observe.StreamObserver
	comp   observe.ComponentObserver
	client redis.UniversalClient

	free     chan struct{}          // one token per free slot
	work     chan streamentry.Entry // entries for the handler goroutines (nil with concurrency 1)
	handlers sync.WaitGroup         // the handler goroutines

	// ahead holds entries read ahead (delivered to this consumer, delivery count 1) that wait for a free
	// slot, in stream order; at most one per slot. Only the reader touches it.
	ahead []rawEntry
	// aheadLease is when the oldest lease on the entries in ahead began: their delivery or their last
	// renewal (renewAhead). Only the reader touches it.
	aheadLease time.Time
	// entryBytes is a moving average of the size of the entries read, which bounds the window in bytes
	// (aheadLimit); 0 before the first read. Only the reader touches it.
	entryBytes float64
	// polled is set when a read to top up a partly filled window found nothing; the reader then waits
	// for a free slot before it reads ahead again. Only the reader touches it.
	polled bool

	acks ackQueue

	mu       sync.Mutex
	inflight map[string]bool      // IDs being handled now
	retries  map[string]time.Time // failed IDs -> when they are due again
	backoffs map[string]time.Duration

	connState
}

func newStreamConsumer(t *StreamTrigger, s Stream) *streamConsumer {
	c := &streamConsumer{
		t:        t,
		cfg:      s,
		log:      t.log.With("server", s.Display, "stream", s.Key, "group", s.Group),
		obs:      t.cfg.Observer.Stream(s.Display, s.Key, s.Group),
		comp:     t.cfg.Observer.Component(s.Component),
		free:     make(chan struct{}, s.Concurrency),
		acks:     newAckQueue(),
		inflight: map[string]bool{},
		retries:  map[string]time.Time{},
		backoffs: map[string]time.Duration{},
	}
	for range s.Concurrency {
		c.free <- struct{}{}
	}
	return c
}

func (c *streamConsumer) close() {
	if c.client != nil {
		_ = c.client.Close()
	}
	c.state.Store(streamStopped)
	c.obs.SetConnected(false)
}

func (c *streamConsumer) setErr(err error) {
	msg := redact(c.cfg.Options, err).Error()
	c.lastErr.Store(&msg)
}

// run creates the group (retrying within ConnectRetry), reports the outcome on startup once, then reads
// until ctx ends. Handlers run with hctx.
func (c *streamConsumer) run(ctx, hctx context.Context, startup chan<- error) {
	opts := *c.cfg.Options
	c.client = redisurl.NewClient(&opts)
	c.state.Store(streamConnecting)
	begin := time.Now()
	retry := 250 * time.Millisecond
	for {
		err := c.createGroup(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			startup <- errStartupCancelled
			return
		}
		c.setErr(err)
		if c.t.cfg.ConnectRetry < 0 || time.Since(begin)+retry > c.t.cfg.ConnectRetry {
			startup <- fmt.Errorf("redis-stream trigger failed to create group %q on stream %q at %s: %w", c.cfg.Group, c.cfg.Key, c.cfg.Display, redact(c.cfg.Options, err))
			return
		}
		c.log.Warn("could not create the consumer group; retrying", "retry_in", retry.String(), "error", redact(c.cfg.Options, err))
		if !sleep(ctx, retry) {
			startup <- errStartupCancelled
			return
		}
		retry *= 2
	}
	c.state.Store(streamReading)
	c.obs.SetConnected(true)
	c.lastErr.Store(nil)
	c.log.Info("reading stream", "consumer", c.t.cfg.Consumer, "dead_letter_stream", c.cfg.DeadLetter,
		"concurrency", c.cfg.Concurrency, "max_deliveries", c.cfg.MaxDeliveries, "claim_idle", c.cfg.ClaimIdle.String())
	c.t.printStream(c)
	c.acks.started = true
	go c.acker()
	c.startHandlers(hctx)
	startup <- nil

	var bg sync.WaitGroup
	bg.Go(func() { c.refresh(ctx) })
	c.read(ctx, hctx)
	if c.work != nil {
		close(c.work) // the handlers finish what was read, then exit
	}
	bg.Wait()
}

// startHandlers starts one handler goroutine per slot when concurrency > 1. They live as long as the
// reader: a goroutine started per entry would grow its stack again for every cgo call into the guest,
// which costs the C module about 40 CPU-µs per entry. The work channel holds one entry per slot, so the
// reader, which only starts entries for free slots, never blocks on it. With concurrency 1 the reader
// runs the handler itself: handing each entry to another goroutine so that the next read could overlap
// it cost more CPU than the overlap saved (see docs/performance.md).
func (c *streamConsumer) startHandlers(hctx context.Context) {
	if c.cfg.Concurrency == 1 {
		return
	}
	c.work = make(chan streamentry.Entry, c.cfg.Concurrency)
	for range c.cfg.Concurrency {
		c.handlers.Go(func() {
			for e := range c.work {
				c.handle(hctx, e)
			}
		})
	}
}

// createGroup creates the group at Start (and the stream, MKSTREAM); an existing group is fine.
func (c *streamConsumer) createGroup(ctx context.Context) error {
	err := c.client.XGroupCreateMkStream(ctx, c.cfg.Key, c.cfg.Group, c.cfg.Start).Err()
	if err != nil && !isBusyGroup(err) {
		return err
	}
	return nil
}

func isBusyGroup(err error) bool {
	return err != nil && len(err.Error()) >= 9 && err.Error()[:9] == "BUSYGROUP"
}

// reader state between steps.
type readCursor struct {
	pending   string // "" once the startup re-read of this consumer's pending entries is done
	claim     string // XAUTOCLAIM cursor
	nextClaim time.Time
}

// read is the reader loop: take the free slots, fill them (due retries first, then this consumer's own
// pending entries at startup, then entries read ahead, then entries idle on other consumers, then new
// entries), and while every slot is busy refill an empty window; repeat. At shutdown it stops
// reading and starts the entries read ahead as slots free up.
func (c *streamConsumer) read(ctx, hctx context.Context) {
	cur := readCursor{pending: "0", claim: "0-0"}
	bo := backoff{min: backoffMin, max: backoffMax}
	var downSince time.Time
	for {
		n := 0
		if !c.canReadAhead(&cur) {
			select {
			case <-ctx.Done():
			case <-c.free:
				n = 1
			}
		}
		if ctx.Err() != nil {
			for range n {
				c.free <- struct{}{}
			}
			c.drainAhead(hctx)
			return
		}
	take:
		for n < c.cfg.Concurrency {
			select {
			case <-c.free:
				n++
			default:
				break take
			}
		}
		used, err := c.step(ctx, hctx, n, &cur)
		for range n - used {
			c.free <- struct{}{}
		}
		switch {
		case err == nil:
			if c.state.Load() != streamReading {
				c.state.Store(streamReading)
				c.lastErr.Store(nil)
				c.reconnects.Add(1)
				c.t.stats.reconnects.Add(1)
				c.obs.SetConnected(true)
				c.obs.Reconnected()
				c.log.Info("reading stream again", "downtime", time.Since(downSince).Round(time.Millisecond).String())
			}
			bo.reset()
		case isNoGroup(err):
			c.log.Warn("the stream or its consumer group was deleted (NOGROUP): creating the group again", "start", c.cfg.Start)
			c.forgetRetries()
			if err := c.createGroup(context.WithoutCancel(ctx)); err != nil {
				c.fail(err, &downSince)
				sleep(ctx, bo.next())
			}
		case ctx.Err() != nil:
			c.drainAhead(hctx)
			return
		default:
			c.fail(err, &downSince)
			sleep(ctx, bo.next())
		}
	}
}

func (c *streamConsumer) fail(err error, downSince *time.Time) {
	c.setErr(err)
	if c.state.Load() == streamReading {
		*downSince = time.Now()
		c.state.Store(streamReconnecting)
		c.obs.SetConnected(false)
		c.log.Warn("lost connection to Redis; retrying", "error", redact(c.cfg.Options, err))
		return
	}
	c.log.Debug("Redis call failed", "error", redact(c.cfg.Options, err))
}

// canReadAhead reports whether the reader may read new entries with no free slot: the handlers run on
// their own goroutines (concurrency > 1), the window is empty or down to half its size (a partly filled
// one only if the last top-up found entries: it reads without BLOCK, since an entry waiting in the window
// must not wait for a blocking read when a slot frees up; topping up at every free slot would cost a round
// trip per entry), the startup re-read is done and no XAUTOCLAIM pass is due (those need slots).
func (c *streamConsumer) canReadAhead(cur *readCursor) bool {
	return c.work != nil && (len(c.ahead) == 0 || len(c.ahead) <= c.aheadLimit()/2 && !c.polled) && cur.pending == "" && time.Now().Before(cur.nextClaim)
}

// aheadLimit is how many entries the window may hold now: Stream.ReadAhead, lowered for large entries so
// that the window holds about readAheadBytes, but never below one entry per slot (or ReadAhead if that is
// smaller).
func (c *streamConsumer) aheadLimit() int {
	w := c.cfg.ReadAhead
	if c.entryBytes > 0 {
		w = min(w, max(int(readAheadBytes/c.entryBytes), c.cfg.Concurrency))
	}
	return max(w, 1)
}

// noteSizes updates the moving average of entry sizes with the entries of one read.
func (c *streamConsumer) noteSizes(entries []rawEntry) {
	for _, e := range entries {
		n := 0
		for _, f := range e.fields {
			n += len(f.Name) + len(f.Value)
		}
		if c.entryBytes == 0 {
			c.entryBytes = float64(n + 1)
			continue
		}
		c.entryBytes += (float64(n+1) - c.entryBytes) / 8
	}
}

// renewAhead keeps the entries waiting in the window this consumer's while they wait. They were delivered
// to it, so their idle time runs: left alone for claim_idle (a window of slow handlers), another consumer's
// XAUTOCLAIM would take them and both would handle them. Once the oldest lease is a quarter of claim_idle
// old, one script checks that each entry is still pending on this consumer and resets its idle time
// (XCLAIM ... JUSTID, which does not count a delivery). An entry another consumer took meanwhile is dropped
// from the window: its new owner handles it. If Redis cannot be reached, the window is kept while its
// lease is under half of claim_idle and dropped after that: the entries stay pending on this consumer and
// XAUTOCLAIM delivers them again, never twice at once.
func (c *streamConsumer) renewAhead(ctx context.Context) {
	if len(c.ahead) == 0 || time.Since(c.aheadLease) < c.cfg.ClaimIdle/4 {
		return
	}
	begin := time.Now()
	kept, err := c.leaseAhead(ctx, 0)
	if err != nil {
		if time.Since(c.aheadLease) < c.cfg.ClaimIdle/2 {
			return
		}
		c.log.Warn("could not renew the lease on the entries read ahead; they stay pending for XAUTOCLAIM",
			"entries", len(c.ahead), "error", redact(c.cfg.Options, err))
		c.ahead = nil
		return
	}
	if len(kept) < len(c.ahead) {
		c.log.Warn("entries read ahead were claimed by another consumer before they started; skipped",
			"entries", len(c.ahead)-len(kept))
		c.ahead = kept
	}
	c.aheadLease = begin
}

// leaseAhead runs leaseScript on the window's entries with the given idle time and returns the entries
// still pending on this consumer, in order.
func (c *streamConsumer) leaseAhead(ctx context.Context, idle time.Duration) ([]rawEntry, error) {
	args := make([]any, 0, 3+len(c.ahead))
	args = append(args, c.cfg.Group, c.t.cfg.Consumer, idle.Milliseconds())
	for _, e := range c.ahead {
		args = append(args, e.id)
	}
	ids, err := leaseScript.Run(ctx, c.client, []string{c.cfg.Key}, args...).StringSlice()
	if err != nil {
		return nil, err
	}
	ours := make(map[string]bool, len(ids))
	for _, id := range ids {
		ours[id] = true
	}
	kept := c.ahead[:0:0]
	for _, e := range c.ahead {
		if ours[e.id] {
			kept = append(kept, e)
		}
	}
	return kept, nil
}

// drainAhead starts the entries read ahead at shutdown as slots free up: Redis delivered them to this
// consumer, so they are in-flight work like the running handlers. Those still waiting when the shutdown
// timeout cancels the handlers stay pending for another consumer (XAUTOCLAIM).
func (c *streamConsumer) drainAhead(hctx context.Context) {
	for len(c.ahead) > 0 {
		c.renewAhead(context.WithoutCancel(hctx))
		select {
		case <-hctx.Done():
		case <-c.free:
			if hctx.Err() != nil {
				c.free <- struct{}{}
				break
			}
			e := c.ahead[0]
			c.ahead = c.ahead[1:]
			if !c.start(hctx, e, 1) {
				c.free <- struct{}{}
			}
			continue
		}
		c.releaseAhead()
		return
	}
}

// step fills up to n slots (n may be 0: then it only reads ahead) and reports how many it used.
func (c *streamConsumer) step(ctx, hctx context.Context, n int, cur *readCursor) (int, error) {
	// Reads use a context that is not cancelled at shutdown: an entry Redis delivered is handled, never
	// lost in a dropped reply; the BLOCK timeout bounds the wait.
	rctx := context.WithoutCancel(ctx)
	if n > 0 {
		c.polled = false
		if ids, minIdle := c.dueRetries(n); len(ids) > 0 {
			return c.claim(rctx, hctx, ids, minIdle)
		}
		if cur.pending != "" {
			return c.rereadPending(rctx, hctx, n, cur)
		}
		c.renewAhead(rctx)
		if len(c.ahead) > 0 {
			k := min(n, len(c.ahead))
			started := 0
			for _, e := range c.ahead[:k] {
				if c.start(hctx, e, 1) {
					started++
				}
			}
			c.ahead = c.ahead[k:]
			return started, nil
		}
		if !time.Now().Before(cur.nextClaim) {
			return c.autoclaim(rctx, hctx, n, cur)
		}
	}
	block := min(c.t.cfg.Block, time.Until(cur.nextClaim))
	if due, ok := c.nextDue(); ok {
		block = min(block, time.Until(due))
	}
	if rt := c.cfg.Options.ReadTimeout; rt > 0 {
		block = min(block, rt/2)
	}
	block = max(block, time.Millisecond) // BLOCK 0 would wait forever
	topUp := len(c.ahead) > 0
	if topUp {
		block = 0 // no BLOCK: do not hold the entries waiting in the window
	}
	begin := time.Now()
	v, err := c.readNew(rctx, max(n+c.aheadLimit()-len(c.ahead), 1), block)
	if errors.Is(err, redis.Nil) {
		c.polled = topUp
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	entries, err := parseReadReply(v)
	if err != nil {
		return 0, err
	}
	c.polled = topUp && len(entries) == 0
	c.noteSizes(entries)
	if !topUp && len(entries) > n {
		c.aheadLease = begin
	}
	started := 0
	for i, e := range entries {
		if i >= n {
			c.ahead = append(c.ahead, entries[i:]...)
			break
		}
		if c.start(hctx, e, 1) {
			started++
		}
	}
	return started, nil
}

// rereadPending is the startup re-read of this consumer's own pending entries (XREADGROUP ... 0): what a
// crashed process with the same consumer name left behind. Nil entries (trimmed away) are acknowledged
// and counted as lost.
func (c *streamConsumer) rereadPending(rctx, hctx context.Context, n int, cur *readCursor) (int, error) {
	v, err := c.client.Do(rctx, "XREADGROUP", "GROUP", c.cfg.Group, c.t.cfg.Consumer, "COUNT", n,
		"STREAMS", c.cfg.Key, cur.pending).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return 0, err
	}
	entries, err := parseReadReply(v)
	if err != nil {
		return 0, err
	}
	if len(entries) == 0 {
		cur.pending = ""
		return 0, nil
	}
	var live []rawEntry
	var trimmed []string
	for _, e := range entries {
		if e.deleted {
			trimmed = append(trimmed, e.id)
		} else {
			live = append(live, e)
		}
	}
	if len(trimmed) > 0 {
		// Acknowledged now, not through the acker: until then XAUTOCLAIM would report them again.
		if err := c.client.XAck(rctx, c.cfg.Key, c.cfg.Group, trimmed...).Err(); err != nil {
			return 0, err // the next attempt re-reads them
		}
		c.trimmed(trimmed, "pending re-read")
	}
	cur.pending = entries[len(entries)-1].id
	return c.startCounted(rctx, hctx, live)
}

// startCounted looks up the delivery counts of entries just claimed or re-read (Redis raised them) and
// starts their handlers.
func (c *streamConsumer) startCounted(rctx, hctx context.Context, entries []rawEntry) (int, error) {
	if len(entries) == 0 {
		return 0, nil
	}
	counts, err := c.deliveries(rctx, entries)
	if err != nil {
		return 0, err
	}
	started := 0
	for i, e := range entries {
		if counts[i] == 0 {
			continue // no longer pending on this consumer
		}
		if c.start(hctx, e, counts[i]) {
			started++
		}
	}
	return started, nil
}

// deliveries returns the delivery count of each entry on this consumer (0: not pending on it).
func (c *streamConsumer) deliveries(ctx context.Context, entries []rawEntry) ([]int64, error) {
	cmds := make([]*redis.XPendingExtCmd, len(entries))
	_, err := c.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, e := range entries {
			cmds[i] = p.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: c.cfg.Key, Group: c.cfg.Group,
				Start: e.id, End: e.id, Count: 1, Consumer: c.t.cfg.Consumer})
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	out := make([]int64, len(entries))
	for i, cmd := range cmds {
		if p, err := cmd.Result(); err == nil && len(p) == 1 {
			out[i] = p[0].RetryCount
		}
	}
	return out, nil
}

// claim re-delivers this consumer's due retries with XCLAIM (not JUSTID, so Redis counts the delivery).
// minIdle keeps it from taking back an entry another consumer has claimed since.
func (c *streamConsumer) claim(rctx, hctx context.Context, ids []string, minIdle time.Duration) (int, error) {
	args := []any{"XCLAIM", c.cfg.Key, c.cfg.Group, c.t.cfg.Consumer, minIdle.Milliseconds()}
	for _, id := range ids {
		args = append(args, id)
	}
	v, err := c.client.Do(rctx, args...).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return 0, err
	}
	entries, err := parseEntries(v)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	for _, id := range ids {
		delete(c.retries, id)
	}
	c.mu.Unlock()
	if len(entries) < len(ids) {
		c.log.Debug("some retries are no longer pending on this consumer (acknowledged, claimed elsewhere or trimmed)",
			"due", len(ids), "claimed", len(entries))
	}
	return c.startCounted(rctx, hctx, entries)
}

// autoclaim takes entries pending on any consumer for longer than ClaimIdle (XAUTOCLAIM); entries
// deleted from the stream while pending are counted and logged. At the end of a pass it also deletes
// dead consumers.
func (c *streamConsumer) autoclaim(rctx, hctx context.Context, n int, cur *readCursor) (int, error) {
	v, err := c.client.Do(rctx, "XAUTOCLAIM", c.cfg.Key, c.cfg.Group, c.t.cfg.Consumer,
		c.cfg.ClaimIdle.Milliseconds(), cur.claim, "COUNT", n).Result()
	if err != nil {
		return 0, err
	}
	next, entries, deleted, err := parseAutoclaim(v)
	if err != nil {
		return 0, err
	}
	if len(deleted) > 0 {
		c.trimmed(deleted, "XAUTOCLAIM")
	}
	cur.claim = next
	if next == "0-0" {
		cur.nextClaim = time.Now().Add(c.claimEvery())
		c.cleanupConsumers(rctx)
	}
	if len(entries) > 0 {
		c.t.stats.claimed.Add(uint64(len(entries)))
		c.obs.Claimed(len(entries))
		c.log.Info("claimed entries idle on other consumers", "entries", len(entries), "claim_idle", c.cfg.ClaimIdle.String())
	}
	return c.startCounted(rctx, hctx, entries)
}

func (c *streamConsumer) claimEvery() time.Duration {
	return min(max(c.cfg.ClaimIdle/4, 100*time.Millisecond), 30*time.Second)
}

func (c *streamConsumer) trimmed(ids []string, how string) {
	c.t.stats.trimmed.Add(uint64(len(ids)))
	c.obs.Trimmed(len(ids))
	c.log.Warn("pending entries were deleted from the stream before they were handled (trimmed or XDEL): lost",
		"entries", len(ids), "ids", ids, "found_by", how)
}

// cleanupConsumers deletes the group's consumers idle for ConsumerIdle with nothing pending, in one
// script so that no entry is discarded with a consumer that received it in between.
func (c *streamConsumer) cleanupConsumers(ctx context.Context) {
	if c.t.cfg.ConsumerIdle < 0 {
		return
	}
	names, err := cleanupScript.Run(ctx, c.client, []string{c.cfg.Key},
		c.cfg.Group, c.t.cfg.ConsumerIdle.Milliseconds(), c.t.cfg.Consumer).StringSlice()
	if err != nil {
		c.log.Debug("consumer cleanup failed", "error", redact(c.cfg.Options, err))
		return
	}
	if len(names) > 0 {
		c.log.Info("deleted idle consumers with no pending entries", "consumers", names, "idle", c.t.cfg.ConsumerIdle.String())
	}
}

// start registers an entry as in flight and runs its handler; the caller has taken a slot for it. An
// entry already in flight (claimed back while still running) is not started twice: start reports false
// and the caller gives the slot back (it returns every slot it did not use; start used to free it too,
// which counted the slot twice). With concurrency 1 the handler runs on the reader's goroutine (it saves a
// goroutine hand-off per entry); otherwise the entry goes to the handler goroutines.
func (c *streamConsumer) start(hctx context.Context, e rawEntry, deliveries int64) bool {
	c.mu.Lock()
	if c.inflight[e.id] {
		c.mu.Unlock()
		return false
	}
	c.inflight[e.id] = true
	delete(c.retries, e.id)
	n := len(c.inflight)
	c.mu.Unlock()
	c.obs.SetInFlight(n)
	c.t.stats.received.Add(1)
	c.obs.Received(1)
	entry := streamentry.Entry{Stream: c.cfg.Key, ID: e.id, Group: c.cfg.Group, Fields: e.fields, Deliveries: deliveries}
	for _, f := range e.fields {
		if f.Name == c.cfg.Field {
			entry.Payload = f.Value
			break
		}
	}
	if c.work == nil {
		c.handle(hctx, entry)
	} else {
		c.work <- entry
	}
	return true
}

// handle runs the handler for one entry and settles it: ack, retry later, or dead-letter.
func (c *streamConsumer) handle(hctx context.Context, e streamentry.Entry) {
	defer c.finish(e.ID)
	hctx, span := c.entrySpan(hctx, e)
	comp := c.cfg.Component
	begin := time.Now()
	var d streamentry.Disposition
	cctx, cspan := componentSpan(hctx, comp)
	err := safeCall(cctx, c.log, comp, func() error {
		var err error
		d, err = c.t.h.HandleEntry(cctx, comp, e)
		return err
	})
	endComponent(cspan, outcome(err), err)
	defer endEntry(span, d, err)
	elapsed := time.Since(begin)
	r := observe.Handled
	switch {
	case err == nil:
		c.t.stats.handled.Add(1)
	case errors.Is(err, context.DeadlineExceeded):
		r = observe.TimedOut
		c.t.stats.timedOut.Add(1)
	default:
		r = observe.Failed
		c.t.stats.failed.Add(1)
	}
	c.comp.Observe(r, elapsed)
	if err != nil {
		c.comp.Failure(err)
	}
	c.obs.Finished(r, elapsed)

	if err == nil && d.Action == streamentry.Ack {
		c.ack(e.ID)
		return
	}
	reason := ""
	switch {
	case err != nil:
		reason = err.Error()
		c.log.WarnContext(hctx, "component handler failed", "component", comp, "id", e.ID, "deliveries", e.Deliveries,
			"max_deliveries", c.cfg.MaxDeliveries, "timed_out", r == observe.TimedOut, "error", err)
	case d.Action == streamentry.DeadLetter:
		reason = d.Reason
		if reason == "" {
			reason = "dead-lettered by the handler"
		}
		c.deadLetter(hctx, e, reason)
		return
	default:
		reason = "the handler asked for a retry"
	}
	switch {
	case hctx.Err() != nil:
		c.log.WarnContext(hctx, "shutdown: entry left pending for another consumer", "id", e.ID, "component", comp)
	case e.Deliveries >= c.cfg.MaxDeliveries:
		c.deadLetter(hctx, e, reason)
	case c.t.stopping.Load():
		c.log.InfoContext(hctx, "shutdown: failed entry left pending for another consumer", "id", e.ID)
	default:
		c.scheduleRetry(hctx, e, d.RetryAfter)
	}
}

// finish forgets an entry that is no longer being handled and frees its slot.
func (c *streamConsumer) finish(id string) {
	c.mu.Lock()
	delete(c.inflight, id)
	n := len(c.inflight)
	c.mu.Unlock()
	c.obs.SetInFlight(n)
	c.free <- struct{}{}
}

// scheduleRetry leaves a failed entry pending and schedules its next delivery: after `after`, or the
// trigger's backoff doubled per delivery, capped at half the claim idle time so that another replica
// does not claim it first. ctx is the entry's (its span, for the log line).
func (c *streamConsumer) scheduleRetry(ctx context.Context, e streamentry.Entry, after time.Duration) {
	if after <= 0 {
		after = c.cfg.RetryBackoff << min(max(e.Deliveries-1, 0), 20)
	}
	after = min(after, c.cfg.ClaimIdle/2, maxRetryBackoff)
	c.mu.Lock()
	c.retries[e.ID] = time.Now().Add(after)
	c.backoffs[e.ID] = after
	c.mu.Unlock()
	c.t.stats.retried.Add(1)
	c.obs.Retried()
	c.log.InfoContext(ctx, "entry stays pending; retrying", "id", e.ID, "deliveries", e.Deliveries, "retry_in", after.String())
}

// dueRetries returns up to n due retries and the smallest idle time XCLAIM may require of them.
func (c *streamConsumer) dueRetries(n int) ([]string, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	var ids []string
	minIdle := time.Duration(-1)
	for id, due := range c.retries {
		if due.After(now) {
			continue
		}
		ids = append(ids, id)
		if b := c.backoffs[id]; minIdle < 0 || b < minIdle {
			minIdle = b
		}
	}
	slices.SortFunc(ids, compareIDs)
	if len(ids) > n {
		ids = ids[:n]
	}
	for _, id := range ids {
		delete(c.backoffs, id)
	}
	return ids, max(minIdle, 0)
}

// nextDue is when the earliest retry is due.
func (c *streamConsumer) nextDue() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var first time.Time
	for _, due := range c.retries {
		if first.IsZero() || due.Before(first) {
			first = due
		}
	}
	return first, !first.IsZero()
}

func (c *streamConsumer) forgetRetries() {
	c.mu.Lock()
	clear(c.retries)
	clear(c.backoffs)
	c.mu.Unlock()
}

// compareIDs orders stream IDs ("ms-seq") numerically.
func compareIDs(a, b string) int {
	am, as := splitID(a)
	bm, bs := splitID(b)
	if am != bm {
		if am < bm {
			return -1
		}
		return 1
	}
	switch {
	case as < bs:
		return -1
	case as > bs:
		return 1
	}
	return 0
}

func splitID(id string) (ms, seq uint64) {
	for i := 0; i < len(id); i++ {
		if id[i] == '-' {
			ms, _ = strconv.ParseUint(id[:i], 10, 64)
			seq, _ = strconv.ParseUint(id[i+1:], 10, 64)
			return ms, seq
		}
	}
	ms, _ = strconv.ParseUint(id, 10, 64)
	return ms, 0
}

// refresh reads the group's state every Refresh interval for the observer.
func (c *streamConsumer) refresh(ctx context.Context) {
	tick := time.NewTicker(c.t.cfg.Refresh)
	defer tick.Stop()
	for {
		c.refreshOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (c *streamConsumer) refreshOnce(ctx context.Context) {
	info, err := GroupState(ctx, c.client, c.cfg.Key, c.cfg.Group)
	if err != nil {
		if ctx.Err() == nil {
			c.log.Debug("reading the group's state failed", "error", redact(c.cfg.Options, err))
		}
		return
	}
	c.obs.SetGroup(info)
}

// GroupState reads a consumer group's pending count, lag (unknown when Redis reports NULL) and the age
// of its oldest pending entry.
func GroupState(ctx context.Context, client redis.Cmdable, stream, group string) (observe.GroupInfo, error) {
	var info observe.GroupInfo
	groups, err := client.XInfoGroups(ctx, stream).Result()
	if err != nil {
		return info, err
	}
	i := slices.IndexFunc(groups, func(g redis.XInfoGroup) bool { return g.Name == group })
	if i < 0 {
		return info, fmt.Errorf("NOGROUP no group %q on stream %q", group, stream)
	}
	info.Pending = groups[i].Pending
	info.Lag, info.LagKnown = groups[i].Lag, groups[i].Lag >= 0
	if info.Pending > 0 {
		p, err := client.XPending(ctx, stream, group).Result()
		if err != nil {
			return info, err
		}
		ms, _ := splitID(p.Lower)
		info.OldestPendingAge = max(time.Since(time.UnixMilli(int64(ms))), 0)
	}
	return info, nil
}

// releaseAhead gives the entries read ahead that were not started at shutdown to the other consumers: it
// sets their idle time to claim_idle (leaseScript), so the next XAUTOCLAIM pass of any consumer takes them
// instead of waiting claim_idle. They were never handled, so they are not duplicates.
func (c *streamConsumer) releaseAhead() {
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	n := len(c.ahead)
	_, err := c.leaseAhead(ctx, c.cfg.ClaimIdle)
	c.ahead = nil
	if err != nil {
		c.log.Warn("shutdown: entries read ahead left pending; another consumer claims them after claim_idle",
			"entries", n, "error", redact(c.cfg.Options, err))
		return
	}
	c.log.Warn("shutdown: entries read ahead released for another consumer", "entries", n)
}
