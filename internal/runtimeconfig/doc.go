// Package runtimeconfig reads a Spin runtime-config file (the TOML file given
// with --runtime-config-file or RUNTIME_CONFIG_FILE) strictly, as Spin does:
// a key Spin does not know is an error that points at its line and column.
//
// What it reads:
//
//   - state_dir and log_dir: a non-empty value is made absolute against the
//     working directory (Spin's std::path::absolute); "" means "explicitly
//     unset" and is kept apart from "not given" (nil).
//   - max_instance_memory: bytes, a non-negative integer.
//   - [[variables_provider]] (or its older name [[config_provider]]), in file
//     order: static, env, vault (alias open_bao) and azure_key_vault. Giving
//     both names is an error, as in Spin, where the second is left unused.
//   - [key_value_store.<label>]: type "spin" (path, relative to this file's
//     directory; no path means an in-memory store) and "redis" (url); types
//     "azure_cosmos" and "aws_dynamo" load with a warning and fail when a
//     component opens the store.
//   - [sqlite_database.<label>]: type "spin" (path, relative to the working
//     directory, as in Spin; no path means in memory; allow_attach_file) and
//     "libsql" (url, token), which loads with a warning.
//   - [outbound_mqtt]: max_payload_size_bytes and max_connections.
//   - Sections Spin knows and redspin does not implement ([llm_compute], [outbound_networking], [outbound_redis], [[client_tls]],
//     [blob_store.*]) are accepted with one "not supported" [Warning] each,
//     so a file written for Spin still loads.
//
// Load only parses and validates; building providers and opening stores is
// left to the packages that use them (internal/variables and the key-value
// host). Nothing here reads the environment or the network.
//
// Example:
//
//	cfg, warnings, err := runtimeconfig.Load("runtime-config.toml")
//	if line := cfg.SummaryLine(); line != "" {
//		fmt.Println(line) // Using runtime config [key_value_store.cache: redis] from "runtime-config.toml"
//	}
package runtimeconfig
