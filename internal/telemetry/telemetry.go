// Package telemetry sets up OpenTelemetry tracing from the standard OTEL_* environment variables and
// holds the span helpers the triggers and host interfaces share: W3C trace-context propagation through
// stream entry fields and a slog.Handler that adds trace_id and span_id to every line logged with a
// span's context. It never reads the process environment itself: cmd passes a Getenv.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// ShutdownTimeout bounds how long Shutdown waits to flush the spans not yet exported.
const ShutdownTimeout = 5 * time.Second

// Config is what New needs besides the environment.
type Config struct {
	// Getenv looks up an environment variable; nil reads nothing (tracing off).
	Getenv func(string) string
	// ServiceName is service.name when OTEL_SERVICE_NAME is unset (redspin passes the app name); ""
	// means "redspin".
	ServiceName string
	// ServiceVersion is service.version; "" leaves it out.
	ServiceVersion string
}

// Tracing is a configured tracer provider.
type Tracing struct {
	// Provider hands out tracers: a no-op provider (nothing recorded, no cost) when tracing is off.
	Provider trace.TracerProvider
	// Enabled is true when spans are exported.
	Enabled bool
	// Endpoint is where spans go ("" when off), for the startup banner.
	Endpoint string
	// Protocol is "http/protobuf" or "grpc" ("" when off).
	Protocol string

	sdk *sdktrace.TracerProvider
}

// Shutdown flushes the spans not yet exported and stops the exporter, waiting at most
// ShutdownTimeout. A no-op when tracing is off.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil || t.sdk == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
	defer cancel()
	if err := t.sdk.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: flushing spans to %s: %w", t.Endpoint, err)
	}
	return nil
}

// Off is tracing switched off: a no-op tracer provider.
func Off() *Tracing { return &Tracing{Provider: noop.NewTracerProvider()} }

// New configures tracing from the environment, as the OpenTelemetry specification defines it:
// OTEL_SDK_DISABLED=true or neither OTEL_EXPORTER_OTLP_TRACES_ENDPOINT nor OTEL_EXPORTER_OTLP_ENDPOINT
// set means off. OTEL_EXPORTER_OTLP_PROTOCOL is http/protobuf (default) or grpc,
// OTEL_EXPORTER_OTLP_HEADERS adds request headers (k=v,k2=v2, values URL-encoded), OTEL_SERVICE_NAME
// names the service and OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG choose the sampler (default
// parentbased_always_on). The exporter creates no connection until the first export.
func New(ctx context.Context, cfg Config) (*Tracing, error) {
	env := cfg.Getenv
	if env == nil {
		env = func(string) string { return "" }
	}
	get := func(k string) string { return strings.TrimSpace(env(k)) }
	if disabled, err := parseBool(get("OTEL_SDK_DISABLED")); err != nil {
		return nil, fmt.Errorf("OTEL_SDK_DISABLED: %w", err)
	} else if disabled {
		return Off(), nil
	}
	endpoint, err := tracesEndpoint(get)
	if err != nil || endpoint == "" {
		return Off(), err
	}
	headers, err := parseHeaders(get("OTEL_EXPORTER_OTLP_TRACES_HEADERS"), get("OTEL_EXPORTER_OTLP_HEADERS"))
	if err != nil {
		return nil, err
	}
	sampler, err := parseSampler(get("OTEL_TRACES_SAMPLER"), get("OTEL_TRACES_SAMPLER_ARG"))
	if err != nil {
		return nil, err
	}
	protocol := firstSet(get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"), get("OTEL_EXPORTER_OTLP_PROTOCOL"), "http/protobuf")
	var client otlptrace.Client
	switch protocol {
	case "http/protobuf":
		client = otlptracehttp.NewClient(otlptracehttp.WithEndpointURL(endpoint), otlptracehttp.WithHeaders(headers))
	case "grpc":
		client = otlptracegrpc.NewClient(otlptracegrpc.WithEndpointURL(endpoint), otlptracegrpc.WithHeaders(headers))
	default:
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL: %q is not supported: use http/protobuf or grpc", protocol)
	}
	exp, err := otlptrace.New(ctx, client)
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter for %s: %w", endpoint, err)
	}
	attrs := []attribute.KeyValue{attribute.String("service.name", firstSet(get("OTEL_SERVICE_NAME"), cfg.ServiceName, "redspin"))}
	if cfg.ServiceVersion != "" {
		attrs = append(attrs, attribute.String("service.version", cfg.ServiceVersion))
	}
	sdk := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithSampler(sampler),
		sdktrace.WithResource(resource.NewSchemaless(attrs...)),
	)
	return &Tracing{Provider: sdk, Enabled: true, Endpoint: endpoint, Protocol: protocol, sdk: sdk}, nil
}

// tracesEndpoint is the URL spans are sent to: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, or
// OTEL_EXPORTER_OTLP_ENDPOINT with /v1/traces appended (for http/protobuf; gRPC uses it as is).
func tracesEndpoint(get func(string) string) (string, error) {
	name, v := "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	signal := v != ""
	if !signal {
		name, v = "OTEL_EXPORTER_OTLP_ENDPOINT", get("OTEL_EXPORTER_OTLP_ENDPOINT")
	}
	if v == "" {
		return "", nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%s: %q is not an http:// or https:// URL (e.g. http://localhost:4318)", name, v)
	}
	protocol := firstSet(get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"), get("OTEL_EXPORTER_OTLP_PROTOCOL"), "http/protobuf")
	if !signal && protocol == "http/protobuf" {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/traces"
	}
	return u.String(), nil
}

// parseHeaders reads the W3C-baggage-like list k=v,k2=v2 (values URL-encoded); the signal-specific
// list wins over the general one for the same key.
func parseHeaders(lists ...string) (map[string]string, error) {
	h := map[string]string{}
	for i := len(lists) - 1; i >= 0; i-- {
		for _, kv := range strings.Split(lists[i], ",") {
			if strings.TrimSpace(kv) == "" {
				continue
			}
			k, v, ok := strings.Cut(kv, "=")
			k = strings.TrimSpace(k)
			if !ok || k == "" {
				return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_HEADERS: %q is not key=value", redactHeader(kv))
			}
			dv, err := url.QueryUnescape(strings.TrimSpace(v))
			if err != nil {
				return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_HEADERS: header %q: value is not URL-encoded: %w", k, err)
			}
			h[k] = dv
		}
	}
	return h, nil
}

// redactHeader shows a malformed header entry's name only: its value may be a secret.
func redactHeader(kv string) string {
	if len(kv) > 16 {
		return kv[:16] + "..."
	}
	return kv
}

// parseSampler maps OTEL_TRACES_SAMPLER (and its argument, a ratio in [0, 1]) to a sampler.
func parseSampler(name, arg string) (sdktrace.Sampler, error) {
	ratio := func() (float64, error) {
		if arg == "" {
			return 1, nil
		}
		r, err := strconv.ParseFloat(arg, 64)
		if err != nil || r < 0 || r > 1 {
			return 0, fmt.Errorf("OTEL_TRACES_SAMPLER_ARG: %q is not a ratio between 0 and 1", arg)
		}
		return r, nil
	}
	switch name {
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "traceidratio", "parentbased_traceidratio":
		r, err := ratio()
		if err != nil {
			return nil, err
		}
		if name == "traceidratio" {
			return sdktrace.TraceIDRatioBased(r), nil
		}
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(r)), nil
	}
	return nil, fmt.Errorf("OTEL_TRACES_SAMPLER: %q is not supported: use always_on, always_off, traceidratio, "+
		"parentbased_always_on, parentbased_always_off or parentbased_traceidratio", name)
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, errors.New("must be true or false")
}

func firstSet(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
