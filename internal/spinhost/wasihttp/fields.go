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

// checkField returns the header-error case for setting name to vals, or
// "" when they are valid.
func checkField(name string, vals ...[]byte) string {
	if c := checkName(name); c != "" {
		return c
	}
	for _, v := range vals {
		if !outhttp.ValidHeaderValue(v) {
			return errInvalidSyntax
		}
	}
	return ""
}

// fieldsMethod wraps a function of a fields resource.
func fieldsMethod(fn func(f *fields, args []wasmtime.Val) wasmtime.Val) wasi.Func {
	return func(x *wasi.Call, args, results []wasmtime.Val) error {
		v, _, err := x.Borrow(args[0], tyFields)
		if err != nil {
			return err
		}
		results[0] = fn(v.(*fields), args)
		return nil
	}
}

// fieldsChange wraps set, delete and append: name and values are checked
// (invalid-syntax, forbidden) before mutability (immutable), as Wasmtime
// does.
func fieldsChange(change func(f *fields, name string, vals [][]byte), vals func(args []wasmtime.Val) [][]byte) wasi.Func {
	return fieldsMethod(func(f *fields, args []wasmtime.Val) wasmtime.Val {
		name, vs := args[1].Str, vals(args)
		if c := checkField(name, vs...); c != "" {
			return headerErr(c)
		}
		if f.immutable {
			return headerErr(errImmutable)
		}
		change(f, strings.ToLower(name), vs)
		return okUnit()
	})
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
			if c := checkField(name, val); c != "" {
				results[0] = headerErr(c)
				return nil
			}
			f.names = append(f.names, strings.ToLower(name))
			f.vals = append(f.vals, append([]byte(nil), val...))
		}
		v, err := x.Push(tyFields, f, 0)
		results[0] = wasmtime.OkVal(&v)
		return err
	},
	"[method]fields.get": fieldsMethod(func(f *fields, args []wasmtime.Val) wasmtime.Val {
		out := []wasmtime.Val{}
		for _, v := range f.get(strings.ToLower(args[1].Str)) {
			out = append(out, wasmtime.Bytes(append([]byte{}, v...)))
		}
		return wasmtime.Val{Kind: wasmtime.CList, Elems: out}
	}),
	"[method]fields.has": fieldsMethod(func(f *fields, args []wasmtime.Val) wasmtime.Val {
		return boolVal(len(f.get(strings.ToLower(args[1].Str))) > 0)
	}),
	"[method]fields.set": fieldsChange(func(f *fields, name string, vals [][]byte) { f.set(name, vals) },
		func(args []wasmtime.Val) [][]byte {
			vals := make([][]byte, len(args[2].Elems))
			for i, v := range args[2].Elems {
				vals[i] = append([]byte(nil), v.Bytes...)
			}
			return vals
		}),
	"[method]fields.delete": fieldsChange(func(f *fields, name string, _ [][]byte) { f.del(name) },
		func([]wasmtime.Val) [][]byte { return nil }),
	"[method]fields.append": fieldsChange(func(f *fields, name string, vals [][]byte) {
		f.names = append(f.names, name)
		f.vals = append(f.vals, vals[0])
	}, func(args []wasmtime.Val) [][]byte { return [][]byte{append([]byte(nil), args[2].Bytes...)} }),
	"[method]fields.entries": fieldsMethod(func(f *fields, _ []wasmtime.Val) wasmtime.Val {
		out := make([]wasmtime.Val, len(f.names))
		for i, k := range f.names {
			out[i] = wasmtime.Val{Kind: wasmtime.CTuple, Elems: []wasmtime.Val{wasmtime.Str(k), wasmtime.Bytes(append([]byte{}, f.vals[i]...))}}
		}
		return wasmtime.Val{Kind: wasmtime.CList, Elems: out}
	}),
	"[method]fields.clone": func(x *wasi.Call, args, results []wasmtime.Val) error {
		v, _, err := x.Borrow(args[0], tyFields)
		if err != nil {
			return err
		}
		c, err := x.Push(tyFields, v.(*fields).clone(false), 0)
		results[0] = c
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
