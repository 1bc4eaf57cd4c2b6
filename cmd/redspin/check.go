package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/redspin/redspin/internal/app"
	"github.com/redspin/redspin/internal/host"
	"github.com/redspin/redspin/internal/spinhost/cmasync"
)

func (c *cli) checkCommand() *cobra.Command {
	var f appFlags
	var noComponents, allowUnresolved bool
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Load and validate an app, and print what `up` would run",
		Long: `check loads spin.toml, the runtime config and the variables exactly as ` + "`up`" + ` does,
compiles each component a Redis trigger runs, and prints every Redis server
(never its password, nor anything a secret variable supplies) with its channels
and components, the shape and export of each component, and every warning.

It exits 0 when the app is valid and 1 otherwise. A required variable that no
provider resolves (--variable, SPIN_VARIABLE_<NAME>, the runtime config) makes
the app invalid, as it stops ` + "`up`" + `; with --allow-unresolved it is only a
warning and whatever uses it is shown as its template, so that CI can validate
a manifest without its secrets. Components with ` + "`dependencies`" + ` are a
warning here (` + "`up`" + ` refuses them).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := f.options()
			if err := c.pullRemote(cmd.Context(), &f, &opts); err != nil {
				return err
			}
			opts.SkipComponents = noComponents
			opts.Embedded = f.embedded
			opts.AllowUnresolved = allowUnresolved
			opts.AllowDependencies = true
			a, err := app.Load(cmd.Context(), opts)
			defer a.Close()
			if errors.Is(err, app.ErrNoRedisTriggers) {
				printWarnings(c, a)
				fmt.Fprintf(c.stdout, "%s: nothing to run: %v\n", a.Manifest.File, err)
				return nil
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "App %q (%s)\n", a.Manifest.Name, a.Manifest.File)
			for _, s := range a.Servers {
				if s.Embedded {
					fmt.Fprintln(c.stdout, "Redis embedded (up --embedded-redis starts it on 127.0.0.1:6379, or a free port if that is taken):")
				} else {
					fmt.Fprintf(c.stdout, "Redis %s:\n", s.Display)
				}
				for _, ch := range s.Channels {
					fmt.Fprintf(c.stdout, "\t%s/%s: [%s]\n", s.Display, ch.Display, strings.Join(ch.Components, ","))
				}
			}
			c.printStreams(a, "")
			if !noComponents {
				imports, kvm, err := spinServices(cmd.Context(), a, c.logger, 0, nil)
				if err != nil {
					return err
				}
				defer kvm.Close()
				h, err := host.New(cmd.Context(), hostComponents(a, imports), host.Options{
					CacheDir: f.compiledCacheDir(),
					Stderr:   c.stderr,
					Logger:   c.logger,
				})
				if err != nil {
					return err
				}
				defer h.Close()
				if err := checkHandlers(a, h); err != nil {
					return err
				}
				fmt.Fprintln(c.stdout, "Components:")
				for _, comp := range a.Components {
					info, _ := h.Info(comp.ID())
					fmt.Fprintf(c.stdout, "\t%s: %s exporting %s\n", comp.ID(), info.Shape, exportsOf(info))
					if info.WASI != host.WASINone {
						fmt.Fprintf(c.stdout, "\t\tWASI: %s\n", info.WASI)
					}
					a.Warnings = append(a.Warnings, unsupportedImportWarnings(comp.ID(), info.UnsupportedImports)...)
				}
			}
			printWarnings(c, a)
			fmt.Fprintln(c.stdout, "OK")
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&noComponents, "no-components", false, "validate the manifest only: do not read, download or compile Wasm sources")
	cmd.Flags().BoolVar(&allowUnresolved, "allow-unresolved", false, "warn about required variables that no provider resolves instead of failing (validate a manifest without its secrets)")
	return cmd
}

func printWarnings(c *cli, a *app.App) {
	if a == nil {
		return
	}
	for _, w := range a.Warnings {
		fmt.Fprintf(c.stderr, "Warning: %s\n", w)
	}
}

// hostComponents maps resolved components to the host's configuration;
// imports are the Spin host interfaces of each component (nil = none).
func hostComponents(a *app.App, imports map[string]host.Imports) []host.ComponentConfig {
	out := make([]host.ComponentConfig, 0, len(a.Components))
	for _, comp := range a.Components {
		cc := host.ComponentConfig{ID: comp.ID(), WasmPath: comp.WasmPath, Env: comp.Env, Imports: imports[comp.ID()]}
		for _, m := range comp.Mounts {
			cc.Mounts = append(cc.Mounts, host.Mount{HostDir: m.HostDir, GuestDir: m.GuestDir})
		}
		out = append(out, cc)
	}
	return out
}

// unsupportedImportWarnings are check's warnings for a component's imports
// that redspin does not provide: they load as stubs, so they only matter
// when called.
func unsupportedImportWarnings(id string, imports []string) []string {
	var out []string
	for _, imp := range imports {
		if why := cmasync.Interface(imp); why != "" {
			out = append(out, fmt.Sprintf("component %q imports %s, which redspin cannot serve: %s; a call that uses it fails that message", id, imp, why))
			continue
		}
		out = append(out, fmt.Sprintf("component %q imports %s, which redspin does not provide: a call that uses it fails that message", id, imp))
	}
	return out
}
