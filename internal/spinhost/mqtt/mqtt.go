package mqtt

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"go.opentelemetry.io/otel/attribute"

	"github.com/redspin/redspin/internal/spinhost/allowedhosts"
	"github.com/redspin/redspin/internal/spinhost/handles"
	"github.com/redspin/redspin/internal/telemetry"
)

// MaxConnectionsPerMessage is how many connections one message may hold
// (Spin's resource table size).
const MaxConnectionsPerMessage = 1024

// QoS is a quality of service (the qos enum, in WIT order).
type QoS uint8

// QoS levels.
const (
	AtMostOnce  QoS = iota // 0: returns once the PUBLISH is written
	AtLeastOnce            // 1: returns after the PUBACK
	ExactlyOnce            // 2: returns after the PUBCOMP
)

// Settings are the app's [outbound_mqtt] runtime config.
type Settings struct {
	// MaxPayloadBytes caps one published payload; 0 = no cap (Spin's
	// default).
	MaxPayloadBytes int
	// MaxConnections caps the app's open connections; 0 = no cap. An open
	// over the cap waits for a connection to close, until the message's
	// deadline (then too-many-connections).
	MaxConnections int
	// RootCAs verify mqtts:// brokers; nil = the system roots (Spin's
	// only roots).
	RootCAs *x509.CertPool
}

// Pool holds what an app's components share: the settings and the
// connection slots. It is safe for concurrent use.
type Pool struct {
	set   Settings
	slots chan struct{} // nil = unlimited
}

// NewPool returns the app's MQTT pool.
func NewPool(s Settings) *Pool {
	p := &Pool{set: s}
	if s.MaxConnections > 0 {
		p.slots = make(chan struct{}, s.MaxConnections)
	}
	return p
}

// Client is one component's outbound MQTT: its allowed hosts and the
// app's pool.
type Client struct {
	component string
	allowed   *allowedhosts.List
	pool      *Pool
	log       *slog.Logger
}

// Component returns the client of one component; allowed is its parsed
// allowed_outbound_hosts (nil allows nothing), logger receives refused
// addresses (nil = discard).
func (p *Pool) Component(id string, allowed *allowedhosts.List, logger *slog.Logger) *Client {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Client{component: id, allowed: allowed, pool: p, log: logger}
}

// NewInstance returns the connection table of one message.
func (c *Client) NewInstance() *Instance {
	return &Instance{c: c, conns: handles.NewTable[*conn](MaxConnectionsPerMessage)}
}

// Instance is one message's MQTT connections. Its methods are safe for
// concurrent use.
type Instance struct {
	c     *Client
	conns *handles.Table[*conn]
}

// conn is one opened address; client is nil until the first publish.
type conn struct {
	mu     sync.Mutex
	opts   *paho.ClientOptions
	client paho.Client
}

// Open validates address, checks it against allowed_outbound_hosts, takes a
// connection slot and returns a handle. It does not connect (as in Spin).
func (i *Instance) Open(ctx context.Context, address, username, password string, keepAliveSecs uint64) (uint32, error) {
	t, err := allowedhosts.TargetFromURL(address)
	if err == nil && !i.c.allowed.AllowsTarget(t) {
		i.c.log.Warn("outbound mqtt: address not allowed", "component", i.c.component, "address", t.String(),
			"fix", (&allowedhosts.DeniedError{Component: i.c.component, Target: t}).Suggestion())
		return 0, &Error{Kind: KindConnectionFailed, Message: fmt.Sprintf("address %s is not permitted", redact(address))}
	}
	opts, err := clientOptions(address, username, password, keepAliveSecs, i.c.pool.set.RootCAs)
	if err != nil {
		i.c.log.Warn("outbound mqtt: invalid address", "component", i.c.component, "err", err)
		return 0, &Error{Kind: KindInvalidAddress}
	}
	if slots := i.c.pool.slots; slots != nil {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return 0, &Error{Kind: KindTooManyConnections}
		}
	}
	h, err := i.conns.Add(&conn{opts: opts})
	if err != nil {
		i.c.pool.release()
		return 0, &Error{Kind: KindTooManyConnections}
	}
	return h, nil
}

func (p *Pool) release() {
	if p.slots != nil {
		<-p.slots
	}
}

// redact drops a password from an address for messages.
func redact(address string) string {
	u, err := url.Parse(address)
	if err != nil || u.User == nil {
		return address
	}
	return u.Redacted()
}

// clientOptions parses an address as rumqttc's MqttOptions::parse_url
// does (the parts redspin reads: scheme, host, port, client_id); TLS
// brokers are verified against roots (nil = the system roots).
func clientOptions(address, username, password string, keepAliveSecs uint64, roots *x509.CertPool) (*paho.ClientOptions, error) {
	u, err := url.Parse(address)
	if err != nil {
		return nil, fmt.Errorf("not a URL")
	}
	var scheme string
	port := 1883
	var tlsConf *tls.Config
	switch u.Scheme {
	case "mqtt", "tcp":
		scheme = "tcp"
	case "mqtts", "ssl":
		scheme, port = "ssl", 8883
		tlsConf = &tls.Config{ServerName: u.Hostname(), RootCAs: roots, MinVersion: tls.VersionTLS12}
	default:
		return nil, fmt.Errorf("unsupported scheme %q (mqtt, mqtts, tcp or ssl)", u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return nil, fmt.Errorf("bad port %q", p)
		}
		port = n
	}
	id := u.Query().Get("client_id")
	if id == "" {
		return nil, fmt.Errorf("the client_id query parameter is required, e.g. mqtt://host:1883?client_id=my-app")
	}
	o := paho.NewClientOptions().
		AddBroker(scheme + "://" + net.JoinHostPort(u.Hostname(), strconv.Itoa(port))).
		SetClientID(id).
		SetUsername(username).
		SetPassword(password).
		SetKeepAlive(time.Duration(keepAliveSecs) * time.Second).
		SetCleanSession(true).
		SetProtocolVersion(4).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetOrderMatters(false)
	if tlsConf != nil {
		o.SetTLSConfig(tlsConf)
	}
	return o, nil
}

// Publish sends payload to topic on the handle's connection, connecting
// first if needed, and returns when the QoS's acknowledgement arrives (or
// ctx ends: connection-failed).
func (i *Instance) Publish(ctx context.Context, h uint32, topic string, payload []byte, qos QoS) (err error) {
	if telemetry.Recording(ctx) {
		var end func(error)
		ctx, end = telemetry.Client(ctx, "publish "+topic, attribute.String("messaging.system", "mqtt"),
			attribute.String("messaging.operation.type", "send"), attribute.String("messaging.operation.name", "publish"),
			attribute.String("messaging.destination.name", topic), attribute.Int("messaging.message.body.size", len(payload)),
			attribute.Int("redspin.mqtt.qos", int(qos)))
		defer func() { end(err) }()
	}
	if max := i.c.pool.set.MaxPayloadBytes; max > 0 && len(payload) > max {
		return &Error{Kind: KindOther, Message: fmt.Sprintf("payload size %d exceeds the maximum allowed size of %d bytes", len(payload), max)}
	}
	if qos > ExactlyOnce {
		return &Error{Kind: KindOther, Message: fmt.Sprintf("qos %d is not valid", qos)}
	}
	c, ok := i.conns.Get(h)
	if !ok {
		return &Error{Kind: KindOther, Message: "could not find connection for resource"}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client == nil || !c.client.IsConnected() {
		cl := paho.NewClient(c.opts)
		if err := wait(ctx, cl.Connect()); err != nil {
			return &Error{Kind: KindConnectionFailed, Message: err.Error()}
		}
		c.client = cl
	}
	if err := wait(ctx, c.client.Publish(topic, byte(qos), false, payload)); err != nil {
		return &Error{Kind: KindConnectionFailed, Message: err.Error()}
	}
	return nil
}

// wait waits for a Paho token within ctx.
func wait(ctx context.Context, t paho.Token) error {
	select {
	case <-t.Done():
		return t.Error()
	case <-ctx.Done():
		return fmt.Errorf("%w (the message's deadline)", ctx.Err())
	}
}

// disconnectQuiesce is how long a closing connection lets Paho finish
// work in flight; every publish has already been acknowledged.
const disconnectQuiesce = 50 // ms

// Drop closes the handle's connection; an unknown handle is ignored.
func (i *Instance) Drop(h uint32) {
	if c, ok := i.conns.Remove(h); ok {
		c.close()
		i.c.pool.release()
	}
}

func (c *conn) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client != nil && c.client.IsConnectionOpen() {
		c.client.Disconnect(disconnectQuiesce)
	}
	c.client = nil
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

// Close closes every connection of the message; later opens fail.
// Idempotent.
func (i *Instance) Close() error {
	for _, c := range i.conns.Close() {
		c.close()
		i.c.pool.release()
	}
	return nil
}
