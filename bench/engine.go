package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redspin/redspin/internal/host"
)

// engineVariant is one host configuration the engine limit is measured
// with: the default, and each optimisation the host lets us switch off.
type engineVariant struct {
	Name  string
	Apply func(*host.Options)
}

var engineVariants = map[string]engineVariant{
	"default": {"default", func(*host.Options) {}},
	// The pooling allocator off: every instance mmaps its memories anew.
	"no-pooling": {"no-pooling", func(o *host.Options) { o.DisablePooling = true }},
	// Pooling on, but freed memories are not kept resident: each reuse of a
	// slot faults its pages in again (what pooling alone buys).
	"no-keep-resident": {"no-keep-resident", func(o *host.Options) {
		p := host.DefaultPooling()
		p.LinearMemoryKeepResident = 0
		p.TableKeepResident = 0
		o.Pooling = &p
	}},
	// Pooling keeping only 32 KiB of each freed memory resident (default
	// 128 KiB): less memset per message, more page faults.
	"keep-resident-32k": {"keep-resident-32k", func(o *host.Options) {
		p := host.DefaultPooling()
		p.LinearMemoryKeepResident = 32 << 10
		o.Pooling = &p
	}},
	// Pooling keeping 128 KiB of each freed memory resident (the default
	// before the first performance pass).
	"keep-resident-128k": {"keep-resident-128k", func(o *host.Options) {
		p := host.DefaultPooling()
		p.LinearMemoryKeepResident = 128 << 10
		o.Pooling = &p
	}},
	// Pooling keeping 4 MiB of each freed memory resident: guests that touch
	// more than 128 KiB per message (Go) stop paying page faults for it.
	"keep-resident-4m": {"keep-resident-4m", func(o *host.Options) {
		p := host.DefaultPooling()
		p.LinearMemoryKeepResident = 4 << 20
		o.Pooling = &p
	}},
	// Guest output kept (echoed to io.Discard, as `redspin up -L ""` without
	// -q echoes it to stderr): the cost of a configured stdout/stderr stream,
	// measured with the plain payload, which the guest answers with a line.
	"echo-output": {"echo-output", func(o *host.Options) { o.Follow = nil }},
	// The same through Wasmtime's stream callbacks instead of pipes (the
	// way output was kept before the third pass).
	"echo-output-callbacks": {"echo-output-callbacks", func(o *host.Options) { o.Follow, o.OutputCallbacks = nil, true }},
	// No handler timeout: no epoch deadline callback armed per message.
	"no-timeout": {"no-timeout", func(o *host.Options) { o.HandlerTimeout = -1 }},
}

// engineHost loads one guest in-process, configured as `redspin up` does by
// default (60 s handler timeout, guest output discarded); imports are its
// Spin host interfaces (nil = none). reuse > 1 lets each instance serve
// that many messages, with at most maxLive instances (as
// --max-instance-reuse-count with --max-concurrency maxLive).
func engineHost(ctx context.Context, wasm, cacheDir string, v engineVariant, imports host.Imports, reuse, maxLive int) (*host.Host, error) {
	opts := host.Options{
		Stderr:         io.Discard,
		Follow:         func(string) bool { return false },
		HandlerTimeout: 60 * time.Second,
		CacheDir:       cacheDir,
	}
	if reuse > 1 {
		opts.Reuse = host.Reuse{Min: reuse, Max: reuse, MaxLive: maxLive}
	}
	v.Apply(&opts)
	return host.New(ctx, []host.ComponentConfig{{ID: "guest", WasmPath: wasm, Imports: imports}}, opts)
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// engineRun handles n messages with workers goroutines sharing one Host and
// returns messages per second. Any handler error fails the run.
func engineRun(ctx context.Context, h *host.Host, payload []byte, n, workers int) (float64, error) {
	rate, _, err := engineRunCPU(ctx, h, payload, n, workers)
	return rate, err
}

// engineRunCPU is engineRun that also returns the process CPU time (user +
// system, all threads) per message in µs: less disturbed than wall time
// when other processes share the cores.
func engineRunCPU(ctx context.Context, h *host.Host, payload []byte, n, workers int) (float64, float64, error) {
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start, cpu0 := time.Now(), cpuTime()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if err := h.Handle(ctx, "guest", payload); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	el, cpu := time.Since(start), cpuTime()-cpu0
	if firstErr != nil {
		return 0, 0, fmt.Errorf("engine: %w", firstErr)
	}
	return float64(n) / el.Seconds(), float64(cpu.Microseconds()) / float64(n), nil
}

// engineCalibrate runs messages for about d and returns the rate seen.
func engineCalibrate(ctx context.Context, h *host.Host, payload []byte, workers int, d time.Duration) (float64, error) {
	start := time.Now()
	n := 0
	for time.Since(start) < d {
		k := max(workers, 1)
		if _, err := engineRun(ctx, h, payload, k, workers); err != nil {
			return 0, err
		}
		n += k
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
