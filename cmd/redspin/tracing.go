package main

import (
	"context"
	"fmt"
	"log/slog"

	"go.opentelemetry.io/otel"
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
