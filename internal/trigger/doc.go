// Package trigger is redspin's Redis pub/sub trigger: it keeps one pub/sub
// connection per Redis server, SUBSCRIBEs to each configured channel and runs
// every component mapped to a channel, concurrently, for each message.
//
// Each channel of each server is a lane. A reader goroutine per connection
// always drains the socket promptly and moves messages into the lane's bounded
// queue; the lane's workers (one by default, so messages on a channel are
// handled in arrival order) take messages off the queue and call the Handler.
// When a queue is full the lane's drop policy applies, and every drop is
// counted and logged.
//
// The pub/sub connection is redspin's own (subconn.go): dialed with the
// URL's options, spoken to in RESP2 and read with internal/resp, each
// payload into a buffer of its lane's pool that goes back to the pool when
// every handler of the message has returned (payloadpool.go: a Handler must
// not keep the payload). go-redis finds the node (the Sentinel primary, the
// cluster node serving the first channel's slot) and runs the stream
// trigger.
//
// Unlike Spin, a lost connection is not fatal: the trigger reconnects with
// jittered exponential backoff and resubscribes every channel. Only a failure
// to connect at startup (after a brief retry) ends Run with an error.
//
// The package knows nothing about Wasm; it calls a Handler.
package trigger
