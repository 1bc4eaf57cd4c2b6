package telemetry

import (
	"context"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of every redspin span.
const ScopeName = "github.com/redspin/redspin"

// Tracer returns redspin's tracer of tp; nil means the no-op tracer.
func Tracer(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		return Off().Provider.Tracer(ScopeName)
	}
	return tp.Tracer(ScopeName)
}

// propagator is W3C trace context (traceparent, tracestate).
var propagator propagation.TraceContext

// Fields is a propagation carrier over name/value pairs, e.g. a stream entry's fields.
type Fields struct {
	// Lookup returns the value of the first field named key ("" when none).
	Lookup func(key string) string
	// Add adds a field (nil for a read-only carrier).
	Add func(key, value string)
}

// Extract returns ctx carrying the remote span context found in the fields traceparent and tracestate,
// or ctx unchanged when there is none (or it is malformed).
func Extract(ctx context.Context, f Fields) context.Context {
	return propagator.Extract(ctx, carrier(f))
}

// Inject sets the fields traceparent (and tracestate) from the span in ctx; nothing when ctx has no
// sampled span.
func Inject(ctx context.Context, f Fields) { propagator.Inject(ctx, carrier(f)) }

type carrier Fields

func (c carrier) Get(k string) string { return c.Lookup(k) }
func (c carrier) Set(k, v string) {
	if c.Add != nil {
		c.Add(k, v)
	}
}
func (c carrier) Keys() []string { return []string{"traceparent", "tracestate"} }

// Client starts a client span for a call that leaves the process (an outbound Redis command, a
// key-value operation) as a child of the message's span in ctx; its tracer is that span's provider,
// so nothing is plumbed and nothing is recorded outside a traced message. end records err.
func Client(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, func(err error)) {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return ctx, func(error) {}
	}
	ctx, span := parent.TracerProvider().Tracer(ScopeName).Start(ctx, name,
		trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	return ctx, func(err error) { End(span, err) }
}

// Recording reports whether ctx holds a recording span, so that a caller can skip building span
// attributes outside a traced message.
func Recording(ctx context.Context) bool { return trace.SpanFromContext(ctx).IsRecording() }

// maxQueryText is how much of a statement a span records as db.query.text.
const maxQueryText = 1024

// DB starts a client span for a statement a guest sends to a database, as a child of the message's
// span in ctx (nothing outside a traced message): named by the statement's operation (its first
// keyword, upper-cased, such as SELECT; system when it starts with anything else), with
// db.system.name, db.operation.name and db.query.text (the statement as the guest wrote it, cut to
// 1 KiB; its parameters are never recorded). end records err.
func DB(ctx context.Context, system, statement string, attrs ...attribute.KeyValue) (context.Context, func(err error)) {
	if !Recording(ctx) {
		return ctx, func(error) {}
	}
	op := ""
	if f := strings.Fields(statement); len(f) > 0 && strings.IndexFunc(f[0], func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < 'A' || r > 'Z')
	}) < 0 {
		op = strings.ToUpper(f[0])
	}
	text := statement
	if len(text) > maxQueryText {
		text = strings.ToValidUTF8(text[:maxQueryText], "")
	}
	name := op
	all := append([]attribute.KeyValue{attribute.String("db.system.name", system), attribute.String("db.query.text", text)}, attrs...)
	if op != "" {
		all = append(all, attribute.String("db.operation.name", op))
	} else {
		name = system
	}
	return Client(ctx, name, all...)
}

// End records err (status Error with the error's text as description) and ends span.
func End(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// LogHandler wraps h so that a record logged with a context holding a valid span gets the attributes
// trace_id and span_id (in every format h writes).
func LogHandler(h slog.Handler) slog.Handler { return logHandler{h} }

type logHandler struct{ slog.Handler }

func (l logHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r = r.Clone()
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return l.Handler.Handle(ctx, r)
}

func (l logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return logHandler{l.Handler.WithAttrs(as)}
}
func (l logHandler) WithGroup(n string) slog.Handler { return logHandler{l.Handler.WithGroup(n)} }
