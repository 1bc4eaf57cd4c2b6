package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/redspin/redspin/internal/host"
	spinwasm "github.com/redspin/redspin/internal/spinhost/wasm"
)

// httpGuest is the guest that calls out over HTTP: testdata/guests/js-http,
// which fetch()es (wasi:http) the URL in each message. Its messages are
// "get:<url>" against a loopback server the bench starts, answering 64
// bytes; no other payload applies to it.
const httpGuest = "js-http"

// httpTarget is the loopback HTTP server the HTTP guest calls.
type httpTarget struct {
	srv *httptest.Server
}

func startHTTPTarget() *httpTarget {
	body := bytes.Repeat([]byte("x"), 64)
	return &httpTarget{srv: httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(body)
	}))}
}

// payload is the guest's command for one GET.
func (t *httpTarget) payload() []byte { return []byte("get:" + t.srv.URL + "/") }

// allowed is the allowed_outbound_hosts entry for the server.
func (t *httpTarget) allowed() string { return t.srv.URL }

// imports are the Spin host interfaces the engine loop gives the HTTP guest:
// outbound HTTP to the server only.
func (t *httpTarget) imports() (host.Imports, error) {
	return spinwasm.NewServices(spinwasm.ComponentConfig{ID: "guest", AllowedOutboundHosts: []string{t.allowed()}})
}

func (t *httpTarget) close() { t.srv.Close() }

// manifestLine is the component's allowed_outbound_hosts line for spin.toml.
func (t *httpTarget) manifestLine() string {
	return fmt.Sprintf("allowed_outbound_hosts = [%q]\n", t.allowed())
}
