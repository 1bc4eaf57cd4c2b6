package sqlite

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/redspin/redspin/internal/telemetry"
)

// ValueKind is a case of Spin's sqlite value variant, in WIT order.
type ValueKind uint8

// Value kinds.
const (
	Integer ValueKind = iota // integer(s64)
	Real                     // real(f64)
	Text                     // text(string)
	Blob                     // blob(list<u8>)
	Null                     // null
)

// ValueCaseNames are the value variant's case names, indexed by ValueKind.
var ValueCaseNames = []string{"integer", "real", "text", "blob", "null"}

// Value is a parameter or a column value.
type Value struct {
	Kind ValueKind
	// Int is integer's payload.
	Int int64
	// Real is real's payload.
	Real float64
	// Text is text's payload.
	Text string
	// Blob is blob's payload (never nil for a Blob).
	Blob []byte
}

// Result is a query result: the statement's column names and its rows.
type Result struct {
	Columns []string
	Rows    [][]Value
}

// Sizes counted against the result cap, as Spin counts them (Rust's
// in-memory sizes of QueryResult and of one value, plus text and blob
// bytes).
const (
	resultOverhead = 48
	valueOverhead  = 32
)

// Execute runs statement with parameters on the handle's connection and
// returns every row. A driver error is io(message); a result over the cap
// is io("query result exceeds limit of N bytes").
func (i *Instance) Execute(ctx context.Context, h uint32, statement string, params []Value) (_ *Result, err error) {
	sc, err := i.get(ctx, h)
	if err != nil {
		return nil, err
	}
	if telemetry.Recording(ctx) {
		label := ""
		if c, ok := i.conns.Get(h); ok {
			label = c.label
		}
		var end func(error)
		ctx, end = telemetry.DB(ctx, "sqlite", statement, attribute.String("db.namespace", label))
		defer func() { end(err) }()
	}
	args := make([]any, len(params))
	for j, p := range params {
		args[j] = p.arg()
	}
	rows, err := sc.QueryContext(ctx, statement, args...)
	if err != nil {
		return nil, ioErr(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, ioErr(err)
	}
	res := &Result{Columns: cols, Rows: [][]Value{}}
	size := resultOverhead
	dst := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for j := range dst {
		ptrs[j] = &dst[j]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, ioErr(err)
		}
		row := make([]Value, len(cols))
		for j, v := range dst {
			row[j] = fromDriver(v)
			size += valueOverhead + len(row[j].Text) + len(row[j].Blob)
		}
		if size > i.a.maxBytes {
			return nil, ioErrf("query result exceeds limit of %d bytes", i.a.maxBytes)
		}
		res.Rows = append(res.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, ioErr(err)
	}
	return res, nil
}

func (v Value) arg() any {
	switch v.Kind {
	case Integer:
		return v.Int
	case Real:
		return v.Real
	case Text:
		return v.Text
	case Blob:
		if v.Blob == nil {
			return []byte{}
		}
		return v.Blob
	}
	return nil
}

// The driver parses TEXT in DATE, DATETIME and TIMESTAMP columns into a
// time.Time, which goes back to the guest as SQLite's own date text: a date
// alone at midnight UTC, "YYYY-MM-DD HH:MM:SS[.fff]" in UTC, or with the
// offset (sqliteTime) otherwise.
const sqliteTime = "2006-01-02 15:04:05.999999999-07:00"

func fromDriver(v any) Value {
	switch x := v.(type) {
	case int64:
		return Value{Kind: Integer, Int: x}
	case float64:
		return Value{Kind: Real, Real: x}
	case string:
		return Value{Kind: Text, Text: x}
	case []byte:
		return Value{Kind: Blob, Blob: append([]byte{}, x...)}
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 && x.Location() == time.UTC {
			return Value{Kind: Text, Text: x.Format(time.DateOnly)}
		}
		if x.Location() == time.UTC {
			return Value{Kind: Text, Text: x.Format(time.DateTime + ".999999999")}
		}
		return Value{Kind: Text, Text: x.Format(sqliteTime)}
	case bool:
		if x {
			return Value{Kind: Integer, Int: 1}
		}
		return Value{Kind: Integer}
	}
	return Value{Kind: Null}
}
