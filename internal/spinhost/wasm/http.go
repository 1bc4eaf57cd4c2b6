package wasm

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/redspin/redspin/internal/spinhost/outhttp"
	"github.com/redspin/redspin/internal/wasmtime"
)

// modHTTP is Spin's unversioned outbound HTTP interface; Spin 1.x modules
// import it as wasi-outbound-http (function request, same types).
const modHTTP = "fermyon:spin/http"

// spinMethods are fermyon:spin/http-types' method enum, in WIT order.
var spinMethods = []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"}

// httpErrNames are the http-error enum's cases, in WIT order.
var httpErrNames = []string{"success", outhttp.SpinDestinationNotAllowed, outhttp.SpinInvalidURL,
	outhttp.SpinRequestError, outhttp.SpinRuntimeError, outhttp.SpinTooManyRequests}

func httpErrIndex(err error) uint8 {
	name := outhttp.SpinHTTPError(err)
	for i, n := range httpErrNames {
		if n == name {
			return uint8(i)
		}
	}
	return 4 // runtime-error
}

// spinRequest is a lifted fermyon:spin/http request (params are deprecated
// and ignored, as in Spin).
type spinRequest struct {
	method  uint32
	uri     string
	headers []string // name, value, name, value, ...
	body    []byte   // nil = none
}

// spinResponse is a response ready to lower.
type spinResponse struct {
	status  int
	headers []string // name, value, ...; names lower-case, sorted
	body    []byte
}

// sendSpinHTTP sends a fermyon:spin/http request as Spin does: redirects
// followed (each target checked against allowed_outbound_hosts), the body
// buffered up to maxBody bytes.
func (st *Instance) sendSpinHTTP(r spinRequest, maxBody int64) (spinResponse, error) {
	if r.method >= uint32(len(spinMethods)) {
		return spinResponse{}, &outhttp.Error{Code: outhttp.HTTPRequestMethodInvalid, Msg: fmt.Sprintf("method case %d", r.method)}
	}
	u, err := url.Parse(r.uri)
	if err != nil {
		return spinResponse{}, &outhttp.Error{Code: outhttp.HTTPRequestURIInvalid, Msg: "the uri is not a URL"}
	}
	h := http.Header{}
	for i := 0; i+1 < len(r.headers); i += 2 {
		h.Add(r.headers[i], r.headers[i+1])
	}
	req := &outhttp.Request{Method: spinMethods[r.method], URL: u, Header: h}
	if r.body != nil {
		req.Body = bytes.NewReader(r.body)
	}
	resp, err := st.http.Send(st.ctx, req, outhttp.Options{FollowRedirects: true})
	if err != nil {
		return spinResponse{}, err
	}
	b, err := outhttp.ReadAll(resp, maxBody)
	if err != nil {
		return spinResponse{}, err
	}
	out := spinResponse{status: resp.Status, body: b}
	names := make([]string, 0, len(resp.Header))
	for n := range resp.Header {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		for _, v := range resp.Header[n] {
			out.headers = append(out.headers, strings.ToLower(n), v)
		}
	}
	return out, nil
}

// componentHTTPMax is the body cap for components: the component payload
// cap, because list<u8> results cross the C API one value per byte.
func (s *Services) componentHTTPMax() int64 {
	if s.httpMaxComponentBody > 0 {
		return int64(s.httpMaxComponentBody)
	}
	return DefaultMaxResultBytes
}

// Component adapter.

func liftSpinRequest(args []wasmtime.Val) (spinRequest, error) {
	if len(args) == 0 || args[0].Kind != wasmtime.CRecord || len(args[0].Elems) != len(args[0].Names) {
		return spinRequest{}, errArgs
	}
	var r spinRequest
	for i, name := range args[0].Names {
		v := args[0].Elems[i]
		switch name {
		case "method":
			m := -1
			for j, c := range spinMethods {
				if strings.EqualFold(c, v.Str) {
					m = j
				}
			}
			if v.Kind != wasmtime.CEnum || m < 0 {
				return r, errArgs
			}
			r.method = uint32(m)
		case "uri":
			if v.Kind != wasmtime.CString {
				return r, errArgs
			}
			r.uri = v.Str
		case "headers":
			if v.Kind != wasmtime.CList {
				return r, errArgs
			}
			for _, t := range v.Elems {
				if t.Kind != wasmtime.CTuple || len(t.Elems) != 2 || t.Elems[0].Kind != wasmtime.CString || t.Elems[1].Kind != wasmtime.CString {
					return r, errArgs
				}
				r.headers = append(r.headers, t.Elems[0].Str, t.Elems[1].Str)
			}
		case "body":
			if v.Kind != wasmtime.COption {
				return r, errArgs
			}
			if v.Payload != nil {
				if v.Payload.Kind != wasmtime.CList {
					return r, errArgs
				}
				r.body = v.Payload.Bytes
				if r.body == nil {
					r.body = []byte{}
				}
			}
		}
	}
	return r, nil
}

func lowerSpinResponse(r spinResponse) wasmtime.Val {
	hs := wasmtime.Val{Kind: wasmtime.CList, Elems: make([]wasmtime.Val, 0, len(r.headers)/2)}
	for i := 0; i+1 < len(r.headers); i += 2 {
		hs.Elems = append(hs.Elems, wasmtime.Val{Kind: wasmtime.CTuple, Elems: []wasmtime.Val{wasmtime.Str(r.headers[i]), wasmtime.Str(r.headers[i+1])}})
	}
	return wasmtime.Val{Kind: wasmtime.CRecord, Names: []string{"status", "headers", "body"}, Elems: []wasmtime.Val{
		{Kind: wasmtime.CU16, Num: uint64(r.status)},
		wasmtime.Some(hs),
		wasmtime.Some(bytesV(r.body)),
	}}
}

// httpSendComponent is fermyon:spin/http#send-request for components.
func httpSendComponent(_ caller, st *Instance, args, results []wasmtime.Val) error {
	req, err := liftSpinRequest(args)
	if err != nil {
		return err
	}
	resp, err := st.sendSpinHTTP(req, st.svc.componentHTTPMax())
	if err != nil {
		results[0] = wasmtime.ErrVal(ptr(wasmtime.Enum(httpErrNames[httpErrIndex(err)])))
		return nil
	}
	results[0] = okV(ptr(lowerSpinResponse(resp)))
	return nil
}

var httpCompFuncs = map[string]compFunc{"send-request": httpSendComponent}

// Core-module adapter: send-request(req) flattens the request record to
// ten i32s (method, uri ptr/len, headers ptr/len, params ptr/len, body
// option case/ptr/len) plus the return area. The result's payload is at 4:
// response { status u16 at 4, headers option at 8 (list at 12),
// body option at 20 (list at 24) }, or the http-error case byte at 4.
// Spin 1.x's wasi-outbound-http request has the same layout.
var (
	httpCoreFuncs  = map[string]coreImport{"send-request": {11, httpSendCore}}
	spin1HTTPFuncs = map[string]coreImport{"request": {11, httpSendCore}}
)

// modSpin1HTTP is Spin 1.x's outbound HTTP module: fermyon:spin/http's
// send-request, named request.
const modSpin1HTTP = "wasi-outbound-http"

func httpSendCore(c *coreCall) error {
	req := spinRequest{method: c.u(0)}
	var err error
	if req.uri, err = c.str(1); err != nil {
		return err
	}
	if req.headers, err = c.g.strList(c.u(3), 2*c.u(4)); err != nil {
		return err
	}
	if c.u(7) != 0 {
		if req.body, err = c.bytes(8); err != nil {
			return err
		}
	}
	ret := c.u(10)
	resp, err := c.st.sendSpinHTTP(req, outhttp.SpinMaxBufferedBytes)
	if err != nil {
		return c.g.putResultErr(ret, 4, errCase{idx: httpErrIndex(err)})
	}
	if err := c.ok(ret); err != nil {
		return err
	}
	b, err := c.g.slice(ret+4, 2)
	if err != nil {
		return err
	}
	b[0], b[1] = byte(resp.status), byte(resp.status>>8)
	if err := c.g.put8(ret+8, 1); err != nil {
		return err
	}
	if err := c.g.putList(ret+12, len(resp.headers)/2, 16, 4, func(i int, at uint32) error {
		if err := c.g.putBytes(at, []byte(resp.headers[2*i])); err != nil {
			return err
		}
		return c.g.putBytes(at+8, []byte(resp.headers[2*i+1]))
	}); err != nil {
		return err
	}
	if err := c.g.put8(ret+20, 1); err != nil {
		return err
	}
	return c.g.putBytes(ret+24, resp.body)
}
