package kv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Spin's schema, so that a .spin/sqlite_key_value.db written by `spin up`
// is readable and the other way round.
const sqliteSchema = `CREATE TABLE IF NOT EXISTS spin_key_value (
	store TEXT NOT NULL,
	key   TEXT NOT NULL,
	value BLOB NOT NULL,
	PRIMARY KEY (store, key)
)`

// openSQLite opens (creating if needed) the SQLite database at path, or an
// in-memory database when path is "".
func openSQLite(ctx context.Context, path string) (*sql.DB, error) {
	dsn := ":memory:"
	if path != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("create the directory for %q: %w", path, err)
		}
		dsn = "file:" + (&url.URL{Path: path}).EscapedPath() + "?_pragma=busy_timeout(5000)"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	// One connection, as in Spin: SQLite serialises writers anyway, and an
	// in-memory database exists only on its one connection.
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	if _, err := db.ExecContext(ctx, sqliteSchema); err != nil {
		_ = db.Close()
		if path != "" {
			return nil, fmt.Errorf("open SQLite key-value database %q: %w", path, err)
		}
		return nil, fmt.Errorf("open in-memory SQLite key-value database: %w", err)
	}
	return db, nil
}

// sqliteStore is one label's rows in a shared SQLite database.
type sqliteStore struct {
	db       *sql.DB
	name     string
	maxBytes int
}

func (s *sqliteStore) Get(ctx context.Context, key string) ([]byte, bool, error) {
	var v []byte
	err := s.db.QueryRowContext(ctx, `SELECT value FROM spin_key_value WHERE store = ? AND key = ?`, s.name, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, otherErr(err)
	}
	if len(v) > s.maxBytes {
		return nil, false, tooLarge(s.maxBytes)
	}
	if v == nil {
		v = []byte{}
	}
	return v, true, nil
}

func (s *sqliteStore) Set(ctx context.Context, key string, value []byte) error {
	if value == nil {
		value = []byte{} // the column is NOT NULL
	}
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO spin_key_value (store, key, value) VALUES (?, ?, ?)
		 ON CONFLICT (store, key) DO UPDATE SET value = excluded.value`, s.name, key, value)
	return otherErr(err)
}

func (s *sqliteStore) Delete(ctx context.Context, key string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM spin_key_value WHERE store = ? AND key = ?`, s.name, key)
	return otherErr(err)
}

func (s *sqliteStore) Exists(ctx context.Context, key string) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM spin_key_value WHERE store = ? AND key = ? LIMIT 1`, s.name, key).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, otherErr(err)
}

func (s *sqliteStore) Keys(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT key FROM spin_key_value WHERE store = ?`, s.name)
	if err != nil {
		return nil, otherErr(err)
	}
	defer rows.Close()
	keys := []string{}
	size := 0
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, otherErr(err)
		}
		if size += len(k) + 16; size > s.maxBytes {
			return nil, tooLarge(s.maxBytes)
		}
		keys = append(keys, k)
	}
	return keys, otherErr(rows.Err())
}

func tooLarge(limit int) error {
	return &Error{Kind: KindOther, Message: fmt.Sprintf("query result exceeds limit of %d bytes", limit)}
}
