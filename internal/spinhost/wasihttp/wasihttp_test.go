package wasihttp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redspin/redspin/internal/spinhost/allowedhosts"
	"github.com/redspin/redspin/internal/spinhost/outhttp"
	"github.com/redspin/redspin/internal/testutil/countserver"
	"github.com/redspin/redspin/internal/testutil/cresult"
	"github.com/redspin/redspin/internal/wasi"
	"github.com/redspin/redspin/internal/wasmtime"
)

// env is one message's wasi:http: a fake store with a WASI context and an
// outbound HTTP instance allowing allowed.
type env struct {
	t    testing.TB
	x    *wasi.Call
	ifs  map[string]wasi.Interface
	inst *outhttp.Instance
}

func newEnv(t testing.TB, ctx context.Context, allowed ...string) *env {
	t.Helper()
	list, err := allowedhosts.Parse(allowed)
	if err != nil {
		t.Fatal(err)
	}
	c := outhttp.New(outhttp.Config{Component: "c", Allowed: list})
	t.Cleanup(c.Close)
	inst := c.NewInstance(ctx)
	t.Cleanup(func() { inst.Close() })
	wc, err := wasi.NewCtx(wasi.Config{Context: ctx})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wc.Close() })
	ifs := Interfaces(func(data any) (*outhttp.Instance, error) { return data.(*outhttp.Instance), nil })
	return &env{t: t, x: wasi.NewFakeCall(wc, inst), ifs: ifs, inst: inst}
}

// call runs a wasi:http function ("handle" is outgoing-handler's).
func (e *env) call(fn string, args ...wasmtime.Val) (wasmtime.Val, error) {
	e.t.Helper()
	iface := "wasi:http/types"
	if fn == "handle" {
		iface = "wasi:http/outgoing-handler"
	}
	f, ok := e.ifs[iface][fn]
	if !ok {
		e.t.Fatalf("%s#%s not implemented", iface, fn)
	}
	res := make([]wasmtime.Val, 1)
	err := f(e.x, args, res)
	return res[0], err
}

func (e *env) must(fn string, args ...wasmtime.Val) wasmtime.Val {
	e.t.Helper()
	v, err := e.call(fn, args...)
	if err != nil {
		e.t.Fatalf("%s: %v", fn, err)
	}
	return v
}

// trap asserts fn traps with an error containing want.
func (e *env) trap(want, fn string, args ...wasmtime.Val) {
	e.t.Helper()
	if _, err := e.call(fn, args...); err == nil || !strings.Contains(err.Error(), want) {
		e.t.Fatalf("%s: want a trap containing %q, got %v", fn, want, err)
	}
}

func str(s string) wasmtime.Val    { return wasmtime.Str(s) }
func optStr(s string) wasmtime.Val { return wasmtime.Some(wasmtime.Str(s)) }
func entry(k, v string) wasmtime.Val {
	return wasmtime.Val{Kind: wasmtime.CTuple, Elems: []wasmtime.Val{str(k), wasmtime.Bytes([]byte(v))}}
}
func list(vs ...wasmtime.Val) wasmtime.Val { return wasmtime.Val{Kind: wasmtime.CList, Elems: vs} }

// borrow makes a borrowed copy of an owned handle (the guest passing
// borrow<T>): the table keeps the resource.
func borrow(v wasmtime.Val) wasmtime.Val {
	r := *v.Resource
	r.Owned = false
	return wasmtime.Val{Kind: wasmtime.CResource, Resource: &r}
}

func entries(t testing.TB, e *env, f wasmtime.Val) string {
	t.Helper()
	var b strings.Builder
	for _, en := range e.must("[method]fields.entries", borrow(f)).Elems {
		b.WriteString(en.Elems[0].Str + "=" + string(en.Elems[1].Bytes) + ";")
	}
	return b.String()
}

func TestFieldsRules(t *testing.T) {
	e := newEnv(t, context.Background())
	for _, c := range []struct {
		name, value, want string
	}{
		{"Host", "x", "forbidden"},
		{"connection", "close", "forbidden"},
		{"Transfer-Encoding", "chunked", "forbidden"},
		{"proxy-authorization", "x", "forbidden"},
		{"http2-settings", "x", "forbidden"},
		{"bad name", "x", "invalid-syntax"},
		{"", "x", "invalid-syntax"},
		{"x-ok", "a\nb", "invalid-syntax"},
	} {
		if got := cresult.Err(t, e.must("[static]fields.from-list", list(entry(c.name, c.value)))).Str; got != c.want {
			t.Errorf("from-list %q=%q: %s, want %s", c.name, c.value, got, c.want)
		}
	}
	f := cresult.OK(t, e.must("[static]fields.from-list", list(entry("X-A", "1"), entry("content-type", "text/plain"), entry("x-a", "2"))))
	if got := entries(t, e, f); got != "x-a=1;content-type=text/plain;x-a=2;" {
		t.Errorf("entries: %s", got)
	}
	if got := e.must("[method]fields.get", borrow(f), str("X-a")); len(got.Elems) != 2 || string(got.Elems[1].Bytes) != "2" {
		t.Errorf("get: %+v", got)
	}
	if e.must("[method]fields.has", borrow(f), str("nope")).Num != 0 || e.must("[method]fields.has", borrow(f), str("CONTENT-TYPE")).Num != 1 {
		t.Error("has")
	}
	cresult.OK(t, e.must("[method]fields.set", borrow(f), str("X-A"), list(wasmtime.Bytes([]byte("3")))))
	cresult.OK(t, e.must("[method]fields.append", borrow(f), str("x-b"), wasmtime.Bytes([]byte("4"))))
	cresult.OK(t, e.must("[method]fields.delete", borrow(f), str("content-type")))
	if got := entries(t, e, f); got != "x-a=3;x-b=4;" {
		t.Errorf("after set, append, delete: %s", got)
	}
	if got := cresult.Err(t, e.must("[method]fields.set", borrow(f), str("host"), list(wasmtime.Bytes([]byte("h"))))).Str; got != "forbidden" {
		t.Errorf("set host: %s", got)
	}
	if got := cresult.Err(t, e.must("[method]fields.append", borrow(f), str("x-c"), wasmtime.Bytes([]byte("\x00")))).Str; got != "invalid-syntax" {
		t.Errorf("append NUL: %s", got)
	}
	if got := cresult.Err(t, e.must("[method]fields.delete", borrow(f), str("upgrade"))).Str; got != "forbidden" {
		t.Errorf("delete upgrade: %s", got)
	}
	c := e.must("[method]fields.clone", borrow(f))
	cresult.OK(t, e.must("[method]fields.delete", borrow(c), str("x-a")))
	if entries(t, e, f) != "x-a=3;x-b=4;" || entries(t, e, c) != "x-b=4;" {
		t.Error("clone shares entries with its original")
	}

	// A request's headers are immutable and its child.
	req := e.must("[constructor]outgoing-request", f)
	h := e.must("[method]outgoing-request.headers", borrow(req))
	if got := entries(t, e, h); got != "x-a=3;x-b=4;" {
		t.Errorf("request headers: %s", got)
	}
	for _, fn := range []string{"[method]fields.set", "[method]fields.delete", "[method]fields.append"} {
		args := []wasmtime.Val{borrow(h), str("x-a"), list()}
		if fn == "[method]fields.append" {
			args[2] = wasmtime.Bytes([]byte("v"))
		} else if fn == "[method]fields.delete" {
			args = args[:2]
		}
		if got := cresult.Err(t, e.must(fn, args...)).Str; got != "immutable" {
			t.Errorf("%s on a request's headers: %s", fn, got)
		}
	}
	if err := e.x.Drop(req); err == nil {
		t.Error("dropping a request while its headers are alive did not trap")
	}
	e.trap("alive", "handle", req, wasmtime.None())
	if err := e.x.Drop(h); err != nil {
		t.Fatal(err)
	}
	if err := e.x.Drop(req); err != nil {
		t.Errorf("drop request after its headers: %v", err)
	}
	// The fields passed to the constructor were moved.
	if err := e.x.Drop(f); err == nil {
		t.Error("fields passed to outgoing-request are still in the table")
	}
}

func TestRequestAccessors(t *testing.T) {
	e := newEnv(t, context.Background())
	req := e.must("[constructor]outgoing-request", e.must("[constructor]fields"))
	r := borrow(req)
	if m := e.must("[method]outgoing-request.method", r); m.Str != "get" {
		t.Errorf("default method %+v", m)
	}
	for _, v := range []wasmtime.Val{e.must("[method]outgoing-request.scheme", r), e.must("[method]outgoing-request.authority", r), e.must("[method]outgoing-request.path-with-query", r)} {
		if v.Payload != nil {
			t.Errorf("default: %+v, want none", v)
		}
	}
	other := str("PURGE")
	cresult.OK(t, e.must("[method]outgoing-request.set-method", r, wasmtime.Variant("other", &other)))
	if m := e.must("[method]outgoing-request.method", r); m.Str != "other" || m.Payload.Str != "PURGE" {
		t.Errorf("method %+v", m)
	}
	bad := str("BAD METHOD")
	cresult.Err(t, e.must("[method]outgoing-request.set-method", r, wasmtime.Variant("other", &bad)))
	cresult.OK(t, e.must("[method]outgoing-request.set-method", r, wasmtime.Variant("post", nil)))
	cresult.OK(t, e.must("[method]outgoing-request.set-scheme", r, wasmtime.Some(wasmtime.Variant("HTTPS", nil))))
	if s := e.must("[method]outgoing-request.scheme", r); s.Payload == nil || s.Payload.Str != "HTTPS" {
		t.Errorf("scheme %+v", s)
	}
	cresult.OK(t, e.must("[method]outgoing-request.set-authority", r, optStr("example.com:8443")))
	cresult.Err(t, e.must("[method]outgoing-request.set-authority", r, optStr("user@example.com")))
	cresult.Err(t, e.must("[method]outgoing-request.set-authority", r, optStr("a b")))
	if a := e.must("[method]outgoing-request.authority", r); a.Payload.Str != "example.com:8443" {
		t.Errorf("authority %+v", a)
	}
	cresult.OK(t, e.must("[method]outgoing-request.set-path-with-query", r, optStr("/a?b=c")))
	cresult.Err(t, e.must("[method]outgoing-request.set-path-with-query", r, optStr("/a b")))
	cresult.Err(t, e.must("[method]outgoing-request.set-path-with-query", r, optStr("/a#frag")))
	if p := e.must("[method]outgoing-request.path-with-query", r); p.Payload.Str != "/a?b=c" {
		t.Errorf("path %+v", p)
	}
	cresult.OK(t, e.must("[method]outgoing-request.body", r))
	cresult.Err(t, e.must("[method]outgoing-request.body", r))

	o := e.must("[constructor]request-options")
	for _, n := range []string{"connect-timeout", "first-byte-timeout", "between-bytes-timeout"} {
		if v := e.must("[method]request-options."+n, borrow(o)); v.Payload != nil {
			t.Errorf("%s default %+v", n, v)
		}
		cresult.OK(t, e.must("[method]request-options.set-"+n, borrow(o), wasmtime.Some(wasmtime.Val{Kind: wasmtime.CU64, Num: 5e6})))
		if v := e.must("[method]request-options."+n, borrow(o)); v.Payload == nil || v.Payload.Num != 5e6 {
			t.Errorf("%s %+v", n, v)
		}
	}
}

// server answers with the method, the x-test header, the Host header and
// the body it received; /slow waits; /big streams n bytes.
func server(t *testing.T, hits *atomic.Int64, slow chan struct{}) *countserver.Server {
	return countserver.Start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/slow":
			select {
			case <-slow:
			case <-r.Context().Done():
			}
			return
		case "/big":
			w.Header().Set("Content-Length", "52428800")
			chunk := bytes.Repeat([]byte("x"), 1<<20)
			for range 50 {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Echo", "yes")
		w.Header().Set("Trailer", "X-Trail")
		w.WriteHeader(201)
		io.WriteString(w, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("X-Test")+" "+r.Host+" "+string(body)+" "+r.Trailer.Get("X-Req-Trail"))
		w.Header().Set("X-Trail", "done")
	}))
}

// request builds a request for GET/POST method to scheme://authority+path.
func (e *env) request(method, authority, path string, hdrs ...wasmtime.Val) wasmtime.Val {
	e.t.Helper()
	req := e.must("[constructor]outgoing-request", cresult.OK(e.t, e.must("[static]fields.from-list", list(hdrs...))))
	r := borrow(req)
	cresult.OK(e.t, e.must("[method]outgoing-request.set-method", r, wasmtime.Variant(method, nil)))
	cresult.OK(e.t, e.must("[method]outgoing-request.set-scheme", r, wasmtime.Some(wasmtime.Variant("HTTP", nil))))
	cresult.OK(e.t, e.must("[method]outgoing-request.set-authority", r, optStr(authority)))
	cresult.OK(e.t, e.must("[method]outgoing-request.set-path-with-query", r, optStr(path)))
	return req
}

// await polls a future-incoming-response and returns get's inner result.
func (e *env) await(fut wasmtime.Val) wasmtime.Val {
	e.t.Helper()
	p := e.must("[method]future-incoming-response.subscribe", borrow(fut))
	pv, _, err := e.x.Borrow(borrow(p), tyPollable)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.x.Wait([]wasi.Pollable{pv.(wasi.Pollable)}); err != nil {
		e.t.Fatal(err)
	}
	if err := e.x.Drop(fut); err == nil {
		e.t.Fatal("dropping a future while its pollable is alive did not trap")
	}
	if err := e.x.Drop(p); err != nil {
		e.t.Fatal(err)
	}
	g := e.must("[method]future-incoming-response.get", borrow(fut))
	if g.Payload == nil {
		e.t.Fatal("get: none after the pollable was ready")
	}
	if again := e.must("[method]future-incoming-response.get", borrow(fut)); again.Payload == nil || again.Payload.Ok {
		e.t.Errorf("second get: %+v, want some(err)", again)
	}
	if err := e.x.Drop(fut); err != nil {
		e.t.Fatal(err)
	}
	return cresult.OK(e.t, *g.Payload)
}

// readAll reads an incoming-body's stream to its end.
func (e *env) readAll(body wasmtime.Val, each func(n int)) []byte {
	e.t.Helper()
	s := cresult.OK(e.t, e.must("[method]incoming-body.stream", borrow(body)))
	cresult.Err(e.t, e.must("[method]incoming-body.stream", borrow(body)))
	sv, _, err := e.x.Borrow(borrow(s), tyInputStream)
	if err != nil {
		e.t.Fatal(err)
	}
	in := sv.(wasi.InputStream)
	var out []byte
	for {
		b, err := in.Read(64 << 10)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			e.t.Fatalf("body read: %v", err)
		}
		if len(b) == 0 {
			if _, err := e.x.Wait([]wasi.Pollable{in}); err != nil {
				e.t.Fatal(err)
			}
			continue
		}
		if each != nil {
			each(len(b))
		} else {
			out = append(out, b...)
		}
	}
	e.trap("alive", "[static]incoming-body.finish", body)
	if err := e.x.Drop(s); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func TestGETAndStreamedPOST(t *testing.T) {
	var hits atomic.Int64
	srv := server(t, &hits, nil)
	auth := "127.0.0.1:" + srv.Port()
	e := newEnv(t, context.Background(), "http://"+auth)

	// GET.
	fut := cresult.OK(t, e.must("handle", e.request("get", auth, "/get?q=1", entry("x-test", "hello")), wasmtime.None()))
	resp := cresult.OK(t, e.await(fut))
	if st := e.must("[method]incoming-response.status", borrow(resp)); st.Num != 201 {
		t.Errorf("status %d", st.Num)
	}
	h := e.must("[method]incoming-response.headers", borrow(resp))
	if v := e.must("[method]fields.get", borrow(h), str("x-echo")); len(v.Elems) != 1 || string(v.Elems[0].Bytes) != "yes" {
		t.Errorf("x-echo %+v", v)
	}
	if got := cresult.Err(t, e.must("[method]fields.append", borrow(h), str("x-new"), wasmtime.Bytes([]byte("v")))).Str; got != "immutable" {
		t.Errorf("response headers append: %s", got)
	}
	if err := e.x.Drop(resp); err == nil {
		t.Error("dropping a response while its headers are alive did not trap")
	}
	e.x.Drop(h)
	body := cresult.OK(t, e.must("[method]incoming-response.consume", borrow(resp)))
	cresult.Err(t, e.must("[method]incoming-response.consume", borrow(resp)))
	if err := e.x.Drop(resp); err != nil {
		t.Fatal(err) // the body outlives its response
	}
	if got := string(e.readAll(body, nil)); got != "GET /get?q=1 hello "+auth+"  " {
		t.Errorf("GET body %q", got)
	}
	ft := e.must("[static]incoming-body.finish", body)
	<-mustValue[*futureTrailers](t, e, ft, tyTrailers).done
	tr := e.must("[method]future-trailers.get", borrow(ft))
	tf := cresult.OK(t, cresult.OK(t, *tr.Payload)).Payload
	if tf == nil || entries(t, e, *tf) != "x-trail=done;" {
		t.Errorf("trailers %+v", tr)
	}

	// POST with a body written after handle, with trailers.
	req := e.request("post", auth, "/post", entry("content-type", "application/json"), entry("x-test", "json"))
	ob := cresult.OK(t, e.must("[method]outgoing-request.body", borrow(req)))
	fut = cresult.OK(t, e.must("handle", req, wasmtime.None()))
	os := cresult.OK(t, e.must("[method]outgoing-body.write", borrow(ob)))
	cresult.Err(t, e.must("[method]outgoing-body.write", borrow(ob)))
	w := mustValue[wasi.OutputStream](t, e, os, tyOutputStream)
	for _, part := range []string{`{"a":`, `1}`} {
		<-w.Ready()
		if err := w.Write([]byte(part)); err != nil {
			t.Fatal(err)
		}
	}
	trailers := cresult.OK(t, e.must("[static]fields.from-list", list(entry("x-req-trail", "t"))))
	e.trap("alive", "[static]outgoing-body.finish", ob, wasmtime.Some(trailers))
	e.x.Drop(os)
	cresult.OK(t, e.must("[static]outgoing-body.finish", ob, wasmtime.Some(trailers)))
	resp = cresult.OK(t, e.await(fut))
	body = cresult.OK(t, e.must("[method]incoming-response.consume", borrow(resp)))
	if got := string(e.readAll(body, nil)); got != `POST /post json `+auth+` {"a":1} t` {
		t.Errorf("POST body %q", got)
	}
}

// mustValue returns the host value of resource v.
func mustValue[T any](t *testing.T, e *env, v wasmtime.Val, ty uint32) T {
	t.Helper()
	x, _, err := e.x.Borrow(borrow(v), ty)
	if err != nil {
		t.Fatal(err)
	}
	return x.(T)
}

func TestDeniedAtTheFuture(t *testing.T) {
	var hits atomic.Int64
	srv := server(t, &hits, nil)
	e := newEnv(t, context.Background(), "http://example.com")
	fut := cresult.OK(t, e.must("handle", e.request("get", "127.0.0.1:"+srv.Port(), "/"), wasmtime.None()))
	if got := cresult.Err(t, e.await(fut)).Str; got != "HTTP-request-denied" {
		t.Errorf("denied: %s", got)
	}
	if srv.Accepts() != 0 {
		t.Errorf("a denied request connected %d times", srv.Accepts())
	}
	// No authority: a relative (self) request, refused at the future like
	// any destination allowed_outbound_hosts does not list (no self entry).
	req := e.must("[constructor]outgoing-request", e.must("[constructor]fields"))
	if got := cresult.Err(t, e.await(cresult.OK(t, e.must("handle", req, wasmtime.None())))).Str; got != "HTTP-request-denied" {
		t.Errorf("no authority: %s", got)
	}
	// A scheme other than http and https fails handle itself.
	req = e.request("get", "127.0.0.1:"+srv.Port(), "/")
	ftp := wasmtime.Str("ftp")
	cresult.OK(t, e.must("[method]outgoing-request.set-scheme", borrow(req), wasmtime.Some(wasmtime.Variant("other", &ftp))))
	if got := cresult.Err(t, e.must("handle", req, wasmtime.None())).Str; got != "HTTP-protocol-error" {
		t.Errorf("ftp: %s", got)
	}
}

func TestTimeoutAndCancellation(t *testing.T) {
	var hits atomic.Int64
	slow := make(chan struct{})
	defer close(slow)
	srv := server(t, &hits, slow)
	auth := "127.0.0.1:" + srv.Port()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := newEnv(t, ctx, "http://"+auth)

	o := e.must("[constructor]request-options")
	cresult.OK(t, e.must("[method]request-options.set-first-byte-timeout", borrow(o), wasmtime.Some(wasmtime.Val{Kind: wasmtime.CU64, Num: uint64(50 * time.Millisecond)})))
	fut := cresult.OK(t, e.must("handle", e.request("get", auth, "/slow"), wasmtime.Some(o)))
	if got := cresult.Err(t, e.await(fut)).Str; got != "connection-read-timeout" {
		t.Errorf("first-byte timeout: %s", got)
	}

	// The message's cancellation ends a request without options.
	fut = cresult.OK(t, e.must("handle", e.request("get", auth, "/slow"), wasmtime.None()))
	time.AfterFunc(20*time.Millisecond, cancel)
	f := mustValue[*future](t, e, fut, tyFuture)
	select {
	case <-f.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the message's cancellation did not end the request")
	}
	if f.err == nil {
		t.Error("a cancelled request succeeded")
	}
}

// TestConcurrentRequests: three requests are in flight at once (the server
// answers none until all three arrived), as a JS Promise.all needs.
func TestConcurrentRequests(t *testing.T) {
	var hits atomic.Int64
	slow := make(chan struct{})
	srv := server(t, &hits, slow)
	auth := "127.0.0.1:" + srv.Port()
	e := newEnv(t, context.Background(), "http://"+auth)
	var futs []wasmtime.Val
	var ps []wasi.Pollable
	for range 3 {
		f := cresult.OK(t, e.must("handle", e.request("get", auth, "/slow"), wasmtime.None()))
		futs = append(futs, f)
		ps = append(ps, mustValue[*future](t, e, f, tyFuture))
	}
	deadline := time.Now().Add(10 * time.Second)
	for hits.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if hits.Load() != 3 {
		t.Fatalf("%d of 3 requests reached the server at once", hits.Load())
	}
	close(slow)
	for done := 0; done < 3; {
		idx, err := e.x.Wait(ps)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range idx {
			if ps[i] != nil && len(idx) > 0 {
				ps[i] = wasi.NewChanPollable(make(chan struct{}))
				resp := cresult.OK(t, e.await(futs[i]))
				if st := e.must("[method]incoming-response.status", borrow(resp)); st.Num != 200 {
					t.Errorf("status %d", st.Num)
				}
				e.x.Drop(resp)
				done++
			}
		}
	}
}

// TestLargeBodyFlatMemory streams 50 MiB through an input-stream while the
// heap stays small: the body is never buffered whole.
func TestLargeBodyFlatMemory(t *testing.T) {
	var hits atomic.Int64
	srv := server(t, &hits, nil)
	auth := "127.0.0.1:" + srv.Port()
	e := newEnv(t, context.Background(), "http://"+auth)
	resp := cresult.OK(t, e.await(cresult.OK(t, e.must("handle", e.request("get", auth, "/big"), wasmtime.None()))))
	body := cresult.OK(t, e.must("[method]incoming-response.consume", borrow(resp)))
	var total, maxHeap uint64
	var ms runtime.MemStats
	e.readAll(body, func(n int) {
		total += uint64(n)
		if total%(8<<20) < uint64(n) {
			runtime.ReadMemStats(&ms)
			maxHeap = max(maxHeap, ms.HeapInuse)
		}
	})
	if total != 50<<20 {
		t.Fatalf("read %d bytes, want %d", total, 50<<20)
	}
	t.Logf("50 MiB streamed; max heap in use %d KiB", maxHeap>>10)
	if maxHeap > 24<<20 {
		t.Errorf("heap in use reached %d MiB while streaming 50 MiB", maxHeap>>20)
	}
}

func TestErrorLowering(t *testing.T) {
	for _, c := range []struct {
		err     error
		want    string
		payload bool
	}{
		{&outhttp.Error{Code: outhttp.HTTPRequestDenied}, "HTTP-request-denied", false},
		{&outhttp.Error{Code: outhttp.DNSError}, "DNS-error", true},
		{&outhttp.Error{Code: outhttp.TLSAlertReceived}, "TLS-alert-received", true},
		{&outhttp.Error{Code: outhttp.HTTPResponseBodySize}, "HTTP-response-body-size", true},
		{errors.New("plain"), "internal-error", true},
	} {
		v := lowerError(c.err)
		if v.Kind != wasmtime.CVariant || v.Str != c.want || (v.Payload != nil) != c.payload {
			t.Errorf("%v: %+v", c.err, v)
		}
	}
}

// TestBodyLifetimes: a body cannot be dropped while its stream is alive,
// and a request body dropped without finish fails the request (the server
// never gets a complete body) instead of sending what was written.
func TestBodyLifetimes(t *testing.T) {
	var hits atomic.Int64
	srv := server(t, &hits, nil)
	auth := "127.0.0.1:" + srv.Port()
	e := newEnv(t, context.Background(), "http://"+auth)

	req := e.request("post", auth, "/post")
	ob := cresult.OK(t, e.must("[method]outgoing-request.body", borrow(req)))
	fut := cresult.OK(t, e.must("handle", req, wasmtime.None()))
	os := cresult.OK(t, e.must("[method]outgoing-body.write", borrow(ob)))
	if err := e.x.Drop(ob); err == nil {
		t.Fatal("dropping an outgoing-body while its stream is alive did not trap")
	}
	w := mustValue[wasi.OutputStream](t, e, os, tyOutputStream)
	if err := w.Write([]byte("partial")); err != nil {
		t.Fatal(err)
	}
	e.x.Drop(os)
	if err := e.x.Drop(ob); err != nil {
		t.Fatal(err)
	}
	res := e.await(fut)
	if res.Ok {
		t.Errorf("a request whose body was dropped unfinished got a response: %+v", res)
	}

	resp := cresult.OK(t, e.await(cresult.OK(t, e.must("handle", e.request("get", auth, "/get"), wasmtime.None()))))
	body := cresult.OK(t, e.must("[method]incoming-response.consume", borrow(resp)))
	s := cresult.OK(t, e.must("[method]incoming-body.stream", borrow(body)))
	if err := e.x.Drop(body); err == nil {
		t.Fatal("dropping an incoming-body while its stream is alive did not trap")
	}
	e.x.Drop(s)
	if err := e.x.Drop(body); err != nil {
		t.Fatal(err)
	}
	if err := e.x.Drop(resp); err != nil {
		t.Fatal(err)
	}
}

// A body must hold exactly the bytes its request's content-length
// declares, as Wasmtime's wasi-http enforces: a write past it fails with
// HTTP-request-body-size(some(bytes written)), so does finish with too
// few, and the request is not sent with the misstated body.
func TestBodyContentLength(t *testing.T) {
	var complete atomic.Int64 // bodies read to their end without error
	srv := countserver.Start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		complete.Add(1)
		io.WriteString(w, "POST /post  "+r.Host+" "+string(b)+" ")
	}))
	auth := "127.0.0.1:" + srv.Port()
	e := newEnv(t, context.Background(), "http://"+auth)
	bodySize := func(v wasmtime.Val) uint64 {
		t.Helper()
		if v.Str != "HTTP-request-body-size" || v.Payload == nil || v.Payload.Payload == nil {
			t.Fatalf("error %+v, want HTTP-request-body-size(some(n))", v)
		}
		return v.Payload.Payload.Num
	}
	for _, c := range []struct {
		name, body string
		writeFails bool
		want       uint64 // 0 = finish succeeds
	}{
		{"exact", "long enough", false, 0},
		{"too little", "msg", false, 3},
		{"too much", "more than 11 bytes", true, 18},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := e.request("post", auth, "/post", entry("content-length", "11"))
			ob := cresult.OK(t, e.must("[method]outgoing-request.body", borrow(req)))
			fut := cresult.OK(t, e.must("handle", req, wasmtime.None()))
			os := cresult.OK(t, e.must("[method]outgoing-body.write", borrow(ob)))
			w := mustValue[wasi.OutputStream](t, e, os, tyOutputStream)
			<-w.Ready()
			err := w.Write([]byte(c.body))
			if c.writeFails {
				var he *outhttp.Error
				if !errors.As(err, &he) {
					t.Fatalf("write of %d bytes: %v, want an HTTP error", len(c.body), err)
				}
				if got := bodySize(lowerError(he)); got != c.want {
					t.Fatalf("write: size %d, want %d", got, c.want)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			e.x.Drop(os)
			fin := e.must("[static]outgoing-body.finish", ob, wasmtime.None())
			if c.want == 0 {
				cresult.OK(t, fin)
				resp := cresult.OK(t, e.await(fut))
				body := cresult.OK(t, e.must("[method]incoming-response.consume", borrow(resp)))
				if got := string(e.readAll(body, nil)); got != "POST /post  "+auth+" long enough " {
					t.Fatalf("body %q", got)
				}
				return
			}
			if got := bodySize(cresult.Err(t, fin)); got != c.want {
				t.Fatalf("finish: size %d, want %d", got, c.want)
			}
			if got := cresult.Err(t, e.await(fut)); got.Str != "HTTP-protocol-error" {
				t.Fatalf("response: %+v, want HTTP-protocol-error (the request aborted)", got)
			}
		})
	}
	if n := complete.Load(); n != 1 {
		t.Errorf("the server read %d complete bodies, want 1 (the exact one)", n)
	}
	// A malformed content-length gets no body, as in Wasmtime.
	req := e.request("post", auth, "/post", entry("content-length", "eleven"))
	cresult.Err(t, e.must("[method]outgoing-request.body", borrow(req)))
}
