package outhttp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Resolver looks up host names; *net.Resolver implements it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// ClientTLS is one [[client_tls]] entry: the TLS settings for connections
// from some components to some hosts.
type ClientTLS struct {
	// Components are the component IDs the entry applies to.
	Components []string
	// Hosts are the host names (without ports) the entry applies to,
	// compared without regard to case.
	Hosts []string
	// PlatformRoots trusts the system's roots (ca_use_platform_roots;
	// ca_use_webpki_roots, Mozilla's list, also maps here: Go has no bundled
	// list, and the system's is Mozilla's on Debian-based images).
	PlatformRoots bool
	// Roots are extra trusted CA certificates (ca_roots_file).
	Roots []*x509.Certificate
	// Certificate is the client certificate and key presented to the
	// server (client_cert_file, client_private_key_file); nil = none.
	Certificate *tls.Certificate
}

// Network is the app-wide outbound network configuration (runtime config
// [outbound_networking] and [[client_tls]]), shared by every component's
// Client. The zero value blocks nothing, trusts the platform roots and
// limits nothing.
type Network struct {
	// BlockNetworks are refused destination networks, checked on every
	// resolved address.
	BlockNetworks []netip.Prefix
	// BlockPrivate refuses every address that is not globally routable
	// (loopback, private, link-local, CGNAT, documentation, ...), as Spin's
	// block_networks = ["private"].
	BlockPrivate bool
	// TLS are the [[client_tls]] entries; the first entry naming the
	// component and the host applies.
	TLS []ClientTLS
	// MaxConnections caps the outbound HTTP connections open at once across
	// the app (max_total_connections); a request waits for a free one (idle
	// pooled connections are closed first). 0 = no limit.
	MaxConnections int
	// DisablePooling closes each connection after its request
	// ([outbound_http] connection_pooling = false). false = idle
	// connections are kept for reuse, per component.
	DisablePooling bool
	// Resolver resolves host names. nil = net.DefaultResolver.
	Resolver Resolver

	once    sync.Once
	permits chan struct{}
	mu      sync.Mutex
	idlers  []func() // CloseIdleConnections of every Client's transport
}

func (n *Network) init() {
	n.once.Do(func() {
		if n.MaxConnections > 0 {
			n.permits = make(chan struct{}, n.MaxConnections)
		}
	})
}

func (n *Network) addIdler(f func()) {
	n.mu.Lock()
	n.idlers = append(n.idlers, f)
	n.mu.Unlock()
}

// acquire takes a connection permit; release gives it back.
func (n *Network) acquire(ctx context.Context) (release func(), err error) {
	n.init()
	if n.permits == nil {
		return func() {}, nil
	}
	select {
	case n.permits <- struct{}{}:
	default:
		n.mu.Lock()
		idlers := slices.Clone(n.idlers)
		n.mu.Unlock()
		for _, f := range idlers {
			f()
		}
		select {
		case n.permits <- struct{}{}:
		case <-ctx.Done():
			return nil, newErr(ConnectionLimitReached, context.Cause(ctx), "all %d outbound connections (max_total_connections) stayed busy", n.MaxConnections)
		}
	}
	var once sync.Once
	return func() { once.Do(func() { <-n.permits }) }, nil
}

// Blocked reports whether a is in a blocked network. IPv4-mapped IPv6
// addresses are checked as IPv4.
func (n *Network) Blocked(a netip.Addr) bool {
	a = a.Unmap()
	if n.BlockPrivate && !isGlobal(a) {
		return true
	}
	for _, p := range n.BlockNetworks {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// nonGlobal are the special-purpose ranges (IANA registries) that Spin's
// "private" blocks, besides what netip classifies.
var nonGlobal = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("100::/64"),
	netip.MustParsePrefix("2001::/23"),
	netip.MustParsePrefix("2001:db8::/32"),
}

func isGlobal(a netip.Addr) bool {
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsUnspecified() || a.IsInterfaceLocalMulticast() || !a.IsValid() {
		return false
	}
	for _, p := range nonGlobal {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// tlsConfig returns the TLS configuration for a component's connection to
// host.
func (n *Network) tlsConfig(component, host string) (*tls.Config, error) {
	cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	for _, e := range n.TLS {
		if !slices.Contains(e.Components, component) || !slices.ContainsFunc(e.Hosts, func(h string) bool { return strings.EqualFold(h, host) }) {
			continue
		}
		if len(e.Roots) > 0 || !e.PlatformRoots {
			var pool *x509.CertPool
			if e.PlatformRoots {
				p, err := x509.SystemCertPool()
				if err != nil {
					return nil, newErr(ConfigurationError, err, "load the platform's CA roots")
				}
				pool = p
			} else {
				pool = x509.NewCertPool()
			}
			for _, c := range e.Roots {
				pool.AddCert(c)
			}
			cfg.RootCAs = pool
		}
		if e.Certificate != nil {
			cfg.Certificates = []tls.Certificate{*e.Certificate}
		}
		break
	}
	return cfg, nil
}

// optsKey carries a request's Options to the dialer.
type optsKey struct{}

// dial resolves host, drops blocked addresses, takes a connection permit
// and dials the addresses left in order.
func (n *Network) dial(ctx context.Context, addr string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, newErr(HTTPRequestURIInvalid, err, "address %q", addr)
	}
	port, _ := strconv.Atoi(portStr)
	var ips []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{a}
	} else {
		r := n.Resolver
		if r == nil {
			r = net.DefaultResolver
		}
		ips, err = r.LookupNetIP(ctx, "ip", host)
		if err != nil {
			code := DNSError
			if CodeOf(err) == DNSTimeout {
				code = DNSTimeout
			}
			return nil, newErr(code, err, "resolve %q", host)
		}
	}
	allowed := ips[:0:0]
	for _, a := range ips {
		if !n.Blocked(a) {
			allowed = append(allowed, a.Unmap())
		}
	}
	if len(allowed) == 0 {
		return nil, newErr(DestinationIPProhibited, nil, "%s resolves only to addresses in the runtime config's block_networks", host)
	}
	release, err := n.acquire(ctx)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{}
	if o, ok := ctx.Value(optsKey{}).(*Options); ok && o.ConnectTimeout > 0 {
		d.Timeout = o.ConnectTimeout
	}
	var firstErr error
	for _, a := range allowed {
		c, err := d.DialContext(ctx, "tcp", netip.AddrPortFrom(a, uint16(port)).String())
		if err == nil {
			return &permitConn{Conn: c, release: release}, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	release()
	code := classify(firstErr)
	if d.Timeout > 0 && code == ConnectionTimeout || isTimeout(firstErr) {
		code = ConnectionTimeout
	}
	return nil, newErr(code, firstErr, "connect to %s", host)
}

func isTimeout(err error) bool {
	var ne net.Error
	return err != nil && errors.As(err, &ne) && ne.Timeout()
}

// permitConn gives its connection permit back when closed.
type permitConn struct {
	net.Conn
	release func()
}

func (c *permitConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}

// handshake wraps conn in TLS for component → host.
func (n *Network) handshake(ctx context.Context, conn net.Conn, component, host string) (net.Conn, error) {
	cfg, err := n.tlsConfig(component, host)
	if err != nil {
		conn.Close()
		return nil, err
	}
	tc := tls.Client(conn, cfg)
	hctx := ctx
	if o, ok := ctx.Value(optsKey{}).(*Options); ok && o.ConnectTimeout > 0 {
		var cancel context.CancelFunc
		hctx, cancel = context.WithTimeout(ctx, o.ConnectTimeout)
		defer cancel()
	}
	if err := tc.HandshakeContext(hctx); err != nil {
		conn.Close()
		code := classify(err)
		if code == InternalError || code == ConnectionTerminated {
			code = TLSProtocolError
		}
		return nil, newErr(code, err, "TLS handshake with %s", host)
	}
	return tc, nil
}
