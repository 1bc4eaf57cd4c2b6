package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// isCComponent keeps only the C guest as a component (small and quick).
func isCComponent(g testGuest) bool { return g.name == "c" && g.shape == ShapeComponent }

// lenPayload is a "len:" protocol payload of n bytes.
func lenPayload(n int) []byte {
	p := make([]byte, n)
	copy(p, "len:")
	for i := 4; i < n; i++ {
		p[i] = 'x'
	}
	return p
}

// cpuTime is the CPU time (user + system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resetPeakRSS resets VmHWM (Linux: writing 5 to clear_refs); false when
// it cannot.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// BenchmarkComponentPayload measures lowering a list<u8> payload into a
// component (the C guest answering "len:"), per MiB of payload: us_per_MiB
// (mean wall time of the whole message), min_us_per_MiB (the fastest),
// cpu_us_per_MiB (the process's CPU time, which a loaded machine inflates
// less), and peak_B_per_B, the growth of the peak resident set over the
// resident set before the message, per payload byte.
func BenchmarkComponentPayload(b *testing.B) {
	f := newFixtureOf(b, Options{HandlerTimeout: time.Minute, ComponentPayloadBudget: -1, MaxComponentPayload: -1}, nil, nil, isCComponent)
	id := f.guests[0].id()
	for _, mib := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("%dMiB", mib), func(b *testing.B) {
			payload := lenPayload(mib << 20)
			if err := f.h.Handle(context.Background(), id, payload); err != nil { // warm
				b.Fatal(err)
			}
			var peak float64
			fastest, cpu := time.Duration(1<<62), time.Duration(0)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				base := vmRSS(b)
				hwm := resetPeakRSS()
				b.StartTimer()
				start, cpu0 := time.Now(), cpuTime()
				if err := f.h.Handle(context.Background(), id, payload); err != nil {
					b.Fatal(err)
				}
				fastest = min(fastest, time.Since(start))
				cpu += cpuTime() - cpu0
				b.StopTimer()
				if hwm {
					peak = max(peak, float64(vmHWM(b)-base)*1024/float64(len(payload)))
				}
				b.StartTimer()
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(mib), "us_per_MiB")
			b.ReportMetric(float64(fastest.Microseconds())/float64(mib), "min_us_per_MiB")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N)/float64(mib), "cpu_us_per_MiB")
			b.ReportMetric(peak, "peak_B_per_B")
			b.ReportMetric(float64(vmRSS(b))/1024, "rss_after_MiB")
		})
	}
}

// A component payload that cannot be lowered in the time the message has
// fails at once with a timeout, instead of overrunning it (lowering cannot
// be interrupted).
func TestComponentPayloadDeadline(t *testing.T) {
	f := newFixtureOf(t, Options{HandlerTimeout: time.Second, MaxComponentPayload: 32 << 20, ComponentPayloadBudget: 32 << 20}, nil, nil, isCComponent)
	id := f.guests[0].id()
	payload := lenPayload(16 << 20)
	start := time.Now()
	err := f.h.Handle(context.Background(), id, payload)
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "--handler-timeout") ||
		!strings.Contains(err.Error(), `component "`+id+`"`) {
		t.Errorf("16 MiB with a 1s timeout: %v", err)
	}
	if took > 1200*time.Millisecond {
		t.Errorf("16 MiB with a 1s timeout took %s, want < 1.2s", took)
	}
	t.Logf("%s: %v", took, err)
	// The context's deadline counts the same way.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := f.h.Handle(ctx, id, payload[:8<<20]); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("8 MiB with a 100ms context: %v", err)
	}
	// What fits still runs.
	if err := f.h.Handle(context.Background(), id, lenPayload(1000)); err != nil {
		t.Fatal(err)
	}
}

// Waiting for the payload budget counts against the message's deadline,
// and the error names the flag.
func TestComponentPayloadBudgetWait(t *testing.T) {
	f := newFixtureOf(t, Options{HandlerTimeout: 300 * time.Millisecond, MaxComponentPayload: 1 << 20, ComponentPayloadBudget: 1 << 20}, nil, nil, isCComponent)
	id := f.guests[0].id()
	// Another message holds the whole budget.
	if !f.h.budget.sem.TryAcquire(1 << 20) {
		t.Fatal("budget not free")
	}
	start := time.Now()
	err := f.h.Handle(context.Background(), id, lenPayload(1000))
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "--component-payload-budget") {
		t.Errorf("waiting for the budget: %v", err)
	}
	if took < 250*time.Millisecond || took > 2*time.Second {
		t.Errorf("waited %s, want about the 300ms timeout", took)
	}
	// Cancellation ends the wait too.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	if err := f.h.Handle(ctx, id, lenPayload(1000)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled while waiting: %v", err)
	}
	f.h.budget.sem.Release(1 << 20)
	if err := f.h.Handle(context.Background(), id, lenPayload(1000)); err != nil {
		t.Fatalf("after the budget is free: %v", err)
	}
	if got := f.stdout(t, id); !strings.Contains(got, "len=1000\n") {
		t.Errorf("stdout = %q", got)
	}
}

// Payload options: a cap above the budget is refused at New, and without a
// cap a payload over the budget is refused naming the budget's flag.
func TestComponentPayloadOptions(t *testing.T) {
	gs := protocolGuests(t)
	var comps []ComponentConfig
	for _, g := range gs {
		if isCComponent(g) {
			comps = append(comps, ComponentConfig{ID: g.id(), WasmPath: g.path})
		}
	}
	_, err := New(context.Background(), comps, Options{MaxComponentPayload: 16 << 20, ComponentPayloadBudget: 8 << 20, CacheDir: testCacheDir})
	if err == nil || !strings.Contains(err.Error(), "--max-component-payload 16 MiB exceeds --component-payload-budget 8 MiB") {
		t.Errorf("cap over budget: %v", err)
	}
	f := newFixtureOf(t, Options{MaxComponentPayload: -1, ComponentPayloadBudget: 1000}, nil, nil, isCComponent)
	err = f.h.Handle(context.Background(), f.guests[0].id(), make([]byte, 1001))
	if !errors.Is(err, ErrPayloadTooLarge) || !strings.Contains(err.Error(), "--component-payload-budget") {
		t.Errorf("over the budget without a cap: %v", err)
	}
	// The default cap names its flag.
	d := newFixtureOf(t, Options{}, nil, nil, isCComponent)
	err = d.h.Handle(context.Background(), d.guests[0].id(), make([]byte, DefaultMaxComponentPayload+1))
	if !errors.Is(err, ErrPayloadTooLarge) || !strings.Contains(err.Error(), "--max-component-payload") {
		t.Errorf("over the default cap: %v", err)
	}
}

// Eight concurrent 4 MiB component messages under a 8 MiB budget: peak
// resident memory grows by at most what the budget allows (about
// lowerBytesPerByte per budget byte), every message is handled or refused
// naming a flag, and resident memory returns near its baseline.
func TestComponentPayloadMemory(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("big payloads (skipped with -race and -short)")
	}
	const budget, size, n = 8 << 20, 4 << 20, 8
	f := newFixtureOf(t, Options{HandlerTimeout: time.Minute, MaxComponentPayload: size, ComponentPayloadBudget: budget}, nil, nil, isCComponent)
	id := f.guests[0].id()
	payloads := make([][]byte, n)
	for i := range payloads {
		payloads[i] = lenPayload(size)
	}
	// Warm up: the first message pays for the allocator's and the pool's
	// first use.
	if err := f.h.Handle(context.Background(), id, payloads[0]); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	base := vmRSS(t)
	if !resetPeakRSS() {
		t.Skip("cannot reset the peak RSS (/proc/self/clear_refs)")
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f.h.Handle(context.Background(), id, payloads[i])
		}()
	}
	wg.Wait()
	peak := vmHWM(t)
	handled := 0
	for i, err := range errs {
		switch {
		case err == nil:
			handled++
		case strings.Contains(err.Error(), "--component-payload-budget") || strings.Contains(err.Error(), "--max-component-payload"):
			t.Logf("message %d refused: %v", i, err)
		default:
			t.Errorf("message %d: %v", i, err)
		}
	}
	if got := strings.Count(f.stdout(t, id), fmt.Sprintf("len=%d\n", size)); got != handled+1 {
		t.Errorf("%d len lines for %d handled messages", got, handled+1)
	}
	// Lowering: the budget times the measured cost per byte; then each
	// message's instance holds its payload once more (n × size), plus slack
	// for the allocator.
	limitKiB := (budget*lowerBytesPerByte + n*size + 64<<20) >> 10
	growth := peak - base
	t.Logf("baseline %d MiB, peak %d MiB (growth %d MiB, limit %d MiB), %d/%d handled", base>>10, peak>>10, growth>>10, limitKiB>>10, handled, n)
	if growth > limitKiB {
		t.Errorf("peak RSS grew by %d MiB, over the %d MiB the budget allows", growth>>10, limitKiB>>10)
	}
	// Back near the baseline (polled: freed memory may be returned late).
	deadline := time.Now().Add(10 * time.Second)
	for {
		after := vmRSS(t)
		if after <= base+64<<10 {
			t.Logf("RSS after: %d MiB", after>>10)
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("RSS %d MiB stayed above the baseline %d MiB + 64 MiB", after>>10, base>>10)
			break
		}
		runtime.GC()
		time.Sleep(50 * time.Millisecond)
	}
}

// Duration options follow one rule: 0 = the default, negative = off.
func TestDurationOptions(t *testing.T) {
	for _, c := range []struct {
		opt  time.Duration
		want time.Duration // 0: no deadline
	}{{0, DefaultHandlerTimeout}, {-1, 0}, {time.Second, time.Second}} {
		f := newFixtureOf(t, Options{HandlerTimeout: c.opt}, nil, nil, isCComponent)
		dl := f.h.deadlineOf(context.Background())
		if c.want == 0 {
			if !dl.at.IsZero() {
				t.Errorf("HandlerTimeout %v: deadline in %v, want none", c.opt, time.Until(dl.at))
			}
			continue
		}
		if left := time.Until(dl.at); left > c.want || left < c.want-time.Second {
			t.Errorf("HandlerTimeout %v: deadline in %v, want %v", c.opt, left, c.want)
		}
	}
	// EpochTick off: no ticker; the guest runs, deadlines are not enforced
	// by interruption.
	f := newFixtureOf(t, Options{EpochTick: -1}, nil, nil, isCComponent)
	if err := f.h.Handle(context.Background(), f.guests[0].id(), []byte("len")); err != nil {
		t.Fatal(err)
	}
}

// The lowering estimate moves a quarter of the way to each observation of
// a big payload, within its bounds, and ignores small payloads.
func TestLoweringEstimate(t *testing.T) {
	h := &Host{}
	h.lowerRate.Store(int64(lowerPerMiB))
	h.observeLowering(1<<20, 20*time.Millisecond)
	if got, want := time.Duration(h.lowerRate.Load()), lowerPerMiB-(lowerPerMiB-20*time.Millisecond)/4; got != want {
		t.Errorf("after a fast 1 MiB: %v, want %v", got, want)
	}
	h.observeLowering(1000, time.Hour) // too small to count
	h.observeLowering(1<<20, time.Hour)
	if got, want := time.Duration(h.lowerRate.Load()), 65*time.Millisecond+(8*lowerPerMiB-65*time.Millisecond)/4; got != want {
		t.Errorf("after a very slow 1 MiB: %v, want %v (clamped)", got, want)
	}
	if got := h.lowerTime(4 << 20); got != 4*time.Duration(h.lowerRate.Load()) {
		t.Errorf("lowerTime(4 MiB) = %v", got)
	}
}
