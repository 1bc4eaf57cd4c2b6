// Command bench measures redspin against the two limits that bound it on
// this machine, in one bounded run:
//
//   - transport limit: a native go-redis subscriber counting messages from a
//     pipelined publisher (no Wasm);
//   - engine limit: internal/host's Handle in a loop, in-process, with 1
//     worker (ordered) and one per CPU (concurrent), no Redis;
//   - redspin end to end: `redspin up` on a one-component app, N messages
//     published as fast as Redis accepts them, timed from the first publish
//     to the last handler completion seen in /metrics;
//
// plus publish → handler latency at a fixed rate, startup time with a cold
// and a warm compile cache, and the peak RSS of redspin under load. It
// starts its own redis-server on a random loopback port and stops it by pid.
//
// Run from the module root:
//
//	go run ./bench                       # everything (≈ 5 min on 2 cores)
//	go run ./bench -guests c -quick      # one guest, 1 run per figure
//
// It prints a table, writes bench/results/<date>.json and ends with one
// RESULT line per (guest, shape, mode, payload). See docs/performance.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redspin/redspin/internal/host"
)

// config is the command line.
type config struct {
	guests, shapes, modes []string
	payloads              []int
	reuse                 []int
	runs                  int
	engineTarget          time.Duration
	e2eTarget             time.Duration
	budget                time.Duration
	skip                  map[string]bool
	ablations             []string
	variants              []string
	out                   string
	redspin               string
	quick                 bool
	rustBacktrace         bool
}

func parseFlags() (*config, error) {
	var (
		guests    = flag.String("guests", "c,rust,go,js,js-http", "guests to run (testdata/guests/<name>/<name>.wasm and <name>.core.wasm; js-http fetch()es a loopback HTTP server the bench starts)")
		shapes    = flag.String("shapes", "component,module", "guest shapes: component (<name>.wasm), module (<name>.core.wasm)")
		modes     = flag.String("modes", "ordered,concurrent,stream,stream-concurrent", "ordered (1 worker / default --max-concurrency), concurrent (one per CPU), and the same through a redis-stream trigger: stream (concurrency 1), stream-concurrent (one per CPU)")
		payloads  = flag.String("payloads", "64,65536", "payload sizes in bytes")
		reuse     = flag.String("reuse", "1", "instance reuse counts to run every guest with (--max-instance-reuse-count; 1 = a fresh instance per message)")
		runs      = flag.Int("runs", 3, "runs per figure (median, min and max are reported)")
		quick     = flag.Bool("quick", false, "1 run per figure and short runs, for development")
		engineT   = flag.Duration("engine-run", 300*time.Millisecond, "target duration of one engine-limit run")
		e2eT      = flag.Duration("e2e-run", 500*time.Millisecond, "target duration of one end-to-end run")
		budget    = flag.Duration("budget", 5*time.Minute, "stop starting new figures after this long")
		skip      = flag.String("skip", "", "figures to skip: transport,engine,e2e,latency,startup")
		ablations = flag.String("ablations", "c", "guests whose engine limit is also measured with each host optimisation switched off")
		variants  = flag.String("variants", "echo-output,echo-output-callbacks,no-pooling,no-keep-resident,keep-resident-128k,no-timeout", "the ablation variants (see engineVariants)")
		out       = flag.String("out", "bench/results", "directory for the JSON results; \"\" = none")
		redspin   = flag.String("redspin", "", "use this redspin binary instead of building ./cmd/redspin")
		rustBT    = flag.Bool("rust-backtrace", false, "keep RUST_BACKTRACE's effect on library errors (default: RUST_LIB_BACKTRACE=0, as in production)")
	)
	flag.Parse()
	c := &config{
		guests: split(*guests), shapes: split(*shapes), modes: split(*modes),
		runs: *runs, engineTarget: *engineT, e2eTarget: *e2eT, budget: *budget,
		skip: map[string]bool{}, ablations: split(*ablations), variants: split(*variants),
		out: *out, redspin: *redspin, quick: *quick, rustBacktrace: *rustBT,
	}
	for _, s := range split(*payloads) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 4 {
			return nil, fmt.Errorf("-payloads: %q is not a size of at least 4 bytes", s)
		}
		c.payloads = append(c.payloads, n)
	}
	for _, s := range split(*reuse) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-reuse: %q is not a count of at least 1", s)
		}
		c.reuse = append(c.reuse, n)
	}
	for _, s := range split(*skip) {
		c.skip[s] = true
	}
	for _, m := range c.modes {
		if m != "ordered" && m != "concurrent" && !isStream(m) {
			return nil, fmt.Errorf("-modes: %q: want ordered, concurrent, stream or stream-concurrent", m)
		}
	}
	for _, s := range c.shapes {
		if s != "component" && s != "module" {
			return nil, fmt.Errorf("-shapes: %q: want component or module", s)
		}
	}
	for _, v := range c.variants {
		if _, ok := engineVariants[v]; !ok {
			return nil, fmt.Errorf("-variants: unknown %q", v)
		}
	}
	if c.quick {
		c.runs = 1
		c.engineTarget = min(c.engineTarget, 150*time.Millisecond)
		c.e2eTarget = min(c.e2eTarget, 300*time.Millisecond)
	}
	if c.runs < 1 {
		c.runs = 1
	}
	return c, nil
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func main() {
	cfg, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// moduleRoot is the directory of go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run from inside the redspin module (go run ./bench)")
	}
	return filepath.Dir(mod), nil
}

// guestFile is one guest binary in one shape.
type guestFile struct {
	Guest, Shape, Path string
	// Reuse is the instance reuse count it runs with (-reuse; 1 = a fresh
	// instance per message).
	Reuse int
}

func findGuests(root string, cfg *config) (found []guestFile, missing []string) {
	for _, g := range cfg.guests {
		for _, s := range cfg.shapes {
			name := g + ".wasm"
			if s == "module" {
				name = g + ".core.wasm"
			}
			p := filepath.Join(root, "testdata", "guests", g, name)
			if _, err := os.Stat(p); err != nil {
				missing = append(missing, fmt.Sprintf("%s/%s (%s)", g, s, filepath.Join("testdata", "guests", g, name)))
				continue
			}
			found = append(found, guestFile{g, s, p, 1})
		}
	}
	// Every guest at each reuse count, the counts in -reuse order.
	var runs []guestFile
	for _, r := range cfg.reuse {
		for _, g := range found {
			g.Reuse = r
			runs = append(runs, g)
		}
	}
	found = runs
	return found, missing
}

func run(ctx context.Context, cfg *config) error {
	began := time.Now()
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "redspin-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	// With RUST_BACKTRACE=1 in the environment, every error Wasmtime
	// creates internally captures a backtrace (a WASI call answering EBADF
	// costs ~47 k instructions): not what production sees, so unless asked,
	// library backtraces are off here and in the redspin we start.
	if !cfg.rustBacktrace {
		os.Setenv("RUST_LIB_BACKTRACE", "0")
	}
	res := &Results{
		Date: began.UTC().Format(time.RFC3339), GoVersion: runtime.Version(),
		CPUs: runtime.NumCPU(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
		Runs: cfg.runs, Quick: cfg.quick, CPU: cpuModel(),
		Env:     map[string]string{"RUST_BACKTRACE": os.Getenv("RUST_BACKTRACE"), "RUST_LIB_BACKTRACE": os.Getenv("RUST_LIB_BACKTRACE")},
		LoadAvg: loadAvg(),
	}
	b := &bencher{cfg: cfg, res: res, root: root, tmp: tmp, began: began}

	redis, err := startRedis(ctx)
	if err != nil {
		return err
	}
	defer redis.Stop()
	defer func() {
		if b.http != nil {
			b.http.close()
		}
	}()
	b.redis = redis
	res.RedisVersion = redis.Version
	logf("redis-server %s on %s (pid %d)", redis.Version, redis.Addr, redis.cmd.Process.Pid)

	guests, missing := findGuests(root, cfg)
	for _, m := range missing {
		res.note("guest not found, skipped: %s", m)
	}

	if !cfg.skip["transport"] {
		b.transport(ctx)
	}
	if !cfg.skip["engine"] {
		for _, g := range guests {
			b.engine(ctx, g)
		}
	}
	needRedspin := !cfg.skip["e2e"] || !cfg.skip["startup"] || !cfg.skip["latency"]
	if needRedspin && len(guests) > 0 {
		bin := cfg.redspin
		if bin == "" {
			logf("building ./cmd/redspin")
			bin, err = buildRedspin(ctx, root, tmp)
		}
		if err != nil {
			res.note("redspin end to end, latency and startup skipped: %v", err)
		} else {
			b.bin = bin
			for _, g := range guests {
				if !cfg.skip["startup"] && g.Reuse == 1 { // reuse does not change startup
					b.startup(ctx, g)
				}
				if !cfg.skip["e2e"] || !cfg.skip["latency"] {
					for _, m := range cfg.modes {
						b.e2e(ctx, g, m)
					}
				}
			}
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	res.Elapsed = time.Since(began).Round(time.Millisecond).String()
	res.LoadAvgEnd = loadAvg()
	res.finish(guests, cfg)

	printTable(os.Stdout, res)
	if cfg.out != "" {
		dir := cfg.out
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(root, dir)
		}
		path, err := res.write(dir, began)
		if err != nil {
			return err
		}
		fmt.Printf("\nresults: %s\n", relTo(root, path))
	}
	fmt.Println()
	for _, r := range res.Results {
		fmt.Println(r.Line())
	}
	return nil
}

func relTo(root, p string) string {
	if r, err := filepath.Rel(root, p); err == nil {
		return r
	}
	return p
}

var logStart = time.Now()

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: %5.1fs "+format+"\n", append([]any{time.Since(logStart).Seconds()}, args...)...)
}

// loadAvg is /proc/loadavg: other load on the machine skews wall-clock
// figures (the JSON records it at the start and the end).
func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return strings.TrimSpace(string(b))
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// bencher runs the figures and collects them into res.
type bencher struct {
	cfg   *config
	res   *Results
	root  string
	tmp   string
	began time.Time
	redis *redisServer
	bin   string
	// http is the server the HTTP guest calls (started when it is benchmarked).
	http *httpTarget
}

// httpTarget is the server the HTTP guest calls, started on first use.
func (b *bencher) httpTarget() *httpTarget {
	if b.http == nil {
		b.http = startHTTPTarget()
	}
	return b.http
}

// loads are a guest's messages: one plain payload per size, or, for the HTTP
// guest, its one GET command.
func (b *bencher) loads(g guestFile) [][]byte {
	if g.Guest == httpGuest {
		return [][]byte{b.httpTarget().payload()}
	}
	var out [][]byte
	for _, size := range b.cfg.payloads {
		out = append(out, plainPayload(size))
	}
	return out
}

// overBudget reports (and notes once per figure) that the run's time budget
// is spent.
func (b *bencher) overBudget(figure string) bool {
	if time.Since(b.began) < b.cfg.budget {
		return false
	}
	b.res.note("over the %s budget: skipped %s", b.cfg.budget, figure)
	return true
}

func (b *bencher) workers(mode string) int {
	if engineMode(mode) == "concurrent" {
		return runtime.NumCPU()
	}
	return 1
}

// repeat runs f cfg.runs times, stopping early when one run took longer
// than maxRun (so a slow figure stays within about 20 s).
func (b *bencher) repeat(ctx context.Context, maxRun time.Duration, f func() (float64, error)) (Summary, error) {
	var xs []float64
	for i := 0; i < b.cfg.runs; i++ {
		if ctx.Err() != nil {
			return Summary{}, ctx.Err()
		}
		t := time.Now()
		x, err := f()
		if err != nil {
			return summarize(xs), err
		}
		xs = append(xs, x)
		if time.Since(t) > maxRun {
			break
		}
	}
	return summarize(xs), nil
}

func (b *bencher) transport(ctx context.Context) {
	for _, size := range b.cfg.payloads {
		if b.overBudget(fmt.Sprintf("transport %d B", size)) {
			return
		}
		payload := plainPayload(size)
		probe := 2000
		if size >= 32<<10 {
			probe = 300
		}
		rate, err := transportRun(ctx, b.redis, payload, probe, 20*time.Second)
		if err != nil {
			b.res.note("transport %d B: %v", size, err)
			continue
		}
		n := countFor(rate, b.cfg.e2eTarget, 1000, 500000)
		s, err := b.repeat(ctx, 7*time.Second, func() (float64, error) {
			return transportRun(ctx, b.redis, payload, n, 30*time.Second)
		})
		if err != nil {
			b.res.note("transport %d B: %v", size, err)
		}
		if len(s.Runs) > 0 {
			b.res.Transport = append(b.res.Transport, TransportResult{Payload: size, N: n, MsgsPerS: s})
			logf("transport %6d B: %8.0f msg/s (n=%d)", size, s.Median, n)
		}
	}
}

// quietPayload makes every guest answer err(success) without printing:
// the ablations use it, so that the cost of guest output (a cross-thread
// hop per line, see docs/performance.md) does not drown the differences.
const quietPayload = "errsuccess"

func (b *bencher) engine(ctx context.Context, g guestFile) {
	type load struct {
		kind    string // "plain" or quietPayload
		payload []byte
	}
	plain := func() []load {
		var ls []load
		for _, p := range b.loads(g) {
			ls = append(ls, load{"plain", p})
		}
		return ls
	}
	var imports host.Imports
	if g.Guest == httpGuest {
		im, err := b.httpTarget().imports()
		if err != nil {
			b.res.note("engine %s/%s: %v", g.Guest, g.Shape, err)
			return
		}
		imports = im
	}
	ablate := slices.Contains(b.cfg.ablations, g.Guest) && len(b.cfg.variants) > 0 && g.Reuse == 1
	variants := []string{"default"}
	if ablate {
		variants = append(variants, b.cfg.variants...)
	}
	cacheDir := filepath.Join(b.tmp, "engine-cache")
	for _, vn := range variants {
		v := engineVariants[vn]
		if b.overBudget(fmt.Sprintf("engine %s/%s reuse %d %s", g.Guest, g.Shape, g.Reuse, vn)) {
			return
		}
		h, err := engineHost(ctx, g.Path, cacheDir, v, imports, g.Reuse, b.workers("concurrent"))
		if err != nil {
			b.res.note("engine %s/%s reuse %d %s: %v", g.Guest, g.Shape, g.Reuse, vn, err)
			return
		}
		var loads []load
		if vn == "default" || vn == "echo-output" {
			loads = plain()
		}
		if ablate {
			loads = append(loads, load{quietPayload, []byte(quietPayload)})
		}
		for _, mode := range engineModes(b.cfg.modes) {
			workers := b.workers(mode)
			for _, l := range loads {
				size := len(l.payload)
				what := fmt.Sprintf("engine %s/%s reuse %d %s %s %d B %s", g.Guest, g.Shape, g.Reuse, vn, mode, size, l.kind)
				rate, err := engineCalibrate(ctx, h, l.payload, workers, 100*time.Millisecond)
				if err != nil {
					b.res.note("%s: %v", what, err)
					continue
				}
				n := countFor(rate, b.cfg.engineTarget, 4*workers, 1000000)
				var cpus []float64
				s, err := b.repeat(ctx, 7*time.Second, func() (float64, error) {
					rate, cpu, err := engineRunCPU(ctx, h, l.payload, n, workers)
					if err == nil {
						cpus = append(cpus, cpu)
					}
					return rate, err
				})
				if err != nil {
					b.res.note("%s: %v", what, err)
				}
				if len(s.Runs) == 0 {
					continue
				}
				b.res.Engine = append(b.res.Engine, EngineResult{
					Guest: g.Guest, Shape: g.Shape, Mode: mode, Workers: workers, Payload: size, PayloadKind: l.kind,
					Variant: vn, Reuse: g.Reuse, N: n, MsgsPerS: s, UsPerMsgPerWorker: 1e6 * float64(workers) / s.Median,
					CPUUsPerMsg: summarize(cpus),
				})
				logf("engine %-4s %-9s reuse %-4d %-10s %-17s %6d B %-10s: %8.0f msg/s (%.1f µs/msg/worker, %.1f CPU-µs/msg)",
					g.Guest, g.Shape, g.Reuse, mode, vn, size, l.kind, s.Median, 1e6*float64(workers)/s.Median, summarize(cpus).Median)
			}
		}
		h.Close()
	}
}

// startup measures `redspin up` → "Active Channels", cold (empty cache dir)
// and warm (the cache the cold run filled).
func (b *bencher) startup(ctx context.Context, g guestFile) {
	if b.overBudget(fmt.Sprintf("startup %s/%s", g.Guest, g.Shape)) {
		return
	}
	dir := filepath.Join(b.tmp, "startup", g.Guest+"-"+g.Shape)
	manifest, err := writeApp(dir, g.Path, b.redis.Addr, "ordered", 1, "")
	if err != nil {
		b.res.note("startup %s/%s: %v", g.Guest, g.Shape, err)
		return
	}
	one := func(cache string) (float64, error) {
		p, err := startRedspin(ctx, b.bin, manifest, cache, "-q", "-L", "")
		if err != nil {
			return 0, err
		}
		p.Stop()
		return float64(p.activeAt.Sub(p.started).Microseconds()) / 1e3, nil
	}
	var r StartupResult
	r.Guest, r.Shape = g.Guest, g.Shape
	i := 0
	// A cold start that compiles for seconds (the Go and JS guests) is run
	// once: three would take most of the budget.
	cold, err := b.repeat(ctx, 2*time.Second, func() (float64, error) {
		i++
		return one(filepath.Join(dir, fmt.Sprintf("cache-cold-%d", i)))
	})
	if err != nil {
		b.res.note("startup %s/%s cold: %v", g.Guest, g.Shape, err)
		return
	}
	warmDir := filepath.Join(dir, "cache-cold-1")
	warm, err := b.repeat(ctx, 7*time.Second, func() (float64, error) { return one(warmDir) })
	if err != nil {
		b.res.note("startup %s/%s warm: %v", g.Guest, g.Shape, err)
	}
	r.ColdMs, r.WarmMs = cold, warm
	b.res.Startup = append(b.res.Startup, r)
	logf("startup %-4s %-9s: cold %.0f ms, warm %.0f ms", g.Guest, g.Shape, cold.Median, warm.Median)
}

// e2e runs one redspin process for (guest, shape, mode): throughput runs
// per payload, then latency per payload, then reads its peak RSS.
func (b *bencher) e2e(ctx context.Context, g guestFile, mode string) {
	label := fmt.Sprintf("%s/%s %s reuse %d", g.Guest, g.Shape, mode, g.Reuse)
	if b.overBudget("redspin " + label) {
		return
	}
	dir := filepath.Join(b.tmp, "e2e", fmt.Sprintf("%s-%s-%s-%d", g.Guest, g.Shape, mode, g.Reuse))
	component := ""
	loads := b.loads(g)
	if g.Guest == httpGuest {
		component = b.httpTarget().manifestLine()
	}
	manifest, err := writeApp(dir, g.Path, b.redis.Addr, mode, b.workers(mode), component)
	if err != nil {
		b.res.note("redspin %s: %v", label, err)
		return
	}
	// Queues big enough that nothing is dropped: every run must finish all
	// of its messages for the rate to mean anything.
	args := []string{"-q", "-L", "", "--queue-size", "2000000", "--queue-bytes", strconv.Itoa(2 << 30)}
	if mode == "concurrent" {
		args = append(args, "--max-concurrency", strconv.Itoa(runtime.NumCPU()))
	}
	if g.Reuse > 1 {
		args = append(args, "--max-instance-reuse-count", strconv.Itoa(g.Reuse))
	}
	rt := routeFor(mode)
	p, err := startRedspin(ctx, b.bin, manifest, filepath.Join(dir, "cache"), args...)
	if err != nil {
		b.res.note("redspin %s: %v", label, err)
		return
	}
	defer p.Stop()
	if err := p.WaitReady(ctx, 30*time.Second); err != nil {
		b.res.note("redspin %s: %v", label, err)
		return
	}
	pub := b.redis.Client()
	defer pub.Close()
	rss := RSSResult{Guest: g.Guest, Shape: g.Shape, Mode: mode, Reuse: g.Reuse, IdleKiB: p.PeakRSS()}
	failedAll := false
	for _, payload := range loads {
		size := len(payload)
		if b.cfg.skip["e2e"] || b.overBudget(fmt.Sprintf("redspin %s %d B", label, size)) {
			break
		}
		// Size runs from the engine limit (or, without one, conservatively).
		limit := b.res.limitFor(g, mode, size)
		if b.res.engineRate(g, mode, size) == 0 {
			limit = min(limit, 1000)
		}
		n := countFor(limit, b.cfg.e2eTarget, 20, 200000)
		if size >= 32<<10 {
			n = min(n, 20000) // ≤ 1.3 GB queued at worst
			if rt.stream {
				n = min(n, 4000) // a stream keeps its entries until the run's trim: ≤ 260 MB in Redis
			}
		}
		// Warm-up: the first messages fault in code and pool slots.
		if _, _, _, err := e2eRun(ctx, p, pub, rt, payload, min(n, 200), 15*time.Second); err != nil {
			b.res.note("redspin %s %d B warm-up: %v", label, size, err)
			continue
		}
		var lost counters
		var cpus []float64
		s, err := b.repeat(ctx, 7*time.Second, func() (float64, error) {
			rate, c, cpu, err := e2eRun(ctx, p, pub, rt, payload, n, 15*time.Second)
			lost.failed += c.failed + c.timedOut
			lost.dropped += c.dropped
			if err == nil {
				cpus = append(cpus, cpu)
			}
			return rate, err
		})
		if err != nil {
			b.res.note("redspin %s %d B: %v", label, size, err)
		}
		if lost.failed > 0 {
			// A rate of failures is not a throughput: note it, report none.
			b.res.note("redspin %s %d B: %d of %d messages failed (see the engine notes for the error)", label, size, int(lost.failed), n*len(s.Runs))
			failedAll = true
			continue
		}
		if len(s.Runs) > 0 {
			b.res.E2E = append(b.res.E2E, E2EResult{Guest: g.Guest, Shape: g.Shape, Mode: mode, Reuse: g.Reuse, Payload: size,
				N: n, MsgsPerS: s, CPUUsPerMsg: summarize(cpus), Failed: int(lost.failed), Dropped: int(lost.dropped)})
			logf("redspin %-4s %-9s reuse %-4d %-10s %6d B: %8.0f msg/s (%.1f CPU-µs/msg; n=%d, failed %d, dropped %d)",
				g.Guest, g.Shape, g.Reuse, mode, size, s.Median, summarize(cpus).Median, n, int(lost.failed), int(lost.dropped))
		}
		if size <= 1024 {
			rss.SmallKiB = p.PeakRSS()
		}
	}
	rss.PeakKiB = p.PeakRSS()
	b.res.RSS = append(b.res.RSS, rss)
	// Latency is read from the plain guests' "len=" lines; the HTTP guest prints none.
	if !b.cfg.skip["latency"] && !failedAll && g.Guest != httpGuest {
		// Latency is read from the guest's output line, which `-q -L ""`
		// discards: measure it with a second process that echoes guest
		// output to its stderr (`-L ""`, every component followed).
		p.Stop()
		lp, err := startRedspin(ctx, b.bin, manifest, filepath.Join(dir, "cache"), slices.DeleteFunc(slices.Clone(args), func(a string) bool { return a == "-q" })...)
		if err != nil {
			b.res.note("latency %s: %v", label, err)
			return
		}
		defer lp.Stop()
		if err := lp.WaitReady(ctx, 30*time.Second); err != nil {
			b.res.note("latency %s: %v", label, err)
			return
		}
		p = lp
		for _, size := range b.cfg.payloads {
			if b.overBudget(fmt.Sprintf("latency %s %d B", label, size)) {
				break
			}
			rate, count := b.latencyPlan(g, mode, size)
			lr, err := latencyRun(ctx, p, pub, rt, size, rate, count)
			if err != nil {
				b.res.note("latency %s %d B: %v", label, size, err)
				continue
			}
			b.res.Latency = append(b.res.Latency, LatencyEntry{Guest: g.Guest, Shape: g.Shape, Mode: mode, Reuse: g.Reuse, Payload: size, LatencyResult: lr})
			logf("latency %-4s %-9s %-10s %6d B: p50 %.0f µs, p99 %.0f µs, max %.0f µs (%s, %.0f/s, %d samples)",
				g.Guest, g.Shape, mode, size, lr.P50us, lr.P99us, lr.MaxUs, lr.Method, lr.RatePS, lr.Samples)
		}
	}
}

// latencyPlan picks a fixed rate well below saturation (a quarter of the
// measured end-to-end throughput, at most 500/s) and a sample count that
// takes at most about 1 s.
func (b *bencher) latencyPlan(g guestFile, mode string, size int) (float64, int) {
	sat := b.res.e2eRate(g, mode, size)
	if sat == 0 {
		sat = b.res.limitFor(g, mode, size)
	}
	rate := 500.0
	if sat > 0 {
		rate = min(rate, sat/4)
	}
	rate = max(rate, 5)
	count := int(rate * 1.0)
	if b.cfg.quick {
		count = int(rate * 0.5)
	}
	return rate, max(20, min(count, 500))
}
