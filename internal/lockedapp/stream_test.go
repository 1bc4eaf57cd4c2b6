package lockedapp

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/redspin/redspin/internal/blobstore"
	"github.com/redspin/redspin/internal/manifest"
)

// A redis-stream trigger with every key, next to a redis trigger, survives manifest → locked app →
// manifest unchanged; both app-level addresses go to metadata.triggers, and the older single-type
// metadata.trigger is left out because the app has two trigger types.
func TestStreamTriggerEveryKeyRoundTrip(t *testing.T) {
	dir := t.TempDir()
	toml := `spin_manifest_version = 2
[application]
name = "shop"
[application.trigger.redis]
address = "redis://pubsub:6379"
[application.trigger.redis-stream]
address = "redis://{{ host }}:6379"
[variables]
host = { default = "streams" }
[[trigger.redis]]
channel = "news"
component = "a"
[[trigger.redis-stream]]
id = "orders"
component = "a"
stream = "orders"
address = "rediss://tls-host:6380"
group = "workers"
field = "body"
start = "$"
concurrency = 4
read_ahead = 32
max_deliveries = 3
dead_letter_stream = "{orders}:dead"
claim_idle = "90s"
retry_backoff = "250ms"
[component.a]
source = "a.wasm"
`
	for name, content := range map[string]string{"spin.toml": toml, "a.wasm": "\x00asm"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, _, err := manifest.Load(filepath.Join(dir, "spin.toml"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := FromManifest(m, map[string]Resolved{"a": {WasmPath: filepath.Join(dir, "a.wasm")}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.Encode()
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Metadata map[string]any `json:"metadata"`
		Triggers []struct {
			Type   string         `json:"trigger_type"`
			Config map[string]any `json:"trigger_config"`
		} `json:"triggers"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	wantGlobal := map[string]any{"redis": map[string]any{"address": "redis://pubsub:6379"},
		"redis-stream": map[string]any{"address": "redis://{{ host }}:6379"}}
	if !reflect.DeepEqual(raw.Metadata["triggers"], wantGlobal) || raw.Metadata["trigger"] != nil {
		t.Errorf("metadata: triggers %v, trigger %v", raw.Metadata["triggers"], raw.Metadata["trigger"])
	}
	wantCfg := map[string]any{"component": "a", "stream": "orders", "address": "rediss://tls-host:6380", "group": "workers",
		"field": "body", "start": "$", "concurrency": 4.0, "read_ahead": 32.0, "max_deliveries": 3.0, "dead_letter_stream": "{orders}:dead",
		"claim_idle": "1m30s", "retry_backoff": "250ms"}
	if len(raw.Triggers) != 2 || raw.Triggers[1].Type != "redis-stream" || !reflect.DeepEqual(raw.Triggers[1].Config, wantCfg) {
		t.Errorf("triggers: %+v", raw.Triggers)
	}

	path := filepath.Join(t.TempDir(), "app.lock.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	got, _, err := Load(path, blobstore.New(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if got.StreamAddress != m.StreamAddress || got.RedisAddress != m.RedisAddress {
		t.Errorf("addresses: %q %q", got.RedisAddress, got.StreamAddress)
	}
	if want := stripStreamLines(m.StreamTriggers); !reflect.DeepEqual(got.StreamTriggers, want) {
		t.Errorf("stream triggers:\ngot  %+v\nwant %+v", got.StreamTriggers, want)
	}
	if len(got.OtherTriggerTypes) != 0 || len(got.RedisTriggers) != 1 {
		t.Errorf("other types %v, redis triggers %+v", got.OtherTriggerTypes, got.RedisTriggers)
	}
}

// A locked app's redis-stream triggers follow spin.toml's rules; the older metadata form gives the
// app-level address.
func TestStreamTriggerConfigRules(t *testing.T) {
	comp := `"components":[{"id":"a","source":{"content_type":"application/wasm","source":"file:///a.wasm"}}]`
	app := func(meta, cfg string) string {
		return `{"spin_lock_version":0,"metadata":` + meta + `,"triggers":[{"id":"t","trigger_type":"redis-stream","trigger_config":` + cfg + `}],` + comp + `}`
	}
	tests := []struct{ name, cfg, want string }{
		{"no component", `{"stream":"s"}`, "needs a `component`"},
		{"no stream", `{"component":"a"}`, "`stream`"},
		{"unknown key", `{"component":"a","stream":"s","channel":"c"}`, `unknown field "channel"`},
		{"wrong type", `{"component":"a","stream":"s","concurrency":"4"}`, "concurrency"},
		{"negative read_ahead", `{"component":"a","stream":"s","read_ahead":-1}`, "`read_ahead` = -1"},
		{"bad start", `{"component":"a","stream":"s","start":"now"}`, "`start`"},
		{"bad duration", `{"component":"a","stream":"s","claim_idle":"soon"}`, "`claim_idle`"},
		{"negative", `{"component":"a","stream":"s","max_deliveries":-1}`, "`max_deliveries`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := convert(t, app(`{}`, tt.cfg), blobstore.New(t.TempDir()))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `trigger "t"`) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
	m, err := convert(t, app(`{"trigger":{"type":"redis-stream","address":"redis://old:1"}}`, `{"component":"a","stream":"s"}`), blobstore.New(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if m.StreamAddress != "redis://old:1" || m.RedisAddress != "" || len(m.StreamTriggers) != 1 || m.StreamTriggers[0].Stream != "s" {
		t.Errorf("older metadata form: %+v", m)
	}
}
