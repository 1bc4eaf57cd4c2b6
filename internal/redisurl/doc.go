// Package redisurl parses the Redis connection URLs that Spin applications use
// (trigger addresses, outbound Redis, key-value stores) into one value that
// the rest of redspin shares.
//
// The accepted forms are those of the redis-rs crate that Spin links:
//
//	redis://[user[:password]@]host[:port][/db][?protocol=resp2|resp3]
//	rediss://...[#insecure]        TLS; #insecure skips certificate checks
//	valkey://...  valkeys://...    the same, under Valkey's names
//	redis+unix:///path/to.sock[?db=N&user=U&pass=P&protocol=resp3]
//	valkey+unix:///path  unix:///path
//
// and, for production topologies (see [Topology]):
//
//	redis+sentinel://[user:password@]s1[:26379][,s2[:26379]...]/master-name[/db][?sentinel_user=U&sentinel_pass=P]
//	redis+cluster://[user:password@]n1[:6379][,n2[:6379]...]
//	rediss+sentinel://, rediss+cluster:// (TLS, #insecure allowed),
//	valkey+sentinel://, valkeys+sentinel://, valkey+cluster://, valkeys+cluster://
//
// A plain redis:// URL always means one node. In a sentinel URL the
// userinfo holds the primary's (and replicas') credentials, the ones the
// app's data is protected with, as in every other form; the sentinels get
// none unless sentinel_user/sentinel_pass say so, because a sentinel
// without requirepass rejects AUTH.
//
// The port defaults to 6379. User and password are percent-decoded. Query
// parameters other than the ones listed ([Params]) are ignored, as redis-rs
// ignores them, and their names are listed in [URL.Ignored] so that callers
// can warn ([IgnoredMessage]). For unix forms, user and password may also be given go-redis style
// (unix://user:pass@/path); the query parameters win.
//
// # Credentials
//
// A URL often carries a password, so nothing this package returns for
// display ever holds one: [URL.Display] is "host:port" or the socket path
// (what Spin prints in its "Active Channels on ..." line; the node list and
// service name for Sentinel and Cluster), [URL.Redacted] replaces the
// passwords (userinfo and sentinel_pass) with "****", and errors from [Parse] never contain
// the password, even for input too malformed to split into parts (they then
// omit the input altogether). A URL rendered from a secret variable is
// parsed with [ParseSecret], whose errors name the template instead and show
// no part of the URL.
//
// Example:
//
//	u, err := redisurl.Parse("rediss://app:s3cret@cache.example:6380/2#insecure")
//	// u.Display() == "cache.example:6380"
//	client := redisurl.NewClient(u.UniversalOptions())
//
// [NewClient] is the one way redspin opens a go-redis client: it returns
// the client the options call for (one node, Sentinel failover, cluster).
package redisurl
