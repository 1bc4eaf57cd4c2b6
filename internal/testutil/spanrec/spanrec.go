// Package spanrec records the spans a test's code starts under a parent
// span, as a traced message's context would hold it.
package spanrec

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// Recorder holds a recording parent span and the spans ended under it.
type Recorder struct {
	// Ctx holds the parent span: pass it to the code under test.
	Ctx context.Context
	// Parent is the parent span (named "component c").
	Parent trace.Span
	rec    *tracetest.SpanRecorder
}

// Start returns a Recorder whose Ctx holds a recording span.
func Start(t testing.TB) *Recorder {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	ctx, parent := tp.Tracer("test").Start(context.Background(), "component c")
	return &Recorder{Ctx: ctx, Parent: parent, rec: rec}
}

// Ended returns the spans ended so far (the parent's children, unless
// the parent was ended too), in the order they ended.
func (r *Recorder) Ended() []sdktrace.ReadOnlySpan { return r.rec.Ended() }

// Attrs returns a span's attributes as strings.
func Attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]string {
	m := map[attribute.Key]string{}
	for _, a := range s.Attributes() {
		m[a.Key] = a.Value.Emit()
	}
	return m
}

// Check fails t unless s is a client span, a child of r's parent, named
// name, with every attribute in want.
func (r *Recorder) Check(t testing.TB, s sdktrace.ReadOnlySpan, name string, want map[attribute.Key]string) {
	t.Helper()
	if s.Name() != name || s.SpanKind() != trace.SpanKindClient || s.Parent().SpanID() != r.Parent.SpanContext().SpanID() {
		t.Errorf("span %q kind %s parent %s, want client span %q under the parent", s.Name(), s.SpanKind(), s.Parent().SpanID(), name)
	}
	got := Attrs(s)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("span %q: %s = %q, want %q", s.Name(), k, got[k], v)
		}
	}
}

// CheckOKThenFailed fails t unless exactly two spans ended, both client
// spans under the parent with every attribute in want, named first and
// second, the first with status Unset and the second Error, and none
// recording secret in an attribute.
func (r *Recorder) CheckOKThenFailed(t testing.TB, first, second string, want map[attribute.Key]string, secret string) {
	t.Helper()
	spans := r.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans ended, want 2", len(spans))
	}
	r.Check(t, spans[0], first, want)
	r.Check(t, spans[1], second, want)
	for _, s := range spans {
		for k, v := range Attrs(s) {
			if secret != "" && strings.Contains(v, secret) {
				t.Errorf("span %q records %q in %s", s.Name(), secret, k)
			}
		}
	}
	if spans[0].Status().Code != codes.Unset || spans[1].Status().Code != codes.Error {
		t.Errorf("statuses %v, %v: want unset, then error", spans[0].Status(), spans[1].Status())
	}
}
