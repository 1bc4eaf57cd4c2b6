package rdbms

// Version is an rdbms-types version as the guest sees it.
type Version uint8

// Versions, see the package documentation.
const (
	V1 Version = iota
	V2
	PG3
	PG4
)

// Has reports whether value (or data-type) case k exists in v.
func (v Version) Has(k Kind) bool {
	switch {
	case k == DbNull || k == Unsupported || k == Other:
		return true
	case k <= Binary && k.IsUnsigned():
		return v == V1 || v == V2
	case k <= Binary:
		return true
	case k <= Timestamp:
		return v == PG3 || v == PG4
	}
	return v == PG4
}

// Value narrows a database value to v: a case v does not have becomes
// unsupported (with its raw bytes only in 4.x, where unsupported carries
// them and only a value of an unknown database type has them).
func (v Version) Value(x Value) Value {
	if v.Has(x.Kind) && (x.Kind != Unsupported || v == PG4) {
		return x
	}
	return Value{Kind: Unsupported}
}

// DataType narrows a column type to v: a case v does not have becomes
// other (with the type's name only in 4.x).
func (v Version) DataType(t DataType) DataType {
	if v.Has(t.Kind) && (t.Kind != Other || v == PG4) {
		return t
	}
	return DataType{Kind: Other}
}

// RowSet narrows every column and value of rs to v, in place.
func (v Version) RowSet(rs *RowSet) {
	for i := range rs.Columns {
		rs.Columns[i].Type = v.DataType(rs.Columns[i].Type)
	}
	for _, row := range rs.Rows {
		for j := range row {
			row[j] = v.Value(row[j])
		}
	}
}
