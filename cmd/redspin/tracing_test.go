package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/testutil/otlpreceiver"
	"github.com/redspin/redspin/internal/testutil/redisserver"
)

// TestUpTracing runs `up` with OTEL_EXPORTER_OTLP_ENDPOINT pointing at an in-process OTLP receiver: each
// pub/sub message and stream entry is one trace (message span, component span, a span per outbound Redis
// command and key-value operation), a failure has status Error and its log line the trace's IDs, and a
// stream entry's traceparent field continues the producer's trace.
func TestUpTracing(t *testing.T) {
	rcv := otlpreceiver.Start(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rcv.URL)
	srv := redisserver.Start(t, redisserver.Options{})
	url := "redis://" + srv.Addr()
	guests := mustAbs(t, "../../testdata/guests/c-host")
	dir := writeManifest(t, `spin_manifest_version = 2
[application]
name = "traced"
[application.trigger.redis]
address = "`+url+`"
[application.trigger.redis-stream]
address = "`+url+`"
[[trigger.redis]]
channel = "in"
component = "comp"
[[trigger.redis-stream]]
stream = "orders"
component = "comp"
[component.comp]
source = "`+guests+`/c-host.wasm"
allowed_outbound_hosts = ["redis://127.0.0.1:*"]
key_value_stores = ["default"]
`)
	out, errOut, stop := startCLI(t, "up", "-f", dir, "--key-value", "seeded=yes", "--cache-dir", t.TempDir())
	waitFor(t, "Active Channels", func() bool { return strings.Contains(out.String(), "/in: [comp]") })
	if !strings.Contains(out.String(), "Tracing to "+rcv.URL+"/v1/traces (http/protobuf)") {
		t.Errorf("no tracing banner:\n%s", out)
	}
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer client.Close()
	ctx := context.Background()
	for _, msg := range []string{"redis2:set:" + url + "|k|v", "kv:get:default|seeded", "redis2:get:redis://192.0.2.1:6379|x"} {
		if err := client.Publish(ctx, "in", msg).Err(); err != nil {
			t.Fatal(err)
		}
	}
	const parentTrace, parentSpan = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
	id, err := client.XAdd(ctx, &redis.XAddArgs{Stream: "orders", Values: []any{"payload", "kv:get:default|seeded",
		"traceparent", "00-" + parentTrace + "-" + parentSpan + "-01"}}).Result()
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the failure and the stream entry", func() bool {
		return strings.Contains(errOut.String(), "handler failed") && strings.Count(errOut.String(), "yes\n") == 2
	})
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	spans := rcv.WaitSpans(t, 11)
	if len(spans) != 11 {
		t.Errorf("%d spans, want 11: %+v", len(spans), spans)
	}
	byID := map[string]otlpreceiver.Span{}
	for _, s := range spans {
		byID[s.SpanID] = s
		if s.Service != "traced" {
			t.Errorf("span %s: service.name %q, want the app name", s.Name, s.Service)
		}
	}
	// childOf checks that s's parent is a span named parent in the same trace and returns it.
	childOf := func(s otlpreceiver.Span, parent string) otlpreceiver.Span {
		p, ok := byID[s.ParentID]
		if !ok || p.Name != parent || p.TraceID != s.TraceID {
			t.Errorf("span %s: parent %+v, want %q in the same trace", s.Name, p, parent)
		}
		return p
	}
	set := otlpreceiver.Named(spans, "SET")
	if len(set) != 1 || set[0].Attrs["db.system.name"] != "redis" || set[0].Attrs["db.operation.name"] != "SET" {
		t.Fatalf("SET spans: %+v", set)
	}
	comp := childOf(set[0], "component comp")
	if comp.Attrs["redspin.component.id"] != "comp" || comp.Attrs["redspin.outcome"] != "handled" ||
		strings.Join(comp.Events, ",") != "instantiated,called" {
		t.Errorf("component span: %+v", comp)
	}
	root := childOf(comp, "process in")
	for k, v := range map[string]string{"redspin.trigger": "redis", "messaging.destination.name": "in",
		"server.address": srv.Addr(), "messaging.message.body.size": strconv.Itoa(len("redis2:set:" + url + "|k|v")), "redspin.delivery_count": "1"} {
		if root.Attrs[k] != v {
			t.Errorf("message span %s = %q, want %q", k, root.Attrs[k], v)
		}
	}
	if root.ParentID != "" {
		t.Errorf("pub/sub message span has a parent: %+v", root)
	}

	kvs := otlpreceiver.Named(spans, "kv get")
	if len(kvs) != 2 {
		t.Fatalf("kv get spans: %+v", kvs)
	}
	var streamRoot otlpreceiver.Span
	for _, kv := range kvs {
		if r := byID[childOf(kv, "component comp").ParentID]; r.Name == "process orders" {
			streamRoot = r
		}
	}
	if streamRoot.Name != "process orders" || streamRoot.TraceID != parentTrace || streamRoot.ParentID != parentSpan {
		t.Errorf("stream entry span does not continue the traceparent: %+v", streamRoot)
	}
	for k, v := range map[string]string{"redspin.trigger": "redis-stream", "messaging.destination.name": "orders",
		"messaging.message.id": id, "messaging.consumer.group.name": "traced-comp", "redspin.delivery_count": "1",
		"redspin.disposition": "ack"} {
		if streamRoot.Attrs[k] != v {
			t.Errorf("entry span %s = %q, want %q", k, streamRoot.Attrs[k], v)
		}
	}

	var failed []otlpreceiver.Span
	for _, s := range otlpreceiver.Named(spans, "component comp") {
		if s.StatusError {
			failed = append(failed, s)
		}
	}
	if len(failed) != 1 || failed[0].Attrs["redspin.outcome"] != "failed" || failed[0].StatusMessage != `component "comp": handler returned an error` {
		t.Fatalf("failed component spans: %+v", failed)
	}
	line := ""
	for _, l := range strings.Split(errOut.String(), "\n") {
		if strings.Contains(l, "component handler failed") {
			line = l
		}
	}
	if !strings.Contains(line, "trace_id="+failed[0].TraceID+" span_id="+failed[0].SpanID) {
		t.Errorf("the failure's log line lacks its trace and span IDs (%s %s):\n%s", failed[0].TraceID, failed[0].SpanID, line)
	}
}

// With the OTEL_* environment set, `publish --stream` exports a producer span and adds its traceparent
// to the entry; without it, the entry has only the payload.
func TestPublishStreamTraceparent(t *testing.T) {
	srv := redisserver.Start(t, redisserver.Options{})
	url := "redis://" + srv.Addr()
	ctx := context.Background()
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer client.Close()
	if code, _, errOut := runCLI(t, ctx, "", "publish", "-a", url, "--stream", "orders", "plain"); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rcv := otlpreceiver.Start(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rcv.URL)
	if code, _, errOut := runCLI(t, ctx, "", "publish", "-a", url, "--stream", "orders", "traced"); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	entries, err := client.XRange(ctx, "orders", "-", "+").Result()
	if err != nil || len(entries) != 2 {
		t.Fatalf("XRANGE: %v %v", entries, err)
	}
	if len(entries[0].Values) != 1 {
		t.Errorf("untraced entry has fields %v, want only payload", entries[0].Values)
	}
	spans := rcv.WaitSpans(t, 1)
	want := "00-" + spans[0].TraceID + "-" + spans[0].SpanID + "-01"
	if spans[0].Name != "send orders" || entries[1].Values["traceparent"] != want || entries[1].Values["payload"] != "traced" {
		t.Errorf("span %+v, entry %v: want traceparent %s", spans[0], entries[1].Values, want)
	}
}

// TestUpTracingOutboundHTTP: a stream entry's traceparent reaches the server an outbound HTTP request
// goes to, through the message's span, the component's and the request's (a GET client span with the
// HTTP conventions), so the server's work joins the producer's trace.
func TestUpTracingOutboundHTTP(t *testing.T) {
	rcv := otlpreceiver.Start(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rcv.URL)
	var mu sync.Mutex
	var received []string
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		received = append(received, r.Header.Get("Traceparent"))
		mu.Unlock()
		w.Write([]byte("pong"))
	}))
	defer web.Close()
	srv := redisserver.Start(t, redisserver.Options{})
	url := "redis://" + srv.Addr()
	guests := mustAbs(t, "../../testdata/guests/c-http")
	dir := writeManifest(t, `spin_manifest_version = 2
[application]
name = "traced-http"
[application.trigger.redis-stream]
address = "`+url+`"
[[trigger.redis-stream]]
stream = "calls"
component = "caller"
[component.caller]
source = "`+guests+`/c-http.wasm"
allowed_outbound_hosts = ["http://127.0.0.1:*"]
`)
	out, errOut, stop := startCLI(t, "up", "-f", dir, "--cache-dir", t.TempDir())
	waitFor(t, "the stream subscription", func() bool { return strings.Contains(out.String(), "calls") })
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer client.Close()
	const parentTrace, parentSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	if err := client.XAdd(context.Background(), &redis.XAddArgs{Stream: "calls", Values: []any{
		"payload", "http:get|" + web.URL + "/ping?token=secret|-",
		"traceparent", "00-" + parentTrace + "-" + parentSpan + "-01"}}).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the response", func() bool { return strings.Contains(errOut.String(), "body pong") })
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	spans := rcv.WaitSpans(t, 3)
	if len(spans) != 3 {
		t.Fatalf("%d spans, want 3 (entry, component, request): %+v", len(spans), spans)
	}
	get := otlpreceiver.Named(spans, "GET")
	comp := otlpreceiver.Named(spans, "component caller")
	root := otlpreceiver.Named(spans, "process calls")
	if len(get) != 1 || len(comp) != 1 || len(root) != 1 {
		t.Fatalf("spans %+v", spans)
	}
	if root[0].TraceID != parentTrace || root[0].ParentID != parentSpan || comp[0].ParentID != root[0].SpanID ||
		get[0].ParentID != comp[0].SpanID || get[0].TraceID != parentTrace {
		t.Errorf("the request span is not in the entry's trace under its component: %+v", spans)
	}
	port := web.URL[strings.LastIndex(web.URL, ":")+1:]
	for k, v := range map[string]string{"http.request.method": "GET", "server.address": "127.0.0.1", "server.port": port,
		"url.full": web.URL + "/REDACTED?token=REDACTED", "http.response.status_code": "200"} {
		if get[0].Attrs[k] != v {
			t.Errorf("request span %s = %q, want %q", k, get[0].Attrs[k], v)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if want := "00-" + parentTrace + "-" + get[0].SpanID + "-01"; len(received) != 1 || received[0] != want {
		t.Errorf("the server got traceparent %q, want %q", received, want)
	}
}
