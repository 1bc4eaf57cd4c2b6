#!/usr/bin/env bash
# The test command (README): every package under the race detector, then the
# tests that are too large for it (16 MiB payloads), one at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
go test -race -count=1 -timeout 20m ./...
go test -count=1 -timeout 10m -run 'Large' -p 1 ./internal/host/...
