package sqlite

import (
	"context"
	"testing"
)

// BenchmarkMessageInsert is one message's work in the sqlite-log example:
// open the default database, create the table if needed, insert a row,
// close; in a file (the state directory: each commit syncs the rollback
// journal, as with Spin's rusqlite defaults) and in memory.
func BenchmarkMessageInsert(b *testing.B) {
	b.Run("file", func(b *testing.B) { benchInsert(b, Config{StateDir: b.TempDir()}) })
	b.Run("memory", func(b *testing.B) { benchInsert(b, Config{}) })
}

func benchInsert(b *testing.B, cfg Config) {
	ctx := context.Background()
	m, _ := New(cfg)
	a := m.Component([]string{DefaultLabel}, 0)
	payload := []Value{{Kind: Blob, Blob: make([]byte, 64)}}
	for b.Loop() {
		i := a.NewInstance()
		h, err := i.Open(DefaultLabel)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := i.Execute(ctx, h, "CREATE TABLE IF NOT EXISTS m (id INTEGER PRIMARY KEY, p BLOB)", nil); err != nil {
			b.Fatal(err)
		}
		if _, err := i.Execute(ctx, h, "INSERT INTO m (p) VALUES (?)", payload); err != nil {
			b.Fatal(err)
		}
		i.Close()
	}
}

// BenchmarkSelect1000 reads 1000 rows of every value type on one
// connection (the conversion cost, without lowering into a guest).
func BenchmarkSelect1000(b *testing.B) {
	ctx := context.Background()
	m, _ := New(Config{})
	i := m.Component([]string{DefaultLabel}, 0).NewInstance()
	defer i.Close()
	h, _ := i.Open(DefaultLabel)
	i.Execute(ctx, h, "CREATE TABLE t (i, r, s, b, n)", nil)
	i.Execute(ctx, h, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 1000) INSERT INTO t SELECT x, x/3.0, 'text ' || x, randomblob(16), NULL FROM c", nil)
	for b.Loop() {
		r, err := i.Execute(ctx, h, "SELECT * FROM t", nil)
		if err != nil || len(r.Rows) != 1000 {
			b.Fatal(err)
		}
	}
}
