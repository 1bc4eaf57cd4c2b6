package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"unicode/utf8"

	"go.opentelemetry.io/otel/trace"

	"github.com/redspin/redspin/internal/telemetry"
	"github.com/redspin/redspin/internal/testutil/otlpreceiver"
	"github.com/redspin/redspin/internal/testutil/spanrec"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// emit starts and ends one root span with a client child, then flushes.
func emit(t *testing.T, env map[string]string) *telemetry.Tracing {
	t.Helper()
	tr, err := telemetry.New(context.Background(), telemetry.Config{Getenv: envOf(env), ServiceName: "myapp"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, span := telemetry.Tracer(tr.Provider).Start(context.Background(), "root")
	_, end := telemetry.Client(ctx, "GET")
	end(nil)
	span.End()
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestExportOverHTTP(t *testing.T) {
	rcv := otlpreceiver.Start(t)
	tr := emit(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": rcv.URL, "OTEL_EXPORTER_OTLP_HEADERS": "x-api-key=s%20ecret,x-b=2"})
	if !tr.Enabled || tr.Endpoint != rcv.URL+"/v1/traces" || tr.Protocol != "http/protobuf" {
		t.Fatalf("tracing = %+v", tr)
	}
	spans := rcv.WaitSpans(t, 2)
	root, get := otlpreceiver.Named(spans, "root"), otlpreceiver.Named(spans, "GET")
	if len(root) != 1 || len(get) != 1 || get[0].ParentID != root[0].SpanID || get[0].TraceID != root[0].TraceID {
		t.Fatalf("span tree: %+v", spans)
	}
	if root[0].Service != "myapp" {
		t.Errorf("service.name = %q, want the app name", root[0].Service)
	}
	if got := rcv.Headers.Get("X-Api-Key"); got != "s ecret" {
		t.Errorf("header x-api-key = %q, want the URL-decoded value", got)
	}
}

func TestServiceNameAndTracesEndpoint(t *testing.T) {
	rcv := otlpreceiver.Start(t)
	emit(t, map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": rcv.URL + "/v1/traces",
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_SERVICE_NAME": "svc"})
	if s := rcv.WaitSpans(t, 2); s[0].Service != "svc" {
		t.Errorf("service.name = %q, want OTEL_SERVICE_NAME", s[0].Service)
	}
}

// TestSamplerOff: always_off records nothing, so nothing reaches the receiver, and the client helper
// starts no span under a non-recording parent.
func TestSamplerOff(t *testing.T) {
	rcv := otlpreceiver.Start(t)
	emit(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": rcv.URL, "OTEL_TRACES_SAMPLER": "always_off"})
	if s := rcv.Spans(); len(s) != 0 {
		t.Fatalf("exported %d spans with always_off: %+v", len(s), s)
	}
}

func TestOff(t *testing.T) {
	rcv := otlpreceiver.Start(t)
	for name, env := range map[string]map[string]string{
		"no endpoint":  {"OTEL_SERVICE_NAME": "x"},
		"sdk disabled": {"OTEL_EXPORTER_OTLP_ENDPOINT": rcv.URL, "OTEL_SDK_DISABLED": "true"},
	} {
		tr := emit(t, env)
		if tr.Enabled {
			t.Errorf("%s: tracing enabled", name)
		}
		if _, span := telemetry.Tracer(tr.Provider).Start(context.Background(), "x"); span.IsRecording() {
			t.Errorf("%s: span is recording", name)
		}
	}
	if s := rcv.Spans(); len(s) != 0 {
		t.Fatalf("exported %d spans while off", len(s))
	}
}

func TestBadEnv(t *testing.T) {
	for env, want := range map[string]string{
		"OTEL_EXPORTER_OTLP_PROTOCOL=http/json":   "OTEL_EXPORTER_OTLP_PROTOCOL",
		"OTEL_TRACES_SAMPLER=sometimes":           "OTEL_TRACES_SAMPLER",
		"OTEL_TRACES_SAMPLER_ARG=2":               "OTEL_TRACES_SAMPLER_ARG",
		"OTEL_EXPORTER_OTLP_HEADERS=novalue":      "OTEL_EXPORTER_OTLP_HEADERS",
		"OTEL_EXPORTER_OTLP_ENDPOINT=localhost:1": "OTEL_EXPORTER_OTLP_ENDPOINT",
		"OTEL_SDK_DISABLED=yes":                   "OTEL_SDK_DISABLED",
	} {
		k, v, _ := strings.Cut(env, "=")
		m := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_TRACES_SAMPLER": "traceidratio", k: v}
		if _, err := telemetry.New(context.Background(), telemetry.Config{Getenv: envOf(m)}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one naming %s", env, err, want)
		}
	}
}

func TestPropagation(t *testing.T) {
	const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	ctx := telemetry.Extract(context.Background(), telemetry.Fields{Lookup: func(k string) string { return map[string]string{"traceparent": tp}[k] }})
	sc := trace.SpanContextFromContext(ctx)
	if sc.TraceID().String() != "0af7651916cd43dd8448eb211c80319c" || !sc.IsRemote() {
		t.Fatalf("extracted %+v", sc)
	}
	got := map[string]string{}
	telemetry.Inject(ctx, telemetry.Fields{Add: func(k, v string) { got[k] = v }})
	if got["traceparent"] != tp {
		t.Fatalf("injected %v, want traceparent %s", got, tp)
	}
}

func TestLogHandler(t *testing.T) {
	tid, _ := trace.TraceIDFromHex("0af7651916cd43dd8448eb211c80319c")
	sid, _ := trace.SpanIDFromHex("b7ad6b7169203331")
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}))
	var text, js bytes.Buffer
	slog.New(telemetry.LogHandler(slog.NewTextHandler(&text, nil))).With("a", 1).WarnContext(ctx, "failed")
	slog.New(telemetry.LogHandler(slog.NewJSONHandler(&js, nil))).WarnContext(ctx, "failed")
	slog.New(telemetry.LogHandler(slog.NewJSONHandler(&js, nil))).Warn("no span")
	if !strings.Contains(text.String(), "a=1 trace_id=0af7651916cd43dd8448eb211c80319c span_id=b7ad6b7169203331") {
		t.Errorf("text: %q", text.String())
	}
	lines := strings.Split(strings.TrimSpace(js.String()), "\n")
	var rec, plain map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal([]byte(lines[1]), &plain)
	if rec["trace_id"] != "0af7651916cd43dd8448eb211c80319c" || rec["span_id"] != "b7ad6b7169203331" {
		t.Errorf("json: %v", rec)
	}
	if _, ok := plain["trace_id"]; ok {
		t.Errorf("a line without a span has trace_id: %v", plain)
	}
}

// DB names a span by the statement's first keyword (the system when it
// starts with anything else), cuts db.query.text to 1 KiB of valid UTF-8,
// and starts nothing outside a recording span.
func TestDBSpans(t *testing.T) {
	rec := spanrec.Start(t)
	long := "SELECT '" + strings.Repeat("é", 600) + "'"
	for _, stmt := range []string{"  insert into t values (1)", "-- note\nSELECT 1", "", long} {
		_, end := telemetry.DB(rec.Ctx, "sqlite", stmt)
		end(nil)
	}
	if _, end := telemetry.DB(context.Background(), "sqlite", "SELECT 1"); end == nil {
		t.Fatal("nil end outside a span")
	}
	spans := rec.Ended()
	if len(spans) != 4 {
		t.Fatalf("%d spans, want 4 (none outside the traced context)", len(spans))
	}
	for n, want := range []struct{ name, op string }{{"INSERT", "INSERT"}, {"sqlite", ""}, {"sqlite", ""}, {"SELECT", "SELECT"}} {
		a := spanrec.Attrs(spans[n])
		if spans[n].Name() != want.name || a["db.operation.name"] != want.op || a["db.system.name"] != "sqlite" {
			t.Errorf("span %d: %s %v, want %s", n, spans[n].Name(), a, want.name)
		}
	}
	if q := spanrec.Attrs(spans[3])["db.query.text"]; len(q) > 1024 || !utf8.ValidString(q) || !strings.HasPrefix(q, "SELECT 'é") {
		t.Errorf("long statement recorded as %d bytes, valid UTF-8 %t", len(q), utf8.ValidString(q))
	}
}
