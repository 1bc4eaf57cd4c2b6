// Package kv is the host side of Spin's key-value interfaces:
// fermyon:spin/key-value@2.0.0 (a store resource), the unversioned
// handle-based key-value (also Spin 1.x's key-value imports) and
// wasi:keyvalue/store@0.2.0-draft2 (open, bucket get/set/delete/exists/
// list-keys). Adapters for each guest shape call it; it knows nothing of
// Wasm.
//
// # Stores
//
// Every app has the store "default": the SQLite database
// <state-dir>/sqlite_key_value.db with Spin's table
//
//	spin_key_value(store TEXT, key TEXT, value BLOB, PRIMARY KEY(store, key))
//
// so a .spin/ directory written by `spin up` is readable, and the other way
// round. Without a state directory the default store is a temporary
// in-memory database, as in Spin. The runtime config may define more labels
// (or replace default) with [key_value_store.<label>]:
//
//   - type = "spin": SQLite at path (in memory without one); labels sharing a
//     file keep their rows apart by the store column;
//   - type = "redis": url; keys are stored as given, with GET/SET/DEL/EXISTS,
//     and get-keys lists the whole database (SCAN);
//   - type = "azure_cosmos" or "aws_dynamo": refused by [New] as not
//     supported.
//
// # Lifecycle and access
//
// A [Manager] is built once per app ([New]) and opens each backend on first
// use; [Manager.Check] reports unknown labels at startup and
// [Manager.DefaultPath] gives the CLI the path for its
// `Storing default key-value data to "<path>"` line. Each component gets an
// [Access] ([Manager.Component]) that opens only the labels in its
// key_value_stores (access-denied otherwise, logged with the manifest line
// to add; no-such-store for a listed label defined nowhere). Each message's
// instance gets an [Instance], a table of open stores addressed by handles
// (at most 256, then store-table-full), closed with the instance.
//
//	m, err := kv.New(kv.Config{StateDir: ".spin"})
//	acc := m.Component("counter", []string{"default"})
//	inst := acc.NewInstance()
//	defer inst.Close()
//	h, err := inst.Open(ctx, "default")
//	err = inst.Set(ctx, h, "hits", []byte("1"))
//
// # Errors
//
// Errors are *Error with a [Kind]. The 2.0.0 variant uses the first four
// kinds directly; [LegacyCase] and [WASICase] map errors to the unversioned
// and wasi:keyvalue variants as Spin does (a missing key in the unversioned
// get is no-such-key, see [Instance.LegacyGet]).
package kv
