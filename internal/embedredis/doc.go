// Package embedredis runs an in-memory Redis (miniredis) inside the redspin
// process for zero-setup use (--embedded-redis), records its URL in the
// state directory so that `redspin publish` can find it, and publishes test
// messages.
package embedredis
