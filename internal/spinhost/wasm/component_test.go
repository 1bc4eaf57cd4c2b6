package wasm

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"

	"github.com/redspin/redspin/internal/spinhost/kv"
	"github.com/redspin/redspin/internal/wasmtime"
)

// fakeCaller stands in for *wasmtime.ComponentCaller: host resources are
// plain values.
type fakeCaller struct{ st *Instance }

func (f fakeCaller) Data() any { return f.st }

func (fakeCaller) FromHost(owned bool, rep, ty uint32) (wasmtime.Val, error) {
	return wasmtime.Val{Kind: wasmtime.CResource, Resource: &wasmtime.Resource{Host: true, Owned: owned, Rep: rep, Type: ty}}, nil
}

func (fakeCaller) ToHost(r *wasmtime.Resource) (uint32, uint32, bool, error) {
	return r.Rep, r.Type, r.Owned, nil
}

// call runs iface#fn with args and returns its result value.
func call(t *testing.T, c fakeCaller, iface, fn string, args ...wasmtime.Val) wasmtime.Val {
	t.Helper()
	f, ok := compInterfaces[iface].funcs[fn]
	if !ok {
		t.Fatalf("no %s#%s", iface, fn)
	}
	results := make([]wasmtime.Val, 1)
	if err := f(c, c.st, args, results); err != nil {
		t.Fatalf("%s#%s: %v", iface, fn, err)
	}
	return results[0]
}

func wantOK(t *testing.T, v wasmtime.Val) *wasmtime.Val {
	t.Helper()
	if v.Kind != wasmtime.CResult || !v.Ok {
		t.Fatalf("want ok, got %+v (payload %+v)", v, v.Payload)
	}
	return v.Payload
}

func wantErr(t *testing.T, v wasmtime.Val, kind wasmtime.CKind, cse, msgPart string) {
	t.Helper()
	if v.Kind != wasmtime.CResult || v.Ok || v.Payload == nil {
		t.Fatalf("want err, got %+v", v)
	}
	p := v.Payload
	if p.Kind != kind || p.Str != cse {
		t.Fatalf("want err(%s), got %+v", cse, p)
	}
	if msgPart != "" && (p.Payload == nil || !strings.Contains(p.Payload.Str, msgPart)) {
		t.Fatalf("err(%s) payload %+v lacks %q", cse, p.Payload, msgPart)
	}
}

func TestComponentRedis(t *testing.T) {
	mr := miniredis.RunT(t)
	svc := testServices(t)
	st := svc.NewInstance(context.Background())
	defer st.Close()
	c := fakeCaller{st}
	addr := wasmtime.Str("redis://" + mr.Addr())

	conn := wantOK(t, call(t, c, modRedis2, "[static]connection.open", addr))
	if conn.Kind != wasmtime.CResource || conn.Resource.Type != resConnection || !conn.Resource.Owned {
		t.Fatalf("open returned %+v", conn)
	}
	self := *conn
	wantOK(t, call(t, c, modRedis2, "[method]connection.set", self, wasmtime.Str("k"), wasmtime.Bytes([]byte("v"))))
	got := wantOK(t, call(t, c, modRedis2, "[method]connection.get", self, wasmtime.Str("k")))
	if got.Kind != wasmtime.COption || got.Payload == nil || string(got.Payload.Bytes) != "v" {
		t.Fatalf("get = %+v", got)
	}
	got = wantOK(t, call(t, c, modRedis2, "[method]connection.get", self, wasmtime.Str("nope")))
	if got.Kind != wasmtime.COption || got.Payload != nil {
		t.Fatalf("get missing = %+v", got)
	}
	n := wantOK(t, call(t, c, modRedis2, "[method]connection.incr", self, wasmtime.Str("n")))
	if n.Kind != wasmtime.CS64 || n.Num != 1 {
		t.Fatalf("incr = %+v", n)
	}
	keys := wasmtime.Val{Kind: wasmtime.CList, Elems: []wasmtime.Val{wasmtime.Str("a"), wasmtime.Str("b")}}
	n = wantOK(t, call(t, c, modRedis2, "[method]connection.sadd", self, wasmtime.Str("s"), keys))
	if n.Kind != wasmtime.CU32 || n.Num != 2 {
		t.Fatalf("sadd = %+v", n)
	}
	m := wantOK(t, call(t, c, modRedis2, "[method]connection.smembers", self, wasmtime.Str("s")))
	if len(m.Elems) != 2 || m.Elems[0].Str != "a" {
		t.Fatalf("smembers = %+v", m)
	}
	wantErr(t, call(t, c, modRedis2, "[method]connection.sadd", self, wasmtime.Str("k"), keys), wasmtime.CVariant, "type-error", "")
	params := wasmtime.Val{Kind: wasmtime.CList, Elems: []wasmtime.Val{
		wasmtime.Variant("binary", ptr(wasmtime.Bytes([]byte("x")))),
		wasmtime.Variant("int64", ptr(wasmtime.S64(-7))),
	}}
	wantOK(t, call(t, c, modRedis2, "[method]connection.execute", self, wasmtime.Str("SET"), params))
	res := wantOK(t, call(t, c, modRedis2, "[method]connection.execute", self, wasmtime.Str("GET"),
		wasmtime.Val{Kind: wasmtime.CList, Elems: []wasmtime.Val{wasmtime.Variant("binary", ptr(wasmtime.Bytes([]byte("x"))))}}))
	if len(res.Elems) != 1 || res.Elems[0].Str != "binary" || string(res.Elems[0].Payload.Bytes) != "-7" {
		t.Fatalf("execute GET = %+v", res)
	}
	res = wantOK(t, call(t, c, modRedis2, "[method]connection.execute", self, wasmtime.Str("PING"), wasmtime.Val{Kind: wasmtime.CList}))
	if res.Elems[0].Str != "status" || res.Elems[0].Payload.Str != "PONG" {
		t.Fatalf("execute PING = %+v", res)
	}
	wantErr(t, call(t, c, modRedis2, "[method]connection.execute", self, wasmtime.Str("NOPE"), wasmtime.Val{Kind: wasmtime.CList}),
		wasmtime.CVariant, "other", "unknown command")
	n = wantOK(t, call(t, c, modRedis2, "[method]connection.del", self, keys))
	if n.Kind != wasmtime.CU32 {
		t.Fatalf("del = %+v", n)
	}
	wantErr(t, call(t, c, modRedis2, "[static]connection.open", wasmtime.Str("redis://denied.example")), wasmtime.CVariant, "invalid-address", "")

	dropRep(st, resConnection, self.Resource.Rep)
	if st.redis.Len() != 0 {
		t.Fatal("resource drop left the connection open")
	}

	// Unversioned: address per call, errors are the enum.
	wantOK(t, call(t, c, modRedis, "set", addr, wasmtime.Str("k2"), wasmtime.Bytes([]byte("v2"))))
	v := wantOK(t, call(t, c, modRedis, "get", addr, wasmtime.Str("k2")))
	if string(v.Bytes) != "v2" {
		t.Fatalf("legacy get = %+v", v)
	}
	v = wantOK(t, call(t, c, modRedis, "get", addr, wasmtime.Str("none")))
	if v.Kind != wasmtime.CList || v.Bytes == nil || len(v.Bytes) != 0 {
		t.Fatalf("legacy get missing = %+v, want empty list", v)
	}
	v = wantOK(t, call(t, c, modRedis, "incr", addr, wasmtime.Str("n")))
	if v.Kind != wasmtime.CS64 || v.Num != 2 {
		t.Fatalf("legacy incr = %+v", v)
	}
	wantErr(t, call(t, c, modRedis, "incr", wasmtime.Str("redis://denied.example"), wasmtime.Str("n")), wasmtime.CEnum, "error", "")
	wantOK(t, call(t, c, modRedis, "publish", addr, wasmtime.Str("ch"), wasmtime.Val{Kind: wasmtime.CList}))
}

func TestComponentVariables(t *testing.T) {
	svc := testServices(t)
	st := svc.NewInstance(context.Background())
	defer st.Close()
	c := fakeCaller{st}

	v := wantOK(t, call(t, c, modVariables2, "get", wasmtime.Str("greeting")))
	if v.Str != "hello world" {
		t.Fatalf("get = %+v", v)
	}
	wantErr(t, call(t, c, modVariables2, "get", wasmtime.Str("nope")), wasmtime.CVariant, "undefined", `no variable for "guest"."nope"`)
	wantErr(t, call(t, c, modVariables2, "get", wasmtime.Str("Bad")), wasmtime.CVariant, "invalid-name", `"Bad"`)
	wantErr(t, call(t, c, modConfig, "get-config", wasmtime.Str("nope")), wasmtime.CVariant, "provider", "no variable for")
	wantErr(t, call(t, c, modConfig, "get-config", wasmtime.Str("Bad")), wasmtime.CVariant, "invalid-key", "")

	o := wantOK(t, call(t, c, modWASIConfig, "get", wasmtime.Str("greeting")))
	if o.Kind != wasmtime.COption || o.Payload == nil || o.Payload.Str != "hello world" {
		t.Fatalf("wasi get = %+v", o)
	}
	o = wantOK(t, call(t, c, modWASIConfig, "get", wasmtime.Str("nope")))
	if o.Kind != wasmtime.COption || o.Payload != nil {
		t.Fatalf("wasi get undefined = %+v", o)
	}
	all := wantOK(t, call(t, c, modWASIConfig, "get-all"))
	if len(all.Elems) != 1 || all.Elems[0].Kind != wasmtime.CTuple || all.Elems[0].Elems[1].Str != "hello world" {
		t.Fatalf("get-all = %+v", all)
	}
}

func TestComponentKeyValue(t *testing.T) {
	svc := testServices(t)
	st := svc.NewInstance(context.Background())
	defer st.Close()
	c := fakeCaller{st}

	s := *wantOK(t, call(t, c, modKV2, "[static]store.open", wasmtime.Str("default")))
	if s.Resource.Type != resStore {
		t.Fatalf("open = %+v", s)
	}
	wantOK(t, call(t, c, modKV2, "[method]store.set", s, wasmtime.Str("k"), wasmtime.Bytes([]byte("v"))))
	g := wantOK(t, call(t, c, modKV2, "[method]store.get", s, wasmtime.Str("k")))
	if g.Payload == nil || string(g.Payload.Bytes) != "v" {
		t.Fatalf("get = %+v", g)
	}
	e := wantOK(t, call(t, c, modKV2, "[method]store.exists", s, wasmtime.Str("k")))
	if e.Kind != wasmtime.CBool || e.Num != 1 {
		t.Fatalf("exists = %+v", e)
	}
	keys := wantOK(t, call(t, c, modKV2, "[method]store.get-keys", s))
	if len(keys.Elems) != 1 || keys.Elems[0].Str != "k" {
		t.Fatalf("get-keys = %+v", keys)
	}
	wantOK(t, call(t, c, modKV2, "[method]store.delete", s, wasmtime.Str("k")))
	wantErr(t, call(t, c, modKV2, "[static]store.open", wasmtime.Str("other")), wasmtime.CVariant, "access-denied", "")

	// Unversioned: u32 handles, missing key is no-such-key.
	h := wantOK(t, call(t, c, modKV, "open", wasmtime.Str("default")))
	if h.Kind != wasmtime.CU32 {
		t.Fatalf("open = %+v", h)
	}
	wantOK(t, call(t, c, modKV, "set", *h, wasmtime.Str("a"), wasmtime.Bytes([]byte("1"))))
	wantErr(t, call(t, c, modKV, "get", *h, wasmtime.Str("missing")), wasmtime.CVariant, "no-such-key", "")
	wantErr(t, call(t, c, modKV, "get", wasmtime.U32(999), wasmtime.Str("a")), wasmtime.CVariant, "invalid-store", "")
	call(t, c, modKV, "close", *h)

	// wasi:keyvalue.
	b := *wantOK(t, call(t, c, modWASIKV, "open", wasmtime.Str("default")))
	lk := wantOK(t, call(t, c, modWASIKV, "[method]bucket.list-keys", b, wasmtime.None()))
	if lk.Kind != wasmtime.CRecord || !slices.Equal(lk.Names, []string{"keys", "cursor"}) || len(lk.Elems[0].Elems) != 1 {
		t.Fatalf("list-keys = %+v", lk)
	}
	wantErr(t, call(t, c, modWASIKV, "[method]bucket.list-keys", b, wasmtime.Some(wasmtime.Str("c"))), wasmtime.CVariant, "other", "cursor not supported")
	wantErr(t, call(t, c, modWASIKV, "open", wasmtime.Str("nope")), wasmtime.CVariant, "access-denied", "")
}

func TestLinkComponentSelectsImports(t *testing.T) {
	engine, err := wasmtime.NewEngine(wasmtime.EngineConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close()
	l := wasmtime.NewComponentLinker(engine)
	defer l.Close()
	svc := testServices(t)
	svc.KV = nil // key-value not provided: left to the host
	done, err := svc.LinkComponent(l, []wasmtime.ImportInfo{
		{Name: modRedis2, Instance: true, HasFuncs: true, Resources: []string{"connection"},
			Funcs: []string{"[static]connection.open", "[method]connection.get", "[method]connection.future-thing"}},
		{Name: "fermyon:spin/redis-types", Instance: true},
		{Name: modKV2, Instance: true, HasFuncs: true, Resources: []string{"store"}, Funcs: []string{"[static]store.open"}},
		{Name: modVariables2, Instance: true, HasFuncs: true, Funcs: []string{"get"}},
		{Name: "wasi:http/types@0.2.0", Instance: true, HasFuncs: true, Funcs: []string{"x"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(done, []string{modRedis2, modVariables2}) {
		t.Fatalf("defined %q", done)
	}
}

func TestComponentKeyValueBatch(t *testing.T) {
	svc := testServices(t)
	st := svc.NewInstance(context.Background())
	defer st.Close()
	c := fakeCaller{st}
	b := *wantOK(t, call(t, c, modWASIKV, "open", wasmtime.Str("default")))
	pair := func(k, v string) wasmtime.Val {
		return wasmtime.Val{Kind: wasmtime.CTuple, Elems: []wasmtime.Val{wasmtime.Str(k), wasmtime.Bytes([]byte(v))}}
	}
	wantOK(t, call(t, c, modWASIKVBatch, "set-many", b, wasmtime.Val{Kind: wasmtime.CList, Elems: []wasmtime.Val{pair("a", "1"), pair("b", "2")}}))
	got := wantOK(t, call(t, c, modWASIKVBatch, "get-many", b, strsV([]string{"a", "zz", "b"})))
	if len(got.Elems) != 2 || got.Elems[1].Elems[0].Str != "b" || string(got.Elems[1].Elems[1].Payload.Bytes) != "2" {
		t.Fatalf("get-many = %+v", got)
	}
	wantOK(t, call(t, c, modWASIKVBatch, "delete-many", b, strsV([]string{"a", "b"})))
	keys := wantOK(t, call(t, c, modWASIKV, "[method]bucket.list-keys", b, wasmtime.None()))
	if len(keys.Elems[0].Elems) != 0 {
		t.Fatalf("keys after delete-many: %+v", keys)
	}
}

func TestLinkComponentSharedBucket(t *testing.T) {
	engine := newEngine(t)
	l := wasmtime.NewComponentLinker(engine)
	defer l.Close()
	done, err := testServices(t).LinkComponent(l, []wasmtime.ImportInfo{
		{Name: modWASIKV, Instance: true, HasFuncs: true, Resources: []string{"bucket"}, Funcs: []string{"open"}},
		{Name: modWASIKVAtomics, Instance: true, HasFuncs: true, Resources: []string{"bucket", "cas", "mystery"}, Funcs: []string{"increment"}},
		{Name: modWASIKVBatch, Instance: true, HasFuncs: true, Resources: []string{"bucket"}, Funcs: []string{"get-many"}},
	})
	if err != nil || len(done) != 3 {
		t.Fatalf("LinkComponent = %q %v", done, err)
	}
}

func TestNewServices(t *testing.T) {
	m, err := kv.New(kv.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	_, err = NewServices(ComponentConfig{ID: "w", AllowedOutboundHosts: []string{"nohost"}, KV: m, KeyValueStores: []string{"default", "missing"}})
	if err == nil || !strings.Contains(err.Error(), `component "w": allowed_outbound_hosts: "nohost"`) ||
		!strings.Contains(err.Error(), `unknown key_value_stores label "missing"`) {
		t.Fatalf("NewServices: %v", err)
	}
	svc, err := NewServices(ComponentConfig{ID: "w", AllowedOutboundHosts: []string{"redis://localhost"}, KV: m, KeyValueStores: []string{"default"}})
	if err != nil || svc.Redis == nil || svc.KV == nil || svc.Vars != nil {
		t.Fatalf("NewServices = %+v %v", svc, err)
	}
}

// A reused instance's next message must not hand out the handles of the
// previous one: a handle the guest kept in a global would otherwise name
// another message's store (instance reuse).
func TestStoreDataHandlesContinue(t *testing.T) {
	m, err := kv.New(kv.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	svc, err := NewServices(ComponentConfig{ID: "w", KV: m, KeyValueStores: []string{"default"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	open := func(data any) uint32 {
		t.Helper()
		h, err := data.(*Instance).kv.Open(ctx, "default")
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	first, end := svc.NewStoreData(ctx, nil)
	kept := open(first)
	end()
	next, end := svc.NewStoreData(ctx, first)
	defer end()
	if h := open(next); h == kept {
		t.Fatalf("the next message's store got handle %d again, the one the previous message gave out", h)
	}
	if _, _, err := next.(*Instance).kv.Get(ctx, kept, "k"); err == nil {
		t.Fatalf("the previous message's handle %d still names a store", kept)
	}
	// A store's first message starts afresh (the same numbers as before).
	fresh, endFresh := svc.NewStoreData(ctx, nil)
	defer endFresh()
	if h := open(fresh); h != kept {
		t.Fatalf("a fresh store's first handle = %d, want %d", h, kept)
	}
}
