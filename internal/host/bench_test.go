package host

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkHandle measures one message per guest and shape, end to end
// through Handle: "quiet" sends "errsuccess" (the guest prints nothing),
// "print" a 64-byte payload the guest answers with one stdout line (written
// to the log file and echoed), with the phases reported separately:
// inst_us (store, WASI context, instantiation), call_us (the handler, and
// for modules _initialize, realloc and post-return), teardown_us (output
// flush and store drop). /nopool runs without the pooling allocator.
func BenchmarkHandle(b *testing.B) {
	for _, pooling := range []bool{true, false} {
		f := newFixture(b, Options{DisablePooling: !pooling, HandlerTimeout: time.Minute}, nil, nil)
		for _, g := range f.guests {
			for _, mode := range []string{"quiet", "print"} {
				payload := []byte("errsuccess")
				if mode == "print" {
					payload = []byte("bench:" + strings.Repeat("p", 58))
				}
				name := g.id() + "/" + mode
				if !pooling {
					name += "/nopool"
				}
				b.Run(name, func(b *testing.B) {
					ph := &phaseTimes{}
					f.h.phases = ph
					defer func() { f.h.phases = nil }()
					ctx := context.Background()
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						if err := f.h.Handle(ctx, g.id(), payload); err != nil {
							b.Fatal(err)
						}
					}
					b.StopTimer()
					if ph.n > 0 {
						n := float64(ph.n)
						b.ReportMetric(float64(ph.instantiate.Microseconds())/n, "inst_us")
						b.ReportMetric(float64(ph.call.Microseconds())/n, "call_us")
						b.ReportMetric(float64(ph.teardown.Microseconds())/n, "teardown_us")
					}
				})
			}
		}
	}
}

// vmRSS reads this process's resident set size in KiB.
func vmRSS(t testing.TB) int { return procStatus(t, "VmRSS:") }

// vmHWM reads this process's peak resident set size in KiB.
func vmHWM(t testing.TB) int { return procStatus(t, "VmHWM:") }

// procStatus reads a KiB field of /proc/self/status.
func procStatus(t testing.TB, field string) int {
	fh, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	t.Skip("no " + field)
	return 0
}

// TestNoLeak runs 10,000 sequential messages through each guest; resident
// memory after them must stay within 10% of that after the first 1,000.
func TestNoLeak(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("long test (skipped with -short and -race)")
	}
	f := newFixture(t, Options{HandlerTimeout: time.Minute, LogDir: ""}, nil, nil)
	for _, g := range f.guests {
		t.Run(g.id(), func(t *testing.T) {
			ctx := context.Background()
			payload := []byte("leak-check")
			var at1000 int
			start := time.Now()
			for i := 1; i <= 10000; i++ {
				if err := f.h.Handle(ctx, g.id(), payload); err != nil {
					t.Fatal(err)
				}
				if i == 1000 {
					at1000 = vmRSS(t)
				}
			}
			after := vmRSS(t)
			t.Logf("VmRSS after 1,000: %d KiB, after 10,000: %d KiB (%s per message)", at1000, after, time.Since(start)/10000)
			if float64(after) > float64(at1000)*1.10 {
				t.Errorf("VmRSS grew from %d KiB to %d KiB (> 10%%)", at1000, after)
			}
		})
	}
}

var _ = fmt.Sprintf
