package redisurl

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/redspin/redspin/internal/diag"
)

// DefaultPort is the port used when a TCP URL names none.
const DefaultPort = 6379

// Schemes lists every accepted URL scheme.
var Schemes = []string{"redis", "rediss", "valkey", "valkeys", "redis+unix", "valkey+unix", "unix",
	"redis+sentinel", "rediss+sentinel", "valkey+sentinel", "valkeys+sentinel",
	"redis+cluster", "rediss+cluster", "valkey+cluster", "valkeys+cluster"}

// ErrInvalid is wrapped by every error [Parse] returns, so callers can tell
// a bad URL from other failures with errors.Is.
var ErrInvalid = errors.New("invalid Redis URL")

// URL is a parsed Redis URL. Build one with [Parse].
type URL struct {
	// Scheme is the lower-cased scheme, one of [Schemes].
	Scheme string
	// Topology is [Single] for one node, [Sentinel] or [Cluster].
	Topology Topology
	// Host is the TCP host name or address, without brackets for IPv6.
	// Empty for unix forms. For sentinel and cluster forms it is the first
	// of Nodes.
	Host string
	// Port is the TCP port (default 6379; 26379 for sentinels); 0 for unix
	// forms. For sentinel and cluster forms it is the first of Nodes.
	Port int
	// Nodes are the sentinels (Sentinel) or the cluster's seed nodes
	// (Cluster), in URL order; nil for Single.
	Nodes []Node
	// MasterName is the Sentinel service name of the primary (Sentinel
	// only).
	MasterName string
	// SentinelUsername and SentinelPassword authenticate to the sentinels
	// (?sentinel_user= and ?sentinel_pass=); empty: the sentinels get no
	// AUTH. Username and Password are the primary's.
	SentinelUsername, SentinelPassword string
	// SocketPath is the absolute socket path of unix forms.
	SocketPath string
	// Username and Password are percent-decoded; empty when not given.
	Username, Password string
	// DB is the database number (default 0).
	DB int
	// Protocol is 2 or 3 when the URL says so, 0 when it does not.
	Protocol int
	// TLS is set for rediss and valkeys.
	TLS bool
	// Insecure is set by the #insecure fragment: TLS without certificate
	// verification.
	Insecure bool
	// Ignored are the names of the query parameters redspin does not use
	// (see [Params]), sorted, each once; nil when there are none. Like
	// redis-rs, Parse accepts them; callers warn about them by name (never
	// with their values) with [IgnoredMessage].
	Ignored []string
}

// Params returns the query parameters redspin reads: protocol for every
// form, db, user and pass for unix socket forms, and sentinel_user and
// sentinel_pass for sentinel forms.
func Params(unix bool) []string {
	if unix {
		return []string{"protocol", "db", "user", "pass"}
	}
	return []string{"protocol"}
}

// params returns the query parameters the URL's form reads.
func (u *URL) params() []string {
	if u.Topology == Sentinel {
		return []string{"protocol", "sentinel_user", "sentinel_pass"}
	}
	return Params(u.IsUnix())
}

// IgnoredMessage describes ignored query parameters for a warning, naming
// each (never its value): `ignoring unknown query parameter(s) "foo",
// "password": redspin reads only protocol (and db, user, pass for unix
// sockets)`. Names are quoted with diag.Quote.
func IgnoredMessage(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = diag.Quote(n)
	}
	return "ignoring unknown query parameter(s) " + strings.Join(q, ", ") +
		": redspin reads only protocol (and db, user, pass for unix sockets)"
}

// IsUnix reports whether the URL names a unix socket.
func (u *URL) IsUnix() bool { return u.SocketPath != "" }

// Display returns what redspin prints for the server: "host:port"
// ("[::1]:6379" for IPv6) or the socket path; for Sentinel the sentinels
// and the service, "s1:26379,s2:26379/mymaster"; for Cluster the seed
// nodes, "n1:7000,n2:7001". It never holds credentials.
func (u *URL) Display() string {
	switch {
	case u.IsUnix():
		return u.SocketPath
	case u.Topology == Sentinel:
		return nodeList(u.Nodes) + "/" + u.MasterName
	case u.Topology == Cluster:
		return nodeList(u.Nodes)
	}
	return net.JoinHostPort(u.Host, strconv.Itoa(u.Port))
}

// String returns [URL.Redacted], so that printing a URL by accident does not
// reveal its password.
func (u *URL) String() string { return u.Redacted() }

// Redacted returns the URL in canonical form with the password, if any,
// replaced by "****".
func (u *URL) Redacted() string {
	var b strings.Builder
	b.WriteString(u.Scheme)
	b.WriteString("://")
	if u.IsUnix() {
		b.WriteString(u.SocketPath)
		q := url.Values{}
		if u.DB != 0 {
			q.Set("db", strconv.Itoa(u.DB))
		}
		if u.Username != "" {
			q.Set("user", u.Username)
		}
		if u.Password != "" {
			q.Set("pass", "****")
		}
		if u.Protocol != 0 {
			q.Set("protocol", "resp"+strconv.Itoa(u.Protocol))
		}
		if len(q) > 0 {
			// Encode escapes '*'; the mask reads better unescaped.
			b.WriteString("?" + strings.ReplaceAll(q.Encode(), "%2A", "*"))
		}
		return b.String()
	}
	if u.Username != "" || u.Password != "" {
		b.WriteString(url.User(u.Username).String())
		if u.Password != "" {
			b.WriteString(":****")
		}
		b.WriteString("@")
	}
	if u.Topology == Sentinel {
		b.WriteString(nodeList(u.Nodes) + "/" + url.PathEscape(u.MasterName))
	} else {
		b.WriteString(u.Display())
	}
	if u.DB != 0 {
		b.WriteString("/" + strconv.Itoa(u.DB))
	}
	q := url.Values{}
	if u.Protocol != 0 {
		q.Set("protocol", "resp"+strconv.Itoa(u.Protocol))
	}
	if u.SentinelUsername != "" {
		q.Set("sentinel_user", u.SentinelUsername)
	}
	if u.SentinelPassword != "" {
		q.Set("sentinel_pass", "****")
	}
	if len(q) > 0 {
		b.WriteString("?" + strings.ReplaceAll(q.Encode(), "%2A", "*"))
	}
	if u.Insecure {
		b.WriteString("#insecure")
	}
	return b.String()
}

// Parse parses a Redis URL in any of the forms listed in the package
// documentation.
//
// # Errors
//
// Every error wraps [ErrInvalid] and says what is wrong and what a valid URL
// looks like. The error quotes the input only when the input holds no
// credentials ('@' or a pass= parameter); it never contains the password.
func Parse(raw string) (*URL, error) {
	p := parser{raw: raw}
	if noCredentials(raw) {
		p.shown, p.showParts = raw, true
	}
	return p.parse()
}

// ParseSecret is [Parse] for a URL that must not be shown because a secret
// variable went into it: errors quote source, the template it was rendered
// from (unless source itself holds credentials), and never any part of raw.
func ParseSecret(raw, source string) (*URL, error) {
	p := parser{raw: raw}
	if noCredentials(source) {
		p.shown = source
	}
	return p.parse()
}

// noCredentials reports whether s holds no user info and no pass= parameter.
func noCredentials(s string) bool {
	return !strings.Contains(s, "@") && !strings.Contains(strings.ToLower(s), "pass")
}

type parser struct {
	raw       string
	shown     string // what errors quote for the whole URL; "" = nothing
	showParts bool   // errors may quote parts of raw
}

// fail builds the error; reason must not hold parts of the input unless
// they went through show.
func (p *parser) fail(format string, args ...any) error {
	reason := diag.Sprintf(format, args...)
	if p.shown != "" {
		return diag.Errorf("%w %q: %s", ErrInvalid, p.shown, reason)
	}
	return fmt.Errorf("%w (the URL is not shown: it holds credentials or a secret): %s", ErrInvalid, reason)
}

// show quotes part of the input when the input may be shown.
func (p *parser) show(s string) string {
	if p.showParts {
		return diag.Quote(s)
	}
	return "(hidden)"
}

const example = "redis://[user:password@]host[:port][/db]"

func (p *parser) parse() (*URL, error) {
	raw := p.raw
	if strings.TrimSpace(raw) == "" {
		return nil, p.fail("empty URL (want %s)", example)
	}
	colon := strings.Index(raw, ":")
	if colon <= 0 {
		return nil, p.fail("missing scheme (want %s)", example)
	}
	scheme := strings.ToLower(raw[:colon])
	if !knownScheme(scheme) {
		if !validSchemeChars(scheme) {
			// "localhost:6379" or similar: the "scheme" is really a host.
			return nil, p.fail("missing scheme (want %s)", example)
		}
		if !strings.HasPrefix(raw[colon:], "://") {
			return nil, p.fail("missing scheme (want %s)", example)
		}
		return nil, p.fail("unsupported scheme %s (want one of %s)", p.show(scheme), strings.Join(Schemes, ", "))
	}
	if !strings.HasPrefix(raw[colon:], "://") {
		return nil, p.fail("expected \"//\" after %s (for example %s://localhost:6379)", p.show(scheme+":"), scheme)
	}
	u := &URL{Scheme: scheme}
	if strings.HasSuffix(scheme, "+sentinel") || strings.HasSuffix(scheme, "+cluster") {
		return p.topology(u)
	}
	pu, err := p.urlParse(raw)
	if err != nil {
		return nil, err
	}
	switch scheme {
	case "redis+unix", "valkey+unix", "unix":
		return p.unix(u, pu)
	default:
		return p.tcp(u, pu)
	}
}

// urlParse is url.Parse with the parser's error rules.
func (p *parser) urlParse(raw string) (*url.URL, error) {
	pu, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if p.showParts && errors.As(err, &ue) {
			return nil, p.fail("%v", ue.Err)
		}
		return nil, p.fail("malformed URL (want %s)", example)
	}
	return pu, nil
}

func (p *parser) tcp(u *URL, pu *url.URL) (*URL, error) {
	u.TLS = u.Scheme == "rediss" || u.Scheme == "valkeys"
	u.Host = strings.ToLower(pu.Hostname())
	if u.Host == "" {
		return nil, p.fail("missing hostname (want %s)", example)
	}
	u.Port = DefaultPort
	if ps := pu.Port(); ps != "" {
		port, err := p.port(ps)
		if err != nil {
			return nil, err
		}
		u.Port = port
	} else if strings.HasSuffix(pu.Host, ":") {
		return nil, p.fail("empty port after ':' (omit it for the default %d)", DefaultPort)
	}
	if pu.User != nil {
		u.Username = pu.User.Username()
		u.Password, _ = pu.User.Password()
	}
	if db := strings.Trim(pu.Path, "/"); db != "" {
		n, err := strconv.Atoi(db)
		if err != nil || n < 0 {
			return nil, p.fail("invalid database number %s in the path (want /0, /1, ...)", p.show(db))
		}
		u.DB = n
	}
	if err := p.query(u, pu, false); err != nil {
		return nil, err
	}
	if err := p.fragment(u, pu); err != nil {
		return nil, err
	}
	return u, nil
}

// port parses a TCP port.
func (p *parser) port(s string) (int, error) {
	port, err := strconv.Atoi(s)
	if err != nil || port < 1 || port > 65535 {
		return 0, p.fail("invalid port %s (want 1-65535)", p.show(s))
	}
	return port, nil
}

// fragment reads #insecure, which only TLS schemes take.
func (p *parser) fragment(u *URL, pu *url.URL) error {
	if pu.Fragment == "" && !strings.HasSuffix(p.raw, "#") {
		return nil
	}
	if !u.TLS {
		return p.fail("unexpected fragment: only TLS schemes (rediss://, valkeys://, rediss+sentinel://, ...) take one (#insecure)")
	}
	if pu.Fragment != "insecure" {
		return p.fail("unsupported fragment %s: only #insecure is allowed", p.show("#"+pu.Fragment))
	}
	u.Insecure = true
	return nil
}

func (p *parser) unix(u *URL, pu *url.URL) (*URL, error) {
	if h := pu.Hostname(); h != "" && h != "localhost" {
		return nil, p.fail("a unix socket URL takes an absolute path, %s:///path/to/redis.sock, not a host", u.Scheme)
	}
	if pu.Port() != "" {
		return nil, p.fail("a unix socket URL takes no port")
	}
	if pu.Path == "" || pu.Path == "/" {
		return nil, p.fail("missing socket path (want %s:///path/to/redis.sock)", u.Scheme)
	}
	if pu.Fragment != "" || strings.HasSuffix(p.raw, "#") {
		return nil, p.fail("unexpected fragment in a unix socket URL")
	}
	u.SocketPath = pu.Path
	if pu.User != nil {
		u.Username = pu.User.Username()
		u.Password, _ = pu.User.Password()
	}
	return u, p.query(u, pu, true)
}

// query reads ?protocol= and, for unix forms, ?db=, ?user= and ?pass=.
// Other parameters are ignored, as redis-rs ignores them, and listed in
// u.Ignored.
func (p *parser) query(u *URL, pu *url.URL, unix bool) error {
	q, err := url.ParseQuery(pu.RawQuery)
	if err != nil {
		return p.fail("malformed query string")
	}
	known := u.params()
	for name := range q {
		if !slices.Contains(known, name) {
			u.Ignored = append(u.Ignored, name)
		}
	}
	slices.Sort(u.Ignored)
	if v, ok := q["protocol"]; ok {
		switch strings.ToLower(v[len(v)-1]) {
		case "resp2", "2":
			u.Protocol = 2
		case "resp3", "3":
			u.Protocol = 3
		default:
			return p.fail("invalid protocol %s (want resp2 or resp3)", p.show(v[len(v)-1]))
		}
	}
	if u.Topology == Sentinel {
		if v, ok := q["sentinel_user"]; ok {
			u.SentinelUsername = v[len(v)-1]
		}
		if v, ok := q["sentinel_pass"]; ok {
			u.SentinelPassword = v[len(v)-1]
		}
	}
	if !unix {
		return nil
	}
	if v, ok := q["db"]; ok {
		n, err := strconv.Atoi(v[len(v)-1])
		if err != nil || n < 0 {
			return p.fail("invalid database number %s in ?db= (want 0, 1, ...)", p.show(v[len(v)-1]))
		}
		u.DB = n
	}
	if v, ok := q["user"]; ok {
		u.Username = v[len(v)-1]
	}
	if v, ok := q["pass"]; ok {
		u.Password = v[len(v)-1]
	}
	return nil
}

func knownScheme(s string) bool {
	for _, k := range Schemes {
		if s == k {
			return true
		}
	}
	return false
}

// validSchemeChars reports whether s could be a URL scheme (RFC 3986).
func validSchemeChars(s string) bool {
	for i, c := range s {
		switch {
		case c >= 'a' && c <= 'z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}
