package outhttp

import (
	"errors"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// forbidden are the request headers Wasmtime's wasi-http refuses by
// default, plus host, which Spin removes from every outbound request.
var forbidden = map[string]bool{
	"connection":          true,
	"keep-alive":          true,
	"proxy-authenticate":  true,
	"proxy-authorization": true,
	"proxy-connection":    true,
	"transfer-encoding":   true,
	"upgrade":             true,
	"http2-settings":      true,
	"host":                true,
}

// Forbidden reports whether a request header is never sent: the default
// forbidden headers of Wasmtime's wasi-http and host. wasi:http's fields
// refuse them with header-error.forbidden; the Spin interfaces drop them.
func Forbidden(name string) bool { return forbidden[strings.ToLower(name)] }

// ValidHeaderName reports whether name is an HTTP field name (an RFC 9110
// token).
func ValidHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// ValidHeaderValue reports whether v is an HTTP field value: visible
// characters, spaces and tabs, and obs-text (bytes 0x80-0xff), without
// leading or trailing whitespace rules being enforced (as hyper).
func ValidHeaderValue(v []byte) bool {
	for _, c := range v {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// maxHeaderBytes caps the request headers a guest may send (names, values
// and 4 bytes of framing each): 64 KiB, hyper's default maximum.
const maxHeaderBytes = 64 << 10

// cleanHeaders validates h and returns a copy without the forbidden
// headers.
func cleanHeaders(h http.Header) (http.Header, error) {
	out := make(http.Header, len(h))
	size := 0
	for name, vals := range h {
		if !ValidHeaderName(name) {
			return nil, newErr(HTTPProtocolError, errInvalidRequest, "header name %q is not a valid HTTP field name", name)
		}
		for _, v := range vals {
			if !ValidHeaderValue([]byte(v)) {
				return nil, newErr(HTTPProtocolError, errInvalidRequest, "header %q has a value with control characters", name)
			}
			size += len(name) + len(v) + 4
		}
		if Forbidden(name) {
			continue
		}
		out[http.CanonicalHeaderKey(name)] = append(out[http.CanonicalHeaderKey(name)], vals...)
	}
	if size > maxHeaderBytes {
		return nil, newErr(HTTPRequestHeaderSize, nil, "the request headers are %d bytes, more than the limit of %d", size, maxHeaderBytes)
	}
	return out, nil
}

// ParseAuthority splits an HTTP authority (host[:port], the host a name,
// an IPv4 address or a bracketed IPv6 address; no user info) into host
// (IPv6 without brackets) and port (0 = the scheme's default).
func ParseAuthority(authority string) (host string, port int, err error) {
	if authority == "" {
		return "", 0, errors.New("the authority is empty")
	}
	if strings.ContainsAny(authority, "@/?#\\ \t\r\n") {
		return "", 0, errors.New("the authority may hold only host[:port]")
	}
	rest := authority
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return "", 0, errors.New("unclosed '[' in the authority")
		}
		a, err := netip.ParseAddr(rest[1:end])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", 0, errors.New("bracketed host is not an IPv6 address")
		}
		host, rest = rest[1:end], rest[end+1:]
		if rest != "" && rest[0] != ':' {
			return "", 0, errors.New("unexpected characters after ']'")
		}
	} else {
		h, p, hasPort := strings.Cut(rest, ":")
		if strings.Contains(p, ":") {
			return "", 0, errors.New("an IPv6 host must be in brackets")
		}
		host = h
		if hasPort {
			rest = ":" + p
		} else {
			rest = ""
		}
		if host == "" {
			return "", 0, errors.New("the host is empty")
		}
		for i := 0; i < len(host); i++ {
			c := host[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
				return "", 0, errors.New("the host has characters a DNS name cannot have")
			}
		}
	}
	if rest != "" {
		p := rest[1:]
		if p == "" {
			return host, 0, nil // "host:" is the default port, as in RFC 3986
		}
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return "", 0, errors.New("the port is not a number from 1 to 65535")
		}
		port = int(n)
	}
	return host, port, nil
}
