// Command redspin-componentize is the Go SDK's post-link step: it reads the
// core module that `GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared`
// wrote for a guest using github.com/redspin/redspin/sdk/go/redis and writes
// a module that redspin runs and Spin turns into a component (see package
// github.com/redspin/redspin/sdk/go/componentize).
//
// Usage:
//
//	redspin-componentize -o app.wasm app.raw.wasm
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/redspin/redspin/sdk/go/componentize"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("redspin-componentize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "output file (required)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: redspin-componentize -o OUT.wasm IN.wasm")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 || *out == "" {
		fs.Usage()
		return 2
	}
	in := fs.Arg(0)
	raw, err := os.ReadFile(in)
	if err != nil {
		fmt.Fprintf(stderr, "redspin-componentize: %v\n", err)
		return 1
	}
	mod, err := componentize.Module(raw)
	if err != nil {
		fmt.Fprintf(stderr, "redspin-componentize: %s: %v\n", in, err)
		return 1
	}
	if err := os.WriteFile(*out, mod, 0o644); err != nil {
		fmt.Fprintf(stderr, "redspin-componentize: %v\n", err)
		return 1
	}
	return 0
}
