package wasm

import (
	"fmt"

	"github.com/redspin/redspin/internal/spinhost/rdbms"
	"github.com/redspin/redspin/internal/wasmtime"
)

// Core modules: the database interfaces lowered by the canonical ABI from
// their WIT types (abiType), reusing the component adapters' values.
// Spin 1.x modules import the unversioned interfaces as outbound-pg and
// outbound-mysql.

// coreI32Result lists the core imports ("interface#function") that return
// one i32 instead of writing a return area: the 4.1+ connection-builder
// constructor, whose handle is its result.
var coreI32Result = map[string]bool{
	modPG41 + "#[constructor]connection-builder": true,
	modPG42 + "#[constructor]connection-builder": true,
}

func init() {
	spin1Modules["outbound-pg"] = modPG
	spin1Modules["outbound-mysql"] = modMySQL
	for name, f := range map[string]rdbFlavour{
		modPG: flavPG, modPG2: flavPG2, modPG3: flavPG3, modPG40: flavPG4, modPG41: flavPG4, modPG42: flavPG4,
		modMySQL: flavMySQL, modMySQL2: flavMySQL2,
	} {
		coreImports[name] = f.coreFuncs(name == modPG41 || name == modPG42)
	}
}

// kindsOf lists a version's db-value (withUnsupported) or parameter-value
// cases in WIT order, which is rdbms.Kind order.
func kindsOf(ver rdbms.Version, withUnsupported bool) []rdbms.Kind {
	var ks []rdbms.Kind
	for k := rdbms.Boolean; k < rdbms.DbNull; k++ {
		if ver.Has(k) {
			ks = append(ks, k)
		}
	}
	ks = append(ks, rdbms.DbNull)
	if withUnsupported {
		ks = append(ks, rdbms.Unsupported)
	}
	return ks
}

var tRangeBound = tEnum("inclusive", "exclusive")

func rangeT(x *abiType) *abiType {
	b := tOption(tTuple(x, tRangeBound))
	return tTuple(b, b)
}

// payloadT is the payload type of value case k in version ver.
func payloadT(k rdbms.Kind, ver rdbms.Version) *abiType {
	switch k {
	case rdbms.Boolean:
		return tBool
	case rdbms.Int8:
		return prim(wasmtime.CS8)
	case rdbms.Int16:
		return prim(wasmtime.CS16)
	case rdbms.Int32:
		return tS32
	case rdbms.Int64, rdbms.Timestamp:
		return tS64
	case rdbms.Uint8:
		return tU8
	case rdbms.Uint16:
		return prim(wasmtime.CU16)
	case rdbms.Uint32:
		return tU32
	case rdbms.Uint64:
		return tU64
	case rdbms.Floating32:
		return prim(wasmtime.CF32)
	case rdbms.Floating64:
		return prim(wasmtime.CF64)
	case rdbms.Str, rdbms.UUID, rdbms.Decimal:
		return tString
	case rdbms.Binary, rdbms.JSONB:
		return tBytes
	case rdbms.Date:
		return tTuple(tS32, tU8, tU8)
	case rdbms.Time:
		return tTuple(tU8, tU8, tU8, tU32)
	case rdbms.Datetime:
		return tTuple(tS32, tU8, tU8, tU8, tU8, tU8, tU32)
	case rdbms.RangeInt32:
		return rangeT(tS32)
	case rdbms.RangeInt64:
		return rangeT(tS64)
	case rdbms.RangeDecimal:
		return rangeT(tString)
	case rdbms.ArrayInt32:
		return tList(tOption(tS32))
	case rdbms.ArrayInt64:
		return tList(tOption(tS64))
	case rdbms.ArrayDecimal, rdbms.ArrayStr:
		return tList(tOption(tString))
	case rdbms.Interval:
		return tRecord("micros", tS64, "days", tS32, "months", tS32)
	case rdbms.Unsupported:
		if ver == rdbms.PG4 {
			return tBytes
		}
	}
	return nil
}

func valueT(ver rdbms.Version, withUnsupported bool) *abiType {
	var nt []any
	for _, k := range kindsOf(ver, withUnsupported) {
		nt = append(nt, k.String(), payloadT(k, ver))
	}
	return tVariant(nt...)
}

func dataTypeT(ver rdbms.Version) *abiType {
	var names []string
	for _, k := range kindsOf(ver, false) {
		if k != rdbms.DbNull {
			names = append(names, k.String())
		}
	}
	names = append(names, "other")
	if ver != rdbms.PG4 {
		return tEnum(names...)
	}
	var nt []any
	for _, n := range names {
		var p *abiType
		if n == "other" {
			p = tString
		}
		nt = append(nt, n, p)
	}
	return tVariant(nt...)
}

func rowSetT(ver rdbms.Version) *abiType {
	col := tRecord("name", tString, "data-type", dataTypeT(ver))
	return tRecord("columns", tList(col), "rows", tList(tList(valueT(ver, true))))
}

func (f rdbFlavour) errT() *abiType {
	if f.legacy {
		return tVariant("success", nil, "connection-failed", tString, "bad-parameter", tString,
			"query-failed", tString, "value-conversion-failed", tString, "other-error", tString)
	}
	qf := tString
	if f.ver == rdbms.PG4 {
		dbErr := tRecord("as-text", tString, "severity", tString, "code", tString, "message", tString,
			"detail", tOption(tString), "extras", tList(tTuple(tString, tString)))
		qf = tVariant("text", tString, "db-error", dbErr)
	}
	return tVariant("connection-failed", tString, "bad-parameter", tString, "query-failed", qf,
		"value-conversion-failed", tString, "other", tString)
}

// coreFuncs are the interface's functions for core modules.
func (f rdbFlavour) coreFuncs(builder bool) map[string]coreImport {
	errT := f.errT()
	queryT := tResult(rowSetT(f.ver), errT)
	execT := tResult(nil, errT)
	if f.execU64 {
		execT = tResult(tU64, errT)
	}
	connT := tResult(tU32, errT)
	paramsT := tList(valueT(f.ver, false))

	// statement lifts (statement, params) from the four parameters at n.
	statement := func(c *coreCall, n int) ([]wasmtime.Val, error) {
		stmt, err := c.str(n)
		if err != nil {
			return nil, err
		}
		ps, err := c.g.loadList(c.u(n+2), c.u(n+3), paramsT.elem)
		if err != nil {
			return nil, err
		}
		return []wasmtime.Val{wasmtime.Str(stmt), ps}, nil
	}
	// run stores the result of body(statement args) at the return area.
	run := func(resT *abiType, body func(st *Instance, h uint32, args []wasmtime.Val) (wasmtime.Val, error)) func(c *coreCall, h uint32, n int) error {
		return func(c *coreCall, h uint32, n int) error {
			args, err := statement(c, n)
			if err != nil {
				return err
			}
			v, err := body(c.st, h, args)
			if err != nil {
				return err
			}
			return c.g.store(c.u(n+4), resT, v)
		}
	}
	query, execute := run(queryT, f.query), run(execT, f.execute)
	openV := func(h uint32, err error) wasmtime.Val {
		if err != nil {
			return f.errV(err)
		}
		return okV(ptr(wasmtime.U32(h)))
	}

	if f.legacy {
		legacy := func(op func(c *coreCall, h uint32, n int) error, resT *abiType) coreImport {
			return coreImport{7, func(c *coreCall) error {
				addr, err := c.str(0)
				if err != nil {
					return err
				}
				h, err := f.conns(c.st).Open(c.ctx, addr)
				if err != nil {
					return c.g.store(c.u(6), resT, f.errV(err))
				}
				defer f.conns(c.st).Drop(h)
				return op(c, h, 2)
			}}
		}
		return map[string]coreImport{"query": legacy(query, queryT), "execute": legacy(execute, execT)}
	}
	m := map[string]coreImport{
		"[static]connection.open": {3, func(c *coreCall) error {
			addr, err := c.str(0)
			if err != nil {
				return err
			}
			h, err := f.conns(c.st).Open(c.ctx, addr)
			return c.g.store(c.u(2), connT, openV(h, err))
		}},
		"[method]connection.query":   {6, func(c *coreCall) error { return query(c, c.u(0), 1) }},
		"[method]connection.execute": {6, func(c *coreCall) error { return execute(c, c.u(0), 1) }},
		"[resource-drop]connection": {1, func(c *coreCall) error {
			f.conns(c.st).Drop(c.u(0))
			return nil
		}},
	}
	if builder {
		// Spin traps when the builder table is full; so does this.
		m["[constructor]connection-builder"] = coreImport{2, func(c *coreCall) error {
			addr, err := c.str(0)
			if err != nil {
				return err
			}
			b, err := c.st.pg.NewBuilder(addr)
			if err != nil {
				return fmt.Errorf("connection-builder: %w", err)
			}
			if len(c.r) != 1 {
				c.st.pg.DropBuilder(b)
				return errArgs
			}
			c.r[0] = uint64(b)
			return nil
		}}
		m["[method]connection-builder.set-ca-root"] = coreImport{4, func(c *coreCall) error {
			pem, err := c.str(1)
			if err != nil {
				return err
			}
			v := okV(nil)
			if err := c.st.pg.SetCARoot(c.u(0), pem); err != nil {
				v = f.errV(err)
			}
			return c.g.store(c.u(3), tResult(nil, errT), v)
		}}
		m["[method]connection-builder.build"] = coreImport{2, func(c *coreCall) error {
			h, err := c.st.pg.Build(c.ctx, c.u(0))
			return c.g.store(c.u(1), connT, openV(h, err))
		}}
		m["[resource-drop]connection-builder"] = coreImport{1, func(c *coreCall) error {
			c.st.pg.DropBuilder(c.u(0))
			return nil
		}}
	}
	return m
}

// loadList reads n elements of type t at ptr.
func (g *guestMem) loadList(ptr, n uint32, t *abiType) (wasmtime.Val, error) {
	es := t.size()
	if uint64(n)*uint64(es) > 1<<32 {
		return wasmtime.Val{}, fmt.Errorf("list of %d elements is too long", n)
	}
	if _, err := g.slice(ptr, n*es); err != nil {
		return wasmtime.Val{}, err
	}
	v := wasmtime.Val{Kind: wasmtime.CList, Elems: make([]wasmtime.Val, n)}
	for i := range n {
		e, err := g.load(ptr+i*es, t)
		if err != nil {
			return wasmtime.Val{}, err
		}
		v.Elems[i] = e
	}
	return v, nil
}
