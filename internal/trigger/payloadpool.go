package trigger

import (
	"math/bits"
	"sync"
	"unsafe"
)

// Payload size classes of a payloadPool: powers of two from 64 B to 4 MiB.
// Larger payloads are allocated for the message and left to the GC.
const (
	poolMinShift = 6
	poolMaxShift = 22
)

// payloadPool recycles the buffers a lane's messages are read into, so that
// a steady flow of messages of one size reuses a few buffers instead of
// allocating one per message.
//
// Ownership: the server's reader takes a buffer (get) and reads the payload
// into it; push hands it to the lane; the lane owns it while it is queued
// and gives it back (put) if it drops it; pop hands it to a worker, which
// puts it back once every component of the channel has returned from
// Handler.Handle. So a Handler, and everything it calls, must not keep the
// payload slice after Handle returns (host.Handle copies it into guest
// memory; observers and spans see only its length).
type payloadPool struct {
	classes [poolMaxShift - poolMinShift + 1]sync.Pool // of *byte: a class-sized buffer's first byte
}

// class returns the index of the smallest class holding n bytes, or -1
// when n is above the largest.
func poolClass(n int) int {
	shift := max(bits.Len(uint(n-1)), poolMinShift)
	if n <= 1 {
		shift = poolMinShift
	}
	if shift > poolMaxShift {
		return -1
	}
	return shift - poolMinShift
}

// get returns a buffer of length n (its bytes are not cleared).
func (p *payloadPool) get(n int) []byte {
	if n == 0 {
		return nil
	}
	c := poolClass(n)
	if c < 0 {
		return make([]byte, n)
	}
	if v := p.classes[c].Get(); v != nil {
		return unsafe.Slice(v.(*byte), 1<<(c+poolMinShift))[:n]
	}
	return make([]byte, n, 1<<(c+poolMinShift))
}

// put gives back a buffer get returned, once nothing uses it any more.
// Buffers that are not of a class size (empty, oversized) are left to the
// GC.
func (p *payloadPool) put(b []byte) {
	c := poolClass(cap(b))
	if cap(b) == 0 || c < 0 || cap(b) != 1<<(c+poolMinShift) {
		return
	}
	p.classes[c].Put(unsafe.SliceData(b[:cap(b)]))
}
