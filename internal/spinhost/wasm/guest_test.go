package wasm

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/spinhost/allowedhosts"
	"github.com/redspin/redspin/internal/spinhost/outredis"
	"github.com/redspin/redspin/internal/wasmtime"
)

// The c-host guest (testdata/guests/c-host) calls every Spin host interface
// by payload command; it comes as a component and as the canonical-ABI core
// module inside it. These tests run both shapes through the adapters with a
// minimal runner (the real one is internal/host).

const guestsDir = "../../../testdata/guests"

type runResult struct {
	ok             bool
	stdout, stderr string
}

type guestRunner interface {
	run(t *testing.T, payload string) runResult
}

func readGuest(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(guestsDir, name))
	if err != nil {
		t.Skipf("guest not built: %v", err)
	}
	return b
}

func newEngine(t *testing.T) *wasmtime.Engine {
	t.Helper()
	e, err := wasmtime.NewEngine(wasmtime.EngineConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// newStore makes a store with WASI output captured and a fresh Instance.
func newStore(t *testing.T, e *wasmtime.Engine, svc *Services) (*wasmtime.Store, *Instance, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	s := wasmtime.NewStore(e)
	var out, errb bytes.Buffer
	w := wasmtime.NewWASIConfig()
	w.SetStdout(&out)
	w.SetStderr(&errb)
	if err := s.SetWASI(w); err != nil {
		t.Fatal(err)
	}
	st := svc.NewInstance(context.Background())
	s.SetData(st)
	return s, st, &out, &errb
}

type componentRunner struct {
	e    *wasmtime.Engine
	svc  *Services
	comp *wasmtime.Component
	l    *wasmtime.ComponentLinker
	fn   *wasmtime.ExportIndex
}

func newComponentRunner(t *testing.T, svc *Services) *componentRunner {
	return newComponentRunnerFor(t, svc, "c-host/c-host.wasm", 8)
}

// newComponentRunnerFor runs the component guest file, whose want Spin
// interfaces LinkComponent must define.
func newComponentRunnerFor(t *testing.T, svc *Services, file string, want int) *componentRunner {
	wasm := readGuest(t, file)
	e := newEngine(t)
	comp, err := wasmtime.NewComponent(e, wasm)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = comp.Close() })
	l := wasmtime.NewComponentLinker(e)
	t.Cleanup(func() { _ = l.Close() })
	if err := l.AddWASIP2(); err != nil {
		t.Fatal(err)
	}
	done, err := svc.LinkComponent(l, comp.Imports())
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != want {
		t.Fatalf("LinkComponent defined %q, want %d Spin interfaces", done, want)
	}
	iface, ok := comp.ExportIndex(nil, "fermyon:spin/inbound-redis")
	if !ok {
		t.Fatal("no inbound-redis export")
	}
	fn, ok := comp.ExportIndex(iface, "handle-message")
	if !ok {
		t.Fatal("no handle-message")
	}
	t.Cleanup(func() { _ = fn.Close(); _ = iface.Close() })
	return &componentRunner{e: e, svc: svc, comp: comp, l: l, fn: fn}
}

func (r *componentRunner) run(t *testing.T, payload string) runResult {
	t.Helper()
	s, st, out, errb := newStore(t, r.e, r.svc)
	defer s.Close()
	defer st.Close()
	ci, err := r.l.Instantiate(s, r.comp)
	if err != nil {
		t.Fatalf("instantiate: %v", err)
	}
	f, ok := ci.Func(r.fn)
	if !ok {
		t.Fatal("handle-message is not a function")
	}
	ok, errCase, err := f.CallBytesResult([]byte(payload))
	if err != nil {
		t.Fatalf("%s: %v\nstderr: %s", payload, err, errb)
	}
	return runResult{ok: ok || errCase == "success", stdout: out.String(), stderr: errb.String()}
}

type coreRunner struct {
	e                *wasmtime.Engine
	svc              *Services
	pre              *wasmtime.InstancePre
	realloc, handler string
}

// newCoreRunner loads a core module (file.wasm, with its imports listed in
// file.abi) exporting realloc and handler.
func newCoreRunner(t *testing.T, svc *Services, file, realloc, handler string) *coreRunner {
	wasm := readGuest(t, file+".wasm")
	abi := readGuest(t, file+".abi")
	var imports []string
	sc := bufio.NewScanner(bytes.NewReader(abi))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 3 && f[0] == "import" {
			imports = append(imports, strings.Trim(f[1], `"`)+"#"+strings.Trim(f[2], `"`))
		}
	}
	e := newEngine(t)
	mod, err := wasmtime.NewModule(e, wasm)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mod.Close() })
	l := wasmtime.NewLinker(e)
	t.Cleanup(func() { _ = l.Close() })
	if err := l.DefineWASI(); err != nil {
		t.Fatal(err)
	}
	done, err := svc.LinkModule(l, imports)
	if err != nil {
		t.Fatal(err)
	}
	var spin int
	for _, imp := range imports {
		if !strings.HasPrefix(imp, "wasi_snapshot_preview1#") {
			spin++
		}
	}
	if len(done) != spin {
		t.Fatalf("LinkModule defined %d of %d Spin imports", len(done), spin)
	}
	if err := l.DefineUnknownImportsAsTraps(mod); err != nil {
		t.Fatal(err)
	}
	pre, err := l.InstantiatePre(mod)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pre.Close() })
	return &coreRunner{e: e, svc: svc, pre: pre, realloc: realloc, handler: handler}
}

func (r *coreRunner) run(t *testing.T, payload string) runResult {
	t.Helper()
	s, st, out, errb := newStore(t, r.e, r.svc)
	defer s.Close()
	defer st.Close()
	inst, err := r.pre.Instantiate(s)
	if err != nil {
		t.Fatalf("instantiate: %v", err)
	}
	if f, ok := inst.Func("_initialize"); ok {
		if _, err := f.CallI32(0); err != nil {
			t.Fatalf("_initialize: %v", err)
		}
	}
	realloc, _ := inst.Func(r.realloc)
	rp, err := realloc.CallI32(1, 0, 0, 1, int32(len(payload)))
	if err != nil {
		t.Fatal(err)
	}
	p := uint32(rp[0])
	mem, _ := inst.Memory("memory")
	copy(mem.Data()[p:], payload)
	h, _ := inst.Func(r.handler)
	res, err := h.CallI32(1, int32(p), int32(len(payload)))
	if err != nil {
		t.Fatalf("%s: %v\nstderr: %s", payload, err, errb)
	}
	m := mem.Data()
	ok := m[res[0]] == 0 || m[res[0]+1] == 0
	return runResult{ok: ok, stdout: out.String(), stderr: errb.String()}
}

// guestStep is one message and what the guest must answer.
type guestStep struct {
	payload string
	ok      bool
	stdout  string // expected stdout (exact), or
	stderr  string // a substring of stderr
}

// runSteps sends each step's payload to a fresh instance of r and checks
// the answer.
func runSteps(t *testing.T, r guestRunner, steps []guestStep) {
	t.Helper()
	for _, s := range steps {
		res := r.run(t, s.payload)
		if res.ok != s.ok || res.stdout != s.stdout || !strings.Contains(res.stderr, s.stderr) {
			t.Errorf("%s:\n got ok=%v stdout=%q stderr=%q\nwant ok=%v stdout=%q stderr~%q",
				s.payload, res.ok, res.stdout, res.stderr, s.ok, s.stdout, s.stderr)
		}
	}
}

func TestGuestShapes(t *testing.T) {
	mr := miniredis.RunT(t)
	addr := "redis://" + mr.Addr()
	svc := testServices(t)
	allowed, _ := allowedhosts.Parse([]string{"redis://127.0.0.1:*"})
	svc.Redis = outredis.New(outredis.Config{Component: "guest", Allowed: allowed, MaxConnections: 3})

	sub := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer sub.Close()
	ps := sub.Subscribe(context.Background(), "out")
	defer ps.Close()
	if _, err := ps.Receive(context.Background()); err != nil {
		t.Fatal(err)
	}

	runners := map[string]func(*testing.T) guestRunner{
		"component": func(t *testing.T) guestRunner { return newComponentRunner(t, svc) },
		"core": func(t *testing.T) guestRunner {
			return newCoreRunner(t, svc, "c-host/c-host.core", "cabi_realloc", "fermyon:spin/inbound-redis#handle-message")
		},
	}
	for shape, mk := range runners {
		t.Run(shape, func(t *testing.T) {
			r := mk(t)
			mr.FlushAll()
			runSteps(t, r, []guestStep{
				{"redis2:set:" + addr + "|k|v", true, "redis2:set ok\n", ""},
				{"redis2:get:" + addr + "|k", true, "v\n", ""},
				{"redis2:get:" + addr + "|missing", true, "(nil)\n", ""},
				{"redis2:incr:" + addr + "|n", true, "1\n", ""},
				{"redis2:sadd:" + addr + "|s|a|b|a", true, "2\n", ""},
				{"redis2:smembers:" + addr + "|s", true, "a\nb\n", ""},
				{"redis2:srem:" + addr + "|s|a", true, "1\n", ""},
				{"redis2:execute:" + addr + "|SET|x|int:5", true, "status:OK\n", ""},
				{"redis2:execute:" + addr + "|INCR|x", true, "int64:6\n", ""},
				{"redis2:execute:" + addr + "|MGET|x|nope", true, "binary:6\nnil\n", ""},
				{"redis2:del:" + addr + "|k|x|zz", true, "2\n", ""},
				{"redis2:sadd:" + addr + "|n|x", false, "", "redis2:sadd: type-error"},
				{"redis2:execute:" + addr + "|NOPE", false, "", "redis2:execute: other: ERR unknown command"},
				{"redis2:publish:" + addr + "|out|hello-" + shape, true, "redis2:publish ok\n", ""},
				{"redis2:open:redis://denied.example:6379", false, "", "redis2:open: invalid-address"},
				{"redis2:openmany:" + addr + "|5", false, "opened 3\n", "redis2:openmany: too-many-connections"},
				{"redis:set:" + addr + "|k1|v1", true, "redis:set ok\n", ""},
				{"redis:get:" + addr + "|k1", true, "v1\n", ""},
				{"redis:get:" + addr + "|nokey", true, "\n", ""},
				{"redis:incr:" + addr + "|n", true, "2\n", ""},
				{"redis:sadd:" + addr + "|t|p|q", true, "2\n", ""},
				{"redis:smembers:" + addr + "|t", true, "p\nq\n", ""},
				{"redis:del:" + addr + "|t", true, "1\n", ""},
				{"redis:execute:" + addr + "|PING", true, "status:PONG\n", ""},
				{"redis:set:redis://denied.example|k|v", false, "", "redis:set: error"},
				{"kv:set:default|a|1", true, "kv:set ok\n", ""},
				{"kv:get:default|a", true, "1\n", ""},
				{"kv:get:default|zz", true, "(none)\n", ""},
				{"kv:exists:default|a", true, "true\n", ""},
				{"kv:open:secret", false, "", "kv:open: access-denied"},
				{"kv1:set:default|b|2", true, "kv1:set ok\n", ""},
				{"kv1:get:default|b", true, "2\n", ""},
				{"kv1:get:default|nokey", false, "", "kv1:get: no-such-key"},
				{"kv1:delete:default|b", true, "kv1:delete ok\n", ""},
				{"kv:keys:default", true, "a\n", ""},
				{"kv:delete:default|a", true, "kv:delete ok\n", ""},
				{"var:greeting", true, "hello world\n", ""},
				{"var:nope", false, "", `var:nope: undefined: no variable for "guest"."nope"`},
				{"var:Nope", false, "", `var:Nope: invalid-name: "Nope"`},
				{"config:greeting", true, "hello world\n", ""},
				{"config:nope", false, "", "config:nope: provider: no variable for"},
				{"wasiconfig:greeting", true, "hello world\n", ""},
				{"wasiconfig:nope", true, "(none)\n", ""},
				{"wasiconfig-all", true, "greeting=hello world\n", ""},
			})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if msg, err := ps.ReceiveMessage(ctx); err != nil || msg.Payload != "hello-"+shape {
				t.Errorf("subscriber: %v %v", msg, err)
			}
			if n := mr.CurrentConnectionCount(); n > 2 {
				t.Errorf("%d connections open after the messages ended", n)
			}
		})
	}
}

func TestSpin1Module(t *testing.T) {
	mr := miniredis.RunT(t)
	addr := "redis://" + mr.Addr()
	svc := testServices(t)
	r := newCoreRunner(t, svc, "spin1/spin1", "canonical_abi_realloc", "handle-redis-message")
	runSteps(t, r, []guestStep{
		{"set:" + addr + "|k|v", true, "set ok\n", ""},
		{"get:" + addr + "|k", true, "v\n", ""},
		{"get:" + addr + "|none", true, "\n", ""},
		{"incr:" + addr + "|n", true, "1\n", ""},
		{"publish:" + addr + "|ch|m", true, "publish ok\n", ""},
		{"set:redis://denied.example|k|v", false, "", "set:redis://denied.example: error (enum 1)"},
		{"config:greeting", true, "hello world\n", ""},
		{"config:nope", false, "", `config:nope: error 0: no variable for "guest"."nope"`},
	})
	if v, _ := mr.Get("k"); v != "v" {
		t.Fatalf("redis has %q", v)
	}
}
