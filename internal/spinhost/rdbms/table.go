package rdbms

import (
	"errors"
	"fmt"
	"sync"

	"github.com/redspin/redspin/internal/spinhost/handles"
)

// DefaultMaxConnections is the default per-message connection cap (Spin's
// resource table size).
const DefaultMaxConnections = 1024

// Table is the per-message table of open connections (or other per-message
// objects) of type C. Handles are non-zero and unique until dropped. At
// most max entries (counting ones being opened) exist at once; Close
// closes them all. Safe for concurrent use.
type Table[C any] struct {
	mu      sync.Mutex
	items   map[uint32]C
	next    uint32
	pending int
	max     int
	closed  bool
	closeFn func(C)
}

// NewTable returns an empty table holding at most max entries (0 or less
// = DefaultMaxConnections); closeFn (may be nil) closes an entry.
func NewTable[C any](max int, closeFn func(C)) *Table[C] {
	if max <= 0 {
		max = DefaultMaxConnections
	}
	return &Table[C]{items: map[uint32]C{}, max: max, closeFn: closeFn}
}

var errClosed = errors.New("used after its message ended")

// ContinueAfter makes t's handles continue after the last one prev gave
// out, so that a handle of an earlier message on the same store (instance
// reuse) names nothing in t instead of another connection. prev may be nil.
func (t *Table[C]) ContinueAfter(prev *Table[C]) {
	if prev != nil {
		handles.Continue(&t.mu, &t.next, &prev.mu, &prev.next)
	}
}

// Reserve takes a slot before a connection is opened: connection-failed
// ("too many connections", as Spin) when the table is full.
func (t *Table[C]) Reserve() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return &Error{Kind: OtherError, Message: errClosed.Error(), Err: errClosed}
	}
	if len(t.items)+t.pending >= t.max {
		return &Error{Kind: ConnectionFailed, Message: "too many connections",
			Err: fmt.Errorf("a message may hold at most %d open connections", t.max)}
	}
	t.pending++
	return nil
}

// Release gives back a slot whose open failed.
func (t *Table[C]) Release() {
	t.mu.Lock()
	t.pending--
	t.mu.Unlock()
}

// Insert stores c in a reserved slot and returns its handle. After Close
// it closes c and fails.
func (t *Table[C]) Insert(c C) (uint32, error) {
	t.mu.Lock()
	t.pending--
	if t.closed {
		t.mu.Unlock()
		if t.closeFn != nil {
			t.closeFn(c)
		}
		return 0, &Error{Kind: OtherError, Message: errClosed.Error(), Err: errClosed}
	}
	h := handles.Next(t.items, &t.next)
	t.items[h] = c
	t.mu.Unlock()
	return h, nil
}

// Add reserves and inserts in one step.
func (t *Table[C]) Add(c C) (uint32, error) {
	if err := t.Reserve(); err != nil {
		return 0, err
	}
	return t.Insert(c)
}

// Get returns the entry of handle h, or connection-failed("no connection
// found") as Spin.
func (t *Table[C]) Get(h uint32) (C, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c, ok := t.items[h]
	if !ok {
		return c, &Error{Kind: ConnectionFailed, Message: "no connection found"}
	}
	return c, nil
}

// Drop closes and removes the entry of h; an unknown h does nothing.
func (t *Table[C]) Drop(h uint32) {
	t.mu.Lock()
	c, ok := t.items[h]
	delete(t.items, h)
	t.mu.Unlock()
	if ok && t.closeFn != nil {
		t.closeFn(c)
	}
}

// Len returns the number of entries.
func (t *Table[C]) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.items)
}

// Close closes every entry; later Reserve and Insert fail. Idempotent.
func (t *Table[C]) Close() {
	t.mu.Lock()
	items := t.items
	t.items = map[uint32]C{}
	t.closed = true
	t.mu.Unlock()
	if t.closeFn != nil {
		for _, c := range items {
			t.closeFn(c)
		}
	}
}
