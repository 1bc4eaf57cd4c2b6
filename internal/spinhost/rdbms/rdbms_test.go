package rdbms

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

// TestVersionCases pins each version's value cases (rdbms.Kind order is
// WIT order; db-null and unsupported end every list).
func TestVersionCases(t *testing.T) {
	names := func(v Version) []string {
		var out []string
		for k := Boolean; k < DbNull; k++ {
			if v.Has(k) {
				out = append(out, k.String())
			}
		}
		return out
	}
	base := []string{"boolean", "int8", "int16", "int32", "int64"}
	unsigned := []string{"uint8", "uint16", "uint32", "uint64"}
	tail := []string{"floating32", "floating64", "str", "binary"}
	dates := []string{"date", "time", "datetime", "timestamp"}
	v4 := []string{"uuid", "jsonb", "decimal", "range-int32", "range-int64", "range-decimal",
		"array-int32", "array-int64", "array-decimal", "array-str", "interval"}
	cat := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	for v, want := range map[Version][]string{
		V1:  cat(base, unsigned, tail),
		V2:  cat(base, unsigned, tail),
		PG3: cat(base, tail, dates),
		PG4: cat(base, tail, dates, v4),
	} {
		if got := names(v); !reflect.DeepEqual(got, want) {
			t.Errorf("version %d: %v, want %v", v, got, want)
		}
	}
	for k := Boolean; k < numKinds; k++ {
		if got, ok := KindNamed(k.String()); !ok || got != k {
			t.Errorf("KindNamed(%q) = %v %v", k, got, ok)
		}
	}
}

// TestNarrowing: what a version lacks becomes unsupported / other, as
// Spin's conversions from its 4.x types do.
func TestNarrowing(t *testing.T) {
	uuid := Value{Kind: UUID, Str: "u"}
	date := Value{Kind: Date, Date: CalendarDate{Year: 2024, Month: 1, Day: 2}}
	raw := Value{Kind: Unsupported, Bytes: []byte{1}}
	for _, c := range []struct {
		v        Version
		in, want Value
	}{
		{PG4, uuid, uuid}, {PG3, uuid, Value{Kind: Unsupported}}, {V2, date, Value{Kind: Unsupported}},
		{PG3, date, date}, {PG4, raw, raw}, {PG3, raw, Value{Kind: Unsupported}}, {V1, raw, Value{Kind: Unsupported}},
		{V2, Value{Kind: Uint8, Uint: 3}, Value{Kind: Uint8, Uint: 3}}, {V2, Null, Null},
	} {
		if got := c.v.Value(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("version %d Value(%v) = %+v, want %+v", c.v, c.in.Kind, got, c.want)
		}
	}
	inet := DataType{Kind: Other, Name: "inet"}
	for _, c := range []struct {
		v        Version
		in, want DataType
	}{
		{PG4, inet, inet}, {PG3, inet, DataType{Kind: Other}}, {PG3, DataType{Kind: JSONB}, DataType{Kind: Other}},
		{V2, DataType{Kind: Datetime}, DataType{Kind: Other}}, {PG3, DataType{Kind: Datetime}, DataType{Kind: Datetime}},
	} {
		if got := c.v.DataType(c.in); got != c.want {
			t.Errorf("version %d DataType(%v) = %+v, want %+v", c.v, c.in, got, c.want)
		}
	}
	rs := &RowSet{Columns: []Column{{Name: "u", Type: DataType{Kind: UUID}}}, Rows: [][]Value{{uuid}}}
	V2.RowSet(rs)
	if rs.Columns[0].Type.Kind != Other || rs.Rows[0][0].Kind != Unsupported {
		t.Errorf("RowSet narrowed to %+v", rs)
	}
}

func TestErrors(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", &Error{Kind: QueryFailed, Message: "m", DB: &DBError{Code: "42P01"}})
	if KindOf(err) != QueryFailed || MessageOf(err) != "m" || DBErrorOf(err).Code != "42P01" {
		t.Fatalf("classified %v %q %v", KindOf(err), MessageOf(err), DBErrorOf(err))
	}
	if KindOf(errors.New("plain")) != OtherError || DBErrorOf(errors.New("x")) != nil {
		t.Fatal("a plain error is not other")
	}
	for k, want := range map[ErrKind]string{ConnectionFailed: "connection-failed", OtherError: "other-error", QueryFailed: "query-failed"} {
		idx, name := k.Legacy()
		if name != want || (k == ConnectionFailed && idx != 1) || (k == OtherError && idx != 5) {
			t.Errorf("%v.Legacy() = %d %q", k, idx, name)
		}
	}
}

func TestTable(t *testing.T) {
	var closed []int
	tb := NewTable(2, func(c int) { closed = append(closed, c) })
	h1, err := tb.Add(10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tb.Add(20); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.Add(30); KindOf(err) != ConnectionFailed || MessageOf(err) != "too many connections" {
		t.Fatalf("third add: %v", err)
	}
	tb.Drop(h1)
	if c, err := tb.Get(h1); err == nil || MessageOf(err) != "no connection found" {
		t.Fatalf("dropped handle: %v %v", c, err)
	}
	if _, err := tb.Add(30); err != nil {
		t.Fatal(err)
	}
	tb.Close()
	if len(closed) != 3 || tb.Len() != 0 {
		t.Fatalf("closed %v, len %d", closed, tb.Len())
	}
	if _, err := tb.Add(40); err == nil || len(closed) != 3 {
		t.Fatalf("add after close: %v (closed %v)", err, closed)
	}
}
