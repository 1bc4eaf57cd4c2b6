// Package goguest builds Go guests for tests, as a user of the Go SDK
// would: `GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared`, then the
// SDK's post-link step (package sdk/go/componentize).
package goguest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/redspin/redspin/internal/testutil/redisserver"
	"github.com/redspin/redspin/sdk/go/componentize"
)

// RequireGo returns the go command's path. It skips the test when go is not
// on PATH, or fails it when REDSPIN_E2E=1.
func RequireGo(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv(redisserver.EnvE2E) == "1" {
			t.Fatalf("go not found on PATH and %s=1", redisserver.EnvE2E)
		}
		t.Skipf("go not found on PATH (needed to build Go guests; set %s=1 to make this a failure): %v", redisserver.EnvE2E, err)
	}
	return bin
}

// WasmEnv is the environment of a guest build: the test's, for wasip1.
func WasmEnv() []string {
	return append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
}

// Build builds the Go package in pkgDir (run from that directory, so its
// module applies) with the build tags and returns the finished module, written
// to a file in dir; raw is the size of go build's output.
func Build(t testing.TB, pkgDir, dir, name string, tags ...string) (path string, raw int) {
	t.Helper()
	gobin := RequireGo(t)
	rawPath := filepath.Join(dir, name+".raw.wasm")
	args := []string{"build", "-buildmode=c-shared", "-trimpath", "-buildvcs=false", "-o", rawPath}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	cmd := exec.Command(gobin, append(args, ".")...)
	cmd.Dir = pkgDir
	cmd.Env = WasmEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkgDir, err, out)
	}
	b, err := os.ReadFile(rawPath)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := componentize.Module(b)
	if err != nil {
		t.Fatalf("componentize %s: %v", rawPath, err)
	}
	path = filepath.Join(dir, name+".wasm")
	if err := os.WriteFile(path, mod, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, len(b)
}

// JCO returns the command (node and its arguments) that runs the repository's
// pinned jco with the preopen workaround (scripts/guests; see
// scripts/build-guests.sh), given the repository root. It skips the test
// when node or the npm tools are missing (run `npm ci` in scripts/guests),
// or fails it when REDSPIN_E2E=1.
func JCO(t testing.TB, root string) []string {
	t.Helper()
	node, err := exec.LookPath("node")
	tools := filepath.Join(root, "scripts", "guests")
	jco := filepath.Join(tools, "node_modules", "@bytecodealliance", "jco", "dist", "jco.js")
	if err == nil {
		_, err = os.Stat(jco)
	}
	if err != nil {
		if os.Getenv(redisserver.EnvE2E) == "1" {
			t.Fatalf("node or jco missing and %s=1 (run `npm ci` in scripts/guests): %v", redisserver.EnvE2E, err)
		}
		t.Skipf("node or jco missing (run `npm ci` in scripts/guests; set %s=1 to make this a failure): %v", redisserver.EnvE2E, err)
	}
	return []string{node, "--import", filepath.Join(tools, "tools", "preopen-fix.mjs"), jco}
}

// Component makes a component of the finished module at path with jco and
// the WASI preview1 reactor adapter, as Spin's componentize step does, and
// returns its path (next to the module, .component.wasm).
func Component(t testing.TB, root, path string) string {
	t.Helper()
	jco := JCO(t, root)
	out := strings.TrimSuffix(path, ".wasm") + ".component.wasm"
	cmd := exec.Command(jco[0], append(jco[1:], "new", path, "--wasi-reactor", "-o", out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("jco new %s: %v\n%s", path, err, b)
	}
	return out
}

// WorkFile writes a go.work in a temporary directory that uses the module
// at root (this checkout) and the module directories in use (which need not
// exist yet), with root's go version, and returns its path. With GOWORK set
// to it, Go builds in those directories use the checkout's SDK instead of
// downloading github.com/redspin/redspin at the version their go.mod requires.
func WorkFile(t testing.TB, root string, use ...string) string {
	t.Helper()
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go \S+$`).Find(gomod)
	body := string(goLine) + "\n\nuse (\n"
	for _, u := range append(use, root) {
		body += "\t" + u + "\n"
	}
	work := filepath.Join(t.TempDir(), "go.work")
	if err := os.WriteFile(work, []byte(body+")\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return work
}
