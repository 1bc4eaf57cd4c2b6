//go:build unix

package e2e

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// copyExamples copies the repository's examples/ into a temp dir (so runs
// leave nothing behind in the tree) and returns the copy's parent dir.
func copyExamples(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	src := filepath.Join(repoRoot, "examples")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		dst := filepath.Join(root, "examples", rel)
		if d.IsDir() {
			if d.Name() == ".spin" {
				return filepath.SkipDir
			}
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return root
}

var addressRe = regexp.MustCompile(`(?m)^\s*address\s*=`)

// `redspin check` accepts every example (with --embedded-redis when the
// example names no Redis address) and compiles its components.
func TestCheckExamples(t *testing.T) {
	t.Parallel()
	root := copyExamples(t)
	manifests, err := filepath.Glob(filepath.Join(root, "examples", "*", "spin.toml"))
	if err != nil || len(manifests) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for _, m := range manifests {
		name := filepath.Base(filepath.Dir(m))
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(m)
			if err != nil {
				t.Fatal(err)
			}
			args := []string{"check", "-f", filepath.Dir(m), "--cache-dir", cacheDir}
			if !addressRe.Match(body) {
				args = append(args, "--embedded-redis")
			}
			code, out, errOut := runRedspin(t, runOpts{dir: filepath.Dir(m)}, args...)
			if code != 0 {
				t.Fatalf("%q: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, out, errOut)
			}
			for _, want := range []string{`App "` + name + `"`, "Components:", "exporting fermyon:spin/inbound-redis", "\nOK\n"} {
				if !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(errOut, "Warning:") {
				t.Errorf("warnings for a shipped example:\n%s", errOut)
			}
		})
	}
}

// The README's quick start, in a copy of the repository's examples:
// `redspin up -f examples/hello-redis --embedded-redis --publish
// messages=hello` prints the handled message; `redspin publish` reaches the
// running app; SIGINT exits 0. (--cache-dir is added so the run does not
// write to the user's cache.)
func TestQuickStart(t *testing.T) {
	t.Parallel()
	root := copyExamples(t)
	p := startRedspin(t, runOpts{dir: root},
		"up", "-f", "examples/hello-redis", "--embedded-redis", "--publish", "messages=hello", "--cache-dir", cacheDir)
	p.waitStderr("Got message: hello\n")
	// stdout is a separate pipe: wait for its lines rather than assume they
	// arrived before the handler's stderr line.
	for _, want := range []string{"Embedded Redis listening on redis://127.0.0.1:", "Active Channels on 127.0.0.1:", "/messages: [hello]\n",
		`Logging component stdio to "examples/hello-redis/.spin/logs/"`} {
		p.waitStdout(want)
	}
	// README: `redspin publish CHANNEL MESSAGE` in the app's directory finds
	// the embedded Redis of the running `up`.
	code, pubOut, pubErr := runRedspin(t, runOpts{dir: filepath.Join(root, "examples", "hello-redis")}, "publish", "messages", "second")
	if code != 0 {
		t.Fatalf("redspin publish: exit %d\nstdout:\n%s\nstderr:\n%s", code, pubOut, pubErr)
	}
	p.waitStderr("Got message: second\n")
	if code := p.stop(syscall.SIGINT); code != 0 {
		t.Fatalf("exit %d after SIGINT\n%s", code, p.output())
	}
	if s := exitSummary(t, p.stderr.String()); s != (summary{received: 2, handled: 2}) {
		t.Errorf("summary %+v, want 2 received, 2 handled", s)
	}
	logs, err := os.ReadFile(filepath.Join(root, "examples", "hello-redis", ".spin", "logs", "hello_stdout.txt"))
	if err != nil || string(logs) != "Got message: hello\nGot message: second\n" {
		t.Errorf("hello_stdout.txt = %q, %v", logs, err)
	}
}
