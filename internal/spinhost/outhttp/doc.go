// Package outhttp is the host side of outbound HTTP for guests: the one
// client behind every HTTP interface (fermyon:spin/http, Spin 1.x's
// wasi-outbound-http and wasi:http/outgoing-handler). It knows nothing of
// Wasm.
//
// # Lifecycle
//
// A [Client] is built once per component ([New]) from the component's
// allowed_outbound_hosts and the app's [Network] (runtime config
// [outbound_networking] and [[client_tls]]). Each message gets an
// [Instance] ([Client.NewInstance]) bound to the message's context; the
// host closes it ([Instance.Close]) when the message ends, which cancels
// every request still running and closes every response body still open.
// Idle connections are pooled per component, across messages.
//
//	c := outhttp.New(outhttp.Config{Component: "notify", Allowed: allowed})
//	inst := c.NewInstance(msgCtx)
//	defer inst.Close()
//	resp, err := inst.Send(ctx, &outhttp.Request{Method: "GET", URL: u}, outhttp.Options{FollowRedirects: true})
//
// # Semantics
//
//   - Every destination, and with FollowRedirects every redirect target, is
//     checked against allowed_outbound_hosts (package allowedhosts) before a
//     connection is opened; a refusal is HTTP-request-denied. A relative URL
//     (Spin's `self` requests) is HTTP-request-URI-invalid when a self entry
//     allows it (only Spin's HTTP trigger could serve it), and
//     HTTP-request-denied otherwise, as in Spin.
//   - Names are resolved by the dialer, which drops the addresses in the
//     blocked networks and dials only what is left, so a name that resolves
//     to a blocked address (DNS rebinding) cannot reach it:
//     destination-IP-prohibited.
//   - The headers Wasmtime's wasi-http forbids (connection, keep-alive,
//     proxy-*, transfer-encoding, upgrade, http2-settings) and host are
//     removed from every request; Host comes from the URL's authority.
//   - Response bodies are streamed: the host holds one read buffer per open
//     body. [ReadAll] buffers a whole body up to a cap for the interfaces
//     that return it as a value.
//   - Limits per message: Config.MaxConcurrent requests whose response is
//     open (then connection-limit-reached, at once: a guest waiting on itself
//     would deadlock). Per app: Network.MaxConnections open connections.
//   - Errors are *[Error] with a [Code] named as wasi:http's error-code case;
//     [SpinHTTPError] maps them onto fermyon:spin/http's http-error enum.
//   - No proxy is used, whatever the environment says.
//   - Config.Logger gets a warning for each refusal (with the manifest entry
//     that would allow it) and for each request that got no response (its
//     scheme and authority and the error code: never the path or query).
package outhttp
