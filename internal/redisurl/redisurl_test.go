package redisurl

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in       string
		want     URL
		display  string
		redacted string
	}{
		{
			in:       "redis://localhost",
			want:     URL{Scheme: "redis", Host: "localhost", Port: 6379},
			display:  "localhost:6379",
			redacted: "redis://localhost:6379",
		},
		{
			in:       "redis://localhost:6380/2",
			want:     URL{Scheme: "redis", Host: "localhost", Port: 6380, DB: 2},
			display:  "localhost:6380",
			redacted: "redis://localhost:6380/2",
		},
		{
			in:       "REDIS://Host.Example:1/",
			want:     URL{Scheme: "redis", Host: "host.example", Port: 1},
			display:  "host.example:1",
			redacted: "redis://host.example:1",
		},
		{
			in:       "redis://:p4ssw0rd@cache:6379",
			want:     URL{Scheme: "redis", Host: "cache", Port: 6379, Password: "p4ssw0rd"},
			display:  "cache:6379",
			redacted: "redis://:****@cache:6379",
		},
		{
			in:       "redis://app%40x:p%2Fw%3Ad%40@cache",
			want:     URL{Scheme: "redis", Host: "cache", Port: 6379, Username: "app@x", Password: "p/w:d@"},
			display:  "cache:6379",
			redacted: "redis://app%40x:****@cache:6379",
		},
		{
			in:       "redis://user@cache",
			want:     URL{Scheme: "redis", Host: "cache", Port: 6379, Username: "user"},
			display:  "cache:6379",
			redacted: "redis://user@cache:6379",
		},
		{
			in:       "redis://[::1]:6379/0?protocol=resp3",
			want:     URL{Scheme: "redis", Host: "::1", Port: 6379, Protocol: 3},
			display:  "[::1]:6379",
			redacted: "redis://[::1]:6379?protocol=resp3",
		},
		{
			in:      "redis://[::1]",
			want:    URL{Scheme: "redis", Host: "::1", Port: 6379},
			display: "[::1]:6379",
		},
		{
			in:   "redis://h?protocol=2",
			want: URL{Scheme: "redis", Host: "h", Port: 6379, Protocol: 2},
		},
		{
			in:   "redis://h?protocol=RESP2&timeout=5",
			want: URL{Scheme: "redis", Host: "h", Port: 6379, Protocol: 2, Ignored: []string{"timeout"}},
		},
		{
			in:   "redis://h?protocol=3",
			want: URL{Scheme: "redis", Host: "h", Port: 6379, Protocol: 3},
		},
		{
			in:       "rediss://u:secret@tls.example:6380#insecure",
			want:     URL{Scheme: "rediss", Host: "tls.example", Port: 6380, Username: "u", Password: "secret", TLS: true, Insecure: true},
			display:  "tls.example:6380",
			redacted: "rediss://u:****@tls.example:6380#insecure",
		},
		{
			in:   "rediss://tls.example",
			want: URL{Scheme: "rediss", Host: "tls.example", Port: 6379, TLS: true},
		},
		{
			in:   "valkey://v:7000",
			want: URL{Scheme: "valkey", Host: "v", Port: 7000},
		},
		{
			in:   "valkeys://v#insecure",
			want: URL{Scheme: "valkeys", Host: "v", Port: 6379, TLS: true, Insecure: true},
		},
		{
			in:       "redis+unix:///run/redis.sock?db=3&user=me&pass=pw&protocol=resp3",
			want:     URL{Scheme: "redis+unix", SocketPath: "/run/redis.sock", DB: 3, Username: "me", Password: "pw", Protocol: 3},
			display:  "/run/redis.sock",
			redacted: "redis+unix:///run/redis.sock?db=3&pass=****&protocol=resp3&user=me",
		},
		{
			in:       "unix:///tmp/r.sock",
			want:     URL{Scheme: "unix", SocketPath: "/tmp/r.sock"},
			display:  "/tmp/r.sock",
			redacted: "unix:///tmp/r.sock",
		},
		{
			in:   "valkey+unix://localhost/tmp/r.sock",
			want: URL{Scheme: "valkey+unix", SocketPath: "/tmp/r.sock"},
		},
		{
			in:   "unix://me:pw@/tmp/r.sock?pass=other",
			want: URL{Scheme: "unix", SocketPath: "/tmp/r.sock", Username: "me", Password: "other"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			u, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(*u, tc.want) {
				t.Fatalf("got %+v\nwant %+v", *u, tc.want)
			}
			if tc.display != "" && u.Display() != tc.display {
				t.Errorf("Display() = %q, want %q", u.Display(), tc.display)
			}
			if tc.redacted != "" && u.Redacted() != tc.redacted {
				t.Errorf("Redacted() = %q, want %q", u.Redacted(), tc.redacted)
			}
			if u.Password != "" {
				for _, s := range []string{u.Display(), u.Redacted(), u.String()} {
					if strings.Contains(s, u.Password) {
						t.Errorf("%q leaks the password", s)
					}
				}
			}
			// The redacted form parses back to the same URL, bar the password.
			back, err := Parse(u.Redacted())
			if err != nil {
				t.Fatalf("Parse(Redacted()): %v", err)
			}
			want := *u
			want.Ignored = nil // the canonical form has no ignored parameters
			if want.Password != "" {
				want.Password = "****"
			}
			if !reflect.DeepEqual(*back, want) {
				t.Errorf("round trip: got %+v, want %+v", *back, want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string // substring of the error
	}{
		{"", "empty URL"},
		{"   ", "empty URL"},
		{"localhost:6379", `invalid Redis URL "localhost:6379": missing scheme`},
		{"localhost", "missing scheme"},
		{"redis:/localhost:6379", `invalid Redis URL "redis:/localhost:6379": expected "//" after "redis:" (for example redis://localhost:6379)`},
		{"redis:localhost", `expected "//" after "redis:"`},
		{"http://localhost", `unsupported scheme "http" (want one of redis, rediss, valkey, valkeys, redis+unix, valkey+unix, unix, redis+sentinel,`},
		{"redis://", "missing hostname"},
		{"redis://:6379", "missing hostname"},
		{"redis://:pw@:6379", "missing hostname"},
		{"redis://h:0", `invalid port "0"`},
		{"redis://h:70000", `invalid port "70000"`},
		{"redis://h:", "empty port"},
		{"redis://h:abc", "invalid port"},
		{"redis://h/x", `invalid database number "x"`},
		{"redis://h/-1", "invalid database number"},
		{"redis://h?protocol=resp4", `invalid protocol "resp4" (want resp2 or resp3)`},
		{"rediss://h#secure", `unsupported fragment "#secure": only #insecure is allowed`},
		{"rediss://h#", "only #insecure is allowed"},
		{"redis://h#insecure", "only TLS schemes (rediss://, valkeys://, rediss+sentinel://, ...) take one"},
		{"unix://tmp/r.sock", "takes an absolute path"},
		{"unix://", "missing socket path"},
		{"redis+unix:///s?db=x", `invalid database number "x" in ?db=`},
		{"unix:///s#x", "unexpected fragment"},
		{"redis://u:pw@h:abc", "malformed URL"},
		{"redis://u:pw@h:0", "invalid port (hidden)"},
		{"redis://u:p%zz@h", "malformed URL"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			u, err := Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want error", tc.in, u)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestErrorsHidePassword(t *testing.T) {
	for _, in := range []string{
		"redis://u:Secr3tPw@h:bad",
		"redis://u:Secr3tPw@h/notadb",
		"redis://:Secr3tPw@",
		"rediss://u:Secr3tPw@h#Secr3tPw",
		"redis://u:Secr3tPw@h?protocol=Secr3tPw",
		"redis+unix:///s?pass=Secr3tPw&db=Secr3tPw",
		"redis+unix:///s?pass=Secr3tPw&protocol=Secr3tPw",
		"redis://u:Secr3tPw#x@h",
		"redis://u:Secr3t%Pw@h",
		"redis:/u:Secr3tPw@h",
	} {
		_, err := Parse(in)
		if err == nil {
			t.Errorf("Parse(%q): want error", in)
			continue
		}
		if strings.Contains(err.Error(), "Secr3t") {
			t.Errorf("Parse(%q) error leaks the password: %v", in, err)
		}
	}
}

func TestOptions(t *testing.T) {
	u, err := Parse("rediss://me:pw@cache.example:6380/4#insecure")
	if err != nil {
		t.Fatal(err)
	}
	o := u.UniversalOptions()
	if len(o.Addrs) != 1 || o.Addrs[0] != "cache.example:6380" || o.Username != "me" || o.Password != "pw" || o.DB != 4 || o.Protocol != 2 {
		t.Errorf("options = %+v", o)
	}
	if o.TLSConfig == nil || o.TLSConfig.ServerName != "cache.example" || !o.TLSConfig.InsecureSkipVerify {
		t.Errorf("TLS config = %+v", o.TLSConfig)
	}

	u, _ = Parse("redis://[::1]?protocol=resp3")
	o = u.UniversalOptions()
	if o.Addrs[0] != "[::1]:6379" || o.Protocol != 3 || o.TLSConfig != nil {
		t.Errorf("options = %+v", o)
	}

	u, _ = Parse("rediss://h")
	if tc := u.UniversalOptions().TLSConfig; tc == nil || tc.InsecureSkipVerify || tc.ServerName != "h" {
		t.Errorf("TLS config = %+v", tc)
	}

	u, _ = Parse("unix:///run/r.sock?db=2&pass=x")
	o = u.UniversalOptions()
	if o.Addrs[0] != "/run/r.sock" || o.DB != 2 || o.Password != "x" || o.Protocol != 2 {
		t.Errorf("options = %+v", o)
	}
}

// TestParseSecret: a URL rendered from a secret variable is named by its
// template in every error, and no part of it is shown (issue 10, defect 4).
func TestParseSecret(t *testing.T) {
	for _, raw := range []string{
		"TOPSECRET",
		"TOPSECRET://h",
		"redis:TOPSECRET",
		"redis://h:TOPSECRET",
		"redis://h:99999",
		"redis://h/TOPSECRET",
		"redis://h?protocol=TOPSECRET",
		"rediss://h#TOPSECRET",
		"redis+unix:///s?db=TOPSECRET",
		"redis://TOPSECRET:%zz@h",
	} {
		_, err := ParseSecret(raw, "{{ tok }}")
		if err == nil {
			t.Fatalf("ParseSecret(%q): no error", raw)
		}
		msg := err.Error()
		if strings.Contains(msg, "TOPSECRET") || strings.Contains(msg, "99999") || !strings.HasPrefix(msg, `invalid Redis URL "{{ tok }}": `) {
			t.Errorf("ParseSecret(%q) = %v", raw, err)
		}
	}
	// A template that itself holds credentials is not quoted either.
	_, err := ParseSecret("redis://u:pw@h:0", "redis://u:pw@{{ host }}")
	if err == nil || strings.Contains(err.Error(), "pw") || strings.Contains(err.Error(), "{{") {
		t.Errorf("template with credentials: %v", err)
	}
}

// TestIgnoredParams: unknown query parameters are accepted and listed by
// name; the message names them, never their values (issue 10, defect 7).
func TestIgnoredParams(t *testing.T) {
	u, err := Parse("redis://h?password=Secr3t&foo=bar&protocol=3&foo=baz")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(u.Ignored, []string{"foo", "password"}) {
		t.Fatalf("Ignored = %q", u.Ignored)
	}
	msg := IgnoredMessage(u.Ignored)
	if msg != `ignoring unknown query parameter(s) "foo", "password": redspin reads only protocol (and db, user, pass for unix sockets)` {
		t.Fatalf("message = %s", msg)
	}
	u, err = Parse("unix:///s?db=1&user=u&pass=p&protocol=2&timeout=1")
	if err != nil || !slices.Equal(u.Ignored, []string{"timeout"}) {
		t.Fatalf("unix: %+v, %v", u, err)
	}
	if u, err := Parse("redis://h/1?protocol=2"); err != nil || u.Ignored != nil {
		t.Fatalf("known only: %+v, %v", u, err)
	}
}

var fuzzSchemes = []string{"redis", "rediss", "valkey", "valkeys", "redis+unix", "valkey+unix", "unix", "http", "redis:",
	"redis+sentinel", "rediss+sentinel", "redis+cluster", "valkeys+cluster"}

// FuzzParse checks that Parse never panics and that no error ever contains
// the password of a URL built around a marked password.
func FuzzParse(f *testing.F) {
	f.Add(uint8(0), "user", "pw", "localhost:6379", "/0?protocol=resp3")
	f.Add(uint8(1), "", "x#y", "[::1]", "#insecure")
	f.Add(uint8(4), "u", "p", "", "/tmp/s?pass=p&db=1")
	f.Add(uint8(8), "u", "%zz", "h:99999", "")
	f.Add(uint8(2), "a@b", "c:d", "h:abc", "/x")
	f.Add(uint8(9), "u", "p", "s1:26379,s2", "/mymaster/2?sentinel_pass=Qz7Mark&protocol=resp3")
	f.Add(uint8(10), "", "p", "[::1]:1,h", "/m#insecure")
	f.Add(uint8(11), "u", "p", "n1:7000,n2:7001,[::1]:7002", "?protocol=resp2")
	f.Add(uint8(12), "u", "p", "n1,,n2", "/0")
	f.Fuzz(func(t *testing.T, si uint8, user, pass, host, tail string) {
		scheme := fuzzSchemes[int(si)%len(fuzzSchemes)]
		const mark = "Qz7Mark"
		secret := mark + pass
		raw := scheme + "://" + user + ":" + secret + "@" + host + tail
		u, err := Parse(raw)
		if err == nil {
			_ = u.UniversalOptions()
			// The password may sit in the userinfo or, for Sentinel, in
			// ?sentinel_pass=: neither display form shows either.
			shown := u.Display() + u.Redacted()
			for _, pw := range []string{u.Password, u.SentinelPassword} {
				if strings.Contains(pw, mark) && strings.Contains(shown, mark) {
					t.Fatalf("Display %q / Redacted %q leak password %q", u.Display(), u.Redacted(), pw)
				}
			}
			if u.Topology != Single && len(u.Nodes) == 0 {
				t.Fatalf("%s URL without nodes", u.Topology)
			}
			return
		}
		if strings.Contains(user+host+tail, mark) {
			return // the mark is not only in the password
		}
		if strings.Contains(err.Error(), mark) {
			t.Fatalf("Parse(%q) error leaks the password: %v", raw, err)
		}
		// A secret URL shows nothing of itself, wherever the mark is.
		if _, err := ParseSecret(user+secret+host+tail, "{{ tok }}"); err != nil && strings.Contains(err.Error(), mark) {
			t.Fatalf("ParseSecret(%q) error leaks the secret: %v", user+secret+host+tail, err)
		}
		// Also plain input, not built around a password.
		if u2, err := Parse(user + pass + host + tail); err == nil {
			_ = u2.Redacted()
		}
	})
}

func TestParseTopologies(t *testing.T) {
	tests := []struct {
		raw, display, redacted string
		topo                   Topology
		nodes                  []string
		master                 string
		db                     int
		user, pass, suser, spw string
		tls                    bool
	}{
		{raw: "redis+sentinel://s1,s2:26380/mymaster", display: "s1:26379,s2:26380/mymaster",
			redacted: "redis+sentinel://s1:26379,s2:26380/mymaster", topo: Sentinel,
			nodes: []string{"s1:26379", "s2:26380"}, master: "mymaster"},
		{raw: "rediss+sentinel://app:pw@S1:1,[::1]:2/svc/3?sentinel_user=sen&sentinel_pass=spw&protocol=resp3#insecure",
			display: "s1:1,[::1]:2/svc", redacted: "rediss+sentinel://app:****@s1:1,[::1]:2/svc/3?protocol=resp3&sentinel_pass=****&sentinel_user=sen#insecure",
			topo: Sentinel, nodes: []string{"s1:1", "[::1]:2"}, master: "svc", db: 3, user: "app", pass: "pw", suser: "sen", spw: "spw", tls: true},
		{raw: "redis+cluster://:pw@n1:7000,n2:7001,n3", display: "n1:7000,n2:7001,n3:6379",
			redacted: "redis+cluster://:****@n1:7000,n2:7001,n3:6379", topo: Cluster,
			nodes: []string{"n1:7000", "n2:7001", "n3:6379"}, pass: "pw"},
		{raw: "valkeys+cluster://n1:7000", display: "n1:7000", redacted: "valkeys+cluster://n1:7000",
			topo: Cluster, nodes: []string{"n1:7000"}, tls: true},
	}
	for _, tc := range tests {
		u, err := Parse(tc.raw)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.raw, err)
		}
		if u.Topology != tc.topo || u.Display() != tc.display || u.Redacted() != tc.redacted ||
			strings.Join(u.Addrs(), " ") != strings.Join(tc.nodes, " ") || u.MasterName != tc.master || u.DB != tc.db ||
			u.Username != tc.user || u.Password != tc.pass || u.SentinelUsername != tc.suser ||
			u.SentinelPassword != tc.spw || u.TLS != tc.tls {
			t.Errorf("Parse(%q) = %+v\ndisplay %q redacted %q", tc.raw, u, u.Display(), u.Redacted())
		}
		o := u.UniversalOptions()
		if o.MasterName != tc.master || o.IsClusterMode != (tc.topo == Cluster) || o.SentinelPassword != tc.spw ||
			o.Password != tc.pass || (o.TLSConfig != nil) != tc.tls || o.TLSConfig != nil && o.TLSConfig.ServerName != "" {
			t.Errorf("UniversalOptions(%q) = %+v", tc.raw, o)
		}
		if u.NodeScheme() != strings.Split(u.Scheme, "+")[0] {
			t.Errorf("NodeScheme(%q) = %q", tc.raw, u.NodeScheme())
		}
	}
	// A plain redis:// keeps meaning one node.
	if u, _ := Parse("redis://h:1"); u.Topology != Single || u.Nodes != nil || u.UniversalOptions().IsClusterMode {
		t.Errorf("redis:// = %+v", u)
	}
}

func TestParseTopologyErrors(t *testing.T) {
	for raw, want := range map[string]string{
		"redis+sentinel://s1:26379":            "missing the primary's Sentinel name",
		"redis+sentinel://s1:26379/":           "missing the primary's Sentinel name",
		"redis+sentinel:///m":                  "missing hosts",
		"redis+sentinel://s1,,s2/m":            "empty host",
		"redis+sentinel://s1:0/m":              "invalid port",
		"redis+sentinel://s1/m/x":              "invalid database number",
		"redis+sentinel://s1/m/1/2":            "too many path segments",
		"redis+cluster://n1:7000/1":            "takes no path",
		"redis+cluster://::1:7000":             "must be in brackets",
		"redis+cluster://[::1:7000":            "missing ']'",
		"redis+cluster://n1:":                  "empty port",
		"redis+cluster://n1#insecure":          "unexpected fragment",
		"redis+cluster://:7000":                "missing hostname",
		"redis+sentinel://s1/m?protocol=resp4": "invalid protocol",
	} {
		_, err := Parse(raw)
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", raw, err, want)
		}
	}
	// Credentials, wherever they sit, never reach an error.
	for _, raw := range []string{
		"redis+sentinel://u:Qz7Mark@s1:bad/m",
		"redis+sentinel://s1/m/x?sentinel_pass=Qz7Mark",
		"rediss+cluster://:Qz7Mark@n1,,n2",
	} {
		_, err := Parse(raw)
		if err == nil || strings.Contains(err.Error(), "Qz7Mark") {
			t.Errorf("Parse(%q) = %v", raw, err)
		}
		if _, err := ParseSecret(raw, "{{ url }}"); err == nil || strings.Contains(err.Error(), "Qz7Mark") {
			t.Errorf("ParseSecret(%q) = %v", raw, err)
		}
	}
	u, err := Parse("redis+sentinel://s1/m?sentinel_pass=x&other=1")
	if err != nil || len(u.Ignored) != 1 || u.Ignored[0] != "other" {
		t.Errorf("ignored = %v, %v", u, err)
	}
}
