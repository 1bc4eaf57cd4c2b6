package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/redspin/redspin/internal/templates"
)

// sdkFallbackVersion is the version of github.com/redspin/redspin a Go
// template requires when this binary was not built from a released module
// version (go run, go build in a clone): the first release with the SDK.
// Such builds need a go.work or a replace to a checkout (see docs/guests/go.md).
const sdkFallbackVersion = "v0.1.0"

func (c *cli) newCommand() *cobra.Command {
	var list bool
	var output string
	cmd := &cobra.Command{
		Use:   "new <template> <name>",
		Short: "Create an application from a template (--list shows them)",
		Long: `new writes a complete application (spin.toml with a build command, source, README)
into a new directory, as ` + "`spin new`" + ` does. The name must make a valid Spin
component ID in kebab-case (words starting with an ASCII letter). Then:

  cd <name> && redspin build && redspin up --embedded-redis --publish messages=hi

For Go templates, new runs ` + "`go mod tidy`" + ` in the new directory (needs the Go module
proxy) unless GOWORK is set.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if list {
				return cobra.NoArgs(cmd, args)
			}
			if len(args) != 2 {
				return usageError{errors.New("want a template and a name, e.g. `redspin new redis-go hello` (`redspin new --list` shows the templates)")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if list {
				tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "TEMPLATE\tDESCRIPTION\tNEEDS")
				for _, t := range templates.List() {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", t.Name, t.Description, t.Needs)
				}
				return tw.Flush()
			}
			return c.newApp(args[0], args[1], output)
		},
	}
	cmd.Flags().BoolVar(&list, "list", false, "list the templates")
	cmd.Flags().StringVarP(&output, "output", "o", "", "directory to create (default: the name)")
	return cmd
}

func (c *cli) newApp(tmpl, name, dir string) error {
	if dir == "" {
		dir = name
	}
	files, err := templates.Write(tmpl, name, dir, templates.Options{SDKVersion: sdkVersion()})
	if err != nil {
		return usageError{err}
	}
	fmt.Fprintf(c.stdout, "Created %s from template %s (%d files)\n", dir, tmpl, len(files))
	if slices.Contains(files, "go.mod") {
		c.goModTidy(dir)
	}
	fmt.Fprintf(c.stdout, "Next:\n  cd %s\n  redspin build\n  redspin up --embedded-redis --publish messages=hi\n", dir)
	return nil
}

// goModTidy fills in go.sum, so that the first build needs no extra step.
// It only warns on failure: the app is written either way.
func (c *cli) goModTidy(dir string) {
	if w := os.Getenv("GOWORK"); w != "" && w != "off" {
		fmt.Fprintf(c.stdout, "GOWORK is set (%s): not running `go mod tidy`\n", w)
		return
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		fmt.Fprintf(c.stderr, "warning: go is not on PATH; install Go 1.24+ and run `go mod tidy` in %s\n", dir)
		return
	}
	cmd := exec.Command(gobin, "mod", "tidy")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(c.stderr, "warning: `go mod tidy` in %s failed (%v); run it again once the problem is fixed:\n%s", filepath.Clean(dir), err, out)
	}
}

// sdkVersion is the version of github.com/redspin/redspin this binary was
// built from when it is a module version, else sdkFallbackVersion.
func sdkVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Path == "github.com/redspin/redspin" &&
		strings.HasPrefix(bi.Main.Version, "v") {
		return bi.Main.Version
	}
	return sdkFallbackVersion
}
