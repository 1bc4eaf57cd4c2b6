package manifest

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/redspin/redspin/internal/diag"
)

// hostsHint is appended to allowed-host format errors; it names the fix.
const hostsHint = "Hosts must be in the form <scheme>://<host>[:<port>], with '*' wildcards allowed for each (e.g. \"redis://localhost:6379\", \"https://*.example.com\", \"*://*:*\")"

// checkAllowedHost validates one allowed_outbound_hosts entry (after
// template substitution) by Spin's rules; the texts are Spin's.
func checkAllowedHost(entry string) error {
	u := strings.TrimSpace(entry)
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		switch u {
		case "*", ":", "", "?":
			return diag.Errorf("%q is not an allowed outbound host format.\n%s.\nIf you intended to allow all outbound networking, you can use '*://*:*' - this will obviate all network sandboxing", u, hostsHint)
		}
		return diag.Errorf("%q does not contain a scheme (e.g., 'http://' or '*://')", u)
	}
	host, port := rest, ""
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		h, tail := rest[:i], rest[i+1:]
		switch {
		case tail == "":
			host = h
		case checkHostPart(rest) == nil:
			// the whole rest is a host (e.g. an IPv6 network)
		default:
			if p, path, hasPath := strings.Cut(tail, "/"); hasPath {
				if path != "" {
					return diag.Errorf("%q has a path but is not allowed to", u)
				}
				tail = p
			}
			host, port = h, tail
		}
	}
	if err := checkPort(port, scheme); err != nil {
		return diag.Errorf("Invalid allowed host port %q: %w", port, err)
	}
	if err := checkScheme(scheme); err != nil {
		return diag.Errorf("Invalid allowed host scheme %q: %w", scheme, err)
	}
	if err := checkHostPart(host); err != nil {
		return diag.Errorf("Invalid allowed host %q: %w", host, err)
	}
	return nil
}

func checkScheme(s string) error {
	if s == "*" {
		return nil
	}
	if strings.HasPrefix(s, "{") {
		return fmt.Errorf("scheme lists are not supported")
	}
	if s == "" {
		return fmt.Errorf("scheme must not be empty")
	}
	for _, c := range s {
		if !isASCIILetter(c) {
			return fmt.Errorf("only alphabetic characters are allowed")
		}
	}
	return nil
}

// wellKnownPort is Spin's table of default ports for allowed hosts.
func wellKnownPort(scheme string) (int, bool) {
	switch scheme {
	case "postgres":
		return 5432, true
	case "mysql":
		return 3306, true
	case "redis":
		return 6379, true
	case "mqtt":
		return 1883, true
	case "http":
		return 80, true
	case "https":
		return 443, true
	}
	return 0, false
}

func checkPort(p, scheme string) error {
	switch {
	case p == "":
		if _, ok := wellKnownPort(scheme); !ok {
			return diag.Errorf("no port was provided and the scheme %q does not have a known default port number", scheme)
		}
		return nil
	case p == "*":
		return nil
	case strings.HasPrefix(p, "{"):
		return fmt.Errorf("port lists are not yet supported")
	}
	if a, b, ok := strings.Cut(p, ".."); ok {
		if _, err := strconv.ParseUint(a, 10, 16); err != nil {
			return diag.Errorf("port range %q contains non-number", p)
		}
		if _, err := strconv.ParseUint(b, 10, 16); err != nil {
			return diag.Errorf("port range %q contains non-number", p)
		}
		return nil
	}
	if _, err := strconv.ParseUint(p, 10, 16); err != nil {
		return diag.Errorf("port %q is not a number", p)
	}
	return nil
}

func checkHostPart(h string) error {
	h = strings.TrimSpace(h)
	switch {
	case h == "*", h == "self", h == "self.alt":
		return nil
	case strings.HasPrefix(h, "{"):
		return fmt.Errorf("host lists are not yet supported")
	}
	if isIPNetwork(h) {
		return nil
	}
	h = strings.TrimSuffix(h, "/")
	if strings.Contains(h, "/") {
		return fmt.Errorf("must not include a path")
	}
	if domain, ok := strings.CutPrefix(h, "*."); ok {
		if strings.Contains(domain, "*") {
			return fmt.Errorf("wildcards are allowed only as prefixes")
		}
		if isIPLiteral(domain) {
			return fmt.Errorf("wildcard suffix must be a domain")
		}
		if err := checkDomain(domain); err != nil {
			return fmt.Errorf("invalid wildcard host \"*.%s\": %w", domain, err)
		}
		return nil
	}
	if strings.Contains(h, "*") {
		return fmt.Errorf("wildcards are allowed only as subdomains")
	}
	if strings.HasPrefix(h, "[") {
		if !strings.HasSuffix(h, "]") || net.ParseIP(h[1:len(h)-1]) == nil {
			return fmt.Errorf("invalid IPv6 address")
		}
		return nil
	}
	return checkDomain(h)
}

func isIPNetwork(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	_, _, err := net.ParseCIDR(h)
	return err == nil
}

func isIPLiteral(h string) bool {
	return net.ParseIP(strings.Trim(h, "[]")) != nil
}

// checkDomain approximates the WHATWG host parser's rejection of forbidden
// domain code points.
func checkDomain(d string) error {
	if d == "" {
		return fmt.Errorf("empty host")
	}
	for _, c := range d {
		if c <= ' ' || strings.ContainsRune("#%/:<>?@[\\]^|", c) || c == 0x7f {
			return fmt.Errorf("invalid domain character")
		}
	}
	return nil
}

// allowAll is the V1-era value that allowed every HTTP host.
const allowAll = "insecure:allow-all"

// convertAllowedHTTPHosts converts deprecated allowed_http_hosts entries to
// allowed_outbound_hosts as Spin does. With databases set (V1 components
// without allowed_outbound_hosts) it prepends Spin's compatibility default.
func convertAllowedHTTPHosts(hosts []string, databases bool) ([]string, error) {
	var out []string
	if databases {
		out = append(out, "redis://*:*", "mysql://*:*", "postgres://*:*")
	}
	for _, h := range hosts {
		if h == allowAll {
			return append(out, "http://*:*", "https://*:*", "http://self"), nil
		}
	}
	var bad []string
	for _, h := range hosts {
		domain, port, err := parseHTTPHost(h)
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		if domain == "self" {
			out = append(out, "http://self")
			continue
		}
		suffix := ""
		if port != "" {
			suffix = ":" + port
		}
		out = append(out, "http://"+domain+suffix, "https://"+domain+suffix)
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("One or more allowed_http_hosts entries was invalid:\n%s", strings.Join(bad, "\n"))
	}
	return out, nil
}

// parseHTTPHost parses an allowed_http_hosts entry: "host", "host:port" or
// an http(s) URL without a path.
func parseHTTPHost(text string) (domain, port string, err error) {
	raw := text
	if strings.Contains(text, "//") {
		u, perr := url.Parse(text)
		if perr != nil {
			return "", "", fmt.Errorf("%s isn't a valid HTTP host URL: %v", text, perr)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return "", "", fmt.Errorf("%s isn't a valid host or host:port string", text)
		}
		return httpHostFromURL(u, text)
	}
	u, perr := url.Parse("http://" + raw)
	if perr != nil || u.Host == "" {
		return "", "", fmt.Errorf("%s isn't a valid host or host:port string", text)
	}
	return httpHostFromURL(u, text)
}

func httpHostFromURL(u *url.URL, text string) (string, string, error) {
	if u.Hostname() == "" {
		return "", "", fmt.Errorf("%s doesn't contain a host name", text)
	}
	if len(u.Path) > 1 {
		return "", "", fmt.Errorf("%s contains a path, should be host and optional port only", text)
	}
	port := u.Port()
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = "" // the URL parser Spin uses drops a scheme's default port
	}
	if port != "" {
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return "", "", fmt.Errorf("%s isn't a valid host or host:port string", text)
		}
	}
	host := u.Hostname()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host, port, nil
}
