package mysql

import (
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	driver "github.com/go-sql-driver/mysql"
	"go.opentelemetry.io/otel/attribute"

	"github.com/redspin/redspin/internal/spinhost/allowedhosts"
	"github.com/redspin/redspin/internal/spinhost/rdbms"
	"github.com/redspin/redspin/internal/telemetry"
)

// Client is the outbound MySQL host of one component, immutable and safe
// for concurrent use; each message gets an [Instance].
type Client struct {
	cfg rdbms.Config
}

// New returns a Client for cfg with defaults filled in.
func New(cfg rdbms.Config) *Client { return &Client{cfg: cfg.WithDefaults()} }

// Instance holds one message's connections. Each connection is a
// database/sql pool of exactly one connection, so session state (SET,
// transactions, temporary tables) stays with its handle.
type Instance struct {
	c     *Client
	conns *rdbms.Table[*conn]
}

// conn is one connection: a database/sql pool of one, and the server and
// database it is to (for spans).
type conn struct {
	db           *sql.DB
	addr, dbName string
}

// NewInstance returns the per-message state; Close it with the message.
func (c *Client) NewInstance() *Instance {
	return &Instance{c: c, conns: rdbms.NewTable(c.cfg.MaxConnections, func(cn *conn) { _ = cn.db.Close() })}
}

// ContinueAfter makes i's handles continue after prev's, the previous
// message's on the same store (nil = none); see handles.Continue.
func (i *Instance) ContinueAfter(prev *Instance) {
	if prev == nil {
		return
	}
	i.conns.ContinueAfter(prev.conns)
}

// Close closes every connection of the message. Idempotent.
func (i *Instance) Close() error {
	i.conns.Close()
	return nil
}

// Len returns the number of open connections.
func (i *Instance) Len() int { return i.conns.Len() }

// Drop closes connection h.
func (i *Instance) Drop(h uint32) { i.conns.Drop(h) }

// Open checks address and connects (connection.open).
func (i *Instance) Open(ctx context.Context, address string) (uint32, error) {
	cfg, err := i.c.config(address)
	if err != nil {
		return 0, err
	}
	if err := i.conns.Reserve(); err != nil {
		return 0, err
	}
	connector, err := driver.NewConnector(cfg)
	if err != nil {
		i.conns.Release()
		return 0, &rdbms.Error{Kind: rdbms.ConnectionFailed, Message: err.Error(), Err: err}
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	ctx, cancel := context.WithTimeout(ctx, i.c.cfg.DialTimeout)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		i.conns.Release()
		return 0, &rdbms.Error{Kind: rdbms.ConnectionFailed, Message: err.Error(), Err: err}
	}
	return i.conns.Insert(&conn{db: db, addr: cfg.Addr, dbName: cfg.DBName})
}

// config parses a mysql:// URL into the driver's configuration after
// checking it against allowed_outbound_hosts.
func (c *Client) config(address string) (*driver.Config, error) {
	u, err := url.Parse(address)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, &rdbms.Error{Kind: rdbms.ConnectionFailed, Message: "invalid address: " + err.Error(), Err: err}
	}
	shown := u.Redacted()
	t, err := allowedhosts.TargetFromURL(address)
	if err != nil || t.SocketPath != "" {
		return nil, rdbms.Errorf(rdbms.ConnectionFailed, "address "+shown+" is not permitted")
	}
	if err := rdbms.CheckAllowed(c.cfg.Allowed, c.cfg.Component, t, shown, c.cfg.Logger); err != nil {
		return nil, err
	}
	if u.Scheme != "mysql" {
		return nil, rdbms.Errorf(rdbms.ConnectionFailed, fmt.Sprintf("URL scheme %q is not mysql", u.Scheme))
	}
	cfg := driver.NewConfig()
	cfg.Net = "tcp"
	port := u.Port()
	if port == "" {
		port = "3306"
	}
	cfg.Addr = net.JoinHostPort(u.Hostname(), port)
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	cfg.Timeout = c.cfg.DialTimeout
	cfg.AllowNativePasswords = true
	for k, vs := range u.Query() {
		if isSSLParam(k) && len(vs) > 0 && !strings.EqualFold(vs[len(vs)-1], "disabled") {
			cfg.TLS = &tls.Config{ServerName: u.Hostname(), RootCAs: c.cfg.RootCAs, MinVersion: tls.VersionTLS12}
		}
	}
	return cfg, nil
}

// span starts the client span of a statement on cn (telemetry.DB).
func (cn *conn) span(ctx context.Context, statement string) (context.Context, func(error)) {
	if !telemetry.Recording(ctx) {
		return ctx, func(error) {}
	}
	host, port, _ := net.SplitHostPort(cn.addr)
	p, _ := strconv.Atoi(port)
	return telemetry.DB(ctx, "mysql", statement, attribute.String("server.address", host), attribute.Int("server.port", p),
		attribute.String("db.namespace", cn.dbName))
}

func isSSLParam(k string) bool {
	k = strings.ToLower(k)
	return k == "ssl-mode" || k == "sslmode"
}

// Execute runs statement with params. Spin's execute returns nothing; the
// rows affected are returned for callers that want them.
func (i *Instance) Execute(ctx context.Context, h uint32, statement string, params []rdbms.Value) (_ uint64, err error) {
	cn, err := i.conns.Get(h)
	if err != nil {
		return 0, err
	}
	ctx, end := cn.span(ctx, statement)
	defer func() { end(err) }()
	res, err := cn.db.ExecContext(ctx, statement, toArgs(params)...)
	if err != nil {
		return 0, &rdbms.Error{Kind: rdbms.QueryFailed, Message: err.Error(), Err: err}
	}
	n, _ := res.RowsAffected()
	return uint64(n), nil
}

// Query runs statement with params and returns its rows.
func (i *Instance) Query(ctx context.Context, h uint32, statement string, params []rdbms.Value) (_ *rdbms.RowSet, err error) {
	cn, err := i.conns.Get(h)
	if err != nil {
		return nil, err
	}
	ctx, end := cn.span(ctx, statement)
	defer func() { end(err) }()
	rows, err := cn.db.QueryContext(ctx, statement, toArgs(params)...)
	if err != nil {
		return nil, &rdbms.Error{Kind: rdbms.QueryFailed, Message: err.Error(), Err: err}
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, &rdbms.Error{Kind: rdbms.OtherError, Message: err.Error(), Err: err}
	}
	rs := &rdbms.RowSet{Columns: make([]rdbms.Column, len(types)), Rows: [][]rdbms.Value{}}
	for j, ct := range types {
		rs.Columns[j] = rdbms.Column{Name: ct.Name(), Type: rdbms.DataType{Kind: columnKind(ct.DatabaseTypeName())}}
	}
	raw := make([]any, len(types))
	dest := make([]any, len(types))
	for j := range raw {
		dest[j] = &raw[j]
	}
	size := 0
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, &rdbms.Error{Kind: rdbms.OtherError, Message: err.Error(), Err: err}
		}
		row := make([]rdbms.Value, len(raw))
		for j, x := range raw {
			v, err := convert(x, rs.Columns[j])
			if err != nil {
				return nil, err
			}
			row[j] = v
			size += v.Size()
		}
		if size > i.c.cfg.MaxResultBytes {
			return nil, rdbms.Errorf(rdbms.OtherError, fmt.Sprintf("query result exceeds limit of %d bytes", i.c.cfg.MaxResultBytes))
		}
		rs.Rows = append(rs.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, &rdbms.Error{Kind: rdbms.OtherError, Message: err.Error(), Err: err}
	}
	return rs, nil
}

// columnKind maps the driver's type names to Spin's db-data-type (Spin
// reads MEDIUMBLOB/LONGBLOB and their TEXT forms as binary).
func columnKind(name string) rdbms.Kind {
	switch name {
	case "DOUBLE":
		return rdbms.Floating64
	case "FLOAT":
		return rdbms.Floating32
	case "TINYINT":
		return rdbms.Int8
	case "UNSIGNED TINYINT":
		return rdbms.Uint8
	case "SMALLINT":
		return rdbms.Int16
	case "UNSIGNED SMALLINT":
		return rdbms.Uint16
	case "MEDIUMINT", "INT":
		return rdbms.Int32
	case "UNSIGNED MEDIUMINT", "UNSIGNED INT":
		return rdbms.Uint32
	case "BIGINT":
		return rdbms.Int64
	case "UNSIGNED BIGINT":
		return rdbms.Uint64
	case "TEXT", "CHAR", "VARCHAR":
		return rdbms.Str
	case "BLOB", "MEDIUMBLOB", "LONGBLOB", "MEDIUMTEXT", "LONGTEXT", "BINARY", "VARBINARY":
		return rdbms.Binary
	}
	return rdbms.Other
}

func toArgs(params []rdbms.Value) []any {
	args := make([]any, len(params))
	for j, p := range params {
		switch {
		case p.Kind == rdbms.Boolean:
			args[j] = p.Bool
		case p.Kind >= rdbms.Int8 && p.Kind <= rdbms.Int64:
			args[j] = p.Int
		case p.Kind.IsUnsigned():
			args[j] = p.Uint
		case p.Kind == rdbms.Floating32:
			args[j] = float32(p.Float)
		case p.Kind == rdbms.Floating64:
			args[j] = p.Float
		case p.Kind == rdbms.Str:
			args[j] = p.Str
		case p.Kind == rdbms.Binary:
			if p.Bytes == nil {
				args[j] = []byte{}
			} else {
				args[j] = p.Bytes
			}
		default: // db-null
			args[j] = nil
		}
	}
	return args
}

// convert turns a driver value into the column's type, failing as Spin's
// from_value_opt does (value-conversion-failed).
func convert(x any, col rdbms.Column) (rdbms.Value, error) {
	if x == nil {
		return rdbms.Null, nil
	}
	k := col.Type.Kind
	fail := func(err error) (rdbms.Value, error) {
		msg := fmt.Sprintf("Couldn't convert the value %v to a desired type", x)
		if err != nil {
			msg += ": " + err.Error()
		}
		return rdbms.Value{}, &rdbms.Error{Kind: rdbms.ValueConversionFailed, Message: msg, Err: err}
	}
	text := func() string {
		switch y := x.(type) {
		case []byte:
			return string(y)
		case time.Time:
			return y.String()
		}
		return fmt.Sprint(x)
	}
	v := rdbms.Value{Kind: k}
	switch {
	case k == rdbms.Other:
		return rdbms.Value{}, rdbms.Errorf(rdbms.ValueConversionFailed,
			fmt.Sprintf("Cannot convert value %q in column %s data type Other", text(), col.Name))
	case k == rdbms.Binary:
		b, ok := x.([]byte)
		if !ok {
			return fail(nil)
		}
		v.Bytes = append([]byte{}, b...)
	case k == rdbms.Str:
		b, ok := x.([]byte)
		if !ok || !utf8.Valid(b) {
			return fail(nil)
		}
		v.Str = string(b)
	case k == rdbms.Floating32 || k == rdbms.Floating64:
		bits := 64
		if k == rdbms.Floating32 {
			bits = 32
		}
		f, err := strconv.ParseFloat(text(), bits)
		if err != nil {
			return fail(err)
		}
		v.Float = f
	case k.IsUnsigned():
		n, err := strconv.ParseUint(text(), 10, unsignedBits(k))
		if err != nil {
			return fail(err)
		}
		v.Uint = n
	default: // signed integers
		n, err := strconv.ParseInt(text(), 10, signedBits(k))
		if err != nil {
			return fail(err)
		}
		v.Int = n
	}
	return v, nil
}

func unsignedBits(k rdbms.Kind) int { return 8 << (k - rdbms.Uint8) }

func signedBits(k rdbms.Kind) int { return 8 << (k - rdbms.Int8) }
