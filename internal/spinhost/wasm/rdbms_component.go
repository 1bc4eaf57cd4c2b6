package wasm

import (
	"context"
	"fmt"
	"math"

	"github.com/redspin/redspin/internal/spinhost/rdbms"
	"github.com/redspin/redspin/internal/wasmtime"
)

// PostgreSQL and MySQL interfaces (packages pg, mysql and rdbms).
const (
	modPG2    = "fermyon:spin/postgres@2.0.0"
	modPG     = "fermyon:spin/postgres"
	modPG3    = "spin:postgres/postgres@3.0.0"
	modPG40   = "spin:postgres/postgres@4.0.0"
	modPG41   = "spin:postgres/postgres@4.1.0"
	modPG42   = "spin:postgres/postgres@4.2.0"
	modMySQL2 = "fermyon:spin/mysql@2.0.0"
	modMySQL  = "fermyon:spin/mysql"
)

// Host resource types of the database interfaces.
const (
	resPGConn    uint32 = 0x5350_0010 // postgres connection (every version)
	resPGBuilder uint32 = 0x5350_0011 // spin:postgres 4.1+ connection-builder
	resMySQLConn uint32 = 0x5350_0012 // fermyon:spin/mysql@2.0.0 connection
)

// rdbConns is what the adapters need of *pg.Instance and *mysql.Instance.
type rdbConns interface {
	Open(ctx context.Context, address string) (uint32, error)
	Query(ctx context.Context, h uint32, statement string, params []rdbms.Value) (*rdbms.RowSet, error)
	Execute(ctx context.Context, h uint32, statement string, params []rdbms.Value) (uint64, error)
	Drop(h uint32)
}

// rdbFlavour is one database interface version: its types, its
// connection resource, the shape of execute's result, and whether it is
// unversioned (address per call, pg-error / mysql-error).
type rdbFlavour struct {
	ver     rdbms.Version
	mysql   bool
	res     uint32
	execU64 bool
	legacy  bool
}

func (f rdbFlavour) conns(st *Instance) rdbConns {
	if f.mysql {
		return st.mysql
	}
	return st.pg
}

var (
	flavPG      = rdbFlavour{ver: rdbms.V1, res: resPGConn, execU64: true, legacy: true}
	flavPG2     = rdbFlavour{ver: rdbms.V2, res: resPGConn, execU64: true}
	flavPG3     = rdbFlavour{ver: rdbms.PG3, res: resPGConn, execU64: true}
	flavPG4     = rdbFlavour{ver: rdbms.PG4, res: resPGConn, execU64: true}
	flavMySQL   = rdbFlavour{ver: rdbms.V1, mysql: true, res: resMySQLConn, legacy: true}
	flavMySQL2  = rdbFlavour{ver: rdbms.V2, mysql: true, res: resMySQLConn}
	pgResources = map[string]uint32{"connection": resPGConn}
	pg4Res      = map[string]uint32{"connection": resPGConn, "connection-builder": resPGBuilder}
)

func init() {
	for name, ci := range rdbInterfaces() {
		compInterfaces[name] = ci
	}
}

// rdbInterfaces are the database entries of compInterfaces. The *-async
// functions of postgres@4.2.0 are not among them: a component that uses
// them does not compile on this engine (see the package documentation).
func rdbInterfaces() map[string]compInterface {
	pg4 := func(builder bool) compInterface {
		ci := compInterface{resources: pgResources, funcs: flavPG4.methods()}
		if builder {
			ci.resources = pg4Res
			for k, v := range pgBuilderFuncs {
				ci.funcs[k] = v
			}
		}
		return ci
	}
	return map[string]compInterface{
		modPG:     {funcs: flavPG.legacyFuncs()},
		modPG2:    {resources: pgResources, funcs: flavPG2.methods()},
		modPG3:    {resources: pgResources, funcs: flavPG3.methods()},
		modPG40:   pg4(false),
		modPG41:   pg4(true),
		modPG42:   pg4(true),
		modMySQL:  {funcs: flavMySQL.legacyFuncs()},
		modMySQL2: {resources: map[string]uint32{"connection": resMySQLConn}, funcs: flavMySQL2.methods()},
	}
}

// methods are the connection resource's functions.
func (f rdbFlavour) methods() map[string]compFunc {
	return map[string]compFunc{
		"[static]connection.open": func(c caller, st *Instance, args, results []wasmtime.Val) error {
			addr, err := argStr(args, 0)
			if err != nil {
				return err
			}
			h, err := f.conns(st).Open(st.ctx, addr)
			results[0], err = f.newConn(c, st, h, err)
			return err
		},
		"[method]connection.query": func(c caller, st *Instance, args, results []wasmtime.Val) error {
			h, err := argHandle(c, args, 0, f.res)
			if err != nil {
				return err
			}
			results[0], err = f.query(st, h, args[1:])
			return err
		},
		"[method]connection.execute": func(c caller, st *Instance, args, results []wasmtime.Val) error {
			h, err := argHandle(c, args, 0, f.res)
			if err != nil {
				return err
			}
			results[0], err = f.execute(st, h, args[1:])
			return err
		},
	}
}

// newConn lowers the result of opening connection h.
func (f rdbFlavour) newConn(c caller, st *Instance, h uint32, err error) (wasmtime.Val, error) {
	if err != nil {
		return f.errV(err), nil
	}
	res, err := c.FromHost(true, h, f.res)
	if err != nil {
		f.conns(st).Drop(h)
		return wasmtime.Val{}, err
	}
	return okV(&res), nil
}

// query runs (statement, params) on connection h.
func (f rdbFlavour) query(st *Instance, h uint32, args []wasmtime.Val) (wasmtime.Val, error) {
	stmt, params, err := liftStatement(args)
	if err != nil {
		return wasmtime.Val{}, err
	}
	rs, err := f.conns(st).Query(st.ctx, h, stmt, params)
	if err != nil {
		return f.errV(err), nil
	}
	f.ver.RowSet(rs)
	return okV(ptr(rowSetV(rs, f.ver))), nil
}

func (f rdbFlavour) execute(st *Instance, h uint32, args []wasmtime.Val) (wasmtime.Val, error) {
	stmt, params, err := liftStatement(args)
	if err != nil {
		return wasmtime.Val{}, err
	}
	n, err := f.conns(st).Execute(st.ctx, h, stmt, params)
	switch {
	case err != nil:
		return f.errV(err), nil
	case f.execU64:
		return okV(ptr(wasmtime.Val{Kind: wasmtime.CU64, Num: n})), nil
	}
	return okV(nil), nil
}

// legacyFuncs are the unversioned query and execute: the address opens a
// connection for the one call, as Spin's v1 host does.
func (f rdbFlavour) legacyFuncs() map[string]compFunc {
	wrap := func(run func(st *Instance, h uint32, args []wasmtime.Val) (wasmtime.Val, error)) compFunc {
		return func(_ caller, st *Instance, args, results []wasmtime.Val) error {
			addr, err := argStr(args, 0)
			if err != nil {
				return err
			}
			h, err := f.conns(st).Open(st.ctx, addr)
			if err != nil {
				results[0] = f.errV(err)
				return nil
			}
			defer f.conns(st).Drop(h)
			results[0], err = run(st, h, args[1:])
			return err
		}
	}
	return map[string]compFunc{"query": wrap(f.query), "execute": wrap(f.execute)}
}

// spin:postgres 4.1+ connection-builder.
var pgBuilderFuncs = map[string]compFunc{
	"[constructor]connection-builder": func(c caller, st *Instance, args, results []wasmtime.Val) error {
		addr, err := argStr(args, 0)
		if err != nil {
			return err
		}
		b, err := st.pg.NewBuilder(addr)
		if err != nil {
			return fmt.Errorf("connection-builder: %w", err) // Spin traps too
		}
		res, err := c.FromHost(true, b, resPGBuilder)
		if err != nil {
			st.pg.DropBuilder(b)
			return err
		}
		results[0] = res
		return nil
	},
	"[method]connection-builder.set-ca-root": func(c caller, st *Instance, args, results []wasmtime.Val) error {
		b, err := argHandle(c, args, 0, resPGBuilder)
		if err != nil {
			return err
		}
		pem, err := argStr(args, 1)
		if err != nil {
			return err
		}
		if err := st.pg.SetCARoot(b, pem); err != nil {
			results[0] = flavPG4.errV(err)
			return nil
		}
		results[0] = okV(nil)
		return nil
	},
	"[method]connection-builder.build": func(c caller, st *Instance, args, results []wasmtime.Val) error {
		b, err := argHandle(c, args, 0, resPGBuilder)
		if err != nil {
			return err
		}
		h, err := st.pg.Build(st.ctx, b)
		results[0], err = flavPG4.newConn(c, st, h, err)
		return err
	},
}

// errV lowers an error into the flavour's error variant.
func (f rdbFlavour) errV(err error) wasmtime.Val {
	k, msg := rdbms.KindOf(err), rdbms.MessageOf(err)
	name := k.String()
	if f.legacy {
		_, name = k.Legacy()
	}
	payload := wasmtime.Str(msg)
	if f.ver == rdbms.PG4 && k == rdbms.QueryFailed {
		if db := rdbms.DBErrorOf(err); db != nil {
			payload = wasmtime.Variant("db-error", ptr(dbErrorV(db)))
		} else {
			payload = wasmtime.Variant("text", ptr(wasmtime.Str(msg)))
		}
	}
	return wasmtime.ErrVal(ptr(wasmtime.Variant(name, &payload)))
}

func dbErrorV(db *rdbms.DBError) wasmtime.Val {
	detail := wasmtime.None()
	if db.Detail != nil {
		detail = wasmtime.Some(wasmtime.Str(*db.Detail))
	}
	extras := wasmtime.Val{Kind: wasmtime.CList, Elems: make([]wasmtime.Val, len(db.Extras))}
	for i, x := range db.Extras {
		extras.Elems[i] = wasmtime.Val{Kind: wasmtime.CTuple, Elems: []wasmtime.Val{wasmtime.Str(x[0]), wasmtime.Str(x[1])}}
	}
	return wasmtime.Val{Kind: wasmtime.CRecord,
		Names: []string{"as-text", "severity", "code", "message", "detail", "extras"},
		Elems: []wasmtime.Val{wasmtime.Str(db.AsText), wasmtime.Str(db.Severity), wasmtime.Str(db.Code),
			wasmtime.Str(db.Message), detail, extras}}
}

// Lifting parameters.

func liftStatement(args []wasmtime.Val) (string, []rdbms.Value, error) {
	stmt, err := argStr(args, 0)
	if err != nil {
		return "", nil, err
	}
	if len(args) < 2 || args[1].Kind != wasmtime.CList {
		return "", nil, errArgs
	}
	params := make([]rdbms.Value, len(args[1].Elems))
	for i, e := range args[1].Elems {
		if params[i], err = liftParam(e); err != nil {
			return "", nil, fmt.Errorf("parameter %d: %w", i, err)
		}
	}
	return stmt, params, nil
}

func liftParam(e wasmtime.Val) (rdbms.Value, error) {
	if e.Kind != wasmtime.CVariant {
		return rdbms.Value{}, errArgs
	}
	k, ok := rdbms.KindNamed(e.Str)
	if !ok || k == rdbms.Unsupported || k == rdbms.Other {
		return rdbms.Value{}, fmt.Errorf("unknown parameter-value case %q", e.Str)
	}
	v := rdbms.Value{Kind: k}
	if k == rdbms.DbNull {
		return v, nil
	}
	p := e.Payload
	if p == nil {
		return v, errArgs
	}
	var err error
	switch k {
	case rdbms.Boolean:
		v.Bool = p.Num != 0
	case rdbms.Int8, rdbms.Int16, rdbms.Int32, rdbms.Int64, rdbms.Timestamp:
		v.Int = int64(p.Num)
	case rdbms.Uint8, rdbms.Uint16, rdbms.Uint32, rdbms.Uint64:
		v.Uint = p.Num
	case rdbms.Floating32:
		v.Float = float64(math.Float32frombits(uint32(p.Num)))
	case rdbms.Floating64:
		v.Float = p.F64()
	case rdbms.Str, rdbms.UUID, rdbms.Decimal:
		v.Str = p.Str
	case rdbms.Binary, rdbms.JSONB:
		v.Bytes, err = argBytes([]wasmtime.Val{*p}, 0)
	case rdbms.Date:
		v.Date, err = liftDate(p.Elems)
	case rdbms.Time:
		v.Time, err = liftTime(p.Elems)
	case rdbms.Datetime:
		if len(p.Elems) != 7 {
			return v, errArgs
		}
		if v.Date, err = liftDate(p.Elems[:3]); err == nil {
			v.Time, err = liftTime(p.Elems[3:])
		}
	case rdbms.RangeInt32, rdbms.RangeInt64, rdbms.RangeDecimal:
		if len(p.Elems) != 2 {
			return v, errArgs
		}
		if v.Lower, err = liftBound(p.Elems[0]); err == nil {
			v.Upper, err = liftBound(p.Elems[1])
		}
	case rdbms.ArrayInt32, rdbms.ArrayInt64, rdbms.ArrayDecimal, rdbms.ArrayStr:
		v.Array = make([]rdbms.Elem, len(p.Elems))
		for i, x := range p.Elems {
			if x.Payload == nil {
				v.Array[i].Null = true
				continue
			}
			v.Array[i] = rdbms.Elem{Int: int64(x.Payload.Num), Str: x.Payload.Str}
		}
	case rdbms.Interval:
		if len(p.Elems) != 3 {
			return v, errArgs
		}
		v.Interval = rdbms.IntervalValue{Micros: int64(p.Elems[0].Num), Days: int32(p.Elems[1].Num), Months: int32(p.Elems[2].Num)}
	}
	return v, err
}

func liftDate(e []wasmtime.Val) (rdbms.CalendarDate, error) {
	if len(e) != 3 {
		return rdbms.CalendarDate{}, errArgs
	}
	return rdbms.CalendarDate{Year: int32(e[0].Num), Month: uint8(e[1].Num), Day: uint8(e[2].Num)}, nil
}

func liftTime(e []wasmtime.Val) (rdbms.TimeOfDay, error) {
	if len(e) != 4 {
		return rdbms.TimeOfDay{}, errArgs
	}
	return rdbms.TimeOfDay{Hour: uint8(e[0].Num), Minute: uint8(e[1].Num), Second: uint8(e[2].Num), Nanosecond: uint32(e[3].Num)}, nil
}

// liftBound lifts option<tuple<T, range-bound-kind>>.
func liftBound(o wasmtime.Val) (*rdbms.Bound, error) {
	if o.Payload == nil {
		return nil, nil
	}
	t := o.Payload
	if len(t.Elems) != 2 {
		return nil, errArgs
	}
	return &rdbms.Bound{Int: int64(t.Elems[0].Num), Str: t.Elems[0].Str, Exclusive: t.Elems[1].Str == "exclusive"}, nil
}

// Lowering results.

func rowSetV(rs *rdbms.RowSet, ver rdbms.Version) wasmtime.Val {
	cols := wasmtime.Val{Kind: wasmtime.CList, Elems: make([]wasmtime.Val, len(rs.Columns))}
	for i, c := range rs.Columns {
		cols.Elems[i] = wasmtime.Val{Kind: wasmtime.CRecord, Names: []string{"name", "data-type"},
			Elems: []wasmtime.Val{wasmtime.Str(c.Name), dataTypeV(c.Type, ver)}}
	}
	rows := wasmtime.Val{Kind: wasmtime.CList, Elems: make([]wasmtime.Val, len(rs.Rows))}
	for i, r := range rs.Rows {
		row := wasmtime.Val{Kind: wasmtime.CList, Elems: make([]wasmtime.Val, len(r))}
		for j := range r {
			row.Elems[j] = dbValueV(&r[j], ver)
		}
		rows.Elems[i] = row
	}
	return wasmtime.Val{Kind: wasmtime.CRecord, Names: []string{"columns", "rows"}, Elems: []wasmtime.Val{cols, rows}}
}

// dataTypeV: an enum before 4.x, a variant (other carries the type name)
// in 4.x.
func dataTypeV(t rdbms.DataType, ver rdbms.Version) wasmtime.Val {
	if ver != rdbms.PG4 {
		return wasmtime.Enum(t.Kind.String())
	}
	if t.Kind == rdbms.Other {
		return wasmtime.Variant("other", ptr(wasmtime.Str(t.Name)))
	}
	return wasmtime.Variant(t.Kind.String(), nil)
}

func num(k wasmtime.CKind, n uint64) wasmtime.Val { return wasmtime.Val{Kind: k, Num: n} }

func dbValueV(v *rdbms.Value, ver rdbms.Version) wasmtime.Val {
	var p *wasmtime.Val
	switch v.Kind {
	case rdbms.Boolean:
		p = ptr(boolV(v.Bool))
	case rdbms.Int8:
		p = ptr(num(wasmtime.CS8, uint64(v.Int)))
	case rdbms.Int16:
		p = ptr(num(wasmtime.CS16, uint64(v.Int)))
	case rdbms.Int32:
		p = ptr(num(wasmtime.CS32, uint64(v.Int)))
	case rdbms.Int64, rdbms.Timestamp:
		p = ptr(num(wasmtime.CS64, uint64(v.Int)))
	case rdbms.Uint8:
		p = ptr(num(wasmtime.CU8, v.Uint))
	case rdbms.Uint16:
		p = ptr(num(wasmtime.CU16, v.Uint))
	case rdbms.Uint32:
		p = ptr(num(wasmtime.CU32, v.Uint))
	case rdbms.Uint64:
		p = ptr(num(wasmtime.CU64, v.Uint))
	case rdbms.Floating32:
		p = ptr(num(wasmtime.CF32, uint64(math.Float32bits(float32(v.Float)))))
	case rdbms.Floating64:
		p = ptr(num(wasmtime.CF64, math.Float64bits(v.Float)))
	case rdbms.Str, rdbms.UUID, rdbms.Decimal:
		p = ptr(wasmtime.Str(v.Str))
	case rdbms.Binary, rdbms.JSONB:
		p = ptr(bytesV(v.Bytes))
	case rdbms.Date:
		p = ptr(tupleV(dateVals(v.Date)...))
	case rdbms.Time:
		p = ptr(tupleV(timeVals(v.Time)...))
	case rdbms.Datetime:
		p = ptr(tupleV(append(dateVals(v.Date), timeVals(v.Time)...)...))
	case rdbms.RangeInt32, rdbms.RangeInt64, rdbms.RangeDecimal:
		p = ptr(tupleV(boundV(v.Lower, v.Kind), boundV(v.Upper, v.Kind)))
	case rdbms.ArrayInt32, rdbms.ArrayInt64, rdbms.ArrayDecimal, rdbms.ArrayStr:
		l := wasmtime.Val{Kind: wasmtime.CList, Elems: make([]wasmtime.Val, len(v.Array))}
		for i, e := range v.Array {
			switch {
			case e.Null:
				l.Elems[i] = wasmtime.None()
			case v.Kind == rdbms.ArrayInt32:
				l.Elems[i] = wasmtime.Some(num(wasmtime.CS32, uint64(e.Int)))
			case v.Kind == rdbms.ArrayInt64:
				l.Elems[i] = wasmtime.Some(num(wasmtime.CS64, uint64(e.Int)))
			default:
				l.Elems[i] = wasmtime.Some(wasmtime.Str(e.Str))
			}
		}
		p = &l
	case rdbms.Interval:
		p = &wasmtime.Val{Kind: wasmtime.CRecord, Names: []string{"micros", "days", "months"},
			Elems: []wasmtime.Val{num(wasmtime.CS64, uint64(v.Interval.Micros)),
				num(wasmtime.CS32, uint64(int64(v.Interval.Days))), num(wasmtime.CS32, uint64(int64(v.Interval.Months)))}}
	case rdbms.Unsupported:
		if ver == rdbms.PG4 {
			p = ptr(bytesV(v.Bytes))
		}
	}
	return wasmtime.Variant(v.Kind.String(), p)
}

func tupleV(e ...wasmtime.Val) wasmtime.Val { return wasmtime.Val{Kind: wasmtime.CTuple, Elems: e} }

func dateVals(d rdbms.CalendarDate) []wasmtime.Val {
	return []wasmtime.Val{num(wasmtime.CS32, uint64(int64(d.Year))), wasmtime.U8(d.Month), wasmtime.U8(d.Day)}
}

func timeVals(t rdbms.TimeOfDay) []wasmtime.Val {
	return []wasmtime.Val{wasmtime.U8(t.Hour), wasmtime.U8(t.Minute), wasmtime.U8(t.Second), wasmtime.U32(t.Nanosecond)}
}

func boundV(b *rdbms.Bound, k rdbms.Kind) wasmtime.Val {
	if b == nil {
		return wasmtime.None()
	}
	var x wasmtime.Val
	switch k {
	case rdbms.RangeInt32:
		x = num(wasmtime.CS32, uint64(b.Int))
	case rdbms.RangeInt64:
		x = num(wasmtime.CS64, uint64(b.Int))
	default:
		x = wasmtime.Str(b.Str)
	}
	kind := "inclusive"
	if b.Exclusive {
		kind = "exclusive"
	}
	return wasmtime.Some(tupleV(x, wasmtime.Enum(kind)))
}

// dropRDBMS drops a database resource of type ty (false: not one).
func dropRDBMS(st *Instance, ty, rep uint32) bool {
	switch {
	case ty == resPGConn && st.pg != nil:
		st.pg.Drop(rep)
	case ty == resPGBuilder && st.pg != nil:
		st.pg.DropBuilder(rep)
	case ty == resMySQLConn && st.mysql != nil:
		st.mysql.Drop(rep)
	default:
		return false
	}
	return true
}

// providesRDBMS reports whether module is a database interface and whether
// its service is configured.
func (s *Services) providesRDBMS(module string) (isDB, ok bool) {
	switch module {
	case modPG, modPG2, modPG3, modPG40, modPG41, modPG42:
		return true, s.Postgres != nil
	case modMySQL, modMySQL2:
		return true, s.MySQL != nil
	}
	return false, false
}
