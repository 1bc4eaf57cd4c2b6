package host

import (
	"context"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// BenchmarkHandleTracing measures one real message through Handle (the C guest, as a core module and as
// a component, printing nothing) untraced and inside a recorded message and component span, as the
// trigger makes them (two spans, the instantiated/called events, the batch processor; the exporter
// discards): the SDK's cost per message next to a real guest's.
func BenchmarkHandleTracing(b *testing.B) {
	f := newFixtureOf(b, Options{HandlerTimeout: time.Minute}, nil, nil, func(g testGuest) bool { return g.name == "c" })
	sdk := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discardSpans{}))
	defer sdk.Shutdown(context.Background())
	tracer := sdk.Tracer("bench")
	payload := []byte("errsuccess")
	for _, g := range f.guests {
		for _, traced := range []bool{false, true} {
			name := g.id() + "/off"
			if traced {
				name = g.id() + "/on"
			}
			b.Run(name, func(b *testing.B) {
				ctx := context.Background()
				b.ReportAllocs()
				for range b.N {
					if !traced {
						if err := f.h.Handle(ctx, g.id(), payload); err != nil {
							b.Fatal(err)
						}
						continue
					}
					mctx, msg := tracer.Start(ctx, "process bench", trace.WithNewRoot())
					cctx, comp := tracer.Start(mctx, "component "+g.id())
					err := f.h.Handle(cctx, g.id(), payload)
					comp.End()
					msg.End()
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

type discardSpans struct{}

func (discardSpans) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardSpans) Shutdown(context.Context) error                             { return nil }
