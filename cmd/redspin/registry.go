package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/redspin/redspin/internal/app"
	"github.com/redspin/redspin/internal/lockedapp"
	"github.com/redspin/redspin/internal/manifest"
	"github.com/redspin/redspin/internal/oci"
)

// ociClient is the registry client for a cache dir ("" means the default).
func (c *cli) ociClient(cacheDir string, insecure bool) *oci.Client {
	if cacheDir == "" {
		cacheDir = app.DefaultCacheDir()
	}
	return &oci.Client{
		Store:         app.BlobStore(cacheDir),
		Dir:           filepath.Join(cacheDir, "oci"),
		Insecure:      insecure,
		Logger:        c.logger,
		ArchiveLayers: os.Getenv(oci.ArchiveLayersEnv) != "",
	}
}

// remoteRef returns the OCI reference the flags name, or "": --from-registry,
// or -f when no such path exists and it looks like a reference (Spin's rule).
func (f *appFlags) remoteRef() (string, error) {
	if f.fromRegistry != "" {
		if f.from != "" {
			return "", usageError{errors.New("-f/--from and --from-registry cannot be used together")}
		}
		return f.fromRegistry, nil
	}
	if f.from == "" {
		return "", nil
	}
	if _, err := os.Stat(f.from); !errors.Is(err, fs.ErrNotExist) || !oci.LooksLikeReference(f.from) {
		return "", nil
	}
	return f.from, nil
}

// pullRemote pulls the app when the flags name an OCI reference and points
// opts.From at its locked app.
func (c *cli) pullRemote(ctx context.Context, f *appFlags, opts *app.Options) error {
	ref, err := f.remoteRef()
	if ref == "" || err != nil {
		return err
	}
	p, err := c.ociClient(f.cacheDir, f.insecure).Pull(ctx, ref)
	if err != nil {
		return err
	}
	c.logger.Info("pulled app", "reference", ref, "digest", p.Digest, "offline", p.Offline)
	opts.From = p.LockFile
	return nil
}

func (c *cli) registryCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "Push, pull and log in to OCI registries holding Spin apps",
		Long: `registry stores Spin apps in OCI registries in the format ` + "`spin registry push`" + ` writes,
so images pushed by Spin and by redspin are interchangeable. Credentials come
from Spin's registry-auth.json (written by login), then the Docker config.`,
	}
	cmd.AddCommand(c.registryPushCommand(), c.registryPullCommand(), c.registryLoginCommand())
	return cmd
}

func (c *cli) registryPushCommand() *cobra.Command {
	var from, cacheDir string
	var insecure bool
	var annotations []string
	cmd := &cobra.Command{
		Use:   "push <reference>",
		Short: "Push the app to a registry",
		Long: `push uploads the app's Redis triggers and the components they run, with their
files, as one OCI artifact. Components with dependencies are refused: Spin
composes them on push and redspin cannot (use ` + "`spin registry push`" + `).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ann := map[string]string{}
			for _, kv := range annotations {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return usageError{fmt.Errorf("--annotation %q: expected KEY=VALUE", kv)}
				}
				ann[k] = v
			}
			l, cleanup, err := c.lockForPush(cmd.Context(), from, cacheDir)
			defer cleanup()
			if err != nil {
				return err
			}
			digest, err := c.ociClient(cacheDir, insecure).Push(cmd.Context(), args[0], l, ann)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Pushed with digest %s\n", digest)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&from, "from", "f", "", "the application: a spin.toml file, a directory holding one, or a locked app with file:// content (default: spin.toml, searching upward)")
	fs.StringVar(&cacheDir, "cache-dir", "", "cache for downloaded component sources (default: redspin/ in the user cache dir)")
	fs.BoolVarP(&insecure, "insecure", "k", false, "talk plain HTTP to the registry")
	fs.StringArrayVar(&annotations, "annotation", nil, "add an OCI annotation KEY=VALUE to the manifest (repeatable)")
	return cmd
}

// lockForPush builds the locked app to push: a locked app file as is, or
// one built from spin.toml with its files staged in a temporary directory
// (removed by cleanup).
func (c *cli) lockForPush(ctx context.Context, from, cacheDir string) (*lockedapp.LockedApp, func(), error) {
	cleanup := func() {}
	path, err := manifest.Find(from)
	if err != nil {
		return nil, cleanup, err
	}
	if data, err := os.ReadFile(path); err == nil && lockedapp.IsLocked(data) {
		l, err := lockedapp.Decode(data)
		return l, cleanup, err
	}
	m, warnings, err := manifest.Load(path)
	for _, w := range warnings {
		c.logger.Warn(w.String())
	}
	if err != nil {
		return nil, cleanup, err
	}
	for _, t := range m.OtherTriggerTypes {
		c.logger.Warn("trigger type not pushed: redspin pushes only Redis triggers and their components", "type", t)
	}
	if cacheDir == "" {
		cacheDir = app.DefaultCacheDir()
	}
	staging, err := os.MkdirTemp("", "redspin-push-")
	if err != nil {
		return nil, cleanup, err
	}
	cleanup = func() { os.RemoveAll(staging) }
	resolved := map[string]lockedapp.Resolved{}
	var run []string // the components of the redis and redis-stream triggers
	for _, t := range m.RedisTriggers {
		run = append(run, t.Component)
	}
	for _, t := range m.StreamTriggers {
		run = append(run, t.Component)
	}
	for _, id := range run {
		if _, done := resolved[id]; done {
			continue
		}
		spec := m.Components[id]
		wasm, err := manifest.FetchSource(ctx, m, spec, filepath.Join(cacheDir, "sources"))
		if err != nil {
			return nil, cleanup, err
		}
		r := lockedapp.Resolved{WasmPath: wasm}
		if len(spec.Files) > 0 {
			r.FilesDir = filepath.Join(staging, spec.ID)
			if err := app.StageFiles(m.Dir, spec, r.FilesDir); err != nil {
				return nil, cleanup, err
			}
		}
		resolved[id] = r
	}
	l, err := lockedapp.FromManifest(m, resolved)
	return l, cleanup, err
}

func (c *cli) registryPullCommand() *cobra.Command {
	var cacheDir string
	var insecure bool
	cmd := &cobra.Command{
		Use:   "pull <reference>",
		Short: "Pull an app into the cache (so that up starts without the registry)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := c.ociClient(cacheDir, insecure).Pull(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if p.Offline {
				return fmt.Errorf("cannot reach the registry for %q (the cached copy %s is still usable by up)", args[0], p.Digest)
			}
			fmt.Fprintf(c.stdout, "Successfully pulled the app from the registry\nDigest: %s\nLocked app: %s\n", p.Digest, p.LockFile)
			return nil
		},
	}
	cmd.Flags().StringVar(&cacheDir, "cache-dir", "", "where pulled apps are kept (default: redspin/ in the user cache dir)")
	cmd.Flags().BoolVarP(&insecure, "insecure", "k", false, "talk plain HTTP to the registry")
	return cmd
}

func (c *cli) registryLoginCommand() *cobra.Command {
	var user, password string
	var passwordStdin, insecure bool
	cmd := &cobra.Command{
		Use:   "login <server>",
		Short: "Check credentials and save them in Spin's registry-auth.json",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if user == "" {
				return usageError{errors.New("--username/-u is required")}
			}
			if passwordStdin {
				if password != "" {
					return usageError{errors.New("--password and --password-stdin cannot be used together")}
				}
				b, err := io.ReadAll(c.stdin)
				if err != nil {
					return err
				}
				password = strings.TrimRight(string(b), "\r\n")
			}
			if password == "" {
				return usageError{errors.New("give the password with --password-stdin (or --password)")}
			}
			if err := oci.Login(cmd.Context(), args[0], user, password, "", insecure, nil); err != nil {
				return fmt.Errorf("cannot log in to the registry: %w", err)
			}
			fmt.Fprintf(c.stdout, "Successfully logged in as %s to registry %s\n", user, args[0])
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&user, "username", "u", "", "username for the registry")
	fs.StringVarP(&password, "password", "p", "", "password for the registry (prefer --password-stdin)")
	fs.BoolVar(&passwordStdin, "password-stdin", false, "read the password from stdin")
	fs.BoolVarP(&insecure, "insecure", "k", false, "talk plain HTTP to the registry")
	return cmd
}
