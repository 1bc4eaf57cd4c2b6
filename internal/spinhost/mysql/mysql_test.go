package mysql

import (
	"context"
	"crypto/x509"
	"os"
	"reflect"
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

func newInstance(t *testing.T, maxConns int, entries ...string) *Instance {
	t.Helper()
	l, err := allowedhosts.Parse(entries)
	if err != nil {
		t.Fatal(err)
	}
	i := New(rdbms.Config{Component: "c", Allowed: l, MaxConnections: maxConns}).NewInstance()
	t.Cleanup(func() { i.Close() })
	return i
}

func open(t *testing.T, i *Instance, addr string) uint32 {
	t.Helper()
	h, err := i.Open(context.Background(), addr)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return h
}

func exec(t *testing.T, i *Instance, h uint32, stmt string, params ...rdbms.Value) {
	t.Helper()
	if _, err := i.Execute(context.Background(), h, stmt, params); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

func wantErr(t *testing.T, err error, kind rdbms.ErrKind, msgPart string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s error, got none", kind)
	}
	if k := rdbms.KindOf(err); k != kind || !strings.Contains(rdbms.MessageOf(err), msgPart) {
		t.Fatalf("want %s containing %q, got %s: %q", kind, msgPart, k, rdbms.MessageOf(err))
	}
}

func TestRoundTripEveryType(t *testing.T) {
	srv := dbserver.MariaDB(t)
	i := newInstance(t, 0, "mysql://127.0.0.1:*")
	h := open(t, i, srv.MySQLURL("spin"))
	exec(t, i, h, "DROP TABLE IF EXISTS every_type")
	exec(t, i, h, `CREATE TABLE every_type (
		b BOOLEAN, i8 TINYINT, u8 TINYINT UNSIGNED, i16 SMALLINT, u16 SMALLINT UNSIGNED,
		i24 MEDIUMINT, i32 INT, u32 INT UNSIGNED, i64 BIGINT, u64 BIGINT UNSIGNED,
		f32 FLOAT, f64 DOUBLE, s VARCHAR(20), t TEXT, bin VARBINARY(10), blb BLOB, d DECIMAL(5,2), n INT)`)
	params := []rdbms.Value{
		{Kind: rdbms.Boolean, Bool: true}, {Kind: rdbms.Int8, Int: -128}, {Kind: rdbms.Uint8, Uint: 255},
		{Kind: rdbms.Int16, Int: -32768}, {Kind: rdbms.Uint16, Uint: 65535}, {Kind: rdbms.Int32, Int: -8388608},
		{Kind: rdbms.Int32, Int: -2147483648}, {Kind: rdbms.Uint32, Uint: 4294967295},
		{Kind: rdbms.Int64, Int: -9223372036854775808}, {Kind: rdbms.Uint64, Uint: 18446744073709551615},
		{Kind: rdbms.Floating32, Float: 1.5}, {Kind: rdbms.Floating64, Float: -2.25e300},
		{Kind: rdbms.Str, Str: "héllo"}, {Kind: rdbms.Str, Str: "text"}, {Kind: rdbms.Binary, Bytes: []byte{0, 1, 255}},
		{Kind: rdbms.Binary, Bytes: []byte("blob")}, {Kind: rdbms.Str, Str: "1.25"}, rdbms.Null,
	}
	exec(t, i, h, "INSERT INTO every_type VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", params...)
	want := []rdbms.Value{
		{Kind: rdbms.Int8, Int: 1}, params[1], params[2], params[3], params[4], params[5], params[6], params[7],
		params[8], params[9], params[10], params[11], params[12], params[13], params[14], params[15],
	}
	wantKinds := []rdbms.Kind{rdbms.Int8, rdbms.Int8, rdbms.Uint8, rdbms.Int16, rdbms.Uint16, rdbms.Int32, rdbms.Int32,
		rdbms.Uint32, rdbms.Int64, rdbms.Uint64, rdbms.Floating32, rdbms.Floating64, rdbms.Str, rdbms.Str, rdbms.Binary, rdbms.Binary}
	// Both protocols: text (no parameters) and binary (prepared, with one).
	for _, q := range []struct {
		stmt   string
		params []rdbms.Value
	}{
		{"SELECT b,i8,u8,i16,u16,i24,i32,u32,i64,u64,f32,f64,s,t,bin,blb FROM every_type", nil},
		{"SELECT b,i8,u8,i16,u16,i24,i32,u32,i64,u64,f32,f64,s,t,bin,blb FROM every_type WHERE n IS NULL AND ? = 1", []rdbms.Value{{Kind: rdbms.Int32, Int: 1}}},
	} {
		rs, err := i.Query(context.Background(), h, q.stmt, q.params)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs.Rows) != 1 || !reflect.DeepEqual(rs.Rows[0], want) {
			t.Fatalf("%s:\n got %+v\nwant %+v", q.stmt, rs.Rows, want)
		}
		for j, c := range rs.Columns {
			if c.Type.Kind != wantKinds[j] {
				t.Errorf("column %s: %s, want %s", c.Name, c.Type.Kind, wantKinds[j])
			}
		}
	}
	// NULL in any column, and DECIMAL (other): NULL converts, a value fails.
	rs, err := i.Query(context.Background(), h, "SELECT n, CAST(NULL AS DECIMAL) FROM every_type", nil)
	if err != nil || rs.Rows[0][0].Kind != rdbms.DbNull || rs.Rows[0][1].Kind != rdbms.DbNull || rs.Columns[1].Type.Kind != rdbms.Other {
		t.Fatalf("nulls: %+v, %v", rs, err)
	}
	_, err = i.Query(context.Background(), h, "SELECT d FROM every_type", nil)
	wantErr(t, err, rdbms.ValueConversionFailed, "Cannot convert value \"1.25\" in column d data type Other")
}

// TestTLS: ssl-mode / sslmode other than DISABLED (any case) is TLS,
// verified against the roots (here the test CA).
func TestTLS(t *testing.T) {
	srv := dbserver.MariaDB(t)
	ca, err := os.ReadFile(srv.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca)
	l, _ := allowedhosts.Parse([]string{"mysql://127.0.0.1:*"})
	i := New(rdbms.Config{Component: "c", Allowed: l, RootCAs: roots}).NewInstance()
	defer i.Close()
	for q, want := range map[string]bool{"": false, "?ssl-mode=DISABLED": false, "?sslmode=disabled": false,
		"?ssl-mode=REQUIRED": true, "?SslMode=VERIFY_CA&pool_max=10": true} {
		h := open(t, i, srv.MySQLURL("spin")+q)
		rs, err := i.Query(context.Background(), h, "SHOW SESSION STATUS LIKE 'Ssl_cipher'", nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := rs.Rows[0][1].Str != ""; got != want {
			t.Errorf("%q: TLS %v, want %v", q, got, want)
		}
	}
}

func TestErrorsAndAllowedHosts(t *testing.T) {
	srv := dbserver.MariaDB(t)
	ctx := context.Background()
	i := newInstance(t, 2, "mysql://127.0.0.1:*")
	h := open(t, i, srv.MySQLURL("spin"))
	_, err := i.Query(ctx, h, "SELECT * FROM no_such_table", nil)
	wantErr(t, err, rdbms.QueryFailed, "doesn't exist")
	_, err = i.Execute(ctx, h, "BOGUS", nil)
	wantErr(t, err, rdbms.QueryFailed, "syntax")

	_, err = i.Open(ctx, "mysql://spin:topsecret@10.1.2.3/db")
	wantErr(t, err, rdbms.ConnectionFailed, "address mysql://spin:xxxxx@10.1.2.3/db is not permitted")
	_, err = i.Open(ctx, strings.Replace(srv.MySQLURL("spin"), ":spin@", ":wrong@", 1))
	wantErr(t, err, rdbms.ConnectionFailed, "Access denied")
	_, err = i.Open(ctx, srv.MySQLURL("spin")+"?ssl-mode=REQUIRED")
	wantErr(t, err, rdbms.ConnectionFailed, "certificate signed by unknown authority")

	h2 := open(t, i, srv.MySQLURL("spin"))
	_, err = i.Open(ctx, srv.MySQLURL("spin"))
	wantErr(t, err, rdbms.ConnectionFailed, "too many connections")
	// Session state stays with its handle.
	exec(t, i, h2, "SET @x = 42")
	rs, err := i.Query(ctx, h2, "SELECT @x + 0", nil)
	if err != nil || rs.Rows[0][0].Int != 42 {
		t.Fatalf("session variable: %+v %v", rs, err)
	}
	i.Drop(h)
	_, err = i.Query(ctx, h, "SELECT 1", nil)
	wantErr(t, err, rdbms.ConnectionFailed, "no connection found")
}

// Inside a traced message each statement is a client span with the
// database conventions and the server's address; parameters are not
// recorded, and a failed statement has status Error.
func TestSpans(t *testing.T) {
	srv := dbserver.MariaDB(t)
	rec := spanrec.Start(t)
	i := newInstance(t, 0, "mysql://127.0.0.1:*")
	h := open(t, i, srv.MySQLURL("spin"))
	if _, err := i.Query(rec.Ctx, h, "SELECT ?", []rdbms.Value{{Kind: rdbms.Str, Str: "secret"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := i.Execute(rec.Ctx, h, "DELETE FROM no_such_table", nil); err == nil {
		t.Fatal("statement on a missing table succeeded")
	}
	want := map[attribute.Key]string{"db.system.name": "mysql", "server.address": "127.0.0.1", "server.port": strconv.Itoa(srv.Port), "db.namespace": "spin"}
	rec.CheckOKThenFailed(t, "SELECT", "DELETE", want, "secret")
}
