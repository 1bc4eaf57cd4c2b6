// Package outredis is the host side of Spin's outbound Redis interfaces:
// fermyon:spin/redis@2.0.0 (a connection resource) and the unversioned
// fermyon:spin/redis (an address on every call), which Spin 1.x modules
// import as outbound-redis. Adapters for each guest shape call it; it knows
// nothing of Wasm.
//
// # Lifecycle
//
// A [Client] is built once per component ([New]) from the component's
// allowed_outbound_hosts. Each message's instance gets its own [Instance]
// ([Client.NewInstance]), a table of connections addressed by small integer
// handles, and the host closes it ([Instance.Close]) when the instance ends.
// Connections are never shared between instances or pooled: execute may
// change a connection's state (SELECT, MULTI, CLIENT SETNAME), so each
// handle is one dedicated connection, as in Spin.
//
//	rc := outredis.New(outredis.Config{Component: "writer", Allowed: allowed})
//	inst := rc.NewInstance()
//	defer inst.Close()
//	h, err := inst.Open(ctx, "redis://localhost:6379")
//	err = inst.Publish(ctx, h, "out", []byte("hello"))
//
// # Semantics
//
//   - Open parses the URL (package redisurl), checks it against
//     allowed_outbound_hosts (package allowedhosts), resolves the host name
//     once and dials the address it resolved to. A bad URL or a refused host
//     is invalid-address; the refusal is logged with the manifest line to add.
//   - A redis+sentinel:// address asks the sentinels (in URL order) for the
//     primary, checks it against allowed_outbound_hosts like the sentinels
//     themselves, dials it and checks ROLE; every Open asks again, so a
//     guest reaches the new primary after a failover.
//   - A redis+cluster:// handle routes each command by the slot of its first
//     argument, follows and remembers MOVED and follows ASK; a node a
//     redirection names is checked against allowed_outbound_hosts before it
//     is dialled (invalid-address when denied). A multi-key command across
//     slots returns Redis's CROSSSLOT error as other(message). A handle
//     counts as one connection towards MaxConnections but holds one per node
//     it used.
//   - At most 1024 connections per instance (Config.MaxConnections), then
//     too-many-connections.
//   - Connections speak RESP2 unless the URL says ?protocol=resp3; in RESP3,
//     replies such as HGETALL's are maps, which execute cannot return.
//   - incr is INCRBY key 1. get of a missing key is absent (none).
//   - A WRONGTYPE error from a typed operation (get, set, incr, del, sadd,
//     srem, smembers, publish) is type-error; other failures are
//     other(message), with the server's error text as the message.
//   - Replies larger than Config.MaxResultBytes fail with other("query
//     result exceeds limit of N bytes"); the reply is read and discarded, so
//     the connection stays usable.
//
// execute maps a reply to a flat list of redis-result values:
//
//	RESP value                 redis-result
//	nil (RESP2 or RESP3)       nil
//	integer                    int64
//	bulk string                binary
//	simple string              status
//	array, set                 flattened recursively into the list
//	double                     binary (decimal text: "3.5", "inf", "NaN")
//	boolean                    int64 (0 or 1)
//	big number                 binary (decimal text)
//	map, attribute, verbatim   error (other)
//	string, push, server error
//
// The unversioned interface is [Legacy]: each call opens a connection,
// runs one command and closes it; a missing key reads as an empty value,
// and adapters lower every error to the error enum's error case.
//
// # Why not go-redis
//
// The connection speaks RESP itself (about 300 lines) because execute must
// tell a status reply from a bulk string and see RESP3 attributes, verbatim
// strings and push frames as such; go-redis's reply reader turns both kinds
// of string into a Go string and drops attributes. A dedicated connection per
// handle also matches Spin's state semantics, which a go-redis pool would
// not.
package outredis
