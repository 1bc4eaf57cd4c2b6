// js-platform's own commands, appended to the shared guest (../js/guest.js, whose handler the
// build renames to baseInboundRedis), followed by rdbms.js and mqtt.js.
// `sql:<version>:<db>|<statement>|$<param>|...|<statement>|...` is the c-sqlite guest's
// command (../c-sqlite/c-sqlite.c), with the same output: version 1 is the unversioned
// fermyon:spin/sqlite, 2 fermyon:spin/sqlite@2.0.0, 3 spin:sqlite/sqlite@3.0.0 (3.1.0 would
// bring its async functions into the component's imports). Every statement runs on one
// connection, printing "cols:a,b", then "i:1 r:1.5 t:x b:00ff n" per row, and with version 3
// "rowid:<n> changes:<n>"; an error prints "<step>: <case>[: <message>]" on stderr and fails
// the message. `sqlclosed:` executes on a closed connection.
import { open, execute, close } from "fermyon:spin/sqlite";
import { Connection as Sqlite2 } from "fermyon:spin/sqlite@2.0.0";
import { Connection as Sqlite3 } from "spin:sqlite/sqlite@3.0.0";

function param(p) {
  const v = p.slice(2);
  switch (p[0]) {
    case "i": return { tag: "integer", val: BigInt(v) };
    case "r": return { tag: "real", val: Number(v) };
    case "t": return { tag: "text", val: v };
    case "b": return { tag: "blob", val: Uint8Array.from(v.match(/../g) ?? [], (h) => parseInt(h, 16)) };
    default: return { tag: "null" };
  }
}

function show(v) {
  switch (v.tag) {
    case "integer": return `i:${v.val}`;
    case "real": return `r:${g17(v.val)}`;
    case "text": return `t:${v.val}`;
    case "blob": return `b:${Array.from(v.val, (x) => x.toString(16).padStart(2, "0")).join("")}`;
    default: return "n";
  }
}

// g17 formats a double as C's printf("%.17g").
function g17(x) {
  const [m, e] = x.toExponential(16).split("e");
  const exp = Number(e);
  const strip = (t) => (t.includes(".") ? t.replace(/0+$/, "").replace(/\.$/, "") : t);
  if (exp < -4 || exp >= 17) return `${strip(m)}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  return strip(x.toFixed(16 - exp));
}

function fail(step, e) {
  const err = e?.payload ?? e;
  console.error(err?.tag ? `${step}: ${err.tag}${err.val !== undefined ? `: ${err.val}` : ""}` : `${step}: ${e}`);
  throw "error";
}

// The connection of each version: open(label), execute(statement, params), close(), and
// for 3.0.0 the "rowid:<n> changes:<n>" line.
const VERSIONS = {
  1: (label) => {
    const h = open(label);
    return { execute: (s, p) => execute(h, s, p), close: () => close(h) };
  },
  2: (label) => {
    const c = Sqlite2.open(label);
    return { execute: (s, p) => c.execute(s, p), close: () => c[Symbol.dispose ?? Symbol.for("dispose")]?.() };
  },
  3: (label) => {
    const c = Sqlite3.open(label);
    return {
      execute: (s, p) => c.execute(s, p),
      after: () => console.log(`rowid:${c.lastInsertRowid()} changes:${c.changes()}`),
      close: () => c[Symbol.dispose ?? Symbol.for("dispose")]?.(),
    };
  },
};

function sql(arg) {
  const colon = arg.indexOf(":");
  const openVersion = VERSIONS[arg.slice(0, colon)];
  if (colon < 0 || !openVersion) unsupported("sql");
  const fields = arg.slice(colon + 1).split("|");
  let conn;
  try {
    conn = openVersion(fields[0]);
  } catch (e) {
    fail("open", e);
  }
  try {
    let i = 1;
    while (i < fields.length) {
      const stmt = fields[i++];
      const params = [];
      while (i < fields.length && fields[i].startsWith("$")) params.push(param(fields[i++].slice(1)));
      let r;
      try {
        r = conn.execute(stmt, params);
      } catch (e) {
        fail("execute", e);
      }
      console.log(`cols:${r.columns.join(",")}`);
      for (const row of r.rows) console.log(row.values.map(show).join(" "));
      conn.after?.();
    }
  } finally {
    conn.close();
  }
}

// sqlclosed: execute on a closed connection (invalid-connection).
function sqlClosed() {
  let conn;
  try {
    conn = open("default");
  } catch (e) {
    fail("open", e);
  }
  close(conn);
  try {
    execute(conn, "SELECT 1", []);
  } catch (e) {
    fail("execute", e);
  }
}

// platformCommands maps a command to its function (of the text after "<command>:"); the
// files appended after this one (rdbms.js, mqtt.js) add theirs. Other payloads go to the
// shared guest.
const platformCommands = { sql, sqlclosed: sqlClosed };

export const inboundRedis = {
  handleMessage(payload) {
    const text = new TextDecoder().decode(payload);
    const colon = text.indexOf(":");
    const cmd = colon < 0 ? undefined : platformCommands[text.slice(0, colon)];
    if (cmd) return cmd(text.slice(colon + 1));
    return baseInboundRedis.handleMessage(payload);
  },
};
