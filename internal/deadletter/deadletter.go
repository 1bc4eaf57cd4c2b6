// Package deadletter reads and manages a redis-stream trigger's dead-letter
// stream: it lists the entries with the error and delivery count the
// trigger recorded, replays entries back into their source stream with their
// original fields, and purges them. It is the Redis side of
// `redspin dead-letters`.
//
// A dead-letter entry holds every field of the failed entry, in order, plus
// the redspin.* fields named in package streamentry. Field order is kept
// (go-redis's XMessage is a map, so entries are read with raw XRANGE).
package deadletter

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/streamentry"
)

// fieldPrefix starts the names of the fields redspin adds.
const fieldPrefix = "redspin."

// pageSize is how many entries one XRANGE reads.
const pageSize = 100

// Entry is one entry of a dead-letter stream.
type Entry struct {
	// ID is the entry's ID in the dead-letter stream.
	ID string
	// SourceStream, SourceID, Group and Component say where the entry
	// failed ("" when the field is missing).
	SourceStream, SourceID, Group, Component string
	// Deliveries is the delivery count when it was dead-lettered (0 when
	// missing or not a number).
	Deliveries int64
	// Error is the last error, or the handler's reason.
	Error string
	// Time is when it was dead-lettered (zero when missing or not RFC 3339).
	Time time.Time
	// Fields are the original entry's fields, in order, without redspin's.
	Fields []streamentry.Field
}

// Streams names the two streams a command works on.
type Streams struct {
	// Dead is the dead-letter stream's key.
	Dead string
	// Source is the stream that Replay adds entries to.
	Source string
}

// Client is what the functions need of a go-redis client (*redis.Client,
// *redis.ClusterClient and redis.UniversalClient have it).
type Client interface {
	redis.Cmdable
	Do(ctx context.Context, args ...any) *redis.Cmd
}

// ErrNotFound is wrapped by errors about IDs that the dead-letter stream
// does not hold.
var ErrNotFound = errors.New("no such entry")

// List returns up to limit entries of the dead-letter stream, oldest first
// (limit <= 0: all of them).
func List(ctx context.Context, c Client, dead string, limit int) ([]Entry, error) {
	var out []Entry
	err := scan(ctx, c, dead, "", func(e Entry) bool {
		out = append(out, e)
		return limit <= 0 || len(out) < limit
	})
	return out, err
}

// Len returns how many entries the dead-letter stream holds.
func Len(ctx context.Context, c Client, dead string) (int64, error) {
	n, err := c.XLen(ctx, dead).Result()
	if err != nil {
		return 0, fmt.Errorf("XLEN %s: %w", dead, err)
	}
	return n, nil
}

// Replayed is one replayed entry.
type Replayed struct {
	// DeadID is its ID in the dead-letter stream (now deleted there).
	DeadID string
	// NewID is the ID XADD gave it in the source stream.
	NewID string
}

// Replay adds the dead-letter entries ids (all == false) or every entry
// present when it starts (all == true) to s.Source, with their original
// fields and a new ID, and deletes each from s.Dead only after its XADD
// succeeded. An interruption between the two leaves the entry in both
// streams, so it is never lost, and a second replay would add it again.
// It returns what it replayed; IDs that are not in s.Dead are reported in
// the error (wrapping ErrNotFound) after the others were replayed.
func Replay(ctx context.Context, c Client, s Streams, ids []string, all bool) ([]Replayed, error) {
	if s.Source == "" || s.Source == s.Dead {
		return nil, fmt.Errorf("replay from %s: the source stream must be named and differ from the dead-letter stream", s.Dead)
	}
	var done []Replayed
	err := each(ctx, c, s.Dead, ids, all, func(e Entry) error {
		if len(e.Fields) == 0 {
			return fmt.Errorf("dead-letter entry %s has no original fields to replay (a stream entry needs at least one)", e.ID)
		}
		vals := make([]any, 0, 2*len(e.Fields))
		for _, f := range e.Fields {
			vals = append(vals, f.Name, f.Value)
		}
		newID, err := c.XAdd(ctx, &redis.XAddArgs{Stream: s.Source, Values: vals}).Result()
		if err != nil {
			return fmt.Errorf("XADD %s (replaying %s): %w", s.Source, e.ID, err)
		}
		if err := c.XDel(ctx, s.Dead, e.ID).Err(); err != nil {
			return fmt.Errorf("replayed %s as %s in %s, but XDEL %s %s failed (it is still in the dead-letter stream): %w",
				e.ID, newID, s.Source, s.Dead, e.ID, err)
		}
		done = append(done, Replayed{DeadID: e.ID, NewID: newID})
		return nil
	})
	return done, err
}

// Purge deletes the dead-letter entries ids, or (all == true) every entry
// present when it starts, and returns how many it deleted. Entries
// dead-lettered while it runs are kept. IDs that are not there are
// reported as for Replay.
func Purge(ctx context.Context, c Client, dead string, ids []string, all bool) (int64, error) {
	if all {
		last, err := lastID(ctx, c, dead)
		if err != nil || last == "" {
			return 0, err
		}
		minID, err := nextID(last)
		if err != nil {
			return 0, err
		}
		n, err := c.XTrimMinID(ctx, dead, minID).Result()
		if err != nil {
			return 0, fmt.Errorf("XTRIM %s MINID %s: %w", dead, minID, err)
		}
		return n, nil
	}
	var n int64
	err := each(ctx, c, dead, ids, false, func(e Entry) error {
		d, err := c.XDel(ctx, dead, e.ID).Result()
		n += d
		if err != nil {
			return fmt.Errorf("XDEL %s %s: %w", dead, e.ID, err)
		}
		return nil
	})
	return n, err
}

// each calls fn for the entries ids of stream dead, in the order given, or
// for every entry up to the last one present now (all). It stops at fn's
// first error; missing IDs are collected into one error at the end.
func each(ctx context.Context, c Client, dead string, ids []string, all bool, fn func(Entry) error) error {
	if all {
		last, err := lastID(ctx, c, dead)
		if err != nil || last == "" {
			return err
		}
		var ferr error
		err = scan(ctx, c, dead, last, func(e Entry) bool {
			ferr = fn(e)
			return ferr == nil
		})
		return errors.Join(ferr, err)
	}
	var missing []string
	for _, id := range ids {
		msgs, err := xrange(ctx, c, dead, id, id, 1)
		if err != nil {
			return err
		}
		if len(msgs) == 0 {
			missing = append(missing, id)
			continue
		}
		if err := fn(msgs[0]); err != nil {
			return err
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("dead-letter stream %s: %w: %s", dead, ErrNotFound, strings.Join(missing, ", "))
	}
	return nil
}

// scan calls fn for each entry of stream, oldest first, up to and
// including last ("" = to the end), until fn returns false.
func scan(ctx context.Context, c Client, stream, last string, fn func(Entry) bool) error {
	start, end := "-", "+"
	if last != "" {
		end = last
	}
	for {
		page, err := xrange(ctx, c, stream, start, end, pageSize)
		if err != nil {
			return err
		}
		for _, e := range page {
			if !fn(e) {
				return nil
			}
		}
		if len(page) < pageSize {
			return nil
		}
		start = "(" + page[len(page)-1].ID
	}
}

// lastID is the stream's newest ID ("" when it is empty or missing).
func lastID(ctx context.Context, c Client, stream string) (string, error) {
	msgs, err := c.XRevRangeN(ctx, stream, "+", "-", 1).Result()
	if err != nil {
		return "", fmt.Errorf("XREVRANGE %s: %w", stream, err)
	}
	if len(msgs) == 0 {
		return "", nil
	}
	return msgs[0].ID, nil
}

// nextID is the smallest stream ID above id ("ms-seq").
func nextID(id string) (string, error) {
	ms, seq, ok := strings.Cut(id, "-")
	m, err1 := strconv.ParseUint(ms, 10, 64)
	s, err2 := strconv.ParseUint(seq, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return "", fmt.Errorf("malformed stream ID %q", id)
	}
	if s == ^uint64(0) {
		return strconv.FormatUint(m+1, 10) + "-0", nil
	}
	return ms + "-" + strconv.FormatUint(s+1, 10), nil
}

// xrange reads entries with their fields in order (raw XRANGE; go-redis's
// XMessage keeps values in a map).
func xrange(ctx context.Context, c Client, stream, start, end string, count int) ([]Entry, error) {
	raw, err := c.Do(ctx, "XRANGE", stream, start, end, "COUNT", count).Slice()
	if err != nil {
		return nil, fmt.Errorf("XRANGE %s %s %s: %w", stream, start, end, err)
	}
	out := make([]Entry, 0, len(raw))
	for _, r := range raw {
		e, err := parseEntry(r)
		if err != nil {
			return nil, fmt.Errorf("XRANGE %s: %w", stream, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// parseEntry reads one XRANGE reply element: [id, [name, value, ...]].
func parseEntry(r any) (Entry, error) {
	pair, ok := r.([]any)
	if !ok || len(pair) != 2 {
		return Entry{}, fmt.Errorf("unexpected reply element %T", r)
	}
	id, ok := pair[0].(string)
	if !ok {
		return Entry{}, fmt.Errorf("unexpected entry ID %T", pair[0])
	}
	kv, _ := pair[1].([]any) // nil for an entry deleted while pending
	e := Entry{ID: id}
	for i := 0; i+1 < len(kv); i += 2 {
		name, _ := kv[i].(string)
		value, _ := kv[i+1].(string)
		if !strings.HasPrefix(name, fieldPrefix) {
			e.Fields = append(e.Fields, streamentry.Field{Name: name, Value: []byte(value)})
			continue
		}
		switch name {
		case streamentry.FieldStream:
			e.SourceStream = value
		case streamentry.FieldID:
			e.SourceID = value
		case streamentry.FieldGroup:
			e.Group = value
		case streamentry.FieldComponent:
			e.Component = value
		case streamentry.FieldDeliveries:
			e.Deliveries, _ = strconv.ParseInt(value, 10, 64)
		case streamentry.FieldError:
			e.Error = value
		case streamentry.FieldTime:
			e.Time, _ = time.Parse(time.RFC3339, value)
		}
	}
	return e, nil
}
