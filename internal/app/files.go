package app

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/redspin/redspin/internal/diag"
	"github.com/redspin/redspin/internal/manifest"
)

// stageFiles lays out a component's `files` in a private directory that the
// guest sees, read-only, as its root. Glob entries keep their path relative to
// the manifest directory; {source, destination} entries are placed at their
// destination. Files are hard-linked where the filesystem allows, else copied,
// so a guest can never reach anything outside what the manifest lists.
func (a *App) stageFiles(c *Component) error {
	spec := c.Spec
	if len(spec.Files) == 0 {
		return nil
	}
	if a.stagingDir == "" {
		d, err := os.MkdirTemp("", "redspin-files-")
		if err != nil {
			return diag.Errorf("component %q: files: %w", spec.ID, err)
		}
		a.stagingDir = d
	}
	root := filepath.Join(a.stagingDir, spec.ID)
	if err := StageFiles(a.Manifest.Dir, spec, root); err != nil {
		return err
	}
	c.Mounts = append(c.Mounts, Mount{HostDir: root, GuestDir: "/"})
	return nil
}

// StageFiles lays out the `files` of spec (relative to the manifest
// directory base) under root as the guest sees them, as Spin's loader copies
// them before `spin registry push`.
func StageFiles(base string, spec *manifest.Component, root string) error {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	var excludes []*regexp.Regexp
	for _, g := range spec.ExcludeFiles {
		re, err := globRegexp(g)
		if err != nil {
			return diag.Errorf("component %q: exclude_files %q: %w", spec.ID, g, err)
		}
		excludes = append(excludes, re)
	}
	excluded := func(rel string) bool {
		for _, re := range excludes {
			if re.MatchString(rel) {
				return true
			}
		}
		return false
	}
	for _, f := range spec.Files {
		if f.Glob != "" {
			matches, err := globFiles(base, f.Glob)
			if err != nil {
				return diag.Errorf("component %q: files %q: %w", spec.ID, f.Glob, err)
			}
			for _, rel := range matches {
				if excluded(rel) {
					continue
				}
				if err := place(filepath.Join(base, filepath.FromSlash(rel)), filepath.Join(root, filepath.FromSlash(rel))); err != nil {
					return diag.Errorf("component %q: files %q: %w", spec.ID, f.Glob, err)
				}
			}
			continue
		}
		src := f.Source
		if !filepath.IsAbs(src) {
			src = filepath.Join(base, src)
		}
		dst := filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(path.Clean(f.Destination), "/")))
		err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, err := filepath.Rel(src, p)
			if err != nil {
				return err
			}
			if rel == "." {
				return place(p, dst)
			}
			return place(p, filepath.Join(dst, rel))
		})
		if err != nil {
			return diag.Errorf("component %q: files {source = %q, destination = %q}: %w", spec.ID, f.Source, f.Destination, err)
		}
	}
	return nil
}

// place makes dst a read-only view of the regular file src.
func place(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o444)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// globFiles returns the regular files under base whose slash-separated path
// relative to base matches pattern. The walk starts at the pattern's literal
// prefix, so "static/**/*" never reads outside static/.
func globFiles(base, pattern string) ([]string, error) {
	pattern = strings.TrimPrefix(path.Clean(filepath.ToSlash(pattern)), "./")
	if strings.HasPrefix(pattern, "/") || strings.HasPrefix(pattern, "../") {
		return nil, fmt.Errorf("the pattern must stay inside the manifest directory; use {source = ..., destination = ...} for other paths")
	}
	re, err := globRegexp(pattern)
	if err != nil {
		return nil, err
	}
	prefix := literalPrefix(pattern)
	start := filepath.Join(base, filepath.FromSlash(prefix))
	var out []string
	err = filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && p == start {
				return nil
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(base, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if re.MatchString(rel) {
			out = append(out, rel)
		}
		return nil
	})
	return out, err
}

// literalPrefix returns the leading path segments that hold no glob syntax.
func literalPrefix(pattern string) string {
	segs := strings.Split(pattern, "/")
	var lit []string
	for _, s := range segs[:len(segs)-1] {
		if strings.ContainsAny(s, "*?[{") {
			break
		}
		lit = append(lit, s)
	}
	return strings.Join(lit, "/")
}

// globRegexp compiles a glob with `*`, `?`, `[...]` and `**` (any number of
// directories) into an anchored regular expression over slash paths.
func globRegexp(pattern string) (*regexp.Regexp, error) {
	pattern = strings.TrimPrefix(path.Clean(filepath.ToSlash(pattern)), "./")
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case strings.HasPrefix(pattern[i:], "**/"):
			b.WriteString("(?:.*/)?")
			i += 2
		case strings.HasPrefix(pattern[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '[':
			end := strings.IndexByte(pattern[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("unclosed '[' in glob")
			}
			class := pattern[i+1 : i+end]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + class + "]")
			i += end
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}
