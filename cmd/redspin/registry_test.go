package main

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redspin/redspin/internal/testutil/ociregistry"
)

// TestUpFromRegistry pushes an example to an in-process registry, runs it
// with `up -f <ref>`, then runs it again from the cache with the registry gone.
func TestUpFromRegistry(t *testing.T) {
	reg := ociregistry.Start(t, ociregistry.Options{})
	ref := reg.Host + "/apps/hello-redis:v1"
	dir := copyExample(t, "hello-redis")
	code, out, errOut := runCLI(t, context.Background(), "", "registry", "push", ref, "-f", dir, "--cache-dir", t.TempDir())
	if code != exitOK || !strings.HasPrefix(out, "Pushed with digest sha256:") {
		t.Fatalf("push: exit %d\n%s%s", code, out, errOut)
	}
	cache := t.TempDir()
	runUp := func(wantOffline bool) {
		t.Helper()
		out, errOut, stop := startCLI(t, "up", "-f", ref, "--embedded-redis", "--publish", "messages=hello", "--cache-dir", cache)
		waitFor(t, "the component's output", func() bool { return strings.Contains(errOut.String(), "Got message: hello\n") })
		if code := stop(); code != exitOK {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
		if offline := strings.Contains(errOut.String(), "registry unreachable"); offline != wantOffline {
			t.Errorf("offline warning = %v, want %v:\n%s", offline, wantOffline, errOut)
		}
	}
	runUp(false)
	reg.Close()
	runUp(true)
}

func TestUpFromRegistryErrors(t *testing.T) {
	code, _, errOut := runCLI(t, context.Background(), "", "up", "-f", "x", "--from-registry", "127.0.0.1:1/a:v1")
	if code != exitUsage || !strings.Contains(errOut, "cannot be used together") {
		t.Errorf("-f with --from-registry: exit %d: %s", code, errOut)
	}
	code, _, errOut = runCLI(t, context.Background(), "", "check", "--from-registry", "127.0.0.1:1/a:v1", "--cache-dir", t.TempDir())
	if code != exitFailure || !strings.Contains(errOut, `cannot pull Spin application from registry reference "127.0.0.1:1/a:v1"`) {
		t.Errorf("unreachable registry: exit %d: %s", code, errOut)
	}
}

func TestRegistryLoginAndPull(t *testing.T) {
	reg := ociregistry.Start(t, ociregistry.Options{User: "bob", Password: "pw"})
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "config"))
	t.Setenv("DOCKER_CONFIG", filepath.Join(home, "docker"))
	ref := reg.Host + "/apps/vars:v1"
	dir := copyExample(t, "variables")
	if code, _, errOut := runCLI(t, context.Background(), "", "registry", "push", ref, "-f", dir, "--cache-dir", t.TempDir()); code != exitFailure || !strings.Contains(errOut, "401") {
		t.Fatalf("push without login: exit %d: %s", code, errOut)
	}
	code, out, errOut := runCLI(t, context.Background(), "pw\n", "registry", "login", reg.Host, "-u", "bob", "--password-stdin")
	if code != exitOK || !strings.Contains(out, "Successfully logged in as bob") {
		t.Fatalf("login: exit %d: %s%s", code, out, errOut)
	}
	b, err := os.ReadFile(filepath.Join(home, "config", "fermyon", "registry-auth.json"))
	if err != nil || !strings.Contains(string(b), base64.StdEncoding.EncodeToString([]byte("bob:pw"))) {
		t.Fatalf("registry-auth.json: %s %v", b, err)
	}
	if code, out, errOut := runCLI(t, context.Background(), "", "registry", "push", ref, "-f", dir, "--cache-dir", t.TempDir()); code != exitOK {
		t.Fatalf("push: exit %d: %s%s", code, out, errOut)
	}
	cache := t.TempDir()
	code, out, errOut = runCLI(t, context.Background(), "", "registry", "pull", ref, "--cache-dir", cache)
	if code != exitOK || !strings.Contains(out, "Successfully pulled") {
		t.Fatalf("pull: exit %d: %s%s", code, out, errOut)
	}
	// The pulled locked app is a valid -f input for check.
	lock := strings.TrimSpace(out[strings.Index(out, "Locked app: ")+len("Locked app: "):])
	code, out, errOut = runCLI(t, context.Background(), "", "check", "-f", lock, "--cache-dir", cache, "--no-components")
	if code != exitOK || !strings.Contains(out, `App "variables"`) || !strings.Contains(out, "greetings") {
		t.Fatalf("check of the pulled app: exit %d\n%s%s", code, out, errOut)
	}
}

// registry push includes redis-stream triggers and their components: check reads them back from the
// pulled app.
func TestRegistryPushStreamTriggers(t *testing.T) {
	dir := writeStreamApp(t, `[[trigger.redis-stream]]
component = "hello"
stream = "orders"
max_deliveries = 2
`)
	reg := ociregistry.Start(t, ociregistry.Options{})
	ref := reg.Host + "/apps/shop:v1"
	if code, out, errOut := runCLI(t, context.Background(), "", "registry", "push", ref, "-f", dir, "--cache-dir", t.TempDir()); code != exitOK {
		t.Fatalf("push: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := runCLI(t, context.Background(), "", "check", "--from-registry", ref, "--cache-dir", t.TempDir())
	want := `Stream 127.0.0.1:6390/orders: [hello] group "shop-hello", consumer <hostname>-<pid>-<random> (--consumer overrides), dead letters to "orders:dead" (field "payload", start "0", concurrency 1, read_ahead 16, max_deliveries 2)`
	if code != exitOK || !strings.Contains(out, want) || !strings.Contains(out, "hello: component exporting fermyon:spin/inbound-redis") {
		t.Fatalf("check: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}
