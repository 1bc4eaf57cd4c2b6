package pg

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/redspin/redspin/internal/spinhost/rdbms"
)

// toArgs converts parameters to pgx arguments. A value that does not
// convert is an error of kind bad (Spin: bad-parameter in query,
// value-conversion-failed in execute); an unsigned one is always
// value-conversion-failed.
func toArgs(params []rdbms.Value, bad rdbms.ErrKind) ([]any, error) {
	args := make([]any, len(params))
	for j, p := range params {
		if p.Kind.IsUnsigned() {
			return nil, rdbms.Errorf(rdbms.ValueConversionFailed, "Postgres does not support unsigned integers")
		}
		a, err := toArg(p)
		if err != nil {
			return nil, &rdbms.Error{Kind: bad, Message: err.Error(), Err: err}
		}
		args[j] = a
	}
	return args, nil
}

func toArg(p rdbms.Value) (any, error) {
	switch p.Kind {
	case rdbms.Boolean:
		return p.Bool, nil
	case rdbms.Int8:
		return int8(p.Int), nil
	case rdbms.Int16:
		return int16(p.Int), nil
	case rdbms.Int32:
		return int32(p.Int), nil
	case rdbms.Int64:
		return p.Int, nil
	case rdbms.Floating32:
		return float32(p.Float), nil
	case rdbms.Floating64:
		return p.Float, nil
	case rdbms.Str:
		return p.Str, nil
	case rdbms.Binary:
		if p.Bytes == nil {
			return []byte{}, nil
		}
		return p.Bytes, nil
	case rdbms.Date:
		d, err := dateOf(p.Date)
		if err != nil {
			return nil, err
		}
		return pgtype.Date{Time: d, Valid: true}, nil
	case rdbms.Time:
		us, err := microsOf(p.Time)
		if err != nil {
			return nil, err
		}
		return pgtype.Time{Microseconds: us, Valid: true}, nil
	case rdbms.Datetime:
		d, err := dateOf(p.Date)
		if err != nil {
			return nil, err
		}
		if _, err := microsOf(p.Time); err != nil {
			return nil, err
		}
		t := p.Time
		return time.Date(d.Year(), d.Month(), d.Day(), int(t.Hour), int(t.Minute), int(t.Second), int(t.Nanosecond), time.UTC), nil
	case rdbms.Timestamp:
		return time.Unix(p.Int, 0).UTC(), nil
	case rdbms.UUID:
		u, err := parseUUID(p.Str)
		if err != nil {
			return nil, err
		}
		return pgtype.UUID{Bytes: u, Valid: true}, nil
	case rdbms.JSONB:
		if !json.Valid(p.Bytes) {
			return nil, fmt.Errorf("invalid JSON %s", strings.ToValidUTF8(string(p.Bytes), "\uFFFD"))
		}
		return json.RawMessage(p.Bytes), nil
	case rdbms.Decimal:
		return numeric(p.Str)
	case rdbms.RangeInt32:
		return pgtype.Range[pgtype.Int4]{
			Lower: pgtype.Int4{Int32: int32(boundInt(p.Lower)), Valid: p.Lower != nil}, LowerType: boundType(p.Lower),
			Upper: pgtype.Int4{Int32: int32(boundInt(p.Upper)), Valid: p.Upper != nil}, UpperType: boundType(p.Upper),
			Valid: true,
		}, nil
	case rdbms.RangeInt64:
		return pgtype.Range[pgtype.Int8]{
			Lower: pgtype.Int8{Int64: boundInt(p.Lower), Valid: p.Lower != nil}, LowerType: boundType(p.Lower),
			Upper: pgtype.Int8{Int64: boundInt(p.Upper), Valid: p.Upper != nil}, UpperType: boundType(p.Upper),
			Valid: true,
		}, nil
	case rdbms.RangeDecimal:
		r := pgtype.Range[pgtype.Numeric]{LowerType: boundType(p.Lower), UpperType: boundType(p.Upper), Valid: true}
		var err error
		if p.Lower != nil {
			if r.Lower, err = numeric(p.Lower.Str); err != nil {
				return nil, err
			}
		}
		if p.Upper != nil {
			if r.Upper, err = numeric(p.Upper.Str); err != nil {
				return nil, err
			}
		}
		return r, nil
	case rdbms.ArrayInt32:
		a := make([]pgtype.Int4, len(p.Array))
		for j, e := range p.Array {
			a[j] = pgtype.Int4{Int32: int32(e.Int), Valid: !e.Null}
		}
		return a, nil
	case rdbms.ArrayInt64:
		a := make([]pgtype.Int8, len(p.Array))
		for j, e := range p.Array {
			a[j] = pgtype.Int8{Int64: e.Int, Valid: !e.Null}
		}
		return a, nil
	case rdbms.ArrayDecimal:
		a := make([]pgtype.Numeric, len(p.Array))
		for j, e := range p.Array {
			if e.Null {
				continue
			}
			n, err := numeric(e.Str)
			if err != nil {
				return nil, err
			}
			a[j] = n
		}
		return a, nil
	case rdbms.ArrayStr:
		a := make([]pgtype.Text, len(p.Array))
		for j, e := range p.Array {
			a[j] = pgtype.Text{String: e.Str, Valid: !e.Null}
		}
		return a, nil
	case rdbms.Interval:
		return pgtype.Interval{Microseconds: p.Interval.Micros, Days: p.Interval.Days, Months: p.Interval.Months, Valid: true}, nil
	case rdbms.DbNull:
		return nil, nil
	}
	return nil, fmt.Errorf("parameter of type %s is not supported", p.Kind)
}

func boundInt(b *rdbms.Bound) int64 {
	if b == nil {
		return 0
	}
	return b.Int
}

func boundType(b *rdbms.Bound) pgtype.BoundType {
	switch {
	case b == nil:
		return pgtype.Unbounded
	case b.Exclusive:
		return pgtype.Exclusive
	}
	return pgtype.Inclusive
}

// dateOf validates (y, m, d) as chrono does: no normalising of 31 April.
func dateOf(d rdbms.CalendarDate) (time.Time, error) {
	t := time.Date(int(d.Year), time.Month(d.Month), int(d.Day), 0, 0, 0, 0, time.UTC)
	if d.Month < 1 || d.Month > 12 || t.Day() != int(d.Day) || t.Year() != int(d.Year) {
		return time.Time{}, fmt.Errorf("invalid date y=%d, m=%d, d=%d", d.Year, d.Month, d.Day)
	}
	return t, nil
}

func microsOf(t rdbms.TimeOfDay) (int64, error) {
	if t.Hour > 23 || t.Minute > 59 || t.Second > 59 || t.Nanosecond >= 1e9 {
		return 0, fmt.Errorf("invalid time %d:%d:%d:%d", t.Hour, t.Minute, t.Second, t.Nanosecond)
	}
	return ((int64(t.Hour)*60+int64(t.Minute))*60+int64(t.Second))*1e6 + int64(t.Nanosecond)/1e3, nil
}

// parseUUID accepts the forms Rust's uuid crate parses: hyphenated,
// simple (32 hex digits), braced and urn:uuid:.
func parseUUID(s string) ([16]byte, error) {
	var u [16]byte
	t := strings.TrimPrefix(s, "urn:uuid:")
	if len(t) == 38 && t[0] == '{' && t[37] == '}' {
		t = t[1:37]
	}
	if len(t) == 36 && t[8] == '-' && t[13] == '-' && t[18] == '-' && t[23] == '-' {
		t = t[:8] + t[9:13] + t[14:18] + t[19:23] + t[24:]
	}
	if len(t) != 32 {
		return u, fmt.Errorf("invalid UUID %s", s)
	}
	if _, err := hex.Decode(u[:], []byte(t)); err != nil {
		return u, fmt.Errorf("invalid UUID %s", s)
	}
	return u, nil
}

// numeric parses a base-10 decimal as rust_decimal's from_str_exact does:
// optional sign, digits with at most one point, at most 28 fractional
// digits and a 96-bit mantissa.
func numeric(s string) (pgtype.Numeric, error) {
	bad := fmt.Errorf("invalid decimal %s", s)
	t := strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	intPart, frac, _ := strings.Cut(t, ".")
	digits := intPart + frac
	if digits == "" || strings.Trim(digits, "0123456789_") != "" || len(frac) > 28 {
		return pgtype.Numeric{}, bad
	}
	digits = strings.TrimLeft(strings.ReplaceAll(digits, "_", ""), "0")
	if len(digits) > 29 || (len(digits) == 29 && digits > "79228162514264337593543950335") {
		return pgtype.Numeric{}, bad
	}
	var n pgtype.Numeric
	if err := n.Scan(strings.ReplaceAll(s, "_", "")); err != nil {
		return pgtype.Numeric{}, bad
	}
	return n, nil
}
