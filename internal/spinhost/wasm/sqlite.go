package wasm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/redspin/redspin/internal/spinhost/sqlite"
	"github.com/redspin/redspin/internal/wasmtime"
)

// SQLite interface names. Every version has the same error, value and
// query-result types; 3.0.0 adds last-insert-rowid and changes, 3.1.0 adds
// async functions (not served, see AsyncImports).
const (
	modSQLite   = "fermyon:spin/sqlite"
	modSQLite2  = "fermyon:spin/sqlite@2.0.0"
	modSQLite3  = "spin:sqlite/sqlite@3.0.0"
	modSQLite31 = "spin:sqlite/sqlite@3.1.0"
)

func sqliteErr(err error) errCase {
	k := sqlite.KindOf(err)
	return errCase{idx: uint8(k), msg: sqlite.MessageOf(err), hasMsg: k == sqlite.KindIO}
}

// Components.

// argValues lifts a list<value>.
func argValues(args []wasmtime.Val, i int) ([]sqlite.Value, error) {
	if i >= len(args) || args[i].Kind != wasmtime.CList {
		return nil, errArgs
	}
	out := make([]sqlite.Value, len(args[i].Elems))
	for j, e := range args[i].Elems {
		if e.Kind != wasmtime.CVariant {
			return nil, errArgs
		}
		p := e.Payload
		switch e.Str {
		case "integer":
			if p == nil {
				return nil, errArgs
			}
			out[j] = sqlite.Value{Kind: sqlite.Integer, Int: int64(p.Num)}
		case "real":
			if p == nil {
				return nil, errArgs
			}
			out[j] = sqlite.Value{Kind: sqlite.Real, Real: p.F64()}
		case "text":
			if p == nil || p.Kind != wasmtime.CString {
				return nil, errArgs
			}
			out[j] = sqlite.Value{Kind: sqlite.Text, Text: p.Str}
		case "blob":
			if p == nil {
				return nil, errArgs
			}
			b, err := argBytes([]wasmtime.Val{*p}, 0)
			if err != nil {
				return nil, err
			}
			out[j] = sqlite.Value{Kind: sqlite.Blob, Blob: b}
		case "null":
			out[j] = sqlite.Value{Kind: sqlite.Null}
		default:
			return nil, fmt.Errorf("unknown sqlite value case %q", e.Str)
		}
	}
	return out, nil
}

func sqliteValueV(v sqlite.Value) wasmtime.Val {
	switch v.Kind {
	case sqlite.Integer:
		return wasmtime.Variant("integer", ptr(wasmtime.S64(v.Int)))
	case sqlite.Real:
		return wasmtime.Variant("real", &wasmtime.Val{Kind: wasmtime.CF64, Num: math.Float64bits(v.Real)})
	case sqlite.Text:
		return wasmtime.Variant("text", ptr(wasmtime.Str(v.Text)))
	case sqlite.Blob:
		return wasmtime.Variant("blob", ptr(bytesV(v.Blob)))
	}
	return wasmtime.Variant("null", nil)
}

// queryResultV is record query-result { columns, rows: list<row-result> }.
func queryResultV(r *sqlite.Result) wasmtime.Val {
	rows := wasmtime.Val{Kind: wasmtime.CList, Elems: make([]wasmtime.Val, len(r.Rows))}
	for i, row := range r.Rows {
		vals := wasmtime.Val{Kind: wasmtime.CList, Elems: make([]wasmtime.Val, len(row))}
		for j, v := range row {
			vals.Elems[j] = sqliteValueV(v)
		}
		rows.Elems[i] = wasmtime.Val{Kind: wasmtime.CRecord, Names: []string{"values"}, Elems: []wasmtime.Val{vals}}
	}
	return wasmtime.Val{Kind: wasmtime.CRecord, Names: []string{"columns", "rows"}, Elems: []wasmtime.Val{strsV(r.Columns), rows}}
}

// sqliteResult sets results[0] to ok(v) or the error; argument errors trap.
func sqliteResult(results []wasmtime.Val, v wasmtime.Val, err error) error {
	if errors.Is(err, errArgs) {
		return err
	}
	if err != nil {
		results[0] = errV(sqlite.CaseNames, sqliteErr(err))
		return nil
	}
	results[0] = okV(&v)
	return nil
}

// sqliteExecute runs execute with the connection handle h and the
// statement and parameters at args[1] and args[2].
func sqliteExecute(st *Instance, h uint32, args []wasmtime.Val) (wasmtime.Val, error) {
	stmt, err := argStr(args, 1)
	if err != nil {
		return wasmtime.Val{}, err
	}
	params, err := argValues(args, 2)
	if err != nil {
		return wasmtime.Val{}, err
	}
	r, err := st.sqlite.Execute(st.ctx, h, stmt, params)
	if err != nil {
		return wasmtime.Val{}, err
	}
	return queryResultV(r), nil
}

var sqlite2Funcs = map[string]compFunc{
	"[static]connection.open": func(c caller, st *Instance, args, results []wasmtime.Val) error {
		label, err := argStr(args, 0)
		if err != nil {
			return err
		}
		h, err := st.sqlite.Open(label)
		if err != nil {
			return sqliteResult(results, wasmtime.Val{}, err)
		}
		res, err := c.FromHost(true, h, resSQLite)
		if err != nil {
			st.sqlite.Drop(h)
			return err
		}
		return sqliteResult(results, res, nil)
	},
	"[method]connection.execute": func(c caller, st *Instance, args, results []wasmtime.Val) error {
		h, err := argHandle(c, args, 0, resSQLite)
		if err != nil {
			return err
		}
		v, err := sqliteExecute(st, h, args)
		return sqliteResult(results, v, err)
	},
}

// sqlite3Funcs adds 3.0.0's last-insert-rowid and changes, which return a
// plain number (a failure traps, as in Spin).
var sqlite3Funcs = func() map[string]compFunc {
	m := map[string]compFunc{
		"[method]connection.last-insert-rowid": func(c caller, st *Instance, args, results []wasmtime.Val) error {
			h, err := argHandle(c, args, 0, resSQLite)
			if err != nil {
				return err
			}
			n, err := st.sqlite.LastInsertRowid(st.ctx, h)
			results[0] = wasmtime.S64(n)
			return err
		},
		"[method]connection.changes": func(c caller, st *Instance, args, results []wasmtime.Val) error {
			h, err := argHandle(c, args, 0, resSQLite)
			if err != nil {
				return err
			}
			n, err := st.sqlite.Changes(st.ctx, h)
			results[0] = wasmtime.Val{Kind: wasmtime.CU64, Num: n}
			return err
		},
	}
	for k, v := range sqlite2Funcs {
		m[k] = v
	}
	return m
}()

// The unversioned interface: u32 connection handles and close.
var sqliteLegacyFuncs = map[string]compFunc{
	"open": func(_ caller, st *Instance, args, results []wasmtime.Val) error {
		label, err := argStr(args, 0)
		if err != nil {
			return err
		}
		h, err := st.sqlite.Open(label)
		return sqliteResult(results, wasmtime.U32(h), err)
	},
	"execute": func(_ caller, st *Instance, args, results []wasmtime.Val) error {
		if len(args) == 0 || args[0].Kind != wasmtime.CU32 {
			return errArgs
		}
		v, err := sqliteExecute(st, uint32(args[0].Num), args)
		return sqliteResult(results, v, err)
	},
	"close": func(_ caller, st *Instance, args, _ []wasmtime.Val) error {
		if len(args) == 0 || args[0].Kind != wasmtime.CU32 {
			return errArgs
		}
		st.sqlite.Drop(uint32(args[0].Num))
		return nil
	},
}

// Core modules. Layouts: result<connection, error> has its payload at 4;
// result<query-result, error> too (columns at 4, rows at 12); a value is 16
// bytes aligned to 8 (case at 0, payload at 8); a row-result is its
// list<value> (8 bytes).

var coreSQLiteOpen = coreImport{3, func(c *coreCall) error {
	label, err := c.str(0)
	if err != nil {
		return err
	}
	ret := c.u(2)
	h, err := c.st.sqlite.Open(label)
	if err != nil {
		return c.g.putResultErr(ret, 4, sqliteErr(err))
	}
	return okU32(c, ret, h)
}}

// (handle, statement ptr, len, parameters ptr, len, ret)
var coreSQLiteExecute = coreImport{6, func(c *coreCall) error {
	stmt, err := c.str(1)
	if err != nil {
		return err
	}
	params, err := c.g.sqliteValues(c.u(3), c.u(4))
	if err != nil {
		return err
	}
	ret := c.u(5)
	r, err := c.st.sqlite.Execute(c.ctx, c.u(0), stmt, params)
	if err != nil {
		return c.g.putResultErr(ret, 4, sqliteErr(err))
	}
	if err := c.ok(ret); err != nil {
		return err
	}
	if err := c.g.putStrings(ret+4, r.Columns); err != nil {
		return err
	}
	return c.g.putList(ret+12, len(r.Rows), 8, 4, func(i int, at uint32) error {
		row := r.Rows[i]
		return c.g.putList(at, len(row), 16, 8, func(j int, at uint32) error { return c.g.putSQLiteValue(at, row[j]) })
	})
}}

var coreSQLiteDrop = coreImport{1, func(c *coreCall) error {
	c.st.sqlite.Drop(c.u(0))
	return nil
}}

var coreSQLiteLegacy = map[string]coreImport{
	"open":    coreSQLiteOpen,
	"execute": coreSQLiteExecute,
	"close":   coreSQLiteDrop,
}

var coreSQLiteResource = map[string]coreImport{
	"[static]connection.open":    coreSQLiteOpen,
	"[method]connection.execute": coreSQLiteExecute,
	"[method]connection.last-insert-rowid": {1, func(c *coreCall) error {
		n, err := c.st.sqlite.LastInsertRowid(c.ctx, c.u(0))
		c.r[0] = uint64(n)
		return err
	}},
	"[method]connection.changes": {1, func(c *coreCall) error {
		n, err := c.st.sqlite.Changes(c.ctx, c.u(0))
		c.r[0] = n
		return err
	}},
	"[resource-drop]connection": coreSQLiteDrop,
}

// sqliteValues reads a list<value> of n elements at ptr.
func (g *guestMem) sqliteValues(ptr, n uint32) ([]sqlite.Value, error) {
	all, err := g.slice(ptr, n*16)
	if err != nil || uint64(n)*16 > 1<<32 {
		return nil, fmt.Errorf("list<value> at %#x: %v", ptr, err)
	}
	all = append([]byte{}, all...)
	out := make([]sqlite.Value, n)
	for i := range n {
		e := all[16*i:]
		p := binary.LittleEndian.Uint64(e[8:])
		switch sqlite.ValueKind(e[0]) {
		case sqlite.Integer:
			out[i] = sqlite.Value{Kind: sqlite.Integer, Int: int64(p)}
		case sqlite.Real:
			out[i] = sqlite.Value{Kind: sqlite.Real, Real: math.Float64frombits(p)}
		case sqlite.Text:
			s, err := g.str(uint32(p), uint32(p>>32))
			if err != nil {
				return nil, err
			}
			out[i] = sqlite.Value{Kind: sqlite.Text, Text: s}
		case sqlite.Blob:
			b, err := g.bytes(uint32(p), uint32(p>>32))
			if err != nil {
				return nil, err
			}
			out[i] = sqlite.Value{Kind: sqlite.Blob, Blob: b}
		case sqlite.Null:
			out[i] = sqlite.Value{Kind: sqlite.Null}
		default:
			return nil, fmt.Errorf("sqlite value case %d is not valid", e[0])
		}
	}
	return out, nil
}

// putSQLiteValue writes one value (16 bytes) at at.
func (g *guestMem) putSQLiteValue(at uint32, v sqlite.Value) error {
	if err := g.put8(at, uint8(v.Kind)); err != nil {
		return err
	}
	switch v.Kind {
	case sqlite.Integer:
		return g.put64(at+8, uint64(v.Int))
	case sqlite.Real:
		return g.put64(at+8, math.Float64bits(v.Real))
	case sqlite.Text:
		return g.putBytes(at+8, []byte(v.Text))
	case sqlite.Blob:
		return g.putBytes(at+8, v.Blob)
	}
	return nil
}
