#!/usr/bin/env bash
# Rebuilds the test guests in testdata/guests/ and the example components in examples/
# from their sources, with pinned tools: npm packages from scripts/guests/package-lock.json
# (jco; componentize-js, which builds every JS guest but js-j2w; @spinframework/build-tools), Debian's clang-14 + wasi-libc and
# rustc 1.63 + wasm32 std, and the Go toolchain on PATH (big Go, GOOS=wasip1).
#
# usage:
#   scripts/build-guests.sh             rebuild everything, refresh the expected *.wit / *.abi
#                                       files, and smoke-test the components in Node
#   scripts/build-guests.sh c rust      rebuild only these guests
#   scripts/build-guests.sh --verify    rebuild nothing: check every committed *.wasm against
#                                       its expected *.wit (components, `jco wit`) or *.abi
#                                       (core modules) file; needs only node and npm
#   scripts/build-guests.sh --list      list the guests
#
# Outputs are written next to their sources. C, Rust and Go outputs are byte-for-byte
# reproducible; JS outputs differ by a few bytes between builds but have the same WIT.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOLS=$ROOT/scripts/guests
G=$ROOT/testdata/guests
EX=$ROOT/examples
BUILD=$TOOLS/.build
JCO=(node --import "$TOOLS/tools/preopen-fix.mjs" "$TOOLS/node_modules/@bytecodealliance/jco/dist/jco.js")
# The pinned top-level componentize-js's own CLI (not `jco componentize`, which runs the older
# componentize-js nested under jco).
CJS=(node --import "$TOOLS/tools/preopen-fix.mjs" "$TOOLS/node_modules/@bytecodealliance/componentize-js/src/cli.js")

log() { printf '=== %s\n' "$*" >&2; }
die() { printf 'build-guests: %s\n' "$*" >&2; exit 1; }
# timed LABEL CMD...: runs CMD and prints how long it took.
timed() {
  local label=$1 s=$EPOCHREALTIME rc=0
  shift
  "$@" || rc=$?
  awk -v s="$s" -v e="$EPOCHREALTIME" -v w="$label" 'BEGIN { printf "    %5.1f s  %s\n", e - s, w }' >&2
  return $rc
}

# ------------------------------------------------------------------ tools
# npm ci with the pinned lockfile; skipped when node_modules already matches it.
npm_tools() {
  local dir=$1 stamp=$1/node_modules/.redspin-lock
  if [ -f "$stamp" ] && cmp -s "$stamp" "$dir/package-lock.json"; then return; fi
  log "npm ci in ${dir#"$ROOT"/}"
  ( cd "$dir" && timed "npm ci" npm ci --no-audit --no-fund --silent )
  cp "$dir/package-lock.json" "$stamp"
}

# Debian packages, installed only when missing.
apt_tools() {
  local need=()
  command -v clang-14 >/dev/null && command -v wasm-ld-14 >/dev/null && [ -f /usr/include/wasm32-wasi/stdio.h ] &&
    compgen -G '/usr/lib/llvm-14/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a' >/dev/null ||
    need+=(clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32)
  [ -x /usr/bin/rustc ] && [ -d /usr/lib/rustlib/wasm32-wasi ] || need+=(rustc libstd-rust-dev-wasm32)
  if [ ${#need[@]} -gt 0 ]; then
    log "apt-get install ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

# ------------------------------------------------------------------ helpers
# witdir NAME SRC_DIR: a WIT folder for one guest = its world.wit (exactly one world:
# jco embed ignores --world-name) + any extra *.wit in SRC_DIR/wit-extra + the project's wit/deps.
witdir() {
  local name=$1 src=$2 dir=$BUILD/wit-$1
  rm -rf "$dir" && mkdir -p "$dir"
  cp "$src/world.wit" "$dir/"
  cp -r "$ROOT/wit/deps" "$dir/deps"
  if [ -d "$src/wit-extra" ]; then cp -r "$src/wit-extra/." "$dir/deps/"; fi
  printf '%s' "$dir"
}

# componentize NAME SRC_DIR RAW_CORE OUT_DIR [PREFIX]: embed the guest's WIT into the raw
# core module (-> PREFIX.core.wasm, the exact module inside the component) and make the
# component with the bundled WASI preview1 reactor adapter (-> PREFIX.wasm).
componentize() {
  local name=$1 src=$2 raw=$3 out=$4 prefix=${5:-$1} wit
  wit=$(witdir "$name" "$src")
  timed "jco embed $prefix.core.wasm" "${JCO[@]}" embed "$raw" --wit "$wit" -o "$out/$prefix.core.wasm"
  timed "jco new $prefix.wasm" "${JCO[@]}" new "$out/$prefix.core.wasm" --wasi-reactor -o "$out/$prefix.wasm"
}

# outputs [FIND-ARGS]: every committed Wasm file, sorted.
outputs() {
  local roots=("$G")
  [ -d "$EX" ] && roots+=("$EX")
  find "${roots[@]}" -name '*.wasm' -not -path '*/node_modules/*' "$@" | sort
}

# smoke NAME FILE.wasm MSG EXPECT [MSG EXPECT]...: calls on one instance through jco
# transpile + Node (EXPECT ok|err|trap); fails the build on a mismatch.
smoke() {
  local name=$1 file=$2 dir=$BUILD/transpiled
  shift 2
  mkdir -p "$dir" && echo '{"type":"module"}' > "$dir/package.json"
  [ -d "$dir/$name" ] || "${JCO[@]}" transpile "$file" --name "$name" -o "$dir/$name" >/dev/null
  node --import "$TOOLS/tools/preopen-fix.mjs" "$TOOLS/tools/run-js.mjs" "$dir/$name/$name.js" "$@" >&2
}

# ------------------------------------------------------------------ guests
# The protocol commands every guest answers the same way (../testdata/guests/README.md).
PROTOCOL_SMOKE=("print:smoke test" ok stderr:smoke ok fail err errsuccess err alloc:16 ok len:padding ok other ok)

build_c() {
  local d=$G/c
  timed "clang-14 c" clang-14 --target=wasm32-wasi -O2 -mexec-model=reactor -Wall -Wextra -Werror -Wl,--strip-debug \
    -o "$BUILD/c.raw.wasm" "$d/c.c" "$d/cabi.c" "$d/protocol.c"
  componentize c "$d" "$BUILD/c.raw.wasm" "$d"
  smoke c "$d/c.wasm" "${PROTOCOL_SMOKE[@]}" env:HOME ok trap trap
}

build_rust() {
  local d=$G/rust crt
  # A WASI reactor: link wasi-libc's crt1-reactor.o (shipped with the wasm32-wasi std) and
  # export its `_initialize`, which runs the constructors once at instantiation. Without it,
  # lld wraps every export to run them lazily, so the host's first call, cabi_realloc,
  # would call WASI, which the component model forbids inside realloc. (rustc's
  # `-Z wasi-exec-model=reactor` does this only for binaries, not for a cdylib.)
  crt=$(/usr/bin/rustc --print sysroot)/lib/rustlib/wasm32-wasi/lib/self-contained/crt1-reactor.o
  [ -f "$crt" ] || die "missing $crt (Debian package libstd-rust-dev-wasm32)"
  # Run from the source folder so that panic locations name "lib.rs", not a machine path.
  ( cd "$d" && timed "rustc rust" /usr/bin/rustc --edition 2021 --crate-type cdylib --target wasm32-wasi \
    -C opt-level=s -C strip=debuginfo -C codegen-units=1 -C link-arg="$crt" -C link-arg=--export=_initialize \
    -o "$BUILD/rust.raw.wasm" lib.rs )
  componentize rust "$d" "$BUILD/rust.raw.wasm" "$d"
  smoke rust "$d/rust.wasm" "${PROTOCOL_SMOKE[@]}" env:HOME ok trap trap
}

build_go() {
  local d=$G/go
  ( cd "$d" && timed "go build go ($(go env GOVERSION))" env GOOS=wasip1 GOARCH=wasm GOFLAGS=-trimpath CGO_ENABLED=0 \
    go build -buildmode=c-shared -buildvcs=false -o "$BUILD/go.raw.wasm" . )
  # Give the WASI adapter an allocator that is not Go code (see main.go, adapterArena).
  node "$TOOLS/tools/add-adapter-realloc.mjs" "$BUILD/go.raw.wasm" "$BUILD/go.patched.wasm" 2>/dev/null
  componentize go "$d" "$BUILD/go.patched.wasm" "$d"
  # (not `trap`: Go's panic exits through wasi:cli/exit, which ends the Node process)
  smoke go "$d/go.wasm" "${PROTOCOL_SMOKE[@]}" env:HOME ok
}

build_spin1() {
  local d=$G/spin1
  # No _initialize (-nostartfiles, --no-entry), like the wit-bindgen 0.2-era modules.
  timed "clang-14 spin1" clang-14 --target=wasm32-wasi -O2 -nostartfiles -Wl,--no-entry -Wl,--strip-debug \
    -Wall -Wextra -Werror -o "$d/spin1.wasm" "$d/spin1.c" "$G/c/protocol.c"
  node --no-warnings "$TOOLS/tools/run-core.mjs" "$d/spin1.wasm" "publish:redis://127.0.0.1|ch|hi" ok >&2
  node --no-warnings "$TOOLS/tools/run-core.mjs" "$d/spin1.wasm" fail err >&2
}

build_negative() {
  local d=$G/negative
  timed "clang-14 negative" clang-14 --target=wasm32-wasi -O2 -mexec-model=reactor -Wl,--strip-debug \
    -Wall -Wextra -Werror -o "$BUILD/negative.raw.wasm" "$d/negative.c" "$G/c/cabi.c"
  componentize negative "$d" "$BUILD/negative.raw.wasm" "$d"
}

# js_source NAME: the shared JS guest source with the guest's name filled in. It is staged
# in a fixed folder outside the repository because j2w records the source's folder in the
# component, and a commit must not carry this machine's paths.
JS_STAGE=/tmp/redspin-guests
js_source() {
  mkdir -p "$JS_STAGE"
  sed "s/__GUEST__/$1/" "$G/js/guest.js" > "$JS_STAGE/$1.js"
  printf '%s' "$JS_STAGE/$1.js"
}

# js_component WIT JS OUT: componentize-js (StarlingMonkey; the pinned version, see CJS) with
# its default features, so the component imports WASI 0.2 including wasi:http, builds the
# staged source JS against the WIT folder into OUT. It runs in $JS_STAGE, so the component
# records the source by its file name only.
js_component() {
  local wit=$1 js=$2 out=$3
  ( cd "$JS_STAGE" && timed "componentize-js ${out##*/}" "${CJS[@]}" "$js" --wit "$wit" -o "$out" >/dev/null )
}

build_js() {
  local d=$G/js wit js
  wit=$(witdir js "$d")
  js=$(js_source js)
  js_component "$wit" "$js" "$d/js.wasm"
  smoke js "$d/js.wasm" "${PROTOCOL_SMOKE[@]}" env:HOME err trap trap
}

# js-platform: the same handler against Spin's whole unversioned platform world plus the
# database and MQTT interfaces of the 2.0.0 and 3.0.0 platform worlds (their WIT: the rdbms
# guest's wit-extra). Node has no shims for the fermyon:spin imports, so it is checked by its
# WIT only; internal/spinhost/wasm's tests run it against real servers.
# Its source is the shared guest with the handler renamed, followed by sqlite.js, whose
# handler adds a `sql:` command over fermyon:spin/sqlite and passes everything else on, and
# rdbms.js and mqtt.js, which add their commands to it.
build_js_platform() {
  local d=$G/js-platform wit js
  wit=$(witdir js-platform "$d")
  cp -r "$G/rdbms/wit-extra/." "$wit/deps/"
  js=$(js_source js-platform)
  { sed 's/^export const inboundRedis = /const baseInboundRedis = /' "$js"; cat "$d/sqlite.js" "$d/rdbms.js" "$d/mqtt.js"; } > "$JS_STAGE/js-platform.all.js"
  grep -q '^const baseInboundRedis = ' "$JS_STAGE/js-platform.all.js" || die "js-platform: the shared guest's handler was not renamed"
  js_component "$wit" "$JS_STAGE/js-platform.all.js" "$d/js-platform.wasm"
}

# js-j2w: the Spin JS SDK's own build path, @spinframework/build-tools' j2w, which reads
# its WIT from scripts/guests/j2w/package.json (config.witDependencies).
build_js_j2w() {
  local d=$G/js-j2w js
  npm_tools "$TOOLS/j2w"
  witdir js-j2w "$d" >/dev/null
  js=$(js_source js-j2w)
  rm -f "$JS_STAGE"/*.buildData.json "$JS_STAGE/precompiled-source.js"
  ( cd "$TOOLS/j2w" && timed "j2w js-j2w.wasm" npx --no-install j2w -i "$js" -o "$d/js-j2w.wasm" >/dev/null )
  rm -f "$JS_STAGE"/*.buildData.json "$JS_STAGE/precompiled-source.js"
  smoke js-j2w "$d/js-j2w.wasm" "${PROTOCOL_SMOKE[@]}" env:HOME err trap trap
}

# js-http: the fetch() guest (its own js-http/guest.js) on componentize-js's wasi:http
# imports; run end to end against loopback servers by internal/spinhost/wasm's tests.
build_js_http() { js_componentize_own js-http "$G/js-http" guest.js js-http; }

# js_componentize_own NAME SRC_DIR JS OUT: js_component on SRC_DIR/JS (a source of its own,
# staged as OUT.js outside the repository) into SRC_DIR/OUT.wasm.
js_componentize_own() {
  local name=$1 src=$2 wit
  wit=$(witdir "$name" "$src")
  mkdir -p "$JS_STAGE" && cp "$src/$3" "$JS_STAGE/$4.js"
  js_component "$wit" "$JS_STAGE/$4.js" "$src/$4.wasm"
}

# c-host: the C guest plus commands that call every Spin host interface redspin serves.
build_c_host() {
  local d=$G/c-host
  timed "clang-14 c-host" clang-14 --target=wasm32-wasi -O2 -mexec-model=reactor -Wall -Wextra -Werror \
    -Wl,--strip-debug -DGUEST_NAME='"c-host"' -DGUEST_EXTRA=host_extra \
    -o "$BUILD/c-host.raw.wasm" "$d/c-host.c" "$G/c/c.c" "$G/c/cabi.c" "$G/c/protocol.c"
  componentize c-host "$d" "$BUILD/c-host.raw.wasm" "$d"
  # Node stand-ins for the Spin interfaces (tools/spin-stub.mjs) and wasi:keyvalue
  # (c-host/wasi-keyvalue-stub.mjs) check the hand-written ABI.
  local s=$TOOLS/tools/spin-stub.mjs dir=$BUILD/transpiled
  mkdir -p "$dir" && echo '{"type":"module"}' > "$dir/package.json"
  "${JCO[@]}" transpile "$d/c-host.wasm" --name c-host -o "$dir/c-host" >/dev/null \
    --map "fermyon:spin/redis@2.0.0=$s#redis2" --map "fermyon:spin/redis=$s#redis1" \
    --map "fermyon:spin/key-value@2.0.0=$s#kv2" --map "fermyon:spin/key-value=$s#kv1" \
    --map "fermyon:spin/variables@2.0.0=$s#variables" --map "fermyon:spin/config=$s#config" \
    --map "wasi:config/store@0.2.0-draft-2024-09-27=$s#wasiConfig" \
    --map "wasi:keyvalue/store@0.2.0-draft2=$d/wasi-keyvalue-stub.mjs#store"
  smoke c-host "$d/c-host.wasm" "redis2:set:redis://h|k|v" ok "redis2:execute:redis://h|MGET|k|none" ok \
    "redis:incr:redis://h|n" ok var:greeting ok config:answer ok wasiconfig-all ok \
    "kv:set:default|a|1" ok "kv1:get:default|a" ok "redis2:open:bad-address" err \
    "wasikv:set:default|w|2" ok "wasikv:get:default|w" ok "wasikv:exists:default|w" ok "wasikv:keys:default" ok \
    "wasikv:get:default|none" ok "wasikv:open:secret" err
}

# c-http and spin1-http: the C guest's "http" command (c-http/http-cmd.c) on the legacy
# outbound HTTP interface: fermyon:spin/http in a component, wasi-outbound-http in a Spin 1.x
# module. Their requests are checked end to end by internal/spinhost/wasm's tests.
build_c_http() {
  local d=$G/c-http
  timed "clang-14 c-http" clang-14 --target=wasm32-wasi -O2 -mexec-model=reactor -Wall -Wextra -Werror \
    -Wl,--strip-debug -DGUEST_NAME='"c-http"' -DGUEST_EXTRA=http_extra \
    -o "$BUILD/c-http.raw.wasm" "$d/http-cmd.c" "$G/c/c.c" "$G/c/cabi.c" "$G/c/protocol.c"
  componentize c-http "$d" "$BUILD/c-http.raw.wasm" "$d"
}

build_spin1_http() {
  local d=$G/spin1-http
  timed "clang-14 spin1-http" clang-14 --target=wasm32-wasi -O2 -nostartfiles -Wl,--no-entry -Wl,--strip-debug \
    -Wall -Wextra -Werror -DHTTP_MODULE='"wasi-outbound-http"' -DHTTP_FUNC='"request"' \
    -o "$d/spin1-http.wasm" "$d/spin1-http.c" "$G/c-http/http-cmd.c" "$G/c/protocol.c"
}

# rdbms: the C guest plus Spin's PostgreSQL and MySQL interfaces, every version: a component
# (rdbms.wasm: the versions with a connection resource; its spin:postgres@4.2.0 import keeps
# only the sync functions it calls) and a core module with canonical-ABI imports of every
# version, the unversioned and Spin 1.x ones included (rdbms-module.wasm; not the module
# inside rdbms.wasm). Node has no stand-ins for the databases: internal/spinhost/wasm
# TestRDBMSGuest* run both against real servers.
build_rdbms() {
  local d=$G/rdbms cc=(clang-14 --target=wasm32-wasi -O2 -mexec-model=reactor -Wall -Wextra -Werror
    -Wl,--strip-debug -DGUEST_NAME='"rdbms"' -DGUEST_EXTRA=rdbms_extra)
  local src=("$d/rdbms.c" "$G/c/c.c" "$G/c/cabi.c" "$G/c/protocol.c")
  timed "clang-14 rdbms-module" "${cc[@]}" -o "$d/rdbms-module.wasm" "${src[@]}"
  timed "clang-14 rdbms" "${cc[@]}" -DRDBMS_COMPONENT -o "$BUILD/rdbms.raw.wasm" "${src[@]}"
  componentize rdbms "$d" "$BUILD/rdbms.raw.wasm" "$d"
  rm "$d/rdbms.core.wasm"
}

# rdbms40: the rdbms component with its 4.x commands on spin:postgres/postgres@4.0.0 (no
# connection-builder, so no pgtls); its wit-extra is a link to rdbms's.
build_rdbms40() {
  local d=$G/rdbms40
  timed "clang-14 rdbms40" clang-14 --target=wasm32-wasi -O2 -mexec-model=reactor -Wall -Wextra -Werror \
    -Wl,--strip-debug -DGUEST_NAME='"rdbms40"' -DGUEST_EXTRA=rdbms_extra -DRDBMS_COMPONENT \
    -DPG4='"spin:postgres/postgres@4.0.0"' -DPG4_NO_BUILDER \
    -o "$BUILD/rdbms40.raw.wasm" "$G/rdbms/rdbms.c" "$G/c/c.c" "$G/c/cabi.c" "$G/c/protocol.c"
  componentize rdbms40 "$d" "$BUILD/rdbms40.raw.wasm" "$d"
  rm "$d/rdbms40.core.wasm"
}

# stream: redspin's rich stream handler (the entry's `action` field says what to do) next
# to the C guest's plain handler, with outbound Redis and variables to record entries.
build_stream() {
  local d=$G/stream
  timed "clang-14 stream" clang-14 --target=wasm32-wasi -O2 -mexec-model=reactor -Wall -Wextra -Werror \
    -Wl,--strip-debug -DGUEST_NAME='"stream"' \
    -o "$BUILD/stream.raw.wasm" "$d/stream.c" "$G/c/c.c" "$G/c/cabi.c" "$G/c/protocol.c"
  componentize stream "$d" "$BUILD/stream.raw.wasm" "$d"
  local s=$TOOLS/tools/spin-stub.mjs dir=$BUILD/transpiled
  mkdir -p "$dir" && echo '{"type":"module"}' > "$dir/package.json"
  "${JCO[@]}" transpile "$d/stream.wasm" --name stream -o "$dir/stream" >/dev/null \
    --map "fermyon:spin/redis@2.0.0=$s#redis2" --map "fermyon:spin/variables@2.0.0=$s#variables"
  smoke stream "$d/stream.wasm" "${PROTOCOL_SMOKE[@]}" trap trap
  node --import "$TOOLS/tools/preopen-fix.mjs" "$TOOLS/tools/run-stream.mjs" "$dir/stream/stream.js" \
    ack ack retry retry retry-after:250 retry:250 "dead:bad input" "dead-letter:bad input" ack-after:2 ack \
    ack-after:3 retry echo ack "record:redis://h|t" ack frobnicate "dead-letter:unsupported action frobnicate" \
    trap trap >&2
}

# c-sqlite and c-mqtt: the C guest plus commands over Spin's SQLite interfaces (`sql:`) or
# its MQTT interface (`mqtt:`). No Node stand-in: the Go tests run them against the real host.
# c_extra NAME EXTRA_FN [SOURCE [CFLAGS...]]: SOURCE defaults to NAME/NAME.c.
c_extra() {
  local d=$G/$1 name=$1 fn=$2 src=${3:-$G/$1/$1.c}
  shift $(($# < 3 ? $# : 3))
  timed "clang-14 $name" clang-14 --target=wasm32-wasi -O2 -mexec-model=reactor -Wall -Wextra -Werror \
    -Wl,--strip-debug -DGUEST_NAME="\"$name\"" -DGUEST_EXTRA="$fn" "$@" \
    -o "$BUILD/$name.raw.wasm" "$src" "$G/c/c.c" "$G/c/cabi.c" "$G/c/protocol.c"
  componentize "$name" "$d" "$BUILD/$name.raw.wasm" "$d"
}
build_c_sqlite() { c_extra c-sqlite sqlite_extra; }
# c-sqlite30: c-sqlite with its version 3 on spin:sqlite/sqlite@3.0.0 (wit-component merges
# semver-compatible imports, so c-sqlite's 3.1.0 import cannot sit beside it).
build_c_sqlite30() { c_extra c-sqlite30 sqlite_extra "$G/c-sqlite/c-sqlite.c" -DS3='"spin:sqlite/sqlite@3.0.0"'; }
build_c_mqtt() { c_extra c-mqtt mqtt_extra; }

# async: two tiny components importing spin:sqlite/sqlite@3.1.0 (hand-written WAT, and a
# subset of the interface's WIT with one async function): one uses only synchronous
# functions, one open-async. They pin down what Wasmtime does with component-model async
# imports (internal/spinhost/cmasync).
build_async() {
  local d=$G/async m
  for m in sqlite31-sync sqlite31-async; do
    "${JCO[@]}" parse "$d/$m.wat" -o "$BUILD/$m.raw.wasm"
    "${JCO[@]}" embed "$BUILD/$m.raw.wasm" --wit "$d/wit" -o "$BUILD/$m.core.wasm"
    "${JCO[@]}" new "$BUILD/$m.core.wasm" -o "$d/$m.wasm"
  done
}

# The examples' components.
build_example_hello() {
  local d=$EX/hello-redis
  timed "clang-14 hello" clang-14 --target=wasm32-wasi -O2 -mexec-model=reactor -Wall -Wextra -Werror -Wl,--strip-debug \
    -o "$BUILD/hello.raw.wasm" "$d/hello.c"
  componentize example-hello "$d" "$BUILD/hello.raw.wasm" "$d" hello
  rm "$d/hello.core.wasm"
  smoke example-hello "$d/hello.wasm" "hello, world" ok
}

build_example_variables() {
  local d=$EX/variables
  timed "clang-14 greeter" clang-14 --target=wasm32-wasi -O2 -mexec-model=reactor -Wall -Wextra -Werror -Wl,--strip-debug \
    -o "$BUILD/greeter.raw.wasm" "$d/greeter.c"
  componentize example-variables "$d" "$BUILD/greeter.raw.wasm" "$d" greeter
  rm "$d/greeter.core.wasm"
  mkdir -p "$BUILD/transpiled"
  "${JCO[@]}" transpile "$d/greeter.wasm" --name example-variables -o "$BUILD/transpiled/example-variables" \
    --map "fermyon:spin/variables@2.0.0=$TOOLS/tools/spin-stub.mjs#variables" >/dev/null
  smoke example-variables "$d/greeter.wasm" world ok
}

build_example_sqlite_log() {
  local d=$EX/sqlite-log
  timed "clang-14 logger" clang-14 --target=wasm32-wasi -O2 -mexec-model=reactor -Wall -Wextra -Werror -Wl,--strip-debug \
    -o "$BUILD/logger.raw.wasm" "$d/logger.c"
  componentize example-sqlite-log "$d" "$BUILD/logger.raw.wasm" "$d" logger
  rm "$d/logger.core.wasm"
}

build_example_fetch() { js_componentize_own example-fetch "$EX/fetch" fetch.js fetcher; }

GUESTS=(c rust go spin1 negative c-host c-http spin1-http rdbms rdbms40 c-sqlite c-sqlite30 c-mqtt stream async js js-j2w js-platform js-http example-hello example-variables example-sqlite-log example-fetch)

# ------------------------------------------------------------------ main
# Compares every committed Wasm file with its expected shape (tools/shapes.mjs: `jco wit`
# for components, imports/exports for core modules). Needs only node and the npm tools.
verify() {
  npm_tools "$TOOLS"
  outputs | xargs node "$TOOLS/tools/shapes.mjs"
}

main() {
  mkdir -p "$BUILD"
  case "${1:-}" in
    --verify) verify; return ;;
    --list) printf '%s\n' "${GUESTS[@]}"; return ;;
    -h|--help) sed -n '2,/^set /p' "$0" | grep '^#'; return ;;
  esac
  local want=("$@")
  [ ${#want[@]} -gt 0 ] || want=("${GUESTS[@]}")
  npm_tools "$TOOLS"
  apt_tools
  rm -rf "$BUILD/transpiled"
  local g
  for g in "${want[@]}"; do
    declare -F "build_${g//-/_}" >/dev/null || die "unknown guest $g (see --list)"
    log "guest $g"
    "build_${g//-/_}"
  done
  log "expected shapes (*.wit for components, *.abi for core modules)"
  outputs -newer "$BUILD/.start" | xargs -r node "$TOOLS/tools/shapes.mjs" --write >/dev/null
  log "sizes (bytes)"
  outputs -newer "$BUILD/.start" | while IFS= read -r f; do printf '%10d  %s\n' "$(stat -c %s "$f")" "${f#"$ROOT"/}"; done
}

mkdir -p "$BUILD" && touch "$BUILD/.start"
main "$@"
