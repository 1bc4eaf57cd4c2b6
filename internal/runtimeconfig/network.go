package runtimeconfig

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/redspin/redspin/internal/diag"
)

// OutboundNetworking is the [outbound_networking] table.
type OutboundNetworking struct {
	// BlockNetworks are the block_networks CIDRs (a bare address is its
	// own /32 or /128; host bits are dropped, as in Spin).
	BlockNetworks []netip.Prefix
	// BlockPrivate is set by the "private" entry of block_networks.
	BlockPrivate bool
	// MaxTotalConnections caps the outbound connections open at once
	// across the app (redspin applies it to outbound HTTP); 0 = unset.
	MaxTotalConnections int
	// MaxSocketConnections caps wasi:sockets connections; 0 = unset.
	// Parsed for compatibility: redspin offers guests no TCP sockets.
	MaxSocketConnections int
}

// OutboundHTTP is the [outbound_http] table.
type OutboundHTTP struct {
	// ConnectionPooling reuses connections between requests. As in Spin it
	// defaults to false once the table is present (and to true without it).
	ConnectionPooling bool
	// MaxConnections caps the outbound HTTP connections open at once
	// (max_connections, or the deprecated max_concurrent_requests + 1);
	// 0 = no limit.
	MaxConnections int
}

// outboundHTTP parses [outbound_http]; a deprecated key gives a warning.
func (l *loader) outboundHTTP(m map[string]any) (*OutboundHTTP, []Warning, error) {
	f := &fields{l: l, m: m, path: "outbound_http", name: "outbound_http", typ: "outbound_http"}
	if err := checkKeys(f, "connection_pooling", "max_connections", "max_concurrent_requests"); err != nil {
		return nil, nil, err
	}
	o := &OutboundHTTP{}
	var err error
	if o.ConnectionPooling, _, err = f.boolean("connection_pooling"); err != nil {
		return nil, nil, err
	}
	if o.MaxConnections, err = f.count("max_connections"); err != nil {
		return nil, nil, err
	}
	old, err := f.count("max_concurrent_requests")
	if err != nil {
		return nil, nil, err
	}
	var warnings []Warning
	if old > 0 {
		if o.MaxConnections > 0 {
			return nil, nil, f.err("max_concurrent_requests", errors.New("cannot set both `max_connections` and `max_concurrent_requests` in `[outbound_http]`; use `max_connections` only"))
		}
		o.MaxConnections = old + 1 // the old semaphore's n+1 permits, as Spin keeps them
		warnings = append(warnings, l.warn("outbound_http.max_concurrent_requests",
			"`max_concurrent_requests` in `[outbound_http]` is deprecated; use `max_connections` instead"))
	}
	return o, warnings, nil
}

// ClientTLS is one [[client_tls]] entry.
type ClientTLS struct {
	// ComponentIDs are the components the entry applies to (non-empty).
	ComponentIDs []string
	// Hosts are host names without ports (non-empty).
	Hosts []string
	// UsePlatformRoots and UseWebPKIRoots are the trusted root sets, as
	// Spin resolves ca_use_platform_roots and ca_use_webpki_roots: a flag
	// that is not set is false, except that with neither flag nor
	// ca_roots_file the platform roots are used.
	UsePlatformRoots, UseWebPKIRoots bool
	// Roots are the certificates of ca_roots_file; nil = none.
	Roots []*x509.Certificate
	// Certificate is client_cert_file with client_private_key_file; nil =
	// none.
	Certificate *tls.Certificate
	// Line is the line of the entry's header (0 if unknown).
	Line int
}

// outboundNetworking parses [outbound_networking].
func (l *loader) outboundNetworking(m map[string]any) (*OutboundNetworking, error) {
	f := &fields{l: l, m: m, path: "outbound_networking", name: "outbound_networking", typ: "outbound_networking"}
	if err := checkKeys(f, "block_networks", "max_total_connections", "max_socket_connections"); err != nil {
		return nil, err
	}
	n := &OutboundNetworking{}
	nets, err := f.strList("block_networks")
	if err != nil {
		return nil, err
	}
	for _, s := range nets {
		if s == "private" {
			n.BlockPrivate = true
			continue
		}
		p, err := parseNetwork(s)
		if err != nil {
			return nil, f.err("block_networks", diag.Errorf("%q is not an IP network in CIDR notation (such as \"10.0.0.0/8\") or the keyword \"private\"", s))
		}
		n.BlockNetworks = append(n.BlockNetworks, p)
	}
	if n.MaxTotalConnections, err = f.count("max_total_connections"); err != nil {
		return nil, err
	}
	if n.MaxSocketConnections, err = f.count("max_socket_connections"); err != nil {
		return nil, err
	}
	return n, nil
}

func parseNetwork(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// clientTLS parses one [[client_tls]] entry; its files are read relative to
// the runtime-config file's directory.
func (l *loader) clientTLS(i int, m map[string]any) (ClientTLS, error) {
	f := &fields{l: l, m: m, path: fmt.Sprintf("client_tls.%d", i), name: fmt.Sprintf("client_tls[%d]", i), typ: "client_tls"}
	c := ClientTLS{Line: l.pos[f.path].Line}
	if err := checkKeys(f, "component_ids", "hosts", "ca_use_platform_roots", "ca_use_webpki_roots",
		"ca_roots_file", "client_cert_file", "client_private_key_file"); err != nil {
		return c, err
	}
	var err error
	if c.ComponentIDs, err = f.strList("component_ids"); err != nil {
		return c, err
	}
	if len(c.ComponentIDs) == 0 {
		return c, f.err("component_ids", errors.New("'component_ids' list may not be empty"))
	}
	if c.Hosts, err = f.strList("hosts"); err != nil {
		return c, err
	}
	if len(c.Hosts) == 0 {
		return c, f.err("hosts", errors.New("'hosts' list may not be empty"))
	}
	for _, h := range c.Hosts {
		if err := checkTLSHost(h); err != nil {
			return c, f.err("hosts", err)
		}
	}
	platform, platformSet, err := f.boolean("ca_use_platform_roots")
	if err != nil {
		return c, err
	}
	webpki, webpkiSet, err := f.boolean("ca_use_webpki_roots")
	if err != nil {
		return c, err
	}
	rootsFile, err := f.str("ca_roots_file", false)
	if err != nil {
		return c, err
	}
	c.UsePlatformRoots, c.UseWebPKIRoots = platform, webpki
	if !platformSet && !webpkiSet {
		c.UsePlatformRoots = rootsFile == ""
	}
	if rootsFile != "" {
		if c.Roots, err = l.loadCerts(f, "ca_roots_file", rootsFile); err != nil {
			return c, err
		}
	}
	certFile, err := f.str("client_cert_file", false)
	if err != nil {
		return c, err
	}
	keyFile, err := f.str("client_private_key_file", false)
	if err != nil {
		return c, err
	}
	switch {
	case certFile != "" && keyFile == "":
		return c, f.err("client_cert_file", errors.New("client_cert_file specified without client_private_key_file"))
	case certFile == "" && keyFile != "":
		return c, f.err("client_private_key_file", errors.New("client_private_key_file specified without client_cert_file"))
	case certFile != "":
		certPEM, err := l.readFile(f, "client_cert_file", certFile)
		if err != nil {
			return c, err
		}
		keyPEM, err := l.readFile(f, "client_private_key_file", keyFile)
		if err != nil {
			return c, err
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return c, f.err("client_cert_file", diag.Errorf("load the client certificate %q with its key %q: %w", certFile, keyFile, err))
		}
		c.Certificate = &pair
	}
	return c, nil
}

// checkTLSHost accepts a host name or IP address without a port.
func checkTLSHost(h string) error {
	if h == "" || strings.ContainsAny(h, "/?#@ \t") {
		return diag.Errorf("invalid TLS 'host' %q", h)
	}
	if _, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
		return nil
	}
	if strings.Contains(h, ":") {
		return diag.Errorf("invalid TLS 'host' %q; ports not currently supported", h)
	}
	return nil
}

func (l *loader) readFile(f *fields, key, path string) ([]byte, error) {
	if !filepath.IsAbs(path) {
		path = filepath.Join(l.dir, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, f.err(key, fmt.Errorf("read %s: %w", key, err))
	}
	return b, nil
}

// loadCerts reads the PEM certificates of a file; it must hold at least one.
func (l *loader) loadCerts(f *fields, key, path string) ([]*x509.Certificate, error) {
	b, err := l.readFile(f, key, path)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, f.err(key, diag.Errorf("failed to load certificate(s) from %q: %w", path, err))
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, f.err(key, diag.Errorf("failed to load certificate(s) from %q: no PEM CERTIFICATE block", path))
	}
	return certs, nil
}

// checkKeys is fields.check for tables without a type key.
func checkKeys(f *fields, allowed ...string) error {
	if _, ok := f.m["type"]; ok {
		return f.err("type", diag.Errorf("unknown key \"type\" (known keys: %s)", strings.Join(allowed, ", ")))
	}
	return f.check(allowed...)
}

func (f *fields) strList(key string) ([]string, error) {
	v, ok := f.m[key]
	if !ok {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, f.err(key, fmt.Errorf("must be a list of strings, not %s", tomlType(v)))
	}
	out := make([]string, len(list))
	for i, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, f.err(key, fmt.Errorf("must be a list of strings; element %d is %s", i, tomlType(e)))
		}
		out[i] = s
	}
	return out, nil
}

func (f *fields) boolean(key string) (v, set bool, err error) {
	x, ok := f.m[key]
	if !ok {
		return false, false, nil
	}
	b, ok := x.(bool)
	if !ok {
		return false, false, f.err(key, fmt.Errorf("must be true or false, not %s", tomlType(x)))
	}
	return b, true, nil
}

// count returns a positive integer field, 0 when absent.
func (f *fields) count(key string) (int, error) {
	x, ok := f.m[key]
	if !ok {
		return 0, nil
	}
	n, ok := x.(int64)
	if !ok || n < 1 || n > 1<<31 {
		return 0, f.err(key, fmt.Errorf("must be a positive number of connections, not %v (to allow no outbound connections, leave allowed_outbound_hosts empty)", x))
	}
	return int(n), nil
}
