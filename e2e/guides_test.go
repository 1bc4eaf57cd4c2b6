//go:build unix

package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/redspin/redspin/internal/testutil/goguest"
	"github.com/redspin/redspin/internal/testutil/redisserver"
)

// TestGuides runs the commands of the guest guides (docs/guests/*.md): every
// ```sh block of a page, in order, in one bash script, in a fresh
// directory, with the built redspin on PATH and REDSPIN set to the
// repository. A `redspin up ... # prints: TEXT` line runs until TEXT appears
// and is then stopped with SIGINT. A page whose tools are missing is skipped
// (a failure with REDSPIN_E2E=1).
func TestGuides(t *testing.T) {
	pages := []struct {
		name  string
		needs []string
	}{
		{"go.md", []string{"go"}},
		{"c.md", []string{"clang-14", "node", "npm"}},
		{"rust.md", []string{"/usr/bin/rustc"}},
		{"js.md", []string{"node", "npm"}},
	}
	for _, p := range pages {
		t.Run(strings.TrimSuffix(p.name, ".md"), func(t *testing.T) {
			if p.name == "js.md" && testing.Short() {
				t.Skip("-short: the JS guide installs and runs componentize-js (minutes)")
			}
			for _, tool := range p.needs {
				if _, err := exec.LookPath(tool); err != nil {
					if os.Getenv(redisserver.EnvE2E) == "1" {
						t.Fatalf("%s needs %s and %s=1: %v", p.name, tool, redisserver.EnvE2E, err)
					}
					t.Skipf("%s needs %s (set %s=1 to make this a failure): %v", p.name, tool, redisserver.EnvE2E, err)
				}
			}
			script := guideScript(t, filepath.Join(repoRoot, "docs", "guests", p.name))
			work := t.TempDir()
			env := append(os.Environ(),
				"PATH="+filepath.Dir(binary)+string(os.PathListSeparator)+os.Getenv("PATH"),
				"REDSPIN="+repoRoot)
			if p.name == "go.md" {
				// The guide's app uses this checkout's SDK (GOWORK, as the template tests do).
				env = append(env, "GOWORK="+goguest.WorkFile(t, repoRoot, filepath.Join(work, "hello")))
			}
			cmd := exec.Command("bash", "-c", script)
			cmd.Dir = work
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\nscript:\n%s\noutput:\n%s", p.name, err, script, out)
			}
			if testing.Verbose() {
				t.Logf("%s output:\n%s", p.name, out)
			}
		})
	}
}

// upUntil is the prelude of every guide script: redspin_until TEXT CMD...
// runs CMD until its output holds TEXT (up to 5 minutes), then stops it.
const upUntil = `set -euo pipefail
redspin_until() {
  local want=$1 log pid
  shift
  log=$(mktemp)
  "$@" >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 3000); do
    if grep -qF -- "$want" "$log"; then
      kill -INT "$pid"
      wait "$pid" || { echo "redspin up exited with $? after SIGINT" >&2; cat "$log" >&2; return 1; }
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      cat "$log" >&2
      echo "$* exited before printing: $want" >&2
      return 1
    fi
    sleep 0.1
  done
  kill "$pid"
  cat "$log" >&2
  echo "timed out waiting for: $want" >&2
  return 1
}
`

var printsLine = regexp.MustCompile(`^(redspin up .*?)\s+# prints: (.+)$`)

// guideScript extracts the ```sh blocks of a guide into one bash script.
func guideScript(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	b.WriteString(upUntil)
	in, blocks := false, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case !in && line == "```sh":
			in = true
			blocks++
		case in && line == "```":
			in = false
		case in:
			if m := printsLine.FindStringSubmatch(line); m != nil {
				line = "redspin_until " + shellQuote(m[2]) + " " + m[1]
			}
			b.WriteString(line + "\n")
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if blocks == 0 {
		t.Fatalf("%s has no sh blocks", path)
	}
	return b.String()
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
