package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/redspin/redspin/internal/build"
	"github.com/redspin/redspin/internal/manifest"
)

func (c *cli) buildCommand() *cobra.Command {
	var from string
	var ids []string
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Run the components' build commands, as `spin build` does",
		Long: `build runs each component's [component.<id>.build] command in its workdir
(relative to spin.toml) through sh -c, with redspin's environment, in manifest
order, and stops at the first failure, as ` + "`spin build`" + ` does.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.build(cmd.Context(), from, ids)
		},
	}
	cmd.Flags().StringVarP(&from, "from", "f", "", "the application: a spin.toml file or a directory holding one (default: spin.toml, searching upward)")
	cmd.Flags().StringArrayVarP(&ids, "component-id", "c", nil, "build only this component (repeatable)")
	return cmd
}

// build runs the build commands of the app at from (the -f argument).
func (c *cli) build(ctx context.Context, from string, ids []string) error {
	path, err := manifest.Find(from)
	if err != nil {
		return err
	}
	comps, err := build.Read(path)
	if err != nil {
		return err
	}
	err = build.Run(ctx, comps, build.Options{Dir: filepath.Dir(path), IDs: ids, Stdin: c.stdin, Stdout: c.stdout, Stderr: c.stderr})
	if errors.Is(err, build.ErrNoBuild) {
		fmt.Fprintln(c.stdout, "None of the components have a build command.")
		return nil
	}
	return err
}
