// js-platform's own commands, appended to the shared guest (../js/guest.js, whose handler the
// build renames to baseInboundRedis), followed by rdbms.js and mqtt.js.
// `sql:<db>|<statement>|$<param>|...|<statement>|...` runs statements on one
// fermyon:spin/sqlite connection, printing as the c-sqlite guest does ("cols:a,b", then "i:1 r:1.5 t:x b:00ff n" per row); an error prints
// "<step>: <case>[: <message>]" on stderr and fails the message. `sqlclosed:` executes on a
// closed connection.
import { open, execute, close } from "fermyon:spin/sqlite";

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
    case "real": return `r:${v.val}`;
    case "text": return `t:${v.val}`;
    case "blob": return `b:${Array.from(v.val, (x) => x.toString(16).padStart(2, "0")).join("")}`;
    default: return "n";
  }
}

function fail(step, e) {
  const err = e?.payload ?? e;
  console.error(err?.tag ? `${step}: ${err.tag}${err.val !== undefined ? `: ${err.val}` : ""}` : `${step}: ${e}`);
  throw "error";
}

function sql(arg) {
  const fields = arg.split("|");
  let conn;
  try {
    conn = open(fields[0]);
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
        r = execute(conn, stmt, params);
      } catch (e) {
        fail("execute", e);
      }
      console.log(`cols:${r.columns.join(",")}`);
      for (const row of r.rows) console.log(row.values.map(show).join(" "));
    }
  } finally {
    close(conn);
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
