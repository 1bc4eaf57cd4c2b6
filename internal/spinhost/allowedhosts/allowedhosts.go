package allowedhosts

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/redspin/redspin/internal/diag"
)

// List is a parsed allowed_outbound_hosts list. The zero value and nil allow
// nothing. A List is immutable and safe for concurrent use.
type List struct {
	entries []entry
}

type hostKind uint8

const (
	hostExact hostKind = iota
	hostAny
	hostSubdomain // host holds ".example.com"
	hostNetwork
	hostSelf
)

type portRange struct{ lo, hi int } // [lo, hi)

type entry struct {
	raw     string
	scheme  string // "" = any
	kind    hostKind
	host    string
	network netip.Prefix
	anyPort bool
	ports   []portRange
}

// Target is an address to check: the scheme, the host as written in the URL
// (brackets around IPv6 literals are optional) and the port (0 = the
// scheme's default). SocketPath is set instead of Host for Unix sockets.
type Target struct {
	Scheme     string
	Host       string
	Port       int
	SocketPath string
}

// String returns scheme://host:port, or scheme://path for a socket; it never
// contains credentials.
func (t Target) String() string {
	if t.SocketPath != "" {
		return t.Scheme + "://" + t.SocketPath
	}
	port := t.Port
	if port == 0 {
		port = DefaultPort(t.Scheme)
	}
	host := t.Host
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	if port == 0 {
		return t.Scheme + "://" + host
	}
	return t.Scheme + "://" + host + ":" + strconv.Itoa(port)
}

// DefaultPort returns the well-known port of a scheme, or 0 when it has
// none (see the package documentation).
func DefaultPort(scheme string) int {
	switch strings.ToLower(scheme) {
	case "redis", "rediss", "valkey", "valkeys":
		return 6379
	case "mysql":
		return 3306
	case "postgres":
		return 5432
	case "mqtt":
		return 1883
	case "http":
		return 80
	case "https":
		return 443
	}
	return 0
}

// Parse parses the entries of an allowed_outbound_hosts list whose templates
// have been resolved.
//
// # Errors
//
// An entry without a scheme, with a path or query, with a malformed wildcard
// or port, or without a port when its scheme has no default; the error names
// the entry and the expected form. All bad entries are reported, joined.
func Parse(entries []string) (*List, error) {
	if len(entries) == 1 && strings.TrimSpace(entries[0]) == "insecure:allow-all" {
		return nil, errors.New(`allowed_outbound_hosts: "insecure:allow-all" is not supported; use "*://*:*" to allow all outbound traffic`)
	}
	l := &List{}
	var errs []error
	for _, raw := range entries {
		e, err := parseEntry(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("allowed_outbound_hosts: %w", err))
			continue
		}
		l.entries = append(l.entries, e)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return l, nil
}

const form = "hosts must be in the form <scheme>://<host>[:<port>], with '*' wildcards allowed for each (for example \"redis://localhost:6379\" or \"rediss://*.example.com:6380\")"

func parseEntry(raw string) (entry, error) {
	s := strings.TrimSpace(raw)
	e := entry{raw: raw}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return e, diag.Errorf("%q does not contain a scheme (such as 'redis://' or '*://'); %s", raw, form)
	}
	// The port is after the last ':' unless that colon is inside an IPv6
	// literal's brackets.
	host, port := rest, ""
	if i := strings.LastIndex(rest, ":"); i >= 0 && !strings.Contains(rest[i:], "]") {
		host, port = rest[:i], rest[i+1:]
	}
	if p, path, ok := strings.Cut(port, "/"); ok {
		if path != "" {
			return e, diag.Errorf("%q has a path, which allowed hosts may not have", raw)
		}
		port = p
	}
	if strings.ContainsAny(port, "?#") || strings.ContainsAny(host, "?#@") {
		return e, diag.Errorf("%q has a query, fragment or user info, which allowed hosts may not have", raw)
	}

	switch {
	case scheme == "*":
	case scheme == "" || strings.IndexFunc(scheme, func(r rune) bool { return !isSchemeChar(r) }) >= 0:
		return e, diag.Errorf("%q: scheme %q is not valid; %s", raw, scheme, form)
	default:
		e.scheme = strings.ToLower(scheme)
	}

	if err := e.parseHost(host); err != nil {
		return e, diag.Errorf("%q: %w", raw, err)
	}
	if err := e.parsePort(port, scheme); err != nil {
		return e, diag.Errorf("%q: %w", raw, err)
	}
	return e, nil
}

func isSchemeChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.'
}

func (e *entry) parseHost(host string) error {
	host = strings.TrimSpace(host)
	if h, path, ok := strings.Cut(host, "/"); ok && path == "" {
		host = h // trailing slash without a port
	}
	switch {
	case host == "":
		return errors.New("the host is missing")
	case host == "*":
		e.kind = hostAny
		return nil
	case host == "self" || host == "self.alt":
		e.kind = hostSelf
		return nil
	case strings.HasPrefix(host, "{"):
		return errors.New("host lists are not supported")
	}
	if p, err := netip.ParsePrefix(host); err == nil {
		e.kind, e.network = hostNetwork, p.Masked()
		return nil
	}
	if strings.Contains(host, "/") {
		return errors.New("hosts must not contain paths")
	}
	if a, ok := parseIP(host); ok {
		e.kind, e.network = hostNetwork, netip.PrefixFrom(a, a.BitLen())
		return nil
	}
	if domain, ok := strings.CutPrefix(host, "*."); ok {
		if domain == "" || strings.Contains(domain, "*") {
			return errors.New("wildcards are allowed only as a whole host (*) or as a prefix (*.example.com)")
		}
		e.kind, e.host = hostSubdomain, "."+strings.ToLower(domain)
		return nil
	}
	if strings.Contains(host, "*") {
		return errors.New("wildcards are allowed only as a whole host (*) or as a prefix (*.example.com)")
	}
	e.kind, e.host = hostExact, strings.ToLower(host)
	return nil
}

func (e *entry) parsePort(port, scheme string) error {
	switch {
	case port == "" && isSocketScheme(scheme):
		e.anyPort = true // sockets have no port
		return nil
	case port == "":
		p := DefaultPort(scheme)
		if p == 0 {
			return diag.Errorf("no port was given and the scheme %q has no default port; add one, such as :6379, or :* for any port", scheme)
		}
		e.ports = []portRange{{p, p + 1}}
		return nil
	case port == "*":
		e.anyPort = true
		return nil
	case strings.HasPrefix(port, "{"):
		return errors.New("port lists are not supported")
	}
	if lo, hi, ok := strings.Cut(port, ".."); ok {
		l, err1 := parsePortNumber(lo)
		h, err2 := parsePortNumber(hi)
		if err1 != nil || err2 != nil {
			return diag.Errorf("port range %q must be two numbers, lo..hi", port)
		}
		e.ports = []portRange{{l, h}}
		return nil
	}
	p, err := parsePortNumber(port)
	if err != nil {
		return diag.Errorf("port %q is not a number, a range lo..hi or *", port)
	}
	e.ports = []portRange{{p, p + 1}}
	return nil
}

func isSocketScheme(scheme string) bool {
	scheme = strings.ToLower(scheme)
	return scheme == "unix" || strings.HasSuffix(scheme, "+unix")
}

func parsePortNumber(s string) (int, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	return int(n), err
}

func parseIP(host string) (netip.Addr, bool) {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// RendersEmpty reports whether an entry whose templates rendered to s is
// skipped rather than parsed: empty, or a bare "http://" or "https://", as
// Spin skips an optional endpoint whose variable is empty. It applies only
// to entries with templates; a literal "" is an error.
func RendersEmpty(s string) bool {
	return s == "" || s == "http://" || s == "https://"
}

// AllowsRelative reports whether an entry allows relative-URL ("self")
// requests for one of schemes: a self or self.alt host with such a scheme
// (or *). Only an HTTP trigger can serve them; the caller decides what an
// allowed one means.
func (l *List) AllowsRelative(schemes ...string) bool {
	if l == nil {
		return false
	}
	for _, e := range l.entries {
		if e.kind != hostSelf {
			continue
		}
		for _, s := range schemes {
			if e.scheme == "" || e.scheme == strings.ToLower(s) {
				return true
			}
		}
	}
	return false
}

// MustParse is Parse for entries known to be valid (tests, constants): it
// panics on an error.
func MustParse(entries ...string) *List {
	l, err := Parse(entries)
	if err != nil {
		panic(err)
	}
	return l
}

// Empty reports whether the list allows nothing.
func (l *List) Empty() bool { return l == nil || len(l.entries) == 0 }

// Entries returns the entries as written.
func (l *List) Entries() []string {
	if l == nil {
		return nil
	}
	out := make([]string, len(l.entries))
	for i, e := range l.entries {
		out[i] = e.raw
	}
	return out
}

// AllowsTarget reports whether some entry allows t.
func (l *List) AllowsTarget(t Target) bool {
	if l == nil {
		return false
	}
	for i := range l.entries {
		if l.entries[i].allows(t) {
			return true
		}
	}
	return false
}

// Allows parses rawURL (scheme://[user[:pass]@]host[:port][/...]) and
// reports whether some entry allows it. A URL that cannot be parsed is not
// allowed. Callers that have already parsed the URL use [List.AllowsTarget].
func (l *List) Allows(rawURL string) bool {
	t, err := TargetFromURL(rawURL)
	if err != nil {
		return false
	}
	return l.AllowsTarget(t)
}

// TargetFromURL extracts the scheme, host and port of a URL. Unix-socket
// schemes (unix, redis+unix, valkey+unix) yield a SocketPath.
func TargetFromURL(rawURL string) (Target, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return Target{}, fmt.Errorf("not a URL: %w", stripURL(err))
	}
	t := Target{Scheme: strings.ToLower(u.Scheme)}
	if t.Scheme == "" {
		return Target{}, errors.New("the address has no scheme (such as redis://)")
	}
	if isSocketScheme(t.Scheme) {
		t.SocketPath = u.Path
		if t.SocketPath == "" {
			return Target{}, errors.New("the socket address has no path")
		}
		return t, nil
	}
	t.Host = u.Hostname()
	if t.Host == "" {
		return Target{}, errors.New("the address has no host")
	}
	if p := u.Port(); p != "" {
		n, err := parsePortNumber(p)
		if err != nil {
			return Target{}, diag.Errorf("port %q is not a number", p)
		}
		t.Port = n
	}
	return t, nil
}

// stripURL drops the URL (which may hold a password) from a url.Error.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func (e *entry) allows(t Target) bool {
	scheme := strings.ToLower(t.Scheme)
	if e.scheme != "" && e.scheme != scheme {
		return false
	}
	if t.SocketPath != "" {
		return e.kind == hostAny
	}
	if !e.allowsHost(t.Host) {
		return false
	}
	if e.anyPort {
		return true
	}
	port := t.Port
	if port == 0 {
		port = DefaultPort(scheme)
	}
	if port == 0 {
		return false
	}
	for _, r := range e.ports {
		if port >= r.lo && port < r.hi {
			return true
		}
	}
	return false
}

func (e *entry) allowsHost(host string) bool {
	switch e.kind {
	case hostAny:
		return host != ""
	case hostSelf:
		return false
	case hostNetwork:
		a, ok := parseIP(host)
		return ok && e.network.Contains(a)
	case hostSubdomain:
		return strings.HasSuffix(strings.ToLower(host), e.host)
	default:
		h := strings.TrimSuffix(strings.ToLower(host), ".")
		return h == e.host || h+"." == e.host
	}
}

// DeniedError reports an address that a component's allowed_outbound_hosts
// does not allow. Its message names the component, the address and the
// manifest line that would allow it.
type DeniedError struct {
	Component string
	Target    Target
}

// Suggestion returns the manifest line that would allow the address, such as
// allowed_outbound_hosts = ["redis://cache.internal:6379"].
func (e *DeniedError) Suggestion() string {
	return diag.Sprintf("allowed_outbound_hosts = [%q]", e.Target.String())
}

func (e *DeniedError) Error() string {
	what := "the component"
	if e.Component != "" {
		what = diag.Sprintf("component %q", e.Component)
	}
	if e.Target.SocketPath != "" {
		return fmt.Sprintf("%s is not allowed to connect to %s: to allow Unix sockets, add %s to [component.%s] in spin.toml",
			what, e.Target.String(), diag.Sprintf("allowed_outbound_hosts = [%q]", e.Target.Scheme+"://*"), componentKey(e.Component))
	}
	return fmt.Sprintf("%s is not allowed to connect to %s: to allow it, add %s to [component.%s] in spin.toml",
		what, e.Target.String(), e.Suggestion(), componentKey(e.Component))
}

func componentKey(id string) string {
	if id == "" {
		return "<id>"
	}
	if strings.ContainsAny(id, ".\" ") {
		return strconv.Quote(id)
	}
	return id
}

// Check returns nil when l allows t, and a *DeniedError naming component
// otherwise.
func (l *List) Check(component string, t Target) error {
	if l.AllowsTarget(t) {
		return nil
	}
	return &DeniedError{Component: component, Target: t}
}
