package pg

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/redspin/redspin/internal/spinhost/rdbms"
)

// columnKinds maps the PostgreSQL types Spin knows to their db-data-type.
var columnKinds = map[uint32]rdbms.Kind{
	pgtype.BoolOID: rdbms.Boolean, pgtype.ByteaOID: rdbms.Binary,
	pgtype.Float4OID: rdbms.Floating32, pgtype.Float8OID: rdbms.Floating64,
	pgtype.Int2OID: rdbms.Int16, pgtype.Int4OID: rdbms.Int32, pgtype.Int8OID: rdbms.Int64,
	pgtype.TextOID: rdbms.Str, pgtype.VarcharOID: rdbms.Str, pgtype.BPCharOID: rdbms.Str,
	pgtype.TimestampOID: rdbms.Datetime, pgtype.TimestamptzOID: rdbms.Datetime,
	pgtype.DateOID: rdbms.Date, pgtype.TimeOID: rdbms.Time,
	pgtype.UUIDOID: rdbms.UUID, pgtype.JSONBOID: rdbms.JSONB, pgtype.NumericOID: rdbms.Decimal,
	pgtype.Int4rangeOID: rdbms.RangeInt32, pgtype.Int8rangeOID: rdbms.RangeInt64, pgtype.NumrangeOID: rdbms.RangeDecimal,
	pgtype.Int4ArrayOID: rdbms.ArrayInt32, pgtype.Int8ArrayOID: rdbms.ArrayInt64,
	pgtype.NumericArrayOID: rdbms.ArrayDecimal,
	pgtype.TextArrayOID:    rdbms.ArrayStr, pgtype.VarcharArrayOID: rdbms.ArrayStr, pgtype.BPCharArrayOID: rdbms.ArrayStr,
	pgtype.IntervalOID: rdbms.Interval,
}

// columnType is the db-data-type of a column of type oid. Unknown types
// are other with the type's name ("oid:N" until looked up).
func columnType(m *pgtype.Map, oid uint32) rdbms.DataType {
	if k, ok := columnKinds[oid]; ok {
		return rdbms.DataType{Kind: k}
	}
	if t, ok := m.TypeForOID(oid); ok {
		return rdbms.DataType{Kind: rdbms.Other, Name: t.Name}
	}
	return rdbms.DataType{Kind: rdbms.Other, Name: fmt.Sprintf("oid:%d", oid)}
}

var errTooLarge = errors.New("query result exceeds limit")

func readRows(rows pgx.Rows, m *pgtype.Map, limit int) (*rdbms.RowSet, error) {
	fds := rows.FieldDescriptions()
	rs := &rdbms.RowSet{Columns: make([]rdbms.Column, len(fds)), Rows: [][]rdbms.Value{}}
	for j, fd := range fds {
		rs.Columns[j] = rdbms.Column{Name: fd.Name, Type: columnType(m, fd.DataTypeOID)}
	}
	size := 0
	for rows.Next() {
		raw := rows.RawValues()
		row := make([]rdbms.Value, len(raw))
		for j, src := range raw {
			v, err := decode(m, fds[j], src)
			if err != nil {
				return nil, fmt.Errorf("error deserializing column %d (%s): %w", j, fds[j].Name, err)
			}
			row[j] = v
			size += v.Size()
		}
		if size > limit {
			return nil, fmt.Errorf("%w of %d bytes", errTooLarge, limit)
		}
		rs.Rows = append(rs.Rows, row)
	}
	return rs, nil
}

// decode converts one raw column value.
func decode(m *pgtype.Map, fd pgconn.FieldDescription, src []byte) (rdbms.Value, error) {
	if src == nil {
		return rdbms.Null, nil
	}
	oid, f := fd.DataTypeOID, fd.Format
	scan := func(dst any) error { return m.Scan(oid, f, src, dst) }
	k, known := columnKinds[oid]
	if !known {
		return rdbms.Value{Kind: rdbms.Unsupported, Bytes: bytes.Clone(src)}, nil
	}
	v := rdbms.Value{Kind: k}
	var err error
	switch k {
	case rdbms.Boolean:
		err = scan(&v.Bool)
	case rdbms.Int16, rdbms.Int32, rdbms.Int64:
		err = scan(&v.Int)
	case rdbms.Floating32, rdbms.Floating64:
		err = scan(&v.Float)
	case rdbms.Str:
		err = scan(&v.Str)
	case rdbms.Binary:
		v.Bytes = bytes.Clone(src)
		if f == pgtype.TextFormatCode {
			err = scan(&v.Bytes)
		}
	case rdbms.Datetime:
		var ts pgtype.Timestamptz
		if oid == pgtype.TimestampOID {
			var t pgtype.Timestamp
			err = scan(&t)
			ts = pgtype.Timestamptz{Time: t.Time, InfinityModifier: t.InfinityModifier, Valid: t.Valid}
		} else {
			err = scan(&ts)
		}
		if err == nil && ts.InfinityModifier != pgtype.Finite {
			err = errors.New("infinite timestamps have no datetime value")
		}
		t := ts.Time.UTC()
		v.Date = rdbms.CalendarDate{Year: int32(t.Year()), Month: uint8(t.Month()), Day: uint8(t.Day())}
		v.Time = rdbms.TimeOfDay{Hour: uint8(t.Hour()), Minute: uint8(t.Minute()), Second: uint8(t.Second()), Nanosecond: uint32(t.Nanosecond())}
	case rdbms.Date:
		var d pgtype.Date
		if err = scan(&d); err == nil && d.InfinityModifier != pgtype.Finite {
			err = errors.New("infinite dates have no date value")
		}
		v.Date = rdbms.CalendarDate{Year: int32(d.Time.Year()), Month: uint8(d.Time.Month()), Day: uint8(d.Time.Day())}
	case rdbms.Time:
		var t pgtype.Time
		err = scan(&t)
		us := t.Microseconds
		v.Time = rdbms.TimeOfDay{Hour: uint8(us / 3600e6), Minute: uint8(us / 60e6 % 60), Second: uint8(us / 1e6 % 60), Nanosecond: uint32(us%1e6) * 1000}
	case rdbms.UUID:
		var u pgtype.UUID
		err = scan(&u)
		b := u.Bytes
		v.Str = fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
	case rdbms.JSONB:
		var raw json.RawMessage
		if err = scan(&raw); err == nil {
			v.Bytes, err = compactJSON(raw)
		}
	case rdbms.Decimal:
		var n pgtype.Numeric
		if err = scan(&n); err == nil {
			v.Str, err = decimalText(n)
		}
	case rdbms.RangeInt32, rdbms.RangeInt64:
		var r pgtype.Range[pgtype.Int8]
		err = scan(&r)
		v.Lower = intBound(r.Lower, r.LowerType)
		v.Upper = intBound(r.Upper, r.UpperType)
	case rdbms.RangeDecimal:
		var r pgtype.Range[pgtype.Numeric]
		if err = scan(&r); err == nil {
			if v.Lower, err = decimalBound(r.Lower, r.LowerType); err == nil {
				v.Upper, err = decimalBound(r.Upper, r.UpperType)
			}
		}
	case rdbms.ArrayInt32, rdbms.ArrayInt64:
		var a []pgtype.Int8
		err = scan(&a)
		v.Array = make([]rdbms.Elem, len(a))
		for j, e := range a {
			v.Array[j] = rdbms.Elem{Int: e.Int64, Null: !e.Valid}
		}
	case rdbms.ArrayDecimal:
		var a []pgtype.Numeric
		err = scan(&a)
		v.Array = make([]rdbms.Elem, len(a))
		for j := 0; err == nil && j < len(a); j++ {
			v.Array[j].Null = !a[j].Valid
			if a[j].Valid {
				v.Array[j].Str, err = decimalText(a[j])
			}
		}
	case rdbms.ArrayStr:
		var a []pgtype.Text
		err = scan(&a)
		v.Array = make([]rdbms.Elem, len(a))
		for j, e := range a {
			v.Array[j] = rdbms.Elem{Str: e.String, Null: !e.Valid}
		}
	case rdbms.Interval:
		var iv pgtype.Interval
		err = scan(&iv)
		v.Interval = rdbms.IntervalValue{Micros: iv.Microseconds, Days: iv.Days, Months: iv.Months}
	}
	return v, err
}

// compactJSON re-serialises JSON as Spin does (serde_json: compact, object
// keys sorted, numbers as written, no HTML escaping).
func compactJSON(raw []byte) ([]byte, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var x any
	if err := d.Decode(&x); err != nil {
		return nil, fmt.Errorf("invalid JSON from database: %w", err)
	}
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(x); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func decimalText(n pgtype.Numeric) (string, error) {
	if n.NaN || n.InfinityModifier != pgtype.Finite {
		return "", errors.New("NaN and infinite numerics have no decimal value")
	}
	b, err := n.MarshalJSON()
	return string(b), err
}

func intBound(b pgtype.Int8, t pgtype.BoundType) *rdbms.Bound {
	if t != pgtype.Inclusive && t != pgtype.Exclusive {
		return nil
	}
	return &rdbms.Bound{Int: b.Int64, Exclusive: t == pgtype.Exclusive}
}

func decimalBound(b pgtype.Numeric, t pgtype.BoundType) (*rdbms.Bound, error) {
	if t != pgtype.Inclusive && t != pgtype.Exclusive {
		return nil, nil
	}
	s, err := decimalText(b)
	if err != nil {
		return nil, err
	}
	return &rdbms.Bound{Str: s, Exclusive: t == pgtype.Exclusive}, nil
}

// queryFailed is query-failed: with the structured server error when the
// server sent one, else the error's text.
func queryFailed(err error) error {
	if errors.Is(err, errTooLarge) {
		return &rdbms.Error{Kind: rdbms.QueryFailed, Message: err.Error(), Err: err}
	}
	var re *rdbms.Error
	if errors.As(err, &re) {
		return re
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return &rdbms.Error{Kind: rdbms.QueryFailed, Message: err.Error(), Err: err}
	}
	db := &rdbms.DBError{AsText: "db error: " + pe.Error(), Severity: pe.Severity, Code: pe.Code, Message: pe.Message}
	if pe.Detail != "" {
		d := pe.Detail
		db.Detail = &d
	}
	for _, x := range [][2]string{
		{"column", pe.ColumnName}, {"constraint", pe.ConstraintName}, {"routine", pe.Routine},
		{"hint", pe.Hint}, {"table", pe.TableName}, {"datatype", pe.DataTypeName},
		{"schema", pe.SchemaName}, {"file", pe.File}, {"line", lineText(pe.Line)}, {"where_", pe.Where},
	} {
		if x[1] != "" {
			db.Extras = append(db.Extras, x)
		}
	}
	return &rdbms.Error{Kind: rdbms.QueryFailed, Message: db.AsText, DB: db, Err: err}
}

func lineText(n int32) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprint(n)
}

func parsePEM(text string) (*x509.Certificate, error) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(text)))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	return x509.ParseCertificate(block.Bytes)
}
