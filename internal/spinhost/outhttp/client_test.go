package outhttp

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redspin/redspin/internal/spinhost/allowedhosts"
	"github.com/redspin/redspin/internal/testutil/countserver"
	"github.com/redspin/redspin/internal/testutil/testca"
)

func newServer(t *testing.T, h http.Handler) *countserver.Server { return countserver.Start(t, h) }

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func newInstance(t *testing.T, cfg Config) *Instance {
	t.Helper()
	c := New(cfg)
	t.Cleanup(c.Close)
	i := c.NewInstance(context.Background())
	t.Cleanup(func() { i.Close() })
	return i
}

func get(t *testing.T, i *Instance, u string, opts Options) (*Response, error) {
	t.Helper()
	return i.Send(context.Background(), &Request{URL: mustURL(t, u)}, opts)
}

func wantCode(t *testing.T, err error, code Code) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", code)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *Error", err, err)
	}
	if e.Code != code {
		t.Fatalf("code %s (%v), want %s", e.Code, err, code)
	}
}

func readBody(t *testing.T, r *Response) string {
	t.Helper()
	b, err := ReadAll(r, 0)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAllowedHostGetsResponse(t *testing.T) {
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Got", r.Method+" "+r.URL.RequestURI()+" "+string(b))
		w.WriteHeader(201)
		io.WriteString(w, "hello")
	}))
	i := newInstance(t, Config{Component: "c", Allowed: allowedhosts.MustParse("http://127.0.0.1:" + s.Port())})
	resp, err := i.Send(context.Background(), &Request{Method: "POST", URL: mustURL(t, s.URL+"/p?q=1"), Body: strings.NewReader("body")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 201 || resp.Header.Get("X-Got") != "POST /p?q=1 body" || readBody(t, resp) != "hello" {
		t.Fatalf("response %d %v", resp.Status, resp.Header)
	}
}

func TestDeniedHostNeverConnects(t *testing.T) {
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for _, entries := range [][]string{
		nil,
		{"http://127.0.0.1:1"},              // other port
		{"https://127.0.0.1:" + s.Port()},   // other scheme
		{"http://*.127.0.0.1:" + s.Port()},  // a subdomain wildcard never matches the host itself
		{"http://10.0.0.0/8:" + s.Port()},   // other network
		{"http://127.0.0.1:1.." + s.Port()}, // ranges exclude their end
		{"http://localhost:" + s.Port()},    // a name is not the address it resolves to
		{"http://self", "http://self.alt"},  // self never matches an absolute URL
	} {
		var l *allowedhosts.List
		if entries != nil {
			l = allowedhosts.MustParse(entries...)
		}
		i := newInstance(t, Config{Component: "c", Allowed: l})
		_, err := get(t, i, s.URL+"/", Options{})
		wantCode(t, err, HTTPRequestDenied)
		if got := SpinHTTPError(err); got != SpinDestinationNotAllowed {
			t.Fatalf("spin error %s", got)
		}
		if !strings.Contains(err.Error(), `allowed_outbound_hosts = ["http://127.0.0.1:`+s.Port()+`"]`) {
			t.Fatalf("error does not name the entry to add: %v", err)
		}
	}
	if n := s.Accepts(); n != 0 {
		t.Fatalf("%d connections accepted for denied requests", n)
	}
	// And the grammar's allowing forms do reach it.
	for _, e := range []string{"http://127.0.0.1:" + s.Port(), "*://*:*", "http://127.0.0.0/8:*", "http://127.0.0.1:" + s.Port() + ".." + fmt.Sprint(mustPort(s)+1)} {
		i := newInstance(t, Config{Component: "c", Allowed: allowedhosts.MustParse(e)})
		resp, err := get(t, i, s.URL+"/", Options{})
		if err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		resp.Body.Close()
	}
}

func mustPort(s *countserver.Server) int {
	var p int
	fmt.Sscan(s.Port(), &p)
	return p
}

func TestDefaultPorts(t *testing.T) {
	c := New(Config{Component: "c", Allowed: allowedhosts.MustParse("http://example.com", "https://secure.example.com")})
	for u, ok := range map[string]bool{
		"http://example.com/x":            true,
		"http://example.com:80/x":         true,
		"http://example.com:8080/x":       false,
		"https://example.com/x":           false,
		"https://secure.example.com/":     true,
		"https://secure.example.com:443/": true,
		"http://secure.example.com/":      false,
	} {
		err := c.Check(mustURL(t, u))
		if (err == nil) != ok {
			t.Errorf("%s: err %v, want allowed=%v", u, err, ok)
		}
	}
}

func TestRelativeAndInvalidURLs(t *testing.T) {
	c := New(Config{Component: "c", Allowed: allowedhosts.MustParse("http://self", "*://*:*")})
	i := c.NewInstance(context.Background())
	defer i.Close()
	for _, u := range []string{"/relative", "ftp://example.com/", "http:///nohost", "http://user:pw@example.com/"} {
		_, err := i.Send(context.Background(), &Request{URL: mustURL(t, u)}, Options{})
		wantCode(t, err, HTTPRequestURIInvalid)
		if SpinHTTPError(err) != SpinInvalidURL {
			t.Fatalf("%s: %s", u, SpinHTTPError(err))
		}
		if strings.Contains(err.Error(), "pw") {
			t.Fatalf("error leaks the password: %v", err)
		}
	}
	_, err := i.Send(context.Background(), &Request{URL: nil}, Options{})
	wantCode(t, err, HTTPRequestURIInvalid)
	// Without a self entry a relative URL is refused, as in Spin.
	noSelf := newInstance(t, Config{Component: "c", Allowed: allowedhosts.MustParse("*://*:*")})
	_, err = noSelf.Send(context.Background(), &Request{URL: mustURL(t, "/relative")}, Options{})
	wantCode(t, err, HTTPRequestDenied)
}

func TestForbiddenHeadersAndHost(t *testing.T) {
	got := make(chan http.Header, 1)
	var host string
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host = r.Host
		got <- r.Header.Clone()
	}))
	i := newInstance(t, Config{Component: "c", Allowed: allowedhosts.MustParse("http://127.0.0.1:*")})
	h := http.Header{}
	for _, n := range []string{"Host", "Connection", "Keep-Alive", "Proxy-Authorization", "Proxy-Connection", "Upgrade", "Http2-Settings", "Proxy-Authenticate"} {
		h.Set(n, "x")
	}
	h.Set("x-custom", "yes")
	resp, err := i.Send(context.Background(), &Request{URL: mustURL(t, s.URL), Header: h}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	rh := <-got
	if rh.Get("X-Custom") != "yes" {
		t.Fatalf("custom header lost: %v", rh)
	}
	for _, n := range []string{"Keep-Alive", "Proxy-Authorization", "Proxy-Connection", "Upgrade", "Http2-Settings", "Proxy-Authenticate"} {
		if rh.Get(n) != "" {
			t.Errorf("forbidden header %s was sent", n)
		}
	}
	if host != "127.0.0.1:"+s.Port() {
		t.Errorf("Host %q, want the URL's authority", host)
	}
	for _, bad := range []http.Header{{"Bad Name": {"x"}}, {"X": {"a\nb"}}} {
		_, err := i.Send(context.Background(), &Request{URL: mustURL(t, s.URL), Header: bad}, Options{})
		if err == nil || SpinHTTPError(err) != SpinRequestError {
			t.Errorf("%v: err %v", bad, err)
		}
	}
}

func TestRedirects(t *testing.T) {
	target := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "target") }))
	var hops atomic.Int64
	origin := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, target.URL+"/t", http.StatusFound)
		case "/loop":
			hops.Add(1)
			http.Redirect(w, r, "/loop", http.StatusFound)
		default:
			http.Redirect(w, r, "/final", http.StatusFound)
		}
	}))
	onlyOrigin := allowedhosts.MustParse("http://127.0.0.1:" + origin.Port())
	i := newInstance(t, Config{Component: "c", Allowed: onlyOrigin})

	// Not followed (wasi:http): the 302 itself.
	resp, err := get(t, i, origin.URL+"/away", Options{})
	if err != nil || resp.Status != 302 {
		t.Fatalf("%v %v", resp, err)
	}
	resp.Body.Close()
	// Followed, to a host the component may not reach: refused before connecting.
	_, err = get(t, i, origin.URL+"/away", Options{FollowRedirects: true})
	wantCode(t, err, HTTPRequestDenied)
	if !strings.Contains(err.Error(), "redirected from") {
		t.Fatalf("error does not say it was a redirect: %v", err)
	}
	if n := target.Accepts(); n != 0 {
		t.Fatalf("the denied redirect target accepted %d connections", n)
	}
	// Followed and allowed.
	both := newInstance(t, Config{Component: "c", Allowed: allowedhosts.MustParse("http://127.0.0.1:"+origin.Port(), "http://127.0.0.1:"+target.Port())})
	resp, err = get(t, both, origin.URL+"/away", Options{FollowRedirects: true})
	if err != nil {
		t.Fatal(err)
	}
	if b := readBody(t, resp); b != "target" {
		t.Fatalf("body %q", b)
	}
	// At most 10.
	_, err = get(t, i, origin.URL+"/loop", Options{FollowRedirects: true})
	wantCode(t, err, LoopDetected)
	if n := hops.Load(); n != MaxRedirects+1 {
		t.Fatalf("%d requests to the loop, want %d", n, MaxRedirects+1)
	}
}

// fakeResolver resolves every name to addrs.
type fakeResolver struct{ addrs []netip.Addr }

func (f fakeResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return f.addrs, nil
}

func TestBlockNetworksOnResolvedAddresses(t *testing.T) {
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	loop := fakeResolver{[]netip.Addr{netip.MustParseAddr("127.0.0.1")}}
	u := "http://rebind.example:" + s.Port() + "/"
	allowed := allowedhosts.MustParse("http://rebind.example:"+s.Port(), "http://127.0.0.1:"+s.Port())
	for _, tc := range []struct {
		name string
		net  *Network
		ok   bool
	}{
		{"nothing blocked", &Network{Resolver: loop}, true},
		{"cidr", &Network{Resolver: loop, BlockNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}, false},
		{"private", &Network{Resolver: loop, BlockPrivate: true}, false},
		{"other cidr", &Network{Resolver: loop, BlockNetworks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, true},
		{"mapped", &Network{Resolver: fakeResolver{[]netip.Addr{netip.MustParseAddr("::ffff:127.0.0.1")}}, BlockNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}, false},
	} {
		before := s.Accepts()
		i := newInstance(t, Config{Component: "c", Allowed: allowed, Network: tc.net})
		resp, err := get(t, i, u, Options{})
		if tc.ok {
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			resp.Body.Close()
			continue
		}
		wantCode(t, err, DestinationIPProhibited)
		if s.Accepts() != before {
			t.Fatalf("%s: a blocked address was connected to", tc.name)
		}
		// An IP literal is checked too.
		_, err = get(t, i, s.URL+"/", Options{})
		wantCode(t, err, DestinationIPProhibited)
	}
}

func TestPrivateNetworks(t *testing.T) {
	n := &Network{BlockPrivate: true}
	for a, blocked := range map[string]bool{
		"127.0.0.1": true, "10.1.2.3": true, "192.168.1.1": true, "172.16.0.1": true, "169.254.1.1": true,
		"100.64.0.1": true, "0.0.0.0": true, "::1": true, "fd00::1": true, "fe80::1": true, "::ffff:10.0.0.1": true,
		"8.8.8.8": false, "1.1.1.1": false, "2606:4700::1111": false,
	} {
		if got := n.Blocked(netip.MustParseAddr(a)); got != blocked {
			t.Errorf("%s: blocked=%v", a, got)
		}
	}
}

func TestDNSError(t *testing.T) {
	i := newInstance(t, Config{Component: "c", Allowed: allowedhosts.MustParse("http://*:*"), Network: &Network{Resolver: &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return nil, errors.New("no DNS in tests")
	}}}})
	_, err := get(t, i, "http://nowhere.invalid/", Options{})
	wantCode(t, err, DNSError)
}

func TestConnectionRefused(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	var log bytes.Buffer
	i := newInstance(t, Config{Component: "c", Allowed: allowedhosts.MustParse("http://127.0.0.1:*"), Logger: slog.New(slog.NewTextHandler(&log, nil))})
	_, err := get(t, i, "http://"+addr+"/path?token=secret", Options{})
	wantCode(t, err, ConnectionRefused)
	if SpinHTTPError(err) != SpinRuntimeError {
		t.Fatal(SpinHTTPError(err))
	}
	// The operator sees why, without the path or query.
	got := log.String()
	for _, want := range []string{`msg="outbound HTTP failed"`, "component=c", "destination=http://" + addr + " ", "connection-refused"} {
		if !strings.Contains(got, want) {
			t.Fatalf("log %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "secret") || strings.Contains(got, "/path") {
		t.Fatalf("log shows the URL's path or query: %q", got)
	}
}

func TestTimeouts(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow-body" {
			io.WriteString(w, "first")
			w.(http.Flusher).Flush()
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	i := newInstance(t, Config{Component: "c", Allowed: allowedhosts.MustParse("http://127.0.0.1:*")})
	start := time.Now()
	_, err := get(t, i, s.URL+"/slow-headers", Options{FirstByteTimeout: 100 * time.Millisecond})
	wantCode(t, err, ConnectionReadTimeout)
	resp, err := get(t, i, s.URL+"/slow-body", Options{BetweenBytesTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ReadAll(resp, 0)
	wantCode(t, err, ConnectionReadTimeout)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("timeouts took %v", d)
	}
	// The slots were given back.
	if i.active != 0 {
		t.Fatalf("%d requests still counted", i.active)
	}
}

func TestCancellationByMessage(t *testing.T) {
	entered := make(chan struct{}, 4)
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		entered <- struct{}{}
		<-r.Context().Done()
	}))
	c := New(Config{Component: "c", Allowed: allowedhosts.MustParse("http://127.0.0.1:*")})
	defer c.Close()

	// The message's deadline cuts a request short.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	i := c.NewInstance(ctx)
	resp, err := i.Send(context.Background(), &Request{URL: mustURL(t, s.URL)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	wantCode(t, err, ConnectionTimeout)
	i.Close()

	// Close ends an open body, and later sends fail.
	i = c.NewInstance(context.Background())
	resp, err = i.Send(context.Background(), &Request{URL: mustURL(t, s.URL)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	<-entered
	done := make(chan error, 1)
	go func() { _, err := io.ReadAll(resp.Body); done <- err }()
	i.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("read of a body closed by Close succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the body's read")
	}
	_, err = i.Send(context.Background(), &Request{URL: mustURL(t, s.URL)}, Options{})
	wantCode(t, err, InternalError)
}

func TestConcurrentRequestLimit(t *testing.T) {
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "x") }))
	i := newInstance(t, Config{Component: "c", Allowed: allowedhosts.MustParse("http://127.0.0.1:*"), MaxConcurrent: 2})
	r1, err1 := get(t, i, s.URL, Options{})
	r2, err2 := get(t, i, s.URL, Options{})
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	_, err := get(t, i, s.URL, Options{})
	wantCode(t, err, ConnectionLimitReached)
	if SpinHTTPError(err) != SpinTooManyRequests {
		t.Fatal(SpinHTTPError(err))
	}
	r1.Body.Close()
	readBody(t, r2) // EOF frees the slot too
	for range 3 {
		r, err := get(t, i, s.URL, Options{})
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, r)
	}
}

func TestMaxConnections(t *testing.T) {
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "x") }))
	n := &Network{MaxConnections: 1}
	i := newInstance(t, Config{Component: "c", Allowed: allowedhosts.MustParse("http://127.0.0.1:*"), Network: n})
	r1, err := get(t, i, s.URL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The only connection is busy: a second request waits until its context ends.
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	_, err = i.Send(ctx, &Request{URL: mustURL(t, s.URL)}, Options{})
	if err == nil {
		t.Fatal("a second connection was opened beyond max_total_connections")
	}
	readBody(t, r1)
	// Once the first is idle it is reused (or closed to make room).
	r, err := get(t, i, s.URL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, r)
}

func TestReadAllCap(t *testing.T) {
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(bytes.Repeat([]byte("a"), 1000)) }))
	i := newInstance(t, Config{Component: "c", Allowed: allowedhosts.MustParse("http://127.0.0.1:*")})
	r, _ := get(t, i, s.URL, Options{})
	if b, err := ReadAll(r, 1000); err != nil || len(b) != 1000 {
		t.Fatal(len(b), err)
	}
	r, _ = get(t, i, s.URL, Options{})
	_, err := ReadAll(r, 999)
	wantCode(t, err, HTTPResponseBodySize)
	if SpinHTTPError(err) != SpinRuntimeError {
		t.Fatal(SpinHTTPError(err))
	}
	if i.active != 0 {
		t.Fatal("slot not released")
	}
}

func TestStreamedBodyAndTrailers(t *testing.T) {
	const size = 64 << 20
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		chunk := bytes.Repeat([]byte("z"), 64<<10)
		for n := 0; n < size; n += len(chunk) {
			w.Write(chunk)
		}
		w.Header().Set("X-Sum", "done")
	}))
	i := newInstance(t, Config{Component: "c", Allowed: allowedhosts.MustParse("http://127.0.0.1:*")})
	r, err := get(t, i, s.URL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n, err := io.CopyBuffer(io.Discard, r.Body, make([]byte, 32<<10))
	if err != nil || n != size {
		t.Fatal(n, err)
	}
	runtime.ReadMemStats(&after)
	// Streamed, not buffered: the client allocates a small fraction of the body.
	if grew := after.TotalAlloc - before.TotalAlloc; grew > size/8 {
		t.Fatalf("reading a %d-byte body allocated %d bytes", size, grew)
	}
	if r.Trailer().Get("X-Sum") != "done" {
		t.Fatalf("trailers %v", r.Trailer())
	}
}

func TestRequestTrailersAndChunkedBody(t *testing.T) {
	got := make(chan string, 1)
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- fmt.Sprintf("%s %v %s", b, r.TransferEncoding, r.Trailer.Get("X-T"))
	}))
	i := newInstance(t, Config{Component: "c", Allowed: allowedhosts.MustParse("http://127.0.0.1:*")})
	tr := http.Header{} // keys unknown when sending, as with wasi:http's outgoing-body.finish
	pr, pw := io.Pipe()
	go func() {
		io.WriteString(pw, "streamed")
		tr.Set("X-T", "v")
		pw.Close()
	}()
	r, err := i.Send(context.Background(), &Request{Method: "PUT", URL: mustURL(t, s.URL), Body: pr, Trailer: tr}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if g := <-got; g != "streamed [chunked] v" {
		t.Fatalf("server got %q", g)
	}
}

func TestClientTLS(t *testing.T) {
	ca := testca.New(t)
	srvCert := ca.Server("api.internal")
	clientCert := ca.Client("worker")
	s := countserver.StartTLS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := ""
		if len(r.TLS.PeerCertificates) > 0 {
			name = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		io.WriteString(w, "hello "+name)
	}), &tls.Config{Certificates: []tls.Certificate{srvCert.TLS}, ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: ca.Pool()})
	port := s.Port()
	u := "https://api.internal:" + port + "/"
	loop := fakeResolver{[]netip.Addr{netip.MustParseAddr("127.0.0.1")}}
	allowed := allowedhosts.MustParse("https://api.internal:" + port)

	// Platform roots: the test CA is unknown.
	i := newInstance(t, Config{Component: "c", Allowed: allowed, Network: &Network{Resolver: loop}})
	_, err := get(t, i, u, Options{})
	wantCode(t, err, TLSCertificateError)

	entry := ClientTLS{Components: []string{"c"}, Hosts: []string{"API.internal"}, Roots: []*x509.Certificate{ca.Cert}}
	i = newInstance(t, Config{Component: "c", Allowed: allowed, Network: &Network{Resolver: loop, TLS: []ClientTLS{entry}}})
	r, err := get(t, i, u, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b := readBody(t, r); b != "hello " {
		t.Fatalf("body %q", b)
	}

	entry.Certificate = &clientCert.TLS
	n := &Network{Resolver: loop, TLS: []ClientTLS{entry}}
	i = newInstance(t, Config{Component: "c", Allowed: allowed, Network: n})
	r, err = get(t, i, u, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b := readBody(t, r); b != "hello worker" {
		t.Fatalf("body %q (client certificate not presented)", b)
	}
	// The entry is for component c only.
	i = newInstance(t, Config{Component: "other", Allowed: allowed, Network: n})
	_, err = get(t, i, u, Options{})
	wantCode(t, err, TLSCertificateError)
}

// recorder is an observe.OutboundHTTPObserver for tests.
type recorder struct {
	mu   sync.Mutex
	seen []string
}

func (r *recorder) OutboundHTTP(component, host string, status int, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, fmt.Sprintf("%s %s %d", component, host, status))
}

func TestObserver(t *testing.T) {
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(404) }))
	rec := &recorder{}
	i := newInstance(t, Config{Component: "c", Allowed: allowedhosts.MustParse("http://127.0.0.1:*"), Observer: rec})
	r, err := get(t, i, s.URL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, r)
	get(t, i, "http://denied.example/", Options{})
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if fmt.Sprint(rec.seen) != "[c 127.0.0.1 404 c denied.example 0]" {
		t.Fatalf("observed %v", rec.seen)
	}
}

func TestConnectTimeoutCoversTLSHandshake(t *testing.T) {
	// A server that accepts and never speaks TLS.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	held := make(chan net.Conn, 16)
	defer func() {
		for len(held) > 0 {
			(<-held).Close()
		}
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			select {
			case held <- c:
			default:
				c.Close()
			}
		}
	}()
	i := newInstance(t, Config{Component: "c", Allowed: allowedhosts.MustParse("https://127.0.0.1:*")})
	start := time.Now()
	_, err = get(t, i, "https://"+ln.Addr().String()+"/", Options{ConnectTimeout: 150 * time.Millisecond})
	wantCode(t, err, ConnectionTimeout)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestDeclaredContentLengthAndNoUserAgent(t *testing.T) {
	got := make(chan string, 1)
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- fmt.Sprintf("%d %v %q %s", r.ContentLength, r.TransferEncoding, r.UserAgent(), b)
	}))
	i := newInstance(t, Config{Component: "c", Allowed: allowedhosts.MustParse("http://127.0.0.1:*")})
	pr, pw := io.Pipe()
	go func() { io.WriteString(pw, "12345"); pw.Close() }()
	r, err := i.Send(context.Background(), &Request{Method: "POST", URL: mustURL(t, s.URL), Body: pr, Header: http.Header{"Content-Length": {"5"}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if g := <-got; g != `5 [] "" 12345` {
		t.Fatalf("server got %s", g)
	}
}

// BenchmarkSend measures one pooled GET with a 1 KiB response on loopback,
// through the allowed-hosts check, the dialer and the body wrapper.
func BenchmarkSend(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 1024)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	defer s.Close()
	l, _ := allowedhosts.Parse([]string{"http://127.0.0.1:*"})
	c := New(Config{Component: "c", Allowed: l})
	defer c.Close()
	i := c.NewInstance(context.Background())
	defer i.Close()
	u, _ := url.Parse(s.URL)
	b.Run("outhttp", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r, err := i.Send(context.Background(), &Request{URL: u}, Options{})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := ReadAll(r, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The same GET with a plain net/http client: the baseline.
	b.Run("net-http", func(b *testing.B) {
		b.ReportAllocs()
		hc := &http.Client{Transport: &http.Transport{}}
		for b.Loop() {
			r, err := hc.Get(s.URL)
			if err != nil {
				b.Fatal(err)
			}
			io.ReadAll(r.Body)
			r.Body.Close()
		}
	})
}

// Errors and warnings name a URL by its scheme and authority only (a
// redirect's origin too), and a request its caller cancelled is not logged
// as a failure of the destination.
func TestFailureTextsHideURLs(t *testing.T) {
	entered := make(chan struct{}, 1)
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/start" {
			http.Redirect(w, r, "http://10.1.2.3/next", http.StatusFound)
			return
		}
		entered <- struct{}{}
		<-r.Context().Done()
	}))
	var log bytes.Buffer
	i := newInstance(t, Config{Component: "c", Allowed: allowedhosts.MustParse("http://127.0.0.1:*"), Logger: slog.New(slog.NewTextHandler(&log, nil))})
	_, err := i.Send(context.Background(), &Request{URL: mustURL(t, s.URL+"/start?token=secret")}, Options{FollowRedirects: true})
	wantCode(t, err, HTTPRequestDenied)
	if !strings.Contains(err.Error(), "redirected from "+s.URL) || strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "/start") {
		t.Errorf("redirect error %q: want the origin only", err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() {
		<-entered
		cancel(errors.New("the guest dropped the future"))
	}()
	if _, err := i.Send(ctx, &Request{URL: mustURL(t, s.URL+"/slow")}, Options{}); err == nil {
		t.Fatal("cancelled request succeeded")
	}
	if got := log.String(); strings.Contains(got, "secret") || strings.Contains(got, "outbound HTTP failed") {
		t.Errorf("log %q: want no query and no failure for a cancelled request", got)
	}
}
