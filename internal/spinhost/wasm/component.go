package wasm

import (
	"context"
	"errors"
	"fmt"

	"github.com/redspin/redspin/internal/spinhost/outredis"
	"github.com/redspin/redspin/internal/wasmtime"
)

// Host resource types (numbers chosen by redspin, unique per linker).
const (
	resConnection uint32 = 0x5350_0001 // fermyon:spin/redis@2.0.0 connection
	resStore      uint32 = 0x5350_0002 // fermyon:spin/key-value@2.0.0 store
	resBucket     uint32 = 0x5350_0003 // wasi:keyvalue/store bucket
	resCAS        uint32 = 0x5350_0004 // wasi:keyvalue/atomics cas
	resOther      uint32 = 0x5350_1000 // first type for resources redspin does not know
)

// wasi:keyvalue interfaces that share the bucket resource with
// wasi:keyvalue/store: they must be defined with the same resource type, or
// a component importing them cannot be instantiated at all.
const (
	modWASIKVAtomics = "wasi:keyvalue/atomics@0.2.0-draft2"
	modWASIKVBatch   = "wasi:keyvalue/batch@0.2.0-draft2"
)

// caller is what a component adapter needs of *wasmtime.ComponentCaller
// (an interface so the adapters can be tested without a store).
type caller interface {
	Data() any
	FromHost(owned bool, rep, ty uint32) (wasmtime.Val, error)
	ToHost(r *wasmtime.Resource) (rep, ty uint32, owned bool, err error)
}

// compFunc implements one component function: args lifted, results[0] to
// fill (every Spin function returns at most one value; close returns none).
type compFunc func(c caller, st *Instance, args []wasmtime.Val, results []wasmtime.Val) error

type compInterface struct {
	resources map[string]uint32 // resource name → type
	funcs     map[string]compFunc
}

// LinkComponent defines, on a component linker, every import in imports
// that these services implement: fermyon:spin/redis@2.0.0 (the connection
// resource), the unversioned fermyon:spin/redis and fermyon:spin/config,
// variables@2.0.0, key-value@2.0.0 (the store resource), the unversioned
// key-value, wasi:config/store and wasi:keyvalue/store. A function of such
// an interface that redspin does not know traps when called. It returns the
// import names it defined; the host links the rest.
//
// The functions find their per-message state through the store's data
// ([Holder]).
func (s *Services) LinkComponent(l *wasmtime.ComponentLinker, imports []wasmtime.ImportInfo) ([]string, error) {
	var todo []wasmtime.ImportInfo
	for _, imp := range imports {
		if _, ok := compInterfaces[imp.Name]; ok && imp.Instance && imp.HasFuncs && s.provides(imp.Name) {
			todo = append(todo, imp)
		}
	}
	if len(todo) == 0 {
		return nil, nil
	}
	root := l.Root()
	defer root.Close()
	var done []string
	for _, imp := range todo {
		if err := s.linkInterface(root, imp, compInterfaces[imp.Name]); err != nil {
			return done, fmt.Errorf("define %s: %w", imp.Name, err)
		}
		done = append(done, imp.Name)
	}
	return done, nil
}

func (s *Services) linkInterface(root *wasmtime.LinkerInstance, imp wasmtime.ImportInfo, ci compInterface) error {
	li, err := root.AddInstance(imp.Name)
	if err != nil {
		return err
	}
	defer li.Close()
	for i, r := range imp.Resources {
		ty, ok := ci.resources[r]
		if !ok {
			ty = resOther + uint32(i) // never created: its methods trap
		}
		if err := li.AddResource(r, ty, s.dropper(ty)); err != nil {
			return fmt.Errorf("resource %s: %w", r, err)
		}
	}
	for _, f := range imp.Funcs {
		fn, ok := ci.funcs[f]
		var hf wasmtime.ComponentHostFunc
		if ok {
			hf = s.componentFunc(imp.Name+"#"+f, fn)
		} else {
			name := imp.Name + "#" + f
			hf = func(*wasmtime.ComponentCaller, []wasmtime.Val, []wasmtime.Val) error {
				return fmt.Errorf("%s is not supported by redspin", name)
			}
		}
		if err := li.AddFunc(f, hf); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
	}
	return nil
}

func (s *Services) componentFunc(name string, fn compFunc) wasmtime.ComponentHostFunc {
	return func(c *wasmtime.ComponentCaller, args, results []wasmtime.Val) error {
		st, err := stateOf(c.Data())
		if err != nil {
			return err
		}
		if err := fn(c, st, args, results); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
}

func (s *Services) dropper(ty uint32) wasmtime.ResourceDestructor {
	return func(c *wasmtime.ComponentCaller, rep uint32) error {
		st, err := stateOf(c.Data())
		if err != nil {
			return err
		}
		dropRep(st, ty, rep)
		return nil
	}
}

func dropRep(st *Instance, ty, rep uint32) {
	switch ty {
	case resConnection:
		if st.redis != nil {
			st.redis.Drop(rep)
		}
	case resStore, resBucket:
		if st.kv != nil {
			st.kv.Drop(rep)
		}
	}
}

// Lifting helpers.

var errArgs = errors.New("unexpected argument shape")

func argStr(args []wasmtime.Val, i int) (string, error) {
	if i >= len(args) || args[i].Kind != wasmtime.CString {
		return "", errArgs
	}
	return args[i].Str, nil
}

func argBytes(args []wasmtime.Val, i int) ([]byte, error) {
	if i >= len(args) || args[i].Kind != wasmtime.CList {
		return nil, errArgs
	}
	if args[i].Bytes != nil {
		return args[i].Bytes, nil
	}
	if len(args[i].Elems) > 0 {
		b := make([]byte, len(args[i].Elems))
		for j, e := range args[i].Elems {
			b[j] = byte(e.Num)
		}
		return b, nil
	}
	return []byte{}, nil
}

// argStrBytes lifts a (string, list<u8>) pair of arguments, such as a key
// and its value, at i and i+1.
func argStrBytes(args []wasmtime.Val, i int) (string, []byte, error) {
	s, err := argStr(args, i)
	if err != nil {
		return "", nil, err
	}
	b, err := argBytes(args, i+1)
	return s, b, err
}

func argStrs(args []wasmtime.Val, i int) ([]string, error) {
	if i >= len(args) || args[i].Kind != wasmtime.CList {
		return nil, errArgs
	}
	out := make([]string, len(args[i].Elems))
	for j, e := range args[i].Elems {
		if e.Kind != wasmtime.CString {
			return nil, errArgs
		}
		out[j] = e.Str
	}
	return out, nil
}

func argParams(args []wasmtime.Val, i int) ([]outredis.Param, error) {
	if i >= len(args) || args[i].Kind != wasmtime.CList {
		return nil, errArgs
	}
	out := make([]outredis.Param, len(args[i].Elems))
	for j, e := range args[i].Elems {
		if e.Kind != wasmtime.CVariant || e.Payload == nil {
			return nil, errArgs
		}
		switch e.Str {
		case "int64":
			out[j] = outredis.IntParam(int64(e.Payload.Num))
		case "binary":
			b, err := argBytes([]wasmtime.Val{*e.Payload}, 0)
			if err != nil {
				return nil, err
			}
			out[j] = outredis.BinaryParam(b)
		default:
			return nil, fmt.Errorf("unknown redis-parameter case %q", e.Str)
		}
	}
	return out, nil
}

// argHandle returns the rep of a borrowed (or owned) host resource of type
// ty.
func argHandle(c caller, args []wasmtime.Val, i int, ty uint32) (uint32, error) {
	if i >= len(args) || args[i].Kind != wasmtime.CResource || args[i].Resource == nil {
		return 0, errArgs
	}
	rep, got, _, err := c.ToHost(args[i].Resource)
	if err != nil {
		return 0, err
	}
	if got != ty {
		return 0, fmt.Errorf("resource of type %#x, want %#x", got, ty)
	}
	return rep, nil
}

// Lowering helpers.

func okV(p *wasmtime.Val) wasmtime.Val { return wasmtime.OkVal(p) }

func ptr(v wasmtime.Val) *wasmtime.Val { return &v }

func errV(names []string, e errCase) wasmtime.Val {
	var payload *wasmtime.Val
	if e.hasMsg {
		payload = ptr(wasmtime.Str(e.msg))
	}
	return wasmtime.ErrVal(ptr(wasmtime.Variant(names[e.idx], payload)))
}

func boolV(b bool) wasmtime.Val {
	v := wasmtime.Val{Kind: wasmtime.CBool}
	if b {
		v.Num = 1
	}
	return v
}

func bytesV(b []byte) wasmtime.Val {
	if b == nil {
		b = []byte{}
	}
	return wasmtime.Bytes(b)
}

func strsV(ss []string) wasmtime.Val {
	v := wasmtime.Val{Kind: wasmtime.CList, Elems: make([]wasmtime.Val, len(ss))}
	for i, s := range ss {
		v.Elems[i] = wasmtime.Str(s)
	}
	return v
}

func optBytesV(b []byte, some bool) wasmtime.Val {
	if !some {
		return wasmtime.None()
	}
	return wasmtime.Some(bytesV(b))
}

func resultsV(rs []outredis.Result) wasmtime.Val {
	v := wasmtime.Val{Kind: wasmtime.CList, Elems: make([]wasmtime.Val, len(rs))}
	for i, r := range rs {
		switch r.Kind {
		case outredis.ResultNil:
			v.Elems[i] = wasmtime.Variant("nil", nil)
		case outredis.ResultStatus:
			v.Elems[i] = wasmtime.Variant("status", ptr(wasmtime.Str(r.Status)))
		case outredis.ResultInt64:
			v.Elems[i] = wasmtime.Variant("int64", ptr(wasmtime.S64(r.Int64)))
		default:
			v.Elems[i] = wasmtime.Variant("binary", ptr(bytesV(r.Binary)))
		}
	}
	return v
}

// legacyErrV is the unversioned redis error enum's error case.
func legacyErrV() wasmtime.Val { return wasmtime.ErrVal(ptr(wasmtime.Enum("error"))) }

// compInterfaces maps interface → implementation.
var compInterfaces = map[string]compInterface{
	modRedis2:     {resources: map[string]uint32{"connection": resConnection}, funcs: redis2Funcs},
	modRedis:      {funcs: redisLegacyFuncs},
	modVariables2: {funcs: map[string]compFunc{"get": varsGet(varsCaseNames, varsErr)}},
	modConfig:     {funcs: map[string]compFunc{"get-config": varsGet(configCaseNames, configErr)}},
	modWASIConfig: {funcs: wasiConfigFuncs},
	modKV2:        {resources: map[string]uint32{"store": resStore}, funcs: kv2Funcs},
	modKV:         {funcs: kvLegacyFuncs},
	modWASIKV:     {resources: map[string]uint32{"bucket": resBucket}, funcs: wasiKVFuncs},
	// atomics (increment, compare-and-swap) is not implemented: its
	// functions trap, but its bucket is the store's.
	modWASIKVAtomics: {resources: map[string]uint32{"bucket": resBucket, "cas": resCAS}},
	modWASIKVBatch:   {resources: map[string]uint32{"bucket": resBucket}, funcs: wasiKVBatchFuncs},

	// Outbound HTTP (http.go).
	modHTTP: {funcs: httpCompFuncs},
}

// redisMethod makes a 2.0.0 connection method: the handle is the first
// argument and errors are the 2.0.0 variant.
func redisMethod(body redisBody) compFunc {
	return resourceMethod(resConnection, redisCaseNames, noTrap(redisErr), body)
}

// redisBody is a connection method after the handle: it returns the ok
// value (a result) or the error.
type redisBody func(st *Instance, h uint32, args []wasmtime.Val) (wasmtime.Val, error)

func redisPublish(st *Instance, h uint32, args []wasmtime.Val) (wasmtime.Val, error) {
	ch, payload, err := argStrBytes(args, 1)
	if err != nil {
		return wasmtime.Val{}, err
	}
	return okV(nil), st.redis.Publish(st.ctx, h, ch, payload)
}

// byteStore is the get and set that a Redis connection and a key-value
// store share (by handle, a string key, bytes).
type byteStore interface {
	Get(ctx context.Context, h uint32, key string) ([]byte, bool, error)
	Set(ctx context.Context, h uint32, key string, val []byte) error
}

// storeGet is get(key) -> option<list<u8>> on the store of picks.
func storeGet(pick func(*Instance) byteStore) redisBody {
	return func(st *Instance, h uint32, args []wasmtime.Val) (wasmtime.Val, error) {
		key, err := argStr(args, 1)
		if err != nil {
			return wasmtime.Val{}, err
		}
		v, ok, err := pick(st).Get(st.ctx, h, key)
		return okV(ptr(optBytesV(v, ok))), err
	}
}

// storeSet is set(key, value) on the store pick returns.
func storeSet(pick func(*Instance) byteStore) redisBody {
	return func(st *Instance, h uint32, args []wasmtime.Val) (wasmtime.Val, error) {
		key, val, err := argStrBytes(args, 1)
		if err != nil {
			return wasmtime.Val{}, err
		}
		return okV(nil), pick(st).Set(st.ctx, h, key, val)
	}
}

func redisOf(st *Instance) byteStore { return st.redis }

func kvOf(st *Instance) byteStore { return st.kv }

var (
	redisGet = storeGet(redisOf)
	redisSet = storeSet(redisOf)
	kvGet    = storeGet(kvOf)
	kvSet    = storeSet(kvOf)
)

func redisIncr(st *Instance, h uint32, args []wasmtime.Val) (wasmtime.Val, error) {
	key, err := argStr(args, 1)
	if err != nil {
		return wasmtime.Val{}, err
	}
	n, err := st.redis.Incr(st.ctx, h, key)
	return okV(ptr(wasmtime.S64(n))), err
}

func redisDel(st *Instance, h uint32, args []wasmtime.Val) (wasmtime.Val, error) {
	keys, err := argStrs(args, 1)
	if err != nil {
		return wasmtime.Val{}, err
	}
	n, err := st.redis.Del(st.ctx, h, keys)
	return okV(ptr(wasmtime.U32(uint32(n)))), err
}

// redisSetCmd is sadd or srem.
func redisSetCmd(op func(i *outredis.Instance) func(ctx context.Context, h uint32, key string, vals []string) (int64, error)) redisBody {
	return func(st *Instance, h uint32, args []wasmtime.Val) (wasmtime.Val, error) {
		key, vals, err := keyStrs(args, 1)
		if err != nil {
			return wasmtime.Val{}, err
		}
		n, err := op(st.redis)(st.ctx, h, key, vals)
		return okV(ptr(wasmtime.U32(uint32(n)))), err
	}
}

var (
	redisSAdd = redisSetCmd(func(i *outredis.Instance) func(context.Context, uint32, string, []string) (int64, error) {
		return i.SAdd
	})
	redisSRem = redisSetCmd(func(i *outredis.Instance) func(context.Context, uint32, string, []string) (int64, error) {
		return i.SRem
	})
)

func redisSMembers(st *Instance, h uint32, args []wasmtime.Val) (wasmtime.Val, error) {
	key, err := argStr(args, 1)
	if err != nil {
		return wasmtime.Val{}, err
	}
	m, err := st.redis.SMembers(st.ctx, h, key)
	return okV(ptr(strsV(m))), err
}

func redisExecute(st *Instance, h uint32, args []wasmtime.Val) (wasmtime.Val, error) {
	cmd, err := argStr(args, 1)
	if err != nil {
		return wasmtime.Val{}, err
	}
	params, err := argParams(args, 2)
	if err != nil {
		return wasmtime.Val{}, err
	}
	rs, err := st.redis.Execute(st.ctx, h, cmd, params)
	return okV(ptr(resultsV(rs))), err
}

var redis2Funcs = map[string]compFunc{
	"[static]connection.open": func(c caller, st *Instance, args, results []wasmtime.Val) error {
		addr, err := argStr(args, 0)
		if err != nil {
			return err
		}
		h, err := st.redis.Open(st.ctx, addr)
		if err != nil {
			results[0] = errV(redisCaseNames, redisErr(err))
			return nil
		}
		res, err := c.FromHost(true, h, resConnection)
		if err != nil {
			st.redis.Drop(h)
			return err
		}
		results[0] = okV(&res)
		return nil
	},
	"[method]connection.publish":  redisMethod(redisPublish),
	"[method]connection.get":      redisMethod(redisGet),
	"[method]connection.set":      redisMethod(redisSet),
	"[method]connection.incr":     redisMethod(redisIncr),
	"[method]connection.del":      redisMethod(redisDel),
	"[method]connection.sadd":     redisMethod(redisSAdd),
	"[method]connection.srem":     redisMethod(redisSRem),
	"[method]connection.smembers": redisMethod(redisSMembers),
	"[method]connection.execute":  redisMethod(redisExecute),
}

func keyStrs(args []wasmtime.Val, i int) (string, []string, error) {
	key, err := argStr(args, i)
	if err != nil {
		return "", nil, err
	}
	vals, err := argStrs(args, i+1)
	return key, vals, err
}

// legacyRedis makes an unversioned redis function from the 2.0.0 method:
// the address (first argument, where the method has its handle) opens a
// connection for the one call, every error is the enum's error case, and
// conv (if set) turns the 2.0.0 ok value into the unversioned one.
func legacyRedis(body redisBody, conv func(wasmtime.Val) wasmtime.Val) compFunc {
	return func(_ caller, st *Instance, args, results []wasmtime.Val) error {
		addr, err := argStr(args, 0)
		if err != nil {
			return err
		}
		var v wasmtime.Val
		_, err = outredis.WithConn(st.ctx, st.redis.Legacy(), addr, func(h uint32) (struct{}, error) {
			var err error
			v, err = body(st, h, args)
			return struct{}{}, err
		})
		if errors.Is(err, errArgs) {
			return err
		}
		if err != nil {
			results[0] = legacyErrV()
			return nil
		}
		if conv != nil && v.Payload != nil {
			v = okV(ptr(conv(*v.Payload)))
		}
		results[0] = v
		return nil
	}
}

// optionToList: the unversioned get returns an empty list for a missing key.
func optionToList(v wasmtime.Val) wasmtime.Val {
	if v.Payload == nil {
		return bytesV(nil)
	}
	return *v.Payload
}

// u32ToS64: the unversioned counts are s64.
func u32ToS64(v wasmtime.Val) wasmtime.Val { return wasmtime.S64(int64(v.Num)) }

var redisLegacyFuncs = map[string]compFunc{
	"publish":  legacyRedis(redisPublish, nil),
	"get":      legacyRedis(redisGet, optionToList),
	"set":      legacyRedis(redisSet, nil),
	"incr":     legacyRedis(redisIncr, nil),
	"del":      legacyRedis(redisDel, u32ToS64),
	"sadd":     legacyRedis(redisSAdd, u32ToS64),
	"srem":     legacyRedis(redisSRem, u32ToS64),
	"smembers": legacyRedis(redisSMembers, nil),
	"execute":  legacyRedis(redisExecute, nil),
}

func varsGet(names []string, lower func(error) errCase) compFunc {
	return func(_ caller, st *Instance, args, results []wasmtime.Val) error {
		name, err := argStr(args, 0)
		if err != nil {
			return err
		}
		v, err := st.svc.Vars.Get(st.ctx, name)
		if err != nil {
			results[0] = errV(names, lower(err))
			return nil
		}
		results[0] = okV(ptr(wasmtime.Str(v)))
		return nil
	}
}

var wasiConfigFuncs = map[string]compFunc{
	"get": func(_ caller, st *Instance, args, results []wasmtime.Val) error {
		key, err := argStr(args, 0)
		if err != nil {
			return err
		}
		v, ok, err := st.svc.Vars.WASIGet(st.ctx, key)
		switch {
		case err != nil:
			results[0] = errV(wasiConfigCaseNames, wasiConfigErr(err))
		case ok:
			results[0] = okV(ptr(wasmtime.Some(wasmtime.Str(v))))
		default:
			results[0] = okV(ptr(wasmtime.None()))
		}
		return nil
	},
	"get-all": func(_ caller, st *Instance, _, results []wasmtime.Val) error {
		all, err := st.svc.Vars.GetAll(st.ctx)
		if err != nil {
			results[0] = errV(wasiConfigCaseNames, wasiConfigErr(err))
			return nil
		}
		list := wasmtime.Val{Kind: wasmtime.CList, Elems: make([]wasmtime.Val, len(all))}
		for i, kv := range all {
			list.Elems[i] = wasmtime.Val{Kind: wasmtime.CTuple, Elems: []wasmtime.Val{wasmtime.Str(kv[0]), wasmtime.Str(kv[1])}}
		}
		results[0] = okV(&list)
		return nil
	},
}

// resourceMethod wraps a method of a resource of type ty (a Redis
// connection, a key-value store or bucket), lowering errors with lower
// (names for the variant's cases).
func resourceMethod(ty uint32, names []string, lower func(error) (errCase, error),
	body func(st *Instance, h uint32, args []wasmtime.Val) (wasmtime.Val, error)) compFunc {
	return func(c caller, st *Instance, args, results []wasmtime.Val) error {
		h, err := argHandle(c, args, 0, ty)
		if err != nil {
			return err
		}
		v, err := body(st, h, args)
		if errors.Is(err, errArgs) {
			return err
		}
		if err != nil {
			e, trap := lower(err)
			if trap != nil {
				return trap
			}
			results[0] = errV(names, e)
			return nil
		}
		results[0] = v
		return nil
	}
}

// kvOpen opens a store resource of type ty.
func kvOpen(ty uint32, names []string, lower func(error) (errCase, error)) compFunc {
	return func(c caller, st *Instance, args, results []wasmtime.Val) error {
		label, err := argStr(args, 0)
		if err != nil {
			return err
		}
		h, err := st.kv.Open(st.ctx, label)
		if err != nil {
			e, trap := lower(err)
			if trap != nil {
				return trap
			}
			results[0] = errV(names, e)
			return nil
		}
		res, err := c.FromHost(true, h, ty)
		if err != nil {
			st.kv.Drop(h)
			return err
		}
		results[0] = okV(&res)
		return nil
	}
}

func kvDelete(st *Instance, h uint32, args []wasmtime.Val) (wasmtime.Val, error) {
	key, err := argStr(args, 1)
	if err != nil {
		return wasmtime.Val{}, err
	}
	return okV(nil), st.kv.Delete(st.ctx, h, key)
}

func kvExists(st *Instance, h uint32, args []wasmtime.Val) (wasmtime.Val, error) {
	key, err := argStr(args, 1)
	if err != nil {
		return wasmtime.Val{}, err
	}
	ok, err := st.kv.Exists(st.ctx, h, key)
	return okV(ptr(boolV(ok))), err
}

func kvKeys(st *Instance, h uint32, _ []wasmtime.Val) (wasmtime.Val, error) {
	keys, err := st.kv.Keys(st.ctx, h)
	return okV(ptr(strsV(keys))), err
}

var kv2Funcs = map[string]compFunc{
	"[static]store.open":     kvOpen(resStore, kvCaseNames, kvErr),
	"[method]store.get":      resourceMethod(resStore, kvCaseNames, kvErr, kvGet),
	"[method]store.set":      resourceMethod(resStore, kvCaseNames, kvErr, kvSet),
	"[method]store.delete":   resourceMethod(resStore, kvCaseNames, kvErr, kvDelete),
	"[method]store.exists":   resourceMethod(resStore, kvCaseNames, kvErr, kvExists),
	"[method]store.get-keys": resourceMethod(resStore, kvCaseNames, kvErr, kvKeys),
}

func noTrap(f func(error) errCase) func(error) (errCase, error) {
	return func(err error) (errCase, error) { return f(err), nil }
}

var wasiKVFuncs = map[string]compFunc{
	"open":                  kvOpen(resBucket, wasiKVCaseNames, noTrap(wasiKVErr)),
	"[method]bucket.get":    resourceMethod(resBucket, wasiKVCaseNames, noTrap(wasiKVErr), kvGet),
	"[method]bucket.set":    resourceMethod(resBucket, wasiKVCaseNames, noTrap(wasiKVErr), kvSet),
	"[method]bucket.delete": resourceMethod(resBucket, wasiKVCaseNames, noTrap(wasiKVErr), kvDelete),
	"[method]bucket.exists": resourceMethod(resBucket, wasiKVCaseNames, noTrap(wasiKVErr), kvExists),
	"[method]bucket.list-keys": resourceMethod(resBucket, wasiKVCaseNames, noTrap(wasiKVErr), func(st *Instance, h uint32, args []wasmtime.Val) (wasmtime.Val, error) {
		var cursor *string
		if len(args) > 1 && args[1].Kind == wasmtime.COption && args[1].Payload != nil {
			s := args[1].Payload.Str
			cursor = &s
		}
		keys, err := st.kv.ListKeys(st.ctx, h, cursor)
		resp := wasmtime.Val{Kind: wasmtime.CRecord, Names: []string{"keys", "cursor"}, Elems: []wasmtime.Val{strsV(keys), wasmtime.None()}}
		return okV(&resp), err
	}),
}

// legacyKV wraps an unversioned key-value function (store handle first).
func legacyKV(body func(st *Instance, h uint32, args []wasmtime.Val) (wasmtime.Val, error)) compFunc {
	return func(_ caller, st *Instance, args, results []wasmtime.Val) error {
		if len(args) == 0 || args[0].Kind != wasmtime.CU32 {
			return errArgs
		}
		v, err := body(st, uint32(args[0].Num), args)
		if errors.Is(err, errArgs) {
			return err
		}
		if err != nil {
			results[0] = errV(legacyKVCaseNames, legacyKVErr(err))
			return nil
		}
		results[0] = v
		return nil
	}
}

var kvLegacyFuncs = map[string]compFunc{
	"open": func(_ caller, st *Instance, args, results []wasmtime.Val) error {
		name, err := argStr(args, 0)
		if err != nil {
			return err
		}
		h, err := st.kv.Open(st.ctx, name)
		if err != nil {
			results[0] = errV(legacyKVCaseNames, legacyKVErr(err))
			return nil
		}
		results[0] = okV(ptr(wasmtime.U32(h)))
		return nil
	},
	"get": legacyKV(func(st *Instance, h uint32, args []wasmtime.Val) (wasmtime.Val, error) {
		key, err := argStr(args, 1)
		if err != nil {
			return wasmtime.Val{}, err
		}
		v, err := st.kv.LegacyGet(st.ctx, h, key)
		return okV(ptr(bytesV(v))), err
	}),
	"set":      legacyKV(kvSet),
	"delete":   legacyKV(kvDelete),
	"exists":   legacyKV(kvExists),
	"get-keys": legacyKV(kvKeys),
	"close": func(_ caller, st *Instance, args, _ []wasmtime.Val) error {
		if len(args) == 0 || args[0].Kind != wasmtime.CU32 {
			return errArgs
		}
		st.kv.Drop(uint32(args[0].Num))
		return nil
	},
}

// wasi:keyvalue/batch: the store operations key by key. get-many returns
// the keys that exist, as Spin does.
var wasiKVBatchFuncs = map[string]compFunc{
	"get-many": resourceMethod(resBucket, wasiKVCaseNames, noTrap(wasiKVErr), func(st *Instance, h uint32, args []wasmtime.Val) (wasmtime.Val, error) {
		keys, err := argStrs(args, 1)
		if err != nil {
			return wasmtime.Val{}, err
		}
		list := wasmtime.Val{Kind: wasmtime.CList, Elems: []wasmtime.Val{}}
		for _, k := range keys {
			v, ok, err := st.kv.Get(st.ctx, h, k)
			if err != nil {
				return wasmtime.Val{}, err
			}
			if ok {
				list.Elems = append(list.Elems, wasmtime.Val{Kind: wasmtime.CTuple, Elems: []wasmtime.Val{wasmtime.Str(k), wasmtime.Some(bytesV(v))}})
			}
		}
		return okV(&list), nil
	}),
	"set-many": resourceMethod(resBucket, wasiKVCaseNames, noTrap(wasiKVErr), func(st *Instance, h uint32, args []wasmtime.Val) (wasmtime.Val, error) {
		if len(args) < 2 || args[1].Kind != wasmtime.CList {
			return wasmtime.Val{}, errArgs
		}
		for _, kv := range args[1].Elems {
			if kv.Kind != wasmtime.CTuple || len(kv.Elems) != 2 {
				return wasmtime.Val{}, errArgs
			}
			k, err := argStr(kv.Elems, 0)
			if err != nil {
				return wasmtime.Val{}, err
			}
			v, err := argBytes(kv.Elems, 1)
			if err != nil {
				return wasmtime.Val{}, err
			}
			if err := st.kv.Set(st.ctx, h, k, v); err != nil {
				return wasmtime.Val{}, err
			}
		}
		return okV(nil), nil
	}),
	"delete-many": resourceMethod(resBucket, wasiKVCaseNames, noTrap(wasiKVErr), func(st *Instance, h uint32, args []wasmtime.Val) (wasmtime.Val, error) {
		keys, err := argStrs(args, 1)
		if err != nil {
			return wasmtime.Val{}, err
		}
		for _, k := range keys {
			if err := st.kv.Delete(st.ctx, h, k); err != nil {
				return wasmtime.Val{}, err
			}
		}
		return okV(nil), nil
	}),
}
