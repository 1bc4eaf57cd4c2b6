package main

import (
	"math"
	"slices"
	"time"
)

// Summary is the median, min and max of repeated runs of one figure.
type Summary struct {
	Median float64   `json:"median"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	Runs   []float64 `json:"runs"`
}

func summarize(xs []float64) Summary {
	if len(xs) == 0 {
		return Summary{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	var med float64
	if n := len(s); n%2 == 1 {
		med = s[n/2]
	} else {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return Summary{Median: med, Min: s[0], Max: s[len(s)-1], Runs: xs}
}

// percentile returns the p-th percentile (0..100) of sorted ds by the
// nearest-rank method.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}

// countFor sizes a run: enough messages to last about target at rate,
// within [lo, hi].
func countFor(rate float64, target time.Duration, lo, hi int) int {
	n := int(rate * target.Seconds())
	return max(lo, min(n, hi))
}
