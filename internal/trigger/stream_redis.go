package trigger

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/streamentry"
)

// deadLetterScript moves one entry to the dead-letter stream and acknowledges it, atomically, checking
// before it writes: the entry must still be pending on this consumer (not acknowledged or claimed
// elsewhere meanwhile) and the dead-letter key must be a stream or absent. Unlike MULTI/EXEC, nothing is
// written when a check fails, so the entry is never acknowledged without its dead letter.
// KEYS: stream, dead-letter stream. ARGV: group, id, consumer, field, value, ...
// Returns 1 when moved, 0 when the entry was no longer pending on this consumer.
var deadLetterScript = redis.NewScript(`
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #p == 0 or p[1][2] ~= ARGV[3] then return 0 end
local t = redis.call('TYPE', KEYS[2])['ok']
if t ~= 'stream' and t ~= 'none' then
  return redis.error_reply('WRONGTYPE dead-letter key ' .. KEYS[2] .. ' holds a ' .. t .. ', not a stream')
end
redis.call('XADD', KEYS[2], '*', unpack(ARGV, 4))
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return 1
`)

// leaseScript sets the idle time of the given entries to ARGV[3] ms, for each one only if it is still
// pending on this consumer (checked and set in one script, so an entry another consumer claimed meanwhile
// is never taken back). XCLAIM's JUSTID form does not count a delivery. KEYS: stream. ARGV: group,
// consumer, idle ms, id, ... Returns the IDs still pending on this consumer.
var leaseScript = redis.NewScript(`
local out = {}
for i = 4, #ARGV do
  if #redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[2]) == 1 then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'IDLE', ARGV[3], 'JUSTID')
    table.insert(out, ARGV[i])
  end
end
return out
`)

// cleanupScript deletes the group's consumers (other than ARGV[3]) that have no pending entries and have
// been idle for at least ARGV[2] ms. Checking and deleting in one script matters: XGROUP DELCONSUMER
// discards the consumer's pending entries, so a consumer that received an entry between a check and a
// separate delete would lose it. KEYS: stream. ARGV: group, min idle ms, own consumer name.
var cleanupScript = redis.NewScript(`
local out = {}
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local f = {}
  for i = 1, #c, 2 do f[c[i]] = c[i + 1] end
  if f['name'] ~= ARGV[3] and f['pending'] == 0 and f['idle'] >= tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], f['name'])
    table.insert(out, f['name'])
  end
end
return out
`)

// deadLetter moves a failed entry to the dead-letter stream with the fields naming its origin and
// error. On a Redis Cluster where the two keys sit in different hash slots (CROSSSLOT) it falls back to
// XADD then XACK: at-least-once into the dead-letter stream, and the redspin.id field makes a duplicate
// detectable. ctx is the entry's (its span, for the log lines); the move is not cancelled with it.
func (c *streamConsumer) deadLetter(ctx context.Context, e streamentry.Entry, reason string) {
	ctx = context.WithoutCancel(ctx)
	fields := DeadLetterFields(e, c.cfg.Component, reason, time.Now())
	args := []any{c.cfg.Group, e.ID, c.t.cfg.Consumer}
	for _, f := range fields {
		args = append(args, f.Name, f.Value)
	}
	keys := []string{c.cfg.Key, c.cfg.DeadLetter}
	moved, err := deadLetterScript.Run(ctx, c.client, keys, args...).Int()
	if err != nil && strings.HasPrefix(err.Error(), "CROSSSLOT") {
		moved, err = c.deadLetterCrossSlot(ctx, e.ID, args[3:])
	}
	switch {
	case err != nil:
		c.log.ErrorContext(ctx, "could not dead-letter the entry; it stays pending and will be delivered again",
			"id", e.ID, "dead_letter_stream", c.cfg.DeadLetter, "error", redact(c.cfg.Options, err))
	case moved == 0:
		c.log.WarnContext(ctx, "entry not dead-lettered: it is no longer pending on this consumer", "id", e.ID)
	default:
		c.t.stats.dead.Add(1)
		c.obs.DeadLettered()
		c.log.WarnContext(ctx, "entry dead-lettered", "id", e.ID, "deliveries", e.Deliveries,
			"dead_letter_stream", c.cfg.DeadLetter, "error", reason)
	}
}

// deadLetterCrossSlot is the cluster fallback: XADD, and only after it succeeded, XACK.
func (c *streamConsumer) deadLetterCrossSlot(ctx context.Context, id string, fields []any) (int, error) {
	if err := c.client.XAdd(ctx, &redis.XAddArgs{Stream: c.cfg.DeadLetter, Values: fields}).Err(); err != nil {
		return 0, err
	}
	return 1, c.client.XAck(ctx, c.cfg.Key, c.cfg.Group, id).Err()
}

// DeadLetterFields are the fields of e's dead letter: its original fields (except earlier redspin.*
// ones, which the new ones replace), then the source stream, ID, group, component, delivery count,
// error and time.
func DeadLetterFields(e streamentry.Entry, component, reason string, now time.Time) []streamentry.Field {
	var out []streamentry.Field
	for _, f := range e.Fields {
		switch f.Name {
		case streamentry.FieldStream, streamentry.FieldID, streamentry.FieldGroup, streamentry.FieldComponent,
			streamentry.FieldDeliveries, streamentry.FieldError, streamentry.FieldTime:
			continue
		}
		out = append(out, f)
	}
	add := func(name, value string) { out = append(out, streamentry.Field{Name: name, Value: []byte(value)}) }
	add(streamentry.FieldStream, e.Stream)
	add(streamentry.FieldID, e.ID)
	add(streamentry.FieldGroup, e.Group)
	add(streamentry.FieldComponent, component)
	add(streamentry.FieldDeliveries, strconv.FormatInt(e.Deliveries, 10))
	add(streamentry.FieldError, reason)
	add(streamentry.FieldTime, now.UTC().Format(time.RFC3339))
	return out
}

// rawEntry is one entry of a reply, with its fields in order; deleted marks a pending entry whose
// content is gone (XREADGROUP ... 0 returns it with nil fields).
type rawEntry struct {
	id      string
	fields  []streamentry.Field
	deleted bool
}

// parseReadReply parses an XREADGROUP reply for one stream: RESP2 [[stream, entries]] or RESP3
// {stream: entries}; nil is no entries.
func parseReadReply(v any) ([]rawEntry, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []any:
		if len(x) == 0 {
			return nil, nil
		}
		pair, ok := x[0].([]any)
		if !ok || len(pair) != 2 {
			return nil, fmt.Errorf("XREADGROUP: unexpected reply %T", x[0])
		}
		return parseEntries(pair[1])
	case map[any]any:
		for _, entries := range x {
			return parseEntries(entries)
		}
		return nil, nil
	}
	return nil, fmt.Errorf("XREADGROUP: unexpected reply %T", v)
}

// parseEntries parses a list of [id, [field, value, ...]] entries.
func parseEntries(v any) ([]rawEntry, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("stream entries: unexpected reply %T", v)
	}
	out := make([]rawEntry, 0, len(list))
	for _, item := range list {
		pair, ok := item.([]any)
		if !ok || len(pair) != 2 {
			if item == nil {
				continue // XCLAIM in older servers: a deleted entry
			}
			return nil, fmt.Errorf("stream entry: unexpected reply %T", item)
		}
		id, ok := pair[0].(string)
		if !ok {
			return nil, fmt.Errorf("stream entry ID: unexpected reply %T", pair[0])
		}
		if pair[1] == nil {
			out = append(out, rawEntry{id: id, deleted: true})
			continue
		}
		kv, ok := pair[1].([]any)
		if !ok || len(kv)%2 != 0 {
			return nil, fmt.Errorf("stream entry %s: unexpected fields %T", id, pair[1])
		}
		e := rawEntry{id: id, fields: make([]streamentry.Field, 0, len(kv)/2)}
		for i := 0; i < len(kv); i += 2 {
			e.fields = append(e.fields, streamentry.Field{Name: toString(kv[i]), Value: []byte(toString(kv[i+1]))})
		}
		out = append(out, e)
	}
	return out, nil
}

// parseAutoclaim parses XAUTOCLAIM's [next cursor, entries, deleted IDs] (Redis 7).
func parseAutoclaim(v any) (next string, entries []rawEntry, deleted []string, err error) {
	x, ok := v.([]any)
	if !ok || len(x) < 2 {
		return "", nil, nil, fmt.Errorf("XAUTOCLAIM: unexpected reply %T", v)
	}
	next = toString(x[0])
	if entries, err = parseEntries(x[1]); err != nil {
		return "", nil, nil, err
	}
	if len(x) > 2 {
		if ids, ok := x[2].([]any); ok {
			for _, id := range ids {
				deleted = append(deleted, toString(id))
			}
		}
	}
	return next, entries, deleted, nil
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	}
	return fmt.Sprint(v)
}
