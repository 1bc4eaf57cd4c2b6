// Command redspin runs Spin applications triggered by Redis pub/sub messages.
//
// Usage:
//
//	redspin up [-f spin.toml] [--embedded-redis] [flags]
//	redspin check [-f spin.toml] [flags]
//	redspin publish [-a URL] CHANNEL MESSAGE
//
// Run `redspin help <command>` for every flag. This package is the command
// line only: loading, running and serving live in the internal packages.
package main

import (
	"context"
	"os"

	"github.com/redis/go-redis/v9"
)

func main() {
	quietLibraryBacktraces()
	// go-redis prints its own lines ("redis: <date> pool.go:...: failed to
	// dial ...") to stderr; every error it reports also reaches redspin,
	// which logs it once, with the server and what it was doing.
	redis.SetLogger(silentRedisLog{})
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// quietLibraryBacktraces sets RUST_LIB_BACKTRACE=0 unless the user set it.
// With RUST_BACKTRACE=1 in the environment, Wasmtime would otherwise capture
// a backtrace for every error it creates internally, including the routine
// ones a guest's WASI calls produce (+21 % instructions per message for a
// small C module). Panics still get backtraces: RUST_BACKTRACE governs them.
// Rust reads the variable once, at the first error, so this must run before
// any engine exists.
func quietLibraryBacktraces() {
	if _, set := os.LookupEnv("RUST_LIB_BACKTRACE"); !set {
		os.Setenv("RUST_LIB_BACKTRACE", "0")
	}
}

// silentRedisLog drops go-redis's internal log lines.
type silentRedisLog struct{}

func (silentRedisLog) Printf(context.Context, string, ...any) {}
