//go:build unix && race

package e2e

// raceEnabled builds the redspin binary with -race too.
const raceEnabled = true
