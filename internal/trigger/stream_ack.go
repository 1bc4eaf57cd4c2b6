package trigger

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// ackBatch is the most IDs acknowledged by one XACK.
	ackBatch = 1000
	// ackLinger is how long the acker leaves newly queued acknowledgements for the reader, which sends them
	// in the same round trip as its next XREADGROUP; a reader that is not reading leaves them to the acker.
	ackLinger = 2 * time.Millisecond
	// ackFinalAttempts bounds the XACK attempts of the flush at shutdown.
	ackFinalAttempts = 3
)

// ackQueue holds the IDs of handled entries until an XACK carries them: the reader's next read
// (pipelined with it) or the acker.
type ackQueue struct {
	mu      sync.Mutex
	ids     []string
	closed  bool          // shutdown flushed the queue: later IDs stay pending
	started bool          // the acker runs (set by run before startup is reported)
	sig     chan struct{} // the queue became non-empty
	stop    context.Context
	cancel  context.CancelFunc // ends stop at shutdown
	done    chan struct{}      // closed when the acker has exited
}

func newAckQueue() ackQueue {
	stop, cancel := context.WithCancel(context.Background())
	return ackQueue{sig: make(chan struct{}, 1), stop: stop, cancel: cancel, done: make(chan struct{})}
}

// ack queues id for acknowledgement. An entry whose handler finished after shutdown flushed the queue
// (it ignored cancellation) stays pending.
func (c *streamConsumer) ack(id string) {
	q := &c.acks
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		c.log.Warn("shutdown: entry finished after the acknowledgements were flushed; it stays pending", "id", id)
		return
	}
	q.ids = append(q.ids, id)
	first := len(q.ids) == 1
	q.mu.Unlock()
	if first {
		select {
		case q.sig <- struct{}{}:
		default:
		}
	}
}

// takeAcks removes and returns up to ackBatch queued IDs.
func (c *streamConsumer) takeAcks() []string {
	q := &c.acks
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.ids) <= ackBatch {
		ids := q.ids
		q.ids = nil
		return ids
	}
	ids := q.ids[:ackBatch:ackBatch]
	q.ids = q.ids[ackBatch:]
	return ids
}

// requeueAcks puts back IDs whose XACK failed (they are still pending in Redis, so nothing is lost).
func (c *streamConsumer) requeueAcks(ids []string) {
	q := &c.acks
	q.mu.Lock()
	q.ids = append(ids, q.ids...)
	q.mu.Unlock()
	select {
	case q.sig <- struct{}{}:
	default:
	}
}

// sendAcks acknowledges ids; a failure requeues them (NOGROUP drops them: the group is gone).
func (c *streamConsumer) sendAcks(ctx context.Context, ids []string) error {
	err := c.client.XAck(ctx, c.cfg.Key, c.cfg.Group, ids...).Err()
	if err != nil && !isNoGroup(err) {
		c.requeueAcks(ids)
		return err
	}
	return nil
}

// readNew reads up to n new entries (XREADGROUP ... >), waiting up to block for them (0: not at all),
// sending the queued acknowledgements in the same round trip.
func (c *streamConsumer) readNew(ctx context.Context, n int, block time.Duration) (any, error) {
	args := []any{"XREADGROUP", "GROUP", c.cfg.Group, c.t.cfg.Consumer, "COUNT", n}
	if block > 0 {
		args = append(args, "BLOCK", block.Milliseconds())
	}
	args = append(args, "STREAMS", c.cfg.Key, ">")
	ids := c.takeAcks()
	if len(ids) == 0 {
		return c.client.Do(ctx, args...).Result()
	}
	var ack *redis.IntCmd
	var read *redis.Cmd
	_, _ = c.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		ack = p.XAck(ctx, c.cfg.Key, c.cfg.Group, ids...)
		read = p.Do(ctx, args...)
		return nil
	})
	if err := ack.Err(); err != nil && !isNoGroup(err) {
		c.requeueAcks(ids)
	}
	return read.Result()
}

// acker acknowledges what the reader does not carry: after ackLinger, every queued ID in batches; failed
// XACKs are retried with backoff. At shutdown it flushes the queue and exits.
func (c *streamConsumer) acker() {
	q := &c.acks
	defer close(q.done)
	ctx := context.Background()
	bo := backoff{min: backoffMin, max: backoffMax}
	for {
		select {
		case <-q.sig:
		case <-q.stop.Done():
			c.flushAcks(ctx)
			return
		}
		if !sleep(q.stop, ackLinger) {
			c.flushAcks(ctx)
			return
		}
		for ids := c.takeAcks(); len(ids) > 0; ids = c.takeAcks() {
			if err := c.sendAcks(ctx, ids); err != nil {
				c.log.Debug("XACK failed; retrying", "entries", len(ids), "error", redact(c.cfg.Options, err))
				if !sleep(q.stop, bo.next()) {
					c.flushAcks(ctx)
					return
				}
				continue
			}
			bo.reset()
		}
	}
}

// flushAcks sends what is queued at shutdown, with a few attempts, and closes the queue.
func (c *streamConsumer) flushAcks(ctx context.Context) {
	q := &c.acks
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	failures := 0
	for ids := c.takeAcks(); len(ids) > 0; ids = c.takeAcks() {
		err := c.sendAcks(ctx, ids)
		if err == nil {
			continue
		}
		if failures++; failures == ackFinalAttempts {
			c.log.Error("shutdown: could not acknowledge handled entries; they stay pending and will be delivered again",
				"entries", len(c.takeAcks()), "error", redact(c.cfg.Options, err))
			return
		}
		time.Sleep(backoffMin << failures)
	}
}

// stopAcks flushes the acknowledgements queued so far and stops the acker (after the handlers ended).
func (c *streamConsumer) stopAcks() {
	q := &c.acks
	if !q.started {
		return
	}
	q.cancel()
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case <-q.done:
	case <-t.C:
		c.log.Error("shutdown: acknowledgements did not complete in 10s; those entries will be delivered again")
	}
}
