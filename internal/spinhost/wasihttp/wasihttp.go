package wasihttp

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/redspin/redspin/internal/spinhost/outhttp"
	"github.com/redspin/redspin/internal/wasi"
	"github.com/redspin/redspin/internal/wasmtime"
)

// InstanceOf finds the message's outbound HTTP instance in a store's data
// (wasi.Call.Data).
type InstanceOf func(data any) (*outhttp.Instance, error)

// Interfaces returns wasi:http/types and wasi:http/outgoing-handler, keyed
// by unversioned name as host.WASIInterfaces wants them; requests go
// through the instance inst finds in each store's data.
func Interfaces(inst InstanceOf) map[string]wasi.Interface {
	types := wasi.Interface{}
	for _, m := range []map[string]wasi.Func{fieldsFuncs, requestFuncs, outBodyFuncs, responseFuncs} {
		maps.Copy(types, m)
	}
	return map[string]wasi.Interface{
		"wasi:http/types":            types,
		"wasi:http/outgoing-handler": {"handle": handle(inst)},
	}
}

// mustType is wasi.TypeOf for the names below, which internal/wasi knows.
func mustType(name string) uint32 {
	if t, ok := wasi.TypeOf(name); ok {
		return t
	}
	panic("wasihttp: internal/wasi has no resource " + name)
}

// Resource type numbers (internal/wasi's, shared with every interface).
var (
	tyFields       = mustType("fields")
	tyOutRequest   = mustType("outgoing-request")
	tyOptions      = mustType("request-options")
	tyOutBody      = mustType("outgoing-body")
	tyFuture       = mustType("future-incoming-response")
	tyInResponse   = mustType("incoming-response")
	tyInBody       = mustType("incoming-body")
	tyTrailers     = mustType("future-trailers")
	tyPollable     = mustType("pollable")
	tyInputStream  = mustType("input-stream")
	tyOutputStream = mustType("output-stream")
	tyError        = mustType("error")
)

// handle implements outgoing-handler.handle.
func handle(instOf InstanceOf) wasi.Func {
	return func(x *wasi.Call, args, results []wasmtime.Val) error {
		inst, err := instOf(x.Data())
		if err != nil {
			return err
		}
		v, err := x.Take(args[0], tyOutRequest)
		if err != nil {
			return err
		}
		r := v.(*outRequest)
		var opts outhttp.Options // FollowRedirects false: wasi:http follows none
		if o := args[1]; o.Payload != nil {
			ov, err := x.Take(*o.Payload, tyOptions)
			if err != nil {
				return err
			}
			ro := ov.(*requestOptions)
			if ro.connect != nil {
				opts.ConnectTimeout = *ro.connect
			}
			if ro.firstByte != nil {
				opts.FirstByteTimeout = *ro.firstByte
			}
			if ro.betweenBytes != nil {
				opts.BetweenBytesTimeout = *ro.betweenBytes
			}
		}
		req, err := buildRequest(r)
		if err != nil {
			if r.body != nil {
				r.body.abort(err)
			}
			e := lowerError(err)
			results[0] = wasmtime.ErrVal(&e)
			return nil
		}
		f := send(x.Context(), inst, req, opts)
		fv, err := x.Push(tyFuture, f, 0)
		if err != nil {
			f.Close()
			return err
		}
		results[0] = wasmtime.OkVal(&fv)
		return nil
	}
}

// buildRequest turns an outgoing-request into outhttp's: https when no
// scheme is set, "/" when no path. Without an authority the URL is
// relative (Spin's self request), which outhttp refuses when the future
// resolves: HTTP-request-denied without a self entry in
// allowed_outbound_hosts, HTTP-request-URI-invalid with one. The host
// header goes (Spin removes it); the authority names the destination.
func buildRequest(r *outRequest) (*outhttp.Request, error) {
	scheme := "https"
	if r.scheme != nil {
		scheme = strings.ToLower(*r.scheme)
	}
	if scheme != "http" && scheme != "https" {
		return nil, &outhttp.Error{Code: outhttp.HTTPProtocolError, Msg: fmt.Sprintf("scheme %q is not http or https", *r.scheme)}
	}
	pq := "/"
	if r.pathQuery != nil && *r.pathQuery != "" {
		pq = *r.pathQuery
	}
	raw := pq
	if r.authority != nil && *r.authority != "" {
		raw = scheme + "://" + *r.authority + pq
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, &outhttp.Error{Code: outhttp.HTTPRequestURIInvalid, Err: err}
	}
	h := r.headers.header()
	req := &outhttp.Request{Method: r.method, URL: u, Header: h}
	if cl := h.Get("Content-Length"); cl != "" {
		n, err := strconv.ParseInt(cl, 10, 64)
		if err != nil || n < 0 {
			return nil, &outhttp.Error{Code: outhttp.HTTPProtocolError, Msg: fmt.Sprintf("content-length %q is not a length", cl)}
		}
		req.ContentLength = n
	}
	if b := r.body; b != nil {
		b.mu.Lock()
		done := b.finished && len(b.trailers) == 0
		b.mu.Unlock()
		if done {
			// Finished before handle: sent with its length.
			req.Body = strings.NewReader(string(b.buf))
		} else {
			b.reqTrailer = http.Header{}
			req.Body, req.Trailer = bodyReader{b}, b.reqTrailer
		}
	}
	return req, nil
}

// lowerError returns err as a wasi:http error-code value, with the
// payload each case's WIT type needs.
func lowerError(err error) wasmtime.Val {
	code := outhttp.CodeOf(err)
	var he *outhttp.Error
	if !errors.As(err, &he) {
		code = outhttp.InternalError
	}
	none := wasmtime.None()
	switch code {
	case outhttp.DNSError:
		p := wasmtime.Val{Kind: wasmtime.CRecord, Names: []string{"rcode", "info-code"}, Elems: []wasmtime.Val{none, none}}
		return wasmtime.Variant(string(code), &p)
	case outhttp.TLSAlertReceived:
		p := wasmtime.Val{Kind: wasmtime.CRecord, Names: []string{"alert-id", "alert-message"}, Elems: []wasmtime.Val{none, wasmtime.Some(wasmtime.Str(err.Error()))}}
		return wasmtime.Variant(string(code), &p)
	case outhttp.HTTPRequestBodySize:
		p := none
		var se bodySizeError
		if errors.As(err, &se) {
			p = wasmtime.Some(wasmtime.Val{Kind: wasmtime.CU64, Num: uint64(se.written)})
		}
		return wasmtime.Variant(string(code), &p)
	case outhttp.HTTPRequestHeaderSize, outhttp.HTTPResponseBodySize:
		return wasmtime.Variant(string(code), &none)
	case outhttp.InternalError:
		p := wasmtime.Some(wasmtime.Str(err.Error()))
		return wasmtime.Variant(string(code), &p)
	}
	return wasmtime.Variant(string(code), nil)
}

// sortedKeys returns h's keys in order.
func sortedKeys(h http.Header) []string {
	return slices.Sorted(maps.Keys(h))
}
