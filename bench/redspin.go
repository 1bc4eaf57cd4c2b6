package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Metric names read from redspin's /metrics (internal/admin).
const (
	metricHandled  = "redspin_handler_handled_total"
	metricFailed   = "redspin_handler_failed_total"
	metricTimedOut = "redspin_handler_timed_out_total"
	metricDropped  = "redspin_messages_dropped_total"
	// The stream trigger's: an app has one kind of trigger here, so they
	// are summed with the pub/sub ones.
	metricStreamHandled = "redspin_stream_entries_handled_total"
	metricStreamFailed  = "redspin_stream_entries_failed_total"
)

// benchChannel is the channel the bench app subscribes to.
const benchChannel = "bench"

// buildRedspin builds ./cmd/redspin into dir once.
func buildRedspin(ctx context.Context, root, dir string) (string, error) {
	out := filepath.Join(dir, "redspin")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/redspin")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/redspin: %w\n%s", err, b)
	}
	return out, nil
}

// writeApp writes a one-component Spin app for wasm into dir, triggered by
// benchChannel on the bench Redis, or for a stream mode by benchStream
// with concurrency entries in flight; component is appended to the
// component's table (more keys, "" = none).
func writeApp(dir, wasm, redisAddr, mode string, concurrency int, component string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	b, err := os.ReadFile(wasm)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "guest.wasm"), b, 0o644); err != nil {
		return "", err
	}
	trigger := fmt.Sprintf(`[application.trigger.redis]
address = "redis://%s"

[[trigger.redis]]
channel = %q
component = "guest"`, redisAddr, benchChannel)
	if isStream(mode) {
		trigger = fmt.Sprintf(`[application.trigger.redis-stream]
address = "redis://%s"

[[trigger.redis-stream]]
stream = %q
component = "guest"
concurrency = %d`, redisAddr, benchStream, concurrency)
	}
	toml := fmt.Sprintf(`spin_manifest_version = 2

[application]
name = "bench"

%s

[component.guest]
source = "guest.wasm"
%s`, trigger, component)
	path := filepath.Join(dir, "spin.toml")
	return path, os.WriteFile(path, []byte(toml), 0o644)
}

// redspinProc is a running `redspin up`.
type redspinProc struct {
	cmd     *exec.Cmd
	admin   string
	started time.Time
	// activeAt is when the "Active Channels" line was read.
	activeAt time.Time
	active   chan time.Time // receives the time of the "Active Channels" line
	lenLine  chan time.Time // times of guest "len=" lines on stderr
	done     chan struct{}
	http     *http.Client

	mu   sync.Mutex
	tail []string // last lines of output, for errors
}

func (p *redspinProc) note(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.tail) >= 20 {
		p.tail = p.tail[1:]
	}
	p.tail = append(p.tail, line)
}

func (p *redspinProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.tail, "\n")
}

// startRedspin runs `redspin up` on manifest with an admin endpoint on a
// free loopback port, and returns once it has printed "Active Channels".
func startRedspin(ctx context.Context, bin, manifest, cacheDir string, extra ...string) (*redspinProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	p := &redspinProc{
		admin:   "127.0.0.1:" + strconv.Itoa(port),
		active:  make(chan time.Time, 1),
		lenLine: make(chan time.Time, 100000),
		done:    make(chan struct{}),
		http:    &http.Client{Timeout: 5 * time.Second},
	}
	args := append([]string{"up", "-f", manifest, "--listen-admin", p.admin, "--cache-dir", cacheDir}, extra...)
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = filepath.Dir(manifest)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	var readers sync.WaitGroup
	readers.Add(2)
	go func() {
		defer readers.Done()
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "Active Channels") || strings.HasPrefix(line, "Reading stream") {
				select {
				case p.active <- time.Now():
				default:
				}
			}
			p.note(line)
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() {
		defer readers.Done()
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			if len(line) > 4 && string(line[:4]) == "len=" {
				select {
				case p.lenLine <- time.Now():
				default:
				}
				continue
			}
			if !strings.Contains(string(line), " got ") { // a guest's plain-message line
				p.note(string(line))
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	go func() {
		readers.Wait()
		p.cmd.Wait()
		close(p.done)
	}()
	select {
	case p.activeAt = <-p.active:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("redspin up exited before subscribing:\n%s", p.output())
	case <-time.After(180 * time.Second):
		p.Stop()
		return nil, fmt.Errorf("redspin up did not print Active Channels in 180s:\n%s", p.output())
	case <-ctx.Done():
		p.Stop()
		return nil, ctx.Err()
	}
}

// WaitReady polls /readyz until it answers 200.
func (p *redspinProc) WaitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		resp, err := p.http.Get("http://" + p.admin + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("redspin exited:\n%s", p.output())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return fmt.Errorf("/readyz not ready after %s", timeout)
}

// counters is what the benchmark reads back from /metrics.
type counters struct {
	handled, failed, timedOut, dropped float64
}

func (c counters) finished() float64 { return c.handled + c.failed + c.timedOut + c.dropped }

// parseMetrics sums the series of the counters the benchmark needs.
func parseMetrics(text string) counters {
	var c counters
	for _, line := range strings.Split(text, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		name := line
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name = line[:i]
		}
		var dst *float64
		switch name {
		case metricHandled, metricStreamHandled:
			dst = &c.handled
		case metricFailed, metricStreamFailed:
			dst = &c.failed
		case metricTimedOut:
			dst = &c.timedOut
		case metricDropped:
			dst = &c.dropped
		default:
			continue
		}
		f := strings.Fields(line)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			*dst += v
		}
	}
	return c
}

// Metrics scrapes /metrics.
func (p *redspinProc) Metrics() (counters, error) {
	resp, err := p.http.Get("http://" + p.admin + "/metrics")
	if err != nil {
		return counters{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return counters{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return counters{}, fmt.Errorf("/metrics: %s", resp.Status)
	}
	return parseMetrics(string(b)), nil
}

// CPUTime is the process's user+system CPU time so far, all threads
// (from /proc/<pid>/stat, in clock ticks of 10 ms; 0 if unreadable).
func (p *redspinProc) CPUTime() time.Duration { return procCPUTime(p.cmd.Process.Pid) }

// clockTick is Linux's USER_HZ, the unit of /proc/<pid>/stat's times.
const clockTick = 10 * time.Millisecond

func procCPUTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: count from after it.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(utime+stime) * clockTick
}

// PeakRSS reads VmHWM (peak resident set) of the process, in KiB.
func (p *redspinProc) PeakRSS() int64 { return peakRSS(p.cmd.Process.Pid) }

func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}

// Stop sends SIGTERM (graceful shutdown) and kills after a grace period.
func (p *redspinProc) Stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	stopProcess(p.cmd.Process, p.done, 10*time.Second)
}

// errStalled reports a run whose handled count stopped moving.
var errStalled = errors.New("no progress")
