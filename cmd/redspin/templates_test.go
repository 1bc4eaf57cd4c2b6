package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redspin/redspin/internal/testutil/goguest"
)

// useCheckoutSDK makes Go builds in appDir use this checkout's SDK instead
// of downloading github.com/redspin/redspin at the version the template
// requires (not published when testing a change), as a developer of
// redspin would set it up.
func useCheckoutSDK(t *testing.T, appDir string) {
	t.Setenv("GOWORK", goguest.WorkFile(t, mustAbs(t, "../.."), appDir))
}

// newBuildUp runs `redspin new`, `redspin build` and `redspin up
// --embedded-redis --publish messages=hi` (a channel, or the stream of the
// stream templates) for a template, as the template's README says, and
// checks the handler's output.
func newBuildUp(t *testing.T, template string, prepare func(appDir string)) {
	dir := filepath.Join(t.TempDir(), "hello")
	if prepare != nil {
		prepare(dir)
	}
	code, out, errOut := runCLI(t, context.Background(), "", "new", template, "hello", "-o", dir)
	if code != exitOK || !strings.Contains(out, "Created "+dir+" from template "+template) {
		t.Fatalf("new: exit %d\n%s\n%s", code, out, errOut)
	}
	start := time.Now()
	code, out, errOut = runCLI(t, context.Background(), "", "build", "-f", dir)
	if code != exitOK || !strings.Contains(out, "Finished building all Spin components") {
		t.Fatalf("build: exit %d\n%s\n%s", code, out, errOut)
	}
	t.Logf("%s: redspin build took %s", template, time.Since(start).Round(100*time.Millisecond))
	_, errOut2, stop := startCLI(t, "up", "-f", dir, "--embedded-redis", "--publish", "messages=hi", "--cache-dir", t.TempDir())
	// A JS component (12 MB) takes a while to compile on a loaded machine.
	deadline := time.Now().Add(5 * time.Minute)
	for !strings.Contains(errOut2.String(), "hello received: hi\n") {
		if time.Now().After(deadline) {
			t.Fatalf("no handler output after 5 minutes:\n%s", errOut2)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("up: exit %d\n%s", code, errOut2)
	}
}

func TestTemplateRedisGo(t *testing.T) {
	goguest.RequireGo(t)
	newBuildUp(t, "redis-go", func(appDir string) { useCheckoutSDK(t, appDir) })
}

func TestTemplateRedisStreamGo(t *testing.T) {
	goguest.RequireGo(t)
	newBuildUp(t, "redis-stream-go", func(appDir string) { useCheckoutSDK(t, appDir) })
}

// The redis-js and redis-stream-js templates are tested by e2e's
// TestGuides/js, which runs the same new, build and up commands from
// docs/guests/js.md (a JS build installs componentize-js and takes minutes,
// so it runs once; the stream app reuses its node_modules).

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"new"}, exitUsage, "want a template and a name"},
		{[]string{"new", "redis-go"}, exitUsage, "want a template and a name"},
		{[]string{"new", "nope", "x", "-o", filepath.Join(dir, "a")}, exitUsage, `unknown template "nope"; ` + "`redspin new --list`"},
		{[]string{"new", "redis-go", "9lives", "-o", filepath.Join(dir, "b")}, exitUsage, `name "9lives": '-'-separated words must start with an ASCII letter; got '9'`},
		{[]string{"new", "redis-go", "App 2go", "-o", filepath.Join(dir, "c")}, exitUsage, `name "App 2go" (component ID "app-2go")`},
		{[]string{"new", "--list", "extra"}, exitUsage, "unknown command"},
	} {
		code, _, errOut := runCLI(t, context.Background(), "", tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, stderr:\n%s\nwant exit %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
	code, out, _ := runCLI(t, context.Background(), "", "new", "--list")
	for _, want := range []string{"redis-go ", "redis-js ", "redis-stream-go ", "redis-stream-js "} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("--list: exit %d, no %q\n%s", code, want, out)
		}
	}
}

// TestBuildAndUpBuild checks `redspin build` and `up --build` with plain
// shell build commands: selection, the failure message, and that up builds
// before it loads the app.
func TestBuildAndUpBuild(t *testing.T) {
	hello := mustAbs(t, "../../examples/hello-redis/hello.wasm")
	dir := writeManifest(t, `spin_manifest_version = 2
[application]
name = "b"
[[trigger.redis]]
channel = "messages"
component = "hello"
[component.hello]
source = "out/hello.wasm"
[component.hello.build]
command = ["mkdir -p out", "cp `+hello+` out/hello.wasm"]
[component.broken]
source = "broken.wasm"
[component.broken.build]
command = "echo compiling broken >&2; exit 7"
workdir = "."
`)
	code, _, errOut := runCLI(t, context.Background(), "", "build", "-f", dir)
	if code != exitFailure || !strings.Contains(errOut, `Error: build command for component "broken" failed with exit code 7: echo compiling broken >&2; exit 7`) {
		t.Errorf("build: exit %d\n%s", code, errOut)
	}
	code, _, errOut = runCLI(t, context.Background(), "", "build", "-f", dir, "-c", "nope")
	if code != exitFailure || !strings.Contains(errOut, "unknown component(s) nope") {
		t.Errorf("build -c nope: exit %d\n%s", code, errOut)
	}
	code, out, errOut := runCLI(t, context.Background(), "", "build", "-f", dir, "-c", "hello")
	if code != exitOK || !strings.Contains(out, "Running build step 2/2 for component hello") {
		t.Fatalf("build -c hello: exit %d\n%s\n%s", code, out, errOut)
	}
	if err := os.RemoveAll(filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	// up --build builds every component, as spin up --build does: broken fails it.
	code, _, errOut = runCLI(t, context.Background(), "", "up", "-f", dir, "--build", "--embedded-redis")
	if code != exitFailure || !strings.Contains(errOut, `component "broken" failed with exit code 7`) {
		t.Errorf("up --build: exit %d\n%s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "hello.wasm")); err != nil {
		t.Errorf("up --build did not build hello first: %v", err)
	}
	// Without the broken component, up --build builds and runs.
	os.WriteFile(filepath.Join(dir, "spin.toml"), []byte(`spin_manifest_version = 2
[application]
name = "b"
[[trigger.redis]]
channel = "messages"
component = "hello"
[component.hello]
source = "out/hello.wasm"
[component.hello.build]
command = "mkdir -p out && cp `+hello+` out/hello.wasm"
`), 0o644)
	os.RemoveAll(filepath.Join(dir, "out"))
	_, errOut2, stop := startCLI(t, "up", "-f", dir, "--build", "--embedded-redis", "--publish", "messages=built", "--cache-dir", t.TempDir())
	waitFor(t, "the message", func() bool {
		return strings.Contains(errOut2.String(), "Got message: built\n")
	})
	if code := stop(); code != exitOK {
		t.Fatalf("up --build: exit %d\n%s", code, errOut2)
	}
}
