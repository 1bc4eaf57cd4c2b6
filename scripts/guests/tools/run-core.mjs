// Calls the Redis handler of a core module once in Node (node:wasi for WASI preview1),
// for both core shapes: canonical ABI (fermyon:spin/inbound-redis#handle-message +
// cabi_realloc) and Spin 1.x (handle-redis-message + canonical_abi_realloc). The Spin 1.x
// imports (outbound-redis, spin-config) are stubs that log their arguments and answer
// from a small in-memory map, so the guest's ABI can be checked without a host.
// usage: node --no-warnings run-core.mjs module.wasm "payload" [ok|err|trap]
import { readFileSync } from "node:fs";
import { WASI } from "node:wasi";

const [file, msg = "hello", expect] = process.argv.slice(2);
const mod = new WebAssembly.Module(readFileSync(file));
const wasi = new WASI({ version: "preview1", args: ["guest"], env: process.env, preopens: { "/": "/" }, returnOnExit: false });
let inst;
const mem = () => new DataView(inst.exports.memory.buffer);
const dec = new TextDecoder(), enc = new TextEncoder();
const str = (p, n) => dec.decode(new Uint8Array(inst.exports.memory.buffer, p, n));
const store = new Map([["greeting", "hello from the stub"]]);
const alloc = (bytes) => {
  const realloc = inst.exports.canonical_abi_realloc ?? inst.exports.cabi_realloc;
  const p = realloc(0, 0, 1, bytes.length);
  new Uint8Array(inst.exports.memory.buffer, p, bytes.length).set(bytes);
  return p;
};
const okList = (ret, bytes) => { const p = alloc(bytes); const v = mem(); v.setUint8(ret, 0); v.setUint32(ret + 4, p, true); v.setUint32(ret + 8, bytes.length, true); };
const stub = {
  "outbound-redis": {
    publish(a, al, c, cl, p, pl, ret) { console.error(`[stub] publish ${str(a, al)} ${str(c, cl)} ${str(p, pl)}`); mem().setUint8(ret, 0); },
    set(a, al, k, kl, p, pl, ret) { console.error(`[stub] set ${str(a, al)} ${str(k, kl)}`); store.set(str(k, kl), str(p, pl)); mem().setUint8(ret, 0); },
    get(a, al, k, kl, ret) {
      const key = str(k, kl);
      console.error(`[stub] get ${str(a, al)} ${key}`);
      okList(ret, enc.encode(store.get(key) ?? ""));
    },
    incr(a, al, k, kl, ret) { const key = str(k, kl); const n = BigInt(store.get(key) ?? "0") + 1n; store.set(key, String(n)); const v = mem(); v.setUint8(ret, 0); v.setBigInt64(ret + 8, n, true); },
  },
  "spin-config": {
    "get-config"(k, kl, ret) { okList(ret, enc.encode(`config value of ${str(k, kl)}`)); },
  },
};
const imports = { wasi_snapshot_preview1: wasi.wasiImport };
for (const { module, name } of WebAssembly.Module.imports(mod)) {
  if (module === "wasi_snapshot_preview1") continue;
  imports[module] ??= {};
  imports[module][name] = stub[module]?.[name] ?? (() => { throw new Error(`no stub for ${module}#${name}`); });
}
inst = new WebAssembly.Instance(mod, imports);
// node:wasi wants an instance; a Spin 1.x module has no _initialize to run.
wasi.initialize(inst.exports._initialize ? inst : { exports: { memory: inst.exports.memory } });
const handle = inst.exports["fermyon:spin/inbound-redis#handle-message"] ?? inst.exports["handle-redis-message"];
let got;
try {
  const bytes = enc.encode(msg);
  const p = alloc(bytes);
  const r = handle(p, bytes.length);
  const v = mem();
  const isErr = v.getUint8(r), cas = v.getUint8(r + 1);
  got = isErr && cas === 1 ? "err" : "ok";
  console.log(`RESULT ${isErr ? `err ${cas ? "error" : "success"}` : "ok"}`);
} catch (e) {
  got = "trap";
  console.log(`RESULT trap ${e}`);
}
if (expect && got !== expect) { console.error(`expected ${expect}, got ${got}`); process.exit(1); }
