package build

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadV2(t *testing.T) {
	p := writeFile(t, t.TempDir(), "spin.toml", `spin_manifest_version = 2
[application]
name = "x"
not_a_spin_key = "the rest of the manifest is not checked"
[component.zeta]
source = "z.wasm"
[component.zeta.build]
command = "echo z"
workdir = "z"
[component.alpha]
source = "a.wasm"
build = { command = ["echo a1", "echo a2"] }
[component."no-build"]
source = "n.wasm"
`)
	comps, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []Component{
		{ID: "zeta", Commands: []string{"echo z"}, Workdir: "z"},
		{ID: "alpha", Commands: []string{"echo a1", "echo a2"}},
		{ID: "no-build"},
	}
	if len(comps) != len(want) {
		t.Fatalf("Read = %+v", comps)
	}
	for i := range want {
		if comps[i].ID != want[i].ID || strings.Join(comps[i].Commands, "|") != strings.Join(want[i].Commands, "|") || comps[i].Workdir != want[i].Workdir {
			t.Errorf("component %d = %+v, want %+v", i, comps[i], want[i])
		}
	}
}

func TestReadV1(t *testing.T) {
	p := writeFile(t, t.TempDir(), "spin.toml", `spin_manifest_version = "1"
name = "x"
trigger = { type = "redis", address = "redis://h" }
[[component]]
id = "one"
source = "one.wasm"
[component.build]
command = "make"
`)
	comps, err := Read(p)
	if err != nil || len(comps) != 1 || comps[0].ID != "one" || comps[0].Commands[0] != "make" {
		t.Fatalf("Read = %+v, %v", comps, err)
	}
}

func TestReadErrors(t *testing.T) {
	for name, body := range map[string]string{
		"command type": "[component.a.build]\ncommand = 3\n",
		"command item": "[component.a.build]\ncommand = [\"x\", 3]\n",
		"workdir":      "[component.a.build]\ncommand = \"x\"\nworkdir = 1\n",
		"toml":         "[component.a\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Read(writeFile(t, t.TempDir(), "spin.toml", body)); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "sub/.keep", "")
	comps := []Component{
		{ID: "a", Commands: []string{"echo a-$REDSPIN_BUILD_TEST > a.out", "pwd > a.pwd"}},
		{ID: "b", Commands: []string{"pwd > b.pwd"}, Workdir: "sub"},
		{ID: "c"},
	}
	var out bytes.Buffer
	env := append(os.Environ(), "REDSPIN_BUILD_TEST=env")
	if err := Run(context.Background(), comps, Options{Dir: dir, Stdout: &out, Env: env}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.out")); string(b) != "a-env\n" {
		t.Errorf("a.out = %q (environment not passed?)", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "sub", "b.pwd")); !strings.HasSuffix(strings.TrimSpace(string(b)), "sub") {
		t.Errorf("b ran in %q, want the workdir sub", b)
	}
	for _, want := range []string{"Running build step 1/2 for component a with 'echo a-$REDSPIN_BUILD_TEST > a.out'",
		"Building component b with `pwd > b.pwd`", "Working directory: ", "Finished building all Spin components"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// -c b builds only b.
	os.Remove(filepath.Join(dir, "a.out"))
	if err := Run(context.Background(), comps, Options{Dir: dir, IDs: []string{"b"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a.out")); err == nil {
		t.Error("-c b built a")
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	comps := []Component{
		{ID: "ok", Commands: []string{"true"}},
		{ID: "bad", Commands: []string{"echo failing >&2; exit 3", "touch never"}},
		{ID: "after", Commands: []string{"touch after"}},
	}
	var errOut bytes.Buffer
	err := Run(context.Background(), comps, Options{Dir: dir, Stderr: &errOut})
	if err == nil || err.Error() != `build command for component "bad" failed with exit code 3: echo failing >&2; exit 3` {
		t.Errorf("err = %v", err)
	}
	if errOut.String() != "failing\n" {
		t.Errorf("stderr = %q", errOut.String())
	}
	for _, f := range []string{"never", "after"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s ran after the failure", f)
		}
	}
	if err := Run(context.Background(), comps, Options{Dir: dir, IDs: []string{"x", "ok", "y"}}); err == nil || err.Error() != "unknown component(s) x, y" {
		t.Errorf("unknown ids: %v", err)
	}
	if err := Run(context.Background(), []Component{{ID: "n"}}, Options{Dir: dir}); !errors.Is(err, ErrNoBuild) {
		t.Errorf("no builds: %v", err)
	}
	abs := []Component{{ID: "abs", Commands: []string{"true"}, Workdir: "/tmp"}}
	if err := Run(context.Background(), abs, Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), "must be relative") {
		t.Errorf("absolute workdir: %v", err)
	}
}
