package lockedapp

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/redspin/redspin/internal/blobstore"
	"github.com/redspin/redspin/internal/manifest"
)

// exampleDir returns the absolute directory of a repository example.
func exampleDir(t *testing.T, name string) string {
	t.Helper()
	d, err := filepath.Abs(filepath.Join("..", "..", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// lockExample builds the locked app of an example as `spin up` would.
func lockExample(t *testing.T, name string) (*manifest.Manifest, *LockedApp) {
	t.Helper()
	m, _, err := manifest.Load(filepath.Join(exampleDir(t, name), "spin.toml"))
	if err != nil {
		t.Fatal(err)
	}
	resolved := map[string]Resolved{}
	for _, id := range m.ComponentIDs {
		p, err := manifest.FetchSource(context.Background(), m, m.Components[id], t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		resolved[id] = Resolved{WasmPath: p}
	}
	l, err := FromManifest(m, resolved)
	if err != nil {
		t.Fatal(err)
	}
	return m, l
}

func jsonValue(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
	return v
}

// TestWriterMatchesSpinLayout compares the writer's JSON, field by field,
// with the locked app Spin's loader produces for the same example.
func TestWriterMatchesSpinLayout(t *testing.T) {
	for _, name := range []string{"hello-redis", "variables", "hello-stream"} {
		t.Run(name, func(t *testing.T) {
			_, l := lockExample(t, name)
			got, err := l.Encode()
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join("testdata", name+".lock.json"))
			if err != nil {
				t.Fatal(err)
			}
			want = []byte(strings.NewReplacer("<app-dir>", filepath.ToSlash(exampleDir(t, name)),
				"<examples-dir>", filepath.ToSlash(filepath.Dir(exampleDir(t, name)))).Replace(string(want)))
			g, w := jsonValue(t, got), jsonValue(t, want)
			if !reflect.DeepEqual(g, w) {
				t.Errorf("locked app differs from Spin's:\ngot  %s\nwant %s", got, want)
			}
		})
	}
}

// TestRoundTripExamples writes each example as a locked app, loads it back
// and compares what redspin resolves from both inputs.
func TestRoundTripExamples(t *testing.T) {
	for _, name := range []string{"hello-redis", "variables", "fan-out", "hello-stream"} {
		t.Run(name, func(t *testing.T) {
			m, l := lockExample(t, name)
			b, err := l.Encode()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "app.lock.json")
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			if !IsLockedFile(path) || IsLockedFile(filepath.Join(exampleDir(t, name), "spin.toml")) {
				t.Fatal("IsLockedFile does not tell the lock from the manifest")
			}
			got, warnings, err := Load(path, blobstore.New(t.TempDir()))
			if err != nil {
				t.Fatal(err)
			}
			if len(warnings) > 0 {
				t.Errorf("warnings: %v", warnings)
			}
			if got.Name != m.Name || got.Version != m.Version || got.Description != m.Description || got.RedisAddress != m.RedisAddress ||
				got.StreamAddress != m.StreamAddress {
				t.Errorf("app details: got %q %q %q %q %q", got.Name, got.Version, got.Description, got.RedisAddress, got.StreamAddress)
			}
			if !reflect.DeepEqual(got.Variables, stripLines(m.Variables)) {
				t.Errorf("variables: got %+v, want %+v", got.Variables, m.Variables)
			}
			var wantTriggers []manifest.RedisTrigger
			for _, tr := range m.RedisTriggers {
				tr.Line = 0
				wantTriggers = append(wantTriggers, tr)
			}
			if !reflect.DeepEqual(got.RedisTriggers, wantTriggers) {
				t.Errorf("redis triggers: got %+v, want %+v", got.RedisTriggers, wantTriggers)
			}
			if want := stripStreamLines(m.StreamTriggers); !reflect.DeepEqual(got.StreamTriggers, want) {
				t.Errorf("redis-stream triggers: got %+v, want %+v", got.StreamTriggers, want)
			}
			if !reflect.DeepEqual(got.ComponentIDs, m.ComponentIDs) {
				t.Errorf("component IDs: got %v, want %v", got.ComponentIDs, m.ComponentIDs)
			}
			for _, id := range m.ComponentIDs {
				gc, wc := got.Components[id], m.Components[id]
				wantSrc := filepath.Join(m.Dir, wc.Source.Path)
				if gc.Source.Path != wantSrc {
					t.Errorf("%s source: got %q, want %q", id, gc.Source.Path, wantSrc)
				}
				if !mapsEqual(gc.Environment, wc.Environment) || !mapsEqual(gc.Variables, wc.Variables) ||
					!reflect.DeepEqual(gc.AllowedOutboundHosts, wc.AllowedOutboundHosts) {
					t.Errorf("%s: got env %v vars %v hosts %v; want %v %v %v", id, gc.Environment, gc.Variables, gc.AllowedOutboundHosts, wc.Environment, wc.Variables, wc.AllowedOutboundHosts)
				}
			}
		})
	}
}

func stripStreamLines(ts []manifest.StreamTrigger) []manifest.StreamTrigger {
	var out []manifest.StreamTrigger
	for _, t := range ts {
		t.Line = 0
		out = append(out, t)
	}
	return out
}

func stripLines(vs map[string]manifest.Variable) map[string]manifest.Variable {
	out := map[string]manifest.Variable{}
	for k, v := range vs {
		v.Line = 0
		out[k] = v
	}
	return out
}

func mapsEqual(a, b map[string]string) bool {
	return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b))
}

func TestDecodeRules(t *testing.T) {
	tests := []struct {
		name, json string
		wantErr    string // "" means success
	}{
		{"version 0", `{"spin_lock_version":0,"triggers":[],"components":[]}`, ""},
		{"version 1", `{"spin_lock_version":1,"triggers":[],"components":[]}`, ""},
		{"version 2", `{"spin_lock_version":2,"triggers":[],"components":[]}`, "spin_lock_version 2 is newer"},
		{"negative", `{"spin_lock_version":-1,"triggers":[],"components":[]}`, "non-negative"},
		{"no version", `{"triggers":[],"components":[]}`, "missing field `spin_lock_version`"},
		{"no components", `{"spin_lock_version":1,"triggers":[]}`, "missing field `components`"},
		{"unknown fields ignored", `{"spin_lock_version":1,"triggers":[],"components":[],"never_create_field_with_this_name":1}`, ""},
		{"unknown must_understand", `{"spin_lock_version":1,"must_understand":["never_create_field_with_this_name"],"triggers":[],"components":[]}`, `"never_create_field_with_this_name"`},
		{"understood must_understand", `{"spin_lock_version":1,"must_understand":["host_requirements","component_host_requirements"],"triggers":[],"components":[]}`, ""},
		{"optional host requirement dropped", `{"spin_lock_version":1,"must_understand":["host_requirements"],"host_requirements":{"accelerated_spline_reticulation":"optional"},"triggers":[],"components":[]}`, ""},
		{"unknown host requirement", `{"spin_lock_version":1,"host_requirements":{"accelerated_spline_reticulation":"required"},"triggers":[],"components":[]}`, "accelerated_spline_reticulation"},
		{"unknown component host requirement", `{"spin_lock_version":1,"triggers":[],"components":[{"id":"a","source":{"content_type":"application/wasm","inline":"AA"},"host_requirements":{"warp_drive":"required"}}]}`, `component "a"`},
		{"bad inline", `{"spin_lock_version":1,"triggers":[],"components":[{"id":"a","source":{"content_type":"application/wasm","inline":"!!"}}]}`, "not base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.json))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestLockVersionWritten(t *testing.T) {
	l := &LockedApp{}
	b, _ := json.Marshal(l)
	if !strings.Contains(string(b), `"spin_lock_version":0`) || !strings.Contains(string(b), `"triggers":[]`) {
		t.Errorf("empty app: %s", b)
	}
	l.MustUnderstand = []string{"host_requirements"}
	l.HostRequirements = map[string]any{"local_service_chaining": "required"}
	b, _ = json.Marshal(l)
	if !strings.Contains(string(b), `"spin_lock_version":1`) {
		t.Errorf("app with host requirements: %s", b)
	}
}

func TestInlineBase64(t *testing.T) {
	var c ContentRef
	for _, in := range []string{`{"inline":"aGk"}`, `{"inline":"aGk="}`} {
		if err := json.Unmarshal([]byte(in), &c); err != nil || string(c.Inline) != "hi" {
			t.Fatalf("%s: %q %v", in, c.Inline, err)
		}
	}
	b, _ := json.Marshal(ContentRef{Inline: Inline("hi")})
	if string(b) != `{"inline":"aGk"}` {
		t.Errorf("marshal: %s (Spin writes unpadded base64)", b)
	}
	b, _ = json.Marshal(ContentRef{Inline: Inline{}, Digest: "sha256:x"})
	if string(b) != `{"inline":"","digest":"sha256:x"}` {
		t.Errorf("empty inline content must be written: %s", b)
	}
}

// lockWith returns a locked app with one Redis trigger running component a,
// whose source and files are given as JSON.
func lockWith(source, files string) string {
	return `{"spin_lock_version":1,
	 "metadata":{"name":"t","trigger":{"type":"redis","address":"redis://old-form:6379"}},
	 "triggers":[{"id":"t1","trigger_type":"redis","trigger_config":{"component":"a","channel":"ch"}}],
	 "components":[{"id":"a","source":` + source + `,"files":` + files + `}]}`
}

func convert(t *testing.T, js string, store *blobstore.Store) (*manifest.Manifest, error) {
	t.Helper()
	l, err := Decode([]byte(js))
	if err != nil {
		return nil, err
	}
	m, _, err := l.Manifest("app.lock.json", t.TempDir(), store)
	return m, err
}

func TestContentRefs(t *testing.T) {
	store := blobstore.New(t.TempDir())
	stored, storedPath, err := store.PutBytes([]byte("stored file"))
	if err != nil {
		t.Fatal(err)
	}
	wasm := []byte("\x00asm\x01\x00\x00\x00")
	m, err := convert(t, lockWith(
		`{"content_type":"application/wasm","inline":"AGFzbQEAAAA","digest":"`+blobstore.Digest(wasm)+`"}`,
		`[{"inline":"aGk","path":"static/hi.txt"},{"digest":"`+stored+`","path":"/data/x"},{"source":"file:///srv/assets","path":"/"}]`), store)
	if err != nil {
		t.Fatal(err)
	}
	if m.RedisAddress != "redis://old-form:6379" {
		t.Errorf("old-form trigger address: %q", m.RedisAddress)
	}
	c := m.Components["a"]
	if b, err := os.ReadFile(c.Source.Path); err != nil || string(b) != string(wasm) {
		t.Errorf("inline wasm: %q %v", b, err)
	}
	want := []manifest.FileSpec{
		{Source: c.Files[0].Source, Destination: "/static/hi.txt"},
		{Source: storedPath, Destination: "/data/x"},
		{Source: "/srv/assets", Destination: "/"},
	}
	if !reflect.DeepEqual(c.Files, want) {
		t.Errorf("files: got %+v, want %+v", c.Files, want)
	}
	if b, err := os.ReadFile(c.Files[0].Source); err != nil || string(b) != "hi" {
		t.Errorf("inline file: %q %v", b, err)
	}
}

func TestContentRefErrors(t *testing.T) {
	wasmSrc := `{"content_type":"application/wasm","source":"file:///x.wasm"}`
	tests := []struct {
		name, source, files, want string
		kind                      error
	}{
		{"inline digest mismatch", `{"content_type":"application/wasm","inline":"AGFzbQ","digest":"sha256:` + strings.Repeat("0", 64) + `"}`, `[]`, "hashes to", manifest.ErrDigestMismatch},
		{"digest not cached", `{"content_type":"application/wasm","digest":"sha256:` + strings.Repeat("1", 64) + `"}`, `[]`, "not in the cache", manifest.ErrNotFound},
		{"bad digest", `{"content_type":"application/wasm","digest":"md5:abc"}`, `[]`, "sha256:", manifest.ErrInvalidSource},
		{"nothing", `{"content_type":"application/wasm"}`, `[]`, "no source", manifest.ErrInvalidSource},
		{"remote host", `{"content_type":"application/wasm","source":"file://evil/x.wasm"}`, `[]`, "names host", manifest.ErrInvalidSource},
		{"ftp", `{"content_type":"application/wasm","source":"ftp://x/y"}`, `[]`, "unsupported source URI", manifest.ErrInvalidSource},
		{"http without digest", `{"content_type":"application/wasm","source":"https://x/y.wasm"}`, `[]`, "no digest", manifest.ErrInvalidSource},
		{"escaping file", wasmSrc, `[{"inline":"aGk","path":"../../etc/passwd"}]`, "not safe to join", manifest.ErrInvalidValue},
		{"escaping file inside", wasmSrc, `[{"inline":"aGk","path":"a/../../b"}]`, "not safe to join", manifest.ErrInvalidValue},
		{"dot file", wasmSrc, `[{"inline":"aGk","path":"./a"}]`, "not safe to join", manifest.ErrInvalidValue},
		{"empty path", wasmSrc, `[{"inline":"aGk","path":""}]`, "empty mount path", manifest.ErrInvalidValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := convert(t, lockWith(tt.source, tt.files), blobstore.New(t.TempDir()))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, tt.kind) {
				t.Fatalf("error %v, want %q (%v)", err, tt.want, tt.kind)
			}
			if !strings.Contains(err.Error(), `component "a"`) {
				t.Errorf("error does not name the component: %v", err)
			}
		})
	}
}

func TestTriggersAndHostFeatures(t *testing.T) {
	comp := `{"id":"a","source":{"content_type":"application/wasm","source":"file:///a.wasm"}}`
	tests := []struct {
		name, json, want string
	}{
		{"unknown component", `{"spin_lock_version":0,"triggers":[{"id":"t","trigger_type":"redis","trigger_config":{"component":"b","channel":"c"}}],"components":[` + comp + `]}`, `component "b" is not defined`},
		{"no channel", `{"spin_lock_version":0,"triggers":[{"id":"t","trigger_type":"redis","trigger_config":{"component":"a"}}],"components":[` + comp + `]}`, "channel"},
		{"middleware", `{"spin_lock_version":0,"triggers":[{"id":"t","trigger_type":"redis","trigger_config":{"component":"a","channel":"c"},"trigger_dependencies":{"x":[]}}],"components":[` + comp + `]}`, "middleware"},
		{"app service chaining", `{"spin_lock_version":1,"must_understand":["host_requirements"],"host_requirements":{"local_service_chaining":"required"},"triggers":[],"components":[]}`, "local_service_chaining"},
		{"component service chaining", `{"spin_lock_version":1,"must_understand":["component_host_requirements"],"triggers":[{"id":"t","trigger_type":"redis","trigger_config":{"component":"a","channel":"c"}}],"components":[{"id":"a","source":{"content_type":"application/wasm","source":"file:///a.wasm"},"host_requirements":{"local_service_chaining":"required"}}]}`, "local_service_chaining"},
		{"duplicate component", `{"spin_lock_version":0,"triggers":[],"components":[` + comp + `,` + comp + `]}`, "unique"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := convert(t, tt.json, blobstore.New(t.TempDir()))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
	// A host feature on a component no Redis trigger runs is not redspin's concern.
	m, err := convert(t, `{"spin_lock_version":1,"must_understand":["component_host_requirements"],
		"triggers":[{"id":"h","trigger_type":"http","trigger_config":{"component":"a","route":"/..."}}],
		"components":[{"id":"a","source":{"content_type":"application/wasm","source":"file:///a.wasm"},"host_requirements":{"local_service_chaining":"required"}}]}`, blobstore.New(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.OtherTriggerTypes, []string{"http"}) || len(m.RedisTriggers) != 0 {
		t.Errorf("http-only app: %+v %+v", m.OtherTriggerTypes, m.RedisTriggers)
	}
}

func TestGuestPath(t *testing.T) {
	for in, want := range map[string]string{"/": "/", "static/a": "/static/a", "/static//a/": "/static/a", "a.b/..c": "/a.b/..c"} {
		if got, err := GuestPath(in); err != nil || got != want {
			t.Errorf("GuestPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestFromManifestRefusesDependencies(t *testing.T) {
	m := &manifest.Manifest{ComponentIDs: []string{"a"}, Components: map[string]*manifest.Component{"a": {ID: "a", HasDependencies: true}}}
	_, err := FromManifest(m, map[string]Resolved{"a": {WasmPath: "/a.wasm"}})
	if err == nil || !strings.Contains(err.Error(), "cannot compose") {
		t.Fatalf("error %v", err)
	}
}
