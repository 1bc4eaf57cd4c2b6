package e2e

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redspin/redspin/internal/testutil/countserver"
	"github.com/redspin/redspin/internal/testutil/redisserver"
	"github.com/redspin/redspin/internal/testutil/testca"
)

// Outbound HTTP end to end: the c-http guest calls fermyon:spin/http from
// `redspin up` against an HTTPS server that trusts only a test CA and
// requires a client certificate, both configured with [[client_tls]] (files
// relative to the runtime-config file). A host outside
// allowed_outbound_hosts is refused without a connection, and /metrics
// counts both requests.
func TestOutboundHTTPWithClientTLS(t *testing.T) {
	t.Parallel()
	rs := redisserver.Start(t, redisserver.Options{})
	ca := testca.New(t)
	client := ca.Client("worker")

	api := countserver.StartTLS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Echo", fmt.Sprintf("%s %s %s client=%s", r.Method, b, r.Header.Get("X-In"), r.TLS.PeerCertificates[0].Subject.CommonName))
		w.WriteHeader(201)
		io.WriteString(w, "created")
	}), &tls.Config{Certificates: []tls.Certificate{ca.Server("127.0.0.1").TLS}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.Pool()})
	denied := countserver.Start(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))

	dir := channelApp(t, rs.URL(), "web", guestPath("c-http", "c-http.wasm"),
		fmt.Sprintf("allowed_outbound_hosts = [%q]\n", "https://127.0.0.1:"+api.Port()))
	os.MkdirAll(filepath.Join(dir, "tls"), 0o755)
	writeFile(t, dir, "tls/ca.pem", string(ca.PEM))
	writeFile(t, dir, "tls/client.pem", string(client.CertPEM))
	writeFile(t, dir, "tls/client-key.pem", string(client.KeyPEM))
	writeFile(t, dir, "runtime-config.toml", `
[[client_tls]]
component_ids = ["web"]
hosts = ["127.0.0.1"]
ca_roots_file = "tls/ca.pem"
client_cert_file = "tls/client.pem"
client_private_key_file = "tls/client-key.pem"
`)
	p := startRedspin(t, runOpts{}, upArgs(dir, "--runtime-config-file", filepath.Join(dir, "runtime-config.toml"),
		"--listen-admin", "127.0.0.1:0", "--quiet")...)
	admin := p.adminAddr()
	p.waitSubscribed(rs.Addr())

	for _, msg := range []string{
		"http:post|" + api.URL + "/items|hello|X-In: v",
		"http:get|" + denied.URL + "/|-",
	} {
		if err := rs.Client().Publish(ctx(t), "ch", msg).Err(); err != nil {
			t.Fatal(err)
		}
	}
	p.waitFor("the HTTPS response", func() bool {
		return hasLine(logFile(dir, "web", "stdout"), "header x-echo: POST hello v client=worker")
	})
	p.waitFor("the refusal", func() bool {
		return strings.Contains(logFile(dir, "web", "stderr"), "destination-not-allowed")
	})
	if out := logFile(dir, "web", "stdout"); !hasLine(out, "status 201") || !hasLine(out, "body created") {
		t.Errorf("guest stdout:\n%s", out)
	}
	if n := denied.Accepts(); n != 0 {
		t.Errorf("the host outside allowed_outbound_hosts accepted %d connections", n)
	}
	m := scrape(t, admin)
	if got := m.sum("redspin_outbound_http_requests_total", `component="web"`, `status_class="2xx"`); got != 1 {
		t.Errorf("2xx requests %v, want 1", got)
	}
	if got := m.sum("redspin_outbound_http_requests_total", `component="web"`, `status_class="error"`); got != 1 {
		t.Errorf("refused requests %v, want 1", got)
	}
	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.output())
	}
}

// An HTTP call cannot make a handler outlive --handler-timeout: the guest
// waits on a server that never answers, and the message times out on time,
// its request cancelled (the server sees the connection end).
func TestOutboundHTTPCancelledByHandlerTimeout(t *testing.T) {
	t.Parallel()
	rs := redisserver.Start(t, redisserver.Options{})
	gone := make(chan struct{}, 1)
	hang := countserver.Start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers; ends when the client goes away
		gone <- struct{}{}
	}))
	dir := channelApp(t, rs.URL(), "web", guestPath("c-http", "c-http.wasm"),
		fmt.Sprintf("allowed_outbound_hosts = [%q]\n", "http://127.0.0.1:"+hang.Port()))
	p := startRedspin(t, runOpts{}, upArgs(dir, "--handler-timeout", "1s", "--listen-admin", "127.0.0.1:0", "--quiet")...)
	admin := p.adminAddr()
	p.waitSubscribed(rs.Addr())
	begin := time.Now()
	if err := rs.Client().Publish(ctx(t), "ch", "http:get|"+hang.URL+"/|-").Err(); err != nil {
		t.Fatal(err)
	}
	p.waitFor("the timed-out message", func() bool { return scrape(t, admin).sum(mTimedOut, `component="web"`) == 1 })
	if took := time.Since(begin); took > 10*time.Second {
		t.Errorf("the message took %v with a 1 s handler timeout", took)
	}
	select {
	case <-gone:
	case <-time.After(waitTimeout):
		t.Error("the hanging request was never cancelled")
	}
	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.output())
	}
}
