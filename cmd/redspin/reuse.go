package main

import (
	"fmt"
	"time"

	"github.com/redspin/redspin/internal/host"
)

// reuseFlags are redspin up's instance-reuse flags (Spin 4's names).
type reuseFlags struct {
	count string
	idle  time.Duration
}

// reuse validates the flags into the host's option; maxLive is
// --max-concurrency.
func (f *reuseFlags) reuse(maxLive int) (host.Reuse, error) {
	min, max, err := host.ParseReuseCount(f.count)
	if err != nil {
		return host.Reuse{}, fmt.Errorf("--max-instance-reuse-count %w", err)
	}
	if f.idle <= 0 {
		return host.Reuse{}, fmt.Errorf("--idle-instance-timeout %s: must be above 0", f.idle)
	}
	return host.Reuse{Min: min, Max: max, IdleTimeout: f.idle, MaxLive: maxLive}, nil
}
