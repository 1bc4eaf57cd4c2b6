#!/usr/bin/env bash
# Regenerates component-type.bin, the payload of the `component-type` custom
# section that componentize.Module writes: the WIT world in wit/world.wit
# (plus the repository's wit/deps), encoded by wit-component through the
# repository's pinned jco, with the producer field that makes Spin treat the
# module as a wit-bindgen >= 0.5 module (see RATIONALE.md, "Why the Go SDK's
# post-link step claims wit-bindgen 0.5").
# usage: sdk/go/componentize/gen-component-type.sh   (after scripts/build-guests.sh has run npm ci)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
TOOLS=$ROOT/scripts/guests
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/wit"
cp "$HERE/wit/world.wit" "$TMP/wit/"
cp -r "$ROOT/wit/deps" "$TMP/wit/deps"
node --import "$TOOLS/tools/preopen-fix.mjs" "$TOOLS/node_modules/@bytecodealliance/jco/dist/jco.js" \
  embed --dummy --wit "$TMP/wit" -m processed-by=wit-bindgen-redspin-go@0.5.0 -o "$TMP/dummy.wasm"
# The dummy module's only custom section is component-type; cut its payload out.
node -e '
const b = require("fs").readFileSync(process.argv[1]);
const u = (o) => { let r = 0, s = 0, x; do { x = b[o++]; r += (x & 0x7f) * 2 ** s; s += 7; } while (x & 0x80); return [r, o]; };
for (let o = 8; o < b.length;) {
  const id = b[o]; const [n, p] = u(o + 1);
  if (id === 0) { const [l, q] = u(p); if (b.toString("latin1", q, q + l) === "component-type") { process.stdout.write(b.subarray(q + l, p + n)); } }
  o = p + n;
}' "$TMP/dummy.wasm" > "$HERE/component-type.bin"
echo "wrote $HERE/component-type.bin ($(stat -c %s "$HERE/component-type.bin") bytes)" >&2
