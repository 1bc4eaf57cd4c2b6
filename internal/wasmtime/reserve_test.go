//go:build linux

package wasmtime

import (
	"os"
	"strings"
	"syscall"
	"testing"
)

// TestPoolingReservationRefused: when the pool's address space cannot be
// reserved (here: RLIMIT_AS), NewEngine returns an error instead of
// Wasmtime aborting the process, and a smaller pool still works.
func TestPoolingReservationRefused(t *testing.T) {
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &old); err != nil {
		t.Fatal(err)
	}
	// Room for the process as it is plus 64 GiB: not for ~4 TiB of pool.
	lim := old
	lim.Cur = min(old.Max, vmSize(t)+64<<30)
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &lim); err != nil {
		t.Skip("cannot lower RLIMIT_AS:", err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_AS, &old)

	big := PoolingConfig{TotalMemories: 1000, TotalComponentInstances: 500, TotalCoreInstances: 1000}
	if PoolReservation(big) <= 64<<30 {
		t.Fatalf("PoolReservation = %d, want > 64 GiB", PoolReservation(big))
	}
	_, err := NewEngine(EngineConfig{Pooling: &big})
	if err == nil || !strings.Contains(err.Error(), "address space") {
		t.Fatalf("NewEngine with a 4 TiB pool under a 64 GiB limit: err = %v", err)
	}
	small := PoolingConfig{TotalMemories: 4, TotalTables: 4, TotalComponentInstances: 2, TotalCoreInstances: 4}
	e, err := NewEngine(EngineConfig{Pooling: &small})
	if err != nil {
		t.Fatalf("small pool: %v", err)
	}
	e.Close()
}

func vmSize(t *testing.T) uint64 {
	var n uint64
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skip(err)
	}
	var pages uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		pages = pages*10 + uint64(c-'0')
	}
	n = pages * uint64(syscall.Getpagesize())
	return n
}
