package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// Set by the release build (-ldflags -X); empty in other builds, which use
// the build info instead.
var (
	releaseVersion string
	releaseCommit  string
)

// wasmtimeModule is the module whose version is the Wasmtime linked in.
const wasmtimeModule = "github.com/bytecodealliance/wasmtime-go/v39"

// buildInfo describes this binary.
type buildInfo struct {
	Version, Commit, Wasmtime, Go string
	Dirty                         bool
}

// readBuildInfo reads the version, commit and Wasmtime version from the
// build info (and the release build's -X settings, which win).
func readBuildInfo() buildInfo {
	b := buildInfo{Version: "(devel)", Wasmtime: "unknown", Go: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			b.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Commit = s.Value
			case "vcs.modified":
				b.Dirty = s.Value == "true"
			}
		}
		for _, d := range bi.Deps {
			if d.Path == wasmtimeModule {
				b.Wasmtime = strings.TrimPrefix(d.Version, "v")
				if d.Replace != nil {
					b.Wasmtime = strings.TrimPrefix(d.Replace.Version, "v")
				}
			}
		}
	}
	if releaseVersion != "" {
		b.Version = releaseVersion
	}
	if releaseCommit != "" {
		b.Commit, b.Dirty = releaseCommit, false
	}
	return b
}

// short is the one-line form `--version` prints.
func (b buildInfo) short() string {
	v := b.Version
	if b.Commit != "" {
		c := b.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		if b.Dirty {
			c += "+dirty"
		}
		v += " (commit " + c + ")"
	}
	return v + ", Wasmtime " + b.Wasmtime + ", " + b.Go
}

func (c *cli) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Wasmtime version of this build",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			b := readBuildInfo()
			commit := b.Commit
			if commit == "" {
				commit = "unknown"
			} else if b.Dirty {
				commit += " (modified)"
			}
			fmt.Fprintf(c.stdout, "redspin %s\ncommit: %s\nwasmtime: %s\ngo: %s %s/%s\n", b.Version, commit, b.Wasmtime, b.Go, runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}
