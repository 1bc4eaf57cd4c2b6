package outredis

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/redspin/redspin/internal/redisurl"
)

// nodeURL is u narrowed to one node at host:port.
func nodeURL(u *redisurl.URL, host string, port int) *redisurl.URL {
	n := *u
	n.Topology, n.Nodes, n.Host, n.Port = redisurl.Single, nil, host, port
	return &n
}

// dialSentinel asks the sentinels, in URL order, for the primary's address
// (SENTINEL GET-MASTER-ADDR-BY-NAME), checks that address against
// allowed_outbound_hosts, and dials it. Each Open asks again, so a guest's
// next message reaches the new primary after a failover.
func (c *Client) dialSentinel(ctx context.Context, u *redisurl.URL) (*conn, error) {
	var errs []string
	for _, n := range u.Nodes {
		host, port, err := c.askSentinel(ctx, u, n)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if err := c.allowNode(u, host, port, "primary named by sentinel "+n.String()); err != nil {
			return nil, err
		}
		cn, err := c.dialNode(ctx, nodeURL(u, host, port))
		if err != nil {
			return nil, err
		}
		// A sentinel may name a primary that a failover is demoting.
		v, err := cn.nodeRoundTrip(ctx, [][]byte{[]byte("ROLE")})
		if err == nil && (v.typ != respArray || len(v.elems) == 0 || string(v.elems[0].str) != "master") {
			err = otherErr(fmt.Sprintf("%s, named primary by sentinel %s, is not a primary (a failover is under way): try again", net.JoinHostPort(host, strconv.Itoa(port)), n), nil)
		}
		if err != nil {
			cn.close()
			return nil, err
		}
		return cn, nil
	}
	return nil, otherErr(fmt.Sprintf("no sentinel named the primary %q: %s", u.MasterName, strings.Join(errs, "; ")), nil)
}

// askSentinel asks one sentinel for the primary's address.
func (c *Client) askSentinel(ctx context.Context, u *redisurl.URL, n redisurl.Node) (string, int, error) {
	su := nodeURL(u, n.Host, n.Port)
	su.Username, su.Password, su.DB = u.SentinelUsername, u.SentinelPassword, 0
	cn, err := c.dialNode(ctx, su)
	if err != nil {
		return "", 0, err
	}
	defer cn.close()
	v, err := cn.nodeRoundTrip(ctx, [][]byte{[]byte("SENTINEL"), []byte("GET-MASTER-ADDR-BY-NAME"), []byte(u.MasterName)})
	if err != nil {
		return "", 0, err
	}
	if v.typ == respError || v.typ == respBlobError {
		return "", 0, fmt.Errorf("sentinel %s: %s", n, v.str)
	}
	if v.typ != respArray || len(v.elems) != 2 {
		return "", 0, fmt.Errorf("sentinel %s does not know %q", n, u.MasterName)
	}
	port, err := strconv.Atoi(string(v.elems[1].str))
	if err != nil {
		return "", 0, fmt.Errorf("sentinel %s: bad port %q", n, v.elems[1].str)
	}
	return strings.ToLower(string(v.elems[0].str)), port, nil
}

// maxRedirects bounds the MOVED/ASK redirections one command follows.
const maxRedirects = 5

// router is a cluster handle: one connection per node it has used, and the
// slots it learned from MOVED replies. A command goes to the node serving
// the slot of its first argument (the key for the typed operations and most
// commands); a wrong guess is corrected by the MOVED reply, which the router
// follows (and remembers) like ASK, checking the node it names against
// allowed_outbound_hosts before connecting. A multi-key command across slots
// gets Redis's CROSSSLOT error, returned to the guest as other(message).
// Connection state set by execute (SELECT is refused by a cluster; CLIENT
// SETNAME) applies to the node it ran on.
type router struct {
	c *Client
	u *redisurl.URL

	mu    sync.Mutex
	nodes map[string]*conn // "host:port" → connection
	slots map[uint16]string
	first string // the seed node connected at Open
}

// dialCluster connects to the first seed node that answers.
func (c *Client) dialCluster(ctx context.Context, u *redisurl.URL) (*conn, error) {
	r := &router{c: c, u: u, nodes: map[string]*conn{}, slots: map[uint16]string{}}
	var errs []string
	for _, n := range u.Nodes {
		cn, err := c.dialNode(ctx, nodeURL(u, n.Host, n.Port))
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		r.first = n.String()
		r.nodes[r.first] = cn
		return &conn{route: r}, nil
	}
	return nil, otherErr("no cluster node answered: "+strings.Join(errs, "; "), nil)
}

func (r *router) roundTrip(ctx context.Context, args [][]byte) (value, error) {
	addr := r.first
	if len(args) > 1 {
		r.mu.Lock()
		if a, ok := r.slots[keySlot(args[1])]; ok {
			addr = a
		}
		r.mu.Unlock()
	}
	asking := false
	for range maxRedirects + 1 {
		cn, err := r.node(ctx, addr)
		if err != nil {
			return value{}, err
		}
		if asking {
			if v, err := cn.nodeRoundTrip(ctx, [][]byte{[]byte("ASKING")}); err != nil {
				return v, err
			}
		}
		v, err := cn.nodeRoundTrip(ctx, args)
		if err != nil || v.typ != respError {
			return v, err
		}
		kind, slot, target, ok := redirect(v.str)
		if !ok {
			return v, nil
		}
		asking = kind == "ASK"
		if !asking {
			r.mu.Lock()
			r.slots[slot] = target
			r.mu.Unlock()
		}
		addr = target
	}
	return value{}, otherErr(fmt.Sprintf("more than %d cluster redirections", maxRedirects), nil)
}

// node returns the connection to addr, dialling it (after the allow-list
// check) on first use.
func (r *router) node(ctx context.Context, addr string) (*conn, error) {
	r.mu.Lock()
	cn := r.nodes[addr]
	r.mu.Unlock()
	if cn != nil {
		return cn, nil
	}
	host, ps, err := net.SplitHostPort(addr)
	port, perr := strconv.Atoi(ps)
	if err != nil || perr != nil {
		return nil, otherErr(fmt.Sprintf("cluster redirection to a bad address %q", addr), err)
	}
	if err := r.c.allowNode(r.u, host, port, "cluster node named by a redirection"); err != nil {
		return nil, err
	}
	cn, err = r.c.dialNode(ctx, nodeURL(r.u, strings.ToLower(host), port))
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if old := r.nodes[addr]; old != nil {
		cn.close()
		return old, nil
	}
	r.nodes[addr] = cn
	return cn, nil
}

func (r *router) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, cn := range r.nodes {
		cn.close()
	}
	r.nodes = map[string]*conn{}
}

// redirect parses "MOVED 3999 127.0.0.1:6381" and "ASK 3999 host:port".
func redirect(msg []byte) (kind string, slot uint16, addr string, ok bool) {
	f := strings.Fields(string(msg))
	if len(f) != 3 || f[0] != "MOVED" && f[0] != "ASK" {
		return "", 0, "", false
	}
	n, err := strconv.ParseUint(f[1], 10, 16)
	if err != nil || n >= 16384 {
		return "", 0, "", false
	}
	addr = f[2]
	if strings.HasPrefix(addr, ":") {
		return "", 0, "", false // an unknown endpoint: nothing to follow
	}
	return f[0], uint16(n), addr, true
}

// keySlot is Redis Cluster's hash slot of key: CRC16 (XMODEM) of the key,
// or of its hash tag (the text between the first "{" and the next "}" when
// not empty), modulo 16384.
func keySlot(key []byte) uint16 {
	if i := bytes.IndexByte(key, '{'); i >= 0 {
		if j := bytes.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	return crc16(key) % 16384
}

func crc16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
