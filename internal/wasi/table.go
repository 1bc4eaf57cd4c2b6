package wasi

import (
	"fmt"
	"io"
)

// Resource type numbers: one per WASI resource, whatever interface or
// version uses it (host resource types are numbers chosen by the host).
const typeBase uint32 = 0x5741_0000

// resourceNames lists the WASI resources by the name interfaces give them;
// a resource's type number is typeBase + its index. Aliases share a
// number (wasi:http's headers and trailers are fields).
var resourceNames = []string{
	"error", "pollable", "input-stream", "output-stream",
	"terminal-input", "terminal-output",
	"descriptor", "directory-entry-stream",
	"network", "tcp-socket", "udp-socket", "incoming-datagram-stream", "outgoing-datagram-stream", "resolve-address-stream",
	"fields", "incoming-request", "outgoing-request", "request-options", "response-outparam", "incoming-body",
	"future-trailers", "outgoing-response", "outgoing-body", "future-incoming-response", "incoming-response",
}

var resourceAliases = map[string]string{"headers": "fields", "trailers": "fields"}

// TypeOf returns the host resource type number of the WASI resource name
// (e.g. "input-stream", "pollable", "fields"), and false for a name this
// package does not know.
func TypeOf(name string) (uint32, bool) {
	if a, ok := resourceAliases[name]; ok {
		name = a
	}
	for i, n := range resourceNames {
		if n == name {
			return typeBase + uint32(i), true
		}
	}
	return 0, false
}

func mustType(name string) uint32 {
	t, ok := TypeOf(name)
	if !ok {
		panic("wasi: unknown resource " + name)
	}
	return t
}

// Type numbers of the resources this package creates.
var (
	tyError        = mustType("error")
	tyPollable     = mustType("pollable")
	tyInputStream  = mustType("input-stream")
	tyOutputStream = mustType("output-stream")
	tyDescriptor   = mustType("descriptor")
	tyDirEntries   = mustType("directory-entry-stream")
	tyNetwork      = mustType("network")
)

func typeName(ty uint32) string {
	if ty >= typeBase && int(ty-typeBase) < len(resourceNames) {
		return resourceNames[ty-typeBase]
	}
	return fmt.Sprintf("resource type %#x", ty)
}

// entry is one resource of a store (ty 0: a free slot).
type entry struct {
	ty       uint32
	v        any
	parent   uint32 // rep of the resource this one borrows from (0 = none)
	children int    // live resources whose parent this is
}

// table holds a store's host resources by rep: rep r is slot r-1, and
// freed slots are reused, so the table holds no more slots than resources
// were alive at once. A resource with live children cannot be dropped: the
// guest traps, as WASI allows ("a child resource ... must be dropped
// before its parent"). Reusing a rep is safe: Wasmtime hands the guest its
// own handles, and a guest handle to a dropped resource no longer exists.
type table struct {
	slots []entry
	free  []uint32 // reps of free slots
	n     int      // live resources
}

// tableSlots is the capacity a table starts with: a C or Rust guest's
// stdin, stdout, stderr and a few more.
const tableSlots = 8

func (t *table) push(ty uint32, v any, parent uint32) (uint32, error) {
	if parent != 0 {
		p, ok := t.slot(parent)
		if !ok {
			return 0, fmt.Errorf("parent resource %d is gone", parent)
		}
		p.children++
	}
	var rep uint32
	if k := len(t.free); k > 0 {
		rep = t.free[k-1]
		t.free = t.free[:k-1]
	} else {
		if t.slots == nil {
			t.slots = make([]entry, 0, tableSlots)
		}
		t.slots = append(t.slots, entry{})
		rep = uint32(len(t.slots))
	}
	t.slots[rep-1] = entry{ty: ty, v: v, parent: parent}
	t.n++
	return rep, nil
}

// slot returns the live entry rep.
func (t *table) slot(rep uint32) (*entry, bool) {
	if rep == 0 || int(rep) > len(t.slots) || t.slots[rep-1].ty == 0 {
		return nil, false
	}
	return &t.slots[rep-1], true
}

func (t *table) get(rep, ty uint32) (*entry, error) {
	e, ok := t.slot(rep)
	if !ok {
		return nil, fmt.Errorf("unknown %s handle %d", typeName(ty), rep)
	}
	if e.ty != ty {
		return nil, fmt.Errorf("handle %d is a %s, not a %s", rep, typeName(e.ty), typeName(ty))
	}
	return e, nil
}

// take removes rep from the table, failing while it has children, and
// returns its value (not closed). what is the operation, for the error
// ("dropped", "passed on").
func (t *table) take(rep, ty uint32, what string) (any, error) {
	e, err := t.get(rep, ty)
	if err != nil {
		return nil, err
	}
	if e.children > 0 {
		return nil, fmt.Errorf("%s %d %s while %d resource(s) created from it are alive (drop them first)", typeName(ty), rep, what, e.children)
	}
	v, parent := e.v, e.parent
	*e = entry{}
	t.free = append(t.free, rep)
	t.n--
	if p, ok := t.slot(parent); ok {
		p.children--
	}
	return v, nil
}

// remove deletes rep, failing while it has children, and closes its value
// if it is an io.Closer.
func (t *table) remove(rep, ty uint32) error {
	v, err := t.take(rep, ty, "dropped")
	if err != nil {
		return err
	}
	if c, ok := v.(io.Closer); ok {
		c.Close()
	}
	return nil
}

// live is the number of resources in the table.
func (t *table) live() int { return t.n }

// closeAll closes every value left (the store is gone) and empties the
// table.
func (t *table) closeAll() {
	for i := range t.slots {
		if c, ok := t.slots[i].v.(io.Closer); ok && t.slots[i].ty != 0 {
			c.Close()
		}
	}
	t.slots, t.free, t.n = nil, nil, 0
}
