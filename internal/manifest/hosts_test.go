package manifest

import (
	"slices"
	"strings"
	"testing"
)

func TestAllowedHost(t *testing.T) {
	tests := []struct{ host, want string }{
		{"redis://localhost:6379", ""},
		{"redis://localhost", ""},
		{"redis://*:*", ""},
		{"*://*:*", ""},
		{"https://*.example.com", ""},
		{"mysql://10.0.0.0/8:3306", ""},
		{"http://[::1]:8080", ""},
		{"http://self", ""},
		{"postgres://db.internal:5432", ""},
		{"mqtt://broker", ""},
		{"http://localhost:8000..9000", ""},
		{"localhost:6379", "does not contain a scheme (e.g., 'http://' or '*://')"},
		{"*", "is not an allowed outbound host format"},
		{"", "is not an allowed outbound host format"},
		{"rediss://cache", `no port was provided and the scheme "rediss" does not have a known default port number`},
		{"redis://host:abc", `port "abc" is not a number`},
		{"redis://host:99999", `port "99999" is not a number`},
		{"redis://host:1..x", `port range "1..x" contains non-number`},
		{"redis://host:6379/path", "has a path but is not allowed to"},
		{"red1s://host:1", "only alphabetic characters are allowed"},
		{"{redis,http}://host:1", "scheme lists are not supported"},
		{"redis://*.*.example.com", "wildcards are allowed only as prefixes"},
		{"redis://a*.example.com", "wildcards are allowed only as subdomains"},
		{"redis://{a,b}:1", "host lists are not yet supported"},
		{"redis://host:{1,2}", "port lists are not yet supported"},
		{"redis://*.10.0.0.1", "wildcard suffix must be a domain"},
		{"redis://a/b", "must not include a path"},
	}
	for _, tc := range tests {
		t.Run(tc.host, func(t *testing.T) {
			err := checkAllowedHost(tc.host)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("checkAllowedHost(%q) = %v", tc.host, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("checkAllowedHost(%q) = %v, want %q", tc.host, err, tc.want)
			}
		})
	}
}

func TestConvertAllowedHTTPHosts(t *testing.T) {
	tests := []struct {
		name      string
		in        []string
		databases bool
		want      []string
		err       string
	}{
		{"v1 default", nil, true, []string{"redis://*:*", "mysql://*:*", "postgres://*:*"}, ""},
		{"v2 none", nil, false, nil, ""},
		{"hosts", []string{"example.com", "api.example.com:8080", "https://secure.example.com", "self"}, false,
			[]string{"http://example.com", "https://example.com", "http://api.example.com:8080", "https://api.example.com:8080",
				"http://secure.example.com", "https://secure.example.com", "http://self"}, ""},
		{"default port dropped", []string{"example.com:80"}, false, []string{"http://example.com", "https://example.com"}, ""},
		{"allow all", []string{"insecure:allow-all", "x"}, true,
			[]string{"redis://*:*", "mysql://*:*", "postgres://*:*", "http://*:*", "https://*:*", "http://self"}, ""},
		{"path", []string{"example.com/path"}, false, nil, "example.com/path contains a path, should be host and optional port only"},
		{"scheme", []string{"ftp://example.com"}, false, nil, "ftp://example.com isn't a valid host or host:port string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := convertAllowedHTTPHosts(tc.in, tc.databases)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "One or more allowed_http_hosts entries was invalid") {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
