package redisurl

import (
	"context"
	"crypto/tls"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// UniversalOptions returns go-redis options for the URL: the node, the
// sentinels and service name (Sentinel) or the seed nodes in cluster mode
// (Cluster); credentials, database, protocol (2 unless the URL asks for 3:
// go-redis would otherwise default to RESP3) and, for TLS schemes, a TLS
// config that skips verification for #insecure. Pass them to [NewClient].
//
// For one node TLS's ServerName is the URL's host; for Sentinel and Cluster
// it is left empty, so each connection verifies the host it dials (the
// primary or a cluster node found at runtime, not only the first node).
func (u *URL) UniversalOptions() *redis.UniversalOptions {
	o := &redis.UniversalOptions{
		Addrs:    u.Addrs(),
		Username: u.Username,
		Password: u.Password,
		DB:       u.DB,
		Protocol: u.Protocol,
	}
	if o.Protocol == 0 {
		o.Protocol = 2
	}
	switch u.Topology {
	case Sentinel:
		o.MasterName = u.MasterName
		o.SentinelUsername, o.SentinelPassword = u.SentinelUsername, u.SentinelPassword
	case Cluster:
		o.IsClusterMode = true
	}
	if u.TLS {
		o.TLSConfig = &tls.Config{
			InsecureSkipVerify: u.Insecure, //nolint:gosec // the user asked for it with #insecure
			MinVersion:         tls.VersionTLS12,
		}
		if u.Topology == Single {
			o.TLSConfig.ServerName = u.Host
		}
	}
	return o
}

// NewClient is redspin's one way to open a go-redis client: a *redis.Client
// for one node, a *redis.FailoverClient that follows the primary Sentinel
// names (MasterName set), or a *redis.ClusterClient that routes each command
// by its key's slot and follows MOVED and ASK redirections (IsClusterMode
// set). Build o with [URL.UniversalOptions]; to check or count every
// connection, including to nodes found at runtime, set o.Dialer to a wrapper
// of [Dialer].
func NewClient(o *redis.UniversalOptions) redis.UniversalClient {
	return redis.NewUniversalClient(o)
}

// DialFunc dials one connection to a node (go-redis's Dialer signature).
type DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error)

// Dialer returns what go-redis does to dial a node of o when o.Dialer is
// nil: TCP (unix for an address starting with "/") with o.DialTimeout
// (default 5 s) and keep-alive, then TLS with o.TLSConfig, its ServerName
// taken from the dialled address when empty. Wrappers set as o.Dialer call
// it after their checks; go-redis calls o.Dialer for every connection,
// to sentinels, primaries and cluster nodes alike, including ones it
// learned of at runtime (a new primary, a MOVED redirection).
func Dialer(o *redis.UniversalOptions) DialFunc {
	timeout := o.DialTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	base := o.TLSConfig
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if strings.HasPrefix(addr, "/") {
			network = "unix"
		}
		d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
		if base == nil {
			return d.DialContext(ctx, network, addr)
		}
		cfg := base.Clone()
		if cfg.ServerName == "" {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				host = addr
			}
			cfg.ServerName = host
		}
		td := &tls.Dialer{NetDialer: d, Config: cfg}
		return td.DialContext(ctx, network, addr)
	}
}
