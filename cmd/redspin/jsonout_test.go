package main

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/redspin/redspin/internal/admin"
)

// jsonLines parses every line of out as one JSON object with a time and either level and msg
// (redspin's own lines and logs) or component, stream and line (echoed component output).
func jsonLines(t *testing.T, name, out string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for line := range strings.SplitSeq(strings.TrimSuffix(out, "\n"), "\n") {
		if line == "" && out == "" {
			break
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("%s: line %q is not a JSON object: %v", name, line, err)
			continue
		}
		_, hasTime := m["time"].(string)
		_, hasLevel := m["level"].(string)
		_, hasMsg := m["msg"].(string)
		_, hasComp := m["component"].(string)
		_, hasLine := m["line"].(string)
		if !hasTime || !(hasLevel && hasMsg || hasComp && hasLine) {
			t.Errorf("%s: line %q lacks the keys of the schema", name, line)
		}
		objs = append(objs, m)
	}
	return objs
}

// hasObject reports whether an object has every key-value pair of want, with string values
// matched as prefixes.
func hasObject(objs []map[string]any, want map[string]string) bool {
	for _, o := range objs {
		ok := true
		for k, v := range want {
			s, _ := o[k].(string)
			if !strings.HasPrefix(s, v) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func TestUpJSONOutput(t *testing.T) {
	dir := copyExample(t, "hello-redis")
	out, errOut, stop := startCLI(t, "up", "-f", dir, "--embedded-redis", "--publish", "messages=hello",
		"--cache-dir", t.TempDir(), "--listen-admin", "127.0.0.1:0", "--log-format", "json")
	waitFor(t, "the component's output", func() bool { return strings.Contains(errOut.String(), `"line":"Got message: hello"`) })
	checkStatusJSON(t, out.String())
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	stdout, stderr := jsonLines(t, "stdout", out.String()), jsonLines(t, "stderr", errOut.String())
	for _, want := range []map[string]string{
		{"level": "INFO", "msg": "Embedded Redis listening on redis://127.0.0.1:"},
		{"level": "INFO", "msg": "Logging component stdio to "},
		{"level": "INFO", "msg": "Admin endpoints on http://127.0.0.1:"},
		{"level": "INFO", "msg": "Active Channels on 127.0.0.1:"},
	} {
		if !hasObject(stdout, want) {
			t.Errorf("stdout lacks %v:\n%s", want, out)
		}
	}
	for _, want := range []map[string]string{
		{"component": "hello", "stream": "stdout", "line": "Got message: hello"},
		{"level": "INFO", "msg": "redspin: 1 received, 1 handled, 0 failed"},
	} {
		if !hasObject(stderr, want) {
			t.Errorf("stderr lacks %v:\n%s", want, errOut)
		}
	}
}

// checkStatusJSON reads the running up's /status.json (its address from the Admin endpoints line):
// the build names the linked Wasmtime and the one message was handled by the real component.
func checkStatusJSON(t *testing.T, stdout string) {
	t.Helper()
	m := regexp.MustCompile(`Admin endpoints on http://([^/\s]+)/`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no admin address in stdout:\n%s", stdout)
	}
	var r admin.StatusReport
	waitFor(t, "the handled message in /status.json", func() bool {
		resp, err := http.Get("http://" + m[1] + "/status.json")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		r = admin.StatusReport{}
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			t.Fatal(err)
		}
		// The counter and the duration histogram are separate series: wait for both.
		return len(r.Components) == 1 && r.Components[0].Handled == 1 && r.Components[0].Duration.Count == 1
	})
	if c := r.Components[0]; c.Component != "hello" || c.Failed != 0 || c.Duration.Count != 1 || c.LastError != nil {
		t.Errorf("component = %+v", c)
	}
	// wasmtimeModule is .../wasmtime-go/v39: the build info gives its full version.
	if !strings.HasPrefix(r.Build.Wasmtime, "39.") || r.Build.Go == "" || !r.Ready || !r.Healthy {
		t.Errorf("build %+v, ready %v, healthy %v", r.Build, r.Ready, r.Healthy)
	}
	if len(r.Channels) != 1 || r.Channels[0].Channel != "messages" || r.Channels[0].Received != 1 {
		t.Errorf("channels = %+v", r.Channels)
	}
}

func TestCheckJSONOutput(t *testing.T) {
	dir := copyExample(t, "hello-redis")
	code, out, errOut := runCLI(t, context.Background(), "", "check", "-f", dir, "--embedded-redis",
		"--cache-dir", t.TempDir(), "--log-format", "json")
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	stdout := jsonLines(t, "stdout", out)
	jsonLines(t, "stderr", errOut)
	for _, want := range []string{`App "hello-redis"`, "\tembedded/messages: [hello]", "Components:", "OK"} {
		if !hasObject(stdout, map[string]string{"level": "INFO", "msg": want}) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
}

func TestJSONErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"missing manifest", []string{"check", "-f", "/nonexistent/spin.toml"}, exitFailure, ""},
		{"unknown flag", []string{"up", "--bogus"}, exitUsage, "unknown flag: --bogus"},
		{"bad level", []string{"check", "--log-level", "loud"}, exitUsage, `--log-level "loud"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, context.Background(), "", append(tc.args, "--log-format", "json")...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", code, tc.code, errOut)
			}
			if out != "" {
				t.Errorf("stdout: %q", out)
			}
			stderr := jsonLines(t, "stderr", errOut)
			if !hasObject(stderr, map[string]string{"level": "ERROR", "msg": tc.msg}) {
				t.Errorf("no ERROR object with msg %q:\n%s", tc.msg, errOut)
			}
		})
	}
}
