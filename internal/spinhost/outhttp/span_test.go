package outhttp

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"

	"github.com/redspin/redspin/internal/spinhost/allowedhosts"
	"github.com/redspin/redspin/internal/testutil/spanrec"
)

// Inside a traced message a request is a client span, child of the
// message's span, with the HTTP client conventions, and carries its
// traceparent (replacing the guest's, as Spin); outside one it carries only
// what the guest set.
func TestSpanAndTraceparent(t *testing.T) {
	var mu sync.Mutex
	var got, states []string
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("Traceparent"))
		states = append(states, r.Header.Get("Tracestate"))
		mu.Unlock()
		if r.URL.Path == "/fail" {
			w.WriteHeader(503)
		}
		w.Write([]byte("ok"))
	}))
	rec := spanrec.Start(t)
	ctx, parent := rec.Ctx, rec.Parent
	i := newInstance(t, Config{Component: "c", Allowed: allowedhosts.MustParse("http://127.0.0.1:*")})
	const guestTP = "00-11111111111111111111111111111111-2222222222222222-01"
	send := func(ctx context.Context, path string) (*Response, error) {
		return i.Send(ctx, &Request{URL: mustURL(t, s.URL+path), Header: http.Header{"traceparent": {guestTP}, "tracestate": {"guest=1"}}}, Options{})
	}
	for _, path := range []string{"/ok?key=secret&a=1", "/fail"} {
		resp, err := send(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := "http://" + ln.Addr().String() + "/"
	ln.Close()
	if _, err := i.Send(ctx, &Request{URL: mustURL(t, refused)}, Options{}); err == nil {
		t.Fatal("request to a closed port succeeded")
	}
	// Untraced: the guest's header passes unchanged.
	resp, err := send(context.Background(), "/plain")
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	parent.End()

	spans := rec.Ended()
	if len(spans) != 4 { // three requests and the parent
		t.Fatalf("%d spans ended, want 4", len(spans))
	}
	attrs := spanrec.Attrs
	for n, s := range spans[:3] {
		rec.Check(t, s, "GET", nil)
		if n < 2 && got[n] != "00-"+parent.SpanContext().TraceID().String()+"-"+s.SpanContext().SpanID().String()+"-01" {
			t.Errorf("request %d: traceparent %q, want the request span's", n, got[n])
		}
	}
	rec.Check(t, spans[0], "GET", map[attribute.Key]string{"http.request.method": "GET", "server.address": "127.0.0.1",
		"server.port": s.Port(), "url.full": s.URL + "/REDACTED?a=REDACTED&key=REDACTED", "http.response.status_code": "200"})
	if spans[0].Status().Code != codes.Unset {
		t.Errorf("200: status %v", spans[0].Status())
	}
	if a := attrs(spans[1]); a["http.response.status_code"] != "503" || a["error.type"] != "503" || spans[1].Status().Code != codes.Error {
		t.Errorf("503 span: %v %v", a, spans[1].Status())
	}
	if a := attrs(spans[2]); a["error.type"] != string(ConnectionRefused) || spans[2].Status().Code != codes.Error {
		t.Errorf("refused span: %v %v", a, spans[2].Status())
	}
	if got[len(got)-1] != guestTP || states[len(states)-1] != "guest=1" {
		t.Errorf("untraced request: traceparent %q tracestate %q, want the guest's", got[len(got)-1], states[len(states)-1])
	}
	if states[0] != "" || states[1] != "" {
		t.Errorf("traced requests kept the guest's tracestate: %q", states)
	}
	for _, s := range spans[:3] {
		if strings.Contains(attrs(s)["url.full"], "secret") || strings.Contains(attrs(s)["url.full"], "/ok") {
			t.Errorf("span shows the query: %v", attrs(s))
		}
	}
}
