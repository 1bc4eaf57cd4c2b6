package manifest

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const streamApp = `spin_manifest_version = 2
[application]
name = "shop"
[application.trigger.redis-stream]
address = "redis://{{ host }}:6379"
[variables]
host = { default = "localhost" }
[[trigger.redis]]
channel = "c"
component = "a"
[[trigger.redis-stream]]
component = "a"
stream = "orders"
[[trigger.redis-stream]]
component = "a"
stream = "{{ host }}-audit"
address = "redis://other:6379"
group = "auditors"
field = "body"
start = "$"
concurrency = 4
read_ahead = 32
max_deliveries = 3
dead_letter_stream = "{orders}:dead"
claim_idle = "10m"
retry_backoff = "250ms"
[component.a]
source = "a.wasm"
`

func TestStreamTriggers(t *testing.T) {
	m, _, err := Parse("t.toml", []byte(streamApp))
	if err != nil {
		t.Fatal(err)
	}
	if m.StreamAddress != "redis://{{ host }}:6379" || len(m.RedisTriggers) != 1 || len(m.OtherTriggerTypes) != 0 {
		t.Fatalf("manifest: address %q, %d redis triggers, other types %v", m.StreamAddress, len(m.RedisTriggers), m.OtherTriggerTypes)
	}
	if len(m.StreamTriggers) != 2 {
		t.Fatalf("stream triggers = %+v", m.StreamTriggers)
	}
	want0 := StreamTrigger{ID: "a-redis-stream-trigger", Component: "a", Stream: "orders", Line: 11}
	if got := m.StreamTriggers[0]; got != want0 {
		t.Errorf("first = %+v, want %+v", got, want0)
	}
	want1 := StreamTrigger{ID: "redis-stream-trigger1", Component: "a", Stream: "{{ host }}-audit", Address: "redis://other:6379",
		Group: "auditors", Field: "body", Start: "$", Concurrency: 4, ReadAhead: 32, MaxDeliveries: 3, DeadLetterStream: "{orders}:dead",
		ClaimIdle: 10 * time.Minute, RetryBackoff: 250 * time.Millisecond, Line: 14}
	if got := m.StreamTriggers[1]; got != want1 {
		t.Errorf("second = %+v, want %+v", got, want1)
	}
}

func TestStreamTriggerErrors(t *testing.T) {
	base := "spin_manifest_version = 2\n[application]\nname = \"t\"\n[component.a]\nsource = \"a.wasm\"\n"
	tests := []struct {
		name, toml, want string
		sentinel         error
	}{
		{"unknown key", "[[trigger.redis-stream]]\ncomponent = \"a\"\nstream = \"s\"\nchannel = \"c\"\n", "unknown field `channel`", ErrUnknownField},
		{"unknown app key", "[application.trigger.redis-stream]\nadress = \"x\"\n[[trigger.redis-stream]]\ncomponent = \"a\"\nstream = \"s\"\n", "unknown field `adress`", ErrUnknownField},
		{"missing stream", "[[trigger.redis-stream]]\ncomponent = \"a\"\n", "missing field `stream`", ErrMissingField},
		{"missing component", "[[trigger.redis-stream]]\nstream = \"s\"\n", "missing field `component`", ErrMissingField},
		{"bad start", "[[trigger.redis-stream]]\ncomponent = \"a\"\nstream = \"s\"\nstart = \">\"\n", "`start` \">\"", ErrInvalidTrigger},
		{"zero concurrency", "[[trigger.redis-stream]]\ncomponent = \"a\"\nstream = \"s\"\nconcurrency = 0\n", "`concurrency` = 0", ErrInvalidTrigger},
		{"zero read_ahead", "[[trigger.redis-stream]]\ncomponent = \"a\"\nstream = \"s\"\nread_ahead = 0\n", "`read_ahead` = 0", ErrInvalidTrigger},
		{"string max", "[[trigger.redis-stream]]\ncomponent = \"a\"\nstream = \"s\"\nmax_deliveries = \"5\"\n", "expected a positive integer", ErrWrongType},
		{"bad duration", "[[trigger.redis-stream]]\ncomponent = \"a\"\nstream = \"s\"\nclaim_idle = \"soon\"\n", "`claim_idle` \"soon\"", ErrInvalidTrigger},
		{"bad template", "[[trigger.redis-stream]]\ncomponent = \"a\"\nstream = \"{{ Bad }}\"\n", "`stream`", ErrInvalidTemplate},
		{"unknown component", "[[trigger.redis-stream]]\ncomponent = \"b\"\nstream = \"s\"\n", "component \"b\" is not defined", ErrUnknownComponent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse("t.toml", []byte(base+tc.toml))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, tc.sentinel) {
				t.Fatalf("error %v, want one containing %q wrapping %v", err, tc.want, tc.sentinel)
			}
		})
	}
}
