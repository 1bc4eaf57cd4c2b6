// Package spinhttp is outbound HTTP for guests written in standard Go: a
// net/http [http.RoundTripper] that sends each request through the host
// (Spin's fermyon:spin/http send-request, which redspin and Spin serve), so
// the usual net/http client code works in a handler:
//
//	client := spinhttp.NewClient()
//	resp, err := client.Post("https://hooks.example.com/notify", "application/json", body)
//
// The destination must be in the component's allowed_outbound_hosts; a
// request to another one fails with an [*Error] of kind
// [DestinationNotAllowed] and never leaves the host.
//
// What the interface implies, and how this package handles it:
//
//   - Bodies are whole values, not streams: the request body is read before
//     the request is sent and the response body arrives complete (the host
//     caps it: under redspin 8 MiB for components, --max-component-payload,
//     and 128 MiB for core modules, as Spin).
//   - The host follows redirects (up to 10; redspin checks each target
//     against allowed_outbound_hosts), so a client's CheckRedirect never
//     runs and resp.Request is the request as sent.
//   - Methods: GET, POST, PUT, DELETE, PATCH, HEAD and OPTIONS; others fail
//     before anything is sent.
//   - The request's context is not seen by the host; the message's handler
//     timeout bounds every request instead.
//   - No trailers, no HTTP/2, no proxy; the host sends no User-Agent of its own.
//
// Cost: importing net/http (which this package does) makes a guest's module
// about 7.6 MB larger and each fresh instance slower to start, since every
// instance runs the init of net/http and crypto/tls (measured: a guest's
// message 1.34 → 2.24 ms with fresh instances). Instance reuse
// (redspin up --max-instance-reuse-count) pays that once per instance.
//
// Outside a GOOS=wasip1 build the package compiles, but every request panics.
package spinhttp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/redspin/redspin/sdk/go/internal/cabi"
)

// ErrorKind is a case of fermyon:spin/http-types' http-error enum.
type ErrorKind uint8

// The error cases, in WIT order.
const (
	// Success is never returned as an error by a conforming host.
	Success ErrorKind = iota
	// DestinationNotAllowed: allowed_outbound_hosts does not list the
	// destination (or a redirect's target).
	DestinationNotAllowed
	// InvalidURL: the URL is not an absolute http or https URL.
	InvalidURL
	// RequestError: the request could not be sent (a malformed header, a
	// connection refused, a DNS failure, ...).
	RequestError
	// RuntimeError: the exchange failed after sending (a timeout, a body
	// over the host's cap, too many redirects, ...).
	RuntimeError
	// TooManyRequests: the message already has as many requests open as
	// the host allows.
	TooManyRequests
)

var errorNames = []string{"success", "destination-not-allowed", "invalid-url", "request-error", "runtime-error", "too-many-requests"}

// String names the case as the WIT does.
func (k ErrorKind) String() string { return cabi.CaseName(errorNames, uint8(k)) }

// Error is a request the host could not complete. The net/http client
// returns it wrapped in a *url.Error; errors.As finds it.
type Error struct {
	// Kind is the error case.
	Kind ErrorKind
}

// Error implements error.
func (e *Error) Error() string {
	if e.Kind == DestinationNotAllowed {
		return "outbound HTTP: destination-not-allowed (add the destination to allowed_outbound_hosts)"
	}
	return "outbound HTTP: " + e.Kind.String()
}

// Transport sends requests through the host. Its zero value is ready to
// use and safe for concurrent use (a guest runs one goroutine at a time).
type Transport struct{}

// NewClient returns an http.Client that sends its requests through the
// host ([Transport]).
func NewClient() *http.Client { return &http.Client{Transport: Transport{}} }

// Send sends req through the host, as NewClient().Do(req) does.
func Send(req *http.Request) (*http.Response, error) { return NewClient().Do(req) }

// methods are the method enum's cases, in WIT order.
var methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodHead, http.MethodOptions}

// RoundTrip implements http.RoundTripper.
func (Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := readBody(req)
	if err != nil {
		return nil, err
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	m := -1
	for i, name := range methods {
		if strings.EqualFold(method, name) {
			m = i
		}
	}
	if m < 0 {
		return nil, fmt.Errorf("outbound HTTP: method %q is not one the host's interface can send (%s)", method, strings.Join(methods, ", "))
	}
	if req.URL == nil {
		return nil, errors.New("outbound HTTP: the request has no URL")
	}
	// The client has turned user info into an Authorization header; the
	// host refuses a URL that still has it. A fragment is never sent.
	u := *req.URL
	u.User, u.Fragment, u.RawFragment = nil, "", ""
	var names, values []string
	for name, vs := range req.Header {
		for _, v := range vs {
			// Strings cross to the host as UTF-8; anything else would trap
			// the guest in a component.
			if !utf8.ValidString(name) || !utf8.ValidString(v) {
				return nil, fmt.Errorf("outbound HTTP: header %q has a value that is not UTF-8, which the host's interface cannot carry", name)
			}
			names, values = append(names, name), append(values, v)
		}
	}
	var a cabi.Area
	send(uint32(m), u.String(), names, values, body, req.Body != nil && req.Body != http.NoBody, &a)
	if a.IsErr() {
		return nil, &Error{Kind: ErrorKind(a.U8(4))}
	}
	status := int(a.U32(4) & 0xffff)
	resp := &http.Response{
		Status:     strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode: status,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{},
		Request:    req,
	}
	if a.U8(8) != 0 {
		pairs := a.StringPairs(12)
		for i := 0; i+1 < len(pairs); i += 2 {
			resp.Header.Add(pairs[i], pairs[i+1])
		}
	}
	b, _ := a.OptionBytes(20)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	return resp, nil
}

// readBody reads and closes the request body (nil for none).
func readBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	defer req.Body.Close()
	b, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, fmt.Errorf("outbound HTTP: reading the request body: %w", err)
	}
	return b, nil
}

// send lowers a request record (method, uri, headers, no params, body) and
// calls send-request with the collector paused; the result is in a.
func send(method uint32, uri string, names, values []string, body []byte, hasBody bool, a *cabi.Area) {
	pairs := make([]string, 0, 2*len(names))
	for i := range names {
		pairs = append(pairs, names[i], values[i])
	}
	up, un := cabi.StringArg(uri)
	arr, hp, _ := cabi.StringsArg(pairs)
	bp, bn := cabi.BytesArg(body)
	hb := uint32(0)
	if hasBody {
		hb = 1
	}
	cabi.PauseGC()
	sendRequest(method, up, un, hp, uint32(len(names)), 0, 0, hb, bp, bn, a.Ptr())
	cabi.ResumeGC()
	runtime.KeepAlive(uri)
	runtime.KeepAlive(pairs)
	runtime.KeepAlive(arr)
	runtime.KeepAlive(body)
}
