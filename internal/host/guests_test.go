package host

import (
	"github.com/redspin/redspin/internal/testutil/syncbuf"

	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// testCacheDir is shared by the tests of this package so that each real
// guest is compiled once (the JS guests take many seconds): by default a
// directory in the user's cache (like Go's build cache; entries are keyed
// by content and engine settings, so they never go stale), or a fresh
// temporary one with REDSPIN_TEST_FRESH_CACHE=1.
var testCacheDir string

func TestMain(m *testing.M) {
	var cleanup func()
	if dir, err := os.UserCacheDir(); err == nil && os.Getenv("REDSPIN_TEST_FRESH_CACHE") == "" {
		testCacheDir = filepath.Join(dir, "redspin", "test-artifacts")
	} else {
		tmp, err := os.MkdirTemp("", "redspin-host-test-cache-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		testCacheDir, cleanup = tmp, func() { os.RemoveAll(tmp) }
	}
	code := m.Run()
	if cleanup != nil {
		cleanup()
	}
	os.Exit(code)
}

const guestsDir = "../../testdata/guests"

// testGuest is one real guest binary in one shape.
type testGuest struct {
	name, shape, path string
}

func (g testGuest) id() string { return g.name + "-" + shapeSuffix(g.shape) }

func shapeSuffix(shape string) string {
	switch shape {
	case ShapeComponent:
		return "component"
	case ShapeModule:
		return "module"
	}
	return "spin1"
}

// protocolGuests lists the guests in testdata/guests that answer the
// payload protocol (README there), in every shape present.
func protocolGuests(t testing.TB) []testGuest {
	t.Helper()
	dirs, err := os.ReadDir(guestsDir)
	if err != nil {
		t.Skipf("no guests: %v", err)
	}
	var out []testGuest
	for _, d := range dirs {
		name := d.Name()
		if !d.IsDir() || name == "negative" || name == "js-platform" || name == "js-http" {
			continue
		}
		if p := filepath.Join(guestsDir, name, name+".wasm"); fileExists(p) {
			shape := ShapeComponent
			if name == "spin1" || strings.HasPrefix(name, "spin1-") {
				shape = ShapeSpin1Module
			}
			out = append(out, testGuest{name, shape, p})
		}
		if p := filepath.Join(guestsDir, name, name+".core.wasm"); fileExists(p) {
			out = append(out, testGuest{name, ShapeModule, p})
		}
	}
	if len(out) == 0 {
		t.Skip("no guests built in testdata/guests")
	}
	return out
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// knownBroken are guests whose binaries cannot work by the component
// model's rules (reported to the guest builders), keyed by id.
var knownBroken = map[string]string{}

// knownBrokenBig are guests that cannot take big payloads by the component
// model's rules.
var knownBrokenBig = map[string]string{}

type fixture struct {
	h      *Host
	logDir string
	stderr *syncBuffer
	guests []testGuest
}

// syncBuffer is a goroutine-safe buffer for captured output.
type syncBuffer = syncbuf.Buffer

// newFixture loads every protocol guest into one Host.
func newFixture(t testing.TB, opts Options, env map[string]string, mounts []Mount) *fixture {
	t.Helper()
	return newFixtureOf(t, opts, env, mounts, nil)
}

// newFixtureOf loads the protocol guests that keep accepts (nil = all)
// into one Host.
func newFixtureOf(t testing.TB, opts Options, env map[string]string, mounts []Mount, keep func(testGuest) bool) *fixture {
	t.Helper()
	f := &fixture{logDir: t.TempDir(), stderr: &syncBuffer{}}
	var comps []ComponentConfig
	for _, g := range protocolGuests(t) {
		if keep != nil && !keep(g) {
			continue
		}
		if why, bad := knownBroken[g.id()]; bad {
			t.Logf("skipping %s: %s", g.id(), why)
			continue
		}
		f.guests = append(f.guests, g)
		comps = append(comps, ComponentConfig{ID: g.id(), WasmPath: g.path, Env: env, Mounts: mounts})
	}
	opts.LogDir = f.logDir
	opts.Stderr = f.stderr
	if opts.CacheDir == "" && !opts.DisableCache {
		opts.CacheDir = testCacheDir
	}
	h, err := New(context.Background(), comps, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	f.h = h
	return f
}

func (f *fixture) stdout(t testing.TB, id string) string {
	b, _ := os.ReadFile(filepath.Join(f.logDir, id+"_stdout.txt"))
	return string(b)
}

func (f *fixture) stderrFile(t testing.TB, id string) string {
	b, _ := os.ReadFile(filepath.Join(f.logDir, id+"_stderr.txt"))
	return string(b)
}

// unsupported reports whether the guest answered "unsupported:<cmd>".
func (f *fixture) unsupported(t testing.TB, id, cmd string) bool {
	return strings.Contains(f.stderrFile(t, id), "unsupported:"+cmd)
}

func TestGuestShapes(t *testing.T) {
	f := newFixture(t, Options{}, nil, nil)
	for _, g := range f.guests {
		info, ok := f.h.Info(g.id())
		if !ok || info.Shape != g.shape {
			t.Errorf("%s: Info = %+v, %v; want shape %s", g.id(), info, ok, g.shape)
		}
	}
	if _, ok := f.h.Info("nope"); ok {
		t.Error("Info of an unknown component")
	}
	err := f.h.Handle(context.Background(), "nope", nil)
	if err == nil || !strings.Contains(err.Error(), `unknown component "nope"`) {
		t.Errorf("unknown component: %v", err)
	}
}

func TestProtocol(t *testing.T) {
	f := newFixture(t, Options{HandlerTimeout: 5 * time.Second}, nil, nil)
	ctx := context.Background()
	for _, g := range f.guests {
		t.Run(g.id(), func(t *testing.T) {
			id := g.id()
			if err := f.h.Handle(ctx, id, []byte("print:hello from "+id)); err != nil {
				t.Fatalf("print: %v", err)
			}
			if got := f.stdout(t, id); !strings.Contains(got, "hello from "+id+"\n") {
				t.Errorf("stdout file = %q", got)
			}
			if err := f.h.Handle(ctx, id, []byte("stderr:oops from "+id)); err != nil {
				t.Fatalf("stderr: %v", err)
			}
			if got := f.stderrFile(t, id); !strings.Contains(got, "oops from "+id+"\n") {
				t.Errorf("stderr file = %q", got)
			}
			// Followed by default: echoed to Stderr.
			if !strings.Contains(f.stderr.String(), "hello from "+id+"\n") || !strings.Contains(f.stderr.String(), "oops from "+id+"\n") {
				t.Errorf("output not echoed to Stderr")
			}
			err := f.h.Handle(ctx, id, []byte("fail"))
			if !errors.Is(err, ErrHandlerFailed) || !strings.Contains(err.Error(), `component "`+id+`"`) {
				t.Errorf("fail: %v", err)
			}
			if err := f.h.Handle(ctx, id, []byte("errsuccess")); err != nil {
				t.Errorf("errsuccess must count as success: %v", err)
			}
			err = f.h.Handle(ctx, id, []byte("trap"))
			if err == nil || !strings.Contains(err.Error(), `component "`+id+`"`) || !strings.Contains(err.Error(), "trap") {
				t.Errorf("trap: %v", err)
			}
			// Each message gets a fresh instance: still working after a trap.
			if err := f.h.Handle(ctx, id, nil); err != nil {
				t.Errorf("empty payload after a trap: %v", err)
			}
			if got := f.stdout(t, id); !strings.Contains(got, g.name+" got 0 bytes\n") {
				t.Errorf("empty payload: stdout = %q", got)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	f := newFixture(t, Options{HandlerTimeout: 150 * time.Millisecond}, nil, nil)
	// Cancellation is tested on a host whose timeout cannot fire first, however
	// late the cancel's timer runs on a loaded machine.
	fc := newFixture(t, Options{HandlerTimeout: time.Minute}, nil, nil)
	for _, g := range f.guests {
		t.Run(g.id(), func(t *testing.T) {
			start := time.Now()
			err := f.h.Handle(context.Background(), g.id(), []byte("loop"))
			if f.unsupported(t, g.id(), "loop") {
				t.Skip("guest does not support loop")
			}
			if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), `component "`+g.id()+`"`) ||
				!strings.Contains(err.Error(), "timed out") {
				t.Fatalf("loop: %v", err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("timeout took %s", d)
			}
			// Context cancellation also stops the guest.
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			err = fc.h.Handle(ctx, g.id(), []byte("loop"))
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("loop with cancel: %v", err)
			}
			if err := f.h.Handle(context.Background(), g.id(), []byte("print:after")); err != nil {
				t.Fatalf("after timeout: %v", err)
			}
		})
	}
}

func TestMemoryCap(t *testing.T) {
	f := newFixture(t, Options{MaxInstanceMemory: 48 << 20, HandlerTimeout: 10 * time.Second}, nil, nil)
	for _, g := range f.guests {
		t.Run(g.id(), func(t *testing.T) {
			id := g.id()
			if err := f.h.Handle(context.Background(), id, []byte("alloc:4")); err != nil {
				if f.unsupported(t, id, "alloc") {
					t.Skip("guest does not support alloc")
				}
				t.Fatalf("alloc:4 under a 48 MiB cap: %v", err)
			}
			err := f.h.Handle(context.Background(), id, []byte("alloc:96"))
			if err == nil {
				t.Fatal("alloc:96 under a 48 MiB cap succeeded")
			}
			if !strings.Contains(err.Error(), `component "`+id+`"`) {
				t.Errorf("error does not name the component: %v", err)
			}
			// Either the guest reports it (err(error) + a line on stderr) or
			// it traps and the error names the trap (and the cap only when
			// the memory reached it: TestMemoryCapHint).
			if errors.Is(err, ErrHandlerFailed) {
				if !strings.Contains(f.stderrFile(t, id), "alloc:96: out of memory") {
					t.Errorf("err(error) without the out-of-memory line; stderr = %q", f.stderrFile(t, id))
				}
			} else if !strings.Contains(err.Error(), "trap") || strings.Contains(err.Error(), "cap") && !strings.Contains(err.Error(), "48 MiB cap") {
				t.Errorf("trap error should name the trap (and the cap, if at all, right): %v", err)
			}
			t.Logf("%s: %v", id, err)
			if err := f.h.Handle(context.Background(), id, []byte("alloc:4")); err != nil {
				t.Fatalf("alloc:4 after an OOM: %v", err)
			}
		})
	}
}

func TestEnvAndFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "greeting.txt"), []byte("hi from a file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("REDSPIN_HOST_SECRET", "leaked")
	f := newFixture(t, Options{}, map[string]string{"FOO": "bar baz", "EMPTY": ""}, []Mount{{HostDir: dir, GuestDir: "/data"}})
	for _, g := range f.guests {
		t.Run(g.id(), func(t *testing.T) {
			id := g.id()
			ctx := context.Background()
			err := f.h.Handle(ctx, id, []byte("env:FOO"))
			if f.unsupported(t, id, "env") {
				t.Skip("guest does not support env")
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := f.stdout(t, id); !strings.Contains(got, "bar baz\n") {
				t.Errorf("env:FOO: stdout = %q", got)
			}
			if err := f.h.Handle(ctx, id, []byte("env:REDSPIN_HOST_SECRET")); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(f.stdout(t, id), "leaked") || !strings.Contains(f.stderrFile(t, id), "unset:REDSPIN_HOST_SECRET") {
				t.Errorf("host environment visible to the guest")
			}
			err = f.h.Handle(ctx, id, []byte("file:/data/greeting.txt"))
			if f.unsupported(t, id, "file") {
				return
			}
			if err != nil {
				t.Fatalf("file: %v (stderr %q)", err, f.stderrFile(t, id))
			}
			if got := f.stdout(t, id); !strings.Contains(got, "hi from a file\n") {
				t.Errorf("file: stdout = %q", got)
			}
			if err := f.h.Handle(ctx, id, []byte("file:/etc/passwd")); !errors.Is(err, ErrHandlerFailed) {
				t.Errorf("file outside the mounts: %v", err)
			}
		})
	}
}

func TestPayloads(t *testing.T) {
	sizes := []int{1 << 20, 16 << 20}
	f := newFixture(t, Options{HandlerTimeout: time.Minute, MaxComponentPayload: 16 << 20, ComponentPayloadBudget: 16 << 20}, nil, nil)
	for _, g := range f.guests {
		for _, n := range sizes {
			t.Run(fmt.Sprintf("%s/%d", g.id(), n), func(t *testing.T) {
				if raceEnabled && n > 1<<20 {
					t.Skip("big payloads are too slow under -race")
				}
				if why, bad := knownBrokenBig[g.id()]; bad {
					t.Skip(why)
				}
				payload := make([]byte, n)
				copy(payload, "len:")
				for i := 4; i < n; i++ {
					payload[i] = 'x'
				}
				if err := f.h.Handle(context.Background(), g.id(), payload); err != nil {
					t.Fatal(err)
				}
				if got := f.stdout(t, g.id()); !strings.Contains(got, fmt.Sprintf("len=%d\n", n)) {
					t.Errorf("stdout = %q", got)
				}
			})
		}
	}
	// Components are capped; modules are not.
	small := newFixture(t, Options{MaxComponentPayload: 1000}, nil, nil)
	for _, g := range small.guests {
		err := small.h.Handle(context.Background(), g.id(), make([]byte, 1001))
		if g.shape == ShapeComponent {
			if !errors.Is(err, ErrPayloadTooLarge) || !strings.Contains(err.Error(), `component "`+g.id()+`"`) || !strings.Contains(err.Error(), "--max-component-payload") {
				t.Errorf("%s: over the cap: %v", g.id(), err)
			}
		} else if err != nil {
			t.Errorf("%s: module payloads are not capped: %v", g.id(), err)
		}
	}
}

func TestConcurrentMessages(t *testing.T) {
	f := newFixture(t, Options{HandlerTimeout: time.Minute}, nil, nil)
	const workers, perWorker = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker*len(f.guests))
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				for _, g := range f.guests {
					line := fmt.Sprintf("print:w%d-m%d-%s", w, i, strings.Repeat("z", 100))
					if err := f.h.Handle(context.Background(), g.id(), []byte(line)); err != nil {
						errs <- err
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, g := range f.guests {
		lines := strings.Split(strings.TrimSuffix(f.stdout(t, g.id()), "\n"), "\n")
		if len(lines) != workers*perWorker {
			t.Errorf("%s: %d lines, want %d", g.id(), len(lines), workers*perWorker)
		}
		seen := map[string]bool{}
		for _, l := range lines {
			var w, i int
			if _, err := fmt.Sscanf(l, "w%d-m%d-", &w, &i); err != nil || !strings.HasSuffix(l, strings.Repeat("z", 100)) {
				t.Errorf("%s: mangled line %q", g.id(), l)
			}
			seen[l] = true
		}
		if len(seen) != workers*perWorker {
			t.Errorf("%s: %d distinct lines", g.id(), len(seen))
		}
	}
}

func TestCompileCache(t *testing.T) {
	dir := t.TempDir()
	gs := protocolGuests(t)
	var comps []ComponentConfig
	for _, g := range gs {
		if g.name == "c" { // small and quick to compile
			comps = append(comps, ComponentConfig{ID: g.id(), WasmPath: g.path})
		}
	}
	if len(comps) == 0 {
		t.Skip("no c guest")
	}
	// The same binary twice is compiled once.
	comps = append(comps, ComponentConfig{ID: "again", WasmPath: comps[0].WasmPath})
	opts := Options{CacheDir: dir, Stderr: &syncBuffer{}}
	h1, err := New(context.Background(), comps, opts)
	if err != nil {
		t.Fatal(err)
	}
	if s := h1.Stats(); s.Compiled != len(comps)-1 || s.CacheHits != 0 {
		t.Errorf("first start: %+v", s)
	}
	h1.Close()
	h2, err := New(context.Background(), comps, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	if s := h2.Stats(); s.Compiled != 0 || s.CacheHits != len(comps)-1 {
		t.Errorf("second start compiled: %+v", s)
	}
	for _, c := range comps {
		if err := h2.Handle(context.Background(), c.ID, []byte("print:x")); err != nil {
			t.Errorf("%s from cache: %v", c.ID, err)
		}
	}
	// A different engine configuration does not reuse the artifacts.
	opts.DisablePooling = true
	h3, err := New(context.Background(), comps, opts)
	if err != nil {
		t.Fatal(err)
	}
	if s := h3.Stats(); s.Compiled != len(comps)-1 {
		t.Errorf("other engine config: %+v", s)
	}
	h3.Close()
	// A corrupt cache entry is recompiled, not fatal.
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	sort.Strings(files)
	for _, p := range files {
		os.WriteFile(p, []byte("garbage"), 0o644)
	}
	opts.DisablePooling = false
	h4, err := New(context.Background(), comps, opts)
	if err != nil {
		t.Fatal(err)
	}
	if s := h4.Stats(); s.Compiled != len(comps)-1 {
		t.Errorf("corrupt cache: %+v", s)
	}
	h4.Close()
	// DisableCache ignores the directory.
	opts.DisableCache = true
	h5, err := New(context.Background(), comps, opts)
	if err != nil {
		t.Fatal(err)
	}
	if s := h5.Stats(); s.CacheHits != 0 || s.Compiled != len(comps)-1 {
		t.Errorf("DisableCache: %+v", s)
	}
	h5.Close()
}

func TestNoLogDirFollow(t *testing.T) {
	gs := protocolGuests(t)
	var path string
	for _, g := range gs {
		if g.name == "c" && g.shape == ShapeComponent {
			path = g.path
		}
	}
	if path == "" {
		t.Skip("no c component")
	}
	// No log dir: followed components go to Stderr, the others are discarded
	// (redspin up -q -L "").
	var buf syncBuffer
	h, err := New(context.Background(), []ComponentConfig{{ID: "a", WasmPath: path}, {ID: "b", WasmPath: path}},
		Options{Stderr: &buf, Follow: func(id string) bool { return id == "b" }, CacheDir: testCacheDir})
	if err != nil {
		t.Fatal(err)
	}
	h.Handle(context.Background(), "a", []byte("print:no-log-dir-a"))
	h.Handle(context.Background(), "b", []byte("print:no-log-dir-b"))
	h.Close()
	if strings.Contains(buf.String(), "no-log-dir-a") || !strings.Contains(buf.String(), "no-log-dir-b\n") {
		t.Errorf("stderr = %q", buf.String())
	}
	// With a log dir, only followed components are echoed.
	buf = syncBuffer{}
	dir := t.TempDir()
	h, err = New(context.Background(), []ComponentConfig{{ID: "a", WasmPath: path}, {ID: "b", WasmPath: path}},
		Options{Stderr: &buf, LogDir: dir, Follow: func(id string) bool { return id == "b" }, CacheDir: testCacheDir})
	if err != nil {
		t.Fatal(err)
	}
	h.Handle(context.Background(), "a", []byte("print:from-a"))
	h.Handle(context.Background(), "b", []byte("print:from-b"))
	h.Close()
	if strings.Contains(buf.String(), "from-a") || !strings.Contains(buf.String(), "from-b\n") {
		t.Errorf("follow: stderr = %q", buf.String())
	}
	b, _ := os.ReadFile(filepath.Join(dir, "a_stdout.txt"))
	if string(b) != "from-a\n" {
		t.Errorf("a_stdout.txt = %q", b)
	}
}

func TestSlowCompileNotice(t *testing.T) {
	p := filepath.Join(guestsDir, "c", "c.wasm")
	if !fileExists(p) {
		t.Skip("no c guest")
	}
	old := slowCompileAfter
	slowCompileAfter = 0
	defer func() { slowCompileAfter = old }()
	dir := t.TempDir()
	for i, want := range []bool{true, false} { // compile, then a cache hit
		var stderr syncBuffer
		h, err := New(context.Background(), []ComponentConfig{{ID: "c", WasmPath: p}}, Options{CacheDir: dir, Stderr: &stderr})
		if err != nil {
			t.Fatal(err)
		}
		h.Close()
		// When started, the notice's timer fired during the compile; its
		// goroutine may still be writing: poll for it.
		got := false
		for deadline := time.Now().Add(2 * time.Second); want && !got && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			got = strings.Contains(stderr.String(), slowCompileNotice)
		}
		got = strings.Contains(stderr.String(), slowCompileNotice)
		if got != want {
			t.Errorf("start %d: notice printed = %v, want %v (stderr %q)", i, got, want, stderr.String())
		}
	}
}
