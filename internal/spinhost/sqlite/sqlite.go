package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"

	msqlite "modernc.org/sqlite" // also registers the "sqlite" driver

	"github.com/redspin/redspin/internal/spinhost/handles"
)

// DefaultLabel is the database every app has; DefaultFile is its file name
// in the state directory, as Spin names it.
const (
	DefaultLabel = "default"
	DefaultFile  = "sqlite_db.db"
)

// MaxConnections is how many connections one message may hold open at
// once (Spin's resource table size).
const MaxConnections = 256

// DefaultMaxResultBytes caps one query result when the caller gives no
// cap: 8 MiB, the host's default component payload cap, since a result is
// lowered into the guest the same costly way a payload is. (Spin's cap is
// 128 MiB.)
const DefaultMaxResultBytes = 8 << 20

// busyTimeoutMillis is how long a statement waits for another connection's
// lock on a file database (rusqlite's default, which Spin keeps).
const busyTimeoutMillis = 5000

// Database is one label's configuration.
type Database struct {
	// Path is the database file, absolute; "" = in memory (a new, empty
	// database for every open, as in Spin).
	Path string
	// AllowAttachFile lets statements ATTACH database files; false (the
	// default) allows only ATTACH of ":memory:" and "" (temporary).
	AllowAttachFile bool
	// Unsupported, when not "", is why redspin cannot open this database
	// (a libsql database); a component listing it does not load.
	Unsupported string
}

// Config is what [New] needs.
type Config struct {
	// StateDir holds the default database (<StateDir>/sqlite_db.db);
	// "" = the default database is in memory.
	StateDir string
	// Databases are the runtime config's [sqlite_database.<label>]
	// tables; one labelled "default" replaces the default database.
	// nil = only the default database.
	Databases map[string]Database
}

// Manager knows an app's databases. It holds no connections and is safe
// for concurrent use.
type Manager struct {
	dbs         map[string]Database
	defaultInSD bool // the default database is the state directory's file
}

// New returns the app's databases. The directory of every configured file
// is created now, as Spin does; the default database's when first opened.
func New(cfg Config) (*Manager, error) {
	m := &Manager{dbs: map[string]Database{}}
	for label, db := range cfg.Databases {
		if db.Path != "" && db.Unsupported == "" {
			if err := os.MkdirAll(filepath.Dir(db.Path), 0o755); err != nil {
				return nil, fmt.Errorf("[sqlite_database.%s]: create the directory for %q: %w", label, db.Path, err)
			}
		}
		m.dbs[label] = db
	}
	if _, ok := m.dbs[DefaultLabel]; !ok {
		var d Database
		if cfg.StateDir != "" {
			d.Path = filepath.Join(cfg.StateDir, DefaultFile)
			m.defaultInSD = true
		}
		m.dbs[DefaultLabel] = d
	}
	return m, nil
}

// DefaultPath is the default database's file, "" when it is in memory.
func (m *Manager) DefaultPath() string { return m.dbs[DefaultLabel].Path }

// Summary describes a label's database as Spin does: its quoted path or
// "a temporary in-memory database".
func (m *Manager) Summary(label string) string {
	d, ok := m.dbs[label]
	if !ok {
		return "an undefined database"
	}
	if d.Path == "" {
		return "a temporary in-memory database"
	}
	return fmt.Sprintf("%q", d.Path)
}

// Check returns an error naming the component and the label for every
// sqlite_databases label that names no database.
func (m *Manager) Check(component string, labels []string) error {
	var errs []error
	for _, l := range labels {
		d, ok := m.dbs[l]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("component %q uses SQLite database %q, which is not defined: check the spelling, or define it in the runtime config as [sqlite_database.%s]", component, l, l))
		case d.Unsupported != "":
			errs = append(errs, fmt.Errorf("component %q uses SQLite database %q: %s", component, l, d.Unsupported))
		}
	}
	return errors.Join(errs...)
}

// Access is one component's view: the labels it may open.
type Access struct {
	m        *Manager
	allowed  []string
	maxBytes int
}

// Component returns the access of a component listing labels in
// sqlite_databases; maxResultBytes caps one query result (0 or negative =
// DefaultMaxResultBytes).
func (m *Manager) Component(labels []string, maxResultBytes int) *Access {
	if maxResultBytes <= 0 {
		maxResultBytes = DefaultMaxResultBytes
	}
	return &Access{m: m, allowed: slices.Clone(labels), maxBytes: maxResultBytes}
}

// NewInstance returns the connection table of one message.
func (a *Access) NewInstance() *Instance {
	return &Instance{a: a, conns: handles.NewTable[*conn](MaxConnections)}
}

// Instance is one message's open connections. Its methods are safe for
// concurrent use; Close closes every connection.
type Instance struct {
	a     *Access
	conns *handles.Table[*conn]
}

// conn is one open: its database and, once used, its one SQLite connection.
type conn struct {
	label string
	db    Database
	mu    sync.Mutex
	pool  *sql.DB
	sqlc  *sql.Conn
}

// Open opens a connection to the label's database and returns its handle.
// The database itself is opened on first use, as in Spin.
func (i *Instance) Open(label string) (uint32, error) {
	if !slices.Contains(i.a.allowed, label) {
		return 0, &Error{Kind: KindAccessDenied}
	}
	db, ok := i.a.m.dbs[label]
	if !ok {
		return 0, &Error{Kind: KindNoSuchDatabase}
	}
	if label == DefaultLabel && i.a.m.defaultInSD {
		// Spin creates the default database's directory at each open; a
		// failure there is invalid-connection.
		if err := os.MkdirAll(filepath.Dir(db.Path), 0o755); err != nil {
			return 0, &Error{Kind: KindInvalidConnection, Message: err.Error()}
		}
	}
	h, err := i.conns.Add(&conn{label: label, db: db})
	switch {
	case errors.Is(err, handles.ErrFull):
		return 0, ioErrf("too many connections opened")
	case err != nil:
		return 0, ioErr(err)
	}
	return h, nil
}

// get returns the handle's SQLite connection, opening it on first use.
func (i *Instance) get(ctx context.Context, h uint32) (*sql.Conn, error) {
	c, ok := i.conns.Get(h)
	if !ok {
		return nil, &Error{Kind: KindInvalidConnection}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sqlc != nil {
		return c.sqlc, nil
	}
	pool, err := sql.Open("sqlite", dsn(c.db.Path))
	if err != nil {
		return nil, ioErr(err)
	}
	sc, err := pool.Conn(ctx)
	if err == nil && !c.db.AllowAttachFile {
		err = sc.Raw(func(dc any) error {
			r, ok := dc.(msqlite.AuthorizerRegisterer)
			if !ok {
				return errors.New("the SQLite driver cannot deny ATTACH")
			}
			return r.RegisterAuthorizer(denyAttachFile)
		})
	}
	if err != nil {
		if sc != nil {
			sc.Close()
		}
		pool.Close()
		return nil, ioErr(err)
	}
	c.pool, c.sqlc = pool, sc
	return sc, nil
}

// denyAttachFile is Spin's authorizer: ATTACH of anything but a temporary
// ("") or in-memory database is denied.
func denyAttachFile(action msqlite.AuthorizerActionCode, arg1, _, _, _ string) msqlite.AuthorizerReturnCode {
	if action == msqlite.AuthAttach && arg1 != "" && arg1 != ":memory:" {
		return msqlite.AuthorizerDeny
	}
	return msqlite.AuthorizerOK
}

func dsn(path string) string {
	if path == "" {
		return ":memory:"
	}
	return fmt.Sprintf("file:%s?_pragma=busy_timeout(%d)", (&url.URL{Path: path}).EscapedPath(), busyTimeoutMillis)
}

// Drop closes the handle's connection; an unknown handle is ignored.
func (i *Instance) Drop(h uint32) {
	if c, ok := i.conns.Remove(h); ok {
		c.close()
	}
}

func (c *conn) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sqlc != nil {
		c.sqlc.Close()
		c.pool.Close()
		c.sqlc, c.pool = nil, nil
	}
}

// Len is the number of open connections.
func (i *Instance) Len() int { return i.conns.Len() }

// ContinueAfter makes i's handles continue after prev's, the previous
// message's on the same store (nil = none); see handles.Continue.
func (i *Instance) ContinueAfter(prev *Instance) {
	if prev == nil {
		return
	}
	i.conns.ContinueAfter(prev.conns)
}

// Close closes every connection; later opens fail. Idempotent.
func (i *Instance) Close() error {
	for _, c := range i.conns.Close() {
		c.close()
	}
	return nil
}

// LastInsertRowid is SQLite's last_insert_rowid() on the connection.
func (i *Instance) LastInsertRowid(ctx context.Context, h uint32) (int64, error) {
	var n int64
	err := i.scalar(ctx, h, "SELECT last_insert_rowid()", &n)
	return n, err
}

// Changes is SQLite's changes() on the connection: the rows the last
// INSERT, UPDATE or DELETE changed.
func (i *Instance) Changes(ctx context.Context, h uint32) (uint64, error) {
	var n int64
	err := i.scalar(ctx, h, "SELECT changes()", &n)
	return uint64(n), err
}

func (i *Instance) scalar(ctx context.Context, h uint32, q string, dst *int64) error {
	sc, err := i.get(ctx, h)
	if err != nil {
		return err
	}
	if err := sc.QueryRowContext(ctx, q).Scan(dst); err != nil {
		return ioErr(err)
	}
	return nil
}
