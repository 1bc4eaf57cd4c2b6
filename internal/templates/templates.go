// Package templates holds the application templates of `redspin new`,
// embedded in the binary, and writes one out as a new application.
//
// A template is a folder of files/ whose text may hold these placeholders:
//
//	{{project-name}}  the name as given
//	{{id}}            the name in kebab-case: the component ID
//	{{sdk-version}}   the version of github.com/redspin/redspin the Go SDK is required at
//
// File names ending in .tmpl lose the suffix (files named go.mod or *.go
// would otherwise be part of this Go module); gitignore.tmpl becomes
// .gitignore. A template with a Base starts from the base template's files;
// its own files replace those of the same name (the stream templates share
// go.mod, package.json and wit/ with their pub/sub twins this way).
// Templates with a wit/world.wit also get the WIT packages of the Spin
// interfaces in wit/deps.
package templates

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"unicode"

	"github.com/redspin/redspin/internal/manifest"
	"github.com/redspin/redspin/wit"
)

// Template describes one template.
type Template struct {
	// Name is what `redspin new` takes, e.g. "redis-go".
	Name string
	// Description is one line for `redspin new --list`.
	Description string
	// Needs names the tools its build command runs.
	Needs string
	// Base is the template whose files this one starts from; "" = none.
	Base string
}

// all lists the templates, in --list order.
var all = []Template{
	{Name: "redis-go", Description: "Redis message handler in Go (standard Go toolchain, redspin's Go SDK)", Needs: "go 1.26+"},
	{Name: "redis-js", Description: "Redis message handler in JavaScript (componentize-js)", Needs: "node 20+, npm"},
	{Name: "redis-stream-go", Description: "Redis Stream handler in Go (at-least-once, retries, dead letters)", Needs: "go 1.26+", Base: "redis-go"},
	{Name: "redis-stream-js", Description: "Redis Stream handler in JavaScript (at-least-once, retries, dead letters)", Needs: "node 20+, npm", Base: "redis-js"},
}

// List returns every template.
func List() []Template { return append([]Template(nil), all...) }

// Options are the values a template is written with.
type Options struct {
	// SDKVersion is the module version the Go templates require
	// github.com/redspin/redspin at. Required for Go templates.
	SDKVersion string
}

// ID returns the component ID for an application name: the name in
// kebab-case, as Spin's templates derive it ({{project-name | kebab_case}}),
// checked by Spin's rules for component IDs.
func ID(name string) (string, error) {
	id := kebab(name)
	if err := manifest.CheckComponentID(id); err != nil {
		if id != name {
			return "", fmt.Errorf("name %q (component ID %q): %v", name, id, err)
		}
		return "", fmt.Errorf("name %q: %v", name, err)
	}
	return id, nil
}

// kebab converts s to kebab-case as Rust's heck crate does: words split at
// non-alphanumerics and at lower-to-upper case changes (and before the last
// capital of a run followed by a lower-case letter), lower-cased, joined by '-'.
func kebab(s string) string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(s)
	for i, r := range rs {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			flush()
			continue
		}
		if len(cur) > 0 && unicode.IsUpper(r) {
			prev := cur[len(cur)-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				flush()
			}
		}
		cur = append(cur, r)
	}
	flush()
	return strings.Join(words, "-")
}

// Write writes template name for an application called appName into dir,
// which must not exist or be empty. It returns the files written, relative
// to dir, sorted.
func Write(name, appName, dir string, opts Options) ([]string, error) {
	tpl, ok := find(name)
	if !ok {
		return nil, fmt.Errorf("unknown template %q; `redspin new --list` shows the templates", name)
	}
	id, err := ID(appName)
	if err != nil {
		return nil, err
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("directory %s already exists and is not empty; choose another name or -o", dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	// out maps each file's path in the app to its text, base files first.
	out := map[string][]byte{}
	for _, t := range []string{tpl.Base, tpl.Name} {
		if t != "" {
			if err := collect(t, out); err != nil {
				return nil, fmt.Errorf("template %q: %w", name, err)
			}
		}
	}
	if _, hasWIT := out["wit/world.wit"]; hasWIT {
		err := fs.WalkDir(wit.Deps, "deps", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := fs.ReadFile(wit.Deps, p)
			out[path.Join("wit", p)] = data
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("template %q: %w", name, err)
		}
	}
	repl := strings.NewReplacer("{{project-name}}", appName, "{{id}}", id, "{{sdk-version}}", opts.SDKVersion)
	written := make([]string, 0, len(out))
	for rel := range out {
		written = append(written, rel)
	}
	sort.Strings(written)
	for _, rel := range written {
		data := out[rel]
		if !strings.HasPrefix(rel, "wit/deps/") {
			data = []byte(repl.Replace(string(data)))
		}
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, fmt.Errorf("template %q: write %s: %w", name, dir, err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return nil, fmt.Errorf("template %q: write %s: %w", name, dir, err)
		}
	}
	return written, nil
}

// collect adds template name's files to out under their names in the app,
// replacing files already there.
func collect(name string, out map[string][]byte) error {
	tfs, err := fs.Sub(files, "files/"+name)
	if err != nil {
		return err
	}
	return fs.WalkDir(tfs, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(tfs, p)
		if err != nil {
			return err
		}
		rel := strings.TrimSuffix(p, ".tmpl")
		if rel == "gitignore" {
			rel = ".gitignore"
		}
		out[rel] = data
		return nil
	})
}

func find(name string) (Template, bool) {
	for _, t := range all {
		if t.Name == name {
			return t, true
		}
	}
	return Template{}, false
}
