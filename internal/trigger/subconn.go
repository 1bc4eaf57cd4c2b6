package trigger

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/redisurl"
	"github.com/redspin/redspin/internal/resp"
)

// subConn is a session's pub/sub connection: dialed by redspin with the
// URL's options (TLS, dial timeout, the caller's dialer), spoken to in
// RESP2 (no HELLO) and read with resp.Reader, so that each payload is read
// into a buffer of its lane's pool (see payloadPool). Everything else
// (finding the primary or the slot's node, the stream trigger) stays on
// go-redis.
type subConn struct {
	nc net.Conn
	rd *resp.Reader

	wmu          sync.Mutex // writes: the session's goroutine and the health check
	writeTimeout time.Duration

	// sent names the commands dialSub sent before SUBSCRIBE ("AUTH",
	// "SELECT 5"), in order: handshake reads one status reply for each.
	sent []string

	closeOnce sync.Once
}

// defaultWriteTimeout is go-redis's default WriteTimeout, used when the
// options set none.
const defaultWriteTimeout = 3 * time.Second

// dialSub dials addr with opts (through opts.Dialer when set) and sends the
// handshake, AUTH and SELECT as opts ask, pipelined with SUBSCRIBE of
// channels. The replies are read by subscribe.
func dialSub(ctx context.Context, opts *redis.UniversalOptions, addr string, channels []string) (*subConn, error) {
	dial := opts.Dialer
	if dial == nil {
		dial = redisurl.Dialer(opts)
	}
	nc, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &subConn{nc: nc, rd: resp.NewReader(nc, resp.Options{}), writeTimeout: opts.WriteTimeout}
	if c.writeTimeout <= 0 {
		c.writeTimeout = defaultWriteTimeout
	}
	// AUTH only with a password, as go-redis (every other connection)
	// does: a user without one connects as the default user.
	var cmds []byte
	switch {
	case opts.Password != "" && opts.Username != "":
		cmds = resp.AppendCommand(cmds, "AUTH", opts.Username, opts.Password)
		c.sent = append(c.sent, "AUTH")
	case opts.Password != "":
		cmds = resp.AppendCommand(cmds, "AUTH", opts.Password)
		c.sent = append(c.sent, "AUTH")
	}
	if opts.DB != 0 {
		cmds = resp.AppendCommand(cmds, "SELECT", strconv.Itoa(opts.DB))
		c.sent = append(c.sent, "SELECT "+strconv.Itoa(opts.DB))
	}
	cmds = resp.AppendCommand(cmds, append([]string{"SUBSCRIBE"}, channels...)...)
	if err := c.write(cmds); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// handshake reads the replies to the AUTH and SELECT that dialSub sent.
func (c *subConn) handshake() error {
	for _, cmd := range c.sent {
		if err := c.rd.ReadStatus(); err != nil {
			return fmt.Errorf("%s: %w", cmd, err)
		}
	}
	return nil
}

// write sends b (one or more encoded commands) within the write timeout.
func (c *subConn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.writeTimeout))
	_, err := c.nc.Write(b)
	return err
}

// ping sends PING, which Redis answers with a pong push in subscribed mode.
func (c *subConn) ping() error { return c.write([]byte(pingCommand)) }

// pingCommand is PING in RESP.
const pingCommand = "*1\r\n$4\r\nPING\r\n"

// close closes the connection, ending a read in progress; it may be called
// more than once, from any goroutine.
func (c *subConn) close() { c.closeOnce.Do(func() { _ = c.nc.Close() }) }

// authFailure reports whether Redis refused the credentials (WRONGPASS,
// NOAUTH) or the user's permissions (NOPERM): a retry meets the same answer.
func authFailure(err error) bool {
	var se *resp.ServerError
	if errors.As(err, &se) {
		switch se.Code() {
		case "NOAUTH", "WRONGPASS", "NOPERM":
			return true
		}
	}
	return redis.IsAuthError(err) || redis.IsPermissionError(err)
}
