package main

import (
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/redspin/redspin/internal/app"
)

// appFlags are the flags `check` and `up` share for loading an app.
type appFlags struct {
	from          string
	variables     []string
	runtimeConfig string
	cacheDir      string
	embedded      bool
	fromRegistry  string
	insecure      bool
}

func (f *appFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVarP(&f.from, "from", "f", "", "the application: a spin.toml file, a directory holding one, a Spin locked app (JSON), or an OCI reference when no such path exists (default: spin.toml, searching upward)")
	fs.StringVar(&f.fromRegistry, "from-registry", "", "pull the application from this OCI reference (as `spin registry push` stores it)")
	fs.BoolVarP(&f.insecure, "insecure", "k", false, "talk plain HTTP to the registry")
	fs.StringArrayVar(&f.variables, "variable", nil, "set an application variable: KEY=VALUE, KEY=@file, @file.json or @file.toml (repeatable; last wins)")
	fs.StringVar(&f.runtimeConfig, "runtime-config-file", os.Getenv("RUNTIME_CONFIG_FILE"), "runtime config TOML file [env: RUNTIME_CONFIG_FILE]")
	fs.StringVar(&f.cacheDir, "cache-dir", "", "cache for downloaded and compiled components (default: redspin/ in the user cache dir, e.g. ~/.cache/redspin)")
	fs.BoolVar(&f.embedded, "embedded-redis", false, "serve every trigger that has no address from an in-memory Redis on 127.0.0.1")
}

func (f *appFlags) options() app.Options {
	return app.Options{
		From:              f.from,
		Variables:         f.variables,
		RuntimeConfigFile: f.runtimeConfig,
		CacheDir:          f.cacheDir,
	}
}

// cacheDir is where compiled components are kept between runs.
func (f *appFlags) compiledCacheDir() string {
	if f.cacheDir != "" {
		return filepath.Join(f.cacheDir, "compiled")
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "redspin", "compiled")
	}
	return ""
}
