// In-memory stand-ins for the Spin host interfaces, for smoke-testing the c-host guest
// under `jco transpile` in Node (scripts/build-guests.sh maps each interface here with
// --map). Not a host: just enough behaviour to show that the guest's hand-written
// canonical ABI round-trips every argument and result shape.
const te = new TextEncoder(), td = new TextDecoder();
const data = new Map(); // key -> Uint8Array | Set<string>
const ok = (val) => ({ tag: "ok", val });
const err = (val) => ({ tag: "err", val });
const valid = (addr) => addr.startsWith("redis://");

function exec(command, args) {
  const a = args.map((p) => (p.tag === "int64" ? String(p.val) : td.decode(p.val)));
  switch (command.toUpperCase()) {
    case "PING": return [{ tag: "status", val: "PONG" }];
    case "ECHO": return [{ tag: "binary", val: te.encode(a[0] ?? "") }];
    case "GET": return [data.has(a[0]) ? { tag: "binary", val: data.get(a[0]) } : { tag: "nil" }];
    case "INCRBY": { const n = BigInt(td.decode(data.get(a[0]) ?? te.encode("0"))) + BigInt(a[1]); data.set(a[0], te.encode(String(n))); return [{ tag: "int64", val: n }]; }
    case "MGET": return a.map((k) => (data.has(k) ? { tag: "binary", val: data.get(k) } : { tag: "nil" }));
    default: return null;
  }
}
const incr = (key) => { const n = BigInt(td.decode(data.get(key) ?? te.encode("0"))) + 1n; data.set(key, te.encode(String(n))); return n; };
const del = (keys) => keys.filter((k) => data.delete(k)).length;
const set = (key) => { if (!data.has(key)) data.set(key, new Set()); const s = data.get(key); return s instanceof Set ? s : null; };
const sadd = (key, vals) => { const s = set(key); if (!s) return null; const n = vals.filter((v) => !s.has(v)).length; vals.forEach((v) => s.add(v)); return n; };
const srem = (key, vals) => { const s = set(key); if (!s) return null; return vals.filter((v) => s.delete(v)).length; };
const smembers = (key) => [...(data.get(key) instanceof Set ? data.get(key) : [])].sort();

export const redis2 = {
  Connection: class Connection {
    static open(address) { return valid(address) ? ok(new Connection()) : err({ tag: "invalid-address" }); }
    publish(channel, payload) { console.error(`[stub] publish ${channel} ${td.decode(payload)}`); }
    get(key) { const v = data.get(key); return v instanceof Uint8Array ? v : undefined; }
    set(key, value) { data.set(key, value); }
    incr(key) { return incr(key); }
    del(keys) { return del(keys); }
    sadd(key, values) { const n = sadd(key, values); return n === null ? err({ tag: "type-error" }) : ok(n); }
    smembers(key) { return smembers(key); }
    srem(key, values) { const n = srem(key, values); return n === null ? err({ tag: "type-error" }) : ok(n); }
    execute(command, args) { const r = exec(command, args); return r ? ok(r) : err({ tag: "other", val: `unknown command ${command}` }); }
  },
};

const legacy = (fn) => (address, ...rest) => (valid(address) ? ok(fn(...rest)) : err("error"));
export const redis1 = {
  publish: legacy((channel, payload) => console.error(`[stub] publish ${channel} ${td.decode(payload)}`)),
  get: legacy((key) => (data.get(key) instanceof Uint8Array ? data.get(key) : new Uint8Array())),
  set: legacy((key, value) => { data.set(key, value); }),
  incr: legacy(incr),
  del: legacy((keys) => BigInt(del(keys))),
  sadd: legacy((key, values) => BigInt(sadd(key, values))),
  smembers: legacy(smembers),
  srem: legacy((key, values) => BigInt(srem(key, values))),
  execute: (address, command, args) => { const r = valid(address) && exec(command, args); return r ? ok(r) : err("error"); },
};

const vars = { greeting: "hello", answer: "42" };
export const variables = { get: (name) => (name in vars ? ok(vars[name]) : err({ tag: "undefined", val: `no variable ${name}` })) };
export const config = { getConfig: (key) => (key in vars ? ok(vars[key]) : err({ tag: "invalid-key", val: key })) };
export const wasiConfig = {
  get: (key) => ok(vars[key]),
  getAll: () => ok(Object.entries(vars)),
};

const stores = new Map([["default", new Map()]]);
const opened = new Map();
let nextHandle = 1;
export const kv2 = {
  Store: class Store {
    static open(label) {
      if (!stores.has(label)) return err({ tag: "access-denied" });
      const s = new Store(); s.m = stores.get(label); return ok(s);
    }
    get(key) { return this.m.get(key); }
    set(key, value) { this.m.set(key, value); }
    delete(key) { this.m.delete(key); }
    exists(key) { return this.m.has(key); }
    getKeys() { return [...this.m.keys()].sort(); }
  },
};
export const kv1 = {
  open: (name) => { if (!stores.has(name)) return err({ tag: "access-denied" }); opened.set(nextHandle, stores.get(name)); return ok(nextHandle++); },
  get: (h, key) => (opened.get(h)?.has(key) ? ok(opened.get(h).get(key)) : err({ tag: "no-such-key" })),
  set: (h, key, value) => { opened.get(h).set(key, value); return ok(undefined); },
  delete: (h, key) => { opened.get(h).delete(key); return ok(undefined); },
  exists: (h, key) => ok(opened.get(h).has(key)),
  getKeys: (h) => ok([...opened.get(h).keys()].sort()),
  close: (h) => { opened.delete(h); },
};
