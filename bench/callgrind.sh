#!/usr/bin/env bash
# Per-message instruction counts (Ir) of internal/host, by phase, from
# valgrind --tool=callgrind: repeatable whatever else the machine is doing.
#
# Each case runs bench/profile twice (N1 and N2 messages after a warm-up)
# and subtracts the two profiles, so setup (engine, cache load, linking)
# cancels out. Costs are inclusive per message.
#
#   bench/callgrind.sh                  # the default cases (c guest), ~10 min
#   CASES="testdata/guests/rust/rust.core.wasm:64" bench/callgrind.sh
#
# A case is WASM:PAYLOAD[:FLAGS], FLAGS a comma-separated list of
# bench/profile flags (e.g. -no-keep-resident,-timeout=0). Runs get
# RUST_BACKTRACE=0 RUST_LIB_BACKTRACE=0 (as in production) unless ENV
# overrides them, e.g. ENV="RUST_BACKTRACE=1".
#
# Notes: valgrind cannot reserve the default pooling allocator's address
# space (~4 TiB; the host would then fall back to on-demand allocation and
# profile the wrong thing), so runs use -small-pool (same settings, room for
# 2 instances). Add -follow=false to a case's FLAGS to profile with guest
# output discarded (redspin up -q -L ""). Ir counts a `rep stosb` memset once per byte: the teardown's
# keep-resident memset (131 k Ir for 128 KiB) costs far less time than its
# Ir share suggests. Kernel work (mmap, madvise, page faults) is not counted.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$(mktemp -d /tmp/redspin-callgrind.XXXXXX)}
N1=${N1:-20}
N2=${N2:-120}
CASES=${CASES:-"testdata/guests/c/c.core.wasm:64 testdata/guests/c/c.wasm:64 testdata/guests/c/c.core.wasm:65536 testdata/guests/c/c.wasm:65536"}
mkdir -p "$OUT/cache"
go build -o "$OUT/profile" ./bench/profile

# tsv FILE: "function<TAB>inclusive Ir" for every function.
tsv() {
	callgrind_annotate --auto=no --inclusive=yes --threshold=100 "$1" 2>/dev/null |
		grep -E '^ *[0-9,]+ \(' | grep -v 'PROGRAM TOTALS' |
		sed -E 's/^ *([0-9,]+) \([^)]*\) +(.*) \[[^]]*\]$/\2\t\1/; s/^ *([0-9,]+) \([^)]*\) +(.*)$/\2\t\1/' |
		tr -d , | sort -t "$(printf '\t')" -k1,1
}

# report NAME PAYLOAD N SMALL.tsv BIG.tsv: one row of per-message costs.
report() {
	join -t "$(printf '\t')" -a2 -e 0 -o 0,1.2,2.2 "$4" "$5" |
		awk -F'\t' -v n="$3" -v name="$1" -v payload="$2" '
		# the largest match: code inlined from another file is a separate entry
		function get(re,   k, v) { v = 0; for (k in d) if (k ~ re && d[k] > v) v = d[k]; return v }
		{ d[$1] = ($3 - $2) / n }
		END {
			total = get("internal/host\\.\\(\\*Host\\)\\.Handle$")
			store = get("internal/host\\.\\(\\*Host\\)\\.newStore$")
			inst = get("wasmtime\\.\\(\\*ComponentLinker\\)\\.Instantiate$") + get("wasmtime\\.\\(\\*InstancePre\\)\\.Instantiate$")
			call = get("wasmtime\\.\\(\\*ComponentFunc\\)\\.CallBytesResult$") + get("wasmtime\\.\\(\\*Func\\)\\.CallI32$")
			down = get("wasmtime\\.\\(\\*Store\\)\\.Close$")
			mset = get("manually_reset_region$")
			bt = get(":std::backtrace::Backtrace::capture$")
			# list<u8> as one 32-byte value per byte: building, converting,
			# lowering and freeing the values (component shape only).
			glue = get("glue.c:rs_call_bytes_result$"); fcall = get("\\?\\?\\?:wasmtime_component_func_call$")
			conv = get("for wasmtime::runtime::component::values::Val>::from$")
			low = get("values::Val::lower$"); dropv = get("drop_in_place<wasmtime::runtime::component::values::Val>$")
			list = 0
			if (glue > 0) list = (glue - fcall) + conv + low + dropv
			printf "%-34s %7d %9.0f %9.0f %9.0f %9.0f %9.0f %9.0f %9.0f %9.0f\n", name, payload, total, store, inst, call, down, mset, list, bt
		}'
}

printf '%-34s %7s %9s %9s %9s %9s %9s %9s %9s %9s\n' case payload "Handle" "newStore" "instant." "call" "teardown" "memset" "list<u8>" "backtrace"
for c in $CASES; do
	IFS=: read -r wasm payload flags <<<"$c"
	flags=${flags//,/ }
	name=$(basename "$wasm" .wasm)
	big=$(( payload >= 32768 ))
	n1=$N1 n2=$N2 warm=10
	if [ "$big" = 1 ]; then n1=4 n2=24 warm=3; fi
	"$OUT/profile" -small-pool -cache "$OUT/cache" -n 1 -warm 0 -wasm "$wasm" >/dev/null
	for n in $n1 $n2; do
		env RUST_BACKTRACE=0 RUST_LIB_BACKTRACE=0 ${ENV:-} GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file="$OUT/$name-$payload${flags// /}-$n.out" \
			"$OUT/profile" -small-pool -cache "$OUT/cache" -n "$n" -warm "$warm" -payload "$payload" -wasm "$wasm" $flags >/dev/null 2>"$OUT/valgrind.log"
		tsv "$OUT/$name-$payload${flags// /}-$n.out" >"$OUT/$name-$payload${flags// /}-$n.tsv"
	done
	report "$name${flags:+ $flags}" "$payload" $((n2 - n1)) "$OUT/$name-$payload${flags// /}-$n1.tsv" "$OUT/$name-$payload${flags// /}-$n2.tsv"
done
echo "(Ir per message; callgrind files in $OUT)"
