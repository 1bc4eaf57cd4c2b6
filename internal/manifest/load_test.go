package manifest

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/redspin/redspin/internal/template"
)

// v2 builds a V2 manifest with one redis trigger on component "a" plus the
// given extra component fields and extra top-level TOML.
func v2(componentFields, extra string) string {
	return `spin_manifest_version = 2
[application]
name = "t"
` + extra + `
[[trigger.redis]]
channel = "c"
component = "a"
[component.a]
source = "a.wasm"
` + componentFields
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name     string
		toml     string
		sentinel error
		want     string // substring of the error
	}{
		{"version string 2", `spin_manifest_version = "2"`, ErrInvalidVersion, `invalid manifest version: "2"`},
		{"version int 1", `spin_manifest_version = 1`, ErrInvalidVersion, `invalid manifest version: 1`},
		{"version float", `spin_manifest_version = 2.0`, ErrInvalidVersion, `invalid manifest version: 2.0`},
		{"spin_version in v2", "spin_version = 2\n[application]\nname=\"x\"", ErrUnknownField, "t.toml:1:1: unknown field `spin_version`"},
		{"spin_version in v2 missing", "spin_version = 2\n[application]\nname=\"x\"", ErrMissingField, "missing field `spin_manifest_version`"},
		{"missing version", `name = "x"`, ErrMissingField, "missing field `spin_manifest_version`"},
		{"syntax", "spin_manifest_version = = 2", ErrSyntax, "t.toml:1:"},
		{"duplicate table", "spin_manifest_version = 2\n[application]\nname='x'\n[application]\n", ErrSyntax, "t.toml:4:"},
		{"missing application", "spin_manifest_version = 2\n[[trigger.redis]]\nchannel='c'\ncomponent='a'\n[component.a]\nsource='a.wasm'", ErrMissingField, "missing field `application`"},
		{"missing name", "spin_manifest_version = 2\n[application]\n[[trigger.redis]]\nchannel='c'\ncomponent='a'\n[component.a]\nsource='a.wasm'", ErrMissingField, "application: missing field `name`"},
		{"unknown app field", v2("", "colour = 'red'"), ErrUnknownField, "t.toml:4:1: application: unknown field `colour`"},
		{"unknown variable field", v2("", "[variables]\nx = { default = 'a', kind = 'b' }"), ErrUnknownField, "unknown field `kind`, expected one of `description`, `required`, `default`, `secret`"},
		{"variable default not string", v2("", "[variables]\nx = { default = 1 }"), ErrWrongType, "invalid type: integer `1`, expected a string"},
		{"variable neither", v2("", "[variables]\nx = { secret = true }"), ErrInvalidVariable, "variable \"x\": must be `required` OR have a `default`"},
		{"variable both", v2("", "[variables]\nx = { required = true, default = 'a' }"), ErrInvalidVariable, "must be `required` OR have a `default`"},
		{"variable name dash", v2("", "[variables]\nmy-var = { default = 'a' }"), ErrInvalidID, "words must be separated with '_', not '-'"},
		{"variable not table", v2("", "[variables]\nx = 'a'"), ErrWrongType, "expected a table"},
		{"component id", "spin_manifest_version = 2\n[application]\nname='x'\n[[trigger.redis]]\nchannel='c'\ncomponent='a'\n[component.My_Comp]\nsource='a.wasm'", ErrInvalidID, "words must be separated with '-', not '_'"},
		{"missing source", "spin_manifest_version = 2\n[application]\nname='x'\n[[trigger.redis]]\nchannel='c'\ncomponent='a'\n[component.a]\n", ErrMissingField, "component \"a\": missing field `source`"},
		{"unknown component field", v2("colour = 'red'", ""), ErrUnknownField, "component \"a\": unknown field `colour`"},
		{"source table unknown", "spin_manifest_version = 2\n[application]\nname='x'\n[[trigger.redis]]\nchannel='c'\ncomponent='a'\n[component.a]\nsource={ url='http://x', digest='sha256:0', size=1 }", ErrUnknownField, "unknown field `size`, expected one of `url`, `digest`"},
		{"source url without digest", "spin_manifest_version = 2\n[application]\nname='x'\n[[trigger.redis]]\nchannel='c'\ncomponent='a'\n[component.a]\nsource={ url='http://x' }", ErrMissingField, "missing field `digest`"},
		{"source digest prefix", "spin_manifest_version = 2\n[application]\nname='x'\n[[trigger.redis]]\nchannel='c'\ncomponent='a'\n[component.a]\nsource={ url='http://x', digest='abc' }", ErrInvalidSource, "invalid `digest` \"abc\"; must start with 'sha256:'"},
		{"source registry no version", "spin_manifest_version = 2\n[application]\nname='x'\n[[trigger.redis]]\nchannel='c'\ncomponent='a'\n[component.a]\nsource={ package='a:b' }", ErrMissingField, "missing field `version`"},
		{"source empty table", "spin_manifest_version = 2\n[application]\nname='x'\n[[trigger.redis]]\nchannel='c'\ncomponent='a'\n[component.a]\nsource={}", ErrInvalidSource, "`source` must be a path"},
		{"source int", "spin_manifest_version = 2\n[application]\nname='x'\n[[trigger.redis]]\nchannel='c'\ncomponent='a'\n[component.a]\nsource=1", ErrWrongType, "expected a path string or a table"},
		{"build unknown", v2("build = { command = 'make', cmd = 'x' }", ""), ErrUnknownField, "unknown field `cmd`, expected one of `command`, `workdir`, `watch`"},
		{"build missing command", v2("build = { workdir = 'x' }", ""), ErrMissingField, "missing field `command`"},
		{"profile unknown", v2("profile.debug = { files = [] }", ""), ErrUnknownField, "unknown field `files`, expected one of `source`, `environment`, `dependencies`, `build`"},
		{"profile build", v2("profile.debug = { build = { command = 'x', workdir = 'y' } }", ""), ErrUnknownField, "unknown field `workdir`, expected `command`"},
		{"dependency unknown", v2("dependencies = { 'a:b' = { path = 'x', colour = 'y' } }", ""), ErrUnknownField, "unknown field `colour`"},
		{"dependency shape", v2("dependencies = { 'a:b' = { export = 'x' } }", ""), ErrInvalidValue, "expected a version string"},
		{"dependency on missing component", v2("dependencies = { 'a:b' = { component = 'zzz' } }", ""), ErrUnknownComponent, `dependency "a:b": dependency ID zzz does not exist`},
		{"targets unknown", v2("targets = [{ uri = 'x' }]", ""), ErrUnknownField, "unknown field `uri`, expected one of `registry`, `id`, `url`, `path`"},
		{"targets type", v2("", "targets = 'spin-up:3.2'"), ErrWrongType, "`targets`: invalid type"},
		{"kv label", v2("key_value_stores = ['my store']", ""), ErrInvalidID, "expected kebab-case or snake_case"},
		{"files destination", v2("files = [{ source = 'a', destination = 'b' }]", ""), ErrInvalidValue, "destination must be an absolute guest path"},
		{"files int", v2("files = [1]", ""), ErrWrongType, "expected a glob string or { source, destination }"},
		{"redis trigger missing component", "spin_manifest_version = 2\n[application]\nname='x'\n[[trigger.redis]]\nchannel='c'", ErrMissingField, "missing field `component`"},
		{"redis trigger route", "spin_manifest_version = 2\n[application]\nname='x'\n[[trigger.redis]]\nchannel='c'\ncomponent='a'\nroute='/'\n[component.a]\nsource='a.wasm'", ErrUnknownField, "unknown field `route`, expected one of `id`, `component`, `channel`, `address`"},
		{"redis trigger dependencies", "spin_manifest_version = 2\n[application]\nname='x'\n[[trigger.redis]]\nchannel='c'\ncomponent='a'\ndependencies={}\n[component.a]\nsource='a.wasm'", ErrUnknownField, "unknown field `dependencies`"},
		{"redis trigger table not array", "spin_manifest_version = 2\n[application]\nname='x'\n[trigger.redis]\nchannel='c'\ncomponent='a'\n[component.a]\nsource='a.wasm'", ErrWrongType, "expected an array of tables ([[trigger.redis]])"},
		{"app redis unknown", v2("", "[application.trigger.redis]\nurl = 'redis://x'"), ErrUnknownField, "unknown field `url`, expected `address`"},
		{"missing component", "spin_manifest_version = 2\n[application]\nname='x'\n[[trigger.redis]]\nchannel='c'\ncomponent='b'\n[component.a]\nsource='a.wasm'", ErrUnknownComponent, `component "b" is not defined`},
		{"missing component other trigger", v2("", "[[trigger.http]]\nroute='/'\ncomponent='zzz'"), ErrUnknownComponent, `trigger "zzz-http-trigger": component "zzz" is not defined`},
		{"unknown variable in component variable", v2("variables = { p = '{{ nope }}' }", ""), ErrUnknownVariable, `unknown variable "nope"`},
		{"unknown variable in host", v2("allowed_outbound_hosts = ['redis://{{ nope }}']", ""), ErrUnknownVariable, `unknown variable "nope"`},
		{"unmatched in component variable", v2("variables = { p = '{{ nope' }", ""), template.ErrUnmatched, "unmatched '{{' in template"},
		{"unmatched in host", v2("allowed_outbound_hosts = ['redis://{{ x']", ""), template.ErrUnmatched, "unmatched '{{' in template"},
		{"unmatched in address", v2("", "[application.trigger.redis]\naddress = '{{ x'"), template.ErrUnmatched, "unmatched '{{' in template"},
		{"invalid name in channel", strings.Replace(v2("", ""), "channel = \"c\"", "channel = \"{{ Bad }}\"", 1), ErrInvalidTemplate, "invalid character 'B'"},
		{"bad host", v2("allowed_outbound_hosts = ['example.com']", ""), ErrInvalidAllowedHost, `allowed_outbound_hosts entry "example.com": "example.com" does not contain a scheme`},
		{"bad host default", v2("allowed_outbound_hosts = ['{{ h }}']", "[variables]\nh = { default = 'nohost' }"), ErrInvalidAllowedHost, `results in invalid config "nohost"`},
		{"allow all", v2("allowed_outbound_hosts = ['insecure:allow-all']", ""), ErrInvalidAllowedHost, "'insecure:allow-all' is not allowed - use '*://*:*' instead"},
		{"bad http host", v2("allowed_http_hosts = ['x/y']", ""), ErrInvalidAllowedHost, "One or more allowed_http_hosts entries was invalid"},
		{"v1 missing trigger", "spin_manifest_version = '1'\nname='x'", ErrMissingField, "missing field `trigger`"},
		{"v1 missing type", "spin_manifest_version = '1'\nname='x'\ntrigger = {}", ErrMissingField, "missing field `type`"},
		{"v1 component missing trigger", "spin_manifest_version = '1'\nname='x'\ntrigger = { type = 'redis' }\n[[component]]\nid='a'\nsource='a.wasm'", ErrMissingField, "missing field `trigger`"},
		{"v1 missing channel", "spin_manifest_version = '1'\nname='x'\ntrigger = { type = 'redis' }\n[[component]]\nid='a'\nsource='a.wasm'\n[component.trigger]\naddress='redis://x'", ErrMissingField, "missing field `channel`"},
		{"v1 bad id", "spin_manifest_version = '1'\nname='x'\ntrigger = { type = 'redis' }\n[[component]]\nid='a.b'\nsource='a.wasm'\n[component.trigger]\nchannel='c'", ErrInvalidID, "invalid ID `a.b`: '-'-separated words may only contain alphanumeric ASCII; got '.'"},
		{"v1 bad config key", "spin_manifest_version = '1'\nname='x'\ntrigger = { type = 'redis' }\n[[component]]\nid='a'\nsource='a.wasm'\nconfig={ Bad = 'x' }\n[component.trigger]\nchannel='c'", ErrInvalidID, "invalid ID `Bad`"},
		{"v1 bad variable", "spin_manifest_version = '1'\nname='x'\ntrigger = { type = 'redis' }\n[variables]\nBad = { default = 'x' }", ErrInvalidID, "invalid ID `Bad`"},
		{"v1 v2 field", "spin_manifest_version = '1'\nname='x'\ntrigger = { type = 'redis' }\n[[component]]\nid='a'\nsource='a.wasm'\ndependencies={}\n[component.trigger]\nchannel='c'", ErrUnknownField, "unknown field `dependencies`"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse("t.toml", []byte(tc.toml))
			if err == nil {
				t.Fatalf("Parse succeeded, want error %q", tc.want)
			}
			if !errors.Is(err, tc.sentinel) {
				t.Errorf("error %q is not %v", err, tc.sentinel)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			var me *Error
			if !errors.As(err, &me) || me.File != "t.toml" {
				t.Errorf("error %#v is not a *manifest.Error for t.toml", err)
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	_, _, err := Parse("spin.toml", []byte(v2("colour = 'red'", "")))
	var me *Error
	if !errors.As(err, &me) {
		t.Fatalf("%v is not *Error", err)
	}
	if me.Line != 10 || me.Col != 1 || me.Key != `component "a"` {
		t.Errorf("got line %d col %d key %q", me.Line, me.Col, me.Key)
	}
	want := "spin.toml:10:1: component \"a\": unknown field `colour`"
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %q, want prefix %q", err, want)
	}
	if !errors.Is(err, ErrUnknownField) || errors.Unwrap(err) == nil {
		t.Errorf("unwrap chain broken: %v", err)
	}
	if got := (&Error{File: "f", Err: errors.New("x")}).Error(); got != "f: x" {
		t.Errorf("no line: %q", got)
	}
	if got := (&Error{File: "f", Line: 3, Key: "k", Err: errors.New("x")}).Error(); got != "f:3: k: x" {
		t.Errorf("no col: %q", got)
	}
}

func TestSeveralErrorsJoined(t *testing.T) {
	_, _, err := Parse("t.toml", []byte(v2("colour = 'red'\nshape = 'round'", "[variables]\nx = {}")))
	if err == nil {
		t.Fatal("want error")
	}
	for _, want := range []string{"`colour`", "`shape`", "variable \"x\""} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
	if n := strings.Count(err.Error(), "\n"); n != 2 {
		t.Errorf("want 3 lines, got:\n%v", err)
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		name string
		toml string
		want []string // substrings, one warning each, in order
	}{
		{"none", v2("", ""), nil},
		{"undeclared trigger variable", strings.Replace(v2("", ""), `channel = "c"`, `channel = "{{ chan }}"`, 1),
			[]string{"t.toml:6: trigger \"a-redis-trigger\": `channel` uses undeclared variable \"chan\"; it must be supplied by a provider (e.g. SPIN_VARIABLE_CHAN)"}},
		{"undeclared app address variable", v2("", "[application.trigger.redis]\naddress = 'redis://{{ host }}'"),
			[]string{"[application.trigger.redis]: `address` uses undeclared variable \"host\""}},
		{"declared trigger variable", strings.Replace(v2("", "[variables]\nchan = { required = true }"), `channel = "c"`, `channel = "{{ chan }}"`, 1), nil},
		{"allowed_http_hosts", v2("allowed_http_hosts = ['example.com']", ""),
			[]string{"Use of the deprecated field `allowed_http_hosts` - to fix, replace `allowed_http_hosts` with `allowed_outbound_hosts = [\"http://example.com\", \"https://example.com\"]`"}},
		{"sqlite is served", v2("sqlite_databases = ['default']", ""), nil},
		{"ai", v2("ai_models = ['llama2-chat']", ""), []string{"`ai_models` is not supported by redspin yet"}},
		{"dependencies", v2("dependencies = { 'a:b' = '1.0.0' }", ""), []string{"component `dependencies` are not supported"}},
		{"profile", v2("profile.debug = { source = 'd.wasm' }", ""), []string{"component `profile` overrides are not supported"}},
		{"empty lists are silent", v2("sqlite_databases = []\nai_models = []\ndependencies = {}\nallowed_http_hosts = []", ""), nil},
		{"silent fields", v2("description = 'd'\ntargets = ['spin-up:3.2']\nbuild = { command = ['a', 'b'] }\ntool.x = { y = 1 }", "authors = ['me']\ntargets = ['spin-up:3.2']\n[application.tool.x]\ny = 1"), nil},
		{"unused component not warned", v2("", "[component.b]\nsource = 'b.wasm'\nsqlite_databases = ['default']"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, ws, err := Parse("t.toml", []byte(tc.toml))
			if err != nil {
				t.Fatal(err)
			}
			if len(ws) != len(tc.want) {
				t.Fatalf("got %d warnings %q, want %d", len(ws), ws, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(ws[i].String(), w) {
					t.Errorf("warning %d = %q, want %q", i, ws[i], w)
				}
			}
			if tc.name == "dependencies" && !m.Components["a"].HasDependencies {
				t.Error("HasDependencies not set")
			}
		})
	}
}

func TestNormalization(t *testing.T) {
	src := `spin_manifest_version = 2
[application]
name = "n"
[[trigger.redis]]
channel = "x"
component = "hello"
[[trigger.redis]]
id = "hello-redis-trigger2"
channel = "y"
component = "hello"
[[trigger.redis]]
channel = "z"
component = "hello"
[[trigger.redis]]
id = "admin"
channel = "a"
component = { source = "admin.wasm" }
[[trigger.redis]]
channel = "b"
component = { source = "other.wasm" }
[[trigger.redis]]
id = "Not_Kebab"
channel = "c"
component = { source = "c.wasm" }
[component.hello]
source = "hello.wasm"
[component.redis-trigger2-component]
source = "taken.wasm"
`
	m, _, err := Parse("n.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rt := range m.RedisTriggers {
		got = append(got, rt.ID+"="+rt.Component)
	}
	want := []string{
		"hello-redis-trigger=hello",
		"hello-redis-trigger2=hello",
		"redis-trigger1=hello",
		"admin=admin-component",
		"redis-trigger2=inline-component1",
		"Not_Kebab=inline-component2",
	}
	if !slices.Equal(got, want) {
		t.Errorf("triggers\n got %q\nwant %q", got, want)
	}
	wantIDs := []string{"hello", "redis-trigger2-component", "admin-component", "inline-component1", "inline-component2"}
	if !slices.Equal(m.ComponentIDs, wantIDs) {
		t.Errorf("component IDs %q, want %q", m.ComponentIDs, wantIDs)
	}
	if c := m.Components["admin-component"]; c == nil || c.Source.Path != "admin.wasm" || !c.Inline || c.Line != 17 {
		t.Errorf("inline component: %+v", c)
	}
}

func TestV1Conversion(t *testing.T) {
	src := `spin_manifest_version = "1"
name = "v1"
trigger = { type = "redis", address = "redis://localhost:6379" }
[variables]
pw = { required = true, secret = true }
[[component]]
id = "my_Comp"
source = "a.wasm"
config = { password = "{{ pw }}" }
allowed_outbound_hosts = ["redis://db:6379"]
allowed_http_hosts = ["example.com"]
[component.trigger]
channel = "messages"
[[component]]
id = "other"
source = "b.wasm"
[component.trigger]
channel = "more"
`
	m, ws, err := Parse("v1.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 0 {
		t.Errorf("V1 conversion warned: %q", ws)
	}
	if m.SpinManifestVersion != 1 || m.RedisAddress != "redis://localhost:6379" || m.Name != "v1" {
		t.Errorf("app: %+v", m)
	}
	if !slices.Equal(m.ComponentIDs, []string{"my-comp", "other"}) {
		t.Fatalf("IDs %q", m.ComponentIDs)
	}
	a := m.Components["my-comp"]
	if !slices.Equal(a.AllowedOutboundHosts, []string{"redis://db:6379", "http://example.com", "https://example.com"}) {
		t.Errorf("my-comp hosts %q", a.AllowedOutboundHosts)
	}
	if a.Variables["password"] != "{{ pw }}" {
		t.Errorf("config not converted: %v", a.Variables)
	}
	if b := m.Components["other"]; !slices.Equal(b.AllowedOutboundHosts, []string{"redis://*:*", "mysql://*:*", "postgres://*:*"}) {
		t.Errorf("other hosts %q", b.AllowedOutboundHosts)
	}
	if len(m.RedisTriggers) != 2 || m.RedisTriggers[0].ID != "trigger-my-comp" || m.RedisTriggers[0].Channel != "messages" || m.RedisTriggers[1].Component != "other" {
		t.Errorf("triggers %+v", m.RedisTriggers)
	}
	if v := m.Variables["pw"]; !v.Required || !v.Secret {
		t.Errorf("variable %+v", v)
	}
}

func TestV1HTTPApp(t *testing.T) {
	src := `spin_manifest_version = "1"
name = "web"
trigger = { type = "http", base = "/" }
[[component]]
id = "web"
source = "web.wasm"
[component.trigger]
route = "/..."
executor = { type = "spin" }
`
	m, _, err := Parse("v1.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.RedisTriggers) != 0 || !slices.Equal(m.OtherTriggerTypes, []string{"http"}) || m.Triggers[0].ID != "trigger-web" {
		t.Errorf("got %+v", m)
	}
}

func TestOtherTriggerTypesNotValidated(t *testing.T) {
	src := v2("", `[application.trigger.http]
anything = { goes = true }
[[trigger.http]]
route = "/..."
component = "a"
executor = { type = "wagi", argv = "x" }
whatever = 1
[[trigger.cron]]
cron_expression = "* * * * *"
component = "a"
dependencies = { mw = [{ path = "m.wasm" }] }
`)
	m, _, err := Parse("t.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.OtherTriggerTypes, []string{"cron", "http"}) {
		t.Errorf("other types %q", m.OtherTriggerTypes)
	}
	if len(m.RedisTriggers) != 1 || m.RedisTriggers[0].ID != "a-redis-trigger" {
		t.Errorf("redis triggers %+v", m.RedisTriggers)
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "spin.toml")
	if err := os.WriteFile(path, []byte(v2("", "")), 0o644); err != nil {
		t.Fatal(err)
	}
	m, _, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if m.File != path || m.Dir != dir {
		t.Errorf("File %q Dir %q", m.File, m.Dir)
	}
	_, _, err = Load(filepath.Join(dir, "missing.toml"))
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "missing.toml") {
		t.Errorf("missing file: %v", err)
	}
}

// TestLongValueQuotedShort: an error quoting a value the user wrote shows at
// most diag.MaxQuoted bytes of it and escapes control bytes (issue 10,
// defect 7: a 3 MB value made a 3 MB error line).
func TestLongValueQuotedShort(t *testing.T) {
	long := strings.Repeat("x", 3<<20)
	for name, doc := range map[string]string{
		"channel template": v2("", "") + "\n[[trigger.redis]]\ncomponent = \"a\"\nchannel = \"\\u0000{{ " + long + "\"\n",
		"version":          "spin_manifest_version = \"\\u0000" + long + "\"\n",
		"allowed host":     v2("allowed_outbound_hosts = [\"\\u0000"+long+"\"]", ""),
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := Parse("t.toml", []byte(doc))
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if len(msg) > 1000 || !strings.Contains(msg, `\x00`) || !strings.Contains(msg, "... (3145") {
				t.Fatalf("error of %d bytes: %.600s", len(msg), msg)
			}
		})
	}
}
