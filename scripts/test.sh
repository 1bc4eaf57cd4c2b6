#!/usr/bin/env bash
# The test command (README): every package under the race detector, then the
# host tests the race detector makes too slow (16 MiB payloads, the 10,000-
# message memory check), without it, one package at a time, and the e2e
# fault test whose memory check the race runtime's own memory would blur.
set -euo pipefail
cd "$(dirname "$0")/.."
go test -race -count=1 -timeout 25m ./...
go test -count=1 -timeout 15m -p 1 -run 'TestPayloads|TestNoLeak|TestComponentPayloadMemory' ./internal/host/
go test -count=1 -timeout 10m -run 'TestFaultGuestFaultsMixed' ./e2e/
