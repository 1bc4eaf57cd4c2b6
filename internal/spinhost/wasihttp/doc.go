// Package wasihttp implements wasi:http 0.2 (types and outgoing-handler)
// on internal/wasi's resource table and streams, over outhttp's client, so
// that a component's fetch() (componentize-js), wasi-http Rust or Python
// requests work under redspin.
//
// # Semantics
//
//   - fields: names are validated as HTTP tokens and stored lowercase;
//     values must be HTTP field values; the request headers Wasmtime's
//     wasi-http forbids, and host, are refused with header-error.forbidden
//     (outhttp.Forbidden). Headers obtained from a request or a response
//     are immutable (header-error.immutable) and are children of it.
//   - outgoing-request defaults to GET, https and path "/"; a scheme other
//     than http or https fails handle with HTTP-protocol-error. A missing
//     authority is Spin's self request, refused when the future resolves
//     (HTTP-request-denied, or HTTP-request-URI-invalid with a self entry:
//     only Spin's HTTP trigger serves those). The body is streamed
//     to the server through a 64 KiB pipe (output-stream.check-write waits
//     for the server to take what was written); a body finished before
//     handle is sent with its length.
//   - handle never fails for the destination: a host that
//     allowed_outbound_hosts refuses, like every transport failure, is
//     delivered when the future-incoming-response resolves
//     (HTTP-request-denied), as in Spin. No redirects are followed and no
//     proxy is used.
//   - incoming-body streams the response (one 64 KiB chunk read ahead),
//     never buffering it whole; finish drains what is left and resolves
//     the future-trailers.
//   - Child lifetimes as the WIT says: dropping a request, response or
//     body while headers or a stream taken from it are alive traps, and so
//     does outgoing-body.finish or incoming-body.finish with its stream
//     alive, or handle with the request's headers alive.
//   - Every request is bound to the message's context (handler timeout,
//     shutdown) through outhttp.Instance, and is cancelled when the guest
//     drops its future or the store ends.
package wasihttp
