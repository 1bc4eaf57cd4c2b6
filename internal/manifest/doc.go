// Package manifest loads a Spin application manifest (spin.toml) exactly as
// Spin 3.6 (plus the HEAD additions redspin accepts) does: version detection,
// the V1 → V2 conversion, strict decoding (unknown keys are errors),
// normalisation of trigger IDs and inline components, identifier rules,
// variable declarations, `{{ var }}` templates and allowed outbound hosts.
//
// # Lifecycle
//
// [Find] turns the `-f` argument into a file path; [Load] reads, converts,
// normalises and validates it statically, returning a [*Manifest] and any
// [Warning]s; [FetchSource] later gives the local path of one component's
// Wasm (downloading and verifying `{ url, digest }` sources into a cache).
// Load never reads component sources, so manifests can be validated alone.
//
// # What redspin reads
//
// Only Redis triggers are run. Triggers of other types are parsed (their own
// keys are not checked, as only their trigger would check them) and listed
// in [Manifest.OtherTriggerTypes]; every component is parsed and validated,
// but warnings about fields redspin does not act on yet (ai_models,
// dependencies, profile) are given only for components a Redis
// trigger runs. Deprecated allowed_http_hosts are converted with Spin's
// warning.
//
// # Errors
//
// Problems are [*Error] values whose text reads
// `spin.toml:12:3: component "x": ...`; several are joined with errors.Join.
// Each unwraps to a sentinel (e.g. [ErrUnknownField], [ErrInvalidVersion],
// [ErrUnknownComponent]) so callers can classify them with errors.Is.
//
// # Concurrency
//
// A Manifest is immutable after Load and may be shared; FetchSource may be
// called concurrently.
//
// # Example
//
//	path, err := manifest.Find("")
//	if err != nil { return err }
//	m, warnings, err := manifest.Load(path)
//	for _, w := range warnings { log.Print(w) }
//	if err != nil { return err }
//	for _, t := range m.RedisTriggers { fmt.Println(t.Channel, t.Component) }
package manifest
