#!/usr/bin/env bash
# Checks the release binary (CI): builds it with scripts/release.sh unless a
# path is given, then runs internal/release's tests against it: `file` and
# `ldd` say static, and with an empty environment (env -i) it runs an example
# on the embedded Redis, pushes to and runs from a registry named by host name
# (localhost), and reaches Redis by host name, without loading any shared
# library (checked with strace when installed).
#
#   scripts/check-static.sh [binary]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-}
if [[ -z "$bin" ]]; then
	bin=$(scripts/release.sh "$(mktemp -d)/redspin")
fi
bin=$(realpath "$bin")
REDSPIN_STATIC_BIN="$bin" go test -count=1 -v -run 'TestStatic' ./internal/release/
