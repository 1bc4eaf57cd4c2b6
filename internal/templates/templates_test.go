package templates

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestID(t *testing.T) {
	for _, tc := range []struct{ name, id, err string }{
		{"hello", "hello", ""},
		{"HelloWorld", "hello-world", ""},
		{"hello_world app", "hello-world-app", ""},
		{"HTTPServer2", "http-server2", ""},
		{"9lives", "", `must start with an ASCII letter; got '9'`},
		{"a-9", "", `must start with an ASCII letter; got '9'`},
		{"---", "", "empty"},
	} {
		id, err := ID(tc.name)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), `"`+tc.name+`"`) {
				t.Errorf("ID(%q) = %q, %v; want an error naming it with %q", tc.name, id, err, tc.err)
			}
			continue
		}
		if err != nil || id != tc.id {
			t.Errorf("ID(%q) = %q, %v; want %q", tc.name, id, err, tc.id)
		}
	}
}

func TestWrite(t *testing.T) {
	for _, tpl := range List() {
		t.Run(tpl.Name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "MyApp")
			files, err := Write(tpl.Name, "MyApp", dir, Options{SDKVersion: "v1.2.3"})
			if err != nil {
				t.Fatal(err)
			}
			joined := strings.Join(files, " ")
			for _, want := range []string{"spin.toml", "README.md", ".gitignore"} {
				if !strings.Contains(" "+joined+" ", " "+want+" ") {
					t.Errorf("no %s in %v", want, files)
				}
			}
			for _, f := range files {
				if strings.HasSuffix(f, ".tmpl") {
					t.Errorf("%s kept its .tmpl suffix", f)
				}
				b, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(string(b), "{{project-name}}") || strings.Contains(string(b), "{{id}}") || strings.Contains(string(b), "{{sdk-version}}") {
					t.Errorf("%s: placeholder left", f)
				}
			}
			toml, _ := os.ReadFile(filepath.Join(dir, "spin.toml"))
			if !strings.Contains(string(toml), `[component.my-app]`) || !strings.Contains(string(toml), `name = "MyApp"`) {
				t.Errorf("spin.toml:\n%s", toml)
			}
			if _, err := Write(tpl.Name, "MyApp", dir, Options{}); err == nil || !strings.Contains(err.Error(), "not empty") {
				t.Errorf("second Write into the same directory: %v", err)
			}
		})
	}
	dir := t.TempDir()
	if _, err := Write("redis-go", "g", dir, Options{SDKVersion: "v1.2.3"}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "go.mod")); !strings.Contains(string(b), "require github.com/redspin/redspin v1.2.3\n") {
		t.Errorf("go.mod:\n%s", b)
	}
	// A template with a Base gets the base's files and replaces those it has.
	dir = t.TempDir()
	if _, err := Write("redis-stream-go", "g", dir, Options{SDKVersion: "v1.2.3"}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "go.mod")); !strings.Contains(string(b), "require github.com/redspin/redspin v1.2.3\n") {
		t.Errorf("redis-stream-go go.mod (from redis-go):\n%s", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "main.go")); !strings.Contains(string(b), `if string(payload) == "fail"`) {
		t.Errorf("redis-stream-go main.go is not its own:\n%s", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "spin.toml")); !strings.Contains(string(b), "[[trigger.redis-stream]]\ncomponent = \"g\"\nstream = \"messages\"\n") {
		t.Errorf("redis-stream-go spin.toml:\n%s", b)
	}
	if _, err := Write("nope", "x", t.TempDir(), Options{}); err == nil || !strings.Contains(err.Error(), `unknown template "nope"`) {
		t.Errorf("unknown template: %v", err)
	}
}
