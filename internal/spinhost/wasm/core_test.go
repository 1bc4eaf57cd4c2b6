package wasm

import (
	"context"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"

	"github.com/redspin/redspin/internal/spinhost/allowedhosts"
	"github.com/redspin/redspin/internal/spinhost/kv"
	"github.com/redspin/redspin/internal/spinhost/outredis"
	"github.com/redspin/redspin/internal/spinhost/vars"
	"github.com/redspin/redspin/internal/wasmtime"
)

// watBumpRealloc is a bump allocator $realloc for hand-written core
// modules, from 32 KiB up (never freeing).
const watBumpRealloc = `
  (global $heap (mut i32) (i32.const 32768))
  (func $realloc (param $old i32) (param $osz i32) (param $align i32) (param $nsz i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and
      (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
      (i32.sub (i32.const 0) (local.get $align))))
    (global.set $heap (i32.add (local.get $p) (local.get $nsz)))
    (local.get $p))`

// coreGuest is a hand-written core module that forwards each export to the
// import of the same name, so tests can drive the host functions through a
// real Wasmtime linker.
const coreGuest = `(module
  (import "outbound-redis" "set" (func $r1set (param i32 i32 i32 i32 i32 i32 i32)))
  (import "outbound-redis" "get" (func $r1get (param i32 i32 i32 i32 i32)))
  (import "outbound-redis" "incr" (func $r1incr (param i32 i32 i32 i32 i32)))
  (import "spin-config" "get-config" (func $cfg (param i32 i32 i32)))
  (import "fermyon:spin/redis@2.0.0" "[static]connection.open" (func $open (param i32 i32 i32)))
  (import "fermyon:spin/redis@2.0.0" "[method]connection.get" (func $get (param i32 i32 i32 i32)))
  (import "fermyon:spin/redis@2.0.0" "[method]connection.smembers" (func $smembers (param i32 i32 i32 i32)))
  (import "fermyon:spin/redis@2.0.0" "[resource-drop]connection" (func $drop (param i32)))
  (import "fermyon:spin/key-value@2.0.0" "[static]store.open" (func $kvopen (param i32 i32 i32)))
  (import "fermyon:spin/key-value@2.0.0" "[method]store.set" (func $kvset (param i32 i32 i32 i32 i32 i32)))
  (import "unsupported:thing/x" "f" (func $unsupported))
  (memory (export "memory") 1)
` + watBumpRealloc + `
  (export "canonical_abi_realloc" (func $realloc))
  (export "cabi_realloc" (func $realloc))
  (func (export "r1set") (param i32 i32 i32 i32 i32 i32 i32)
    local.get 0 local.get 1 local.get 2 local.get 3 local.get 4 local.get 5 local.get 6 call $r1set)
  (func (export "r1get") (param i32 i32 i32 i32 i32)
    local.get 0 local.get 1 local.get 2 local.get 3 local.get 4 call $r1get)
  (func (export "r1incr") (param i32 i32 i32 i32 i32)
    local.get 0 local.get 1 local.get 2 local.get 3 local.get 4 call $r1incr)
  (func (export "cfg") (param i32 i32 i32)
    local.get 0 local.get 1 local.get 2 call $cfg)
  (func (export "open") (param i32 i32 i32)
    local.get 0 local.get 1 local.get 2 call $open)
  (func (export "get") (param i32 i32 i32 i32)
    local.get 0 local.get 1 local.get 2 local.get 3 call $get)
  (func (export "smembers") (param i32 i32 i32 i32)
    local.get 0 local.get 1 local.get 2 local.get 3 call $smembers)
  (func (export "drop") (param i32)
    local.get 0 call $drop)
  (func (export "kvopen") (param i32 i32 i32)
    local.get 0 local.get 1 local.get 2 call $kvopen)
  (func (export "kvset") (param i32 i32 i32 i32 i32 i32)
    local.get 0 local.get 1 local.get 2 local.get 3 local.get 4 local.get 5 call $kvset)
)`

var coreGuestImports = []string{
	"outbound-redis#set", "outbound-redis#get", "outbound-redis#incr", "spin-config#get-config",
	"fermyon:spin/redis@2.0.0#[static]connection.open", "fermyon:spin/redis@2.0.0#[method]connection.get",
	"fermyon:spin/redis@2.0.0#[method]connection.smembers", "fermyon:spin/redis@2.0.0#[resource-drop]connection",
	"fermyon:spin/key-value@2.0.0#[static]store.open", "fermyon:spin/key-value@2.0.0#[method]store.set",
	"unsupported:thing/x#f",
}

func testServices(t *testing.T) *Services {
	t.Helper()
	allowed, err := allowedhosts.Parse([]string{"redis://127.0.0.1:*"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := kv.New(kv.Config{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return &Services{
		Component: "guest",
		Redis:     outredis.New(outredis.Config{Component: "guest", Allowed: allowed}),
		KV:        m.Component("guest", []string{"default"}),
		Vars: vars.New("guest", map[string]string{"greeting": "hello {{ who }}"}, func(_ context.Context, tmpl string) (string, error) {
			return strings.ReplaceAll(tmpl, "{{ who }}", "world"), nil
		}),
	}
}

// coreHarness is one instantiated coreGuest.
type coreHarness struct {
	t    *testing.T
	inst *wasmtime.Instance
	mem  wasmtime.Memory
	next uint32 // where the next input string goes
}

func newCoreHarness(t *testing.T, svc *Services) (*coreHarness, *Instance) {
	t.Helper()
	return newCoreHarnessOf(t, svc, coreGuest, coreGuestImports, len(coreGuestImports)-1)
}

// newCoreHarnessOf instantiates the module wat, whose imports are imports
// ("module#field"), of which svc must define want.
func newCoreHarnessOf(t *testing.T, svc *Services, wat string, imports []string, want int) (*coreHarness, *Instance) {
	t.Helper()
	engine, err := wasmtime.NewEngine(wasmtime.EngineConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = engine.Close() })
	wasm, err := wasmtime.Wat2Wasm(wat)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := wasmtime.NewModule(engine, wasm)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mod.Close() })
	linker := wasmtime.NewLinker(engine)
	t.Cleanup(func() { _ = linker.Close() })
	done, err := svc.LinkModule(linker, imports)
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != want {
		t.Fatalf("LinkModule defined %q", done)
	}
	if err := linker.DefineUnknownImportsAsTraps(mod); err != nil {
		t.Fatal(err)
	}
	pre, err := linker.InstantiatePre(mod)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pre.Close() })
	store := wasmtime.NewStore(engine)
	t.Cleanup(func() { _ = store.Close() })
	st := svc.NewInstance(context.Background())
	t.Cleanup(func() { _ = st.Close() })
	store.SetData(st)
	inst, err := pre.Instantiate(store)
	if err != nil {
		t.Fatal(err)
	}
	mem, _ := inst.Memory("memory")
	return &coreHarness{t: t, inst: inst, mem: mem, next: 1024}, st
}

// str copies s into guest memory and returns (ptr, len) as call arguments.
func (h *coreHarness) str(s string) []int32 {
	p := h.next
	copy(h.mem.Data()[p:], s)
	h.next += uint32(len(s)) + 8
	return []int32{int32(p), int32(len(s))}
}

const ret = 256

func (h *coreHarness) call(name string, args ...int32) []byte {
	h.t.Helper()
	clear(h.mem.Data()[ret : ret+32])
	f, ok := h.inst.Func(name)
	if !ok {
		h.t.Fatalf("no export %s", name)
	}
	if _, err := f.CallI32(0, args...); err != nil {
		h.t.Fatalf("%s: %v", name, err)
	}
	return append([]byte(nil), h.mem.Data()[ret:ret+32]...)
}

func (h *coreHarness) at(ptr, n uint32) string { return string(h.mem.Data()[ptr : ptr+n]) }

func cat(parts ...[]int32) []int32 {
	var out []int32
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }

func TestCoreModuleThroughWasmtime(t *testing.T) {
	mr := miniredis.RunT(t)
	svc := testServices(t)
	h, st := newCoreHarness(t, svc)
	addr := "redis://" + mr.Addr()

	// Spin 1.x outbound-redis set/get/incr, address per call.
	r := h.call("r1set", cat(h.str(addr), h.str("k"), h.str("v1"), []int32{ret})...)
	if r[0] != 0 {
		t.Fatalf("set: tag %d", r[0])
	}
	if v, _ := mr.Get("k"); v != "v1" {
		t.Fatalf("redis has %q", v)
	}
	r = h.call("r1get", cat(h.str(addr), h.str("k"), []int32{ret})...)
	if r[0] != 0 || h.at(le32(r[4:]), le32(r[8:])) != "v1" {
		t.Fatalf("get: % x", r[:12])
	}
	r = h.call("r1get", cat(h.str(addr), h.str("missing"), []int32{ret})...)
	if r[0] != 0 || le32(r[8:]) != 0 {
		t.Fatalf("get missing: % x (want ok, empty)", r[:12])
	}
	r = h.call("r1incr", cat(h.str(addr), h.str("n"), []int32{ret})...)
	if r[0] != 0 || binary.LittleEndian.Uint64(r[8:]) != 1 {
		t.Fatalf("incr: % x", r[:16])
	}
	// A denied address is err(error) with the enum after the tag's padding.
	r = h.call("r1incr", cat(h.str("redis://denied.example"), h.str("n"), []int32{ret})...)
	if r[0] != 1 || r[8] != 1 {
		t.Fatalf("denied incr: % x", r[:16])
	}
	if st.redis.Len() != 0 {
		t.Fatalf("legacy calls left %d connections", st.redis.Len())
	}

	// spin-config get-config.
	r = h.call("cfg", cat(h.str("greeting"), []int32{ret})...)
	if r[0] != 0 || h.at(le32(r[4:]), le32(r[8:])) != "hello world" {
		t.Fatalf("get-config: % x", r[:12])
	}
	r = h.call("cfg", cat(h.str("nope"), []int32{ret})...)
	if r[0] != 1 || r[4] != 0 || h.at(le32(r[8:]), le32(r[12:])) != `no variable for "guest"."nope"` {
		t.Fatalf("get-config undefined: % x %q", r[:16], h.at(le32(r[8:]), le32(r[12:])))
	}

	// fermyon:spin/redis@2.0.0 through canonical-ABI core imports.
	r = h.call("open", cat(h.str(addr), []int32{ret})...)
	if r[0] != 0 {
		t.Fatalf("open: % x", r[:16])
	}
	conn := int32(le32(r[4:]))
	r = h.call("get", cat([]int32{conn}, h.str("k"), []int32{ret})...)
	if r[0] != 0 || r[4] != 1 || h.at(le32(r[8:]), le32(r[12:])) != "v1" {
		t.Fatalf("v2 get: % x", r[:16])
	}
	r = h.call("get", cat([]int32{conn}, h.str("missing"), []int32{ret})...)
	if r[0] != 0 || r[4] != 0 {
		t.Fatalf("v2 get missing: % x", r[:16])
	}
	mr.SetAdd("set", "a", "b")
	r = h.call("smembers", cat([]int32{conn}, h.str("set"), []int32{ret})...)
	if r[0] != 0 || le32(r[8:]) != 2 {
		t.Fatalf("smembers: % x", r[:16])
	}
	list := le32(r[4:])
	m := h.mem.Data()
	got := []string{h.at(le32(m[list:]), le32(m[list+4:])), h.at(le32(m[list+8:]), le32(m[list+12:]))}
	if got[0] != "a" || got[1] != "b" {
		t.Fatalf("smembers = %q", got)
	}
	r = h.call("open", cat(h.str("redis://denied.example"), []int32{ret})...)
	if r[0] != 1 || r[4] != 0 {
		t.Fatalf("denied open: % x (want err(invalid-address))", r[:16])
	}
	h.call("drop", conn)
	if st.redis.Len() != 0 {
		t.Fatal("drop left the connection open")
	}
	// A dropped handle is other("could not find connection ...").
	r = h.call("get", cat([]int32{conn}, h.str("k"), []int32{ret})...)
	if r[0] != 1 || r[4] != 3 || !strings.Contains(h.at(le32(r[8:]), le32(r[12:])), "could not find connection") {
		t.Fatalf("get on dropped handle: % x", r[:16])
	}

	// key-value@2.0.0.
	r = h.call("kvopen", cat(h.str("default"), []int32{ret})...)
	if r[0] != 0 {
		t.Fatalf("kv open: % x", r[:16])
	}
	store := int32(le32(r[4:]))
	r = h.call("kvset", cat([]int32{store}, h.str("key"), h.str("val"), []int32{ret})...)
	if r[0] != 0 {
		t.Fatalf("kv set: % x", r[:16])
	}
	r = h.call("kvopen", cat(h.str("secret"), []int32{ret})...)
	if r[0] != 1 || r[4] != 2 {
		t.Fatalf("kv open not allowed: % x (want err(access-denied))", r[:16])
	}
	// An unknown store handle traps, as in Spin.
	f, _ := h.inst.Func("kvset")
	if _, err := f.CallI32(0, cat([]int32{store + 100}, h.str("k"), h.str("v"), []int32{ret})...); err == nil {
		t.Fatal("set on an unknown store handle did not trap")
	}
	// A pointer outside memory traps.
	f, _ = h.inst.Func("cfg")
	if _, err := f.CallI32(0, 1<<20, 4, ret); err == nil || !strings.Contains(err.Error(), "outside memory") {
		t.Fatalf("bad pointer: %v", err)
	}
}
