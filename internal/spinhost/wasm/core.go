package wasm

import (
	"context"
	"fmt"
	"strings"

	"github.com/redspin/redspin/internal/spinhost/outredis"
	"github.com/redspin/redspin/internal/wasmtime"
)

// Core-module interface names.
const (
	modRedis2     = "fermyon:spin/redis@2.0.0"
	modRedis      = "fermyon:spin/redis"
	modVariables2 = "fermyon:spin/variables@2.0.0"
	modConfig     = "fermyon:spin/config"
	modKV2        = "fermyon:spin/key-value@2.0.0"
	modKV         = "fermyon:spin/key-value"
	modWASIConfig = "wasi:config/store@0.2.0-draft-2024-09-27"
	modWASIKV     = "wasi:keyvalue/store@0.2.0-draft2"
)

// spin1Modules renames Spin 1.x core imports to the unversioned interfaces
// they are; those modules allocate with canonical_abi_realloc.
var spin1Modules = map[string]string{
	"outbound-redis": modRedis,
	"spin-config":    modConfig,
	"key-value":      modKV,
	modSpin1HTTP:     modSpin1HTTP, // http.go
}

// coreCall is one core host call: its state, the caller's memory and the
// raw i32 arguments.
type coreCall struct {
	ctx context.Context
	st  *Instance
	g   *guestMem
	a   []uint64
}

func (c *coreCall) u(n int) uint32 { return uint32(c.a[n]) }

func (c *coreCall) str(n int) (string, error) { return c.g.str(c.u(n), c.u(n+1)) }

func (c *coreCall) bytes(n int) ([]byte, error) { return c.g.bytes(c.u(n), c.u(n+1)) }

// strBytes lifts a (string, list<u8>) pair, such as a key and its value,
// from the four parameters at n.
func (c *coreCall) strBytes(n int) (string, []byte, error) {
	s, err := c.str(n)
	if err != nil {
		return "", nil, err
	}
	b, err := c.bytes(n + 2)
	return s, b, err
}

func (c *coreCall) strs(n int) ([]string, error) { return c.g.strList(c.u(n), c.u(n+1)) }

// ok writes a result's ok tag.
func (c *coreCall) ok(ret uint32) error { return c.g.put8(ret, 0) }

// coreImport is one host function for core modules: nparams i32 parameters
// (return-area pointer last), no results.
type coreImport struct {
	nparams int
	fn      func(c *coreCall) error
}

// provides reports whether the service an interface needs is configured.
func (s *Services) provides(module string) bool {
	switch module {
	case modRedis2, modRedis:
		return s.Redis != nil
	case modVariables2, modConfig, modWASIConfig:
		return s.Vars != nil
	case modKV2, modKV, modWASIKV, modWASIKVAtomics, modWASIKVBatch:
		return s.KV != nil
	case modHTTP, modSpin1HTTP:
		return s.HTTP != nil
	}
	return false
}

// LinkModule defines, on a core-module linker, every import in imports
// ("module#field", as the module lists them) that these services
// implement: Spin 1.x's outbound-redis, spin-config and key-value, and the
// canonical-ABI lowering of fermyon:spin/redis@2.0.0, variables@2.0.0,
// key-value@2.0.0, the unversioned redis/config/key-value,
// wasi:config/store and wasi:keyvalue/store. It returns the imports it
// defined; the host links the rest (WASI, unsupported-import traps).
//
// The functions find their per-message state through the store's data
// ([Holder]).
func (s *Services) LinkModule(l *wasmtime.Linker, imports []string) ([]string, error) {
	var done []string
	for _, imp := range imports {
		module, field, ok := strings.Cut(imp, "#")
		if !ok {
			continue
		}
		iface, realloc := module, "cabi_realloc"
		if renamed, ok := spin1Modules[module]; ok {
			iface, realloc = renamed, "canonical_abi_realloc"
		}
		ci, ok := coreImports[iface][field]
		if !ok || !s.provides(iface) {
			continue
		}
		params := make([]wasmtime.ValKind, ci.nparams)
		for i := range params {
			params[i] = wasmtime.KindI32
		}
		if err := l.DefineFunc(module, field, params, nil, s.coreFunc(imp, realloc, ci)); err != nil {
			return done, fmt.Errorf("define %s: %w", imp, err)
		}
		done = append(done, imp)
	}
	return done, nil
}

func (s *Services) coreFunc(name, realloc string, ci coreImport) wasmtime.HostFunc {
	return func(caller *wasmtime.Caller, args, _ []uint64) error {
		st, err := stateOf(caller.Data())
		if err != nil {
			return err
		}
		mem, ok := caller.Memory("memory")
		if !ok {
			return fmt.Errorf("%s: the module exports no memory", name)
		}
		// Lists and strings for the module are allocated with its realloc,
		// called from within this host call.
		g := &guestMem{mem: mem.Data, realloc: func(oldPtr, oldSize, align, newSize uint32) (uint32, error) {
			r, err := caller.CallI32(realloc, 1, int32(oldPtr), int32(oldSize), int32(align), int32(newSize))
			if err != nil {
				return 0, err
			}
			return uint32(r[0]), nil
		}}
		if err := ci.fn(&coreCall{ctx: st.ctx, st: st, g: g, a: args}); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
}

// coreImports maps interface → function → implementation. Layouts follow
// the canonical ABI: a result's payload is at offset 4, or 8 when it holds
// an s64; an error variant's case byte is at the payload offset and its
// string 4 bytes later.
var coreImports = map[string]map[string]coreImport{
	modRedis2: {
		"[static]connection.open": {3, func(c *coreCall) error {
			addr, err := c.str(0)
			if err != nil {
				return err
			}
			ret := c.u(2)
			h, err := c.st.redis.Open(c.ctx, addr)
			if err != nil {
				return c.g.putResultErr(ret, 4, redisErr(err))
			}
			return okU32(c, ret, h)
		}},
		"[method]connection.publish":  redisPublishOp.v2(),
		"[method]connection.get":      redisGetOp.v2(),
		"[method]connection.set":      redisSetOp.v2(),
		"[method]connection.incr":     redisIncrOp.v2(),
		"[method]connection.del":      redisDelOp.v2(),
		"[method]connection.sadd":     redisSAddOp.v2(),
		"[method]connection.srem":     redisSRemOp.v2(),
		"[method]connection.smembers": redisSMembersOp.v2(),
		"[method]connection.execute":  redisExecuteOp.v2(),
		"[resource-drop]connection": {1, func(c *coreCall) error {
			c.st.redis.Drop(c.u(0))
			return nil
		}},
	},
	modRedis: {
		"publish":  redisPublishOp.legacy(),
		"get":      redisGetOp.legacy(),
		"set":      redisSetOp.legacy(),
		"incr":     redisIncrOp.legacy(),
		"del":      redisDelOp.legacy(),
		"sadd":     redisSAddOp.legacy(),
		"srem":     redisSRemOp.legacy(),
		"smembers": redisSMembersOp.legacy(),
		"execute":  redisExecuteOp.legacy(),
	},
	modVariables2: {"get": coreVarsGet(varsErr)},
	modConfig:     {"get-config": coreVarsGet(configErr)},
	modWASIConfig: {
		"get": {3, func(c *coreCall) error {
			key, err := c.str(0)
			if err != nil {
				return err
			}
			ret := c.u(2)
			v, found, err := c.st.svc.Vars.WASIGet(c.ctx, key)
			if err != nil {
				return c.g.putResultErr(ret, 4, wasiConfigErr(err))
			}
			return okOptionBytes(c, ret, []byte(v), found)
		}},
		"get-all": {1, func(c *coreCall) error {
			ret := c.u(0)
			all, err := c.st.svc.Vars.GetAll(c.ctx)
			if err != nil {
				return c.g.putResultErr(ret, 4, wasiConfigErr(err))
			}
			if err := c.ok(ret); err != nil {
				return err
			}
			return c.g.putList(ret+4, len(all), 16, 4, func(i int, at uint32) error {
				if err := c.g.putBytes(at, []byte(all[i][0])); err != nil {
					return err
				}
				return c.g.putBytes(at+8, []byte(all[i][1]))
			})
		}},
	},
	modKV2: {
		"[static]store.open":     coreKVOpen(lowerKV2),
		"[method]store.get":      coreKVGet(lowerKV2),
		"[method]store.set":      coreKVSet(lowerKV2),
		"[method]store.delete":   coreKVDelete(lowerKV2),
		"[method]store.exists":   coreKVExists(lowerKV2),
		"[method]store.get-keys": coreKVKeys(lowerKV2),
		"[resource-drop]store":   coreKVDrop,
	},
	modKV: {
		"open": coreKVOpen(lowerLegacyKV),
		// The unversioned get returns list<u8>: a missing key is no-such-key.
		"get": {4, func(c *coreCall) error {
			key, err := c.str(1)
			if err != nil {
				return err
			}
			ret := c.u(3)
			v, err := c.st.kv.LegacyGet(c.ctx, c.u(0), key)
			if err != nil {
				return lowerLegacyKV(c, ret, err)
			}
			if err := c.ok(ret); err != nil {
				return err
			}
			return c.g.putBytes(ret+4, v)
		}},
		"set":      coreKVSet(lowerLegacyKV),
		"delete":   coreKVDelete(lowerLegacyKV),
		"exists":   coreKVExists(lowerLegacyKV),
		"get-keys": coreKVKeys(lowerLegacyKV),
		"close":    coreKVDrop,
	},
	modWASIKV: {
		"open":                  coreKVOpen(lowerWASIKV),
		"[method]bucket.get":    coreKVGet(lowerWASIKV),
		"[method]bucket.set":    coreKVSet(lowerWASIKV),
		"[method]bucket.delete": coreKVDelete(lowerWASIKV),
		"[method]bucket.exists": coreKVExists(lowerWASIKV),
		// list-keys(self, cursor: option<string>) flattens the option to
		// (case, ptr, len).
		"[method]bucket.list-keys": {5, func(c *coreCall) error {
			ret := c.u(4)
			var cursor *string
			if c.u(1) != 0 {
				s, err := c.str(2)
				if err != nil {
					return err
				}
				cursor = &s
			}
			keys, err := c.st.kv.ListKeys(c.ctx, c.u(0), cursor)
			if err != nil {
				return lowerWASIKV(c, ret, err)
			}
			if err := c.ok(ret); err != nil {
				return err
			}
			if err := c.g.putStrings(ret+4, keys); err != nil {
				return err
			}
			return c.g.put8(ret+12, 0) // cursor: none
		}},
		"[resource-drop]bucket": coreKVDrop,
	},

	// Outbound HTTP (http.go).
	modHTTP:      httpCoreFuncs,
	modSpin1HTTP: spin1HTTPFuncs,
}

// redisOp is one redis connection operation for core modules, written once
// for both interfaces: the 2.0.0 method takes (handle, args..., ret) and
// the unversioned function (address, args..., ret). They differ in the
// error type (a variant with a payload at offset 4, or an enum at the
// result's payload offset) and in two result shapes (get of a missing key:
// none or an empty list; counts: u32 or s64).
type redisOp struct {
	nparams int    // 2.0.0 parameters: handle, arguments, return area
	errOff  uint32 // the unversioned result's payload offset (1, 4 or 8)
	run     func(c *coreCall, p redisABI) error
}

// redisABI is how one interface lowers results.
type redisABI struct {
	legacy bool
	lower  func(error) errCase
}

func (p redisABI) unit(c *coreCall, ret uint32, err error) error {
	off := uint32(4)
	if p.legacy {
		off = 1
	}
	return unit(c, ret, off, p.lower, err)
}

func (p redisABI) count(c *coreCall, ret uint32, n int64, err error) error {
	if p.legacy {
		return s64Result(c, ret, p.lower, n, err)
	}
	return u32Result(c, ret, p.lower, n, err)
}

// list writes ok(list) with fill, or the error, at payload offset 4.
func (p redisABI) list(c *coreCall, ret uint32, err error, fill func(addr uint32) error) error {
	if err != nil {
		return c.g.putResultErr(ret, 4, p.lower(err))
	}
	if err := c.ok(ret); err != nil {
		return err
	}
	return fill(ret + 4)
}

func (op redisOp) v2() coreImport {
	return coreImport{op.nparams, func(c *coreCall) error { return op.run(c, redisABI{lower: redisErr}) }}
}

// legacy opens a connection to the address for this one call, then runs
// the operation with the handle in the address's place.
func (op redisOp) legacy() coreImport {
	return coreImport{op.nparams + 1, func(c *coreCall) error {
		addr, err := c.str(0)
		if err != nil {
			return err
		}
		// The operation writes guest-visible errors itself; returning them
		// to WithConn gets them logged. trap is a failure that traps.
		var ran bool
		var trap error
		_, err = outredis.WithConn(c.ctx, c.st.redis.Legacy(), addr, func(h uint32) (struct{}, error) {
			ran = true
			var guestErr error
			p := redisABI{legacy: true, lower: func(err error) errCase {
				guestErr = err
				return legacyRedisErr(err)
			}}
			shifted := *c
			shifted.a = append([]uint64{uint64(h)}, c.a[2:]...)
			if trap = op.run(&shifted, p); trap != nil {
				return struct{}{}, trap
			}
			return struct{}{}, guestErr
		})
		if !ran {
			// The address was refused or the connection failed.
			return c.g.putResultErr(c.u(len(c.a)-1), op.errOff, legacyRedisErr(err))
		}
		return trap
	}}
}

var (
	redisPublishOp = redisOp{6, 1, func(c *coreCall, p redisABI) error {
		ch, payload, err := c.strBytes(1)
		if err != nil {
			return err
		}
		return p.unit(c, c.u(5), c.st.redis.Publish(c.ctx, c.u(0), ch, payload))
	}}
	redisGetOp = redisOp{4, 4, func(c *coreCall, p redisABI) error {
		key, err := c.str(1)
		if err != nil {
			return err
		}
		ret := c.u(3)
		v, found, err := c.st.redis.Get(c.ctx, c.u(0), key)
		switch {
		case err != nil:
			return c.g.putResultErr(ret, 4, p.lower(err))
		case p.legacy:
			return p.list(c, ret, nil, func(at uint32) error { return c.g.putBytes(at, v) })
		}
		return okOptionBytes(c, ret, v, found)
	}}
	redisSetOp = redisOp{6, 1, func(c *coreCall, p redisABI) error {
		key, val, err := c.strBytes(1)
		if err != nil {
			return err
		}
		return p.unit(c, c.u(5), c.st.redis.Set(c.ctx, c.u(0), key, val))
	}}
	redisIncrOp = redisOp{4, 8, func(c *coreCall, p redisABI) error {
		key, err := c.str(1)
		if err != nil {
			return err
		}
		n, err := c.st.redis.Incr(c.ctx, c.u(0), key)
		return s64Result(c, c.u(3), p.lower, n, err)
	}}
	redisDelOp = redisOp{4, 8, func(c *coreCall, p redisABI) error {
		keys, err := c.strs(1)
		if err != nil {
			return err
		}
		n, err := c.st.redis.Del(c.ctx, c.u(0), keys)
		return p.count(c, c.u(3), n, err)
	}}
	redisSAddOp = redisOp{6, 8, func(c *coreCall, p redisABI) error {
		key, vals, err := keyAndList(c, 1)
		if err != nil {
			return err
		}
		n, err := c.st.redis.SAdd(c.ctx, c.u(0), key, vals)
		return p.count(c, c.u(5), n, err)
	}}
	redisSRemOp = redisOp{6, 8, func(c *coreCall, p redisABI) error {
		key, vals, err := keyAndList(c, 1)
		if err != nil {
			return err
		}
		n, err := c.st.redis.SRem(c.ctx, c.u(0), key, vals)
		return p.count(c, c.u(5), n, err)
	}}
	redisSMembersOp = redisOp{4, 4, func(c *coreCall, p redisABI) error {
		key, err := c.str(1)
		if err != nil {
			return err
		}
		m, err := c.st.redis.SMembers(c.ctx, c.u(0), key)
		return p.list(c, c.u(3), err, func(at uint32) error { return c.g.putStrings(at, m) })
	}}
	redisExecuteOp = redisOp{6, 4, func(c *coreCall, p redisABI) error {
		cmd, err := c.str(1)
		if err != nil {
			return err
		}
		args, err := c.g.params(c.u(3), c.u(4))
		if err != nil {
			return err
		}
		rs, err := c.st.redis.Execute(c.ctx, c.u(0), cmd, args)
		return p.list(c, c.u(5), err, func(at uint32) error { return c.g.putResults(at, rs) })
	}}
)

// coreVarsGet is variables@2.0.0 get or the unversioned get-config:
// (name, ret) → result<string, error>, with the interface's error.
func coreVarsGet(lower func(error) errCase) coreImport {
	return coreImport{3, func(c *coreCall) error {
		name, err := c.str(0)
		if err != nil {
			return err
		}
		v, err := c.st.svc.Vars.Get(c.ctx, name)
		return stringResult(c, c.u(2), lower, v, err)
	}}
}

// Helpers writing common result shapes.

func unit(c *coreCall, ret, payloadOff uint32, lower func(error) errCase, err error) error {
	if err != nil {
		return c.g.putResultErr(ret, payloadOff, lower(err))
	}
	return c.ok(ret)
}

func okU32(c *coreCall, ret, v uint32) error {
	if err := c.ok(ret); err != nil {
		return err
	}
	return c.g.put32(ret+4, v)
}

func okBool(c *coreCall, ret uint32, b bool) error {
	if err := c.ok(ret); err != nil {
		return err
	}
	var v uint8
	if b {
		v = 1
	}
	return c.g.put8(ret+4, v)
}

// okOptionBytes writes ok(some(v)) or ok(none) for option<list<u8>> (or
// option<string>) at payload offset 4.
func okOptionBytes(c *coreCall, ret uint32, v []byte, some bool) error {
	if err := c.ok(ret); err != nil {
		return err
	}
	if !some {
		return c.g.put8(ret+4, 0)
	}
	if err := c.g.put8(ret+4, 1); err != nil {
		return err
	}
	return c.g.putBytes(ret+8, v)
}

func s64Result(c *coreCall, ret uint32, lower func(error) errCase, n int64, err error) error {
	if err != nil {
		return c.g.putResultErr(ret, 8, lower(err))
	}
	if err := c.ok(ret); err != nil {
		return err
	}
	return c.g.put64(ret+8, uint64(n))
}

func u32Result(c *coreCall, ret uint32, lower func(error) errCase, n int64, err error) error {
	if err != nil {
		return c.g.putResultErr(ret, 4, lower(err))
	}
	return okU32(c, ret, uint32(n))
}

func stringResult(c *coreCall, ret uint32, lower func(error) errCase, v string, err error) error {
	if err != nil {
		return c.g.putResultErr(ret, 4, lower(err))
	}
	if err := c.ok(ret); err != nil {
		return err
	}
	return c.g.putBytes(ret+4, []byte(v))
}

// kvLower writes a key-value error into a result's return area (payload
// at offset 4), or returns a trap.
type kvLower func(c *coreCall, ret uint32, err error) error

func lowerKV2(c *coreCall, ret uint32, err error) error {
	e, trap := kvErr(err)
	if trap != nil {
		return trap
	}
	return c.g.putResultErr(ret, 4, e)
}

func lowerLegacyKV(c *coreCall, ret uint32, err error) error {
	return c.g.putResultErr(ret, 4, legacyKVErr(err))
}

func lowerWASIKV(c *coreCall, ret uint32, err error) error {
	return c.g.putResultErr(ret, 4, wasiKVErr(err))
}

// The key-value functions shared by key-value@2.0.0, the unversioned
// key-value and wasi:keyvalue (handle first, return area last).

func coreKVOpen(lower kvLower) coreImport {
	return coreImport{3, func(c *coreCall) error {
		label, err := c.str(0)
		if err != nil {
			return err
		}
		ret := c.u(2)
		h, err := c.st.kv.Open(c.ctx, label)
		if err != nil {
			return lower(c, ret, err)
		}
		return okU32(c, ret, h)
	}}
}

func coreKVGet(lower kvLower) coreImport {
	return coreImport{4, func(c *coreCall) error {
		key, err := c.str(1)
		if err != nil {
			return err
		}
		ret := c.u(3)
		v, found, err := c.st.kv.Get(c.ctx, c.u(0), key)
		if err != nil {
			return lower(c, ret, err)
		}
		return okOptionBytes(c, ret, v, found)
	}}
}

func coreKVSet(lower kvLower) coreImport {
	return coreImport{6, func(c *coreCall) error {
		key, val, err := c.strBytes(1)
		if err != nil {
			return err
		}
		if err := c.st.kv.Set(c.ctx, c.u(0), key, val); err != nil {
			return lower(c, c.u(5), err)
		}
		return c.ok(c.u(5))
	}}
}

func coreKVDelete(lower kvLower) coreImport {
	return coreImport{4, func(c *coreCall) error {
		key, err := c.str(1)
		if err != nil {
			return err
		}
		if err := c.st.kv.Delete(c.ctx, c.u(0), key); err != nil {
			return lower(c, c.u(3), err)
		}
		return c.ok(c.u(3))
	}}
}

func coreKVExists(lower kvLower) coreImport {
	return coreImport{4, func(c *coreCall) error {
		key, err := c.str(1)
		if err != nil {
			return err
		}
		ret := c.u(3)
		ok, err := c.st.kv.Exists(c.ctx, c.u(0), key)
		if err != nil {
			return lower(c, ret, err)
		}
		return okBool(c, ret, ok)
	}}
}

func coreKVKeys(lower kvLower) coreImport {
	return coreImport{2, func(c *coreCall) error {
		ret := c.u(1)
		keys, err := c.st.kv.Keys(c.ctx, c.u(0))
		if err != nil {
			return lower(c, ret, err)
		}
		if err := c.ok(ret); err != nil {
			return err
		}
		return c.g.putStrings(ret+4, keys)
	}}
}

var coreKVDrop = coreImport{1, func(c *coreCall) error {
	c.st.kv.Drop(c.u(0))
	return nil
}}

func keyAndList(c *coreCall, n int) (string, []string, error) {
	key, err := c.str(n)
	if err != nil {
		return "", nil, err
	}
	vals, err := c.strs(n + 2)
	return key, vals, err
}
