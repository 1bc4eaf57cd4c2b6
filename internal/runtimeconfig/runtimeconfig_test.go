package runtimeconfig

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func write(t *testing.T, content string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "runtime-config.toml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadFull(t *testing.T) {
	path := write(t, `
state_dir = "state"
log_dir = ""
max_instance_memory = 1_048_576

[[variables_provider]]
type = "static"
values = { api_key = "k1", other = "o" }

[[variables_provider]]
type = "env"
prefix = "MYAPP"
dotenv_path = "conf/.env"

[[variables_provider]]
type = "env"

[[variables_provider]]
type = "vault"
url = "http://127.0.0.1:8200"
token = "root"
mount = "secret"
prefix = "app"

[[variables_provider]]
type = "open_bao"
url = "http://127.0.0.1:8200"
token = "t"
mount = "kv"

[[variables_provider]]
type = "azure_key_vault"
vault_url = "https://x.vault.azure.net/"
authority_host = "AzureChina"

[key_value_store.cache]
type = "redis"
url = "redis://:pw@localhost:6379/1"

[key_value_store.local]
type = "spin"
path = "data/kv.db"

[key_value_store.mem]
type = "spin"

[key_value_store.cloud]
type = "azure_cosmos"
key = "k"
account = "a"
database = "d"
container = "c"
`)
	cfg, warnings, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if cfg.StateDir == nil || *cfg.StateDir != filepath.Join(wd, "state") {
		t.Errorf("StateDir = %v, want %s (absolute against the working directory, as Spin)", cfg.StateDir, filepath.Join(wd, "state"))
	}
	if cfg.LogDir == nil || *cfg.LogDir != "" {
		t.Errorf("LogDir = %v, want pointer to \"\" (explicitly unset)", cfg.LogDir)
	}
	if cfg.MaxInstanceMemory != 1<<20 {
		t.Errorf("MaxInstanceMemory = %d", cfg.MaxInstanceMemory)
	}
	want := []ProviderConfig{
		{Type: "static", Line: 6, Values: map[string]string{"api_key": "k1", "other": "o"}},
		{Type: "env", Line: 10, Prefix: "MYAPP", DotenvPath: "conf/.env"},
		{Type: "env", Line: 15, Prefix: "SPIN_VARIABLE"},
		{Type: "vault", Line: 18, URL: "http://127.0.0.1:8200", Token: "root", Mount: "secret", Prefix: "app"},
		{Type: "vault", Line: 25, URL: "http://127.0.0.1:8200", Token: "t", Mount: "kv"},
		{Type: "azure_key_vault", Line: 31, VaultURL: "https://x.vault.azure.net/", AuthorityHost: "AzureChina"},
	}
	if !reflect.DeepEqual(cfg.VariablesProviders, want) {
		t.Errorf("providers:\n got %+v\nwant %+v", cfg.VariablesProviders, want)
	}
	dir := filepath.Dir(path)
	wantKV := map[string]KeyValueStore{
		"cache": {Type: "redis", URL: "redis://:pw@localhost:6379/1", Line: 36},
		"local": {Type: "spin", Path: filepath.Join(dir, "data/kv.db"), Line: 40},
		"mem":   {Type: "spin", Line: 44},
		"cloud": {Type: "azure_cosmos", Line: 47},
	}
	if !reflect.DeepEqual(cfg.KeyValueStores, wantKV) {
		t.Errorf("stores:\n got %+v\nwant %+v", cfg.KeyValueStores, wantKV)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0].String(), `runtime-config.toml:47: [key_value_store.cloud]: type "azure_cosmos" is not supported`) {
		t.Errorf("warnings = %v", warnings)
	}
	wantSummary := []string{"key_value_store.cache: redis", "key_value_store.cloud: azure_cosmos", "key_value_store.local: spin", "key_value_store.mem: spin"}
	if !reflect.DeepEqual(cfg.Summary(), wantSummary) {
		t.Errorf("Summary() = %q", cfg.Summary())
	}
	wantLine := `Using runtime config [key_value_store.cache: redis], [key_value_store.cloud: azure_cosmos], [key_value_store.local: spin], [key_value_store.mem: spin] from "` + path + `"`
	if cfg.SummaryLine() != wantLine {
		t.Errorf("SummaryLine() = %q\nwant %q", cfg.SummaryLine(), wantLine)
	}
	for _, p := range cfg.VariablesProviders {
		if s := p.String(); strings.Contains(s, "root") || strings.Contains(s, "k1") {
			t.Errorf("String() leaks a secret: %s", s)
		}
	}
}

func TestLoadEmptyAndDefaults(t *testing.T) {
	cfg, warnings, err := Load(write(t, "# nothing\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.StateDir != nil || cfg.LogDir != nil || cfg.MaxInstanceMemory != 0 || cfg.VariablesProviders != nil || cfg.KeyValueStores != nil || warnings != nil {
		t.Errorf("cfg = %+v, warnings = %v", cfg, warnings)
	}
	if cfg.SummaryLine() != "" || cfg.Summary() != nil {
		t.Errorf("summary of empty config: %q", cfg.SummaryLine())
	}
	var nilCfg *Config
	if nilCfg.Summary() != nil || nilCfg.SummaryLine() != "" {
		t.Error("nil config summary")
	}
}

func TestConfigProviderAlias(t *testing.T) {
	cfg, _, err := Load(write(t, "[[config_provider]]\ntype = \"static\"\nvalues = { a = \"b\" }\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.VariablesProviders) != 1 || cfg.VariablesProviders[0].Values["a"] != "b" {
		t.Errorf("providers = %+v", cfg.VariablesProviders)
	}
}

func TestUnsupportedSections(t *testing.T) {
	path := write(t, `
[sqlite_database.default]
type = "libsql"
url = "https://x"
token = "t"

[sqlite_database.other]
path = "x.db"

[llm_compute]
type = "remote_http"
url = "http://x"
auth_token = "t"

[outbound_networking]
block_networks = ["1.1.1.1/32"]

[outbound_redis]
max_connections = 4

[[client_tls]]
component_ids = ["x"]
hosts = ["h"]

[blob_store.b]
type = "spin"
`)
	cfg, warnings, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, w := range warnings {
		msgs = append(msgs, w.String())
	}
	got := strings.Join(msgs, "\n")
	for _, want := range []string{
		"runtime-config.toml:2: [sqlite_database.default] is not supported by redspin and is ignored",
		"runtime-config.toml:7: [sqlite_database.other] is not supported",
		"runtime-config.toml:10: [llm_compute] is not supported",
		"runtime-config.toml:18: [outbound_redis] is not supported",
		"runtime-config.toml:25: [blob_store.*] is not supported",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("warnings lack %q:\n%s", want, got)
		}
	}
	if len(warnings) != 5 {
		t.Errorf("got %d warnings, want 5:\n%s", len(warnings), got)
	}
	if want := []string{"sqlite_database.default: libsql", "llm_compute: remote_http"}; !reflect.DeepEqual(cfg.Summary(), want) {
		t.Errorf("Summary() = %q, want %q", cfg.Summary(), want)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, toml, want string
	}{
		{"unknown top-level key", "state_dir = \"x\"\nbogus = 1\n", `runtime-config.toml:2:1: unknown key "bogus"`},
		{"unknown table", "[http]\nx = 1\n", `runtime-config.toml:1:2: unknown key "http"`},
		{"syntax", "state_dir = \n", "runtime-config.toml:1:"},
		{"wrong type", "max_instance_memory = \"1GB\"\n", "runtime-config.toml:1:23: max_instance_memory: must be an integer, not a TOML string"},
		{"float memory", "max_instance_memory = 1.5\n", "max_instance_memory: must be an integer, not a TOML float"},
		{"kv not named", "[key_value_store]\ntype = \"redis\"\n", "runtime-config.toml:2:8: key_value_store.type: must be a table, not a TOML string"},
		{"kv scalar", "key_value_store = 3\n", "key_value_store: must be a table of named tables, not a TOML integer"},
		{"providers not array", "variables_provider = 3\n", "variables_provider: must be an array of tables ([[...]]), not a TOML integer"},
		{"duplicate key", "log_dir = \"a\"\nlog_dir = \"b\"\n", "runtime-config.toml:2:1: log_dir: key log_dir is already defined"},
		{"negative memory", "max_instance_memory = -1\n", "runtime-config.toml:1:1: max_instance_memory: must be a number of bytes, not -1"},
		{"state_dir not string", "state_dir = 3\n", "runtime-config.toml:1:13: state_dir: must be a string, not a TOML integer"},
		{"both provider names", "[[variables_provider]]\ntype = \"env\"\n[[config_provider]]\ntype = \"env\"\n", "runtime-config.toml:3:3: config_provider: [[config_provider]] is the older name of [[variables_provider]]; use one of them, not both"},
		{"missing provider type", "[[variables_provider]]\nprefix = \"x\"\n", `runtime-config.toml:1:3: variables_provider[0]: missing type (one of "static", "env", "vault", "azure_key_vault")`},
		{"unknown provider type", "[[variables_provider]]\ntype = \"env\"\n[[variables_provider]]\ntype = \"consul\"\n", `runtime-config.toml:4:1: variables_provider[1].type: unknown variables provider type "consul"`},
		{"type not string", "[[variables_provider]]\ntype = 1\n", "variables_provider[0].type: must be a string, not an integer"},
		{"env unknown key", "[[variables_provider]]\ntype = \"env\"\nurl = \"x\"\n", `runtime-config.toml:3:1: variables_provider[0].url: unknown key "url" for type "env" (known keys: prefix, dotenv_path)`},
		{"static unknown key", "[[variables_provider]]\ntype = \"static\"\nprefix = \"x\"\n", `unknown key "prefix" for type "static" (known keys: values)`},
		{"static non-string value", "[[variables_provider]]\ntype = \"static\"\nvalues = { a = 1 }\n", "runtime-config.toml:3:12: variables_provider[0].values.a: must be a string, not an integer"},
		{"static values not table", "[[variables_provider]]\ntype = \"static\"\nvalues = [\"a\"]\n", "variables_provider[0].values: must be a table of strings, not an array"},
		{"vault missing token", "[[variables_provider]]\ntype = \"vault\"\nurl = \"http://x\"\nmount = \"secret\"\n", `runtime-config.toml:1:3: variables_provider[0]: type "vault" requires token`},
		{"vault empty url", "[[variables_provider]]\ntype = \"vault\"\nurl = \"\"\ntoken = \"t\"\nmount = \"m\"\n", "variables_provider[0].url: must not be empty"},
		{"azure partial credentials", "[[variables_provider]]\ntype = \"azure_key_vault\"\nvault_url = \"https://x\"\nclient_id = \"c\"\n", "client_id, client_secret and tenant_id must be given all together, or none of them"},
		{"azure bad authority", "[[variables_provider]]\ntype = \"azure_key_vault\"\nvault_url = \"https://x\"\nauthority_host = \"Mars\"\n", `unknown authority host "Mars"`},
		{"kv missing type", "[key_value_store.x]\nurl = \"redis://h\"\n", `runtime-config.toml:1:2: key_value_store.x: missing type`},
		{"kv unknown type", "[key_value_store.x]\ntype = \"memcached\"\n", `runtime-config.toml:2:1: key_value_store.x.type: unknown key-value store type "memcached"`},
		{"kv redis missing url", "[key_value_store.x]\ntype = \"redis\"\n", `key_value_store.x: type "redis" requires url`},
		{"kv redis bad url", "[key_value_store.x]\ntype = \"redis\"\nurl = \"redis:/h\"\n", `runtime-config.toml:3:1: key_value_store.x.url: invalid Redis URL "redis:/h": expected "//"`},
		{"kv spin unknown key", "[key_value_store.x]\ntype = \"spin\"\nurl = \"x\"\n", `key_value_store.x.url: unknown key "url" for type "spin" (known keys: path)`},
		{"kv dotted", "key_value_store.x.type = \"spin\"\nkey_value_store.x.bad = 1\n", `runtime-config.toml:2:1: key_value_store.x.bad: unknown key "bad"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Load(write(t, tc.toml))
			if err == nil {
				t.Fatalf("want error containing %q", tc.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("error %T is not *Error", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tc.want)
			}
		})
	}
}

func TestLoadErrorsHideRedisPassword(t *testing.T) {
	_, _, err := Load(write(t, "[key_value_store.x]\ntype = \"redis\"\nurl = \"redis://u:Secr3tPw@h:0\"\n"))
	if err == nil || strings.Contains(err.Error(), "Secr3t") {
		t.Errorf("error = %v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, _, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if err == nil || !strings.Contains(err.Error(), "nope.toml: read runtime config:") || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error = %v", err)
	}
}

func TestIndex(t *testing.T) {
	ix := index([]byte("a = 1\n[t]\nb.c = { d = 2 }\n[[arr]]\nx = 1\n[[arr]]\nx = 2\n"))
	if want := []string{"a", "t", "arr"}; !reflect.DeepEqual(ix.top, want) {
		t.Errorf("top = %q, want %q", ix.top, want)
	}
	got := ix.pos
	want := map[string]position{
		"a": {1, 1}, "t": {2, 2}, "t.b": {3, 1}, "t.b.c": {3, 1}, "t.b.c.d": {3, 9},
		"arr": {4, 3}, "arr.0": {4, 3}, "arr.0.x": {5, 1}, "arr.1": {6, 3}, "arr.1.x": {7, 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("index =\n%v\nwant\n%v", got, want)
	}
}

// FuzzParse checks that no input makes the loader panic.
func FuzzParse(f *testing.F) {
	f.Add("state_dir = \"x\"\n[[variables_provider]]\ntype = \"static\"\nvalues = { a = \"b\" }\n")
	f.Add("[key_value_store.x]\ntype = \"redis\"\nurl = \"redis://h\"\n")
	f.Add("a.b.c = { d = [1, { e = 2 }] }\n[[x.y]]\n[[x.y]]\n")
	f.Add("[llm_compute]\ntype = 3\n[sqlite_database.d]\n")
	f.Fuzz(func(t *testing.T, s string) {
		cfg, _, err := parse("rc.toml", []byte(s))
		if err == nil {
			_ = cfg.Summary()
			_ = cfg.SummaryLine()
		}
	})
}

// TestKeyValueURLIgnoredParams: a redis store URL's unknown query parameters
// give one warning naming them, never their values (issue 10, defect 7).
func TestKeyValueURLIgnoredParams(t *testing.T) {
	path := write(t, `
[key_value_store.cache]
type = "redis"
url = "redis://localhost:6379?password=Secr3t&timeout=5"
`)
	_, warnings, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 {
		t.Fatalf("warnings = %v", warnings)
	}
	got := warnings[0].String()
	want := `runtime-config.toml:4: [key_value_store.cache] url: ignoring unknown query parameter(s) "password", "timeout": redspin reads only protocol (and db, user, pass for unix sockets)`
	if !strings.HasSuffix(got, want) || strings.Contains(got, "Secr3t") {
		t.Fatalf("warning = %s\nwant      %s", got, want)
	}
}
