package wasihttp

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/redspin/redspin/internal/spinhost/outhttp"
	"github.com/redspin/redspin/internal/wasi"
	"github.com/redspin/redspin/internal/wasmtime"
)

// outRequest is an outgoing-request.
type outRequest struct {
	headers   *fields
	method    string
	scheme    *string // "http", "https" or another scheme as given; nil = none
	authority *string
	pathQuery *string
	body      *outBody // set by body()
}

// requestOptions is a request-options; nil fields are unset.
type requestOptions struct {
	connect, firstByte, betweenBytes *time.Duration
}

var errBadArg = errors.New("malformed argument (host bug or a guest built against another WIT)")

// methods are the method variant's cases without payload.
var methods = []string{"get", "head", "post", "put", "delete", "connect", "options", "trace", "patch"}

// liftMethod returns the HTTP method of a method variant value.
func liftMethod(v wasmtime.Val) (string, bool) {
	if v.Str == "other" {
		if v.Payload == nil || !outhttp.ValidHeaderName(v.Payload.Str) {
			return "", false
		}
		return v.Payload.Str, true
	}
	for _, m := range methods {
		if v.Str == m {
			return strings.ToUpper(m), true
		}
	}
	return "", false
}

// lowerMethod is liftMethod's inverse.
func lowerMethod(m string) wasmtime.Val {
	for _, c := range methods {
		if strings.ToUpper(c) == m {
			return wasmtime.Variant(c, nil)
		}
	}
	s := wasmtime.Str(m)
	return wasmtime.Variant("other", &s)
}

// liftScheme returns the scheme of a scheme variant value (lowercase for
// HTTP and HTTPS).
func liftScheme(v wasmtime.Val) (string, bool) {
	switch v.Str {
	case "HTTP":
		return "http", true
	case "HTTPS":
		return "https", true
	case "other":
		if v.Payload == nil || !validScheme(v.Payload.Str) {
			return "", false
		}
		return v.Payload.Str, true
	}
	return "", false
}

func lowerScheme(s string) wasmtime.Val {
	switch s {
	case "http":
		return wasmtime.Variant("HTTP", nil)
	case "https":
		return wasmtime.Variant("HTTPS", nil)
	}
	p := wasmtime.Str(s)
	return wasmtime.Variant("other", &p)
}

// validScheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986).
func validScheme(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alpha := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !alpha && (i == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

// validPathQuery accepts an origin-form path with an optional query, or
// "*" or empty: visible ASCII without '#'.
func validPathQuery(s string) bool {
	if s != "" && s != "*" && s[0] != '/' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '#' {
			return false
		}
	}
	return true
}

// validAuthority accepts host[:port] as outhttp parses it.
func validAuthority(s string) bool {
	_, _, err := outhttp.ParseAuthority(s)
	return err == nil
}

func optString(p *string) wasmtime.Val {
	if p == nil {
		return wasmtime.None()
	}
	return wasmtime.Some(wasmtime.Str(*p))
}

// liftOptString returns an option<string> argument (nil = none).
func liftOptString(v wasmtime.Val) *string {
	if v.Payload == nil {
		return nil
	}
	s := v.Payload.Str
	return &s
}

func requestArg(x *wasi.Call, v wasmtime.Val) (*outRequest, uint32, error) {
	r, rep, err := x.Borrow(v, tyOutRequest)
	if err != nil {
		return nil, 0, err
	}
	return r.(*outRequest), rep, nil
}

// reqMethod wraps a function of an outgoing-request.
func reqMethod(f func(x *wasi.Call, r *outRequest, rep uint32, args, results []wasmtime.Val) error) wasi.Func {
	return func(x *wasi.Call, args, results []wasmtime.Val) error {
		r, rep, err := requestArg(x, args[0])
		if err != nil {
			return err
		}
		return f(x, r, rep, args, results)
	}
}

// setter is a set-* function: ok when valid, err(()) otherwise.
func setter(set func(r *outRequest, v wasmtime.Val) bool) wasi.Func {
	return reqMethod(func(_ *wasi.Call, r *outRequest, _ uint32, args, results []wasmtime.Val) error {
		if set(r, args[1]) {
			results[0] = okUnit()
		} else {
			results[0] = wasmtime.ErrVal(nil)
		}
		return nil
	})
}

var requestFuncs = map[string]wasi.Func{
	"[constructor]outgoing-request": func(x *wasi.Call, args, results []wasmtime.Val) error {
		h, err := x.Take(args[0], tyFields)
		if err != nil {
			return err
		}
		v, err := x.Push(tyOutRequest, &outRequest{headers: h.(*fields).clone(true), method: http.MethodGet}, 0)
		results[0] = v
		return err
	},
	"[method]outgoing-request.body": reqMethod(func(x *wasi.Call, r *outRequest, _ uint32, _, results []wasmtime.Val) error {
		if r.body != nil {
			results[0] = wasmtime.ErrVal(nil)
			return nil
		}
		declared := int64(-1)
		if cl := r.headers.header().Get("Content-Length"); cl != "" {
			n, err := strconv.ParseInt(cl, 10, 64)
			if err != nil || n < 0 {
				results[0] = wasmtime.ErrVal(nil) // as Wasmtime: no body for a malformed content-length
				return nil
			}
			declared = n
		}
		r.body = newOutBody(declared)
		v, err := x.Push(tyOutBody, r.body, 0)
		results[0] = wasmtime.OkVal(&v)
		return err
	}),
	"[method]outgoing-request.method": reqMethod(func(_ *wasi.Call, r *outRequest, _ uint32, _, results []wasmtime.Val) error {
		results[0] = lowerMethod(r.method)
		return nil
	}),
	"[method]outgoing-request.set-method": setter(func(r *outRequest, v wasmtime.Val) bool {
		m, ok := liftMethod(v)
		if ok {
			r.method = m
		}
		return ok
	}),
	"[method]outgoing-request.path-with-query": reqMethod(func(_ *wasi.Call, r *outRequest, _ uint32, _, results []wasmtime.Val) error {
		results[0] = optString(r.pathQuery)
		return nil
	}),
	"[method]outgoing-request.set-path-with-query": setter(func(r *outRequest, v wasmtime.Val) bool {
		p := liftOptString(v)
		if p != nil && !validPathQuery(*p) {
			return false
		}
		r.pathQuery = p
		return true
	}),
	"[method]outgoing-request.scheme": reqMethod(func(_ *wasi.Call, r *outRequest, _ uint32, _, results []wasmtime.Val) error {
		if r.scheme == nil {
			results[0] = wasmtime.None()
		} else {
			results[0] = wasmtime.Some(lowerScheme(*r.scheme))
		}
		return nil
	}),
	"[method]outgoing-request.set-scheme": setter(func(r *outRequest, v wasmtime.Val) bool {
		if v.Payload == nil {
			r.scheme = nil
			return true
		}
		s, ok := liftScheme(*v.Payload)
		if ok {
			r.scheme = &s
		}
		return ok
	}),
	"[method]outgoing-request.authority": reqMethod(func(_ *wasi.Call, r *outRequest, _ uint32, _, results []wasmtime.Val) error {
		results[0] = optString(r.authority)
		return nil
	}),
	"[method]outgoing-request.set-authority": setter(func(r *outRequest, v wasmtime.Val) bool {
		a := liftOptString(v)
		if a != nil && !validAuthority(*a) {
			return false
		}
		r.authority = a
		return true
	}),
	"[method]outgoing-request.headers": reqMethod(func(x *wasi.Call, r *outRequest, rep uint32, _, results []wasmtime.Val) error {
		v, err := x.Push(tyFields, r.headers, rep)
		results[0] = v
		return err
	}),

	"[constructor]request-options": func(x *wasi.Call, _, results []wasmtime.Val) error {
		v, err := x.Push(tyOptions, &requestOptions{}, 0)
		results[0] = v
		return err
	},
	"[method]request-options.connect-timeout":        optionGet(func(o *requestOptions) **time.Duration { return &o.connect }),
	"[method]request-options.set-connect-timeout":    optionSet(func(o *requestOptions) **time.Duration { return &o.connect }),
	"[method]request-options.first-byte-timeout":     optionGet(func(o *requestOptions) **time.Duration { return &o.firstByte }),
	"[method]request-options.set-first-byte-timeout": optionSet(func(o *requestOptions) **time.Duration { return &o.firstByte }),
	"[method]request-options.between-bytes-timeout":  optionGet(func(o *requestOptions) **time.Duration { return &o.betweenBytes }),
	"[method]request-options.set-between-bytes-timeout": optionSet(func(o *requestOptions) **time.Duration {
		return &o.betweenBytes
	}),
}

func optionGet(field func(*requestOptions) **time.Duration) wasi.Func {
	return func(x *wasi.Call, args, results []wasmtime.Val) error {
		o, _, err := x.Borrow(args[0], tyOptions)
		if err != nil {
			return err
		}
		if d := *field(o.(*requestOptions)); d != nil {
			results[0] = wasmtime.Some(wasmtime.Val{Kind: wasmtime.CU64, Num: uint64(*d)})
		} else {
			results[0] = wasmtime.None()
		}
		return nil
	}
}

// maxDuration is the largest timeout accepted (a Go time.Duration).
const maxDuration = uint64(1<<63 - 1)

func optionSet(field func(*requestOptions) **time.Duration) wasi.Func {
	return func(x *wasi.Call, args, results []wasmtime.Val) error {
		o, _, err := x.Borrow(args[0], tyOptions)
		if err != nil {
			return err
		}
		p := field(o.(*requestOptions))
		if args[1].Payload == nil {
			*p = nil
		} else if n := args[1].Payload.Num; n > maxDuration {
			results[0] = wasmtime.ErrVal(nil)
			return nil
		} else {
			d := time.Duration(n)
			*p = &d
		}
		results[0] = okUnit()
		return nil
	}
}
