package handles

import (
	"errors"
	"sync"
)

// ErrFull and ErrClosed are Table.Add's failures.
var (
	ErrFull   = errors.New("the resource table is full")
	ErrClosed = errors.New("the resource table is closed (the message has ended)")
)

// Table is one message's resource table (open SQLite or MQTT connections):
// values by handle, at most max of them, and closed when the message ends.
// It is safe for concurrent use.
type Table[V any] struct {
	mu     sync.Mutex
	m      map[uint32]V
	last   uint32
	max    int
	closed bool
}

// NewTable returns an empty table holding at most max values.
func NewTable[V any](max int) *Table[V] {
	return &Table[V]{m: map[uint32]V{}, max: max}
}

// Add stores v under a new handle; ErrFull or ErrClosed when it cannot.
func (t *Table[V]) Add(v V) (uint32, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return 0, ErrClosed
	}
	if len(t.m) >= t.max {
		return 0, ErrFull
	}
	h := Next(t.m, &t.last)
	t.m[h] = v
	return h, nil
}

// ContinueAfter makes t's handles continue after the last one prev gave
// out, so that a handle of an earlier message on the same store (instance
// reuse) names nothing in t instead of another resource. prev may be nil.
func (t *Table[V]) ContinueAfter(prev *Table[V]) {
	if prev != nil {
		Continue(&t.mu, &t.last, &prev.mu, &prev.last)
	}
}

// Get returns the value under h.
func (t *Table[V]) Get(h uint32) (V, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	v, ok := t.m[h]
	return v, ok
}

// Remove takes the value under h out of the table.
func (t *Table[V]) Remove(h uint32) (V, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	v, ok := t.m[h]
	delete(t.m, h)
	return v, ok
}

// Len is the number of values in the table.
func (t *Table[V]) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// Close empties the table, makes later Adds fail with ErrClosed and returns
// the values it held, for the caller to close.
func (t *Table[V]) Close() []V {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]V, 0, len(t.m))
	for _, v := range t.m {
		out = append(out, v)
	}
	t.m, t.closed = map[uint32]V{}, true
	return out
}
