package pg

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/attribute"

	"github.com/redspin/redspin/internal/spinhost/allowedhosts"
	"github.com/redspin/redspin/internal/spinhost/rdbms"
	"github.com/redspin/redspin/internal/telemetry"
)

// Config configures outbound PostgreSQL for one component.
type Config struct {
	rdbms.Config
	// MaxIdlePerAddress caps the connections kept between messages per
	// address (and root CA); at most 16 addresses are kept. 0 =
	// DefaultMaxIdlePerAddress (64, Spin's pool size); negative = no pool.
	MaxIdlePerAddress int
}

// Client is the outbound PostgreSQL host of one component, safe for
// concurrent use; each message gets an [Instance]. It keeps idle
// connections between messages.
type Client struct {
	cfg  Config
	pool *idlePool
}

// New returns a Client for cfg with defaults filled in.
func New(cfg Config) *Client {
	cfg.Config = cfg.Config.WithDefaults()
	if cfg.MaxIdlePerAddress == 0 {
		cfg.MaxIdlePerAddress = DefaultMaxIdlePerAddress
	}
	return &Client{cfg: cfg, pool: newIdlePool(cfg.MaxIdlePerAddress)}
}

// Close closes the connections kept between messages. Instances still
// open return theirs to a closed pool, which closes them.
func (c *Client) Close() error {
	c.pool.closeAll()
	return nil
}

// builder is a 4.1 connection-builder: an address and an extra CA.
type builder struct {
	address string
	caRoot  *x509.Certificate
}

// pooled is a connection and the pool key it returns under.
type pooled struct {
	cn  *pgx.Conn
	key string
}

// Instance holds one message's connections and connection builders.
// Connections come from the Client's pool (reset first) or are dialled,
// and go back to the pool when dropped or when the message ends.
type Instance struct {
	c        *Client
	conns    *rdbms.Table[pooled]
	builders *rdbms.Table[*builder]
}

// NewInstance returns the per-message state; Close it with the message.
func (c *Client) NewInstance() *Instance {
	return &Instance{
		c:        c,
		conns:    rdbms.NewTable(c.cfg.MaxConnections, func(p pooled) { c.pool.put(p.key, p.cn) }),
		builders: rdbms.NewTable[*builder](c.cfg.MaxConnections, nil),
	}
}

func closeConn(cn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = cn.Close(ctx)
}

// ContinueAfter makes i's handles continue after prev's, the previous
// message's on the same store (nil = none); see handles.Continue.
func (i *Instance) ContinueAfter(prev *Instance) {
	if prev == nil {
		return
	}
	i.conns.ContinueAfter(prev.conns)
	i.builders.ContinueAfter(prev.builders)
}

// Close closes every connection of the message. Idempotent.
func (i *Instance) Close() error {
	i.conns.Close()
	i.builders.Close()
	return nil
}

// Len returns the number of open connections.
func (i *Instance) Len() int { return i.conns.Len() }

// Open checks address and connects (connection.open).
func (i *Instance) Open(ctx context.Context, address string) (uint32, error) {
	return i.open(ctx, address, nil)
}

// NewBuilder starts a 4.1 connection-builder for address.
func (i *Instance) NewBuilder(address string) (uint32, error) {
	return i.builders.Add(&builder{address: address})
}

// SetCARoot adds a PEM root certificate to builder b: other("invalid root
// certificate: ...") when it does not parse.
func (i *Instance) SetCARoot(b uint32, pemText string) error {
	bl, err := i.builders.Get(b)
	if err != nil {
		return rdbms.Errorf(rdbms.ConnectionFailed, "no builder found")
	}
	cert, err := parsePEM(pemText)
	if err != nil {
		return &rdbms.Error{Kind: rdbms.OtherError, Message: "invalid root certificate: " + err.Error(), Err: err}
	}
	bl.caRoot = cert
	return nil
}

// Build connects with builder b's address and root (the builder stays).
func (i *Instance) Build(ctx context.Context, b uint32) (uint32, error) {
	bl, err := i.builders.Get(b)
	if err != nil {
		return 0, rdbms.Errorf(rdbms.ConnectionFailed, "no builder found")
	}
	return i.open(ctx, bl.address, bl.caRoot)
}

// DropBuilder forgets builder b.
func (i *Instance) DropBuilder(b uint32) { i.builders.Drop(b) }

// Drop closes connection h.
func (i *Instance) Drop(h uint32) { i.conns.Drop(h) }

func (i *Instance) open(ctx context.Context, address string, caRoot *x509.Certificate) (uint32, error) {
	cfg, err := i.c.config(address, caRoot)
	if err != nil {
		return 0, err
	}
	if err := i.conns.Reserve(); err != nil {
		return 0, err
	}
	key := poolKey(address, caRoot)
	ctx, cancel := context.WithTimeout(ctx, i.c.cfg.DialTimeout)
	defer cancel()
	cn := i.c.pool.take(ctx, key)
	if cn == nil {
		if cn, err = pgx.ConnectConfig(ctx, cfg); err != nil {
			i.conns.Release()
			return 0, &rdbms.Error{Kind: rdbms.ConnectionFailed, Message: err.Error(), Err: err}
		}
	}
	return i.conns.Insert(pooled{cn: cn, key: key})
}

// config parses address, checks every host in it and sets up TLS.
func (c *Client) config(address string, caRoot *x509.Certificate) (*pgx.ConnConfig, error) {
	// pgx, like libpq, fills what an address leaves out from the redspin
	// process's environment (PGHOST, PGUSER, PGPASSWORD, PGSSLMODE…), a
	// service file, ~/.pgpass or ~/.postgresql; Spin's driver reads none
	// of them, and a guest must not borrow the host's settings or
	// credentials: the address gets Spin's defaults for what it does not
	// give, and a host, user, password or database it does not give stays
	// missing (no host fails here; no user fails at the server, as in
	// Spin).
	keys := given(address)
	cfg, err := pgx.ParseConfig(withSpinDefaults(address, keys))
	if err != nil {
		if _, e := pgx.ParseConfig(address); e != nil {
			err = e // the message shows the address as given
		}
		return nil, &rdbms.Error{Kind: rdbms.ConnectionFailed, Message: err.Error(), Err: err}
	}
	if !keys["host"] {
		return nil, rdbms.Errorf(rdbms.ConnectionFailed, "invalid configuration: host missing")
	}
	if err := c.checkHosts(cfg); err != nil {
		return nil, err
	}
	if !keys["user"] {
		cfg.User = ""
	}
	if !keys["password"] {
		cfg.Password = ""
	}
	if !keys["database"] {
		cfg.Database = ""
	}
	for _, p := range []string{"application_name", "options", "timezone"} {
		if !keys[p] {
			delete(cfg.RuntimeParams, p)
		}
	}
	var roots *x509.CertPool
	if caRoot != nil {
		if roots, err = systemRootsWith(c.cfg.RootCAs, caRoot); err != nil {
			return nil, &rdbms.Error{Kind: rdbms.ConnectionFailed, Message: err.Error(), Err: err}
		}
	} else {
		roots = c.cfg.RootCAs
	}
	setTLS := func(host string, t **tls.Config) {
		if *t != nil {
			*t = &tls.Config{ServerName: host, RootCAs: roots, MinVersion: tls.VersionTLS12}
		}
	}
	setTLS(cfg.Host, &cfg.TLSConfig)
	for _, fb := range cfg.Fallbacks {
		setTLS(fb.Host, &fb.TLSConfig)
	}
	cfg.ConnectTimeout = c.cfg.DialTimeout
	return cfg, nil
}

// checkHosts checks the main host and every fallback, as Spin checks every
// host of the connection string.
func (c *Client) checkHosts(cfg *pgx.ConnConfig) error {
	check := func(host string, port uint16) error {
		if strings.HasPrefix(host, "/") {
			return rdbms.Errorf(rdbms.ConnectionFailed, "Unix sockets are not supported on WebAssembly")
		}
		t := allowedhosts.Target{Scheme: "postgres", Host: host, Port: int(port)}
		return rdbms.CheckAllowed(c.cfg.Allowed, c.cfg.Component, t, t.String(), c.cfg.Logger)
	}
	if err := check(cfg.Host, cfg.Port); err != nil {
		return err
	}
	for _, fb := range cfg.Fallbacks {
		if err := check(fb.Host, fb.Port); err != nil {
			return err
		}
	}
	return nil
}

func systemRootsWith(base *x509.CertPool, cert *x509.Certificate) (*x509.CertPool, error) {
	var pool *x509.CertPool
	if base != nil {
		pool = base.Clone()
	} else {
		p, err := x509.SystemCertPool()
		if err != nil {
			p = x509.NewCertPool()
		}
		pool = p
	}
	pool.AddCert(cert)
	return pool, nil
}

// conn returns the connection of handle h.
func (i *Instance) conn(h uint32) (*pgx.Conn, error) {
	p, err := i.conns.Get(h)
	return p.cn, err
}

// Execute runs statement with params and returns the rows affected.
func (i *Instance) Execute(ctx context.Context, h uint32, statement string, params []rdbms.Value) (_ uint64, err error) {
	cn, err := i.conn(h)
	if err != nil {
		return 0, err
	}
	ctx, end := span(ctx, cn, statement)
	defer func() { end(err) }()
	args, err := toArgs(params, rdbms.ValueConversionFailed)
	if err != nil {
		return 0, err
	}
	tag, err := cn.Exec(ctx, statement, args...)
	if err != nil {
		return 0, queryFailed(err)
	}
	return uint64(tag.RowsAffected()), nil
}

// Query runs statement with params and returns its rows in 4.x form
// (narrow them with rdbms.Version.RowSet).
func (i *Instance) Query(ctx context.Context, h uint32, statement string, params []rdbms.Value) (_ *rdbms.RowSet, err error) {
	cn, err := i.conn(h)
	if err != nil {
		return nil, err
	}
	ctx, end := span(ctx, cn, statement)
	defer func() { end(err) }()
	args, err := toArgs(params, rdbms.BadParameter)
	if err != nil {
		return nil, err
	}
	rows, err := cn.Query(ctx, statement, args...)
	if err != nil {
		return nil, queryFailed(err)
	}
	rs, err := readRows(rows, cn.TypeMap(), i.c.cfg.MaxResultBytes)
	rows.Close()
	if err == nil {
		err = rows.Err()
	}
	if err != nil {
		return nil, queryFailed(err)
	}
	if err := nameOtherTypes(ctx, cn, rs); err != nil {
		return nil, queryFailed(err)
	}
	return rs, nil
}

// span starts the client span of a statement on cn (telemetry.DB) with the
// server's address and port.
func span(ctx context.Context, cn *pgx.Conn, statement string) (context.Context, func(error)) {
	if !telemetry.Recording(ctx) {
		return ctx, func(error) {}
	}
	cfg := cn.Config()
	return telemetry.DB(ctx, "postgresql", statement, attribute.String("server.address", cfg.Host),
		attribute.Int("server.port", int(cfg.Port)), attribute.String("db.namespace", cfg.Database))
}

// nameOtherTypes fills in the names of column types pgx does not know
// (enums, domains, extensions) from pg_type, as Spin reports them.
func nameOtherTypes(ctx context.Context, cn *pgx.Conn, rs *rdbms.RowSet) error {
	for j := range rs.Columns {
		t := &rs.Columns[j].Type
		if t.Kind != rdbms.Other || !strings.HasPrefix(t.Name, "oid:") {
			continue
		}
		var name string
		if err := cn.QueryRow(ctx, "SELECT typname::text FROM pg_catalog.pg_type WHERE oid = $1::oid",
			strings.TrimPrefix(t.Name, "oid:")).Scan(&name); err != nil {
			return fmt.Errorf("look up the name of type %s: %w", t.Name, err)
		}
		t.Name = name
	}
	return nil
}
