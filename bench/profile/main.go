// Command profile runs N messages through internal/host for one guest, for
// `valgrind --tool=callgrind`: run it twice with different -n and subtract
// the two profiles (bench/callgrind.sh) to get the cost of one message
// without the setup (engine, compile-cache load, linking).
//
//	go build -o /tmp/profile ./bench/profile
//	valgrind --tool=callgrind /tmp/profile -wasm testdata/guests/c/c.wasm -n 200
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redspin/redspin/internal/host"
)

func main() {
	wasm := flag.String("wasm", "testdata/guests/c/c.wasm", "guest binary (component or core module)")
	n := flag.Int("n", 200, "messages to handle after the warm-up")
	warm := flag.Int("warm", 20, "warm-up messages (not timed)")
	size := flag.Int("payload", 64, "payload size in bytes (a plain message)")
	text := flag.String("text", "", "send this payload instead (e.g. errsuccess: the guest prints nothing)")
	cache := flag.String("cache", "", "compiled-artifact cache dir (\"\" = compile)")
	noPool := flag.Bool("no-pooling", false, "host.Options.DisablePooling")
	noKeep := flag.Bool("no-keep-resident", false, "pooling without keep-resident memory")
	keep := flag.Int("keep-resident", -1, "pooling with this many bytes of each freed linear memory kept resident (-1 = host default)")
	small := flag.Bool("small-pool", false, "pooling with room for 2 instances only (valgrind cannot reserve the default pool's address space)")
	timeout := flag.Duration("timeout", 60*time.Second, "host.Options.HandlerTimeout (0 = the default, 60s; negative = none)")
	logDir := flag.String("log-dir", "", "host.Options.LogDir: guest output appended to files there")
	follow := flag.Bool("follow", true, "echo guest output (to -echo); false with -log-dir \"\" discards it (redspin up -q -L \"\")")
	workers := flag.Int("workers", 1, "goroutines sending messages concurrently")
	warmSlots := flag.Int("warm-slots", -1, "pooling with this MaxUnusedWarmSlots (-1 = host default)")
	echo := flag.String("echo", "", "file to echo guest output to (\"\" = io.Discard)")
	callbacks := flag.Bool("output-callbacks", false, "host.Options.OutputCallbacks: kept output through Wasmtime's stream callbacks instead of pipes")
	flag.Parse()

	opts := host.Options{Stderr: io.Discard, HandlerTimeout: *timeout, CacheDir: *cache, DisablePooling: *noPool, LogDir: *logDir, OutputCallbacks: *callbacks}
	if !*follow {
		opts.Follow = func(string) bool { return false }
	}
	if *echo != "" {
		f, err := os.OpenFile(*echo, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintln(os.Stderr, "profile:", err)
			os.Exit(1)
		}
		defer f.Close()
		opts.Stderr = f
	}
	if *noKeep {
		p := host.DefaultPooling()
		p.LinearMemoryKeepResident, p.TableKeepResident = 0, 0
		opts.Pooling = &p
	}
	if *keep >= 0 {
		p := host.DefaultPooling()
		p.LinearMemoryKeepResident = uint64(*keep)
		opts.Pooling = &p
	}
	if *warmSlots >= 0 {
		p := host.DefaultPooling()
		if opts.Pooling != nil {
			p = *opts.Pooling
		}
		p.MaxUnusedWarmSlots = uint32(*warmSlots)
		opts.Pooling = &p
	}
	if *small {
		p := host.DefaultPooling()
		if opts.Pooling != nil {
			p = *opts.Pooling
		}
		p.TotalComponentInstances, p.TotalCoreInstances, p.TotalMemories, p.TotalTables = 2, 8, 3, 8
		p.MaxUnusedWarmSlots = 2
		opts.Pooling = &p
	}
	ctx := context.Background()
	h, err := host.New(ctx, []host.ComponentConfig{{ID: "guest", WasmPath: *wasm}}, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		os.Exit(1)
	}
	defer h.Close()
	payload := make([]byte, *size)
	for i := range payload {
		payload[i] = 'm'
	}
	if *text != "" {
		payload = []byte(*text)
	}
	for range *warm {
		if err := h.Handle(ctx, "guest", payload); err != nil {
			fmt.Fprintln(os.Stderr, "profile:", err)
			os.Exit(1)
		}
	}
	cpu0 := cpuTime()
	start := time.Now()
	var wg sync.WaitGroup
	var next atomic.Int64
	for range max(*workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(*n) {
				if err := h.Handle(ctx, "guest", payload); err != nil {
					fmt.Fprintln(os.Stderr, "profile:", err)
					os.Exit(1)
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	cpu := cpuTime() - cpu0
	fmt.Printf("%d messages in %s: %.1f µs/msg, %.1f CPU-µs/msg, %s\n", *n, el,
		float64(el.Microseconds())/float64(max(*n, 1)), float64(cpu.Microseconds())/float64(max(*n, 1)), rss())
}

// rss reports the process's resident memory now and at its peak.
func rss() string {
	b, _ := os.ReadFile("/proc/self/status")
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") || strings.HasPrefix(l, "VmHWM:") {
			out = append(out, strings.Join(strings.Fields(l), " "))
		}
	}
	return strings.Join(out, ", ")
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
