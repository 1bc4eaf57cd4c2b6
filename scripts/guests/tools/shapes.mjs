// Checks (or writes) the expected shape of committed Wasm files in one Node process:
// a component's `jco wit` text in X.wit, a core module's imports and exports in X.abi
// (tools/wasm-abi.mjs). Prints one line per file and "N passed, N failed".
// usage: node shapes.mjs [--write] file.wasm...
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { relative } from "node:path";
import { componentWit } from "@bytecodealliance/jco-transpile/wasm-tools";
import { describe } from "./wasm-abi.mjs";

const args = process.argv.slice(2);
const write = args[0] === "--write";
const files = write ? args.slice(1) : args;
let passed = 0, failed = 0;
for (const file of files) {
  const bytes = readFileSync(file);
  const component = bytes.readUInt32LE(4) !== 1;
  const want = file.replace(/\.wasm$/, component ? ".wit" : ".abi");
  const got = (component ? await componentWit(bytes) : describe(bytes).join("\n")).trimEnd() + "\n";
  const name = relative(process.cwd(), file);
  if (write) { writeFileSync(want, got); console.log(`wrote ${relative(process.cwd(), want)}`); continue; }
  if (!existsSync(want)) { console.log(`FAIL ${name}: no ${relative(process.cwd(), want)}`); failed++; continue; }
  const expected = readFileSync(want, "utf8");
  if (expected === got) { console.log(`ok   ${name}`); passed++; continue; }
  failed++;
  console.log(`FAIL ${name}: differs from ${relative(process.cwd(), want)}`);
  const a = new Set(expected.split("\n")), b = new Set(got.split("\n"));
  for (const l of a) if (!b.has(l)) console.log(`    - ${l}`);
  for (const l of b) if (!a.has(l)) console.log(`    + ${l}`);
}
if (!write) console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
