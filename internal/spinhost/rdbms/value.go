package rdbms

import "fmt"

// Kind is a case of db-value / parameter-value, or of db-data-type (where
// [Other] is the catch-all). Names are the WIT case names.
type Kind uint8

// Value and data-type cases, in no particular version's order.
const (
	Boolean Kind = iota
	Int8
	Int16
	Int32
	Int64
	Uint8
	Uint16
	Uint32
	Uint64
	Floating32
	Floating64
	Str
	Binary
	Date
	Time
	Datetime
	Timestamp
	UUID
	JSONB
	Decimal
	RangeInt32
	RangeInt64
	RangeDecimal
	ArrayInt32
	ArrayInt64
	ArrayDecimal
	ArrayStr
	Interval
	DbNull
	Unsupported
	Other // db-data-type only
	numKinds
)

var kindNames = [numKinds]string{
	"boolean", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
	"floating32", "floating64", "str", "binary", "date", "time", "datetime", "timestamp",
	"uuid", "jsonb", "decimal", "range-int32", "range-int64", "range-decimal",
	"array-int32", "array-int64", "array-decimal", "array-str", "interval",
	"db-null", "unsupported", "other",
}

// String returns the WIT case name.
func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// KindNamed returns the case with WIT name n.
func KindNamed(n string) (Kind, bool) {
	for i, s := range kindNames {
		if s == n {
			return Kind(i), true
		}
	}
	return 0, false
}

// IsUnsigned reports whether k is one of the uint cases.
func (k Kind) IsUnsigned() bool { return k >= Uint8 && k <= Uint64 }

// CalendarDate is (year, month, day).
type CalendarDate struct {
	Year       int32
	Month, Day uint8
}

// TimeOfDay is (hour, minute, second, nanosecond).
type TimeOfDay struct {
	Hour, Minute, Second uint8
	Nanosecond           uint32
}

// Bound is one end of a range: Int for range-int32/-int64, Str for
// range-decimal.
type Bound struct {
	Int       int64
	Str       string
	Exclusive bool
}

// Elem is one element of an array value: Int for array-int32/-int64, Str
// for array-decimal/-str; Null for a NULL element.
type Elem struct {
	Int  int64
	Str  string
	Null bool
}

// IntervalValue is a PostgreSQL interval.
type IntervalValue struct {
	Micros       int64
	Days, Months int32
}

// Value is one db-value or parameter-value of any version. Which fields
// hold the payload depends on Kind:
//
//	boolean                   Bool
//	int8…int64, timestamp     Int (timestamp: seconds since the Unix epoch)
//	uint8…uint64              Uint
//	floating32/64             Float
//	str, uuid, decimal        Str
//	binary, jsonb             Bytes; unsupported: Bytes (4.x only, raw)
//	date / time / datetime    Date / Time / both
//	range-*                   Lower, Upper (nil = unbounded)
//	array-*                   Array
//	interval                  Interval
type Value struct {
	Kind     Kind
	Bool     bool
	Int      int64
	Uint     uint64
	Float    float64
	Str      string
	Bytes    []byte
	Date     CalendarDate
	Time     TimeOfDay
	Lower    *Bound
	Upper    *Bound
	Array    []Elem
	Interval IntervalValue
}

// Null is the db-null value.
var Null = Value{Kind: DbNull}

// DataType is a column's db-data-type: Kind, and for [Other] in 4.x the
// database's type name.
type DataType struct {
	Kind Kind
	Name string
}

// Column is a result column.
type Column struct {
	Name string
	Type DataType
}

// RowSet is a query result.
type RowSet struct {
	Columns []Column
	Rows    [][]Value
}

// Size estimates the bytes a row set takes once lowered into a guest, for
// result-size caps: 16 bytes per value and column plus string and byte
// payloads.
func (v *Value) Size() int {
	n := 16 + len(v.Str) + len(v.Bytes)
	for _, e := range v.Array {
		n += 16 + len(e.Str)
	}
	if v.Lower != nil {
		n += len(v.Lower.Str)
	}
	if v.Upper != nil {
		n += len(v.Upper.Str)
	}
	return n
}
