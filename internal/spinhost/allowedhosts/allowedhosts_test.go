package allowedhosts

import (
	"errors"
	"strings"
	"testing"
)

func TestAllows(t *testing.T) {
	tests := []struct {
		name    string
		entries []string
		allow   []string
		deny    []string
	}{
		{
			name:    "empty list allows nothing",
			entries: nil,
			deny:    []string{"redis://localhost:6379", "redis://127.0.0.1"},
		},
		{
			name:    "exact host with default port",
			entries: []string{"redis://cache.internal"},
			allow:   []string{"redis://cache.internal", "redis://cache.internal:6379", "redis://CACHE.internal:6379/2", "redis://user:pw@cache.internal"},
			deny:    []string{"redis://cache.internal:6380", "rediss://cache.internal", "redis://other.internal", "redis://x.cache.internal"},
		},
		{
			name:    "explicit port",
			entries: []string{"redis://localhost:6380"},
			allow:   []string{"redis://localhost:6380"},
			deny:    []string{"redis://localhost", "redis://localhost:6379"},
		},
		{
			name:    "rediss defaults to 6379",
			entries: []string{"rediss://secure.example.com"},
			allow:   []string{"rediss://secure.example.com", "rediss://secure.example.com:6379"},
			deny:    []string{"redis://secure.example.com", "rediss://secure.example.com:6380"},
		},
		{
			name:    "any scheme host and port",
			entries: []string{"*://*:*"},
			allow:   []string{"redis://a:1", "rediss://b.example.com", "valkey://10.1.2.3:7000", "unix:///tmp/redis.sock"},
		},
		{
			name:    "any host, fixed port",
			entries: []string{"redis://*:6379"},
			allow:   []string{"redis://anything", "redis://1.2.3.4:6379"},
			deny:    []string{"redis://anything:6380", "rediss://anything"},
		},
		{
			name:    "any port",
			entries: []string{"redis://localhost:*"},
			allow:   []string{"redis://localhost:1", "redis://localhost"},
			deny:    []string{"redis://127.0.0.1:6379"},
		},
		{
			name:    "http and https default ports",
			entries: []string{"http://api.example.com", "https://secure.example.com"},
			allow:   []string{"http://api.example.com/v1?q=1", "http://api.example.com:80", "https://secure.example.com/x", "https://secure.example.com:443"},
			deny:    []string{"https://api.example.com", "http://api.example.com:8080", "http://secure.example.com", "https://secure.example.com:8443"},
		},
		{
			name:    "http subdomains, networks and port ranges",
			entries: []string{"https://*.example.com", "http://10.0.0.0/8:8000..8002", "http://[::1]:*"},
			allow:   []string{"https://a.example.com", "http://10.1.2.3:8000", "http://10.1.2.3:8001", "http://[::1]:9"},
			deny:    []string{"https://example.com", "http://10.1.2.3:8002", "http://11.0.0.1:8000", "http://[::2]:9"},
		},
		{
			name:    "self never matches an absolute URL",
			entries: []string{"http://self", "https://self.alt"},
			deny:    []string{"http://self", "https://self.alt", "http://localhost"},
		},
		{
			name:    "subdomain wildcard",
			entries: []string{"redis://*.example.com"},
			allow:   []string{"redis://a.example.com", "redis://a.b.example.com:6379"},
			deny:    []string{"redis://example.com", "redis://badexample.com", "redis://a.example.com:1"},
		},
		{
			name:    "port range excludes its end",
			entries: []string{"redis://localhost:7000..7002"},
			allow:   []string{"redis://localhost:7000", "redis://localhost:7001"},
			deny:    []string{"redis://localhost:7002", "redis://localhost:6999"},
		},
		{
			name:    "cidr",
			entries: []string{"redis://10.0.0.0/8:6379"},
			allow:   []string{"redis://10.1.2.3", "redis://10.255.0.1:6379"},
			deny:    []string{"redis://11.0.0.1", "redis://ten.example.com"},
		},
		{
			name:    "ipv6",
			entries: []string{"redis://[::1]:6379"},
			allow:   []string{"redis://[::1]:6379", "redis://[0:0::1]"},
			deny:    []string{"redis://[::2]:6379", "redis://localhost"},
		},
		{
			name:    "self never matches redis",
			entries: []string{"redis://self"},
			deny:    []string{"redis://self", "redis://localhost"},
		},
		{
			name:    "scheme wildcard keeps host and port",
			entries: []string{"*://localhost:6379"},
			allow:   []string{"redis://localhost", "rediss://localhost:6379"},
			deny:    []string{"redis://localhost:1"},
		},
		{
			name:    "unix sockets need a host wildcard",
			entries: []string{"redis+unix://*", "redis://localhost:6379"},
			allow:   []string{"redis+unix:///tmp/r.sock"},
			deny:    []string{"unix:///tmp/r.sock"},
		},
		{
			name:    "several entries",
			entries: []string{"redis://a:6379", "rediss://b:6380", "mysql://c"},
			allow:   []string{"redis://a", "rediss://b:6380"},
			deny:    []string{"redis://b:6380", "redis://c:3306"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := Parse(tc.entries)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.entries, err)
			}
			for _, u := range tc.allow {
				if !l.Allows(u) {
					t.Errorf("%q should allow %q", tc.entries, u)
				}
			}
			for _, u := range tc.deny {
				if l.Allows(u) {
					t.Errorf("%q should deny %q", tc.entries, u)
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		entry string
		want  string
	}{
		{"localhost:6379", "does not contain a scheme"},
		{"*", "does not contain a scheme"},
		{"redis://host:6379/0", "has a path"},
		{"redis://host:abc", "is not a number"},
		{"redis://ho*st", "wildcards are allowed only"},
		{"redis://*.ex*.com", "wildcards are allowed only"},
		{"foo://host", `scheme "foo" has no default port`},
		{"redis://", "host is missing"},
		{"re dis://host", "is not valid"},
		{"redis://{a,b}:6379", "host lists are not supported"},
		{"redis://h:1..x", "port range"},
		{"redis://u@h:1", "user info"},
	}
	for _, tc := range tests {
		t.Run(tc.entry, func(t *testing.T) {
			_, err := Parse([]string{tc.entry})
			if err == nil {
				t.Fatalf("Parse(%q) succeeded", tc.entry)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.entry) {
				t.Fatalf("Parse(%q) = %q, want it to name the entry and say %q", tc.entry, err, tc.want)
			}
		})
	}
	if _, err := Parse([]string{"insecure:allow-all"}); err == nil || !strings.Contains(err.Error(), "*://*:*") {
		t.Fatalf("insecure:allow-all: %v", err)
	}
	_, err := Parse([]string{"a", "redis://ok", "b"})
	if err == nil || !strings.Contains(err.Error(), `"a"`) || !strings.Contains(err.Error(), `"b"`) {
		t.Fatalf("want both bad entries reported, got %v", err)
	}
}

func TestDeniedError(t *testing.T) {
	l, err := Parse([]string{"redis://other:6379"})
	if err != nil {
		t.Fatal(err)
	}
	target, err := TargetFromURL("redis://:secret@cache.internal/3")
	if err != nil {
		t.Fatal(err)
	}
	err = l.Check("writer", target)
	var de *DeniedError
	if !errors.As(err, &de) {
		t.Fatalf("Check = %v, want *DeniedError", err)
	}
	want := `component "writer" is not allowed to connect to redis://cache.internal:6379: to allow it, add allowed_outbound_hosts = ["redis://cache.internal:6379"] to [component.writer] in spin.toml`
	if err.Error() != want {
		t.Fatalf("message\n got %s\nwant %s", err, want)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Fatal("message leaks the password")
	}
	if l.Check("writer", Target{Scheme: "redis", Host: "other"}) != nil {
		t.Fatal("allowed target denied")
	}
	sock := (&DeniedError{Component: "w", Target: Target{Scheme: "unix", SocketPath: "/tmp/r.sock"}}).Error()
	if !strings.Contains(sock, `allowed_outbound_hosts = ["unix://*"]`) {
		t.Fatalf("socket message: %s", sock)
	}
}

func TestNilList(t *testing.T) {
	var l *List
	if l.Allows("redis://localhost") || !l.Empty() || l.Entries() != nil {
		t.Fatal("nil list must allow nothing")
	}
	if _, err := TargetFromURL("redis://:pw@%zz"); err == nil || strings.Contains(err.Error(), "pw") {
		t.Fatalf("bad URL error %v", err)
	}
}

func TestRendersEmpty(t *testing.T) {
	for s, want := range map[string]bool{"": true, "http://": true, "https://": true, "redis://": false, "http://x": false, "*://*:*": false} {
		if got := RendersEmpty(s); got != want {
			t.Errorf("%q: %v", s, got)
		}
	}
}

func TestAllowsRelative(t *testing.T) {
	for entries, want := range map[string]bool{
		"http://self": true, "https://self.alt": true, "*://self:*": true,
		"redis://self": false, "http://example.com": false, "*://*:*": false,
	} {
		l, err := Parse([]string{entries})
		if err != nil {
			t.Fatal(err)
		}
		if got := l.AllowsRelative("http", "https"); got != want {
			t.Errorf("%s: %v", entries, got)
		}
	}
	if (*List)(nil).AllowsRelative("http") {
		t.Error("nil list")
	}
}
