// Package build runs the build commands of an application's components, as
// `spin build` does: each component's [component.<id>.build] `command` (a
// string, or an array of strings run in order) through `sh -c`, in the
// component's `workdir` (relative to the manifest's directory; the
// manifest's directory when unset), with redspin's own environment, stdin,
// stdout and stderr. Components are built in manifest order; the first
// failure stops the build with an error naming the component, the command
// and its exit status.
//
// The build tables are read leniently, as Spin reads them: a manifest whose
// other parts are invalid still builds, so a user can build before the rest
// of spin.toml is right (`up` reports those problems afterwards).
package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Component is one component's build configuration.
type Component struct {
	// ID is the component ID.
	ID string
	// Commands are the build commands, run in order; empty = no build.
	Commands []string
	// Workdir is relative to the manifest's directory; "" = that directory.
	Workdir string
}

// Read returns the components of the manifest at path in manifest order
// (V2: the order of the [component.<id>] tables; V1: of [[component]]).
func Read(path string) ([]Component, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Version   any `toml:"spin_manifest_version"`
		Component any `toml:"component"`
	}
	if err := toml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []Component
	switch comps := doc.Component.(type) {
	case nil:
	case []any: // V1: [[component]] with id
		for i, c := range comps {
			t, _ := c.(map[string]any)
			id, _ := t["id"].(string)
			if id == "" {
				return nil, fmt.Errorf("%s: component %d has no id", path, i+1)
			}
			bc, err := readBuild(path, id, t["build"])
			if err != nil {
				return nil, err
			}
			out = append(out, bc)
		}
	case map[string]any: // V2: [component.<id>]
		ids := tableOrder(data, "component")
		var rest []string
		for id := range comps {
			if !slices.Contains(ids, id) {
				rest = append(rest, id)
			}
		}
		sort.Strings(rest)
		for _, id := range append(ids, rest...) {
			t, ok := comps[id].(map[string]any)
			if !ok {
				continue // a [component.x] header inside a string, or not a table
			}
			bc, err := readBuild(path, id, t["build"])
			if err != nil {
				return nil, err
			}
			out = append(out, bc)
		}
	default:
		return nil, fmt.Errorf("%s: `component` is not a table", path)
	}
	return out, nil
}

// readBuild reads one component's build table (nil = none).
func readBuild(path, id string, v any) (Component, error) {
	c := Component{ID: id}
	if v == nil {
		return c, nil
	}
	t, ok := v.(map[string]any)
	if !ok {
		return c, fmt.Errorf("%s: component %q: `build` is not a table", path, id)
	}
	switch cmd := t["command"].(type) {
	case string:
		c.Commands = []string{cmd}
	case []any:
		for _, e := range cmd {
			s, ok := e.(string)
			if !ok {
				return c, fmt.Errorf("%s: component %q: build.command: want strings, got %v", path, id, e)
			}
			c.Commands = append(c.Commands, s)
		}
	default:
		return c, fmt.Errorf("%s: component %q: build.command: want a string or an array of strings", path, id)
	}
	if w, ok := t["workdir"]; ok {
		s, ok := w.(string)
		if !ok {
			return c, fmt.Errorf("%s: component %q: build.workdir: want a string", path, id)
		}
		c.Workdir = s
	}
	return c, nil
}

// tableOrder returns the ids of the [prefix.<id>] tables in the order they
// first appear in data (go-toml's maps have none).
func tableOrder(data []byte, prefix string) []string {
	var ids []string
	seen := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "[") || strings.HasPrefix(line, "[[") {
			continue
		}
		end := strings.Index(line, "]")
		if end < 0 {
			continue
		}
		key := strings.TrimSpace(line[1:end])
		rest, ok := strings.CutPrefix(key, prefix)
		if !ok || !strings.HasPrefix(strings.TrimSpace(rest), ".") {
			continue
		}
		rest = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), "."))
		id := firstKey(rest)
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids
}

// firstKey returns the first dotted-key part of s, unquoting it.
func firstKey(s string) string {
	if strings.HasPrefix(s, `"`) || strings.HasPrefix(s, `'`) {
		q := s[:1]
		if end := strings.Index(s[1:], q); end >= 0 {
			return s[1 : 1+end]
		}
		return ""
	}
	if i := strings.IndexAny(s, ". "); i >= 0 {
		return s[:i]
	}
	return s
}

// Options are what Run needs besides the components.
type Options struct {
	// Dir is the manifest's directory; workdirs are relative to it.
	Dir string
	// IDs selects components (-c); empty = all. Unknown IDs are an error.
	IDs []string
	// Stdin, Stdout and Stderr are the commands' streams and where progress
	// is written (Stdout). nil = none (os.DevNull).
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Env is the commands' environment. nil = redspin's own (os.Environ).
	Env []string
}

// ErrNoBuild is returned by Run when no selected component has a build
// command (not a failure: `spin build` says so and succeeds).
var ErrNoBuild = errors.New("none of the components have a build command")

// Run builds the selected components in order.
func Run(ctx context.Context, comps []Component, opts Options) error {
	selected, err := selectIDs(comps, opts.IDs)
	if err != nil {
		return err
	}
	some := false
	for _, c := range selected {
		some = some || len(c.Commands) > 0
	}
	if !some {
		return ErrNoBuild
	}
	out := opts.Stdout
	if out == nil {
		out = io.Discard
	}
	for _, c := range selected {
		if len(c.Commands) == 0 {
			continue
		}
		if filepath.IsAbs(c.Workdir) {
			return fmt.Errorf("component %q: build.workdir %q must be relative to the manifest's directory", c.ID, c.Workdir)
		}
		wd := filepath.Join(opts.Dir, c.Workdir)
		for i, command := range c.Commands {
			if len(c.Commands) > 1 {
				fmt.Fprintf(out, "Running build step %d/%d for component %s with '%s'\n", i+1, len(c.Commands), c.ID, command)
			} else {
				fmt.Fprintf(out, "Building component %s with `%s`\n", c.ID, command)
			}
			if c.Workdir != "" {
				fmt.Fprintf(out, "Working directory: %q\n", wd)
			}
			cmd := exec.CommandContext(ctx, "sh", "-c", command)
			cmd.Dir = wd
			cmd.Env = opts.Env
			cmd.Stdin, cmd.Stdout, cmd.Stderr = opts.Stdin, opts.Stdout, opts.Stderr
			if err := cmd.Run(); err != nil {
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					return fmt.Errorf("build command for component %q failed with %s: %s", c.ID, exitStatus(ee), command)
				}
				return fmt.Errorf("component %q: cannot run build command %q in %s: %w", c.ID, command, wd, err)
			}
		}
	}
	fmt.Fprintln(out, "Finished building all Spin components")
	return nil
}

// exitStatus is "exit code N" or "signal S".
func exitStatus(ee *exec.ExitError) string {
	if code := ee.ExitCode(); code >= 0 {
		return fmt.Sprintf("exit code %d", code)
	}
	return ee.ProcessState.String()
}

// selectIDs filters comps by ids (all when empty), keeping manifest order.
func selectIDs(comps []Component, ids []string) ([]Component, error) {
	if len(ids) == 0 {
		return comps, nil
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var out []Component
	for _, c := range comps {
		if want[c.ID] {
			out = append(out, c)
			delete(want, c.ID)
		}
	}
	if len(want) > 0 {
		var unknown []string
		for _, id := range ids {
			if want[id] {
				unknown = append(unknown, id)
				delete(want, id)
			}
		}
		return nil, fmt.Errorf("unknown component(s) %s", strings.Join(unknown, ", "))
	}
	return out, nil
}
