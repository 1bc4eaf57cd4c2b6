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
// (what Spin prints in its "Active Channels on ..." line), [URL.Redacted]
// replaces the password with "****", and errors from [Parse] never contain
// the password, even for input too malformed to split into parts (they then
// omit the input altogether). A URL rendered from a secret variable is
// parsed with [ParseSecret], whose errors name the template instead and show
// no part of the URL.
//
// Example:
//
//	u, err := redisurl.Parse("rediss://app:s3cret@cache.example:6380/2#insecure")
//	// u.Display() == "cache.example:6380"
//	client := redis.NewClient(u.Options())
package redisurl
