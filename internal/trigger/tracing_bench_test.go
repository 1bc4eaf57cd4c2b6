package trigger

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// BenchmarkDispatchTracing measures what tracing adds to one pub/sub message on the trigger's path
// (message span, component span, the outcome; the handler is a no-op): off (no TracerProvider: the default), sampled out (always_off) and on
// (parentbased_always_on, exporting over OTLP/HTTP to an in-process receiver through the batch
// processor; the receiver's decoding runs in this process too) and recorded (always_on, spans go
// through the batch processor to an exporter that discards them: the SDK's cost without the wire).
// The difference between off and on is the cost per message of tracing.
func BenchmarkDispatchTracing(b *testing.B) {
	for _, mode := range []string{"off", "sampled_out", "recorded", "on"} {
		b.Run(mode, func(b *testing.B) {
			var tp trace.TracerProvider
			switch mode {
			case "recorded":
				sdk := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discard{}))
				defer sdk.Shutdown(context.Background())
				tp = sdk
			case "sampled_out", "on":
				env := map[string]string{}
				if mode == "sampled_out" {
					env["OTEL_TRACES_SAMPLER"] = "always_off"
				}
				var flush func()
				_, tp, flush = tracing(b, env)
				defer flush()
			}
			h := handlerFunc(func(context.Context, string, []byte) error { return nil })
			tr, err := New(Config{Servers: []Server{{Display: "127.0.0.1:6379", Options: &redis.UniversalOptions{Addrs: []string{"127.0.0.1:6379"}},
				Channels: []Channel{{Name: "bench", Components: []string{"comp"}}}}}, TracerProvider: tp}, h)
			if err != nil {
				b.Fatal(err)
			}
			l := tr.servers[0].lanes[0]
			payload := make([]byte, 64)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				tr.dispatch(ctx, l, payload)
			}
		})
	}
}

// discard is a span exporter that drops what it is given.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }
