//go:build race

package host

// raceEnabled skips the big-payload and long-running tests under -race.
const raceEnabled = true
