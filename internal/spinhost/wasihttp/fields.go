package wasihttp

import (
	"net/http"
	"strings"

	"github.com/redspin/redspin/internal/spinhost/outhttp"
	"github.com/redspin/redspin/internal/wasi"
	"github.com/redspin/redspin/internal/wasmtime"
)

// fields is a wasi:http fields resource (headers and trailers): entries in
// order, names lowercase.
type fields struct {
	names     []string
	vals      [][]byte
	immutable bool
}

// header-error cases.
const (
	errInvalidSyntax = "invalid-syntax"
	errForbidden     = "forbidden"
	errImmutable     = "immutable"
)

// checkName returns the header-error for a name a guest may not set, or
// "".
func checkName(name string) string {
	if !outhttp.ValidHeaderName(name) {
		return errInvalidSyntax
	}
	if outhttp.Forbidden(name) {
		return errForbidden
	}
	return ""
}

// set replaces name's values (checked by the caller).
func (f *fields) set(name string, vals [][]byte) {
	f.del(name)
	for _, v := range vals {
		f.names = append(f.names, name)
		f.vals = append(f.vals, v)
	}
}

func (f *fields) del(name string) {
	n, v := f.names[:0], f.vals[:0]
	for i, k := range f.names {
		if k != name {
			n, v = append(n, k), append(v, f.vals[i])
		}
	}
	clear(f.names[len(n):])
	clear(f.vals[len(v):])
	f.names, f.vals = n, v
}

func (f *fields) get(name string) [][]byte {
	var out [][]byte
	for i, k := range f.names {
		if k == name {
			out = append(out, f.vals[i])
		}
	}
	return out
}

// clone returns a copy, mutable unless immutable is set.
func (f *fields) clone(immutable bool) *fields {
	c := &fields{names: append([]string(nil), f.names...), immutable: immutable}
	for _, v := range f.vals {
		c.vals = append(c.vals, append([]byte(nil), v...))
	}
	return c
}

// header returns f as an http.Header.
func (f *fields) header() http.Header {
	h := make(http.Header, len(f.names))
	for i, k := range f.names {
		ck := http.CanonicalHeaderKey(k)
		h[ck] = append(h[ck], string(f.vals[i]))
	}
	return h
}

// fieldsOf returns h as immutable fields (a response's headers or
// trailers), names lowercase, in a stable order.
func fieldsOf(h http.Header, immutable bool) *fields {
	f := &fields{immutable: immutable}
	for _, k := range sortedKeys(h) {
		lk := strings.ToLower(k)
		for _, v := range h[k] {
			f.names = append(f.names, lk)
			f.vals = append(f.vals, []byte(v))
		}
	}
	return f
}

func headerErr(c string) wasmtime.Val {
	e := wasmtime.Variant(c, nil)
	return wasmtime.ErrVal(&e)
}

func okUnit() wasmtime.Val { return wasmtime.OkVal(nil) }

func fieldsArg(x *wasi.Call, v wasmtime.Val) (*fields, uint32, error) {
	f, rep, err := x.Borrow(v, tyFields)
	if err != nil {
		return nil, 0, err
	}
	return f.(*fields), rep, nil
}

// fieldsFuncs are wasi:http/types' fields functions.
var fieldsFuncs = map[string]wasi.Func{
	"[constructor]fields": func(x *wasi.Call, _, results []wasmtime.Val) error {
		v, err := x.Push(tyFields, &fields{}, 0)
		results[0] = v
		return err
	},
	"[static]fields.from-list": func(x *wasi.Call, args, results []wasmtime.Val) error {
		f := &fields{}
		for _, e := range args[0].Elems {
			if len(e.Elems) != 2 {
				return errBadArg
			}
			name, val := e.Elems[0].Str, e.Elems[1].Bytes
			if c := checkName(name); c != "" {
				results[0] = headerErr(c)
				return nil
			}
			if !outhttp.ValidHeaderValue(val) {
				results[0] = headerErr(errInvalidSyntax)
				return nil
			}
			f.names = append(f.names, strings.ToLower(name))
			f.vals = append(f.vals, append([]byte(nil), val...))
		}
		v, err := x.Push(tyFields, f, 0)
		results[0] = wasmtime.OkVal(&v)
		return err
	},
	"[method]fields.get": func(x *wasi.Call, args, results []wasmtime.Val) error {
		f, _, err := fieldsArg(x, args[0])
		if err != nil {
			return err
		}
		out := []wasmtime.Val{}
		for _, v := range f.get(strings.ToLower(args[1].Str)) {
			out = append(out, wasmtime.Bytes(append([]byte{}, v...)))
		}
		results[0] = wasmtime.Val{Kind: wasmtime.CList, Elems: out}
		return nil
	},
	"[method]fields.has": func(x *wasi.Call, args, results []wasmtime.Val) error {
		f, _, err := fieldsArg(x, args[0])
		if err != nil {
			return err
		}
		results[0] = boolVal(len(f.get(strings.ToLower(args[1].Str))) > 0)
		return nil
	},
	"[method]fields.set": func(x *wasi.Call, args, results []wasmtime.Val) error {
		f, _, err := fieldsArg(x, args[0])
		if err != nil {
			return err
		}
		name := args[1].Str
		if c := checkName(name); c != "" {
			results[0] = headerErr(c)
			return nil
		}
		vals := make([][]byte, 0, len(args[2].Elems))
		for _, v := range args[2].Elems {
			if !outhttp.ValidHeaderValue(v.Bytes) {
				results[0] = headerErr(errInvalidSyntax)
				return nil
			}
			vals = append(vals, append([]byte(nil), v.Bytes...))
		}
		if f.immutable {
			results[0] = headerErr(errImmutable)
			return nil
		}
		f.set(strings.ToLower(name), vals)
		results[0] = okUnit()
		return nil
	},
	"[method]fields.delete": func(x *wasi.Call, args, results []wasmtime.Val) error {
		f, _, err := fieldsArg(x, args[0])
		if err != nil {
			return err
		}
		if c := checkName(args[1].Str); c != "" {
			results[0] = headerErr(c)
			return nil
		}
		if f.immutable {
			results[0] = headerErr(errImmutable)
			return nil
		}
		f.del(strings.ToLower(args[1].Str))
		results[0] = okUnit()
		return nil
	},
	"[method]fields.append": func(x *wasi.Call, args, results []wasmtime.Val) error {
		f, _, err := fieldsArg(x, args[0])
		if err != nil {
			return err
		}
		name, val := args[1].Str, args[2].Bytes
		if c := checkName(name); c != "" {
			results[0] = headerErr(c)
			return nil
		}
		if !outhttp.ValidHeaderValue(val) {
			results[0] = headerErr(errInvalidSyntax)
			return nil
		}
		if f.immutable {
			results[0] = headerErr(errImmutable)
			return nil
		}
		f.names = append(f.names, strings.ToLower(name))
		f.vals = append(f.vals, append([]byte(nil), val...))
		results[0] = okUnit()
		return nil
	},
	"[method]fields.entries": func(x *wasi.Call, args, results []wasmtime.Val) error {
		f, _, err := fieldsArg(x, args[0])
		if err != nil {
			return err
		}
		out := make([]wasmtime.Val, len(f.names))
		for i, k := range f.names {
			out[i] = wasmtime.Val{Kind: wasmtime.CTuple, Elems: []wasmtime.Val{wasmtime.Str(k), wasmtime.Bytes(append([]byte{}, f.vals[i]...))}}
		}
		results[0] = wasmtime.Val{Kind: wasmtime.CList, Elems: out}
		return nil
	},
	"[method]fields.clone": func(x *wasi.Call, args, results []wasmtime.Val) error {
		f, _, err := fieldsArg(x, args[0])
		if err != nil {
			return err
		}
		v, err := x.Push(tyFields, f.clone(false), 0)
		results[0] = v
		return err
	},
}

func boolVal(b bool) wasmtime.Val {
	v := wasmtime.Val{Kind: wasmtime.CBool}
	if b {
		v.Num = 1
	}
	return v
}
