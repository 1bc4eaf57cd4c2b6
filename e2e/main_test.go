//go:build unix

// Package e2e runs the real redspin binary against real redis-server
// processes: it builds ./cmd/redspin once, starts it with os/exec in its own
// process group, drives it with Redis messages and signals, and checks what a
// user sees (stdout, stderr, component log files, /healthz and /metrics),
// the state of Redis, and exit codes.
//
// Tests that need redis-server skip when it is missing, unless
// REDSPIN_E2E=1, which turns the skip into a failure (see
// internal/testutil/redisserver). Everything listens on loopback only; every
// wait polls a condition with a deadline; every load loop is bounded.
package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

var (
	// binary is the redspin executable built by TestMain.
	binary string
	// cacheDir is the --cache-dir shared by every run, so that each guest is
	// compiled once per test run.
	cacheDir string
	// repoRoot is the module root (the parent of this directory).
	repoRoot string
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	flag.Parse()
	tmp, err := os.MkdirTemp("", "redspin-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	repoRoot = filepath.Dir(wd)
	cacheDir = filepath.Join(tmp, "cache")
	binary = filepath.Join(tmp, "redspin")

	// Build the binary the way a user does. Under -race the binary is built
	// with the race detector too, so the end-to-end runs check redspin's own
	// concurrency.
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "./cmd/redspin")
	begin := time.Now()
	build := exec.Command(goTool(), args...)
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go %v: %v\n%s", args, err, out)
		return 1
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "e2e: built redspin (race=%v) in %s\n", raceEnabled, time.Since(begin).Round(time.Millisecond))
	}
	redis.SetLogger(discardLogger{}) // the publishers' dial errors while Redis is down are expected
	return m.Run()
}

type discardLogger struct{}

func (discardLogger) Printf(context.Context, string, ...any) {}

// goTool finds the go command: the toolchain running the tests, else PATH.
func goTool() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
