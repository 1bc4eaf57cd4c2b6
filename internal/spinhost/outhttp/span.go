package outhttp

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/redspin/redspin/internal/telemetry"
)

// requestSpan is the client span of one request, a child of the message's
// span, with OpenTelemetry's HTTP client conventions; inert outside a traced
// message.
type requestSpan struct{ span trace.Span }

// startSpan starts the span of a request to u and sets the request's
// traceparent (and tracestate) header from it, replacing the guest's as
// Spin does, so that the server's spans join the message's trace. Outside
// a traced message nothing is recorded and no header is added.
func startSpan(ctx context.Context, method string, u *url.URL, h http.Header) requestSpan {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return requestSpan{}
	}
	ctx, _ = telemetry.Client(ctx, method, spanAttrs(method, u)...)
	h.Del("Traceparent")
	h.Del("Tracestate") // the guest's would describe another trace
	telemetry.Inject(ctx, telemetry.Fields{Lookup: h.Get, Add: h.Set})
	sp := trace.SpanFromContext(ctx)
	if !sp.IsRecording() {
		return requestSpan{}
	}
	return requestSpan{sp}
}

// spanAttrs are a request's attributes: method, server address and port,
// and the URL with its path (past "/") and every query value replaced by
// REDACTED, since either may carry a credential (a webhook's token, an API
// key), and no user info (Check refuses it).
func spanAttrs(method string, u *url.URL) []attribute.KeyValue {
	full := *u
	if full.Path != "" && full.Path != "/" {
		full.Path, full.RawPath = "/REDACTED", ""
	}
	if full.RawQuery != "" {
		q := full.Query()
		for k := range q {
			q[k] = []string{"REDACTED"}
		}
		full.RawQuery = q.Encode()
	}
	full.Fragment, full.RawFragment = "", ""
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	p, _ := strconv.Atoi(port)
	return []attribute.KeyValue{
		attribute.String("http.request.method", method),
		attribute.String("server.address", u.Hostname()),
		attribute.Int("server.port", p),
		attribute.String("url.full", full.String()),
	}
}

// response records the status; 4xx and 5xx are errors, as the
// conventions say for a client.
func (s requestSpan) response(status int) {
	if s.span == nil {
		return
	}
	s.span.SetAttributes(attribute.Int("http.response.status_code", status))
	if status >= 400 {
		s.span.SetAttributes(attribute.String("error.type", strconv.Itoa(status)))
		s.span.SetStatus(codes.Error, "")
	}
}

// failed ends the span of a request that got no response; error.type is
// its wasi:http error code.
func (s requestSpan) failed(err error) {
	if s.span == nil {
		return
	}
	s.span.SetAttributes(attribute.String("error.type", string(CodeOf(err))))
	telemetry.End(s.span, err)
}

// end ends the span once the response body is finished.
func (s requestSpan) end() {
	if s.span != nil {
		s.span.End()
	}
}
