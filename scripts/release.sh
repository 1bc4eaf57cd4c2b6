#!/usr/bin/env bash
# Builds the release binary: statically linked (cgo and libwasmtime.a
# included), with Go's own DNS resolver and user lookups (netgo, osusergo),
# stamped with the version and commit.
#
#   scripts/release.sh [output]       default output: dist/redspin-<os>-<arch>
#
# Environment: REDSPIN_VERSION (default: git describe), REDSPIN_COMMIT
# (default: git rev-parse HEAD).
#
# The static glibc link prints three linker warnings (getpwuid_r, getaddrinfo,
# dlopen, all referenced from libwasmtime.a). None is reachable from redspin;
# docs/deploy.md ("The static binary") says why, and scripts/check-static.sh
# exercises the paths that could reach them.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist/redspin-$(go env GOOS)-$(go env GOARCH)}
version=${REDSPIN_VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
commit=${REDSPIN_COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
mkdir -p "$(dirname "$out")"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! CGO_ENABLED=1 go build -trimpath -tags netgo,osusergo \
	-ldflags "-s -w -X main.releaseVersion=$version -X main.releaseCommit=$commit -linkmode external -extldflags=-static" \
	-o "$out" ./cmd/redspin 2>"$log"; then
	cat "$log" >&2
	exit 1
fi
# Show only linker output other than the three known, unreachable warnings.
grep -v -e "requires at runtime the shared libraries" -e "in function \`" -e "^# github.com/redspin/redspin/cmd/redspin$" "$log" >&2 || true
echo "$out"
