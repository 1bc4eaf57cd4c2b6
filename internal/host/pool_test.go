package host

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redspin/redspin/internal/streamentry"
	"github.com/redspin/redspin/internal/wasmtime"
)

func TestParseReuseCount(t *testing.T) {
	for _, c := range []struct {
		in       string
		min, max int
		err      string
	}{
		{"1", 1, 1, ""},
		{"1000", 1000, 1000, ""},
		{"5..10", 5, 10, ""},
		{" 2..3 ", 2, 3, ""},
		{"0", 0, 0, "at least 1"},
		{"-3", 0, 0, "at least 1"},
		{"0..5", 0, 0, "at least 1"},
		{"5..5", 0, 0, "end must be above"},
		{"10..5", 0, 0, "end must be above"},
		{"abc", 0, 0, "want a count"},
		{"", 0, 0, "want a count"},
		{"5..", 0, 0, "want a count"},
		{"1.5", 0, 0, "want a count"},
	} {
		min, max, err := ParseReuseCount(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), strconv.Quote(c.in)) {
				t.Errorf("ParseReuseCount(%q) = %v, want an error naming it with %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || min != c.min || max != c.max {
			t.Errorf("ParseReuseCount(%q) = %d, %d, %v; want %d, %d", c.in, min, max, err, c.min, c.max)
		}
	}
}

// cFixture loads the c guest as a component and as a core module.
func cFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	return newFixtureOf(t, opts, nil, nil, func(g testGuest) bool { return g.name == "c" })
}

// counts sends n "count" messages to id and returns the counts printed.
func (f *fixture) counts(t *testing.T, id string, n int) []int {
	t.Helper()
	before := len(countsOf(f.stdout(t, id)))
	for range n {
		if err := f.h.Handle(context.Background(), id, []byte("count")); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
	return countsOf(f.stdout(t, id))[before:]
}

var countLine = regexp.MustCompile(`(?m)^count=(\d+)$`)

func countsOf(out string) []int {
	var n []int
	for _, m := range countLine.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.Atoi(m[1])
		n = append(n, v)
	}
	return n
}

func TestReuseCountHonoured(t *testing.T) {
	f := cFixture(t, Options{Reuse: Reuse{Min: 3, Max: 3}})
	for _, g := range f.guests {
		if got, want := fmt.Sprint(f.counts(t, g.id(), 7)), "[1 2 3 1 2 3 1]"; got != want {
			t.Errorf("%s: counts %s, want %s", g.id(), got, want)
		}
	}
}

func TestReuseDefaultIsFresh(t *testing.T) {
	for _, r := range []Reuse{{}, {Min: 1, Max: 1}} {
		f := cFixture(t, Options{Reuse: r})
		for _, g := range f.guests {
			if got, want := fmt.Sprint(f.counts(t, g.id(), 3)), "[1 1 1]"; got != want {
				t.Errorf("%+v %s: counts %s, want %s", r, g.id(), got, want)
			}
			if live, idle, peak := g.pool(f).stats(); live+idle+peak != 0 {
				t.Errorf("%s: pool kept instances without reuse: live %d idle %d peak %d", g.id(), live, idle, peak)
			}
		}
	}
}

func (g testGuest) pool(f *fixture) *instancePool { return f.h.guests[g.id()].base().pool }

func TestReuseRange(t *testing.T) {
	f := cFixture(t, Options{Reuse: Reuse{Min: 2, Max: 4}})
	for _, g := range f.guests {
		counts := f.counts(t, g.id(), 60)
		// Each instance counts 1, 2, ... up to its own reuse count.
		var runs []int
		for i, c := range counts {
			if c == 1 {
				runs = append(runs, 0)
			} else if i == 0 || c != counts[i-1]+1 {
				t.Fatalf("%s: counts %v: not runs from 1", g.id(), counts)
			}
			runs[len(runs)-1]++
		}
		seen := map[int]bool{}
		for i, r := range runs {
			if r > 4 || r < 2 && i < len(runs)-1 {
				t.Fatalf("%s: an instance served %d messages, outside 2..4 (runs %v)", g.id(), r, runs)
			}
			if i < len(runs)-1 {
				seen[r] = true
			}
		}
		// About 20 instances each draw one of 3 counts: all equal has a
		// chance of 3^-19.
		if len(seen) < 2 {
			t.Errorf("%s: every instance served the same count: runs %v", g.id(), runs)
		}
	}
}

func TestReuseIdleTimeout(t *testing.T) {
	f := cFixture(t, Options{Reuse: Reuse{Min: 100, Max: 100, IdleTimeout: 50 * time.Millisecond}})
	for _, g := range f.guests {
		if got := fmt.Sprint(f.counts(t, g.id(), 2)); got != "[1 2]" {
			t.Fatalf("%s: counts %s, want [1 2]", g.id(), got)
		}
		if live, idle, _ := g.pool(f).stats(); live != 1 || idle != 1 {
			t.Fatalf("%s: live %d idle %d after a message, want 1 and 1", g.id(), live, idle)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			live, idle, _ := g.pool(f).stats()
			if live == 0 && idle == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: idle instance not dropped after 10s (live %d idle %d)", g.id(), live, idle)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if got := fmt.Sprint(f.counts(t, g.id(), 1)); got != "[1]" {
			t.Errorf("%s: after the idle timeout counts %s, want a fresh instance's [1]", g.id(), got)
		}
	}
}

// TestReuseMaxLive runs more concurrent messages than MaxLive: never more
// than MaxLive pooled instances, the others one-off, and every message's
// output a whole line of its own.
func TestReuseMaxLive(t *testing.T) {
	const maxLive, workers, each = 3, 6, 25
	f := cFixture(t, Options{Reuse: Reuse{Min: 1000, Max: 1000, MaxLive: maxLive}})
	for _, g := range f.guests {
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					payload := "count"
					if i%2 == 1 {
						payload = "count:partial"
					}
					if err := f.h.Handle(context.Background(), g.id(), []byte(payload)); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("%s: %v", g.id(), err)
		}
		live, idle, peak := g.pool(f).stats()
		if peak > maxLive || peak < 1 || live != idle || live > maxLive {
			t.Errorf("%s: peak %d live %d idle %d, want peak 1..%d and every live instance idle", g.id(), peak, live, idle, maxLive)
		}
		out := f.stdout(t, g.id())
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != workers*each || len(countsOf(out)) != workers*each {
			t.Fatalf("%s: %d lines, %d of them count=N, want %d:\n%s", g.id(), len(lines), len(countsOf(out)), workers*each, out)
		}
		// The pooled instances served the messages between them: the
		// counts above 1 belong to instances that served several.
		over1 := 0
		for _, c := range countsOf(out) {
			if c > 1 {
				over1++
			}
		}
		if over1 < workers*each/2 {
			t.Errorf("%s: only %d of %d messages ran in a reused instance", g.id(), over1, workers*each)
		}
	}
}

// TestReusePoison: a trap, a timeout and a cancellation drop the instance
// (the next message counts 1 again, with its output whole); err(error) and
// err(success) do not.
func TestReusePoison(t *testing.T) {
	f := cFixture(t, Options{Reuse: Reuse{Min: 100, Max: 100}, HandlerTimeout: 300 * time.Millisecond})
	for _, g := range f.guests {
		id := g.id()
		send := func(payload string, ctx context.Context) error {
			return f.h.Handle(ctx, id, []byte(payload))
		}
		bg := context.Background()
		background := func() context.Context { return bg }
		cancelled := func() context.Context {
			ctx, cancel := context.WithCancel(bg)
			time.AfterFunc(100*time.Millisecond, cancel)
			return ctx
		}
		// counts: the partial line's count, then the next message's.
		steps := []struct {
			payload string
			ctx     func() context.Context
			err     func(error) bool
			counts  string
		}{
			{"fail", background, func(err error) bool { return errors.Is(err, ErrHandlerFailed) }, "[2 3]"},
			{"errsuccess", background, func(err error) bool { return err == nil }, "[4 5]"},
			{"trap", background, func(err error) bool { return errors.Is(err, wasmtime.ErrTrap) }, "[6 1]"},
			{"loop", background, func(err error) bool { return errors.Is(err, context.DeadlineExceeded) }, "[2 1]"},
			{"loop", cancelled, func(err error) bool { return errors.Is(err, context.Canceled) }, "[2 1]"},
		}
		if got := fmt.Sprint(f.counts(t, id, 1)); got != "[1]" {
			t.Fatalf("%s: counts %s", id, got)
		}
		for _, s := range steps {
			// An unfinished line before the failure: the message's output
			// is ended at a line boundary whatever happens.
			before := len(countsOf(f.stdout(t, id)))
			if err := send("count:partial", bg); err != nil {
				t.Fatal(err)
			}
			if err := send(s.payload, s.ctx()); !s.err(err) {
				t.Fatalf("%s %s: unexpected error %v", id, s.payload, err)
			}
			if err := send("count", bg); err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(countsOf(f.stdout(t, id))[before:]); got != s.counts {
				t.Errorf("%s: around %s counts %s, want %s", id, s.payload, got, s.counts)
			}
		}
		// Every line of the log is a whole count line: partial lines were
		// ended, nothing of a failed message ran into the next one.
		want := "count=1\ncount=2\ncount=3\ncount=4\ncount=5\ncount=6\ncount=1\ncount=2\ncount=1\ncount=2\ncount=1\n"
		if got := f.stdout(t, id); got != want {
			t.Errorf("%s: stdout\n%q\nwant\n%q", id, got, want)
		}
		if echo := f.stderr.String(); !strings.Contains(echo, "count=6\n") {
			t.Errorf("%s: echo lacks the lines: %q", id, echo)
		}
	}
}

// TestReuseMemoryPoison: a core module left with its memory above half the
// cap is not reused.
func TestReuseMemoryPoison(t *testing.T) {
	f := newFixtureOf(t, Options{Reuse: Reuse{Min: 100, Max: 100}, MaxInstanceMemory: 16 << 20}, nil, nil,
		func(g testGuest) bool { return g.name == "c" && g.shape == ShapeModule })
	id := "c-module"
	if got := fmt.Sprint(f.counts(t, id, 2)); got != "[1 2]" {
		t.Fatalf("counts %s", got)
	}
	if err := f.h.Handle(context.Background(), id, []byte("alloc:1")); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(f.counts(t, id, 1)); got != "[3]" {
		t.Fatalf("after a small allocation counts %s, want [3]", got)
	}
	if err := f.h.Handle(context.Background(), id, []byte("alloc:10")); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(f.counts(t, id, 1)); got != "[1]" {
		t.Errorf("after growing to 10 MiB of a 16 MiB cap counts %s, want a fresh instance's [1]", got)
	}
}

// TestReuseStoreDataPerMessage: the host interfaces' per-message data is
// new for every message and ended after it while the instance lives on.
func TestReuseStoreDataPerMessage(t *testing.T) {
	for _, c := range []struct{ name, wat string }{
		{"kv.wasm", kvComponentWAT}, {"answer.wasm", answerModuleWAT},
	} {
		imp := &fakeImports{}
		h, err := New(context.Background(), []ComponentConfig{{ID: "x", WasmPath: writeWAT(t, c.name, c.wat), Imports: imp}},
			Options{Reuse: Reuse{Min: 10, Max: 10}, DisableCache: true})
		if err != nil {
			t.Fatal(err)
		}
		base := imp.ended.Load() // the trial at load
		for i := range 4 {
			if err := h.Handle(context.Background(), "x", []byte("x")); err != nil {
				t.Fatalf("%s message %d: %v", c.name, i, err)
			}
			if got := imp.ended.Load() - base; got != int32(i+1) {
				t.Fatalf("%s: %d store data ended after %d messages", c.name, got, i+1)
			}
		}
		if live, idle, _ := h.guests["x"].base().pool.stats(); live != 1 || idle != 1 {
			t.Errorf("%s: live %d idle %d, want one instance kept", c.name, live, idle)
		}
		h.Close()
	}
}

// coreCountWAT is a core module with a global message counter: its handler
// returns ok for an instance's first message and err(error) after, and
// traps if post-return (when the shape has it) did not run since the last
// call.
func coreCountWAT(spin1 bool) string {
	handler, realloc, post := exportCoreHandler, exportCabiRealloc, `(func (export "`+exportCorePost+`") (param i32) (global.set $posted (i32.const 1)))`
	if spin1 {
		handler, realloc, post = exportSpin1Handler, exportSpin1Realloc, `(func (export "canonical_abi_free") (param i32 i32 i32))`
	}
	check := `(if (i32.eqz (global.get $posted)) (then unreachable)) (global.set $posted (i32.const 0))`
	if spin1 {
		check = ""
	}
	return `(module
  (memory (export "memory") 1)
  (global $n (mut i32) (i32.const 0))
  (global $posted (mut i32) (i32.const 1))
  (func (export "` + realloc + `") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  ` + post + `
  (func (export "` + handler + `") (param i32 i32) (result i32)
    ` + check + `
    (global.set $n (i32.add (global.get $n) (i32.const 1)))
    (i32.store16 (i32.const 16) (i32.const 0))
    (if (i32.gt_u (global.get $n) (i32.const 1)) (then (i32.store16 (i32.const 16) (i32.const 257))))
    (i32.const 16)))`
}

// TestReuseCoreShapes: both core-module shapes are called again in the
// same instance (a canonical-ABI module with post-return between calls).
func TestReuseCoreShapes(t *testing.T) {
	for _, spin1 := range []bool{false, true} {
		h, err := New(context.Background(), []ComponentConfig{{ID: "m", WasmPath: writeWAT(t, "m.wasm", coreCountWAT(spin1))}},
			Options{Reuse: Reuse{Min: 3, Max: 3}, DisableCache: true})
		if err != nil {
			t.Fatal(err)
		}
		if info, _ := h.Info("m"); (info.Shape == ShapeSpin1Module) != spin1 {
			t.Fatalf("shape %s", info.Shape)
		}
		var got []string
		for range 7 {
			err := h.Handle(context.Background(), "m", []byte("x"))
			switch {
			case err == nil:
				got = append(got, "ok")
			case errors.Is(err, ErrHandlerFailed):
				got = append(got, "err")
			default:
				t.Fatalf("spin1=%v: %v", spin1, err)
			}
		}
		if s := strings.Join(got, " "); s != "ok err err ok err err ok" {
			t.Errorf("spin1=%v: results %s, want a fresh instance every 3 messages", spin1, s)
		}
		h.Close()
	}
}

func TestReuseHostClose(t *testing.T) {
	f := cFixture(t, Options{Reuse: Reuse{Min: 100, Max: 100, IdleTimeout: time.Millisecond}})
	for _, g := range f.guests {
		f.counts(t, g.id(), 3)
	}
	// Close while the reaper may be dropping idle instances.
	if err := f.h.Close(); err != nil {
		t.Fatal(err)
	}
	for _, g := range f.guests {
		if live, idle, _ := g.pool(f).stats(); live != 0 || idle != 0 {
			t.Errorf("%s: live %d idle %d after Close", g.id(), live, idle)
		}
	}
}

// BenchmarkHandleReuse is BenchmarkHandle's quiet and print messages with
// instance reuse (1000 messages per instance) for the c and js guests: the
// call phase is then most of a message.
func BenchmarkHandleReuse(b *testing.B) {
	f := newFixtureOf(b, Options{HandlerTimeout: time.Minute, Reuse: Reuse{Min: 1000, Max: 1000}}, nil, nil,
		func(g testGuest) bool { return g.name == "c" || g.name == "js" })
	for _, g := range f.guests {
		for _, mode := range []string{"quiet", "print"} {
			payload := []byte("errsuccess")
			if mode == "print" {
				payload = []byte("bench:" + strings.Repeat("p", 58))
			}
			b.Run(g.id()+"/"+mode, func(b *testing.B) {
				ph := &phaseTimes{}
				f.h.phases = ph
				defer func() { f.h.phases = nil }()
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					if err := f.h.Handle(ctx, g.id(), payload); err != nil {
						b.Fatal(err)
					}
				}
				if ph.n > 0 {
					n := float64(ph.n)
					b.ReportMetric(float64(ph.instantiate.Microseconds())/n, "inst_us")
					b.ReportMetric(float64(ph.call.Microseconds())/n, "call_us")
					b.ReportMetric(float64(ph.teardown.Microseconds())/n, "teardown_us")
				}
			})
		}
	}
}

// TestReuseStreamEntries: a stream trigger's rich handler (handle-entry)
// runs in the same pool: called again in one instance, which a trap drops;
// plain guests on a stream share it too.
func TestReuseStreamEntries(t *testing.T) {
	h, logDir := entryFixture(t, Options{Reuse: Reuse{Min: 100, Max: 100}, HandlerTimeout: 5 * time.Second})
	ctx := context.Background()
	pool := h.guests["stream"].base().pool
	for i, action := range []string{"ack", "retry-after:250", "dead:bad input", "ack"} {
		d, err := h.HandleEntry(ctx, "stream", entry(action, 1))
		if err != nil || (d.Action == streamentry.Ack) != (action == "ack") {
			t.Fatalf("%s: %+v, %v", action, d, err)
		}
		if live, idle, peak := pool.stats(); live != 1 || idle != 1 || peak != 1 {
			t.Fatalf("after entry %d: live %d idle %d peak %d, want one instance serving them all", i+1, live, idle, peak)
		}
	}
	if _, err := h.HandleEntry(ctx, "stream", entry("trap", 1)); !errors.Is(err, wasmtime.ErrTrap) {
		t.Fatalf("trap: %v", err)
	}
	if live, idle, _ := pool.stats(); live != 0 || idle != 0 {
		t.Fatalf("after a trap: live %d idle %d, want the instance dropped", live, idle)
	}
	if d, err := h.HandleEntry(ctx, "stream", entry("ack", 1)); err != nil || d.Action != streamentry.Ack {
		t.Fatalf("after a trap: %+v, %v", d, err)
	}
	for range 3 {
		e := entry("ack", 1)
		e.Payload = []byte("count")
		if _, err := h.HandleEntry(ctx, "c-module", e); err != nil {
			t.Fatal(err)
		}
	}
	if got := readFile(t, filepath.Join(logDir, "c-module_stdout.txt")); got != "count=1\ncount=2\ncount=3\n" {
		t.Errorf("plain guest on a stream: stdout %q, want one instance counting 1..3", got)
	}
}

// TestReuseEveryGuest calls every protocol guest, in every shape, several
// times in one instance: each runtime (C, Rust, Go, JS, Spin 1.x) takes
// repeated calls, and each message's output is its own.
func TestReuseEveryGuest(t *testing.T) {
	f := newFixture(t, Options{Reuse: Reuse{Min: 100, Max: 100}}, nil, nil)
	for _, g := range f.guests {
		t.Log(g.id())
		for i := range 4 {
			err := f.h.Handle(context.Background(), g.id(), []byte(fmt.Sprintf("print:message %d", i)))
			if err != nil {
				t.Fatalf("%s message %d: %v", g.id(), i, err)
			}
		}
		if got, want := f.stdout(t, g.id()), "message 0\nmessage 1\nmessage 2\nmessage 3\n"; got != want {
			t.Errorf("%s: stdout %q, want %q", g.id(), got, want)
		}
		if live, idle, peak := g.pool(f).stats(); live != 1 || idle != 1 || peak != 1 {
			t.Errorf("%s: live %d idle %d peak %d, want one instance for all four", g.id(), live, idle, peak)
		}
	}
}

// TestReuseIdleChurn runs messages while the reaper drops instances that
// idle 1 ms: every message succeeds with its line, and the pool never holds
// more than MaxLive.
func TestReuseIdleChurn(t *testing.T) {
	const maxLive, workers, each = 2, 4, 40
	f := newFixtureOf(t, Options{Reuse: Reuse{Min: 5, Max: 20, IdleTimeout: time.Millisecond, MaxLive: maxLive}}, nil, nil,
		func(g testGuest) bool { return g.name == "c" && g.shape == ShapeModule })
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if (w+i)%3 == 0 {
					time.Sleep(2 * time.Millisecond) // long enough for the reaper
				}
				if err := f.h.Handle(context.Background(), "c-module", []byte("count")); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := len(countsOf(f.stdout(t, "c-module"))); n != workers*each {
		t.Errorf("%d count lines, want %d", n, workers*each)
	}
	if _, _, peak := f.guests[0].pool(f).stats(); peak > maxLive {
		t.Errorf("peak %d live instances, MaxLive %d", peak, maxLive)
	}
}

// A panic on a message's way through an instance (recovered by the
// trigger) drops that instance and frees its MaxLive slot: after MaxLive
// panics messages still get pooled, reused instances.
func TestReusePanicFreesInstance(t *testing.T) {
	f := cFixture(t, Options{Reuse: Reuse{Min: 1000, Max: 1000, MaxLive: 1}})
	for _, g := range f.guests {
		gu := f.h.guests[g.id()]
		for range 3 {
			func() {
				defer func() { _ = recover() }()
				_ = f.h.inInstance(context.Background(), msgDeadline{}, gu, 0, func(*instance, func(), *phaseClock) error {
					panic("host bug")
				})
			}()
		}
		if live, idle, _ := g.pool(f).stats(); live != 0 || idle != 0 {
			t.Errorf("%s: live %d idle %d after panics, want 0 and 0", g.id(), live, idle)
		}
		if got, want := fmt.Sprint(f.counts(t, g.id(), 3)), "[1 2 3]"; got != want {
			t.Errorf("%s: counts %s after panics, want %s (one reused instance)", g.id(), got, want)
		}
	}
}

// flakyGuest fails its first fails instantiations with err.
type flakyGuest struct {
	guest
	fails, calls int
	err          error
}

func (f *flakyGuest) instantiate(h *Host, in *instance) error {
	f.calls++
	if f.calls <= f.fails {
		return f.err
	}
	return f.guest.instantiate(h, in)
}

func TestTrialRetriesOnce(t *testing.T) {
	f := cFixture(t, Options{})
	busy := errors.New("Device or resource busy (os error 16)")
	trap := fmt.Errorf("start: %w", wasmtime.ErrTrap)
	for _, g := range f.guests {
		for _, c := range []struct {
			name      string
			fails     int
			err       error
			wantCalls int
			wantErr   bool
		}{
			{"transient", 1, busy, 2, false},
			{"persistent", 2, busy, 2, true},
			{"trap", 1, trap, 1, true},
		} {
			fg := &flakyGuest{guest: f.h.guests[g.id()], fails: c.fails, err: c.err}
			err := f.h.trial(fg)
			if fg.calls != c.wantCalls || (err != nil) != c.wantErr {
				t.Errorf("%s %s: %d instantiations, error %v; want %d, error %v", g.id(), c.name, fg.calls, err, c.wantCalls, c.wantErr)
			}
			if c.wantErr && (err == nil || !errors.Is(err, c.err)) {
				t.Errorf("%s %s: error %v does not carry the first failure", g.id(), c.name, err)
			}
		}
	}
}

// panicStoreGuest panics while a new store is set up for it.
type panicStoreGuest struct{ guest }

func (panicStoreGuest) setupStore(*Host, *wasmtime.Store) (storeIO, error) {
	panic("host bug in setup")
}

// TestReusePanicBeforeCallFreesSlot: a panic while the instance's store is
// set up (before the guest runs) frees the MaxLive slot too.
func TestReusePanicBeforeCallFreesSlot(t *testing.T) {
	f := cFixture(t, Options{Reuse: Reuse{Min: 1000, Max: 1000, MaxLive: 1}})
	for _, g := range f.guests {
		bad := panicStoreGuest{f.h.guests[g.id()]}
		for range 3 {
			func() {
				defer func() { _ = recover() }()
				_ = f.h.inInstance(context.Background(), msgDeadline{}, bad, 0, func(*instance, func(), *phaseClock) error {
					t.Error("called without a store")
					return nil
				})
			}()
		}
		if live, idle, _ := g.pool(f).stats(); live != 0 || idle != 0 {
			t.Errorf("%s: live %d idle %d after panics, want 0 and 0", g.id(), live, idle)
		}
		if got, want := fmt.Sprint(f.counts(t, g.id(), 3)), "[1 2 3]"; got != want {
			t.Errorf("%s: counts %s after panics, want %s (one reused instance)", g.id(), got, want)
		}
	}
}

func TestMaxPayload(t *testing.T) {
	f := cFixture(t, Options{MaxComponentPayload: 3 << 20})
	for _, c := range []struct {
		id   string
		want int
	}{{"c-component", 3 << 20}, {"c-module", maxModulePayload}, {"nonesuch", 0}} {
		if got := f.h.MaxPayload(c.id); got != c.want {
			t.Errorf("MaxPayload(%q) = %d, want %d", c.id, got, c.want)
		}
	}
	if got := newFixtureOf(t, Options{MaxComponentPayload: -1}, nil, nil, func(g testGuest) bool { return g.name == "c" }).h.MaxPayload("c-component"); got != 0 {
		t.Errorf("MaxPayload with no component limit = %d, want 0", got)
	}
}
