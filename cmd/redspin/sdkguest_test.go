package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/redspin/redspin/internal/testutil/goguest"
	"github.com/redspin/redspin/internal/testutil/redisserver"
)

// The go-sdk guest (testdata/guests/go-sdk) is built here from source with
// the Go SDK, as a user would build it, and run by `redspin up`.

// buildSDKGuest builds the go-sdk guest into a temporary directory.
func buildSDKGuest(t *testing.T) string {
	t.Helper()
	path, _ := goguest.Build(t, mustAbs(t, "../../testdata/guests/go-sdk"), t.TempDir(), "go-sdk")
	return path
}

// sdkApp writes an app running the SDK guest at wasm on channel "in" of the
// Redis server at url, with outbound Redis and HTTP to 127.0.0.1, the default
// key-value store and a variable.
func sdkApp(t *testing.T, wasm, url string) string {
	t.Helper()
	return writeManifest(t, `spin_manifest_version = 2
[application]
name = "sdk"
[application.trigger.redis]
address = "`+url+`"
[variables]
greeting = { default = "hello from a variable" }
[[trigger.redis]]
channel = "in"
component = "sdk"
[component.sdk]
source = "`+wasm+`"
allowed_outbound_hosts = ["redis://127.0.0.1:*", "http://127.0.0.1:*"]
key_value_stores = ["default"]
variables = { greet = "{{ greeting }}" }
`)
}

// echoServer answers an SDK guest's HTTP requests: the method, the X-Test
// header and the body back, with an X-Echo header; /redirect redirects to
// /echo, /big sends 300 000 bytes.
func echoServer(t *testing.T) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, "/echo?from=redirect", http.StatusFound)
			return
		case "/big":
			w.Write([]byte(strings.Repeat("b", 300000)))
			return
		}
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Echo", "yes")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("X-Test")+" "+string(b))
	}))
	t.Cleanup(s.Close)
	return s
}

func TestSDKGuest(t *testing.T) {
	wasm := buildSDKGuest(t)
	srv := redisserver.Start(t, redisserver.Options{})
	web := echoServer(t)
	dir := sdkApp(t, wasm, srv.URL())
	u := srv.URL()
	msgs := []string{
		"http:get|" + web.URL + "/echo?q=1|-|X-Test: hello",
		"http:post|" + web.URL + "/echo|{\"a\":1}|Content-Type: application/json",
		"http:get|" + web.URL + "/redirect",
		"http:get|" + web.URL + "/big",
		"http:get|http://192.0.2.1/",
		"http:trace|" + web.URL + "/",
		"http:get|" + strings.Replace(web.URL, "://", "://user:pw@", 1) + "/echo?userinfo#frag",
		"http:get|" + web.URL + "/echo|-|X-Test: \xff",
		"print:hello from the sdk",
		"redis:set:" + u + "|k1|v1",
		"redis:get:" + u + "|k1",
		"redis:get:" + u + "|missing",
		"redis:incr:" + u + "|n",
		"redis:incr:" + u + "|n",
		"redis:sadd:" + u + "|s|a|b|c",
		"redis:srem:" + u + "|s|b|zz",
		"redis:smembers:" + u + "|s",
		"redis:del:" + u + "|k1|nope",
		"redis:publish:" + u + "|out|published by the guest",
		"redis:execute:" + u + "|HSET|h|f|#42",
		"redis:execute:" + u + "|HGET|h|f",
		"redis:execute:" + u + "|PING",
		"redis:execute:" + u + "|GET|missing",
		"redis:incr:" + u + "|k2", // after set k2 = "x" below: a type error
		"redis:get:redis://192.0.2.1:6379|x",
		"kv:set:default|a|1",
		"kv:get:default|a",
		"kv:exists:default|a",
		"kv:keys:default",
		"kv:delete:default|a",
		"kv:get:default|a",
		"kv:get:nope|a",
		"var:greet",
		"var:nope",
		"fail",
		"errsuccess",
		"redis:big:" + u + "|" + "3000000",
		"len:" + strings.Repeat("x", 3<<20),
		"trap",
		"print:still running after the trap",
	}
	client := srv.Client()
	ctx := context.Background()
	if err := client.Set(ctx, "k2", "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	sub := client.Subscribe(ctx, "out")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	args := []string{"up", "-f", dir, "--cache-dir", t.TempDir()}
	for _, m := range msgs {
		args = append(args, "--publish", "in="+m)
	}
	out, errOut, stop := startCLI(t, args...)
	waitFor(t, "the last message", func() bool { return strings.Contains(errOut.String(), "still running after the trap") })
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s", code, errOut)
	}
	e := errOut.String()
	for _, want := range []string{
		"hello from the sdk\n",
		`get found=true value="v1"` + "\n",
		`get found=false value=""` + "\n",
		"incr=1\n", "incr=2\n",
		"sadd=3\n", "srem=1\n",
		`smembers=["a" "c"]` + "\n",
		"del=1\n",
		"result int 1\n",
		`result binary "42"` + "\n",
		"result status PONG\n",
		"result nil\n",
		"redis: ERR value is not an integer or out of range\n",
		"redis: invalid-address\n",
		`kv get found=true value="1"` + "\n",
		"kv exists=true\n",
		`kv keys=["a"]` + "\n",
		`kv get found=false value=""` + "\n",
		"key-value: access-denied\n",
		"var=hello from a variable\n",
		"variables: undefined:",
		"fail requested\n",
		"errsuccess requested\n",
		"big=3000000\n",
		"len=3145732\n",
		"panic: trap requested",
		`http status=201 x-echo="yes" body="GET /echo?q=1 hello "` + "\n",
		`http status=201 x-echo="yes" body="POST /echo  {\"a\":1}"` + "\n",
		`http status=201 x-echo="yes" body="GET /echo?from=redirect  "` + "\n",
		"http status=200 body-len=300000\n",
		"http error kind=destination-not-allowed\n",
		`Get "http://192.0.2.1/": outbound HTTP: destination-not-allowed (add the destination to allowed_outbound_hosts)`,
		`outbound HTTP: method "TRACE" is not one the host's interface can send`,
		`http status=201 x-echo="yes" body="GET /echo?userinfo  "` + "\n",
		`outbound HTTP: header "X-Test" has a value that is not UTF-8`,
	} {
		if !strings.Contains(e, want) {
			t.Errorf("missing %q in the output:\n%.4000s", want, e)
		}
	}
	// fail, errsuccess, the type error, the refused address, the store that
	// is not allowed, the undefined variable, the trap and the three refused
	// HTTP requests fail their message.
	if n := strings.Count(e, "handler failed"); n != 10 {
		t.Errorf("%d messages failed, want 10:\n%.4000s", n, e)
	}
	if v, err := client.HGet(ctx, "h", "f").Result(); err != nil || v != "42" {
		t.Errorf("Redis h.f = %q, %v", v, err)
	}
	if n, err := client.Exists(ctx, "k1").Result(); err != nil || n != 0 {
		t.Errorf("k1 still exists: %d, %v", n, err)
	}
	msg, err := sub.ReceiveMessage(ctx)
	if err != nil || msg.Payload != "published by the guest" {
		t.Errorf("published message = %v, %v", msg, err)
	}
	_ = out
}

// TestSDKGuestComponent makes a component of the SDK guest with jco and the
// WASI adapter (what Spin does with it) and runs it: the component-type
// section and the adapter allocator are what make that work.
func TestSDKGuestComponent(t *testing.T) {
	wasm := goguest.Component(t, mustAbs(t, "../.."), buildSDKGuest(t))
	srv := redisserver.Start(t, redisserver.Options{})
	web := echoServer(t)
	dir := sdkApp(t, wasm, srv.URL())
	u := srv.URL()
	args := []string{"up", "-f", dir, "--cache-dir", t.TempDir()}
	for _, m := range []string{
		"print:hello from the component",
		"redis:set:" + u + "|k|v",
		"redis:big:" + u + "|" + "1000000",
		"redis:execute:" + u + "|PING",
		"kv:set:default|a|1",
		"kv:keys:default",
		"var:greet",
		"alloc:64",
		"http:post|" + web.URL + "/echo|from the component|X-Test: c",
		"len:" + strings.Repeat("x", 2<<20),
		"fail",
		"print:done",
	} {
		args = append(args, "--publish", "in="+m)
	}
	_, errOut, stop := startCLI(t, args...)
	waitFor(t, "the last message", func() bool { return strings.Contains(errOut.String(), "done\n") })
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s", code, errOut)
	}
	e := errOut.String()
	for _, want := range []string{"hello from the component\n", "big=1000000\n", "result status PONG\n",
		`kv keys=["a"]` + "\n", "var=hello from a variable\n", "alloc:64 ok\n", "len=2097156\n", "fail requested\n",
		`http status=201 x-echo="yes" body="POST /echo c from the component"` + "\n"} {
		if !strings.Contains(e, want) {
			t.Errorf("missing %q in the output:\n%.4000s", want, e)
		}
	}
	if n := strings.Count(e, "handler failed"); n != 1 {
		t.Errorf("%d messages failed, want 1 (fail):\n%.4000s", n, e)
	}
	if v, err := srv.Client().Get(context.Background(), "k").Result(); err != nil || v != "v" {
		t.Errorf("Redis k = %q, %v", v, err)
	}
}
