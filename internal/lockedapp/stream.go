package lockedapp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redspin/redspin/internal/manifest"
)

// streamConfig is the trigger_config of a redis-stream trigger: the keys of its [[trigger.redis-stream]]
// table, as Spin's loader copies a trigger table it does not know (`component` holds the component ID;
// absent keys stay absent). Durations are Go duration strings, as in spin.toml.
type streamConfig struct {
	Component        string `json:"component"`
	Stream           string `json:"stream"`
	Address          string `json:"address,omitempty"`
	Group            string `json:"group,omitempty"`
	Field            string `json:"field,omitempty"`
	Start            string `json:"start,omitempty"`
	Concurrency      int    `json:"concurrency,omitempty"`
	ReadAhead        int    `json:"read_ahead,omitempty"`
	MaxDeliveries    int    `json:"max_deliveries,omitempty"`
	DeadLetterStream string `json:"dead_letter_stream,omitempty"`
	ClaimIdle        string `json:"claim_idle,omitempty"`
	RetryBackoff     string `json:"retry_backoff,omitempty"`
}

// maxStreamInt is the largest concurrency, read_ahead and max_deliveries, as spin.toml allows.
const maxStreamInt = 1 << 20

// streamConfigOf is the trigger_config FromManifest writes for t.
func streamConfigOf(t manifest.StreamTrigger) streamConfig {
	c := streamConfig{Component: t.Component, Stream: t.Stream, Address: t.Address, Group: t.Group, Field: t.Field,
		Start: t.Start, Concurrency: t.Concurrency, ReadAhead: t.ReadAhead, MaxDeliveries: t.MaxDeliveries, DeadLetterStream: t.DeadLetterStream}
	if t.ClaimIdle > 0 {
		c.ClaimIdle = t.ClaimIdle.String()
	}
	if t.RetryBackoff > 0 {
		c.RetryBackoff = t.RetryBackoff.String()
	}
	return c
}

// streamTrigger reads the trigger_config of redis-stream trigger id with spin.toml's rules: unknown keys
// and wrong types are errors, `stream` is required.
func streamTrigger(id string, raw json.RawMessage) (*manifest.StreamTrigger, error) {
	var c streamConfig
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: redis-stream trigger_config: %v", manifest.ErrInvalidTrigger, err)
	}
	t := &manifest.StreamTrigger{ID: id, Component: c.Component, Stream: c.Stream, Address: c.Address, Group: c.Group,
		Field: c.Field, Start: c.Start, Concurrency: c.Concurrency, ReadAhead: c.ReadAhead, MaxDeliveries: c.MaxDeliveries, DeadLetterStream: c.DeadLetterStream}
	switch {
	case c.Stream == "":
		return nil, fmt.Errorf("%w: a redis-stream trigger needs a non-empty string `stream` in trigger_config", manifest.ErrInvalidTrigger)
	case c.Start != "" && c.Start != "0" && c.Start != "$":
		return nil, fmt.Errorf("%w: `start` %q: want \"0\" or \"$\"", manifest.ErrInvalidTrigger, c.Start)
	case c.Concurrency < 0 || c.Concurrency > maxStreamInt:
		return nil, fmt.Errorf("%w: `concurrency` = %d: must be between 1 and %d", manifest.ErrInvalidTrigger, c.Concurrency, maxStreamInt)
	case c.ReadAhead < 0 || c.ReadAhead > maxStreamInt:
		return nil, fmt.Errorf("%w: `read_ahead` = %d: must be between 1 and %d", manifest.ErrInvalidTrigger, c.ReadAhead, maxStreamInt)
	case c.MaxDeliveries < 0 || c.MaxDeliveries > maxStreamInt:
		return nil, fmt.Errorf("%w: `max_deliveries` = %d: must be between 1 and %d", manifest.ErrInvalidTrigger, c.MaxDeliveries, maxStreamInt)
	}
	for _, d := range []struct {
		key, val string
		to       *time.Duration
	}{{"claim_idle", c.ClaimIdle, &t.ClaimIdle}, {"retry_backoff", c.RetryBackoff, &t.RetryBackoff}} {
		if d.val == "" {
			continue
		}
		v, err := time.ParseDuration(d.val)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("%w: `%s` %q: want a positive duration such as \"30s\" or \"5m\"", manifest.ErrInvalidTrigger, d.key, d.val)
		}
		*d.to = v
	}
	return t, nil
}
