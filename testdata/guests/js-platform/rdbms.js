// js-platform's PostgreSQL and MySQL commands (appended after sqlite.js), printing as the C
// rdbms guest does (../rdbms/rdbms.c) so that the Go tests share its expected output. Each
// "<cmd>:<address>" command opens the address, (re)creates a table, inserts one row with a
// parameter of every value type of that interface version, reads it back and prints
// "columns <name>:<type>..." and one "<case> <value>" line per value; a failure prints
// "err <case> <message>" and fails the message.
//   pg4 pg3 pg2 pg1   spin:postgres/postgres@4.1.0, @3.0.0, fermyon:spin/postgres@2.0.0, unversioned
//   my2 my1           fermyon:spin/mysql@2.0.0, unversioned
// pg1 and my1 read the table pg2 and my2 wrote ("SELECT * FROM guest2"); pg1w and my1w
// write and read it through the unversioned execute and query themselves. The tables and
// the output are the C guest's: the Go tests run the same cases on both.
//   pgerr:<address>  the error variants the host gives each version (printed, not failed):
//                    4.x query-failed(db-error) and bad-parameter, 3.0.0 query-failed(text),
//                    2.0.0 unsigned value-conversion-failed
//   myerr:<address>  MySQL's, 2.0.0 and unversioned
//   pgtls:<address>|<PEM>  a 4.1 connection-builder with set-ca-root (when PEM is not empty);
//                    prints "ssl true" or "ssl false" for the connection
import { Connection as Pg4, ConnectionBuilder } from "spin:postgres/postgres@4.1.0";
import { Connection as Pg3 } from "spin:postgres/postgres@3.0.0";
import { Connection as Pg2 } from "fermyon:spin/postgres@2.0.0";
import { Connection as My2 } from "fermyon:spin/mysql@2.0.0";
import * as pg1 from "fermyon:spin/postgres";
import * as my1 from "fermyon:spin/mysql";

const DISPOSE = Symbol.dispose ?? Symbol.for("dispose");

// RdbmsError carries an error variant out of a command.
class RdbmsError extends Error {}

// guard(f) runs f, turning a thrown error variant into an RdbmsError with its line.
function guard(f) {
  try {
    return f();
  } catch (e) {
    const v = e?.payload ?? e;
    if (!v?.tag) throw e;
    if (v.tag === "query-failed" && v.val?.tag === "db-error") {
      const d = v.val.val;
      throw new RdbmsError(`err query-failed db-error ${d.code} ${d.message} detail=${d.detail === undefined ? "none" : "some"} ` +
        `extras=${d.extras.length}`);
    }
    if (v.tag === "query-failed" && v.val?.tag === "text") throw new RdbmsError(`err query-failed text ${v.val.val}`);
    throw new RdbmsError(v.val === undefined ? `err ${v.tag}` : `err ${v.tag} ${v.val}`);
  }
}

const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const pad9 = (n) => String(n).padStart(9, "0");
const orNull = (x) => (x === undefined ? "null" : x);
const bound = (b, lower) => {
  if (b === undefined) return "_";
  const excl = b[1] === "exclusive";
  return lower ? `${excl ? "(" : "["}${b[0]}` : `${b[0]}${excl ? ")" : "]"}`;
};

function valueText(v) {
  switch (v.tag) {
    case "boolean": return ` ${v.val}`;
    case "binary": return ` ${hex(v.val)}`;
    case "unsupported": return v.val === undefined ? "" : ` ${hex(v.val)}`;
    case "jsonb": return ` ${new TextDecoder().decode(v.val)}`;
    case "range-int32":
    case "range-int64":
    case "range-decimal":
      return ` ${bound(v.val[0], true)},${bound(v.val[1], false)}`;
    case "array-int32":
    case "array-int64":
    case "array-decimal":
    case "array-str":
      return ` [${v.val.map(orNull).join(",")}]`;
    case "interval": return ` ${v.val.micros}us ${v.val.days}d ${v.val.months}m`;
    case "date": return ` ${v.val[0]}-${v.val[1]}-${v.val[2]}`;
    case "time": return ` ${v.val[0]}:${v.val[1]}:${v.val[2]}.${pad9(v.val[3])}`;
    case "datetime": {
      const [y, mo, d, h, mi, s, ns] = v.val;
      return ` ${y}-${mo}-${d} ${h}:${mi}:${s}.${pad9(ns)}`;
    }
    case "db-null": return "";
    default: return ` ${v.val}`;
  }
}

function printRows(rs) {
  // 2.0.0 and 3.0.0 column types are enums (strings), 4.x a variant.
  const type = (t) => (typeof t === "string" ? t : t.tag === "other" ? `other(${t.val})` : t.tag);
  console.log(`columns ${rs.columns.map((c) => `${c.name}:${type(c.dataType)}`).join(" ")}\nrows ${rs.rows.length}`);
  for (const row of rs.rows) for (const v of row) console.log(`${v.tag}${valueText(v)}`);
}

const p = (tag, val) => (val === undefined ? { tag } : { tag, val });

// The parameters of every type PostgreSQL takes in 2.0.0 (3.0.0 adds dates, 4.x the rest).
function pgParams(v3, v4) {
  const ps = [p("boolean", true), p("int16", -32768), p("int32", -7), p("int64", -9223372036854775808n),
    p("floating32", 1.5), p("floating64", -2.25), p("str", "héllo"), p("binary", Uint8Array.of(1, 255))];
  if (v3) ps.push(p("date", [2024, 2, 29]), p("time", [23, 59, 58, 123456000]), p("datetime", [1999, 12, 31, 1, 2, 3, 4000]),
    p("timestamp", 90061n));
  if (v4) ps.push(p("uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), p("jsonb", new TextEncoder().encode('{"b": [1, 2.50], "a": null}')),
    p("decimal", "-123.4500"), p("range-int32", [[1, "inclusive"], [5, "inclusive"]]),
    p("range-int64", [undefined, [1n << 40n, "exclusive"]]), p("range-decimal", [["1.5", "inclusive"], ["2.25", "exclusive"]]),
    p("array-int32", [1, undefined, -3]), p("array-int64", [1n << 50n]), p("array-decimal", ["0.1", undefined]),
    p("array-str", ["a", undefined, "b"]), p("interval", { micros: 1500000n, days: -2, months: 14 }));
  ps.push(p("db-null"));
  return ps;
}

const myParams = () => [p("int8", -128), p("uint8", 255), p("int16", -32768), p("uint16", 65535), p("int32", -2147483648),
  p("uint32", 4294967295), p("int64", -9223372036854775808n), p("uint64", 18446744073709551615n), p("floating32", 1.5),
  p("floating64", -2.25), p("str", "héllo"), p("binary", Uint8Array.of(1, 255)), p("db-null")];

const TABLES = {
  pg4: ["DROP TABLE IF EXISTS guest4; CREATE TABLE guest4 (b bool, i16 int2, i32 int4, i64 int8, f32 float4, " +
    "f64 float8, s text, bin bytea, d date, t time, dt timestamp, ts timestamptz, u uuid, j jsonb, n numeric, " +
    "r4 int4range, r8 int8range, rn numrange, a4 int4[], a8 int8[], an numeric[], a text[], iv interval, nul text, ip inet)",
  "INSERT INTO guest4 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24," +
    "'10.0.0.1')", "SELECT * FROM guest4"],
  pg3: ["DROP TABLE IF EXISTS guest3; CREATE TABLE guest3 (b bool, i16 int2, i32 int4, i64 int8, f32 float4, " +
    "f64 float8, s text, bin bytea, d date, t time, dt timestamp, ts timestamptz, nul text, u uuid)",
  "INSERT INTO guest3 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,gen_random_uuid())", "SELECT * FROM guest3"],
  pg2: ["DROP TABLE IF EXISTS guest2; CREATE TABLE guest2 (b bool, i16 int2, i32 int4, i64 int8, f32 float4, " +
    "f64 float8, s text, bin bytea, nul text, d date)",
  "INSERT INTO guest2 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,'2024-01-02')", "SELECT * FROM guest2"],
  my2: ["CREATE OR REPLACE TABLE guest2 (i8 TINYINT, u8 TINYINT UNSIGNED, i16 SMALLINT, u16 SMALLINT UNSIGNED, " +
    "i32 INT, u32 INT UNSIGNED, i64 BIGINT, u64 BIGINT UNSIGNED, f32 FLOAT, f64 DOUBLE, s VARCHAR(20), " +
    "bin VARBINARY(8), nul TEXT)", "INSERT INTO guest2 VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", "SELECT * FROM guest2"],
};

// roundTrip: create, insert, select on one connection of the resource versions.
function roundTrip(cmd, Conn, params, address) {
  const [create, insert, select] = TABLES[cmd];
  const conn = guard(() => Conn.open(address));
  try {
    const n = guard(() => conn.execute(create, []));
    if (n !== undefined) console.log(`affected ${n}`);
    const m = guard(() => conn.execute(insert, params));
    if (m !== undefined) console.log(`affected ${m}`);
    printRows(guard(() => conn.query(select, [])));
  } finally {
    conn[DISPOSE]?.();
  }
}

// legacy: the unversioned interface, whose calls each take the address.
function legacy(mod, address, write) {
  const [create, insert, select] = TABLES[mod === pg1 ? "pg2" : "my2"];
  if (write) {
    for (const [stmt, params] of [[create, []], [insert, mod === pg1 ? pgParams(false, false) : myParams()]]) {
      const n = guard(() => mod.execute(address, stmt, params));
      if (n !== undefined) console.log(`affected ${n}`);
    }
  }
  printRows(guard(() => mod.query(address, select, [])));
}

// errors runs each call and prints the error it gets ("err <case> <message>") or "ok".
function errors(calls) {
  for (const f of calls) {
    try {
      guard(f);
      console.log("ok");
    } catch (e) {
      if (!(e instanceof RdbmsError)) throw e;
      console.log(e.message);
    }
  }
}

function withConn(Conn, address, f) {
  return () => {
    const c = Conn.open(address);
    try {
      return f(c);
    } finally {
      c[DISPOSE]?.();
    }
  };
}

const NO_TABLE = "SELECT * FROM no_such_table";

function rdbms(f) {
  return (arg) => {
    try {
      return f(arg);
    } catch (e) {
      if (!(e instanceof RdbmsError)) throw e;
      console.log(e.message);
      throw "error";
    }
  };
}

// tls: a 4.1 connection-builder, with set-ca-root when pem is not empty.
function tls(arg) {
  const bar = arg.indexOf("|");
  const [address, pem] = bar < 0 ? [arg, ""] : [arg.slice(0, bar), arg.slice(bar + 1)];
  const b = new ConnectionBuilder(address);
  try {
    if (pem) guard(() => b.setCaRoot(pem));
    const c = guard(() => b.build());
    try {
      const rs = guard(() => c.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", []));
      console.log(`ssl ${rs.rows[0][0].val}`);
    } finally {
      c[DISPOSE]?.();
    }
  } finally {
    b[DISPOSE]?.();
  }
}

Object.assign(platformCommands, {
  pg4: rdbms((a) => roundTrip("pg4", Pg4, pgParams(true, true), a)),
  pg3: rdbms((a) => roundTrip("pg3", Pg3, pgParams(true, false), a)),
  pg2: rdbms((a) => roundTrip("pg2", Pg2, pgParams(false, false), a)),
  my2: rdbms((a) => roundTrip("my2", My2, myParams(), a)),
  pg1: rdbms((a) => legacy(pg1, a, false)),
  my1: rdbms((a) => legacy(my1, a, false)),
  pg1w: rdbms((a) => legacy(pg1, a, true)),
  my1w: rdbms((a) => legacy(my1, a, true)),
  pgtls: rdbms(tls),
  pgerr: (a) => errors([
    withConn(Pg4, a, (c) => c.query(NO_TABLE, [])),
    withConn(Pg4, a, (c) => c.query("SELECT $1::uuid", [p("uuid", "not-a-uuid")])),
    withConn(Pg3, a, (c) => c.query(NO_TABLE, [])),
    withConn(Pg2, a, (c) => c.query("SELECT $1", [p("uint8", 1)])),
  ]),
  myerr: (a) => errors([
    withConn(My2, a, (c) => c.query(NO_TABLE, [])),
    withConn(My2, a, (c) => c.execute("INSERT INTO no_such_table VALUES (?)", [p("int8", 1)])),
    () => my1.query(a, NO_TABLE, []),
    () => my1.execute(a, "SELEC 1", []),
  ]),
});
