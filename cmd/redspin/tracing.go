package main

import (
	"context"
	"fmt"
	"log/slog"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/redspin/redspin/internal/app"
	"github.com/redspin/redspin/internal/telemetry"
)

// startTracing configures OpenTelemetry tracing for `up` from the OTEL_* environment variables
// (service.name defaults to the app's name). It returns nil as the provider when tracing is off, so the
// triggers skip it entirely, and a stop func that flushes the spans (bounded) and must be called once
// the triggers have stopped.
func (c *cli) startTracing(ctx context.Context, a *app.App) (trace.TracerProvider, func(), error) {
	tr, err := telemetry.New(ctx, telemetry.Config{Getenv: c.getenv, ServiceName: a.Manifest.Name,
		ServiceVersion: a.Manifest.Version})
	if err != nil {
		return nil, nil, err
	}
	if !tr.Enabled {
		return nil, func() {}, nil
	}
	// Export errors are reported through OpenTelemetry's global handler: send them to the logger (a
	// process-wide setting, made only here in main's package).
	log := c.logger
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { log.Warn("tracing: export failed", "error", err) }))
	fmt.Fprintf(c.stdout, "Tracing to %s (%s)\n", tr.Endpoint, tr.Protocol)
	return tr.Provider, func() {
		if err := tr.Shutdown(context.WithoutCancel(ctx)); err != nil {
			log.Warn("tracing: spans not exported at exit", "error", err)
		}
	}, nil
}

// traceLogs makes every line logged with a traced message's context carry trace_id and span_id.
func traceLogs(h slog.Handler) *slog.Logger { return slog.New(telemetry.LogHandler(h)) }

// traceAdd is `publish --stream` under tracing: when the OTEL_* environment configures an exporter it
// starts a producer span for the XADD and adds its traceparent (and tracestate) to values, so that the
// trigger's handling continues the trace. end records the XADD's error and flushes the span (bounded).
func (c *cli) traceAdd(ctx context.Context, stream, server string, values []any) (_ []any, end func(error), err error) {
	tr, err := telemetry.New(ctx, telemetry.Config{Getenv: c.getenv})
	if err != nil || !tr.Enabled {
		return values, func(error) {}, err
	}
	ctx, span := telemetry.Tracer(tr.Provider).Start(ctx, "send "+stream, trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(attribute.String("messaging.system", "redis"), attribute.String("messaging.operation.type", "send"),
			attribute.String("messaging.destination.name", stream), attribute.String("server.address", server)))
	telemetry.Inject(ctx, telemetry.Fields{Add: func(k, v string) { values = append(values, k, v) }})
	return values, func(err error) {
		telemetry.End(span, err)
		if err := tr.Shutdown(ctx); err != nil {
			c.logger.Warn("tracing: span not exported", "error", err)
		}
	}, nil
}
