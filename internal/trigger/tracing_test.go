package trigger

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"

	"github.com/redspin/redspin/internal/streamentry"
	"github.com/redspin/redspin/internal/telemetry"
	"github.com/redspin/redspin/internal/testutil/otlpreceiver"
	"github.com/redspin/redspin/internal/testutil/redisserver"
)

// tracing configures OTLP export to a fresh in-process receiver with extra env; flush exports what
// was recorded.
func tracing(t testing.TB, env map[string]string) (rcv *otlpreceiver.Receiver, tp trace.TracerProvider, flush func()) {
	t.Helper()
	rcv = otlpreceiver.Start(t)
	m := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": rcv.URL}
	for k, v := range env {
		m[k] = v
	}
	tr, err := telemetry.New(context.Background(), telemetry.Config{Getenv: func(k string) string { return m[k] }, ServiceName: "app"})
	if err != nil {
		t.Fatal(err)
	}
	return rcv, tr.Provider, func() {
		if err := tr.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// A failed delivery's component span has status Error with the cause and its entry span status Error;
// the retry is a new trace with delivery count 2 that ends in ack.
func TestStreamTracingFailure(t *testing.T) {
	srv := redisserver.Start(t, redisserver.Options{})
	rcv, tp, flush := tracing(t, nil)
	h := &entryRecorder{fn: func(ctx context.Context, e streamentry.Entry) (streamentry.Disposition, error) {
		if !trace.SpanFromContext(ctx).IsRecording() {
			t.Errorf("handler context carries no recording span")
		}
		if e.Deliveries == 1 {
			return streamentry.Disposition{}, errors.New("boom")
		}
		return streamentry.Disposition{}, nil
	}}
	hs := startStreams(t, StreamConfig{Streams: []Stream{testStream(srv, "s")}, TracerProvider: tp}, h)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	id := xadd(t, rdb, "s", "payload", "x")
	waitFor(t, 10*time.Second, "two deliveries", func() bool { return len(h.byID(id)) == 2 && pendingCount(t, rdb, "s", "g") == 0 })
	if err := hs.stop(); err != nil {
		t.Fatal(err)
	}
	flush()
	spans := rcv.WaitSpans(t, 4)
	entries := otlpreceiver.Named(spans, "process s")
	comps := otlpreceiver.Named(spans, "component comp")
	if len(spans) != 4 || len(entries) != 2 || len(comps) != 2 {
		t.Fatalf("spans: %+v", spans)
	}
	for _, c := range comps {
		var e otlpreceiver.Span
		for _, x := range entries {
			if x.SpanID == c.ParentID && x.TraceID == c.TraceID {
				e = x
			}
		}
		if e.Name == "" || e.ParentID != "" || e.Attrs["messaging.message.id"] != id {
			t.Fatalf("component span %+v: entry span %+v", c, e)
		}
		switch e.Attrs["redspin.delivery_count"] {
		case "1":
			if !c.StatusError || c.StatusMessage != "boom" || c.Attrs["redspin.outcome"] != "failed" || !e.StatusError {
				t.Errorf("failed delivery: component %+v entry %+v", c, e)
			}
		case "2":
			if c.StatusError || e.StatusError || e.Attrs["redspin.disposition"] != "ack" || c.Attrs["redspin.outcome"] != "handled" {
				t.Errorf("retried delivery: component %+v entry %+v", c, e)
			}
		default:
			t.Errorf("delivery count %q", e.Attrs["redspin.delivery_count"])
		}
	}
	if entries[0].TraceID == entries[1].TraceID {
		t.Errorf("two deliveries share a trace")
	}
}

// With OTEL_TRACES_SAMPLER=always_off the handler sees no recording span and nothing is exported.
func TestPubSubTracingSamplerOff(t *testing.T) {
	for _, sampler := range []string{"always_off", "always_on"} {
		t.Run(sampler, func(t *testing.T) {
			mr := miniredis.RunT(t)
			rcv, tp, flush := tracing(t, map[string]string{"OTEL_TRACES_SAMPLER": sampler})
			rec := &recorder{fn: func(ctx context.Context, _ string, _ []byte) error {
				if got := trace.SpanFromContext(ctx).IsRecording(); got != (sampler == "always_on") {
					t.Errorf("recording = %v", got)
				}
				return nil
			}}
			hs := started(t, Config{Servers: []Server{miniServer(mr, Channel{Name: "c", Components: []string{"a", "b"}})},
				TracerProvider: tp}, rec)
			const n = 3
			for range n {
				mr.Publish("c", "hello")
			}
			waitFor(t, 10*time.Second, "handled", func() bool { return rec.count() == 2*n })
			if err := hs.stop(); err != nil {
				t.Fatal(err)
			}
			flush()
			want := 0
			if sampler == "always_on" {
				want = 3 * n // a message span and two component spans each
				spans := rcv.WaitSpans(t, want)
				for _, s := range otlpreceiver.Named(spans, "process c") {
					if s.Attrs["messaging.message.body.size"] != strconv.Itoa(len("hello")) || s.Attrs["server.address"] != mr.Addr() {
						t.Errorf("message span %+v", s)
					}
				}
			}
			if got := len(rcv.Spans()); got != want {
				t.Errorf("%d spans exported, want %d", got, want)
			}
		})
	}
}
