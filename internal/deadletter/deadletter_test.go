package deadletter

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/streamentry"
	"github.com/redspin/redspin/internal/testutil/redisserver"
)

func client(t *testing.T) *redis.Client {
	t.Helper()
	return redisserver.Start(t, redisserver.Options{}).Client()
}

// deadLetter adds a dead-letter entry as the trigger writes it: the original
// fields, then redspin's.
func deadLetter(t *testing.T, c *redis.Client, id string, n int, fields ...string) string {
	t.Helper()
	vals := []any{}
	for _, f := range fields {
		vals = append(vals, f)
	}
	vals = append(vals,
		streamentry.FieldStream, "orders", streamentry.FieldID, id, streamentry.FieldGroup, "workers",
		streamentry.FieldComponent, "handler", streamentry.FieldDeliveries, fmt.Sprint(n),
		streamentry.FieldError, "boom "+id, streamentry.FieldTime, "2026-12-03T10:00:00Z")
	dead, err := c.XAdd(context.Background(), &redis.XAddArgs{Stream: "orders:dead", Values: vals}).Result()
	if err != nil {
		t.Fatal(err)
	}
	return dead
}

func fieldsString(fs []streamentry.Field) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "%s=%s;", f.Name, f.Value)
	}
	return b.String()
}

func TestList(t *testing.T) {
	c := client(t)
	ctx := context.Background()
	if got, err := List(ctx, c, "orders:dead", 0); err != nil || len(got) != 0 {
		t.Fatalf("missing stream: %v, %v", got, err)
	}
	d1 := deadLetter(t, c, "1-1", 5, "payload", "a", "zeta", "1", "alpha", "2")
	d2 := deadLetter(t, c, "1-2", 3, "payload", "b\x00\xff")
	got, err := List(ctx, c, "orders:dead", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{ID: d1, SourceStream: "orders", SourceID: "1-1", Group: "workers", Component: "handler", Deliveries: 5,
			Error: "boom 1-1", Time: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC),
			Fields: []streamentry.Field{{Name: "payload", Value: []byte("a")}, {Name: "zeta", Value: []byte("1")}, {Name: "alpha", Value: []byte("2")}}},
		{ID: d2, SourceStream: "orders", SourceID: "1-2", Group: "workers", Component: "handler", Deliveries: 3,
			Error: "boom 1-2", Time: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC),
			Fields: []streamentry.Field{{Name: "payload", Value: []byte("b\x00\xff")}}},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("List =\n%+v\nwant\n%+v", got, want)
	}
	if got, err := List(ctx, c, "orders:dead", 1); err != nil || len(got) != 1 || got[0].ID != d1 {
		t.Errorf("List limit 1 = %+v, %v", got, err)
	}
	// Not a stream: the error names the command and the key.
	c.Set(ctx, "str", "x", 0)
	if _, err := List(ctx, c, "str", 0); err == nil || !strings.Contains(err.Error(), "XRANGE str - +: WRONGTYPE") {
		t.Errorf("List of a string: %v", err)
	}
}

// TestListPages reads more entries than one XRANGE page.
func TestListPages(t *testing.T) {
	c := client(t)
	for i := range 2*pageSize + 7 {
		deadLetter(t, c, fmt.Sprintf("1-%d", i), 1, "payload", fmt.Sprint(i))
	}
	got, err := List(context.Background(), c, "orders:dead", 0)
	if err != nil || len(got) != 2*pageSize+7 {
		t.Fatalf("List: %d entries, %v", len(got), err)
	}
	for i, e := range got {
		if e.SourceID != fmt.Sprintf("1-%d", i) {
			t.Fatalf("entry %d is %s", i, e.SourceID)
		}
	}
}

func TestReplaySelected(t *testing.T) {
	c := client(t)
	ctx := context.Background()
	d1 := deadLetter(t, c, "1-1", 5, "payload", "a", "zeta", "1")
	d2 := deadLetter(t, c, "1-2", 5, "payload", "b")
	d3 := deadLetter(t, c, "1-3", 5, "payload", "c")
	s := Streams{Dead: "orders:dead", Source: "orders"}
	done, err := Replay(ctx, c, s, []string{d3, "9-9", d1}, false)
	if !errors.Is(err, ErrNotFound) || err.Error() != "dead-letter stream orders:dead: no such entry: 9-9" {
		t.Errorf("Replay error: %v", err)
	}
	if len(done) != 2 || done[0].DeadID != d3 || done[1].DeadID != d1 {
		t.Fatalf("Replay = %+v", done)
	}
	// The source stream has the original fields only, in order, in replay order.
	src, err := xrange(ctx, c, "orders", "-", "+", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(src) != 2 || src[0].ID != done[0].NewID || fieldsString(src[0].Fields) != "payload=c;" ||
		src[1].ID != done[1].NewID || fieldsString(src[1].Fields) != "payload=a;zeta=1;" {
		t.Errorf("source stream = %+v", src)
	}
	if raw := c.XRange(ctx, "orders", "-", "+").Val(); len(raw) != 2 || len(raw[0].Values) != 1 {
		t.Errorf("the redspin.* fields must not be replayed: %+v", raw)
	}
	left, _ := List(ctx, c, "orders:dead", 0)
	if len(left) != 1 || left[0].ID != d2 {
		t.Errorf("dead-letter stream after replay = %+v", left)
	}
	if _, err := Replay(ctx, c, Streams{Dead: "orders:dead", Source: "orders:dead"}, []string{d2}, true); err == nil {
		t.Error("replay into the dead-letter stream itself")
	}
}

// TestReplayAll replays what was there when it started, across pages.
func TestReplayAll(t *testing.T) {
	c := client(t)
	ctx := context.Background()
	n := pageSize + 3
	for i := range n {
		deadLetter(t, c, fmt.Sprintf("1-%d", i), 2, "payload", fmt.Sprint(i))
	}
	done, err := Replay(ctx, c, Streams{Dead: "orders:dead", Source: "orders"}, nil, true)
	if err != nil || len(done) != n {
		t.Fatalf("Replay all: %d, %v", len(done), err)
	}
	if l := c.XLen(ctx, "orders").Val(); l != int64(n) {
		t.Errorf("source stream has %d entries, want %d", l, n)
	}
	if l := c.XLen(ctx, "orders:dead").Val(); l != 0 {
		t.Errorf("dead-letter stream has %d entries left", l)
	}
	// Empty or missing: nothing to do.
	if done, err := Replay(ctx, c, Streams{Dead: "none", Source: "orders"}, nil, true); err != nil || len(done) != 0 {
		t.Errorf("Replay all of a missing stream: %v, %v", done, err)
	}
}

// TestReplayKeepsEntryWhenXAddFails: an entry whose XADD fails stays in the
// dead-letter stream.
func TestReplayKeepsEntryWhenXAddFails(t *testing.T) {
	c := client(t)
	ctx := context.Background()
	d1 := deadLetter(t, c, "1-1", 5, "payload", "a")
	c.Set(ctx, "orders", "not a stream", 0)
	done, err := Replay(ctx, c, Streams{Dead: "orders:dead", Source: "orders"}, []string{d1}, false)
	if err == nil || !strings.Contains(err.Error(), "XADD orders (replaying "+d1+"): WRONGTYPE") || len(done) != 0 {
		t.Fatalf("Replay into a string: %v, %v", done, err)
	}
	if l := c.XLen(ctx, "orders:dead").Val(); l != 1 {
		t.Errorf("dead-letter stream has %d entries, want the entry kept", l)
	}
	// An entry with only redspin's fields cannot be replayed (XADD needs a field).
	d2 := deadLetter(t, c, "1-2", 5)
	c.Del(ctx, "orders")
	if _, err := Replay(ctx, c, Streams{Dead: "orders:dead", Source: "orders"}, []string{d2}, false); err == nil ||
		!strings.Contains(err.Error(), "has no original fields") {
		t.Errorf("Replay of an entry without fields: %v", err)
	}
}

func TestPurge(t *testing.T) {
	c := client(t)
	ctx := context.Background()
	d1 := deadLetter(t, c, "1-1", 5, "payload", "a")
	d2 := deadLetter(t, c, "1-2", 5, "payload", "b")
	deadLetter(t, c, "1-3", 5, "payload", "c")
	n, err := Purge(ctx, c, "orders:dead", []string{d2, "1-0"}, false)
	if n != 1 || !errors.Is(err, ErrNotFound) {
		t.Errorf("Purge selected: %d, %v", n, err)
	}
	if got, _ := List(ctx, c, "orders:dead", 0); len(got) != 2 || got[0].ID != d1 {
		t.Errorf("after purge: %+v", got)
	}
	n, err = Purge(ctx, c, "orders:dead", nil, true)
	if n != 2 || err != nil {
		t.Errorf("Purge all: %d, %v", n, err)
	}
	if l := c.XLen(ctx, "orders:dead").Val(); l != 0 {
		t.Errorf("%d entries left", l)
	}
	if n, err := Purge(ctx, c, "none", nil, true); n != 0 || err != nil {
		t.Errorf("Purge all of a missing stream: %d, %v", n, err)
	}
}

func TestNextID(t *testing.T) {
	for in, want := range map[string]string{"1-0": "1-1", "5-18446744073709551615": "6-0", "1700000000000-41": "1700000000000-42"} {
		if got, err := nextID(in); err != nil || got != want {
			t.Errorf("nextID(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
	if _, err := nextID("x"); err == nil {
		t.Error("nextID of a malformed ID")
	}
}
