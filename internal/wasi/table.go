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

// entry is one live resource of a store.
type entry struct {
	ty       uint32
	v        any
	parent   uint32 // rep of the resource this one borrows from (0 = none)
	children int    // live resources whose parent this is
}

// table holds a store's host resources by rep. A resource with live
// children cannot be dropped: the guest traps, as WASI allows ("a child
// resource ... must be dropped before its parent").
type table struct {
	next uint32
	m    map[uint32]*entry
}

func (t *table) push(ty uint32, v any, parent uint32) (uint32, error) {
	if t.m == nil {
		t.m = make(map[uint32]*entry)
	}
	if parent != 0 {
		p, ok := t.m[parent]
		if !ok {
			return 0, fmt.Errorf("parent resource %d is gone", parent)
		}
		p.children++
	}
	t.next++
	t.m[t.next] = &entry{ty: ty, v: v, parent: parent}
	return t.next, nil
}

func (t *table) get(rep, ty uint32) (*entry, error) {
	e, ok := t.m[rep]
	if !ok {
		return nil, fmt.Errorf("unknown %s handle %d", typeName(ty), rep)
	}
	if e.ty != ty {
		return nil, fmt.Errorf("handle %d is a %s, not a %s", rep, typeName(e.ty), typeName(ty))
	}
	return e, nil
}

// remove deletes rep, failing while it has children, and closes its value
// if it is an io.Closer.
func (t *table) remove(rep, ty uint32) error {
	e, err := t.get(rep, ty)
	if err != nil {
		return err
	}
	if e.children > 0 {
		return fmt.Errorf("%s %d dropped while %d resource(s) created from it are alive (drop them first)", typeName(ty), rep, e.children)
	}
	delete(t.m, rep)
	if e.parent != 0 {
		if p, ok := t.m[e.parent]; ok {
			p.children--
		}
	}
	if c, ok := e.v.(io.Closer); ok {
		c.Close()
	}
	return nil
}

// closeAll closes every value left (the store is gone).
func (t *table) closeAll() {
	for rep, e := range t.m {
		if c, ok := e.v.(io.Closer); ok {
			c.Close()
		}
		delete(t.m, rep)
	}
}
