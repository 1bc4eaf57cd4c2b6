package wasmtime

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func newTestEngine(t testing.TB, cfg EngineConfig) *Engine {
	t.Helper()
	e, err := NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func mustWat(t testing.TB, s string) []byte {
	t.Helper()
	b, err := Wat2Wasm(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWat2WasmError(t *testing.T) {
	_, err := Wat2Wasm("(module (func (export \"x\") (result i32)))x")
	if err == nil {
		t.Fatal("expected an error")
	}
	var we *Error
	if !errors.As(err, &we) || errors.Is(err, ErrTrap) {
		t.Fatalf("want a non-trap *Error, got %T %v", err, err)
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestCoreModule(t *testing.T) {
	e := newTestEngine(t, EngineConfig{EpochInterruption: true})
	m, err := NewModule(e, mustWat(t, coreWAT))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	// Round trip through serialization.
	ser, err := m.Serialize()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := DeserializeModule(e, ser)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()

	l := NewLinker(e)
	defer l.Close()
	if err := l.DefineWASI(); err != nil {
		t.Fatal(err)
	}
	var calls int
	if err := l.DefineFunc("host", "add", []ValKind{KindI32, KindI32}, []ValKind{KindI32},
		func(c *Caller, args, results []uint64) error {
			calls++
			if c.Data() != "store-data" {
				t.Errorf("caller data = %v", c.Data())
			}
			if mem, ok := c.Memory("memory"); !ok || string(mem.Data()[100:105]) != "hello" {
				t.Errorf("caller memory not readable")
			}
			// Calling back into the guest from a host function.
			if r, err := c.CallI32("grow", 1, 0); err != nil || r[0] != 1 {
				t.Errorf("caller grow(0) = %v, %v", r, err)
			}
			if _, err := c.CallI32("nope", 0); err == nil {
				t.Error("calling a missing export")
			}
			results[0] = uint64(uint32(int32(args[0]) + int32(args[1])))
			return nil
		}); err != nil {
		t.Fatal(err)
	}
	pre, err := l.InstantiatePre(m2)
	if err != nil {
		t.Fatal(err)
	}
	defer pre.Close()

	s := NewStore(e)
	defer s.Close()
	s.SetData("store-data")
	s.SetEpochDeadline(1 << 40)
	var out syncBuf
	w := NewWASIConfig()
	w.SetStdout(&out)
	if err := s.SetWASI(w); err != nil {
		t.Fatal(err)
	}
	inst, err := pre.Instantiate(s)
	if err != nil {
		t.Fatal(err)
	}
	run, ok := inst.Func("run")
	if !ok {
		t.Fatal("no run export")
	}
	res, err := run.CallI32(1)
	if err != nil {
		t.Fatal(err)
	}
	if res[0] != 5 || calls != 1 {
		t.Fatalf("run = %v, calls = %d", res, calls)
	}
	if out.String() != "hello\n" {
		t.Fatalf("stdout = %q", out.String())
	}
	trap, _ := inst.Func("trap")
	_, err = trap.CallI32(0)
	if !errors.Is(err, TrapUnreachable) || !errors.Is(err, ErrTrap) {
		t.Fatalf("trap: got %v", err)
	}
	if !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("trap message: %q", err.Error())
	}
	if _, ok := inst.Func("missing"); ok {
		t.Fatal("found a missing export")
	}
}

func TestCoreHostPanicAndError(t *testing.T) {
	e := newTestEngine(t, EngineConfig{})
	mode := "panic"
	pre := coreWATPre(t, e, func(l *Linker) {
		l.DefineFunc("host", "add", []ValKind{KindI32, KindI32}, []ValKind{KindI32},
			func(c *Caller, args, results []uint64) error {
				if mode == "panic" {
					panic("boom")
				}
				return errors.New("host says no")
			})
	})
	for _, want := range []string{"boom", "host says no"} {
		s := NewStore(e)
		inst, err := pre.Instantiate(s)
		if err != nil {
			t.Fatal(err)
		}
		run, _ := inst.Func("run")
		_, err = run.CallI32(1)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want error containing %q, got %v", want, err)
		}
		s.Close()
		mode = "error"
	}
}

func TestInterrupt(t *testing.T) {
	e := newTestEngine(t, EngineConfig{EpochInterruption: true})
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tk := time.NewTicker(5 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				e.IncrementEpoch()
			}
		}
	}()
	pre := coreWATPre(t, e, nil)

	// Plain deadline: a TrapInterrupt that matches context.DeadlineExceeded.
	s := NewStore(e)
	s.SetEpochDeadline(2)
	inst, err := pre.Instantiate(s)
	if err != nil {
		t.Fatal(err)
	}
	loop, _ := inst.Func("loop")
	_, err = loop.CallI32(0)
	if !errors.Is(err, TrapInterrupt) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("loop: %v", err)
	}
	s.Close()

	// Callback: cancellation of a context.
	ctx, cancel := context.WithCancel(context.Background())
	s = NewStore(e)
	defer s.Close()
	s.SetEpochDeadline(1)
	s.SetDeadlineCallback(func() (uint64, error) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		return 1, nil
	})
	inst, err = pre.Instantiate(s)
	if err != nil {
		t.Fatal(err)
	}
	loop, _ = inst.Func("loop")
	time.AfterFunc(30*time.Millisecond, cancel)
	_, err = loop.CallI32(0)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, TrapInterrupt) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("loop with cancel: %v", err)
	}
}

func TestMemoryLimit(t *testing.T) {
	e := newTestEngine(t, EngineConfig{})
	pre := coreWATPre(t, e, nil)
	s := NewStore(e)
	defer s.Close()
	s.SetLimits(4<<16, -1, -1, -1, -1)
	inst, err := pre.Instantiate(s)
	if err != nil {
		t.Fatal(err)
	}
	grow, _ := inst.Func("grow")
	if r, err := grow.CallI32(1, 2); err != nil || r[0] != 1 {
		t.Fatalf("grow 2: %v %v", r, err)
	}
	if r, err := grow.CallI32(1, 2); err != nil || r[0] != -1 {
		t.Fatalf("grow past the limit: %v %v", r, err)
	}
}

func TestComponent(t *testing.T) {
	for _, pooling := range []bool{false, true} {
		cfg := EngineConfig{EpochInterruption: true}
		if pooling {
			cfg.Pooling = &PoolingConfig{TotalComponentInstances: 10, TotalCoreInstances: 20, TotalMemories: 20, TotalTables: 20, MaxMemorySize: 1 << 30}
		}
		e := newTestEngine(t, cfg)
		c, err := NewComponent(e, mustWat(t, compWAT))
		if err != nil {
			t.Fatal(err)
		}
		ser, err := c.Serialize()
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		c, err = DeserializeComponent(e, ser)
		if err != nil {
			t.Fatal(err)
		}
		iface, ok := c.ExportIndex(nil, "fermyon:spin/inbound-redis")
		if !ok {
			t.Fatal("no interface export")
		}
		fidx, ok := c.ExportIndex(iface, "handle-message")
		if !ok {
			t.Fatal("no handle-message export")
		}
		l := NewComponentLinker(e)
		if err := l.AddWASIP2(); err != nil {
			t.Fatal(err)
		}
		if err := l.DefineUnknownImportsAsTraps(c); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			payload string
			ok      bool
			errCase string
			trap    error
		}{
			{"hello", true, "", nil},
			{"", true, "", nil},
			{"err", false, "error", nil},
			{"success-as-err", false, "success", nil},
			{"trap", false, "", TrapUnreachable},
			{"loop", false, "", TrapInterrupt},
		}
		for _, tc := range cases {
			s := NewStore(e)
			s.SetEpochDeadline(1 << 40)
			stop := make(chan struct{})
			if tc.trap == TrapInterrupt {
				s.SetEpochDeadline(1)
				go func() {
					tk := time.NewTicker(5 * time.Millisecond)
					defer tk.Stop()
					for {
						select {
						case <-stop:
							return
						case <-tk.C:
							e.IncrementEpoch()
						}
					}
				}()
			}
			inst, err := l.Instantiate(s, c)
			if err != nil {
				t.Fatal(err)
			}
			f, ok := inst.Func(fidx)
			if !ok {
				t.Fatal("no func")
			}
			ok, errCase, err := f.CallBytesResult([]byte(tc.payload))
			close(stop)
			if tc.trap != nil {
				if !errors.Is(err, tc.trap) {
					t.Errorf("%q: want %v, got %v", tc.payload, tc.trap, err)
				}
			} else if err != nil || ok != tc.ok || errCase != tc.errCase {
				t.Errorf("%q: got ok=%v case=%q err=%v", tc.payload, ok, errCase, err)
			}
			s.Close()
		}
		// The generic Call path.
		s := NewStore(e)
		s.SetEpochDeadline(1 << 40)
		inst, err := l.Instantiate(s, c)
		if err != nil {
			t.Fatal(err)
		}
		f, _ := inst.Func(fidx)
		res, err := f.Call([]Val{Bytes([]byte("err"))}, 1)
		if err != nil || len(res) != 1 || res[0].Kind != CResult || res[0].Ok || res[0].Payload == nil || res[0].Payload.Str != "error" {
			t.Errorf("Call: %+v %v", res, err)
		}
		s.Close()
		fidx.Close()
		iface.Close()
		l.Close()
		c.Close()
	}
}

func TestComponentHostFunc(t *testing.T) {
	// A component importing "test:host/api" { add: func(a: u32, b: u32) -> u32,
	// greet: func(name: string) -> string } and exporting "run: func() -> string".
	const wat = `(component
  (import "test:host/api" (instance $api
    (export "add" (func (param "a" u32) (param "b" u32) (result u32)))
    (export "greet" (func (param "name" string) (result string)))))
  (alias export $api "add" (func $add))
  (alias export $api "greet" (func $greet))
  (core module $mem (memory (export "memory") 1)
    (global $bump (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $r i32) global.get $bump local.set $r
      global.get $bump local.get 3 i32.add global.set $bump local.get $r))
  (core instance $mi (instantiate $mem))
  (core func $add_l (canon lower (func $add)))
  (core func $greet_l (canon lower (func $greet) (memory $mi "memory") (realloc (func $mi "realloc"))))
  (core module $m
    (import "host" "add" (func $add (param i32 i32) (result i32)))
    (import "host" "greet" (func $greet (param i32 i32 i32)))
    (import "mem" "memory" (memory 1))
    (data (i32.const 200) "redis")
    (func (export "run") (result i32)
      (i32.store (i32.const 300) (call $add (i32.const 40) (i32.const 2)))
      (call $greet (i32.const 200) (i32.const 5) (i32.const 400))
      (i32.const 400)))
  (core instance $i (instantiate $m
    (with "host" (instance (export "add" (func $add_l)) (export "greet" (func $greet_l))))
    (with "mem" (instance $mi))))
  (func (export "run") (result string)
    (canon lift (core func $i "run") (memory $mi "memory") (realloc (func $mi "realloc"))))
)`
	e := newTestEngine(t, EngineConfig{})
	c, err := NewComponent(e, mustWat(t, wat))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	imps := c.Imports()
	if len(imps) != 1 || imps[0].Name != "test:host/api" || !imps[0].Instance || !imps[0].HasFuncs ||
		strings.Join(imps[0].Funcs, ",") != "add,greet" {
		t.Fatalf("imports: %+v", imps)
	}
	l := NewComponentLinker(e)
	defer l.Close()
	root := l.Root()
	api, err := root.AddInstance("test:host/api")
	if err != nil {
		t.Fatal(err)
	}
	if err := api.AddFunc("add", func(_ *ComponentCaller, args, results []Val) error {
		results[0] = U32(uint32(args[0].Num + args[1].Num))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var panicNext bool
	if err := api.AddFunc("greet", func(_ *ComponentCaller, args, results []Val) error {
		if panicNext {
			panic("greet exploded")
		}
		results[0] = Str("hello " + args[0].Str)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	api.Close()
	root.Close()
	run, _ := c.ExportIndex(nil, "run")
	defer run.Close()
	for i := 0; i < 2; i++ {
		s := NewStore(e)
		inst, err := l.Instantiate(s, c)
		if err != nil {
			t.Fatal(err)
		}
		f, _ := inst.Func(run)
		res, err := f.Call(nil, 1)
		if i == 0 {
			if err != nil || res[0].Str != "hello redis" {
				t.Fatalf("run: %+v %v", res, err)
			}
			// Again in the same store: the store's host-call buffers are
			// reused (3 values for add, then 2 for greet) and must not carry
			// anything over.
			if res, err = f.Call(nil, 1); err != nil || res[0].Str != "hello redis" {
				t.Fatalf("run again: %+v %v", res, err)
			}
		} else if err == nil || !strings.Contains(err.Error(), "greet exploded") {
			t.Fatalf("panic: want an error, got %v", err)
		} else {
			// A panicking host call leaves the store's host-call state
			// usable: a new instance in the same store calls the host again.
			panicNext = false
			inst2, err := l.Instantiate(s, c)
			if err != nil {
				t.Fatal(err)
			}
			f2, _ := inst2.Func(run)
			if res, err := f2.Call(nil, 1); err != nil || res[0].Str != "hello redis" {
				t.Fatalf("run after a panic: %+v %v", res, err)
			}
		}
		s.Close()
		panicNext = true
	}
}

func TestUnknownImportsTrap(t *testing.T) {
	const wat = `(component
  (import "wasi:http/outgoing-handler@0.2.0" (instance $h
    (export "handle" (func (result u32)))))
  (alias export $h "handle" (func $f))
  (core func $fl (canon lower (func $f)))
  (core module $m
    (import "h" "handle" (func $h (result i32)))
    (func (export "use") (result i32) (call $h))
    (func (export "skip") (result i32) (i32.const 7)))
  (core instance $i (instantiate $m (with "h" (instance (export "handle" (func $fl))))))
  (func (export "use") (result u32) (canon lift (core func $i "use")))
  (func (export "skip") (result u32) (canon lift (core func $i "skip")))
)`
	e := newTestEngine(t, EngineConfig{})
	c, err := NewComponent(e, mustWat(t, wat))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	l := NewComponentLinker(e)
	defer l.Close()
	if err := l.AddWASIP2(); err != nil {
		t.Fatal(err)
	}
	s := NewStore(e)
	defer s.Close()
	if _, err := l.Instantiate(s, c); err == nil {
		t.Fatal("instantiate without the import should fail")
	}
	if err := l.DefineUnknownImportsAsTraps(c); err != nil {
		t.Fatal(err)
	}
	inst, err := l.Instantiate(s, c)
	if err != nil {
		t.Fatal(err)
	}
	skip, _ := c.ExportIndex(nil, "skip")
	use, _ := c.ExportIndex(nil, "use")
	defer skip.Close()
	defer use.Close()
	f, _ := inst.Func(skip)
	if res, err := f.Call(nil, 1); err != nil || res[0].Num != 7 {
		t.Fatalf("skip: %v %v", res, err)
	}
	f, _ = inst.Func(use)
	_, err = f.Call(nil, 1)
	if err == nil {
		t.Fatal("use: want a trap")
	}
	if !strings.Contains(err.Error(), "wasi:http/outgoing-handler@0.2.0") {
		t.Fatalf("unknown import error should name the interface: %v", err)
	}
}

func TestHandlesReleased(t *testing.T) {
	before := liveHandles()
	e := newTestEngine(t, EngineConfig{})
	for i := 0; i < 10; i++ {
		s := NewStore(e)
		w := NewWASIConfig()
		w.SetStdout(&syncBuf{})
		w.SetStderr(&syncBuf{})
		if i%2 == 0 {
			s.SetWASI(w)
		} else {
			w.Close()
		}
		s.Close()
		s.Close() // idempotent
	}
	if got := liveHandles(); got != before {
		t.Fatalf("live handles: %d before, %d after", before, got)
	}
}

// coreWATPre compiles coreWAT and pre-instantiates it with WASI, the
// definitions define adds, and traps for anything left undefined.
func coreWATPre(t *testing.T, e *Engine, define func(l *Linker)) *InstancePre {
	t.Helper()
	m, err := NewModule(e, mustWat(t, coreWAT))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	l := NewLinker(e)
	t.Cleanup(func() { l.Close() })
	if err := l.DefineWASI(); err != nil {
		t.Fatal(err)
	}
	if define != nil {
		define(l)
	}
	if err := l.DefineUnknownImportsAsTraps(m); err != nil {
		t.Fatal(err)
	}
	pre, err := l.InstantiatePre(m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pre.Close() })
	return pre
}

// mustPanic runs f and checks that it panics with a message containing want.
func mustPanic(t *testing.T, what, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if msg, _ := r.(string); !strings.Contains(msg, want) {
			t.Errorf("%s: recovered %v, want a panic containing %q", what, r, want)
		}
	}()
	f()
}

// A Memory checks, as a Func does, that its store (or host call) is still
// alive: after the end, Data and Size panic instead of reading freed memory.
func TestMemoryLiveness(t *testing.T) {
	e := newTestEngine(t, EngineConfig{})
	var kept Memory
	pre := coreWATPre(t, e, func(l *Linker) {
		l.DefineFunc("host", "add", []ValKind{KindI32, KindI32}, []ValKind{KindI32},
			func(c *Caller, args, results []uint64) error {
				m, ok := c.Memory("memory")
				if !ok || string(m.Data()[100:105]) != "hello" || string(m.UnsafeData()[100:105]) != "hello" || m.Size() != 1<<16 {
					t.Errorf("caller memory not readable during the call")
				}
				kept = m
				return nil
			})
	})
	s := NewStore(e)
	inst, err := pre.Instantiate(s)
	if err != nil {
		t.Fatal(err)
	}
	mem, ok := inst.Memory("memory")
	if !ok || string(mem.Data()[100:105]) != "hello" {
		t.Fatal("instance memory not readable")
	}
	run, _ := inst.Func("run")
	if _, err := run.CallI32(1); err != nil {
		t.Fatal(err)
	}
	mustPanic(t, "caller memory after the call", "caller's memory used after its host call returned", func() { kept.Data() })
	mustPanic(t, "caller memory size after the call", "caller's memory used after its host call returned", func() { kept.Size() })
	s.Close()
	mustPanic(t, "instance memory after Close", "store: object has been closed", func() { mem.Data() })
	if d := mem.UnsafeData(); d != nil {
		t.Errorf("UnsafeData of a closed store's memory = %d bytes, want nil", len(d))
	}
}
