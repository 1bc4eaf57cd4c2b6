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
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
