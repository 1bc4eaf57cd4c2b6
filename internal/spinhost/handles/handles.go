// Package handles hands out the handles of a per-instance resource table
// (open key-value stores, outbound Redis connections): non-zero uint32s, as
// the guest sees them, never one that is still in use. Table is such a table
// with a cap and an end (SQLite and MQTT connections).
package handles

import "sync"

// Continue makes a table's handles continue after another's: it copies
// *prevLast (guarded by prevMu) to *last (guarded by mu), for the next
// message on a reused instance, so that a handle the guest kept from the
// previous message names nothing instead of a new resource.
func Continue(mu *sync.Mutex, last *uint32, prevMu *sync.Mutex, prevLast *uint32) {
	if last == prevLast {
		return
	}
	prevMu.Lock()
	v := *prevLast
	prevMu.Unlock()
	mu.Lock()
	*last = v
	mu.Unlock()
}

// Next returns the first handle after *last that table does not use,
// skipping 0, and records it in *last. The table must have a free handle
// (callers bound it far below 2^32).
func Next[V any](table map[uint32]V, last *uint32) uint32 {
	for {
		*last++
		if *last == 0 {
			*last = 1
		}
		if _, used := table[*last]; !used {
			return *last
		}
	}
}
