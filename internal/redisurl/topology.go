package redisurl

import (
	"net"
	"strconv"
	"strings"
)

// Topology says how the Redis servers a URL names are arranged.
type Topology int

const (
	// Single is one node: redis://, rediss://, valkey(s):// and unix forms.
	Single Topology = iota
	// Sentinel is a primary found through Redis Sentinel:
	// redis+sentinel://, rediss+sentinel://, valkey(s)+sentinel://.
	Sentinel
	// Cluster is a Redis Cluster: redis+cluster://, rediss+cluster://,
	// valkey(s)+cluster://.
	Cluster
)

// String names the topology: "single", "sentinel" or "cluster".
func (t Topology) String() string {
	switch t {
	case Sentinel:
		return "sentinel"
	case Cluster:
		return "cluster"
	}
	return "single"
}

// DefaultSentinelPort is the port of a sentinel that names none.
const DefaultSentinelPort = 26379

// Node is one host and port a sentinel or cluster URL names.
type Node struct {
	// Host is the host name or address, lower-cased, without brackets.
	Host string
	// Port is the TCP port.
	Port int
}

// String returns "host:port" ("[::1]:7000" for IPv6).
func (n Node) String() string { return net.JoinHostPort(n.Host, strconv.Itoa(n.Port)) }

// Addrs returns the nodes as "host:port" strings: the sentinels, the
// cluster's seed nodes, or the one node of a Single TCP URL; the socket path
// of a unix URL.
func (u *URL) Addrs() []string {
	switch {
	case u.IsUnix():
		return []string{u.SocketPath}
	case u.Topology == Single:
		return []string{net.JoinHostPort(u.Host, strconv.Itoa(u.Port))}
	}
	out := make([]string, len(u.Nodes))
	for i, n := range u.Nodes {
		out[i] = n.String()
	}
	return out
}

// NodeScheme is the single-node scheme of the URL's transport: redis or
// rediss (valkey or valkeys for the valkey forms); unix forms keep theirs.
// allowed_outbound_hosts checks every node of a sentinel or cluster URL, and
// every node discovered at runtime, under this scheme.
func (u *URL) NodeScheme() string {
	s, _, _ := strings.Cut(u.Scheme, "+")
	if u.IsUnix() {
		return u.Scheme
	}
	return s
}

func nodeList(nodes []Node) string {
	s := make([]string, len(nodes))
	for i, n := range nodes {
		s[i] = n.String()
	}
	return strings.Join(s, ",")
}

const (
	exampleSentinel = "redis+sentinel://[user:password@]host1:26379,host2:26379/mymaster[/db]"
	exampleCluster  = "redis+cluster://[user:password@]host1:7000,host2:7001"
)

// topology parses the sentinel and cluster forms:
//
//	redis+sentinel://[user:password@]h1[:26379][,h2[:26379]...]/master-name[/db][?sentinel_user=U&sentinel_pass=P&protocol=resp3]
//	redis+cluster://[user:password@]h1[:6379][,h2[:6379]...][?protocol=resp3]
//
// The node list is cut out before net/url parses the rest, which does not
// accept several hosts.
func (p *parser) topology(u *URL) (*URL, error) {
	u.Topology = Cluster
	example, defPort := exampleCluster, DefaultPort
	if strings.HasSuffix(u.Scheme, "+sentinel") {
		u.Topology = Sentinel
		example, defPort = exampleSentinel, DefaultSentinelPort
	}
	u.TLS = strings.HasPrefix(u.Scheme, "rediss") || strings.HasPrefix(u.Scheme, "valkeys")
	rest := p.raw[len(u.Scheme)+len("://"):]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	hosts, userinfo := authority, ""
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		userinfo, hosts = authority[:at+1], authority[at+1:]
	}
	if hosts == "" {
		return nil, p.fail("missing hosts (want %s)", example)
	}
	for h := range strings.SplitSeq(hosts, ",") {
		n, err := p.node(h, defPort, example)
		if err != nil {
			return nil, err
		}
		u.Nodes = append(u.Nodes, n)
	}
	u.Host, u.Port = u.Nodes[0].Host, u.Nodes[0].Port
	pu, err := p.urlParse("redis://" + userinfo + "nodes" + tail)
	if err != nil {
		return nil, err
	}
	if pu.User != nil {
		u.Username = pu.User.Username()
		u.Password, _ = pu.User.Password()
	}
	path := strings.Trim(pu.Path, "/")
	if u.Topology == Cluster {
		if path != "" {
			return nil, p.fail("a cluster URL takes no path: Redis Cluster has only database 0 (want %s)", example)
		}
	} else {
		parts := strings.Split(path, "/")
		u.MasterName = parts[0]
		if u.MasterName == "" {
			return nil, p.fail("missing the primary's Sentinel name after the hosts (want %s)", example)
		}
		switch len(parts) {
		case 1:
		case 2:
			db, err := strconv.Atoi(parts[1])
			if err != nil || db < 0 {
				return nil, p.fail("invalid database number %s in the path (want %s)", p.show(parts[1]), example)
			}
			u.DB = db
		default:
			return nil, p.fail("too many path segments (want %s)", example)
		}
	}
	if err := p.query(u, pu, false); err != nil {
		return nil, err
	}
	if err := p.fragment(u, pu); err != nil {
		return nil, err
	}
	return u, nil
}

// node parses one "host[:port]" of a node list ("[v6addr][:port]" for IPv6).
func (p *parser) node(s string, defPort int, example string) (Node, error) {
	if s == "" {
		return Node{}, p.fail("empty host in the node list (want %s)", example)
	}
	host, port := s, ""
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.Index(s, "]")
		if end < 0 {
			return Node{}, p.fail("missing ']' in IPv6 host %s", p.show(s))
		}
		host, port = s[1:end], s[end+1:]
		if port != "" && !strings.HasPrefix(port, ":") {
			return Node{}, p.fail("unexpected text after IPv6 host %s", p.show(s))
		}
		port = strings.TrimPrefix(port, ":")
		if host == "" {
			return Node{}, p.fail("empty IPv6 host in the node list")
		}
	case strings.Count(s, ":") > 1:
		return Node{}, p.fail("IPv6 host %s must be in brackets, [::1]:7000", p.show(s))
	default:
		var hasPort bool
		host, port, hasPort = strings.Cut(s, ":")
		if hasPort && port == "" {
			return Node{}, p.fail("empty port after ':' (omit it for the default %d)", defPort)
		}
		if host == "" {
			return Node{}, p.fail("missing hostname before port (want %s)", example)
		}
		if strings.ContainsAny(host, " %\\[]{}|^\"<>`") {
			return Node{}, p.fail("invalid hostname %s", p.show(host))
		}
	}
	n := Node{Host: strings.ToLower(host), Port: defPort}
	if port != "" {
		v, err := p.port(port)
		if err != nil {
			return Node{}, err
		}
		n.Port = v
	}
	return n, nil
}
