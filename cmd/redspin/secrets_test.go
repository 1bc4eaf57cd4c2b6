package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// secretApp is a manifest with secret variables tok (TOPSECRET), host and
// addr, and one Redis trigger for component hello. extra follows the
// [variables] (more variables, or a table such as the default address); the
// trigger and component fields are the test's.
func secretApp(t *testing.T, extra, trigger, component string) string {
	t.Helper()
	return writeManifest(t, fmt.Sprintf(`spin_manifest_version = 2
[application]
name = "secrets"
[variables]
tok = { default = "TOPSECRET", secret = true }
host = { default = "redis://ok.example:6379", secret = true }
addr = { default = "127.0.0.1:1", secret = true }
%s
[[trigger.redis]]
component = "hello"
%s
[component.hello]
source = %q
%s
`, extra, trigger, mustAbs(t, "../../examples/hello-redis/hello.wasm"), component))
}

// noSecret fails the test when TOPSECRET appears in the output.
func noSecret(t *testing.T, what, out string) {
	t.Helper()
	if strings.Contains(out, "TOPSECRET") {
		t.Errorf("%s shows the secret:\n%s", what, out)
	}
}

// TestCheckSecretsNeverShown: every place `check` prints a value rendered
// from a template shows the template when a secret variable went into it
// (issue 10, defect 4).
func TestCheckSecretsNeverShown(t *testing.T) {
	tests := []struct {
		name               string
		app, trigger, comp string
		args               []string
		code               int
		want               string
	}{
		{name: "address", trigger: "address = \"{{ tok }}\"\nchannel = \"c\"", code: exitFailure,
			want: `trigger "hello-redis-trigger": address: invalid Redis URL "{{ tok }}": missing scheme`},
		{name: "scheme", trigger: "address = \"{{ tok }}://h\"\nchannel = \"c\"", code: exitFailure,
			want: `invalid Redis URL "{{ tok }}://h": unsupported scheme (hidden)`},
		{name: "port", trigger: "address = \"redis://h:{{ tok }}\"\nchannel = \"c\"", code: exitFailure,
			want: `invalid Redis URL "redis://h:{{ tok }}": malformed URL`},
		{name: "port number", trigger: "address = \"redis://h:{{ addr }}\"\nchannel = \"c\"", args: []string{"--variable", "addr=99999"}, code: exitFailure,
			want: `invalid Redis URL "redis://h:{{ addr }}": invalid port (hidden)`},
		{name: "db", trigger: "address = \"redis://h/{{ tok }}\"\nchannel = \"c\"", code: exitFailure,
			want: `invalid Redis URL "redis://h/{{ tok }}": invalid database number (hidden)`},
		{name: "protocol", trigger: "address = \"redis://h?protocol={{ tok }}\"\nchannel = \"c\"", code: exitFailure,
			want: `invalid Redis URL "redis://h?protocol={{ tok }}": invalid protocol (hidden)`},
		{name: "default address", app: "[application.trigger.redis]\naddress = \"{{ tok }}\"", trigger: "channel = \"c\"", code: exitFailure,
			want: `invalid Redis URL "{{ tok }}": missing scheme`},
		{name: "channel", trigger: "address = \"redis://h:1\"\nchannel = \"ch-{{ tok }}\"", code: exitOK,
			want: "\th:1/ch-{{ tok }}: [hello]\n"},
		{name: "secret host shown from its template", trigger: "address = \"redis://:{{ tok }}@cache.example:6380/2\"\nchannel = \"c\"", code: exitOK,
			want: "Redis cache.example:6380:\n\tcache.example:6380/c: [hello]\n"},
		{name: "whole address", trigger: "address = \"redis://{{ tok }}:6380\"\nchannel = \"c\"", code: exitOK,
			want: "Redis {{ tok }}:6380:\n\t{{ tok }}:6380/c: [hello]\n"},
		{name: "query parameter names", trigger: "address = \"redis://{{ tok }}:1?password={{ tok }}&{{ tok }}=1\"\nchannel = \"c\"", code: exitOK,
			want: `Warning: Redis server {{ tok }}:1: ignoring unknown query parameter(s) "password": redspin reads only protocol (and db, user, pass for unix sockets); also 1 unknown query parameter(s) that a secret variable supplies (not named)`},
		{name: "duplicate subscription", trigger: "address = \"redis://h:1\"\nchannel = \"{{ tok }}\"\n[[trigger.redis]]\ncomponent = \"hello\"\naddress = \"redis://h:1\"\nchannel = \"{{ tok }}\"", code: exitOK,
			want: `component "hello" is already subscribed to channel "{{ tok }}" on h:1`},
		{name: "allowed host default", trigger: "address = \"redis://h:1\"\nchannel = \"c\"", comp: `allowed_outbound_hosts = ["{{ tok }}"]`, code: exitFailure,
			want: `allowed_outbound_hosts entry "{{ tok }}": using default variable value(s) with template "{{ tok }}" results in invalid config (not shown`},
		{name: "allowed host value", trigger: "address = \"redis://h:1\"\nchannel = \"c\"", comp: `allowed_outbound_hosts = ["{{ host }}"]`,
			args: []string{"--variable", "host=TOPSECRET"}, code: exitFailure,
			want: `component "hello": allowed_outbound_hosts entry "{{ host }}" is not a valid host (its value comes from a secret variable`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := secretApp(t, tc.app, tc.trigger, tc.comp)
			args := append([]string{"check", "-f", dir, "--cache-dir", t.TempDir()}, tc.args...)
			if tc.comp == "" {
				args = append(args, "--no-components")
			}
			code, out, errOut := runCLI(t, context.Background(), "", args...)
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Errorf("exit %d (want %d), want %q\nstdout:\n%s\nstderr:\n%s", code, tc.code, tc.want, out, errOut)
			}
			noSecret(t, "check", out+errOut)
		})
	}
}

// TestUpSecretsNeverShown runs `up` on a server and channel that secret
// variables went into: the Active Channels lines, logs and warnings show
// the templates, and messages on the real channel are handled.
func TestUpSecretsNeverShown(t *testing.T) {
	mr := miniredis.RunT(t)
	dir := secretApp(t, "", `address = "redis://{{ addr }}?password={{ tok }}"
channel = "ch-{{ tok }}"`, "")
	out, errOut, stop := startCLI(t, "up", "-f", dir, "--cache-dir", t.TempDir(), "--variable", "addr="+mr.Addr())
	waitFor(t, "Active Channels", func() bool { return strings.Contains(out.String(), "Active Channels") })
	client := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer client.Close()
	if err := client.Publish(context.Background(), "ch-TOPSECRET", "hi").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the component's output", func() bool { return strings.Contains(errOut.String(), "Got message: hi\n") })
	// publish finds the server through the app and names it by its
	// Display; the channel is the one given on the command line.
	t.Setenv("SPIN_VARIABLE_ADDR", mr.Addr())
	code, pubOut, pubErr := runCLI(t, context.Background(), "", "publish", "-f", dir, "ch-TOPSECRET", "again")
	if code != exitOK || pubOut != "Published 5 bytes to {{ addr }}/ch-TOPSECRET: 1 subscriber\n" {
		t.Errorf("publish: exit %d\nstdout:\n%s\nstderr:\n%s", code, pubOut, pubErr)
	}
	waitFor(t, "the second message", func() bool { return strings.Contains(errOut.String(), "Got message: again\n") })
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{"Active Channels on {{ addr }}:\n", "\t{{ addr }}/ch-{{ tok }}: [hello]\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut.String(), `Warning: Redis server {{ addr }}: ignoring unknown query parameter(s) "password"`) {
		t.Errorf("no warning naming the parameter:\n%s", errOut)
	}
	noSecret(t, "up", out.String()+errOut.String())
}

// TestUpSecretAddressError: `up` names the template of a bad secret address.
func TestUpSecretAddressError(t *testing.T) {
	dir := secretApp(t, "", "address = \"redis://h:{{ tok }}\"\nchannel = \"c\"", "")
	code, out, errOut := runCLI(t, context.Background(), "", "up", "-f", dir, "--cache-dir", t.TempDir())
	if code != exitFailure || !strings.Contains(errOut, `invalid Redis URL "redis://h:{{ tok }}": malformed URL`) {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	noSecret(t, "up", out+errOut)
}
