package wasm

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/redspin/redspin/internal/spinhost/allowedhosts"
	"github.com/redspin/redspin/internal/spinhost/outhttp"
	"github.com/redspin/redspin/internal/testutil/countserver"
)

// TestHTTPGuests runs the c-http guest (fermyon:spin/http, as a component
// and as its canonical-ABI core module) and the spin1-http module
// (wasi-outbound-http) against servers on loopback.
func TestHTTPGuests(t *testing.T) {
	api := countserver.Start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/echo":
			b, _ := io.ReadAll(r.Body)
			w.Header().Set("X-Echo", fmt.Sprintf("%s %s %s host=%s", r.Method, b, r.Header.Get("X-In"), r.Host))
			w.WriteHeader(201)
			io.WriteString(w, "hello")
		case "/big":
			io.WriteString(w, strings.Repeat("b", 2000))
		case "/to-denied":
			http.Redirect(w, r, "http://denied.example/", http.StatusFound)
		case "/to-echo":
			http.Redirect(w, r, "/echo", http.StatusSeeOther)
		default:
			w.WriteHeader(404)
		}
	}))
	other := countserver.Start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))

	port := api.Port()
	allowed, err := allowedhosts.Parse([]string{"http://127.0.0.1:" + port})
	if err != nil {
		t.Fatal(err)
	}
	svc := &Services{Component: "guest", HTTP: outhttp.New(outhttp.Config{Component: "guest", Allowed: allowed}), httpMaxComponentBody: 1024}
	defer svc.HTTP.Close()

	common := func(prefix string) []guestStep {
		return []guestStep{
			{"http:get|" + api.URL + "/echo|-", true, "status 201\nheader x-echo: GET   host=127.0.0.1:" + port + "\nbody hello\n", ""},
			{"http:post|" + api.URL + "/echo|payload|X-In: v|Host: evil.example|Connection: close", true,
				"status 201\nheader x-echo: POST payload v host=127.0.0.1:" + port + "\nbody hello\n", ""},
			{"http:put|" + api.URL + "/nothing|-", true, "status 404\nbody \n", ""},
			{"http:get|" + api.URL + "/to-echo|-", true, "status 201\nheader x-echo: GET   host=127.0.0.1:" + port + "\nbody hello\n", ""},
			{"http:get|" + api.URL + "/to-denied|-", false, "", "http:" + api.URL + "/to-denied: destination-not-allowed"},
			{"http:get|" + other.URL + "/|-", false, "", "http:" + other.URL + "/: destination-not-allowed"},
			{"http:get|/self-request|-", false, "", "http:/self-request: destination-not-allowed"}, // no self entry
			{"http:get|not a url|-", false, "", "destination-not-allowed"},                         // as in Spin
			{"http:get|http://127.0.0.1:" + port + "/%zz|-", false, "", "invalid-url"},
			{"http:get|" + api.URL + "/echo|-|Bad Header: x", false, "", "request-error"},
		}
	}
	runners := map[string]struct {
		mk      func(*testing.T) guestRunner
		bigBody guestStep
	}{
		"component": {
			func(t *testing.T) guestRunner { return newComponentRunnerFor(t, svc, "c-http/c-http.wasm", 1) },
			// Over the component cap (the component payload cap, 1024 here).
			guestStep{"http:get|" + api.URL + "/big|-", false, "", "runtime-error"},
		},
		"core": {
			func(t *testing.T) guestRunner {
				return newCoreRunner(t, svc, "c-http/c-http.core", "cabi_realloc", "fermyon:spin/inbound-redis#handle-message")
			},
			guestStep{"http:get|" + api.URL + "/big|-", true, "status 200\nbody-len 2000\n", ""},
		},
		"spin1": {
			func(t *testing.T) guestRunner {
				return newCoreRunner(t, svc, "spin1-http/spin1-http", "canonical_abi_realloc", "handle-redis-message")
			},
			guestStep{"http:get|" + api.URL + "/big|-", true, "status 200\nbody-len 2000\n", ""},
		},
	}
	for name, r := range runners {
		t.Run(name, func(t *testing.T) {
			runSteps(t, r.mk(t), append(common(name), r.bigBody))
		})
	}
	if n := other.Accepts(); n != 0 {
		t.Fatalf("a denied server accepted %d connections", n)
	}
}
