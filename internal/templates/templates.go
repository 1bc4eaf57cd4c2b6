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
// .gitignore. Templates whose files include wit/ also get the WIT packages
// of the Spin interfaces in wit/deps.
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
}

// all lists the templates, in --list order.
var all = []Template{
	{Name: "redis-go", Description: "Redis message handler in Go (standard Go toolchain, redspin's Go SDK)", Needs: "go 1.26+"},
	{Name: "redis-js", Description: "Redis message handler in JavaScript (componentize-js)", Needs: "node 20+, npm"},
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
	tfs, err := fs.Sub(files, "files/"+name)
	if err != nil || !known(name) {
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
	repl := strings.NewReplacer("{{project-name}}", appName, "{{id}}", id, "{{sdk-version}}", opts.SDKVersion)
	var written []string
	write := func(rel string, data []byte) error {
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		written = append(written, rel)
		return os.WriteFile(dst, data, 0o644)
	}
	hasWIT := false
	err = fs.WalkDir(tfs, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(tfs, p)
		if err != nil {
			return err
		}
		if strings.HasPrefix(p, "wit/") {
			hasWIT = true
		}
		rel := strings.TrimSuffix(p, ".tmpl")
		if rel == "gitignore" {
			rel = ".gitignore"
		}
		return write(rel, []byte(repl.Replace(string(data))))
	})
	if err == nil && hasWIT {
		err = fs.WalkDir(wit.Deps, "deps", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := fs.ReadFile(wit.Deps, p)
			if err != nil {
				return err
			}
			return write(path.Join("wit", p), data)
		})
	}
	if err != nil {
		return nil, fmt.Errorf("template %q: write %s: %w", name, dir, err)
	}
	sort.Strings(written)
	return written, nil
}

func known(name string) bool {
	for _, t := range all {
		if t.Name == name {
			return true
		}
	}
	return false
}
