// Calls fermyon:spin/inbound-redis#handle-message of a jco-transpiled component in Node,
// once per message, all on one instance (so state carries over from call to call).
// usage: node run-js.mjs <transpiled-dir>/<name>.js "message" [ok|err|trap] ["message" [expect]]...
// Prints "RESULT ok", "RESULT err <case>" or "RESULT trap <error>" for each call; exits 1
// when a result differs from its expectation.
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";

const [mod, ...pairs] = process.argv.slice(2);
const m = await import(pathToFileURL(resolve(mod)).href);
const handler = m.inboundRedis ?? m["fermyon:spin/inbound-redis"];
let failed = false;
for (let i = 0; i < Math.max(pairs.length, 1); i += 2) {
  const msg = pairs[i] ?? "hello from node", expect = pairs[i + 1];
  let got;
  try {
    handler.handleMessage(new TextEncoder().encode(msg));
    got = "ok";
    console.log("RESULT ok");
  } catch (e) {
    // jco turns err(case) of result<_, error> into a thrown ComponentError whose payload is the case.
    got = e?.constructor?.name === "ComponentError" ? "err" : "trap";
    console.log(`RESULT ${got}`, JSON.stringify(e?.payload ?? String(e)));
  }
  if (expect && got !== expect) {
    console.error(`${JSON.stringify(msg)}: expected ${expect}, got ${got}`);
    failed = true;
  }
}
if (failed) process.exit(1);
