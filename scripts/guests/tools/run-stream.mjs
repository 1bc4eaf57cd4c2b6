// Calls redspin:streams/inbound-stream@0.1.0#handle-entry of a jco-transpiled component
// in Node, once per entry, all on one instance.
// usage: node run-stream.mjs <transpiled-dir>/<name>.js ACTION EXPECT [ACTION EXPECT]...
// ACTION is the entry's `action` field (delivery count 2); EXPECT is the disposition the
// guest must return: ack, retry, retry:<ms>, dead-letter:<reason>, or trap. Prints
// "RESULT <disposition>" for each call; exits 1 when one differs from its expectation.
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";

const [mod, ...pairs] = process.argv.slice(2);
const m = await import(pathToFileURL(resolve(mod)).href);
const handler = m.inboundStream ?? m["redspin:streams/inbound-stream@0.1.0"];
const te = new TextEncoder();
let failed = false;
for (let i = 0; i < pairs.length; i += 2) {
  const [action, expect] = [pairs[i], pairs[i + 1]];
  const entry = {
    streamKey: "orders",
    id: `1700000000000-${i / 2}`,
    group: "workers",
    fields: [{ name: "action", value: te.encode(action) }, { name: "payload", value: te.encode("hi") }],
    deliveries: 2n,
  };
  let got;
  try {
    const d = handler.handleEntry(entry);
    got = d.tag === "ack" || d.val === undefined ? d.tag : d.tag === "retry" ? `retry:${d.val}` : `${d.tag}:${d.val}`;
  } catch (e) {
    got = "trap";
  }
  console.log(`RESULT ${got}`);
  if (got !== expect) {
    console.error(`${JSON.stringify(action)}: expected ${expect}, got ${got}`);
    failed = true;
  }
}
if (failed) process.exit(1);
