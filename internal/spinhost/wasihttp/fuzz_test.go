package wasihttp

import (
	"context"
	"strings"
	"testing"

	"github.com/redspin/redspin/internal/spinhost/outhttp"
	"github.com/redspin/redspin/internal/wasmtime"
)

// FuzzFields: whatever name and value a guest passes, from-list, set and
// append agree on the outcome (ok, forbidden or invalid-syntax, by
// outhttp's rules), never trap, and what is stored reads back lowercase
// and unchanged; set-authority accepts exactly what outhttp parses.
func FuzzFields(f *testing.F) {
	for _, s := range [][2]string{{"x-a", "v"}, {"Host", "h"}, {"bad name", "v"}, {"ok", "a\r\nb"}, {"", ""}, {"Connection", "close"}, {"é", "\xff"}} {
		f.Add(s[0], s[1])
	}
	e := newEnv(f, context.Background())
	f.Fuzz(func(t *testing.T, name, value string) {
		e.t = t
		want := ""
		switch {
		case !outhttp.ValidHeaderName(name):
			want = "invalid-syntax"
		case outhttp.Forbidden(name):
			want = "forbidden"
		case !outhttp.ValidHeaderValue([]byte(value)):
			want = "invalid-syntax"
		}
		r := e.must("[static]fields.from-list", list(entry(name, value)))
		fresh := e.must("[constructor]fields")
		defer e.x.Drop(fresh)
		set := e.must("[method]fields.set", borrow(fresh), str(name), list(wasmtime.Bytes([]byte(value))))
		app := e.must("[method]fields.append", borrow(fresh), str(name), wasmtime.Bytes([]byte(value)))
		for _, v := range []wasmtime.Val{r, set, app} {
			got := ""
			if !v.Ok {
				got = v.Payload.Str
			}
			if got != want {
				t.Fatalf("%q: %q: got %q, want %q", name, value, got, want)
			}
		}
		if want == "" {
			fv := *r.Payload
			defer e.x.Drop(fv)
			if got := entries(t, e, fv); got != strings.ToLower(name)+"="+value+";" {
				t.Fatalf("entries %q", got)
			}
		}
		req := e.must("[constructor]outgoing-request", e.must("[constructor]fields"))
		defer e.x.Drop(req)
		_, _, perr := outhttp.ParseAuthority(name)
		if res := e.must("[method]outgoing-request.set-authority", borrow(req), optStr(name)); res.Ok != (perr == nil) {
			t.Fatalf("set-authority %q: ok=%v, ParseAuthority: %v", name, res.Ok, perr)
		}
	})
}
