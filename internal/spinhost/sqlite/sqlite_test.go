package sqlite

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"

	"github.com/redspin/redspin/internal/testutil/spanrec"
)

func newInstance(t *testing.T, cfg Config, labels ...string) *Instance {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	i := m.Component(labels, 0).NewInstance()
	t.Cleanup(func() { i.Close() })
	return i
}

func wantKind(t *testing.T, err error, k Kind) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Kind != k {
		t.Fatalf("err = %v, want %s", err, k)
	}
}

func TestRoundTripEveryValue(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	i := newInstance(t, Config{StateDir: dir}, "default")
	h, err := i.Open("default")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := i.Execute(ctx, h, "CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n)", nil); err != nil {
		t.Fatal(err)
	}
	in := []Value{{Kind: Integer, Int: math.MinInt64}, {Kind: Real, Real: -1.5}, {Kind: Text, Text: "héllo\x00x"}, {Kind: Blob, Blob: []byte{0, 1, 255}}, {Kind: Null}}
	if _, err := i.Execute(ctx, h, "INSERT INTO t VALUES (?, ?, ?, ?, ?)", in); err != nil {
		t.Fatal(err)
	}
	if n, err := i.LastInsertRowid(ctx, h); err != nil || n != 1 {
		t.Fatalf("last-insert-rowid = %d, %v", n, err)
	}
	if n, err := i.Changes(ctx, h); err != nil || n != 1 {
		t.Fatalf("changes = %d, %v", n, err)
	}
	r, err := i.Execute(ctx, h, "SELECT * FROM t", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Columns, []string{"i", "r", "s", "b", "n"}) || len(r.Rows) != 1 || !reflect.DeepEqual(r.Rows[0], in) {
		t.Fatalf("got %+v", r)
	}
	// Empty results still name their columns.
	r, err = i.Execute(ctx, h, "SELECT i AS x FROM t WHERE 0", nil)
	if err != nil || !reflect.DeepEqual(r.Columns, []string{"x"}) || len(r.Rows) != 0 {
		t.Fatalf("empty select = %+v, %v", r, err)
	}
	// The default database is the state directory's file.
	if _, err := os.Stat(filepath.Join(dir, DefaultFile)); err != nil {
		t.Fatal(err)
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	i := newInstance(t, Config{Databases: map[string]Database{"mem": {}}}, "default", "mem")
	_, err := i.Open("other")
	wantKind(t, err, KindAccessDenied)
	_, err = i.Execute(ctx, 42, "SELECT 1", nil)
	wantKind(t, err, KindInvalidConnection)
	h, _ := i.Open("mem")
	_, err = i.Execute(ctx, h, "SELECT * FROM nope", nil)
	wantKind(t, err, KindIO)
	if !strings.Contains(MessageOf(err), "no such table: nope") {
		t.Fatalf("message %q", MessageOf(err))
	}
	// Each open of an in-memory database is a new database, as in Spin.
	if _, err := i.Execute(ctx, h, "CREATE TABLE x (a)", nil); err != nil {
		t.Fatal(err)
	}
	h2, _ := i.Open("mem")
	if _, err := i.Execute(ctx, h2, "SELECT * FROM x", nil); err == nil {
		t.Fatal("second in-memory connection sees the first's table")
	}
	// A state dir that cannot be created: invalid-connection at open.
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o644)
	j := newInstance(t, Config{StateDir: filepath.Join(file, "sub")}, "default")
	_, err = j.Open("default")
	wantKind(t, err, KindInvalidConnection)
	// Undefined labels are found at load.
	m, _ := New(Config{})
	if err := m.Check("comp", []string{"default", "nope"}); err == nil || !strings.Contains(err.Error(), `component "comp" uses SQLite database "nope"`) {
		t.Fatalf("Check = %v", err)
	}
}

func TestConnectionCap(t *testing.T) {
	i := newInstance(t, Config{}, "default")
	for range MaxConnections {
		if _, err := i.Open("default"); err != nil {
			t.Fatal(err)
		}
	}
	_, err := i.Open("default")
	wantKind(t, err, KindIO)
	if MessageOf(err) != "too many connections opened" {
		t.Fatal(err)
	}
	i.Close()
	if i.Len() != 0 {
		t.Fatal("Close left connections")
	}
}

func TestAttach(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	other := filepath.Join(dir, "other.db")
	cfg := Config{Databases: map[string]Database{
		"strict": {Path: filepath.Join(dir, "a.db")},
		"loose":  {Path: filepath.Join(dir, "b.db"), AllowAttachFile: true},
	}}
	i := newInstance(t, cfg, "strict", "loose")
	s, _ := i.Open("strict")
	_, err := i.Execute(ctx, s, "ATTACH DATABASE '"+other+"' AS o", nil)
	wantKind(t, err, KindIO)
	if !strings.Contains(MessageOf(err), "not authorized") {
		t.Fatalf("attach denied with %q", MessageOf(err))
	}
	if _, err := i.Execute(ctx, s, "ATTACH DATABASE ':memory:' AS m", nil); err != nil {
		t.Fatalf("attach :memory: = %v", err)
	}
	l, _ := i.Open("loose")
	if _, err := i.Execute(ctx, l, "ATTACH DATABASE '"+other+"' AS o", nil); err != nil {
		t.Fatalf("attach with allow_attach_file = %v", err)
	}
}

func TestResultCap(t *testing.T) {
	ctx := context.Background()
	m, _ := New(Config{})
	i := m.Component([]string{"default"}, 200).NewInstance()
	defer i.Close()
	h, _ := i.Open("default")
	_, err := i.Execute(ctx, h, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 10) SELECT x FROM c", nil)
	wantKind(t, err, KindIO)
	if MessageOf(err) != "query result exceeds limit of 200 bytes" {
		t.Fatal(err)
	}
}

// Messages run concurrently (--max-concurrency) on one file database: each
// has its own connections, and writers wait for each other's locks.
func TestConcurrentMessages(t *testing.T) {
	ctx := context.Background()
	m, _ := New(Config{StateDir: t.TempDir()})
	a := m.Component([]string{"default"}, 0)
	setup := a.NewInstance()
	h, _ := setup.Open("default")
	if _, err := setup.Execute(ctx, h, "CREATE TABLE m (v INTEGER)", nil); err != nil {
		t.Fatal(err)
	}
	setup.Close()
	const n, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			i := a.NewInstance()
			defer i.Close()
			h, err := i.Open("default")
			if err != nil {
				errs <- err
				return
			}
			for k := range each {
				if _, err := i.Execute(ctx, h, "INSERT INTO m VALUES (?)", []Value{{Kind: Integer, Int: int64(w*each + k)}}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	i := a.NewInstance()
	defer i.Close()
	h, _ = i.Open("default")
	r, err := i.Execute(ctx, h, "SELECT count(*), count(DISTINCT v) FROM m", nil)
	if err != nil || r.Rows[0][0].Int != n*each || r.Rows[0][1].Int != n*each {
		t.Fatalf("rows %+v, %v", r, err)
	}
}

// Inside a traced message each statement is a client span with the
// database conventions; its parameters are not recorded.
func TestSpans(t *testing.T) {
	rec := spanrec.Start(t)
	i := newInstance(t, Config{}, "default")
	h, err := i.Open("default")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := i.Execute(rec.Ctx, h, "select ?", []Value{{Kind: Text, Text: "secret"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := i.Execute(rec.Ctx, h, "SELECT * FROM missing", nil); err == nil {
		t.Fatal("query of a missing table succeeded")
	}
	rec.CheckOKThenFailed(t, "SELECT", "SELECT", map[attribute.Key]string{"db.system.name": "sqlite", "db.operation.name": "SELECT", "db.namespace": "default"}, "secret")
	if got := spanrec.Attrs(rec.Ended()[0])["db.query.text"]; got != "select ?" {
		t.Errorf("db.query.text %q", got)
	}
}
