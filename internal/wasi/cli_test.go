package wasi

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redspin/redspin/internal/testutil/cresult"
	"github.com/redspin/redspin/internal/wasmtime"
)

func TestEnvironment(t *testing.T) {
	t.Setenv("REDSPIN_WASI_HOST_SECRET", "leaked")
	x, _ := newCall(t, Config{Env: [][2]string{{"A", "1"}, {"EMPTY", ""}}})
	env := must(t, x, "wasi:cli/environment", "get-environment")
	var got []string
	for _, kv := range env.Elems {
		got = append(got, kv.Elems[0].Str+"="+kv.Elems[1].Str)
	}
	if strings.Join(got, ",") != "A=1,EMPTY=" {
		t.Errorf("environment = %v", got)
	}
	if args := must(t, x, "wasi:cli/environment", "get-arguments"); len(args.Elems) != 0 {
		t.Errorf("arguments = %+v", args)
	}
	if cwd := must(t, x, "wasi:cli/environment", "initial-cwd"); cwd.Payload != nil {
		t.Errorf("initial-cwd = %+v", cwd)
	}
}

func TestExit(t *testing.T) {
	x, _ := newCall(t, Config{})
	for _, c := range []struct {
		fn   string
		arg  wasmtime.Val
		code int
	}{
		{"exit", wasmtime.OkVal(nil), 0},
		{"exit", wasmtime.ErrVal(nil), 1},
		{"exit-with-code", wasmtime.U8(7), 7},
	} {
		_, err := call(t, x, "wasi:cli/exit", c.fn, c.arg)
		var e ExitError
		if !errors.As(err, &e) || e.Code != c.code {
			t.Errorf("%s(%+v) = %v, want exit status %d", c.fn, c.arg, err, c.code)
		}
	}
}

func TestClocks(t *testing.T) {
	x, _ := newCall(t, Config{})
	a := must(t, x, "wasi:clocks/monotonic-clock", "now").Num
	time.Sleep(time.Millisecond)
	if b := must(t, x, "wasi:clocks/monotonic-clock", "now").Num; b <= a {
		t.Errorf("monotonic clock did not advance: %d then %d", a, b)
	}
	now := must(t, x, "wasi:clocks/wall-clock", "now")
	if d := time.Since(time.Unix(int64(now.Elems[0].Num), int64(now.Elems[1].Num))); d < 0 || d > time.Second {
		t.Errorf("wall clock off by %s", d)
	}
	// subscribe-instant in the past is ready at once.
	p := must(t, x, "wasi:clocks/monotonic-clock", "subscribe-instant", u64v(0))
	if r := must(t, x, "wasi:io/poll", "[method]pollable.ready", p); r.Num != 1 {
		t.Error("past instant not ready")
	}
}

func TestRandom(t *testing.T) {
	x, _ := newCall(t, Config{})
	a := must(t, x, "wasi:random/random", "get-random-bytes", u64v(32))
	b := must(t, x, "wasi:random/insecure", "get-insecure-random-bytes", u64v(32))
	if len(a.Bytes) != 32 || len(b.Bytes) != 32 || string(a.Bytes) == string(b.Bytes) {
		t.Errorf("random bytes: %x %x", a.Bytes, b.Bytes)
	}
	if _, err := call(t, x, "wasi:random/random", "get-random-bytes", u64v(1<<40)); err == nil {
		t.Error("a terabyte of random bytes did not trap")
	}
	if s := must(t, x, "wasi:random/insecure-seed", "insecure-seed"); len(s.Elems) != 2 {
		t.Errorf("insecure-seed = %+v", s)
	}
}

func TestSocketsDenied(t *testing.T) {
	x, _ := newCall(t, Config{})
	net := must(t, x, "wasi:sockets/instance-network", "instance-network")
	for _, c := range []struct {
		iface, fn string
		args      []wasmtime.Val
	}{
		{"wasi:sockets/tcp-create-socket", "create-tcp-socket", []wasmtime.Val{wasmtime.Enum("ipv4")}},
		{"wasi:sockets/udp-create-socket", "create-udp-socket", []wasmtime.Val{wasmtime.Enum("ipv6")}},
		{"wasi:sockets/ip-name-lookup", "resolve-addresses", []wasmtime.Val{net, wasmtime.Str("example.com")}},
	} {
		if e := cresult.Err(t, must(t, x, c.iface, c.fn, c.args...)); e.Str != "access-denied" {
			t.Errorf("%s = %+v, want access-denied", c.fn, e)
		}
	}
}

func TestUnsupportedMessages(t *testing.T) {
	err := unsupported("wasi:http/outgoing-handler@0.2.10#handle")(nil, nil, nil)
	if err == nil || err.Error() != "wasi:http/outgoing-handler@0.2.10#handle: wasi:http (outbound HTTP) is not supported yet" {
		t.Errorf("wasi:http: %v", err)
	}
	err = unsupported("wasi:cli/exit@0.2.0#exit-later")(nil, nil, nil)
	if err == nil || err.Error() != "wasi:cli/exit@0.2.0#exit-later is not supported by redspin" {
		t.Errorf("other: %v", err)
	}
}

func TestTypeOf(t *testing.T) {
	h, _ := TypeOf("headers")
	f, _ := TypeOf("fields")
	if h != f {
		t.Error("headers and fields differ")
	}
	if _, ok := TypeOf("no-such"); ok {
		t.Error("unknown resource has a type")
	}
	for _, n := range []string{"0.2.0", "0.2.3", "0.2.10", "0.2.12"} {
		if !Serves("wasi:io/streams@" + n) {
			t.Errorf("does not serve wasi:io/streams@%s", n)
		}
	}
	if Serves("wasi:keyvalue/store@0.2.0-draft2") || Serves("wasi:io/streams@0.3.0") {
		t.Error("serves what it does not implement")
	}
}
