package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redspin/redspin/internal/streamentry"
	"github.com/redspin/redspin/internal/wasmtime"
)

// streamOnlyWAT is a component exporting only redspin:streams/inbound-stream,
// whose handler answers ack.
const streamOnlyWAT = guestsDir + "/stream/stream-only.wat"

// watFile compiles a WAT file into a .wasm file in a temp dir.
func watFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return writeWAT(t, filepath.Base(path)+".wasm", string(b))
}

// entryFixture loads the stream guest (rich handler), guests with only the
// plain handler in each shape, and the stream-only WAT component.
func entryFixture(t *testing.T, opts Options) (*Host, string) {
	t.Helper()
	comps := []ComponentConfig{{ID: "stream-only", WasmPath: watFile(t, streamOnlyWAT)}}
	for id, file := range map[string]string{
		"stream": "stream/stream.wasm", "stream-module": "stream/stream.core.wasm",
		"c": "c/c.wasm", "c-module": "c/c.core.wasm", "spin1": "spin1/spin1.wasm",
	} {
		p := filepath.Join(guestsDir, file)
		if !fileExists(p) {
			t.Skipf("guest %s not built", p)
		}
		comps = append(comps, ComponentConfig{ID: id, WasmPath: p})
	}
	logDir := t.TempDir()
	opts.LogDir, opts.Stderr, opts.CacheDir = logDir, &syncBuffer{}, testCacheDir
	h, err := New(context.Background(), comps, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h, logDir
}

// entry is a stream entry whose `action` field is action.
func entry(action string, deliveries int64) streamentry.Entry {
	return streamentry.Entry{Stream: "orders", ID: "1700000000000-0", Group: "workers", Deliveries: deliveries,
		Fields:  []streamentry.Field{{Name: "action", Value: []byte(action)}, {Name: "payload", Value: []byte("hi")}},
		Payload: []byte("hi")}
}

func TestEntryShapes(t *testing.T) {
	h, _ := entryFixture(t, Options{})
	for id, want := range map[string]ComponentInfo{
		"stream":        {Shape: ShapeComponent, Export: exportInboundRedis, StreamExport: exportInboundStream},
		"stream-only":   {Shape: ShapeComponent, StreamExport: exportInboundStream},
		"stream-module": {Shape: ShapeModule, Export: exportCoreHandler}, // core modules: the plain handler only
		"c":             {Shape: ShapeComponent, Export: exportInboundRedis},
	} {
		info, _ := h.Info(id)
		info.UnsupportedImports, info.WASI = nil, "" // the WASI path: TestWASIPaths
		if fmt.Sprint(info) != fmt.Sprint(want) {
			t.Errorf("%s: Info = %+v, want %+v", id, info, want)
		}
	}
	// A pub/sub trigger cannot run a component with only the stream handler.
	err := h.Handle(context.Background(), "stream-only", []byte("x"))
	if err == nil || err.Error() != `component "stream-only": exports only redspin:streams/inbound-stream@0.1.0, so only a redis-stream trigger can run it` {
		t.Errorf("Handle of a stream-only component: %v", err)
	}
	if d, err := h.HandleEntry(context.Background(), "stream-only", entry("x", 1)); err != nil || d != (streamentry.Disposition{}) {
		t.Errorf("stream-only: %+v, %v", d, err)
	}
	if _, err := h.HandleEntry(context.Background(), "nope", entry("ack", 1)); err == nil || err.Error() != `unknown component "nope"` {
		t.Errorf("unknown component: %v", err)
	}
}

func TestHandleEntryRich(t *testing.T) {
	h, _ := entryFixture(t, Options{HandlerTimeout: 5 * time.Second})
	ctx := context.Background()
	for _, tc := range []struct {
		action     string
		deliveries int64
		want       streamentry.Disposition
	}{
		{"ack", 1, streamentry.Disposition{Action: streamentry.Ack}},
		{"", 1, streamentry.Disposition{Action: streamentry.Ack}},
		{"retry", 1, streamentry.Disposition{Action: streamentry.Retry}},
		{"retry-after:250", 1, streamentry.Disposition{Action: streamentry.Retry, RetryAfter: 250 * time.Millisecond}},
		{"retry-after:0", 1, streamentry.Disposition{Action: streamentry.Retry}},
		{"dead:bad input", 1, streamentry.Disposition{Action: streamentry.DeadLetter, Reason: "bad input"}},
		{"dead:", 1, streamentry.Disposition{Action: streamentry.DeadLetter}},
		{"ack-after:2", 1, streamentry.Disposition{Action: streamentry.Retry}},
		{"ack-after:2", 2, streamentry.Disposition{Action: streamentry.Ack}},
		{"ack-after:2", 7, streamentry.Disposition{Action: streamentry.Ack}},
		{"frobnicate", 1, streamentry.Disposition{Action: streamentry.DeadLetter, Reason: "unsupported action frobnicate"}},
	} {
		d, err := h.HandleEntry(ctx, "stream", entry(tc.action, tc.deliveries))
		if err != nil || d != tc.want {
			t.Errorf("action %q, delivery %d: got %+v, %v; want %+v", tc.action, tc.deliveries, d, err, tc.want)
		}
	}
	_, err := h.HandleEntry(ctx, "stream", entry("trap", 1))
	if !errors.Is(err, wasmtime.ErrTrap) || !strings.HasPrefix(err.Error(), `component "stream": handle-entry: guest trapped`) {
		t.Errorf("trap: %v", err)
	}
	// A fresh instance per entry: still fine after the trap.
	if d, err := h.HandleEntry(ctx, "stream", entry("ack", 1)); err != nil || d.Action != streamentry.Ack {
		t.Errorf("after a trap: %+v, %v", d, err)
	}
}

// TestHandleEntryEcho checks every part of the entry the guest receives,
// including a field name that is not UTF-8 and an empty value.
func TestHandleEntryEcho(t *testing.T) {
	h, logDir := entryFixture(t, Options{})
	e := streamentry.Entry{Stream: "orders", ID: "1700000000000-7", Group: "workers", Deliveries: 3, Fields: []streamentry.Field{
		{Name: "action", Value: []byte("echo")}, {Name: "n\xff", Value: []byte("v\x00w")}, {Name: "empty"}}}
	if d, err := h.HandleEntry(context.Background(), "stream", e); err != nil || d.Action != streamentry.Ack {
		t.Fatalf("echo: %+v, %v", d, err)
	}
	want := "stream=orders id=1700000000000-7 group=workers deliveries=3 fields=3\naction=echo\nn\uFFFD=v\x00w\nempty=\n"
	if got := readFile(t, filepath.Join(logDir, "stream_stdout.txt")); got != want {
		t.Errorf("the guest printed %q, want %q", got, want)
	}
}

// TestHandleEntryPlain: guests without the rich export get e.Payload through
// their plain handler, in all three shapes.
func TestHandleEntryPlain(t *testing.T) {
	h, logDir := entryFixture(t, Options{})
	ctx := context.Background()
	for _, id := range []string{"c", "c-module", "spin1", "stream-module"} {
		t.Run(id, func(t *testing.T) {
			e := entry("dead:ignored", 1) // the action field means nothing to a plain handler
			e.Payload = []byte("print:payload of " + id)
			if d, err := h.HandleEntry(ctx, id, e); err != nil || d != (streamentry.Disposition{Action: streamentry.Ack}) {
				t.Fatalf("print: %+v, %v", d, err)
			}
			e.Payload = nil // the trigger's field is absent: an empty payload
			if d, err := h.HandleEntry(ctx, id, e); err != nil || d.Action != streamentry.Ack {
				t.Fatalf("nil payload: %+v, %v", d, err)
			}
			name := strings.TrimSuffix(id, "-module")
			if got := readFile(t, filepath.Join(logDir, id+"_stdout.txt")); got != "payload of "+id+"\n"+name+" got 0 bytes\n" {
				t.Errorf("stdout = %q", got)
			}
			e.Payload = []byte("fail")
			if _, err := h.HandleEntry(ctx, id, e); !errors.Is(err, ErrHandlerFailed) || !strings.Contains(err.Error(), `component "`+id+`"`) {
				t.Errorf("fail: %v", err)
			}
			e.Payload = []byte("errsuccess")
			if d, err := h.HandleEntry(ctx, id, e); err != nil || d.Action != streamentry.Ack {
				t.Errorf("errsuccess: %+v, %v", d, err)
			}
		})
	}
}

func TestHandleEntryLimits(t *testing.T) {
	h, _ := entryFixture(t, Options{HandlerTimeout: 150 * time.Millisecond, MaxComponentPayload: 1024})
	ctx := context.Background()
	start := time.Now()
	_, err := h.HandleEntry(ctx, "stream", entry("loop", 1))
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), `component "stream": handle-entry: handler timed out after 150ms`) {
		t.Errorf("loop: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("timeout took %s", d)
	}
	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := h.HandleEntry(ctx2, "stream", entry("ack", 1)); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: %v", err)
	}
	big := entry("ack", 1)
	big.Fields = append(big.Fields, streamentry.Field{Name: "blob", Value: make([]byte, 1010)})
	_, err = h.HandleEntry(ctx, "stream", big)
	if !errors.Is(err, ErrPayloadTooLarge) || !strings.Contains(err.Error(), "entry 1700000000000-0: payload too large: 1032 bytes exceeds the component payload limit of 1024 bytes (raise --max-component-payload)") {
		t.Errorf("big entry: %v", err)
	}
	h.Close()
	if _, err := h.HandleEntry(ctx, "stream", entry("ack", 1)); err == nil || err.Error() != `component "stream": host is closed` {
		t.Errorf("after Close: %v", err)
	}
}

func TestConcurrentEntries(t *testing.T) {
	h, _ := entryFixture(t, Options{HandlerTimeout: 10 * time.Second})
	var wg sync.WaitGroup
	errs := make(chan error, 8*25)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				want := streamentry.Disposition{Action: streamentry.Retry, RetryAfter: time.Duration(w*100+i) * time.Millisecond}
				d, err := h.HandleEntry(context.Background(), "stream", entry(fmt.Sprintf("retry-after:%d", w*100+i), 1))
				if err == nil && d != want {
					err = fmt.Errorf("got %+v, want %+v", d, want)
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
