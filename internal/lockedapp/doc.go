// Package lockedapp reads and writes Spin's locked application JSON (the
// "spin.lock" that `spin up` hands to a trigger and that an OCI artifact
// carries) and turns it into the same [manifest.Manifest] that spin.toml
// produces, so the rest of redspin resolves both inputs alike.
//
// # Format
//
// The field names and rules are those of Spin's crates/locked-app:
// `spin_lock_version` 0 or 1 (higher is refused); `must_understand` may only
// name `host_requirements` and `component_host_requirements`;
// `host_requirements` entries whose value is "optional" are dropped and any
// other is refused, since redspin implements none of Spin's host features
// (local service chaining, middleware); unknown fields elsewhere are ignored,
// as Spin ignores them. Content (component sources, files) is a ContentRef:
// a `source` URI (file:// or http(s)://), `inline` base64 and/or a `digest`.
//
// # Content
//
// file:// URIs (absolute, as a local `spin build` writes them, or relative to
// the lock file) are used in place. Inline content is written to the
// [blobstore.Store] and checked against its digest when one is given;
// digest-only content must already be in the store (an OCI pull puts it
// there). File mount paths must not escape the guest root.
//
// # Writing
//
// [FromManifest] builds the locked app Spin's loader would build from a
// spin.toml (for `redspin registry push`), and [LockedApp.MarshalJSON]
// writes it in Spin's layout, with the lock version Spin would write.
package lockedapp
