package redis

import (
	"runtime"
	"unsafe"

	"github.com/redspin/redspin/sdk/go/internal/cabi"
)

// Open opens a connection to the Redis server at address, a redis:// or
// rediss:// URL. The host checks it against the component's
// allowed_outbound_hosts.
func Open(address string) (*Conn, error) {
	var a cabi.Area
	cabi.CallString(func(_, p, n, ret uint32) { connectionOpen(p, n, ret) }, 0, address, &a)
	if err := liftError(&a); err != nil {
		return nil, err
	}
	return &Conn{handle: a.U32(4)}, nil
}

// Close drops the connection. Calling any method afterwards panics; Close
// itself may be called again.
func (c *Conn) Close() {
	if c.closed {
		return
	}
	c.closed = true
	connectionDrop(c.handle)
}

// h is the connection's handle, checked.
func (c *Conn) h() uint32 {
	if c.closed {
		panic("redis: use of a closed Conn")
	}
	return c.handle
}

// Publish publishes payload on channel.
func (c *Conn) Publish(channel string, payload []byte) error {
	var a cabi.Area
	cabi.CallStringBytes(connectionPublish, c.h(), channel, payload, &a)
	return liftError(&a)
}

// Get returns the value of key; found is false when the key does not exist.
func (c *Conn) Get(key string) (value []byte, found bool, err error) {
	var a cabi.Area
	cabi.CallString(connectionGet, c.h(), key, &a)
	if err := liftError(&a); err != nil {
		return nil, false, err
	}
	value, found = a.OptionBytes(4)
	return value, found, nil
}

// Set sets key to value.
func (c *Conn) Set(key string, value []byte) error {
	var a cabi.Area
	cabi.CallStringBytes(connectionSet, c.h(), key, value, &a)
	return liftError(&a)
}

// Incr increments the integer at key by one and returns the new value.
func (c *Conn) Incr(key string) (int64, error) {
	var a cabi.Area
	cabi.CallString(connectionIncr, c.h(), key, &a)
	// result<s64, error>: the payload is 8-aligned.
	if a.IsErr() {
		return 0, liftErrorAt(&a, 8)
	}
	return int64(a.U64(8)), nil
}

// Del deletes keys and returns how many existed.
func (c *Conn) Del(keys ...string) (int, error) {
	var a cabi.Area
	list, lp, ln := cabi.StringsArg(keys)
	cabi.PauseGC()
	connectionDel(c.h(), lp, ln, a.Ptr())
	cabi.ResumeGC()
	runtime.KeepAlive(keys)
	runtime.KeepAlive(list)
	return liftCount(&a)
}

// SAdd adds values to the set at key and returns how many were new.
func (c *Conn) SAdd(key string, values ...string) (int, error) {
	var a cabi.Area
	cabi.CallStringStrings(connectionSadd, c.h(), key, values, &a)
	return liftCount(&a)
}

// SRem removes values from the set at key and returns how many were there.
func (c *Conn) SRem(key string, values ...string) (int, error) {
	var a cabi.Area
	cabi.CallStringStrings(connectionSrem, c.h(), key, values, &a)
	return liftCount(&a)
}

// SMembers returns the members of the set at key.
func (c *Conn) SMembers(key string) ([]string, error) {
	var a cabi.Area
	cabi.CallString(connectionSmembers, c.h(), key, &a)
	if err := liftError(&a); err != nil {
		return nil, err
	}
	return a.Strings(4), nil
}

// Execute runs any Redis command with typed arguments and returns its
// replies, e.g. Execute("HSET", String("h"), String("f"), Int(1)).
func (c *Conn) Execute(command string, args ...Param) ([]Result, error) {
	var a cabi.Area
	cp, cn := cabi.StringArg(command)
	// list<redis-parameter>: 16 bytes per element, 8-aligned; the case at
	// byte 0, the s64 or the (address, length) of the bytes at byte 8.
	params := make([]uint64, 2*len(args))
	for i, p := range args {
		switch {
		case p.isInt:
			params[2*i+1] = uint64(p.n)
		case p.b != nil:
			bp, bn := cabi.BytesArg(p.b)
			params[2*i], params[2*i+1] = 1, uint64(bp)|uint64(bn)<<32
		default:
			sp, sn := cabi.StringArg(p.s)
			params[2*i], params[2*i+1] = 1, uint64(sp)|uint64(sn)<<32
		}
	}
	cabi.PauseGC()
	connectionExecute(c.h(), cp, cn, cabi.Ptr(unsafe.Pointer(unsafe.SliceData(params))), uint32(len(args)), a.Ptr())
	cabi.ResumeGC()
	runtime.KeepAlive(command)
	runtime.KeepAlive(args)
	runtime.KeepAlive(params)
	if err := liftError(&a); err != nil {
		return nil, err
	}
	// list<redis-result>: the same 16-byte layout.
	n := a.U32(8)
	raw := cabi.Take(a.U32(4), 16*n)
	out := make([]Result, n)
	for i := range out {
		e := (*cabi.Area)(unsafe.Pointer(&raw[16*i]))
		r := Result{Kind: ResultKind(e.U8(0))}
		switch r.Kind {
		case Status:
			r.Status = e.String(8)
		case Int64:
			r.Int = int64(e.U64(8))
		case Binary:
			r.Bytes = e.Bytes(8)
			if r.Bytes == nil {
				r.Bytes = []byte{}
			}
		}
		out[i] = r
	}
	return out, nil
}

// liftError lifts the error of a result whose payload is at byte 4 (nil for ok).
func liftError(a *cabi.Area) error {
	if !a.IsErr() {
		return nil
	}
	return liftErrorAt(a, 4)
}

// liftErrorAt lifts the error variant at off.
func liftErrorAt(a *cabi.Area, off int) error {
	kind, msg := a.Variant(off, uint8(Other))
	return &Error{Kind: ErrorKind(kind), Message: msg}
}

// liftCount lifts result<u32, error>.
func liftCount(a *cabi.Area) (int, error) {
	if err := liftError(a); err != nil {
		return 0, err
	}
	return int(a.U32(4)), nil
}
