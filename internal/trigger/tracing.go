package trigger

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/redspin/redspin/internal/observe"
	"github.com/redspin/redspin/internal/streamentry"
	"github.com/redspin/redspin/internal/telemetry"
)

// Span attribute values naming the trigger type (redspin.trigger) and the messaging system.
const (
	triggerPubSub = "redis"
	triggerStream = "redis-stream"
)

// messageSpan starts the root span of one pub/sub message: one trace per message, its components'
// spans are children.
func (t *Trigger) messageSpan(ctx context.Context, l *lane, payload []byte) (context.Context, trace.Span) {
	return t.tracer.Start(ctx, "process "+l.display, trace.WithNewRoot(), trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			attribute.String("redspin.trigger", triggerPubSub),
			attribute.String("messaging.system", "redis"),
			attribute.String("messaging.operation.type", "process"),
			attribute.String("messaging.destination.name", l.display),
			attribute.String("server.address", l.srv.cfg.Display),
			attribute.Int("messaging.message.body.size", len(payload)),
			attribute.Int("redspin.delivery_count", 1),
		))
}

// entrySpan starts the span of one stream entry's delivery. An entry carrying the fields traceparent
// (and tracestate) continues that trace; otherwise the span is a new root.
func (c *streamConsumer) entrySpan(ctx context.Context, e streamentry.Entry) (context.Context, trace.Span) {
	if c.t.cfg.TracerProvider == nil {
		return ctx, trace.SpanFromContext(ctx)
	}
	pctx := telemetry.Extract(ctx, telemetry.Fields{Lookup: func(k string) string {
		for _, f := range e.Fields {
			if f.Name == k {
				return string(f.Value)
			}
		}
		return ""
	}})
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(
		attribute.String("redspin.trigger", triggerStream),
		attribute.String("messaging.system", "redis"),
		attribute.String("messaging.operation.type", "process"),
		attribute.String("messaging.destination.name", e.Stream),
		attribute.String("messaging.consumer.group.name", e.Group),
		attribute.String("messaging.message.id", e.ID),
		attribute.String("server.address", c.cfg.Display),
		attribute.Int("messaging.message.body.size", entryBytes(e)),
		attribute.Int64("redspin.delivery_count", e.Deliveries),
	)}
	if !trace.SpanContextFromContext(pctx).IsValid() {
		opts = append(opts, trace.WithNewRoot())
	}
	return telemetry.Tracer(c.t.cfg.TracerProvider).Start(pctx, "process "+e.Stream, opts...)
}

// entryBytes is the size of an entry's field names and values.
func entryBytes(e streamentry.Entry) int {
	n := 0
	for _, f := range e.Fields {
		n += len(f.Name) + len(f.Value)
	}
	return n
}

// componentSpan starts the span of one component's execution under the message's span in ctx; the host
// adds the instantiate and call events to it.
func componentSpan(ctx context.Context, id string) (context.Context, trace.Span) {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return ctx, parent
	}
	return parent.TracerProvider().Tracer(telemetry.ScopeName).Start(ctx, "component "+id,
		trace.WithAttributes(attribute.String("redspin.component.id", id)))
}

var outcomes = [...]string{observe.Handled: "handled", observe.Failed: "failed", observe.TimedOut: "timed_out"}

// endComponent records a component's outcome (and, on failure, the error as cause, error.type and
// status Error) and ends its span.
func endComponent(span trace.Span, r observe.Result, err error) {
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(attribute.String("redspin.outcome", outcomes[r]))
	if err != nil {
		span.SetAttributes(attribute.String("error.type", outcomes[r]))
	}
	telemetry.End(span, err)
}

// endEntry records what happened to a stream entry (ack, retry, dead-letter) and ends its span.
func endEntry(span trace.Span, d streamentry.Disposition, err error) {
	if !span.IsRecording() {
		return
	}
	if err != nil {
		span.SetStatus(codes.Error, "component failed")
	} else {
		span.SetAttributes(attribute.String("redspin.disposition", d.Action.String()))
	}
	span.End()
}

// outcome classifies a handler's error as the triggers count it.
func outcome(err error) observe.Result {
	switch {
	case err == nil:
		return observe.Handled
	case errors.Is(err, context.DeadlineExceeded):
		return observe.TimedOut
	}
	return observe.Failed
}
