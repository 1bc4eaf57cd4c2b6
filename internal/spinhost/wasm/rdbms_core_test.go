package wasm

import (
	"context"
	"reflect"
	"testing"

	"github.com/redspin/redspin/internal/spinhost/rdbms"
	"github.com/redspin/redspin/internal/testutil/dbserver"
	"github.com/redspin/redspin/internal/wasmtime"
)

// goMem is a guest memory in Go with a bump allocator from 4096.
func goMem() *guestMem {
	mem := make([]byte, 1<<20)
	next := uint32(4096)
	return &guestMem{mem: func() []byte { return mem }, realloc: func(_, _, align, size uint32) (uint32, error) {
		p := alignTo(next, align)
		next = p + size
		return p, nil
	}}
}

func TestABILayouts(t *testing.T) {
	for _, c := range []struct {
		name        string
		t           *abiType
		size, align uint32
	}{
		{"2.0.0 db-value", valueT(rdbms.V2, true), 16, 8},
		{"3.0.0 db-value", valueT(rdbms.PG3, true), 24, 8},
		{"4.x db-value", valueT(rdbms.PG4, true), 56, 8},
		{"2.0.0 row-set", rowSetT(rdbms.V2), 16, 4},
		{"column (enum type)", rowSetT(rdbms.V2).fields[0].elem, 12, 4},
		{"4.x column (variant type)", rowSetT(rdbms.PG4).fields[0].elem, 20, 4},
		{"result<u64, error>", tResult(tU64, flavPG2.errT()), 24, 8},
		{"4.x error", flavPG4.errT(), 60, 4},
	} {
		if s, a := c.t.size(), c.t.align(); s != c.size || a != c.align {
			t.Errorf("%s: size %d align %d, want %d %d", c.name, s, a, c.size, c.align)
		}
	}
}

// TestABIRoundTrip stores every 4.x value and reads it back.
func TestABIRoundTrip(t *testing.T) {
	g := goMem()
	vt := valueT(rdbms.PG4, true)
	lo, hi := &rdbms.Bound{Int: -5}, &rdbms.Bound{Str: "x", Int: 9, Exclusive: true}
	for _, v := range []rdbms.Value{
		{Kind: rdbms.Boolean, Bool: true}, {Kind: rdbms.Int8, Int: -3}, {Kind: rdbms.Int64, Int: -1 << 60},
		{Kind: rdbms.Floating32, Float: 1.5}, {Kind: rdbms.Str, Str: "s"}, {Kind: rdbms.Binary, Bytes: []byte{1, 2}},
		{Kind: rdbms.Datetime, Date: rdbms.CalendarDate{Year: -44, Month: 3, Day: 15}, Time: rdbms.TimeOfDay{Hour: 1, Nanosecond: 7}},
		{Kind: rdbms.RangeInt64, Lower: lo, Upper: nil}, {Kind: rdbms.ArrayStr, Array: []rdbms.Elem{{Str: "a"}, {Null: true}}},
		{Kind: rdbms.Interval, Interval: rdbms.IntervalValue{Micros: -1, Days: 2, Months: -3}}, {Kind: rdbms.RangeInt32, Lower: nil, Upper: hi},
		{Kind: rdbms.Unsupported, Bytes: []byte{9}}, rdbms.Null,
	} {
		want := dbValueV(&v, rdbms.PG4)
		if err := g.store(64, vt, want); err != nil {
			t.Fatalf("%s: store: %v", v.Kind, err)
		}
		got, err := g.load(64, vt)
		if err != nil {
			t.Fatalf("%s: load: %v", v.Kind, err)
		}
		back, err := liftParam(got)
		if v.Kind == rdbms.Unsupported {
			continue // not a parameter case
		}
		if err != nil {
			t.Fatalf("%s: lift: %v", v.Kind, err)
		}
		if v.Kind == rdbms.RangeInt32 { // the lowered bound keeps only the int
			hi2 := *hi
			hi2.Str = ""
			v.Upper = &hi2
		}
		if !reflect.DeepEqual(back, v) {
			t.Errorf("%s: round trip %+v, want %+v", v.Kind, back, v)
		}
	}
}

// TestCorePostgresAndMySQL calls the core-module functions with a Go
// memory against the real servers.
func TestCorePostgresAndMySQL(t *testing.T) {
	pgSrv, mySrv := dbserver.Postgres(t), dbserver.MariaDB(t)
	st := dbServices(t).NewInstance(context.Background())
	defer st.Close()
	g := goMem()
	str := func(at uint32, s string) (uint64, uint64) {
		if err := g.putBytes(at, []byte(s)); err != nil {
			t.Fatal(err)
		}
		p, _ := g.u32(at)
		return uint64(p), uint64(len(s))
	}
	callCore := func(iface, fn string, args ...uint64) {
		t.Helper()
		ci, ok := coreImports[iface][fn]
		if !ok || ci.nparams != len(args) {
			t.Fatalf("%s#%s: %v, %d params for %d", iface, fn, ok, ci.nparams, len(args))
		}
		if err := ci.fn(&coreCall{ctx: context.Background(), st: st, g: g, a: args}); err != nil {
			t.Fatalf("%s#%s: %v", iface, fn, err)
		}
	}
	const ret = 512
	for _, c := range []struct {
		iface, addr, create, insert string
		flav                        rdbFlavour
	}{
		{modPG2, pgSrv.URL("postgres"), "DROP TABLE IF EXISTS core_t; CREATE TABLE core_t (i int8, s text)", "INSERT INTO core_t VALUES ($1, $2)", flavPG2},
		{modPG3, pgSrv.URL("postgres"), "DROP TABLE IF EXISTS core_t; CREATE TABLE core_t (i int8, s text)", "INSERT INTO core_t VALUES ($1, $2)", flavPG3},
		{modPG42, pgSrv.URL("postgres"), "DROP TABLE IF EXISTS core_t; CREATE TABLE core_t (i int8, s text)", "INSERT INTO core_t VALUES ($1, $2)", flavPG4},
		{modMySQL2, mySrv.MySQLURL("spin"), "CREATE OR REPLACE TABLE core_t (i BIGINT, s TEXT)", "INSERT INTO core_t VALUES (?, ?)", flavMySQL2},
	} {
		ap, al := str(100, c.addr)
		callCore(c.iface, "[static]connection.open", ap, al, ret)
		v, err := g.load(ret, tResult(tU32, c.flav.errT()))
		if err != nil || !v.Ok {
			t.Fatalf("%s open: %+v %v", c.iface, v.Payload, err)
		}
		h := v.Payload.Num
		exec := func(stmt string, ps ...wasmtime.Val) {
			t.Helper()
			sp, sl := str(108, stmt)
			list := wasmtime.Val{Kind: wasmtime.CList, Elems: ps}
			if err := g.store(116, tList(valueT(c.flav.ver, false)), list); err != nil {
				t.Fatal(err)
			}
			lp, _ := g.u32(116)
			callCore(c.iface, "[method]connection.execute", h, sp, sl, uint64(lp), uint64(len(ps)), ret)
			if b, _ := g.slice(ret, 1); b[0] != 0 {
				t.Fatalf("%s %s failed", c.iface, stmt)
			}
		}
		exec(c.create)
		exec(c.insert, param("int64", ptr(wasmtime.S64(-42))), param("str", ptr(wasmtime.Str("core"))))
		sp, sl := str(108, "SELECT i, s FROM core_t")
		callCore(c.iface, "[method]connection.query", h, sp, sl, 0, 0, ret)
		res, err := g.load(ret, tResult(rowSetT(c.flav.ver), c.flav.errT()))
		if err != nil || !res.Ok {
			t.Fatalf("%s query: %+v %v", c.iface, res, err)
		}
		rows := res.Payload.Elems[1].Elems
		if len(rows) != 1 || int64(rows[0].Elems[0].Payload.Num) != -42 || rows[0].Elems[1].Payload.Str != "core" {
			t.Fatalf("%s rows %+v", c.iface, rows)
		}
		cols := res.Payload.Elems[0].Elems
		if cols[0].Elems[0].Str != "i" || cols[0].Elems[1].Str != "int64" {
			t.Fatalf("%s columns %+v", c.iface, cols)
		}
		callCore(c.iface, "[resource-drop]connection", h)
	}
	// Spin 1.x outbound-pg: the unversioned query, with pg-error's success case first.
	ap, al := str(100, "postgres://10.0.0.1/db")
	sp, sl := str(108, "SELECT 1")
	callCore(modPG, "query", ap, al, sp, sl, 0, 0, ret)
	res, err := g.load(ret, tResult(rowSetT(rdbms.V1), flavPG.errT()))
	if err != nil || res.Ok || res.Payload.Str != "connection-failed" || res.Payload.Payload.Str != "address postgres://10.0.0.1:5432 is not permitted" {
		t.Fatalf("denied legacy query: %+v %v", res.Payload, err)
	}
	if spin1Modules["outbound-pg"] != modPG || spin1Modules["outbound-mysql"] != modMySQL {
		t.Fatal("Spin 1.x names not mapped")
	}
	if st.pg.Len() != 0 || st.mysql.Len() != 0 {
		t.Fatalf("connections left open: pg %d mysql %d", st.pg.Len(), st.mysql.Len())
	}
}
