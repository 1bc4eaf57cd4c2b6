package rdbms

import (
	"crypto/x509"
	"io"
	"log/slog"
	"time"

	"github.com/redspin/redspin/internal/spinhost/allowedhosts"
)

// Defaults for [Config].
const (
	DefaultMaxResultBytes = 128 << 20 // Spin's MAX_HOST_BUFFERED_BYTES
	DefaultDialTimeout    = 10 * time.Second
)

// Config is what a database client of one component needs (the
// PostgreSQL and MySQL clients take it).
type Config struct {
	// Component is the component ID, used in messages.
	Component string
	// Allowed is the component's parsed allowed_outbound_hosts; nil allows
	// nothing.
	Allowed *allowedhosts.List
	// MaxConnections caps the connections one message holds at once.
	// default: DefaultMaxConnections (1024, Spin's table size).
	MaxConnections int
	// MaxResultBytes caps one query's rows (their estimated lowered size).
	// default: DefaultMaxResultBytes (128 MiB, Spin's limit).
	MaxResultBytes int
	// DialTimeout bounds connecting, TLS and authentication.
	// default: DefaultDialTimeout (10s).
	DialTimeout time.Duration
	// RootCAs are the TLS roots; nil = the system roots.
	RootCAs *x509.CertPool
	// Logger receives refused-address warnings. default: discard.
	Logger *slog.Logger
}

// WithDefaults returns c with its zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.MaxConnections <= 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.MaxResultBytes <= 0 {
		c.MaxResultBytes = DefaultMaxResultBytes
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c
}
