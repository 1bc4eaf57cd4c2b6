package wasm

import (
	"errors"
	"testing"

	"github.com/redspin/redspin/internal/spinhost/outhttp"
	"github.com/redspin/redspin/internal/wasmtime"
)

func spinReqVal(method string, uri wasmtime.Val, body *wasmtime.Val) wasmtime.Val {
	opt := wasmtime.None()
	if body != nil {
		opt = wasmtime.Some(*body)
	}
	return wasmtime.Val{Kind: wasmtime.CRecord, Names: []string{"method", "uri", "headers", "params", "body"}, Elems: []wasmtime.Val{
		wasmtime.Enum(method), uri,
		{Kind: wasmtime.CList, Elems: []wasmtime.Val{{Kind: wasmtime.CTuple, Elems: []wasmtime.Val{wasmtime.Str("a"), wasmtime.Str("b")}}}},
		{Kind: wasmtime.CList},
		opt,
	}}
}

func TestLiftSpinRequest(t *testing.T) {
	body := wasmtime.Bytes([]byte("x"))
	r, err := liftSpinRequest([]wasmtime.Val{spinReqVal("post", wasmtime.Str("http://h/"), &body)})
	if err != nil || spinMethods[r.method] != "POST" || r.uri != "http://h/" || len(r.headers) != 2 || string(r.body) != "x" {
		t.Fatalf("%+v %v", r, err)
	}
	empty := wasmtime.Bytes(nil)
	if r, _ := liftSpinRequest([]wasmtime.Val{spinReqVal("get", wasmtime.Str("u"), &empty)}); r.body == nil {
		t.Fatal("some(empty body) lifted as none")
	}
	for _, bad := range [][]wasmtime.Val{
		nil,
		{wasmtime.Str("not a record")},
		{spinReqVal("trace", wasmtime.Str("u"), nil)},
		{spinReqVal("get", wasmtime.U32(1), nil)},
	} {
		if _, err := liftSpinRequest(bad); !errors.Is(err, errArgs) {
			t.Errorf("%v: err %v", bad, err)
		}
	}
}

func TestLowerSpinResponse(t *testing.T) {
	v := lowerSpinResponse(spinResponse{status: 204, headers: []string{"x-a", "1"}, body: nil})
	if v.Kind != wasmtime.CRecord || v.Elems[0].Kind != wasmtime.CU16 || v.Elems[0].Num != 204 {
		t.Fatalf("%+v", v)
	}
	if hs := v.Elems[1].Payload; hs == nil || len(hs.Elems) != 1 || hs.Elems[0].Elems[0].Str != "x-a" {
		t.Fatalf("headers %+v", v.Elems[1])
	}
	if b := v.Elems[2].Payload; b == nil || b.Bytes == nil || len(b.Bytes) != 0 {
		t.Fatalf("body %+v", v.Elems[2])
	}
}

func TestHTTPErrorCases(t *testing.T) {
	for code, want := range map[outhttp.Code]string{
		outhttp.HTTPRequestDenied:      "destination-not-allowed",
		outhttp.HTTPRequestURIInvalid:  "invalid-url",
		outhttp.ConnectionLimitReached: "too-many-requests",
		outhttp.ConnectionRefused:      "runtime-error",
		outhttp.HTTPResponseBodySize:   "runtime-error",
	} {
		if got := httpErrNames[httpErrIndex(&outhttp.Error{Code: code})]; got != want {
			t.Errorf("%s: %s, want %s", code, got, want)
		}
	}
}
