package manifest

import (
	"fmt"
	"time"
)

// StreamTriggerType is the trigger type of redspin's durable trigger on Redis Streams consumer groups.
const StreamTriggerType = "redis-stream"

// StreamTrigger is one [[trigger.redis-stream]] entry. Stream, Address, Group and DeadLetterStream are
// templates; empty optional fields mean the default the app resolves (see internal/app).
type StreamTrigger struct {
	// ID is the trigger's `id`, or its normalised ID.
	ID string
	// Component is the ID of the component to run (inline components have been given IDs).
	Component string
	// Stream is the stream key template (required).
	Stream string
	// Address is the address template; "" means Manifest.StreamAddress.
	Address string
	// Group is the consumer group template; "" means "<application name>-<component id>".
	Group string
	// Field is the entry field passed as the message; "" means "payload".
	Field string
	// Start is where a new group starts, "0" or "$"; "" means "0".
	Start string
	// Concurrency is the number of entries in flight per process; 0 means 1.
	Concurrency int
	// ReadAhead is `read_ahead`: how many entries a process may hold delivered but not started yet; 0
	// means the larger of 16 and Concurrency.
	ReadAhead int
	// MaxDeliveries is the delivery count after which a failed entry is dead-lettered; 0 means 5.
	MaxDeliveries int
	// DeadLetterStream is the dead-letter stream template; "" means "<stream>:dead".
	DeadLetterStream string
	// ClaimIdle is `claim_idle`: entries pending longer on any consumer are claimed; 0 means the
	// default derived from --handler-timeout.
	ClaimIdle time.Duration
	// RetryBackoff is `retry_backoff`: the first retry delay, doubling per delivery; 0 means 1 s.
	RetryBackoff time.Duration
	// Line is the line of the trigger's table header.
	Line int
}

var (
	streamTriggerFields = []string{"id", "component", "stream", "address", "group", "field", "start",
		"concurrency", "read_ahead", "max_deliveries", "dead_letter_stream", "claim_idle", "retry_backoff"}
	streamAppFields = []string{"address"}
)

// rawStream holds what a [[trigger.redis-stream]] table adds to rawTrigger.
type rawStream struct {
	StreamTrigger
	hasAddress, hasGroup, hasDead bool
}

// parseStreamAppTrigger reads [application.trigger.redis-stream].
func parseStreamAppTrigger(tt *table, m *model) {
	if addr, ok := tt.str("address"); ok {
		m.streamAddress, m.hasStreamAddress, m.streamAddressPath = addr, true, tt.keyPath("address")
	}
	tt.finish(streamAppFields...)
}

// parseStreamTrigger reads the redis-stream keys of one trigger table.
func parseStreamTrigger(t *table, tr *rawTrigger) {
	if tr.component == nil && !t.has("component") {
		t.missing("component")
	}
	s := &rawStream{}
	if !t.has("stream") {
		t.missing("stream")
	} else {
		s.Stream, _ = t.str("stream")
	}
	s.Address, s.hasAddress = t.str("address")
	s.Group, s.hasGroup = t.str("group")
	s.DeadLetterStream, s.hasDead = t.str("dead_letter_stream")
	if f, ok := t.str("field"); ok {
		if f == "" {
			t.errKey("field", errf(ErrInvalidTrigger, "`field` must not be empty (default \"payload\")"))
		}
		s.Field = f
	}
	if st, ok := t.str("start"); ok {
		if st != "0" && st != "$" {
			t.errKey("start", errf(ErrInvalidTrigger, "`start` %q: want \"0\" (a new group reads the whole stream) or \"$\" (only entries added after it was created)", st))
		}
		s.Start = st
	}
	s.Concurrency = int(positiveInt(t, "concurrency"))
	s.ReadAhead = int(positiveInt(t, "read_ahead"))
	s.MaxDeliveries = int(positiveInt(t, "max_deliveries"))
	s.ClaimIdle = duration(t, "claim_idle")
	s.RetryBackoff = duration(t, "retry_backoff")
	t.finish(streamTriggerFields...)
	tr.stream = s
}

// positiveInt reads an optional integer that must be at least 1 (0 when absent).
func positiveInt(t *table, key string) int64 {
	v, ok := t.raw(key)
	if !ok {
		return 0
	}
	n, isInt := v.(int64)
	switch {
	case !isInt:
		t.errKey(key, typeErr(key, v, "a positive integer"))
	case n < 1 || n > 1<<20:
		t.errKey(key, errf(ErrInvalidTrigger, "`%s` = %d: must be between 1 and %d", key, n, 1<<20))
	default:
		return n
	}
	return 0
}

// duration reads an optional positive Go duration string such as "30s" (0 when absent).
func duration(t *table, key string) time.Duration {
	s, ok := t.str(key)
	if !ok {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		t.errKey(key, errf(ErrInvalidTrigger, "`%s` %q: want a positive duration such as \"30s\" or \"5m\"", key, s))
		return 0
	}
	return d
}

// finalizeStream checks one stream trigger's templates and adds it to m.
func finalizeStream(p *problems, mod *model, m *Manifest, tr *rawTrigger, line int) {
	s := tr.stream.StreamTrigger
	s.ID, s.Line = tr.id, line
	if tr.component != nil {
		s.Component = tr.component.ref
	}
	ctx := fmt.Sprintf("trigger %q", tr.id)
	checkTriggerTemplate(p, mod, join(tr.path, "stream"), ctx, "stream", s.Stream)
	for _, f := range []struct {
		key, val string
		set      bool
	}{{"address", s.Address, tr.stream.hasAddress}, {"group", s.Group, tr.stream.hasGroup}, {"dead_letter_stream", s.DeadLetterStream, tr.stream.hasDead}} {
		if f.set {
			checkTriggerTemplate(p, mod, join(tr.path, f.key), ctx, f.key, f.val)
		}
	}
	m.StreamTriggers = append(m.StreamTriggers, s)
}
