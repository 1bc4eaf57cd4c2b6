package outredis

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/redspin/redspin/internal/redisurl"
	"github.com/redspin/redspin/internal/spinhost/allowedhosts"
	"github.com/redspin/redspin/internal/spinhost/handles"
	"github.com/redspin/redspin/internal/telemetry"
)

// Defaults for [Config].
const (
	DefaultMaxConnections = 1024
	DefaultMaxResultBytes = 128 << 20 // Spin's MAX_HOST_BUFFERED_BYTES
	DefaultDialTimeout    = 10 * time.Second
)

// Resolver looks up host names; *net.Resolver implements it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Config configures outbound Redis for one component.
type Config struct {
	// Component is the component ID, used in messages.
	Component string
	// Allowed is the component's parsed allowed_outbound_hosts; nil allows
	// nothing.
	Allowed *allowedhosts.List
	// MaxConnections caps the connections open at once in one instance.
	// default: 1024 (Spin's limit).
	MaxConnections int
	// MaxResultBytes caps the payload bytes of one reply (GET, SMEMBERS,
	// execute); larger replies fail with other("query result exceeds limit
	// of N bytes") and the connection stays usable. The host passes the
	// component payload cap here. default: 128 MiB (Spin's limit).
	MaxResultBytes int
	// DialTimeout bounds name resolution, connecting and the handshake.
	// default: 10s.
	DialTimeout time.Duration
	// Resolver resolves host names. default: net.DefaultResolver.
	Resolver Resolver
	// TLSConfig is the base TLS configuration for rediss/valkeys (ServerName
	// defaults to the URL's host). default: system roots, TLS 1.2+.
	TLSConfig *tls.Config
	// Logger receives a warning for each refused address. default: discard.
	Logger *slog.Logger
}

// Client is the outbound Redis host for one component: immutable after
// [New] and safe for concurrent use. It holds no connections; each message
// gets an [Instance].
type Client struct {
	cfg Config
	log *slog.Logger
}

// New returns a Client for cfg, filling in defaults.
func New(cfg Config) *Client {
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = DefaultMaxConnections
	}
	if cfg.MaxResultBytes <= 0 {
		cfg.MaxResultBytes = DefaultMaxResultBytes
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Component != "" {
		log = log.With("component", cfg.Component)
	}
	return &Client{cfg: cfg, log: log}
}

// NewInstance returns an empty connection table for one message. The
// caller must Close it when the message's instance ends.
func (c *Client) NewInstance() *Instance {
	return &Instance{c: c, conns: make(map[uint32]*conn)}
}

// Instance is the connection table of one guest instance. Connections are
// never shared between instances, because execute can change a
// connection's state (SELECT, MULTI, CLIENT SETNAME).
//
// Handles are small non-zero integers, unique within the instance until
// dropped. Methods are safe for concurrent use, though a guest calls them
// one at a time.
type Instance struct {
	c     *Client
	mu    sync.Mutex
	conns map[uint32]*conn
	next  uint32
	// pending counts connections being dialled; they count against
	// MaxConnections.
	pending int
	closed  bool
}

// errClosed is returned by an Instance used after Close.
var errClosed = errors.New("outbound redis used after its instance ended")

// Open checks address against allowed_outbound_hosts, connects, and returns
// a handle for the new connection.
//
// # Errors
//
// invalid-address when the URL does not parse or its host is not allowed
// (with a warning logged that names the manifest line to add);
// too-many-connections when the instance holds MaxConnections;
// other(msg) when connecting or the handshake fails.
func (i *Instance) Open(ctx context.Context, address string) (uint32, error) {
	u, err := i.c.check(address)
	if err != nil {
		return 0, err
	}
	if err := i.reserve(); err != nil {
		return 0, err
	}
	cn, err := i.c.dial(ctx, u)
	if err != nil {
		i.release()
		return 0, err
	}
	return i.insert(cn)
}

// check parses address and checks it against the allow list.
func (c *Client) check(address string) (*redisurl.URL, error) {
	u, err := redisurl.Parse(address)
	if err != nil {
		c.log.Warn("outbound redis: invalid address", "err", err)
		return nil, &Error{Kind: KindInvalidAddress, Message: err.Error(), Err: err}
	}
	if u.Topology != redisurl.Single {
		// Every node the URL names must be allowed (see allowNode for the
		// nodes found at runtime).
		for _, n := range u.Nodes {
			if err := c.allowNode(u, n.Host, n.Port, ""); err != nil {
				return nil, err
			}
		}
		return u, nil
	}
	t := allowedhosts.Target{Scheme: u.Scheme, Host: u.Host, Port: u.Port, SocketPath: u.SocketPath}
	return u, c.allow(t, "")
}

// allowNode checks one node of a sentinel or cluster URL under the URL's
// node scheme (redis or rediss); found says how it was found at runtime
// ("" for a node the URL names).
func (c *Client) allowNode(u *redisurl.URL, host string, port int, found string) error {
	return c.allow(allowedhosts.Target{Scheme: u.NodeScheme(), Host: host, Port: port}, found)
}

// allow checks t against the allow list, logging a refusal with the
// manifest line to add.
func (c *Client) allow(t allowedhosts.Target, found string) error {
	err := c.cfg.Allowed.Check(c.cfg.Component, t)
	if err == nil {
		return nil
	}
	var de *allowedhosts.DeniedError
	if errors.As(err, &de) {
		c.log.Warn("outbound redis: address not allowed",
			"host", t.String(), "found", found, "fix", de.Suggestion(), "err", err)
	}
	msg := err.Error()
	if found != "" {
		msg = found + ": " + msg
	}
	return &Error{Kind: KindInvalidAddress, Message: msg, Err: err}
}

// reserve takes a connection slot before dialling.
func (i *Instance) reserve() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.closed {
		return otherErr(errClosed.Error(), errClosed)
	}
	if len(i.conns)+i.pending >= i.c.cfg.MaxConnections {
		return &Error{Kind: KindTooManyConnections,
			Message: fmt.Sprintf("an instance may hold at most %d open connections", i.c.cfg.MaxConnections)}
	}
	i.pending++
	return nil
}

func (i *Instance) release() {
	i.mu.Lock()
	i.pending--
	i.mu.Unlock()
}

func (i *Instance) insert(cn *conn) (uint32, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.pending--
	if i.closed {
		cn.close()
		return 0, otherErr(errClosed.Error(), errClosed)
	}
	h := handles.Next(i.conns, &i.next)
	i.conns[h] = cn
	return h, nil
}

func (i *Instance) conn(h uint32) (*conn, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.closed {
		return nil, otherErr(errClosed.Error(), errClosed)
	}
	cn, ok := i.conns[h]
	if !ok {
		return nil, otherErr("could not find connection for resource", nil)
	}
	return cn, nil
}

// Drop closes the connection behind handle h ([resource-drop]connection).
// Dropping an unknown handle does nothing.
func (i *Instance) Drop(h uint32) {
	i.mu.Lock()
	cn := i.conns[h]
	delete(i.conns, h)
	i.mu.Unlock()
	if cn != nil {
		cn.close()
	}
}

// Len returns the number of open connections.
func (i *Instance) Len() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return len(i.conns)
}

// ContinueAfter makes i's handles continue after prev's, the previous
// message's on the same store (nil = none); see handles.Continue.
func (i *Instance) ContinueAfter(prev *Instance) {
	if prev != nil {
		handles.Continue(&i.mu, &i.next, &prev.mu, &prev.next)
	}
}

// Close closes every connection of the instance; later calls fail. It is
// idempotent.
func (i *Instance) Close() error {
	i.mu.Lock()
	conns := i.conns
	i.conns = map[uint32]*conn{}
	i.closed = true
	i.mu.Unlock()
	for _, cn := range conns {
		cn.close()
	}
	return nil
}

func (i *Instance) do(ctx context.Context, h uint32, args ...[]byte) (value, error) {
	cn, err := i.conn(h)
	if err != nil {
		return value{}, err
	}
	var end func(error)
	if len(args) > 0 {
		ctx, end = telemetry.Client(ctx, string(args[0]), attribute.String("db.system.name", "redis"),
			attribute.String("db.operation.name", string(args[0])))
	}
	v, err := cn.roundTrip(ctx, args)
	if end != nil {
		end(err)
	}
	return v, err
}

// Publish sends payload to channel (PUBLISH).
func (i *Instance) Publish(ctx context.Context, h uint32, channel string, payload []byte) error {
	v, err := i.do(ctx, h, []byte("PUBLISH"), []byte(channel), payload)
	if err != nil {
		return err
	}
	_, err = asInt(v)
	return typed(err)
}

// Get returns the value of key; ok is false when the key does not exist.
func (i *Instance) Get(ctx context.Context, h uint32, key string) (val []byte, ok bool, err error) {
	v, err := i.do(ctx, h, []byte("GET"), []byte(key))
	if err != nil {
		return nil, false, err
	}
	val, ok, err = asOptionalBytes(v)
	return val, ok, typed(err)
}

// Set sets key to value (SET).
func (i *Instance) Set(ctx context.Context, h uint32, key string, val []byte) error {
	v, err := i.do(ctx, h, []byte("SET"), []byte(key), val)
	if err != nil {
		return err
	}
	return typed(asOK(v))
}

// Incr increments key by one (INCRBY key 1) and returns the new value.
func (i *Instance) Incr(ctx context.Context, h uint32, key string) (int64, error) {
	v, err := i.do(ctx, h, []byte("INCRBY"), []byte(key), []byte("1"))
	if err != nil {
		return 0, err
	}
	n, err := asInt(v)
	return n, typed(err)
}

// Del deletes keys and returns how many existed. The 2.0.0 interface
// returns this as u32; the unversioned one as s64.
func (i *Instance) Del(ctx context.Context, h uint32, keys []string) (int64, error) {
	return i.intCmd(ctx, h, "DEL", nil, keys)
}

// SAdd adds values to the set at key and returns how many were new.
func (i *Instance) SAdd(ctx context.Context, h uint32, key string, values []string) (int64, error) {
	return i.intCmd(ctx, h, "SADD", []byte(key), values)
}

// SRem removes values from the set at key and returns how many were there.
func (i *Instance) SRem(ctx context.Context, h uint32, key string, values []string) (int64, error) {
	return i.intCmd(ctx, h, "SREM", []byte(key), values)
}

// intCmd runs cmd [key] rest... and expects an integer reply.
func (i *Instance) intCmd(ctx context.Context, h uint32, cmd string, key []byte, rest []string) (int64, error) {
	args := make([][]byte, 0, len(rest)+2)
	args = append(args, []byte(cmd))
	if key != nil {
		args = append(args, key)
	}
	for _, r := range rest {
		args = append(args, []byte(r))
	}
	v, err := i.do(ctx, h, args...)
	if err != nil {
		return 0, err
	}
	n, err := asInt(v)
	return n, typed(err)
}

// SMembers returns the members of the set at key (empty when it does not
// exist).
func (i *Instance) SMembers(ctx context.Context, h uint32, key string) ([]string, error) {
	v, err := i.do(ctx, h, []byte("SMEMBERS"), []byte(key))
	if err != nil {
		return nil, err
	}
	m, err := asStrings(v)
	return m, typed(err)
}

// Execute runs command with arguments and maps the reply to a flat list of
// results (see the package documentation for the mapping). The command is
// sent as one argument, as in Spin: "CLIENT SETNAME" must be given as
// command "CLIENT" and arguments "SETNAME", name.
//
// A server error reply, including WRONGTYPE, is other(msg).
func (i *Instance) Execute(ctx context.Context, h uint32, command string, args []Param) ([]Result, error) {
	wire := make([][]byte, 0, len(args)+1)
	wire = append(wire, []byte(command))
	for _, a := range args {
		wire = append(wire, a.bytes())
	}
	v, err := i.do(ctx, h, wire...)
	if err != nil {
		return nil, err
	}
	return toResults(v)
}
