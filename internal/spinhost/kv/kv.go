package kv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sort"
	"sync"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"

	"github.com/redspin/redspin/internal/redisurl"
	"github.com/redspin/redspin/internal/runtimeconfig"
	"github.com/redspin/redspin/internal/spinhost/handles"
	"github.com/redspin/redspin/internal/telemetry"
)

// DefaultLabel is the store every app has without configuration.
const DefaultLabel = "default"

// DefaultFile is the default store's file name inside the state directory.
const DefaultFile = "sqlite_key_value.db"

// Defaults for [Config].
const (
	DefaultMaxResultBytes = 128 << 20 // Spin's MAX_HOST_BUFFERED_BYTES
	DefaultTableCapacity  = 256       // Spin's DEFAULT_STORE_TABLE_CAPACITY
)

// Store is one open key-value store. Implementations are safe for
// concurrent use.
type Store interface {
	// Get returns the value of key; ok is false when it does not exist.
	Get(ctx context.Context, key string) (value []byte, ok bool, err error)
	// Set sets key to value.
	Set(ctx context.Context, key string, value []byte) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Exists reports whether key exists.
	Exists(ctx context.Context, key string) (bool, error)
	// Keys lists all keys of the store (never nil).
	Keys(ctx context.Context) ([]string, error)
}

// Config configures the key-value stores of an app.
type Config struct {
	// StateDir is the app's state directory (--state-dir, default .spin
	// next to spin.toml). The default store is StateDir/sqlite_key_value.db;
	// with StateDir "" it is a temporary in-memory store, as in Spin.
	StateDir string
	// Stores are the runtime config's [key_value_store.<label>] tables;
	// a "default" entry replaces the built-in default store.
	Stores map[string]runtimeconfig.KeyValueStore
	// MaxResultBytes caps the size of one get or get-keys result.
	// default: 128 MiB (Spin's limit).
	MaxResultBytes int
	// TableCapacity caps the stores one instance may hold open at once.
	// default: 256 (Spin's).
	TableCapacity int
	// Logger receives access-denied warnings. default: discard.
	Logger *slog.Logger
}

// Manager owns the app's store backends: it is built once per app, opens
// each backend on first use, and closes them in Close. It is safe for
// concurrent use.
type Manager struct {
	cfg    Config
	log    *slog.Logger
	stores map[string]runtimeconfig.KeyValueStore // label → config, default included

	mu     sync.Mutex
	open   map[string]Store   // label → open store
	dbs    map[string]*sql.DB // SQLite path ("" = in-memory) → database
	redis  []redis.UniversalClient
	closed bool
}

// New validates cfg and returns a Manager. Nothing is opened yet.
//
// # Errors
//
// A store of type azure_cosmos or aws_dynamo (not supported by redspin), of
// an unknown type, or a redis store whose URL does not parse; the error
// names the label.
func New(cfg Config) (*Manager, error) {
	if cfg.MaxResultBytes <= 0 {
		cfg.MaxResultBytes = DefaultMaxResultBytes
	}
	if cfg.TableCapacity <= 0 {
		cfg.TableCapacity = DefaultTableCapacity
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Manager{
		cfg:    cfg,
		log:    log,
		stores: map[string]runtimeconfig.KeyValueStore{},
		open:   map[string]Store{},
		dbs:    map[string]*sql.DB{},
	}
	def := runtimeconfig.KeyValueStore{Type: runtimeconfig.StoreSpin}
	if cfg.StateDir != "" {
		def.Path = filepath.Join(cfg.StateDir, DefaultFile)
	}
	m.stores[DefaultLabel] = def
	var errs []error
	for _, label := range sortedKeys(cfg.Stores) {
		sc := cfg.Stores[label]
		switch sc.Type {
		case runtimeconfig.StoreSpin:
		case runtimeconfig.StoreRedis:
			if _, err := redisurl.Parse(sc.URL); err != nil {
				errs = append(errs, fmt.Errorf("key_value_store.%s: %w", label, err))
				continue
			}
		case runtimeconfig.StoreAzureCosmos, runtimeconfig.StoreAWSDynamo:
			errs = append(errs, fmt.Errorf("key_value_store.%s: type %q is not supported by redspin (use type = \"spin\" for SQLite or type = \"redis\")", label, sc.Type))
			continue
		default:
			errs = append(errs, fmt.Errorf("key_value_store.%s: unknown type %q (use \"spin\" or \"redis\")", label, sc.Type))
			continue
		}
		m.stores[label] = sc
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// DefaultPath returns the default store's SQLite file, for the CLI's
// `Storing default key-value data to "<path>"` line; "" when the default
// store is in memory or configured as something else.
func (m *Manager) DefaultPath() string {
	sc := m.stores[DefaultLabel]
	if sc.Type != runtimeconfig.StoreSpin {
		return ""
	}
	return sc.Path
}

// Defined reports whether label names a store (default or configured).
func (m *Manager) Defined(label string) bool {
	_, ok := m.stores[label]
	return ok
}

// Summary describes a store for startup output: "\"path\"", "a temporary
// in-memory store" or "redis at host:port"; "" for an unknown label.
func (m *Manager) Summary(label string) string {
	sc, ok := m.stores[label]
	switch {
	case !ok:
		return ""
	case sc.Type == runtimeconfig.StoreRedis:
		u, err := redisurl.Parse(sc.URL)
		if err != nil {
			return "redis"
		}
		return "redis at " + u.Display()
	case sc.Path == "":
		return "a temporary in-memory store"
	}
	return fmt.Sprintf("%q", sc.Path)
}

// Check returns an error for every label in a component's key_value_stores
// that names no store, as Spin does at startup.
func (m *Manager) Check(component string, labels []string) error {
	var errs []error
	for _, l := range labels {
		if !m.Defined(l) {
			errs = append(errs, fmt.Errorf("component %q: unknown key_value_stores label %q: define it in the runtime config file as [key_value_store.%s] with type = \"spin\" or \"redis\"", component, l, l))
		}
	}
	return errors.Join(errs...)
}

// Store returns the open store for label, opening its backend on first use.
// It does not check access; components go through [Access].
//
// # Errors
//
// no-such-store for an unknown label; other when the backend cannot be
// opened (the SQLite file cannot be created, for example).
func (m *Manager) Store(ctx context.Context, label string) (Store, error) {
	sc, ok := m.stores[label]
	if !ok {
		return nil, kindErr(KindNoSuchStore, "no key-value store %q is defined", label)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, kindErr(KindOther, "key-value stores are closed")
	}
	if s, ok := m.open[label]; ok {
		return s, nil
	}
	var s Store
	switch sc.Type {
	case runtimeconfig.StoreRedis:
		u, err := redisurl.Parse(sc.URL)
		if err != nil {
			return nil, otherErr(err)
		}
		c := redisurl.NewClient(u.UniversalOptions())
		m.redis = append(m.redis, c)
		s = &redisStore{client: c, maxBytes: m.cfg.MaxResultBytes}
	default:
		db, ok := m.dbs[sc.Path]
		if !ok {
			var err error
			db, err = openSQLite(ctx, sc.Path)
			if err != nil {
				return nil, otherErr(fmt.Errorf("key-value store %q: %w", label, err))
			}
			m.dbs[sc.Path] = db
		}
		s = &sqliteStore{db: db, name: label, maxBytes: m.cfg.MaxResultBytes}
	}
	m.open[label] = s
	return s, nil
}

// Pair is one key and value for [Manager.Seed].
type Pair struct {
	Key   string
	Value []byte
}

// Seed writes pairs into the default store (spin up --key-value K=V),
// before any message runs.
func (m *Manager) Seed(ctx context.Context, pairs []Pair) error {
	if len(pairs) == 0 {
		return nil
	}
	s, err := m.Store(ctx, DefaultLabel)
	if err != nil {
		return err
	}
	for _, p := range pairs {
		if err := s.Set(ctx, p.Key, p.Value); err != nil {
			return fmt.Errorf("seed key %q into the default key-value store: %w", p.Key, err)
		}
	}
	return nil
}

// Close closes every open backend. It is idempotent.
func (m *Manager) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	var errs []error
	for _, db := range m.dbs {
		errs = append(errs, db.Close())
	}
	for _, c := range m.redis {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// Access is one component's view of the stores: it may open only the
// labels in its key_value_stores. Build one per component with
// [Manager.Component]; it is safe for concurrent use.
type Access struct {
	m         *Manager
	component string
	allowed   []string
	log       *slog.Logger
}

// Component returns the access for a component whose key_value_stores is
// labels.
func (m *Manager) Component(id string, labels []string) *Access {
	return &Access{m: m, component: id, allowed: slices.Clone(labels), log: m.log.With("component", id)}
}

// Open returns the store for label.
//
// # Errors
//
// access-denied when label is not in the component's key_value_stores (a
// warning naming the manifest line to add is logged); no-such-store when it
// is listed but defined nowhere; other when the backend cannot be opened.
func (a *Access) Open(ctx context.Context, label string) (Store, error) {
	if !slices.Contains(a.allowed, label) {
		a.log.Warn("key-value: store not allowed for this component",
			"store", label, "fix", fmt.Sprintf("key_value_stores = [%q] in [component.%s]", label, a.component))
		return nil, kindErr(KindAccessDenied, "component %q may not open key-value store %q: add it to key_value_stores in [component.%s]", a.component, label, a.component)
	}
	return a.m.Store(ctx, label)
}

// NewInstance returns an empty store table for one message; Close it when
// the instance ends.
func (a *Access) NewInstance() *Instance {
	return &Instance{a: a, stores: map[uint32]Store{}}
}

// Instance is the table of stores one guest instance has open: handles for
// the 2.0.0 store resource, the unversioned handle-based interface and
// wasi:keyvalue buckets. Handles are non-zero and unique until closed.
type Instance struct {
	a      *Access
	mu     sync.Mutex
	stores map[uint32]Store
	next   uint32
	closed bool
}

// Open opens label for the instance and returns its handle.
//
// # Errors
//
// As [Access.Open], plus store-table-full when the instance already holds
// TableCapacity stores.
func (i *Instance) Open(ctx context.Context, label string) (uint32, error) {
	s, err := i.a.Open(ctx, label)
	if err != nil {
		return 0, err
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.closed {
		return 0, kindErr(KindOther, "key-value used after its instance ended")
	}
	if len(i.stores) >= i.a.m.cfg.TableCapacity {
		return 0, kindErr(KindStoreTableFull, "an instance may hold at most %d open stores", i.a.m.cfg.TableCapacity)
	}
	h := handles.Next(i.stores, &i.next)
	i.stores[h] = s
	return h, nil
}

func (i *Instance) store(h uint32) (Store, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	s, ok := i.stores[h]
	if !ok {
		return nil, kindErr(KindInvalidStore, "no open store has handle %d", h)
	}
	return s, nil
}

// Get returns the value of key in store h; ok is false when it is missing.
func (i *Instance) Get(ctx context.Context, h uint32, key string) ([]byte, bool, error) {
	s, err := i.store(h)
	if err != nil {
		return nil, false, err
	}
	ctx, end := span(ctx, "get")
	v, ok, err := s.Get(ctx, key)
	end(err)
	return v, ok, err
}

// LegacyGet is the unversioned get: a missing key is no-such-key.
func (i *Instance) LegacyGet(ctx context.Context, h uint32, key string) ([]byte, error) {
	v, ok, err := i.Get(ctx, h, key)
	if err == nil && !ok {
		return nil, kindErr(KindNoSuchKey, "no such key %q", key)
	}
	return v, err
}

// Set sets key in store h.
func (i *Instance) Set(ctx context.Context, h uint32, key string, value []byte) error {
	s, err := i.store(h)
	if err != nil {
		return err
	}
	ctx, end := span(ctx, "set")
	err = s.Set(ctx, key, value)
	end(err)
	return err
}

// Delete removes key from store h.
func (i *Instance) Delete(ctx context.Context, h uint32, key string) error {
	s, err := i.store(h)
	if err != nil {
		return err
	}
	ctx, end := span(ctx, "delete")
	err = s.Delete(ctx, key)
	end(err)
	return err
}

// Exists reports whether key exists in store h.
func (i *Instance) Exists(ctx context.Context, h uint32, key string) (bool, error) {
	s, err := i.store(h)
	if err != nil {
		return false, err
	}
	ctx, end := span(ctx, "exists")
	ok, err := s.Exists(ctx, key)
	end(err)
	return ok, err
}

// Keys lists the keys of store h (get-keys).
func (i *Instance) Keys(ctx context.Context, h uint32) ([]string, error) {
	s, err := i.store(h)
	if err != nil {
		return nil, err
	}
	ctx, end := span(ctx, "keys")
	keys, err := s.Keys(ctx)
	end(err)
	return keys, err
}

// ListKeys is wasi:keyvalue's list-keys: all keys in one response; a
// cursor is not supported (other("list_keys: cursor not supported"), as in
// Spin).
func (i *Instance) ListKeys(ctx context.Context, h uint32, cursor *string) ([]string, error) {
	if cursor != nil {
		if _, err := i.store(h); err != nil {
			return nil, err
		}
		return nil, kindErr(KindOther, "list_keys: cursor not supported")
	}
	return i.Keys(ctx, h)
}

// Drop closes handle h (resource drop, or the unversioned close). Unknown
// handles are ignored.
func (i *Instance) Drop(h uint32) {
	i.mu.Lock()
	delete(i.stores, h)
	i.mu.Unlock()
}

// ContinueAfter makes i's handles continue after prev's, the previous
// message's on the same store (nil = none); see handles.Continue.
func (i *Instance) ContinueAfter(prev *Instance) {
	if prev != nil {
		handles.Continue(&i.mu, &i.next, &prev.mu, &prev.next)
	}
}

// Close releases every handle; the stores stay open in the Manager. It is
// idempotent.
func (i *Instance) Close() error {
	i.mu.Lock()
	i.stores = map[uint32]Store{}
	i.closed = true
	i.mu.Unlock()
	return nil
}

// span starts the client span of one key-value operation under the message's span in ctx (nothing
// when the message is not traced).
func span(ctx context.Context, op string) (context.Context, func(error)) {
	return telemetry.Client(ctx, "kv "+op, attribute.String("db.operation.name", op))
}
