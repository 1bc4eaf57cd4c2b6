package outhttp

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func TestParseAuthority(t *testing.T) {
	for in, want := range map[string]string{
		"example.com":      "example.com 0",
		"example.com:8080": "example.com 8080",
		"example.com:":     "example.com 0",
		"127.0.0.1:80":     "127.0.0.1 80",
		"[::1]:443":        "::1 443",
		"[::1]":            "::1 0",
		"":                 "error",
		":80":              "error",
		"a:b":              "error",
		"a:0":              "error",
		"a:65536":          "error",
		"::1":              "error",
		"[::1":             "error",
		"[1.2.3.4]":        "error",
		"[::1]x":           "error",
		"u@host":           "error",
		"host/path":        "error",
		"ho st":            "error",
		"[fe80::1%eth0]":   "error",
	} {
		h, p, err := ParseAuthority(in)
		got := h + " " + strconv.Itoa(p)
		if err != nil {
			got = "error"
		}
		if got != want {
			t.Errorf("%q: %s, want %s", in, got, want)
		}
	}
}

// FuzzParseAuthority checks that an accepted authority is one net/url reads
// the same way, so the checked host is the dialled host.
func FuzzParseAuthority(f *testing.F) {
	for _, s := range []string{"example.com", "a:1", "[::1]:80", "1.2.3.4:65535", "[::ffff:1.2.3.4]", "x:", "@", "[", "a]:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		host, port, err := ParseAuthority(s)
		if err != nil {
			return
		}
		if port < 0 || port > 65535 || host == "" {
			t.Fatalf("%q: host %q port %d", s, host, port)
		}
		u, err := url.Parse("http://" + s + "/")
		if err != nil {
			t.Fatalf("%q accepted but net/url refuses it: %v", s, err)
		}
		if !strings.EqualFold(u.Hostname(), host) {
			t.Fatalf("%q: host %q, net/url reads %q", s, host, u.Hostname())
		}
		if up, _ := strconv.Atoi(u.Port()); up != port {
			t.Fatalf("%q: port %d, net/url reads %d", s, port, up)
		}
	})
}

// FuzzHeader checks that a header accepted by cleanHeaders is one net/http
// can write, and that forbidden headers never survive.
func FuzzHeader(f *testing.F) {
	for _, s := range [][2]string{{"x-a", "b"}, {"Host", "evil"}, {"bad name", "v"}, {"x", "a\r\nb"}, {"Connection", "close"}, {"x", "\x80"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		h, err := cleanHeaders(http.Header{name: {value}})
		if err != nil {
			return
		}
		if Forbidden(name) && len(h) != 0 {
			t.Fatalf("forbidden %q kept", name)
		}
		for k, vs := range h {
			if strings.ContainsAny(k, " :\r\n") {
				t.Fatalf("name %q accepted", k)
			}
			for _, v := range vs {
				if strings.ContainsAny(v, "\r\n\x00") {
					t.Fatalf("value %q accepted", v)
				}
			}
		}
	})
}
