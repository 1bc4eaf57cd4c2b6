// Prints the shape of Wasm files without any npm package: for a core module its
// imports and exports with their signatures and custom section names; for a
// component just "component" (use `jco wit` for those).
// usage: node wasm-abi.mjs file.wasm...
import { readFileSync } from "node:fs";

const VALTYPES = { 0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128", 0x70: "funcref", 0x6f: "externref" };

function readU(b, o) {
  let r = 0, s = 0, x;
  do { x = b[o++]; r += (x & 0x7f) * 2 ** s; s += 7; } while (x & 0x80);
  return [r, o];
}
function readName(b, o) {
  const [n, p] = readU(b, o);
  return [b.subarray(p, p + n).toString("utf8"), p + n];
}
function readLimits(b, o) {
  const flags = b[o++];
  let min, max;
  [min, o] = readU(b, o);
  if (flags & 1) [max, o] = readU(b, o);
  return [max === undefined ? `${min}..` : `${min}..${max}`, o];
}

export function describe(buf) {
  if (buf.readUInt32LE(0) !== 0x6d736100) throw new Error("not a Wasm file");
  if (buf.readUInt32LE(4) !== 1) return ["component"];
  const types = [], funcs = [], imports = [], exports = [], customs = [];
  for (let o = 8; o < buf.length;) {
    const id = buf[o];
    const [size, p] = readU(buf, o + 1);
    const b = buf.subarray(p, p + size);
    o = p + size;
    let q = 0, n;
    if (id === 0) { customs.push(readName(b, 0)[0]); continue; }
    if (id === 1) {
      [n, q] = readU(b, 0);
      for (let i = 0; i < n; i++) {
        if (b[q++] !== 0x60) throw new Error("unsupported type form");
        const sig = [];
        for (let k = 0; k < 2; k++) {
          let c; [c, q] = readU(b, q);
          sig.push(Array.from(b.subarray(q, q + c), (t) => VALTYPES[t] ?? `0x${t.toString(16)}`).join(" "));
          q += c;
        }
        types.push(`(${sig[0]}) -> (${sig[1]})`);
      }
    } else if (id === 2) {
      [n, q] = readU(b, 0);
      for (let i = 0; i < n; i++) {
        let mod, name, desc;
        [mod, q] = readName(b, q);
        [name, q] = readName(b, q);
        const kind = b[q++];
        if (kind === 0) { let t; [t, q] = readU(b, q); funcs.push(t); desc = `func ${types[t]}`; }
        else if (kind === 1) { q++; let l; [l, q] = readLimits(b, q); desc = `table ${l}`; }
        else if (kind === 2) { let l; [l, q] = readLimits(b, q); desc = `memory ${l}`; }
        else if (kind === 3) { desc = `global ${VALTYPES[b[q]]}${b[q + 1] ? " mut" : ""}`; q += 2; }
        else throw new Error(`import kind ${kind}`);
        imports.push(`import ${JSON.stringify(mod)} ${JSON.stringify(name)} ${desc}`);
      }
    } else if (id === 3) {
      [n, q] = readU(b, 0);
      for (let i = 0; i < n; i++) { let t; [t, q] = readU(b, q); funcs.push(t); }
    } else if (id === 7) {
      [n, q] = readU(b, 0);
      for (let i = 0; i < n; i++) {
        let name, idx;
        [name, q] = readName(b, q);
        const kind = b[q++];
        [idx, q] = readU(b, q);
        const desc = kind === 0 ? `func ${types[funcs[idx]]}` : ["func", "table", "memory", "global"][kind];
        exports.push(`export ${JSON.stringify(name)} ${desc}`);
      }
    }
  }
  return ["core module", ...imports, ...exports, ...customs.filter((c) => !/^(name|producers|target_features)$/.test(c)).map((c) => `custom ${JSON.stringify(c)}`)];
}

if (import.meta.url === `file://${process.argv[1]}`) for (const f of process.argv.slice(2)) {
  for (const line of describe(readFileSync(f))) console.log(line);
}
