package outredis

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/redspin/redspin/internal/redisurl"
)

// conn is one dedicated Redis connection. Commands on it run one at a time,
// so connection state set by execute (SELECT, MULTI, CLIENT SETNAME) applies
// to the commands that follow, as with Spin's single connection per handle.
type conn struct {
	mu     sync.Mutex
	nc     net.Conn
	rd     reader
	bw     *bufio.Writer
	buf    []byte
	broken error // set once the connection is out of step or closed
	// route, when set, makes this a cluster handle: commands go to the
	// node serving their key (see router); nc is nil.
	route *router
}

// dial resolves u's host once, dials the resolved address, and performs the
// handshake: HELLO 3 for protocol=resp3, otherwise AUTH and SELECT as the
// URL asks.
//
// A sentinel URL dials the primary the sentinels name; a cluster URL
// returns a routing handle (see router).
func (c *Client) dial(ctx context.Context, u *redisurl.URL) (*conn, error) {
	switch u.Topology {
	case redisurl.Sentinel:
		return c.dialSentinel(ctx, u)
	case redisurl.Cluster:
		return c.dialCluster(ctx, u)
	}
	return c.dialNode(ctx, u)
}

// dialNode dials the one node of u.
func (c *Client) dialNode(ctx context.Context, u *redisurl.URL) (*conn, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.DialTimeout)
	defer cancel()

	nc, err := c.connect(ctx, u)
	if err != nil {
		return nil, err
	}
	cn := &conn{
		nc: nc,
		rd: reader{br: bufio.NewReaderSize(nc, 32<<10), limit: c.cfg.MaxResultBytes},
		bw: bufio.NewWriterSize(nc, 32<<10),
	}
	if err := cn.handshake(ctx, u); err != nil {
		cn.close()
		return nil, err
	}
	return cn, nil
}

func (c *Client) connect(ctx context.Context, u *redisurl.URL) (net.Conn, error) {
	d := &net.Dialer{KeepAlive: 30 * time.Second}
	if u.IsUnix() {
		nc, err := d.DialContext(ctx, "unix", u.SocketPath)
		if err != nil {
			return nil, otherErr(fmt.Sprintf("connect to %s: %v", u.Display(), dialCause(err)), err)
		}
		return nc, nil
	}
	addrs, err := c.resolve(ctx, u.Host)
	if err != nil {
		return nil, otherErr(fmt.Sprintf("resolve %s: %v", u.Host, dialCause(err)), err)
	}
	var nc net.Conn
	var firstErr error
	port := uint16(u.Port)
	for _, a := range addrs {
		nc, err = d.DialContext(ctx, "tcp", netip.AddrPortFrom(a, port).String())
		if err == nil {
			break
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	if nc == nil {
		return nil, otherErr(fmt.Sprintf("connect to %s: %v", u.Display(), dialCause(firstErr)), firstErr)
	}
	if u.TLS {
		cfg := &tls.Config{
			ServerName:         u.Host,
			InsecureSkipVerify: u.Insecure, //nolint:gosec // the URL asked for it with #insecure
			MinVersion:         tls.VersionTLS12,
		}
		if c.cfg.TLSConfig != nil {
			cfg = c.cfg.TLSConfig.Clone()
			if cfg.ServerName == "" {
				cfg.ServerName = u.Host
			}
			if u.Insecure {
				cfg.InsecureSkipVerify = true
			}
		}
		tc := tls.Client(nc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = nc.Close()
			return nil, otherErr(fmt.Sprintf("TLS handshake with %s: %v", u.Display(), dialCause(err)), err)
		}
		nc = tc
	}
	return nc, nil
}

// resolve looks the host up once; the caller dials only these addresses.
func (c *Client) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	addrs, err := c.cfg.Resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, errors.New("no addresses")
	}
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	return addrs, nil
}

// dialCause shortens net errors to their cause for messages.
func dialCause(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}

func (cn *conn) handshake(ctx context.Context, u *redisurl.URL) error {
	if u.Protocol == 3 {
		args := [][]byte{[]byte("HELLO"), []byte("3")}
		if u.Password != "" {
			user := u.Username
			if user == "" {
				user = "default"
			}
			args = append(args, []byte("AUTH"), []byte(user), []byte(u.Password))
		}
		if _, err := cn.roundTrip(ctx, args); err != nil {
			return handshakeErr("HELLO 3", err)
		}
	} else if u.Password != "" {
		args := [][]byte{[]byte("AUTH")}
		if u.Username != "" {
			args = append(args, []byte(u.Username))
		}
		args = append(args, []byte(u.Password))
		v, err := cn.roundTrip(ctx, args)
		if err == nil {
			err = asOK(v)
		}
		if err != nil {
			return handshakeErr("AUTH", err)
		}
	}
	if u.DB != 0 {
		v, err := cn.roundTrip(ctx, [][]byte{[]byte("SELECT"), []byte(strconv.Itoa(u.DB))})
		if err == nil {
			err = asOK(v)
		}
		if err != nil {
			return handshakeErr("SELECT", err)
		}
	}
	return nil
}

func handshakeErr(step string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return &Error{Kind: KindOther, Message: step + ": " + e.Message, Code: e.Code, Err: e.Err}
	}
	return otherErr(step+": "+err.Error(), err)
}

// roundTrip sends one command and reads its reply. A server error reply is
// returned as a value (typ respError), not as an error; errors are I/O,
// protocol, size and context failures. After an I/O, protocol or context
// failure the connection is broken and every later call fails.
func (cn *conn) roundTrip(ctx context.Context, args [][]byte) (value, error) {
	if cn.route != nil {
		return cn.route.roundTrip(ctx, args)
	}
	return cn.nodeRoundTrip(ctx, args)
}

// nodeRoundTrip is roundTrip on this connection's own node.
func (cn *conn) nodeRoundTrip(ctx context.Context, args [][]byte) (value, error) {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if cn.broken != nil {
		return value{}, otherErr("connection is unusable after an earlier error: "+cn.broken.Error(), cn.broken)
	}
	if err := ctx.Err(); err != nil {
		return value{}, otherErr(err.Error(), err)
	}
	deadline, _ := ctx.Deadline() // zero = none
	_ = cn.nc.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() {
		// Unblock the read or write below.
		_ = cn.nc.SetDeadline(time.Unix(1, 0))
	})

	cn.buf = appendCommand(cn.buf[:0], args)
	_, err := cn.bw.Write(cn.buf)
	if err == nil {
		err = cn.bw.Flush()
	}
	var v value
	if err == nil {
		v, err = cn.rd.read()
	}
	if len(cn.buf) > 64<<10 {
		cn.buf = nil // do not keep large payload buffers alive
	}
	stop()
	if err != nil && (ctx.Err() != nil || hitDeadline(err, deadline)) {
		// The context ended during the call (its deadline or the
		// AfterFunc above interrupted the I/O): whatever reached the wire,
		// the connection is out of step.
		cerr := context.Cause(ctx)
		if cerr == nil {
			cerr = context.DeadlineExceeded // the socket deadline fired first
		}
		cn.broken = cerr
		_ = cn.nc.Close()
		return value{}, otherErr(cerr.Error(), cerr)
	}
	if err != nil {
		var tl *tooLargeError
		if errors.As(err, &tl) {
			// The reply was consumed in full; the connection is still usable.
			return value{}, otherErr(tl.Error(), nil)
		}
		cn.broken = err
		_ = cn.nc.Close()
		if errors.Is(err, errProtocol) {
			return value{}, otherErr(err.Error(), err)
		}
		return value{}, otherErr("connection error: "+dialCause(err).Error(), err)
	}
	return v, nil
}

// hitDeadline reports whether err is the socket timeout set from the
// context's deadline (it can fire just before the context's own timer).
func hitDeadline(err error, deadline time.Time) bool {
	var ne net.Error
	return !deadline.IsZero() && errors.As(err, &ne) && ne.Timeout() && !time.Now().Before(deadline)
}

// close closes the connection without waiting for a command in flight,
// which then fails.
func (cn *conn) close() {
	if cn.route != nil {
		cn.route.close()
		return
	}
	_ = cn.nc.Close()
}
