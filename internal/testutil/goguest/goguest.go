// Package goguest builds Go guests for tests, as a user of the Go SDK
// would: `GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared`, then the
// SDK's post-link step (package sdk/go/componentize).
package goguest

import (
	"os"
	"os/exec"
	"path/filepath"
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
