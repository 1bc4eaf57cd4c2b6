package main

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// TestCheckUnresolvedVariable: a required variable that no provider
// resolves makes `check` fail, as it makes `up` fail; --allow-unresolved
// turns it into a warning and shows what uses it as its template (issue 10,
// defect 6).
func TestCheckUnresolvedVariable(t *testing.T) {
	dir := secretApp(t, "redis_address = { required = true, secret = true }\nredis_channel = { required = true }\napi_host = { required = true }",
		"address = \"{{ redis_address }}\"\nchannel = \"{{ redis_channel }}\"", `allowed_outbound_hosts = ["redis://{{ api_host }}:6379"]`)
	env := func(t *testing.T) {
		for _, k := range []string{"SPIN_VARIABLE_REDIS_ADDRESS", "SPIN_VARIABLE_REDIS_CHANNEL", "SPIN_VARIABLE_API_HOST"} {
			t.Setenv(k, "")
		}
	}
	env(t)
	code, out, errOut := runCLI(t, context.Background(), "", "check", "-f", dir, "--no-components")
	if code != exitFailure || strings.Contains(out, "OK") ||
		!strings.Contains(errOut, `failed to resolve redis trigger address "{{ redis_address }}" for component "hello": no provider resolved required variable "redis_address"`) {
		t.Fatalf("check: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	// Only a variable nothing in the triggers uses: still an error.
	code, out, errOut = runCLI(t, context.Background(), "", "check", "-f", dir, "--no-components",
		"--variable", "redis_address=redis://h:1", "--variable", "redis_channel=c")
	if code != exitFailure || !strings.Contains(errOut, `no provider resolved required variable`) || !strings.Contains(errOut, "api_host") {
		t.Fatalf("check, api_host missing: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, context.Background(), "", "check", "-f", dir, "--allow-unresolved", "--cache-dir", t.TempDir())
	if code != exitOK || !strings.HasSuffix(out, "OK\n") {
		t.Fatalf("check --allow-unresolved: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{"Redis {{ redis_address }} (unresolved):\n", "\t{{ redis_address }} (unresolved)/{{ redis_channel }}: [hello]\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	for _, want := range []string{`no provider resolved required variable(s): ["api_host", "redis_address", "redis_channel"] (redspin up will refuse to start)`,
		`component "hello": allowed_outbound_hosts entry "redis://{{ api_host }}:6379" is left out`} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	code, _, errOut = runCLI(t, context.Background(), "", "up", "-f", dir, "--cache-dir", t.TempDir())
	if code != exitFailure || !strings.Contains(errOut, "no provider resolved required variable") {
		t.Fatalf("up: exit %d\nstderr:\n%s", code, errOut)
	}
	code, out, _ = runCLI(t, context.Background(), "", "check", "--help")
	if code != exitOK || !strings.Contains(out, "--allow-unresolved") || !strings.Contains(out, "It exits 0 when the app is valid and 1 otherwise") {
		t.Errorf("check --help:\n%s", out)
	}
}

// TestUnknownURLParamsWarned: an unknown query parameter in a trigger
// address is named once, in `check` and in `up`, never with its value
// (issue 10, defect 7).
func TestUnknownURLParamsWarned(t *testing.T) {
	dir := secretApp(t, "[application.trigger.redis]\naddress = \"redis://127.0.0.1:1?password=hunter2&foo=bar\"",
		"channel = \"a\"\n[[trigger.redis]]\ncomponent = \"hello\"\nchannel = \"b\"", "")
	const want = `Warning: Redis server 127.0.0.1:1: ignoring unknown query parameter(s) "foo", "password": redspin reads only protocol (and db, user, pass for unix sockets)`
	for _, args := range [][]string{{"check", "--no-components"}, {"up"}} {
		code, out, errOut := runCLI(t, context.Background(), "", append(args, "-f", dir, "--cache-dir", t.TempDir())...)
		if strings.Count(errOut, want) != 1 || strings.Contains(out+errOut, "hunter2") || strings.Contains(out+errOut, "bar") {
			t.Errorf("%s: exit %d, want the warning once\nstdout:\n%s\nstderr:\n%s", args[0], code, out, errOut)
		}
	}
}

// TestUnsupportedImportWarnings: one warning per import redspin does not
// provide (wasi:http is provided: JS components no longer get a warning).
func TestUnsupportedImportWarnings(t *testing.T) {
	got := unsupportedImportWarnings("js", []string{"x:y/z", "a:b/c@1.0.0"})
	want := []string{
		`component "js" imports x:y/z, which redspin does not provide: a call that uses it fails that message`,
		`component "js" imports a:b/c@1.0.0, which redspin does not provide: a call that uses it fails that message`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	// A core module importing a wholly async interface: the warning says why.
	got = unsupportedImportWarnings("core", []string{"spin:mqtt/mqtt@3.0.0"})
	if len(got) != 1 || got[0] != `component "core" imports spin:mqtt/mqtt@3.0.0, which redspin cannot serve: every function of spin:mqtt/mqtt@3.0.0 is async: it needs component-model async, which Wasmtime 39's C API (redspin's engine) cannot serve; build against fermyon:spin/mqtt@2.0.0; a call that uses it fails that message` {
		t.Errorf("async import: %q", got)
	}
	if got := unsupportedImportWarnings("go", nil); got != nil {
		t.Errorf("no imports: %q", got)
	}
}
