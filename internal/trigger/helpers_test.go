package trigger

import (
	"github.com/redspin/redspin/internal/testutil/syncbuf"

	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/admin"
)

// syncBuffer is a goroutine-safe buffer for captured output.
type syncBuffer = syncbuf.Buffer

// handlerFunc adapts a function to Handler.
type handlerFunc func(ctx context.Context, component string, payload []byte) error

func (f handlerFunc) Handle(ctx context.Context, component string, payload []byte) error {
	return f(ctx, component, payload)
}

// call is one recorded handler invocation.
type call struct {
	component string
	payload   string
}

// recorder is a fake Handler that records calls and optionally runs fn.
type recorder struct {
	mu    sync.Mutex
	calls []call
	fn    func(ctx context.Context, component string, payload []byte) error
}

func (r *recorder) Handle(ctx context.Context, component string, payload []byte) error {
	r.mu.Lock()
	r.calls = append(r.calls, call{component, string(payload)})
	fn := r.fn
	r.mu.Unlock()
	if fn != nil {
		return fn(ctx, component, payload)
	}
	return nil
}

func (r *recorder) payloads(component string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, c := range r.calls {
		if c.component == component {
			out = append(out, c.payload)
		}
	}
	return out
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// runner runs a trigger's Run in the background for one test: both
// trigger types' harnesses embed it.
type runner struct {
	t      *testing.T
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
	// what names the trigger in failures; stopWithin bounds how long Run
	// may take to return after cancel.
	what       string
	stopWithin time.Duration
}

func newRunner(t *testing.T, what string, stopWithin time.Duration) runner {
	return runner{t: t, logs: &syncBuffer{}, done: make(chan error, 1), what: what, stopWithin: stopWithin}
}

// start runs run until the test ends (Cleanup cancels it and waits for it,
// logging the trigger's logs when the test failed or is verbose).
func (r *runner) start(run func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- run(ctx) }()
	r.t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(r.stopWithin):
			r.t.Errorf("%s: Run did not return after cancel", r.what)
		}
		if r.t.Failed() || testing.Verbose() {
			r.t.Logf("%s logs:\n%s", r.what, r.logs.String())
		}
	})
}

// waitReady waits until ready reports true, failing at once when Run
// returns first.
func (r *runner) waitReady(ready func() bool) {
	r.t.Helper()
	waitFor(r.t, 10*time.Second, r.what+" ready", func() bool {
		select {
		case err := <-r.done:
			r.done <- err
			r.t.Fatalf("Run returned early: %v\nlogs:\n%s", err, r.logs.String())
		default:
		}
		return ready()
	})
}

// returned waits up to within for Run to return by itself and returns its
// error (Cleanup still sees it); the test fails when Run keeps running.
func (r *runner) returned(within time.Duration) error {
	r.t.Helper()
	select {
	case err := <-r.done:
		r.done <- err
		return err
	case <-time.After(within):
		r.t.Fatalf("%s: Run still running after %s\nlogs:\n%s", r.what, within, r.logs.String())
		return nil
	}
}

// stop cancels Run and returns its result.
func (r *runner) stop() error {
	r.t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err // for Cleanup
		return err
	case <-time.After(r.stopWithin):
		r.t.Fatalf("%s: Run did not return after cancel", r.what)
		return nil
	}
}

// harness runs a trigger in the background.
type harness struct {
	runner
	tr     *Trigger
	stdout *syncBuffer
}

func miniServer(mr *miniredis.Miniredis, channels ...Channel) Server {
	return Server{Display: mr.Addr(), Options: &redis.UniversalOptions{Addrs: []string{mr.Addr()}, Protocol: 2}, Channels: channels}
}

// newHarness creates the trigger (filling Stdout, Logger and Observer when
// unset) and starts Run. It does not wait for readiness.
func newHarness(t *testing.T, cfg Config, h Handler) *harness {
	t.Helper()
	hs := &harness{runner: newRunner(t, "trigger", 40*time.Second), stdout: &syncBuffer{}}
	if cfg.Stdout == nil {
		cfg.Stdout = hs.stdout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(hs.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if cfg.Observer == nil {
		cfg.Observer = admin.NewMetrics()
	}
	tr, err := New(cfg, h)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	hs.tr = tr
	hs.start(tr.Run)
	return hs
}

// started creates the harness and waits until every channel is subscribed.
func started(t *testing.T, cfg Config, h Handler) *harness {
	t.Helper()
	hs := newHarness(t, cfg, h)
	hs.waitReady(hs.tr.Ready)
	return hs
}

func (hs *harness) metric(name string, labels map[string]string) float64 {
	return hs.tr.cfg.Observer.(*admin.Metrics).Value(name, labels)
}

func (hs *harness) logLines(substr string) []string {
	var out []string
	for _, line := range strings.Split(hs.logs.String(), "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return out
}

// publisher returns a go-redis client for mr, closed at cleanup.
func publisher(t *testing.T, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// httpAdmin serves the admin routes for tr (its status and metrics) on a
// loopback port and returns the base URL.
func httpAdmin(t *testing.T, tr *Trigger) string {
	t.Helper()
	srv, err := admin.Start("127.0.0.1:0", tr.cfg.Observer.(*admin.Metrics), tr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close(context.Background()) })
	return "http://" + srv.Addr()
}

func probe(t *testing.T, base, path string) int {
	t.Helper()
	code, _ := get(t, base+path)
	return code
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// proxy forwards TCP to a backend; freeze stalls all forwarding (sockets stay
// open), simulating a silent network partition.
type proxy struct {
	ln      net.Listener
	backend string
	frozen  atomic.Bool
}

func newProxy(t *testing.T, backend string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, backend: backend}
	var conns sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range open {
			_ = c.Close()
		}
		mu.Unlock()
		conns.Wait()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", backend)
			if err != nil {
				_ = c.Close()
				continue
			}
			mu.Lock()
			open = append(open, c, b)
			mu.Unlock()
			conns.Go(func() { p.pipe(b, c) })
			conns.Go(func() { p.pipe(c, b) })
		}
	}()
	return p
}

func (p *proxy) pipe(dst, src net.Conn) {
	defer func() { _ = dst.Close(); _ = src.Close() }()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		for p.frozen.Load() {
			time.Sleep(5 * time.Millisecond)
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *proxy) addr() string { return p.ln.Addr().String() }
func (p *proxy) freeze()      { p.frozen.Store(true) }
func (p *proxy) thaw()        { p.frozen.Store(false) }
