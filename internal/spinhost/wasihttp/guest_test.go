package wasihttp_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redspin/redspin/internal/host"
	"github.com/redspin/redspin/internal/spinhost/outhttp"
	"github.com/redspin/redspin/internal/spinhost/wasm"
	"github.com/redspin/redspin/internal/testutil/countserver"
	"github.com/redspin/redspin/internal/testutil/testca"
)

const jsHTTPGuest = "../../../testdata/guests/js-http/js-http.wasm"

// jsHost loads the js-http guest (componentize-js fetch) into a real Host
// with the Spin services allowing allowed; its stdout goes to a log file.
func jsHost(t testing.TB, timeout time.Duration, network *outhttp.Network, allowed ...string) (h *host.Host, stdout func() string) {
	t.Helper()
	if _, err := os.Stat(jsHTTPGuest); err != nil {
		t.Skipf("guest not built: %v", err)
	}
	svc, err := wasm.NewServices(wasm.ComponentConfig{ID: "fetch", AllowedOutboundHosts: allowed, HTTPNetwork: network})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.HTTP.Close)
	cache := ""
	if dir, err := os.UserCacheDir(); err == nil {
		cache = filepath.Join(dir, "redspin", "test-artifacts")
	}
	logs := t.TempDir()
	h, err = host.New(context.Background(), []host.ComponentConfig{{ID: "fetch", WasmPath: jsHTTPGuest, Imports: svc}},
		host.Options{LogDir: logs, CacheDir: cache, Stderr: io.Discard, HandlerTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	if info, _ := h.Info("fetch"); len(info.UnsupportedImports) != 0 {
		t.Errorf("unsupported imports: %q (wasi:http must be served)", info.UnsupportedImports)
	}
	return h, func() string {
		b, _ := os.ReadFile(filepath.Join(logs, "fetch_stdout.txt"))
		return string(b)
	}
}

// TestJSFetch runs fetch() from a componentize-js guest, one message per
// command, against a loopback server: GET with headers (the guest's Host
// header is not sent), POST with a JSON body, three fetches at once
// (Promise.all; the server answers none until all three arrived), a
// denied host that is never connected, and a 50 MiB streamed response.
func TestJSFetch(t *testing.T) {
	var waiting atomic.Int64
	all := make(chan struct{})
	api := countserver.Start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/echo":
			b, _ := io.ReadAll(r.Body)
			w.Header().Set("X-Echo", r.Method+"|"+r.Header.Get("X-Test")+"|"+r.Host)
			w.WriteHeader(201)
			io.WriteString(w, r.Header.Get("Content-Type")+" "+string(b))
		case "/together":
			if waiting.Add(1) == 3 {
				close(all)
			}
			select {
			case <-all:
				io.WriteString(w, "t")
			case <-time.After(10 * time.Second):
				w.WriteHeader(504)
			}
		case "/big":
			chunk := make([]byte, 1<<20)
			for range 50 {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}
	}))
	denied := countserver.Start(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	h, stdout := jsHost(t, 0, nil, api.URL)
	auth := strings.TrimPrefix(api.URL, "http://")
	for _, c := range []struct{ payload, want string }{
		{"get:" + api.URL + "/echo?q=1", "get 201 GET|hello|" + auth + " "},
		{"post:" + api.URL + "/echo", `post 201 application/json {"n":42,"s":"héllo"}`},
		{"all:" + strings.Repeat(api.URL+"/together ", 3)[:3*len(api.URL+"/together ")-1], "all 200,200,200 t,t,t"},
		{"fail:" + denied.URL + "/", "fail TypeError"},
		{"count:" + api.URL + "/big", "count 200 52428800"},
	} {
		before := len(stdout())
		if err := h.Handle(context.Background(), "fetch", []byte(c.payload)); err != nil {
			t.Fatalf("%s: %v", c.payload, err)
		}
		if got := stdout()[before:]; !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: printed %q, want %q...", c.payload, got, c.want)
		}
	}
	if n := denied.Accepts(); n != 0 {
		t.Errorf("the denied host was connected %d times", n)
	}
}

// TestJSFetchTimeout: a fetch that outlasts the handler timeout ends the
// message with a timeout, and the request is cancelled (the server sees
// its context end).
func TestJSFetchTimeout(t *testing.T) {
	gone := make(chan struct{})
	api := countserver.Start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		close(gone)
	}))
	h, _ := jsHost(t, 500*time.Millisecond, nil, api.URL)
	start := time.Now()
	err := h.Handle(context.Background(), "fetch", []byte("get:"+api.URL+"/slow"))
	if err == nil || !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("want a timeout, got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the message took %v", d)
	}
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Error("the request was not cancelled with the message")
	}
}

// BenchmarkJSFetch: one message of the js-http guest doing one fetch() GET
// (1 KiB body) against a loopback server, end to end through Host.Handle
// (a fresh instance per message, as redspin up runs it).
func BenchmarkJSFetch(b *testing.B) {
	body := strings.Repeat("x", 1024)
	api := countserver.Start(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, body)
	}))
	h, _ := jsHost(b, 0, nil, api.URL)
	payload := []byte("get:" + api.URL + "/echo")
	b.ResetTimer()
	for range b.N {
		if err := h.Handle(context.Background(), "fetch", payload); err != nil {
			b.Fatal(err)
		}
	}
}

// TestJSFetchHTTPS: fetch() over HTTPS to a server whose certificate a test
// CA signed works with a [[client_tls]] entry trusting that CA for the
// component and host, and fails (TLS-certificate-error, a TypeError in JS)
// without it.
func TestJSFetchHTTPS(t *testing.T) {
	ca := testca.New(t)
	srv := countserver.StartTLS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Echo", "tls")
		io.WriteString(w, "secure")
	}), &tls.Config{Certificates: []tls.Certificate{ca.Server("127.0.0.1").TLS}})
	trust := &outhttp.Network{TLS: []outhttp.ClientTLS{{Components: []string{"fetch"}, Hosts: []string{"127.0.0.1"}, Roots: []*x509.Certificate{ca.Cert}}}}
	for _, c := range []struct {
		network *outhttp.Network
		want    string
	}{
		{trust, "get 200 tls secure\n"},
		{nil, "fail TypeError"},
	} {
		h, stdout := jsHost(t, 0, c.network, srv.URL)
		cmd := "get:"
		if c.network == nil {
			cmd = "fail:"
		}
		if err := h.Handle(context.Background(), "fetch", []byte(cmd+srv.URL+"/")); err != nil {
			t.Fatal(err)
		}
		if got := stdout(); !strings.HasPrefix(got, c.want) {
			t.Errorf("client_tls %v: printed %q, want %q...", c.network != nil, got, c.want)
		}
	}
}
