package main

import (
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/redspin/redspin/internal/app"
)

// appSource are the flags that name an app and resolve its variables, as
// `up` does: `check`, `up`, `publish` and `dead-letters` share them, so
// that they all read the same addresses.
type appSource struct {
	from          string
	variables     []string
	runtimeConfig string
}

// register adds -f (described by fromUsage), --variable and
// --runtime-config-file.
func (s *appSource) register(fs *pflag.FlagSet, fromUsage string) {
	fs.StringVarP(&s.from, "from", "f", "", fromUsage)
	fs.StringArrayVar(&s.variables, "variable", nil, "set an application variable: KEY=VALUE, KEY=@file, @file.json or @file.toml (repeatable; last wins)")
	fs.StringVar(&s.runtimeConfig, "runtime-config-file", os.Getenv("RUNTIME_CONFIG_FILE"), "runtime config TOML file [env: RUNTIME_CONFIG_FILE]")
}

// options are the app.Options that load the app as the flags say.
func (s *appSource) options() app.Options {
	return app.Options{From: s.from, Variables: s.variables, RuntimeConfigFile: s.runtimeConfig}
}

// appFlags are the flags `check` and `up` share for loading an app.
type appFlags struct {
	appSource
	cacheDir     string
	embedded     bool
	fromRegistry string
	insecure     bool
}

func (f *appFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	f.appSource.register(fs, "the application: a spin.toml file, a directory holding one, a Spin locked app (JSON), or an OCI reference when no such path exists (default: spin.toml, searching upward)")
	fs.StringVar(&f.fromRegistry, "from-registry", "", "pull the application from this OCI reference (as `spin registry push` stores it)")
	fs.BoolVarP(&f.insecure, "insecure", "k", false, "talk plain HTTP to the registry")
	fs.StringVar(&f.cacheDir, "cache-dir", "", "cache for downloaded and compiled components (default: redspin/ in the user cache dir, e.g. ~/.cache/redspin)")
	fs.BoolVar(&f.embedded, "embedded-redis", false, "serve every trigger that has no address from an in-memory Redis on 127.0.0.1")
}

func (f *appFlags) options() app.Options {
	opts := f.appSource.options()
	opts.CacheDir = f.cacheDir
	return opts
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
