// Package allowedhosts parses a component's allowed_outbound_hosts list and
// decides whether an outbound address is allowed.
//
// Entries have the form scheme://host[:port], with templates already
// resolved by the caller:
//
//   - scheme: a name such as redis or rediss, or * for any scheme;
//   - host: a name or IP address, * for any host, *.example.com for any
//     subdomain of example.com (not example.com itself), an IP network in
//     CIDR form such as 10.0.0.0/8, or self (which never matches Redis);
//   - port: a number, * for any port, a range lo..hi (hi excluded, as in
//     Spin), or absent for the scheme's well-known port.
//
// An empty list allows nothing. "insecure:allow-all" is refused, as in Spin:
// use "*://*:*".
//
// # Default ports
//
// An address is matched on the port the client will dial: a redis, rediss,
// valkey or valkeys URL without a port is checked as port 6379, so
// "rediss://cache.example" is allowed by "rediss://cache.example:6379".
// This differs from Spin on purpose: Spin knows no default port for rediss
// and allows a port-less rediss address only through a :* entry, although
// its client then dials 6379.
//
// Entries: Spin rejects a rediss entry without a port, and so does redspin's
// manifest validation (package manifest), so apps stay portable. This
// package, given one anyway, reads it as port 6379 like redis. Other
// well-known ports: mysql 3306, postgres 5432, mqtt 1883, http 80, https
// 443; an entry of another scheme must name its port.
//
// # Matching
//
// Matching uses the host as written in the address (compared without regard
// to case; IP addresses compared as addresses), never a resolved address. The
// caller resolves the name once after the check and dials the result, so the
// checked name and the dialled connection cannot drift apart.
//
// Unix-socket addresses have no host: they are allowed only by an entry whose
// scheme matches and whose host is *.
//
// # Sentinel and Cluster
//
// This package checks one Target at a time. Its caller (outredis) checks a
// redis+sentinel:// or redis+cluster:// address as every node it names, each
// under the node's own scheme (redis, rediss, valkey, valkeys), and checks
// each node found at runtime (the primary a sentinel names, a cluster
// redirection's target) the same way before dialling it: an address is
// allowed only when every node it reaches is.
package allowedhosts
