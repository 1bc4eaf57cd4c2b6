package pg

import (
	"context"
	"maps"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"

	"github.com/redspin/redspin/internal/spinhost/allowedhosts"
	"github.com/redspin/redspin/internal/spinhost/rdbms"
	"github.com/redspin/redspin/internal/testutil/dbserver"
	"github.com/redspin/redspin/internal/testutil/spanrec"
)

func TestMain(m *testing.M) { dbserver.Main(m) }

func newInstance(t *testing.T, cfg Config) *Instance {
	t.Helper()
	if cfg.Component == "" {
		cfg.Component = "c"
	}
	i := New(cfg).NewInstance()
	t.Cleanup(func() { i.Close() })
	return i
}

// open connects to the shared server and gives the test its own schema.
func open(t *testing.T, i *Instance, srv *dbserver.Server) uint32 {
	t.Helper()
	h, err := i.Open(context.Background(), srv.URL("postgres"))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return h
}

func exec(t *testing.T, i *Instance, h uint32, stmt string, params ...rdbms.Value) uint64 {
	t.Helper()
	n, err := i.Execute(context.Background(), h, stmt, params)
	if err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	return n
}

func query(t *testing.T, i *Instance, h uint32, stmt string, params ...rdbms.Value) *rdbms.RowSet {
	t.Helper()
	rs, err := i.Query(context.Background(), h, stmt, params)
	if err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	return rs
}

func b(n int64, excl bool) *rdbms.Bound { return &rdbms.Bound{Int: n, Exclusive: excl} }

// TestRoundTripEveryType writes one parameter of every 4.x case into a
// column of the matching type and reads it back, with column types.
func TestRoundTripEveryType(t *testing.T) {
	srv := dbserver.Postgres(t)
	i := newInstance(t, Config{Config: rdbms.Config{Allowed: allowedhosts.MustParse("postgres://127.0.0.1:*")}})
	h := open(t, i, srv)
	cases := []struct {
		sqlType string
		in      rdbms.Value
		want    rdbms.Value // zero = in
		col     rdbms.DataType
	}{
		{"boolean", rdbms.Value{Kind: rdbms.Boolean, Bool: true}, rdbms.Value{}, rdbms.DataType{Kind: rdbms.Boolean}},
		{"int2", rdbms.Value{Kind: rdbms.Int16, Int: -32768}, rdbms.Value{}, rdbms.DataType{Kind: rdbms.Int16}},
		{"int4", rdbms.Value{Kind: rdbms.Int32, Int: 2147483647}, rdbms.Value{}, rdbms.DataType{Kind: rdbms.Int32}},
		{"int8", rdbms.Value{Kind: rdbms.Int64, Int: -9223372036854775808}, rdbms.Value{}, rdbms.DataType{Kind: rdbms.Int64}},
		{"float4", rdbms.Value{Kind: rdbms.Floating32, Float: 1.5}, rdbms.Value{}, rdbms.DataType{Kind: rdbms.Floating32}},
		{"float8", rdbms.Value{Kind: rdbms.Floating64, Float: -2.25e300}, rdbms.Value{}, rdbms.DataType{Kind: rdbms.Floating64}},
		{"text", rdbms.Value{Kind: rdbms.Str, Str: "héllo"}, rdbms.Value{}, rdbms.DataType{Kind: rdbms.Str}},
		{"varchar(10)", rdbms.Value{Kind: rdbms.Str, Str: "v"}, rdbms.Value{}, rdbms.DataType{Kind: rdbms.Str}},
		{"bytea", rdbms.Value{Kind: rdbms.Binary, Bytes: []byte{0, 1, 255}}, rdbms.Value{}, rdbms.DataType{Kind: rdbms.Binary}},
		{"date", rdbms.Value{Kind: rdbms.Date, Date: rdbms.CalendarDate{Year: 2024, Month: 2, Day: 29}}, rdbms.Value{}, rdbms.DataType{Kind: rdbms.Date}},
		{"time", rdbms.Value{Kind: rdbms.Time, Time: rdbms.TimeOfDay{Hour: 23, Minute: 59, Second: 58, Nanosecond: 123456000}}, rdbms.Value{}, rdbms.DataType{Kind: rdbms.Time}},
		{"timestamp", rdbms.Value{Kind: rdbms.Datetime, Date: rdbms.CalendarDate{Year: 1999, Month: 12, Day: 31}, Time: rdbms.TimeOfDay{Hour: 1, Minute: 2, Second: 3, Nanosecond: 4000}}, rdbms.Value{}, rdbms.DataType{Kind: rdbms.Datetime}},
		{"timestamptz", rdbms.Value{Kind: rdbms.Timestamp, Int: 86400 + 3661},
			rdbms.Value{Kind: rdbms.Datetime, Date: rdbms.CalendarDate{Year: 1970, Month: 1, Day: 2}, Time: rdbms.TimeOfDay{Hour: 1, Minute: 1, Second: 1}}, rdbms.DataType{Kind: rdbms.Datetime}},
		{"uuid", rdbms.Value{Kind: rdbms.UUID, Str: "{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}"},
			rdbms.Value{Kind: rdbms.UUID, Str: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}, rdbms.DataType{Kind: rdbms.UUID}},
		{"jsonb", rdbms.Value{Kind: rdbms.JSONB, Bytes: []byte(`{"b": [1, 2.50, "<x>"], "a": null}`)},
			rdbms.Value{Kind: rdbms.JSONB, Bytes: []byte(`{"a":null,"b":[1,2.50,"<x>"]}`)}, rdbms.DataType{Kind: rdbms.JSONB}},
		{"numeric", rdbms.Value{Kind: rdbms.Decimal, Str: "-123.4500"}, rdbms.Value{}, rdbms.DataType{Kind: rdbms.Decimal}},
		{"int4range", rdbms.Value{Kind: rdbms.RangeInt32, Lower: b(1, false), Upper: b(5, false)},
			rdbms.Value{Kind: rdbms.RangeInt32, Lower: b(1, false), Upper: b(6, true)}, rdbms.DataType{Kind: rdbms.RangeInt32}},
		{"int8range", rdbms.Value{Kind: rdbms.RangeInt64, Lower: nil, Upper: b(1<<40, true)}, rdbms.Value{}, rdbms.DataType{Kind: rdbms.RangeInt64}},
		{"numrange", rdbms.Value{Kind: rdbms.RangeDecimal, Lower: &rdbms.Bound{Str: "1.5"}, Upper: &rdbms.Bound{Str: "2.25", Exclusive: true}}, rdbms.Value{}, rdbms.DataType{Kind: rdbms.RangeDecimal}},
		{"int4[]", rdbms.Value{Kind: rdbms.ArrayInt32, Array: []rdbms.Elem{{Int: 1}, {Null: true}, {Int: -3}}}, rdbms.Value{}, rdbms.DataType{Kind: rdbms.ArrayInt32}},
		{"int8[]", rdbms.Value{Kind: rdbms.ArrayInt64, Array: []rdbms.Elem{{Int: 1 << 50}}}, rdbms.Value{}, rdbms.DataType{Kind: rdbms.ArrayInt64}},
		{"numeric[]", rdbms.Value{Kind: rdbms.ArrayDecimal, Array: []rdbms.Elem{{Str: "0.1"}, {Null: true}}}, rdbms.Value{}, rdbms.DataType{Kind: rdbms.ArrayDecimal}},
		{"text[]", rdbms.Value{Kind: rdbms.ArrayStr, Array: []rdbms.Elem{{Str: "a"}, {Null: true}, {Str: ""}}}, rdbms.Value{}, rdbms.DataType{Kind: rdbms.ArrayStr}},
		{"interval", rdbms.Value{Kind: rdbms.Interval, Interval: rdbms.IntervalValue{Micros: 1500000, Days: -2, Months: 14}}, rdbms.Value{}, rdbms.DataType{Kind: rdbms.Interval}},
		{"inet", rdbms.Value{Kind: rdbms.Str, Str: "10.0.0.1"}, rdbms.Value{Kind: rdbms.Unsupported, Bytes: []byte{2, 32, 0, 4, 10, 0, 0, 1}}, rdbms.DataType{Kind: rdbms.Other, Name: "inet"}},
	}
	exec(t, i, h, "DROP TABLE IF EXISTS every_type")
	var cols []string
	for j, c := range cases {
		cols = append(cols, "c"+itoa(j)+" "+c.sqlType)
	}
	exec(t, i, h, "CREATE TABLE every_type ("+strings.Join(cols, ", ")+")")
	for j, c := range cases {
		stmt := "INSERT INTO every_type (c" + itoa(j) + ") VALUES ($1)"
		if c.sqlType == "inet" {
			stmt = "INSERT INTO every_type (c" + itoa(j) + ") VALUES ($1::text::inet)"
		}
		if n := exec(t, i, h, stmt, c.in); n != 1 {
			t.Fatalf("%s: inserted %d rows", c.sqlType, n)
		}
		rs := query(t, i, h, "SELECT c"+itoa(j)+" FROM every_type WHERE c"+itoa(j)+" IS NOT NULL")
		want := c.want
		if reflect.DeepEqual(want, rdbms.Value{}) {
			want = c.in
		}
		if len(rs.Rows) != 1 || !reflect.DeepEqual(rs.Rows[0][0], want) {
			t.Errorf("%s: got %+v, want %+v", c.sqlType, rs.Rows, want)
		}
		if !reflect.DeepEqual(rs.Columns[0].Type, c.col) || rs.Columns[0].Name != "c"+itoa(j) {
			t.Errorf("%s: column %+v, want %+v", c.sqlType, rs.Columns[0], c.col)
		}
	}
	// NULLs come back as db-null in every column.
	rs := query(t, i, h, "SELECT * FROM every_type WHERE c0 IS NOT NULL")
	for j, v := range rs.Rows[0][1:] {
		if v.Kind != rdbms.DbNull {
			t.Errorf("column %d: %+v, want db-null", j+1, v)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func wantErr(t *testing.T, err error, kind rdbms.ErrKind, msgPart string) *rdbms.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s error, got none", kind)
	}
	if k := rdbms.KindOf(err); k != kind || !strings.Contains(rdbms.MessageOf(err), msgPart) {
		t.Fatalf("want %s containing %q, got %s: %q", kind, msgPart, k, rdbms.MessageOf(err))
	}
	var e *rdbms.Error
	_ = asErr(err, &e)
	return e
}

func TestErrors(t *testing.T) {
	srv := dbserver.Postgres(t)
	ctx := context.Background()
	i := newInstance(t, Config{Config: rdbms.Config{Allowed: allowedhosts.MustParse("postgres://127.0.0.1:*")}})
	h := open(t, i, srv)

	_, err := i.Query(ctx, h, "SELECT * FROM no_such_table", nil)
	e := wantErr(t, err, rdbms.QueryFailed, `relation "no_such_table" does not exist`)
	if e.DB == nil || e.DB.Code != "42P01" || e.DB.Severity != "ERROR" || e.DB.Message != `relation "no_such_table" does not exist` {
		t.Fatalf("db error %+v", e.DB)
	}
	exec(t, i, h, "DROP TABLE IF EXISTS uniq; CREATE TABLE uniq (k int PRIMARY KEY)")
	exec(t, i, h, "INSERT INTO uniq VALUES (1)")
	_, err = i.Execute(ctx, h, "INSERT INTO uniq VALUES ($1)", []rdbms.Value{{Kind: rdbms.Int32, Int: 1}})
	e = wantErr(t, err, rdbms.QueryFailed, "duplicate key")
	if e.DB == nil || e.DB.Code != "23505" || e.DB.Detail == nil || !strings.Contains(*e.DB.Detail, "(k)=(1)") {
		t.Fatalf("db error %+v", e.DB)
	}
	if !reflect.DeepEqual(extra(e.DB, "constraint"), "uniq_pkey") || extra(e.DB, "table") != "uniq" {
		t.Fatalf("extras %v", e.DB.Extras)
	}

	// Bad parameters: bad-parameter in query, value-conversion-failed in execute.
	badUUID := []rdbms.Value{{Kind: rdbms.UUID, Str: "nope"}}
	_, err = i.Query(ctx, h, "SELECT $1::uuid", badUUID)
	wantErr(t, err, rdbms.BadParameter, "invalid UUID nope")
	_, err = i.Execute(ctx, h, "SELECT $1::uuid", badUUID)
	wantErr(t, err, rdbms.ValueConversionFailed, "invalid UUID nope")
	for _, p := range []rdbms.Value{
		{Kind: rdbms.Date, Date: rdbms.CalendarDate{Year: 2023, Month: 2, Day: 29}},
		{Kind: rdbms.Time, Time: rdbms.TimeOfDay{Hour: 24}},
		{Kind: rdbms.JSONB, Bytes: []byte("{")},
		{Kind: rdbms.Decimal, Str: "1e5"},
		{Kind: rdbms.ArrayDecimal, Array: []rdbms.Elem{{Str: "x"}}},
	} {
		_, err = i.Query(ctx, h, "SELECT $1", []rdbms.Value{p})
		wantErr(t, err, rdbms.BadParameter, "invalid")
	}
	_, err = i.Query(ctx, h, "SELECT $1::int8", []rdbms.Value{{Kind: rdbms.Uint8, Uint: 1}})
	wantErr(t, err, rdbms.ValueConversionFailed, "Postgres does not support unsigned integers")

	// A dropped handle is connection-failed("no connection found").
	i.Drop(h)
	_, err = i.Query(ctx, h, "SELECT 1", nil)
	wantErr(t, err, rdbms.ConnectionFailed, "no connection found")

	// Wrong database: connection-failed with the server's reason.
	_, err = i.Open(ctx, srv.URL("no_such_db"))
	wantErr(t, err, rdbms.ConnectionFailed, `database "no_such_db" does not exist`)

	// No user in the address: none is sent, whatever PGUSER says (the
	// server's own user would log in), and the server refuses.
	t.Setenv("PGUSER", srv.User)
	_, err = i.Open(ctx, strings.Replace(srv.URL("postgres"), srv.User+"@", "", 1))
	wantErr(t, err, rdbms.ConnectionFailed, "no PostgreSQL user name specified in startup packet")
}

func extra(db *rdbms.DBError, k string) string {
	for _, x := range db.Extras {
		if x[0] == k {
			return x[1]
		}
	}
	return ""
}

func TestAllowedHostsCheckedBeforeConnecting(t *testing.T) {
	ctx := context.Background()
	i := newInstance(t, Config{Config: rdbms.Config{Allowed: allowedhosts.MustParse("postgres://db.example:5432", "postgres://127.0.0.1:1")}})
	for _, c := range []struct{ addr, msg string }{
		{"postgres://user:secret@10.1.2.3/db", "address postgres://10.1.2.3:5432 is not permitted"},
		{"host=db.example,10.9.9.9 port=5432,5433 user=x", "address postgres://10.9.9.9:5433 is not permitted"},
		{"host=db.example,10.9.9.9 port=5432 user=x", "address postgres://10.9.9.9:5432 is not permitted"},
		{"host=/var/run/postgresql user=x", "Unix sockets are not supported on WebAssembly"},
		{"postgres:///db?host=/tmp", "Unix sockets are not supported on WebAssembly"},
		{"not a connection string", "cannot parse"},
	} {
		_, err := i.Open(ctx, c.addr)
		wantErr(t, err, rdbms.ConnectionFailed, c.msg)
		if strings.Contains(rdbms.MessageOf(err), "secret") {
			t.Fatalf("%s: message leaks the password: %v", c.addr, err)
		}
	}
	// Allowed: the connection is attempted (and refused by the closed port).
	_, err := i.Open(ctx, "postgres://127.0.0.1:1/db?sslmode=disable")
	wantErr(t, err, rdbms.ConnectionFailed, "connect")
}

func TestConnectionCapAndClose(t *testing.T) {
	srv := dbserver.Postgres(t)
	ctx := context.Background()
	i := newInstance(t, Config{Config: rdbms.Config{Allowed: allowedhosts.MustParse("postgres://127.0.0.1:*"), MaxConnections: 2}, MaxIdlePerAddress: -1})
	h1, h2 := open(t, i, srv), open(t, i, srv)
	_, err := i.Open(ctx, srv.URL("postgres"))
	wantErr(t, err, rdbms.ConnectionFailed, "too many connections")
	i.Drop(h1)
	h3 := open(t, i, srv)
	// The server sees this message's backends until the instance closes.
	probe := newInstance(t, Config{Config: rdbms.Config{Allowed: allowedhosts.MustParse("postgres://127.0.0.1:*")}})
	ph := open(t, probe, srv)
	pids := query(t, i, h2, "SELECT pg_backend_pid()").Rows[0][0].Int
	pid3 := query(t, i, h3, "SELECT pg_backend_pid()").Rows[0][0].Int
	i.Close()
	waitGone(t, probe, ph, pids, pid3)
	if _, err := i.Open(ctx, srv.URL("postgres")); err == nil {
		t.Fatal("open after Close succeeded")
	}
}

func waitGone(t *testing.T, probe *Instance, h uint32, pids ...int64) {
	t.Helper()
	for range 500 {
		rs := query(t, probe, h, "SELECT count(*)::int8 FROM pg_stat_activity WHERE pid = ANY($1)",
			rdbms.Value{Kind: rdbms.ArrayInt64, Array: []rdbms.Elem{{Int: pids[0]}, {Int: pids[1]}}})
		if rs.Rows[0][0].Int == 0 {
			return
		}
		sleepShort()
	}
	t.Fatalf("backends %v still connected after Close", pids)
}

// TestPoolResetsSessions: a connection kept between messages is reused with
// its session state reset; one left inside a transaction is not reused.
func TestPoolResetsSessions(t *testing.T) {
	srv := dbserver.Postgres(t)
	c := New(Config{Config: rdbms.Config{Component: "c", Allowed: allowedhosts.MustParse("postgres://127.0.0.1:*")}})
	defer c.Close()
	pid := func(i *Instance, h uint32) int64 {
		return query(t, i, h, "SELECT pg_backend_pid()::int8").Rows[0][0].Int
	}

	m1 := c.NewInstance()
	h := open(t, m1, srv)
	first := pid(m1, h)
	exec(t, m1, h, "SET application_name = 'leaky'; CREATE TEMP TABLE tmp_leak (x int); PREPARE p1 AS SELECT 1")
	query(t, m1, h, "SELECT $1::int4", rdbms.Value{Kind: rdbms.Int32, Int: 1}) // a cached pgx statement
	m1.Close()
	if n := c.pool.idleCount(); n != 1 {
		t.Fatalf("%d idle connections, want 1", n)
	}

	m2 := c.NewInstance()
	h = open(t, m2, srv)
	if got := pid(m2, h); got != first {
		t.Fatalf("backend %d, want the pooled %d", got, first)
	}
	rs := query(t, m2, h, "SELECT current_setting('application_name'), (SELECT count(*)::int8 FROM pg_prepared_statements WHERE name = 'p1'), to_regclass('tmp_leak')::text")
	if r := rs.Rows[0]; r[0].Str != "" || r[1].Int != 0 || r[2].Kind != rdbms.DbNull {
		t.Fatalf("session state survived: %+v", r)
	}
	query(t, m2, h, "SELECT $1::int4", rdbms.Value{Kind: rdbms.Int32, Int: 2}) // the statement cache was reset too
	exec(t, m2, h, "BEGIN")
	m2.Close()
	if n := c.pool.idleCount(); n != 0 {
		t.Fatalf("a connection inside a transaction was pooled (%d idle)", n)
	}
	m3 := c.NewInstance()
	defer m3.Close()
	if got := pid(m3, open(t, m3, srv)); got == first {
		t.Fatal("the connection left in a transaction was reused")
	}
}

func TestResultLimit(t *testing.T) {
	srv := dbserver.Postgres(t)
	i := newInstance(t, Config{Config: rdbms.Config{Allowed: allowedhosts.MustParse("postgres://127.0.0.1:*"), MaxResultBytes: 10000}})
	h := open(t, i, srv)
	_, err := i.Query(context.Background(), h, "SELECT repeat('x', 100) FROM generate_series(1, 1000)", nil)
	wantErr(t, err, rdbms.QueryFailed, "query result exceeds limit of 10000 bytes")
	// The connection stays usable.
	if rs := query(t, i, h, "SELECT 1::int4"); rs.Rows[0][0].Int != 1 {
		t.Fatalf("after limit: %+v", rs)
	}
}

// TestTLS: sslmode other than disable verifies the server against the
// system roots, plus the builder's set-ca-root; prefer falls back to plain
// text when TLS fails, require does not.
func TestTLS(t *testing.T) {
	srv := dbserver.Postgres(t)
	ctx := context.Background()
	ca, err := os.ReadFile(srv.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	i := newInstance(t, Config{Config: rdbms.Config{Allowed: allowedhosts.MustParse("postgres://127.0.0.1:*")}})
	url := func(mode string) string {
		return strings.Replace(srv.URL("postgres"), "sslmode=disable", "sslmode="+mode, 1)
	}
	ssl := func(h uint32) bool {
		return query(t, i, h, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Rows[0][0].Bool
	}
	if h := open(t, i, srv); ssl(h) {
		t.Fatal("sslmode=disable used TLS")
	}
	_, err = i.Open(ctx, url("require"))
	wantErr(t, err, rdbms.ConnectionFailed, "certificate signed by unknown authority")
	h, err := i.Open(ctx, url("prefer"))
	if err != nil || ssl(h) {
		t.Fatalf("prefer without the CA: %v (want a plain-text fallback)", err)
	}
	for _, mode := range []string{"require", "verify-full", "prefer"} {
		b, err := i.NewBuilder(url(mode))
		if err != nil {
			t.Fatal(err)
		}
		if err := i.SetCARoot(b, string(ca)); err != nil {
			t.Fatal(err)
		}
		h, err := i.Build(ctx, b)
		if err != nil {
			t.Fatalf("%s with set-ca-root: %v", mode, err)
		}
		if !ssl(h) {
			t.Fatalf("%s with set-ca-root: not TLS", mode)
		}
	}
}

// TestHostCredentialsNotBorrowed: PGPASSWORD (and ~/.pgpass, service
// files) of the host process never fill in a guest's password.
func TestHostCredentialsNotBorrowed(t *testing.T) {
	t.Setenv("PGPASSWORD", "host-secret")
	c := New(Config{Config: rdbms.Config{Component: "c", Allowed: allowedhosts.MustParse("postgres://127.0.0.1:*")}})
	for addr, want := range map[string]string{
		"postgres://u@127.0.0.1/db":              "",
		"postgres://u:guest@127.0.0.1/db":        "guest",
		"postgres://u@127.0.0.1/db?password=q":   "q",
		"host=127.0.0.1 user=u":                  "",
		"host=127.0.0.1 user=u password=kv":      "kv",
		"host=127.0.0.1 user=u password = 'a b'": "a b",
	} {
		cfg, err := c.config(addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Password != want {
			t.Errorf("%s: password %q, want %q", addr, cfg.Password, want)
		}
	}
}

// TestNoEnvironmentDefaults: as Spin's driver, an address's missing
// settings take Spin's defaults, never the redspin process's PG*
// environment: a missing host fails the open, a missing user is sent as
// none (the server refuses it), as in Spin.
func TestNoEnvironmentDefaults(t *testing.T) {
	for k, v := range map[string]string{"PGHOST": "10.9.9.9", "PGPORT": "6543", "PGUSER": "hostuser", "PGDATABASE": "hostdb",
		"PGSSLMODE": "disable", "PGAPPNAME": "hostapp", "PGOPTIONS": "-c work_mem=1GB", "PGTZ": "Asia/Tokyo",
		"PGTARGETSESSIONATTRS": "read-only", "PGSSLROOTCERT": "/nonexistent/root.crt"} {
		t.Setenv(k, v)
	}
	c := New(Config{Config: rdbms.Config{Component: "c", Allowed: allowedhosts.MustParse("postgres://127.0.0.1:*")}})
	for addr, user := range map[string]string{"postgres://u@127.0.0.1/": "u", "host=127.0.0.1 user=u": "u",
		"postgresql://u@127.0.0.1?connect_timeout=3": "u", "postgres://127.0.0.1": ""} {
		cfg, err := c.config(addr, nil)
		if err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
		if cfg.Host != "127.0.0.1" || cfg.Port != 5432 || cfg.User != user || cfg.Database != "" || len(cfg.RuntimeParams) != 0 ||
			cfg.ValidateConnect != nil || cfg.TLSConfig == nil || len(cfg.Fallbacks) != 1 || cfg.Fallbacks[0].TLSConfig != nil {
			t.Errorf("%s: %+v (fallbacks %d)", addr, cfg, len(cfg.Fallbacks))
		}
	}
	// What the address gives wins.
	cfg, err := c.config("postgres://u@127.0.0.1:7/db?sslmode=disable&application_name=a&target_session_attrs=read-write", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Port != 7 || cfg.Database != "db" || cfg.TLSConfig != nil || cfg.RuntimeParams["application_name"] != "a" || cfg.ValidateConnect == nil {
		t.Errorf("given settings: %+v", cfg)
	}
	for addr, want := range map[string]string{
		"postgres:///db?user=u":  "invalid configuration: host missing",
		"user=u dbname=x":        "invalid configuration: host missing",
		"postgres://10.0.0.1/db": "address postgres://10.0.0.1:5432 is not permitted",
	} {
		_, err := c.config(addr, nil)
		wantErr(t, err, rdbms.ConnectionFailed, want)
	}
}

// given finds the settings an address gives, whatever their spelling.
func TestGiven(t *testing.T) {
	for addr, want := range map[string]string{
		"postgres://u:p@h1:1,h2/d?sslmode=disable&x=1": "database host password port sslmode user x",
		"postgresql://h":             "host",
		"postgres://@:5/":            "port",
		"postgres://[::1]/?dbname=d": "database host",
		"host=h  user = 'a b'  password='it\\'s' dbname=d": "database host password user",
		"port=1 sslmode": "port sslmode",
	} {
		if got := slices.Sorted(maps.Keys(given(addr))); strings.Join(got, " ") != want {
			t.Errorf("%s: %q, want %q", addr, got, want)
		}
	}
}

func TestSetCARoot(t *testing.T) {
	i := newInstance(t, Config{Config: rdbms.Config{Allowed: allowedhosts.MustParse("postgres://127.0.0.1:*")}})
	b, err := i.NewBuilder("postgres://127.0.0.1:1/db")
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, i.SetCARoot(b, "not a certificate"), rdbms.OtherError, "invalid root certificate")
	_, err = i.Build(context.Background(), b)
	wantErr(t, err, rdbms.ConnectionFailed, "")
	nb, _ := i.NewBuilder("postgres://10.0.0.1/db")
	_, err = i.Build(context.Background(), nb)
	wantErr(t, err, rdbms.ConnectionFailed, "address postgres://10.0.0.1:5432 is not permitted")
}

// Inside a traced message each statement is a client span with the
// database conventions and the server's address; parameters are not
// recorded, and a failed statement has status Error.
func TestSpans(t *testing.T) {
	srv := dbserver.Postgres(t)
	rec := spanrec.Start(t)
	i := newInstance(t, Config{Config: rdbms.Config{Allowed: allowedhosts.MustParse("postgres://127.0.0.1:*")}})
	h := open(t, i, srv)
	if _, err := i.Query(rec.Ctx, h, "select $1::text", []rdbms.Value{{Kind: rdbms.Str, Str: "secret"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := i.Execute(rec.Ctx, h, "DELETE FROM no_such_table", nil); err == nil {
		t.Fatal("statement on a missing table succeeded")
	}
	want := map[attribute.Key]string{"db.system.name": "postgresql", "server.address": "127.0.0.1", "server.port": strconv.Itoa(srv.Port), "db.namespace": "postgres"}
	rec.CheckOKThenFailed(t, "SELECT", "DELETE", want, "secret")
	if got := spanrec.Attrs(rec.Ended()[0])["db.query.text"]; got != "select $1::text" {
		t.Errorf("db.query.text %q", got)
	}
}
