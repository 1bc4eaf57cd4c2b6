package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/redspin/redspin/internal/admin"
	"github.com/redspin/redspin/internal/app"
	"github.com/redspin/redspin/internal/embedredis"
	"github.com/redspin/redspin/internal/host"
	"github.com/redspin/redspin/internal/trigger"
)

// upFlags are the flags of `redspin up`.
type upFlags struct {
	appFlags
	env               []string
	logDir            string
	truncateLogs      bool
	follow            []string
	quiet             bool
	stateDir          string
	componentIDs      []string
	maxInstanceMemory string
	disablePooling    bool
	disableCache      bool
	keyValues         []string
	build             bool
	handlerTimeout    time.Duration
	maxCompPayload    int64
	compPayloadBudget int64
	maxConcurrency    int
	queueSize         int
	queueBytes        int64
	drop              string
	shutdownTimeout   time.Duration
	listenAdmin       string
	publish           []string
	consumer          string
	reuse             reuseFlags
}

func (c *cli) upCommand() *cobra.Command {
	var f upFlags
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run the app: subscribe to its Redis channels and handle messages",
		Long: `up runs a Spin Redis app as ` + "`spin up`" + ` does: one pub/sub connection per Redis
server, a fresh Wasm instance per message per component. Unlike Spin it
reconnects when Redis goes away, handles channels in parallel (each channel in
order), logs handler failures at WARN, and shuts down gracefully.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.up(cmd, &f)
		},
	}
	f.register(cmd)
	fs := cmd.Flags()
	fs.StringArrayVarP(&f.env, "env", "e", nil, "set a WASI environment variable KEY=VALUE for every component (repeatable)")
	fs.StringVarP(&f.logDir, "log-dir", "L", "", `directory for component stdout/stderr files; "" disables them [env: SPIN_LOG_DIR] (default: .spin/logs next to spin.toml)`)
	fs.BoolVar(&f.truncateLogs, "truncate-logs", false, "truncate the component log files at start")
	fs.StringArrayVar(&f.follow, "follow", nil, "echo only this component's output to stderr (repeatable; default: all)")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "echo no component output to stderr (with -L \"\" the output is discarded)")
	fs.BoolVar(&f.quiet, "sh", false, "alias of --quiet")
	fs.BoolVar(&f.quiet, "shush", false, "alias of --quiet")
	_ = fs.MarkHidden("sh")
	_ = fs.MarkHidden("shush")
	fs.StringVar(&f.stateDir, "state-dir", "", `directory for key-value data and the embedded Redis URL; "" disables (default: .spin next to spin.toml)`)
	fs.StringArrayVarP(&f.componentIDs, "component-id", "c", nil, "run only this component; triggers for others are dropped (repeatable)")
	fs.StringVar(&f.maxInstanceMemory, "max-instance-memory", os.Getenv("SPIN_MAX_INSTANCE_MEMORY"), "memory cap per instance in bytes [env: SPIN_MAX_INSTANCE_MEMORY]")
	fs.BoolVar(&f.disablePooling, "disable-pooling", false, "disable Wasmtime's pooling instance allocator")
	fs.BoolVar(&f.disableCache, "disable-cache", os.Getenv("DISABLE_WASMTIME_CACHE") != "", "do not cache compiled components on disk [env: DISABLE_WASMTIME_CACHE]")
	fs.StringArrayVar(&f.keyValues, "key-value", nil, "seed the default key-value store with KEY=VALUE (repeatable)")
	fs.BoolVar(&f.build, "build", false, "run the components' build commands first (see `redspin build`)")
	fs.DurationVar(&f.handlerTimeout, "handler-timeout", host.DefaultHandlerTimeout, "stop a handler that runs longer than this; 0 = no limit (Spin has none)")
	fs.Int64Var(&f.maxCompPayload, "max-component-payload", host.DefaultMaxComponentPayload, "largest payload passed to a component, in bytes (core modules: 512 MiB); 0 = no cap")
	fs.Int64Var(&f.compPayloadBudget, "component-payload-budget", host.DefaultComponentPayloadBudget, "payload bytes being passed into components at once, all messages together (~74 bytes of memory each); 0 = no budget")
	fs.IntVar(&f.maxConcurrency, "max-concurrency", 1, "messages handled at once per channel; 1 keeps each channel in order")
	fs.StringVar(&f.reuse.count, "max-instance-reuse-count", "1", "messages one instance handles, one at a time, before it is dropped: a count or a range a..b (a random count per instance); 1 = a fresh instance per message (Spin's semantics)")
	fs.DurationVar(&f.reuse.idle, "idle-instance-timeout", host.DefaultIdleInstanceTimeout, "drop a reusable instance idle this long")
	fs.IntVar(&f.queueSize, "queue-size", 10000, "messages queued per channel before --drop applies")
	fs.Int64Var(&f.queueBytes, "queue-bytes", 64<<20, "payload bytes queued per channel before --drop applies")
	fs.StringVar(&f.drop, "drop", "newest", "what to drop from a full channel queue: newest or oldest")
	fs.DurationVar(&f.shutdownTimeout, "shutdown-timeout", 30*time.Second, fmt.Sprintf("on SIGINT/SIGTERM, how long in-flight handlers may finish before they are cancelled; 0 = cancel at once. "+
		"redspin exits at most %s after this (cancelled handlers get %s to return, then it exits without them, status 1)",
		shutdownBound(0), trigger.DefaultCancelGrace))
	fs.StringVar(&f.listenAdmin, "listen-admin", "", "serve /healthz, /readyz and /metrics on this address (e.g. 127.0.0.1:9090)")
	fs.StringArrayVar(&f.publish, "publish", nil, "publish CHANNEL=MESSAGE once every channel is subscribed, or add an entry to a redis-stream trigger's STREAM (repeatable; for trying an app)")
	fs.StringVar(&f.consumer, "consumer", "", "consumer name in every redis-stream group; must be unique per running process (default: <hostname>-<pid>-<random>)")
	return cmd
}

// checkPayloadFlags validates --max-component-payload and
// --component-payload-budget.
func (f *upFlags) checkPayloadFlags() error {
	if f.maxCompPayload < 0 || f.maxCompPayload > math.MaxInt32 {
		return fmt.Errorf("--max-component-payload %d: want 0 (no cap) up to %d bytes", f.maxCompPayload, math.MaxInt32)
	}
	if f.compPayloadBudget < 0 {
		return fmt.Errorf("--component-payload-budget %d: must not be negative (0 = no budget)", f.compPayloadBudget)
	}
	if f.compPayloadBudget > 0 && (f.maxCompPayload == 0 || f.maxCompPayload > f.compPayloadBudget) {
		return fmt.Errorf("--max-component-payload %d exceeds --component-payload-budget %d: such payloads could never be handled",
			f.maxCompPayload, f.compPayloadBudget)
	}
	return nil
}

// offIfZero maps a flag's 0 (no limit) to an option's negative (off).
func offIfZero[T int64 | time.Duration](n T) T {
	if n == 0 {
		return -1
	}
	return n
}

func (c *cli) up(cmd *cobra.Command, f *upFlags) error {
	if f.quiet && len(f.follow) > 0 {
		return usageError{errors.New("--quiet and --follow cannot be used together")}
	}
	if f.drop != "newest" && f.drop != "oldest" {
		return usageError{fmt.Errorf("--drop %q: want newest or oldest", f.drop)}
	}
	if f.maxConcurrency < 1 {
		return usageError{fmt.Errorf("--max-concurrency %d: must be at least 1", f.maxConcurrency)}
	}
	if f.queueSize < 1 {
		return usageError{fmt.Errorf("--queue-size %d: must be at least 1", f.queueSize)}
	}
	if f.queueBytes < 1 {
		return usageError{fmt.Errorf("--queue-bytes %d: must be at least 1", f.queueBytes)}
	}
	reuse, err := f.reuse.reuse(f.maxConcurrency)
	if err != nil {
		return usageError{err}
	}
	if f.handlerTimeout < 0 {
		return usageError{fmt.Errorf("--handler-timeout %s: must not be negative (0 = no limit)", f.handlerTimeout)}
	}
	if err := f.checkPayloadFlags(); err != nil {
		return usageError{err}
	}
	if f.shutdownTimeout < 0 {
		return usageError{fmt.Errorf("--shutdown-timeout %s: must not be negative (0 = cancel in-flight handlers at once)", f.shutdownTimeout)}
	}
	for _, m := range f.publish {
		if ch, _, ok := strings.Cut(m, "="); !ok || ch == "" {
			return usageError{fmt.Errorf("--publish %q: want CHANNEL=MESSAGE", m)}
		}
	}
	var maxMem uint64
	if f.maxInstanceMemory != "" {
		n, err := strconv.ParseUint(f.maxInstanceMemory, 10, 64)
		if err != nil {
			return usageError{fmt.Errorf("--max-instance-memory %q: want a number of bytes", f.maxInstanceMemory)}
		}
		maxMem = n
	}

	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()
	finished := make(chan struct{})
	defer close(finished)
	c.handleSignals(cancel, finished, shutdownBound(f.shutdownTimeout))

	if f.build { // every component, as `spin up --build` builds them all
		if err := c.build(ctx, f.from, nil); err != nil {
			return err
		}
	}

	opts := f.options()
	if err := c.pullRemote(ctx, &f.appFlags, &opts); err != nil {
		return err
	}
	opts.Env = f.env
	opts.ComponentIDs = f.componentIDs
	if cmd.Flags().Changed("state-dir") {
		opts.StateDir = &f.stateDir
	}
	if cmd.Flags().Changed("log-dir") {
		opts.LogDir = &f.logDir
	} else if v, ok := os.LookupEnv("SPIN_LOG_DIR"); ok {
		opts.LogDir = &v
	}

	a, embedded, err := c.loadWithEmbedded(ctx, f, opts)
	if embedded != nil {
		defer embedded.Close()
	}
	defer a.Close()
	if errors.Is(err, app.ErrUnknownComponentID) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	printWarnings(c, a)
	if a.RuntimeConfig != nil {
		line := a.RuntimeConfig.SummaryLine()
		if line == "" {
			line = fmt.Sprintf("Using runtime config from %q", a.RuntimeConfig.File)
		}
		fmt.Fprintln(c.stdout, line)
	}
	if maxMem == 0 {
		maxMem = a.MaxInstanceMemory
	}

	follow, err := followFilter(a, f)
	if err != nil {
		return usageError{err}
	}
	if a.LogDir != "" {
		if err := os.MkdirAll(a.LogDir, 0o755); err != nil {
			return fmt.Errorf("log dir: %w", err)
		}
		if f.truncateLogs {
			for _, id := range a.ComponentIDs() {
				for _, s := range []string{"_stdout.txt", "_stderr.txt"} {
					if err := os.Truncate(filepath.Join(a.LogDir, id+s), 0); err != nil && !os.IsNotExist(err) {
						return err
					}
				}
			}
		}
		fmt.Fprintf(c.stdout, "Logging component stdio to %q\n", displayPath(a.LogDir)+"/")
	}

	seed, err := parseKeyValues(f.keyValues)
	if err != nil {
		return usageError{err}
	}
	tp, stopTracing, err := c.startTracing(ctx, a)
	if err != nil {
		return usageError{err}
	}
	defer stopTracing()
	metrics := admin.NewMetrics()
	metrics.SetBuild(admin.BuildInfo(readBuildInfo()))
	imports, kvm, err := spinServices(ctx, a, c.logger, int(f.maxCompPayload), metrics)
	if err != nil {
		return err
	}
	// Handlers the trigger abandoned at shutdown still use the host and the
	// key-value stores: closing them would wait for those handlers (forever,
	// for one blocked in a host call), so the process exits without.
	abandoned := false
	defer func() {
		if !abandoned {
			kvm.Close()
		}
	}()
	announceKeyValue(c.stdout, a, kvm)
	if len(seed) > 0 {
		if err := kvm.Seed(ctx, seed); err != nil {
			return fmt.Errorf("--key-value: %w", err)
		}
	}

	h, err := host.New(ctx, hostComponents(a, imports), host.Options{
		LogDir:            a.LogDir,
		Follow:            follow,
		Stderr:            c.stderr,
		Echo:              c.componentEcho(),
		MaxInstanceMemory: maxMem,
		Reuse:             reuse,
		HandlerTimeout:    offIfZero(f.handlerTimeout),
		DisablePooling:    f.disablePooling,
		DisableCache:      f.disableCache,
		CacheDir:          f.compiledCacheDir(),
		Logger:            c.logger,

		// The flags' 0 means no limit; the options' 0 means the default.
		MaxComponentPayload:    int(offIfZero(f.maxCompPayload)),
		ComponentPayloadBudget: offIfZero(f.compPayloadBudget),
	})
	if err != nil {
		return err
	}
	defer func() {
		if !abandoned {
			h.Close()
		}
	}()
	if err := checkHandlers(a, h); err != nil {
		return err
	}

	cfg := trigger.Config{
		MaxConcurrency:  f.maxConcurrency,
		QueueSize:       f.queueSize,
		QueueBytes:      f.queueBytes,
		Drop:            f.drop,
		ShutdownTimeout: offIfZero(f.shutdownTimeout),
		Stdout:          c.stdout,
		Logger:          c.logger,
		Observer:        metrics,
		TracerProvider:  tp,
	}
	for _, s := range a.Servers {
		srv := trigger.Server{Display: s.Display, Options: s.URL.UniversalOptions()}
		for _, ch := range s.Channels {
			srv.Channels = append(srv.Channels, trigger.Channel{Name: ch.Name, Display: ch.Display, Components: ch.Components,
				MaxPayload: channelMaxPayload(h, ch.Components)})
		}
		cfg.Servers = append(cfg.Servers, srv)
	}
	var t *trigger.Trigger
	if len(cfg.Servers) > 0 {
		if t, err = trigger.New(cfg, h); err != nil {
			return err
		}
	}
	st, err := c.streamTrigger(a, f, h, metrics, tp)
	if err != nil {
		return err
	}
	if f.listenAdmin != "" {
		srv, err := admin.Start(f.listenAdmin, metrics, statusSources(t, st), c.logger)
		if err != nil {
			return fmt.Errorf("--listen-admin: %w", err)
		}
		defer srv.Close(context.WithoutCancel(ctx))
		fmt.Fprintf(c.stdout, "Admin endpoints on http://%s/ (status page, status.json, healthz, readyz, metrics)\n", srv.Addr())
	}
	toStreams, toChannels := splitPublish(a, f.publish)
	if len(toChannels) > 0 && t != nil {
		go c.publishWhenReady(ctx, t, a, toChannels)
	}
	if len(toStreams) > 0 {
		go c.addWhenReady(ctx, st, a, toStreams)
	}

	var runErr error
	switch {
	case t != nil && st != nil:
		runErr = runTriggers(ctx, t, st)
	case t != nil:
		runErr = t.Run(ctx)
	default:
		runErr = st.Run(ctx)
	}
	if t != nil {
		fmt.Fprintf(c.stderr, "redspin: %s\n", t.Stats())
	}
	if st != nil {
		fmt.Fprintf(c.stderr, "redspin: %s\n", st.Stats())
	}
	if errors.Is(runErr, trigger.ErrHandlersAbandoned) {
		// The trigger logged the handlers by name; exit 1 without freeing
		// what they hold.
		abandoned = true
		return exitCodeError{code: exitFailure}
	}
	return runErr
}

// shutdownExitGrace is the fixed time `up` allows, beyond the trigger's
// bound (--shutdown-timeout + trigger.DefaultCancelGrace), for closing the
// subscriptions and freeing everything; then the process exits regardless.
const shutdownExitGrace = 2 * time.Second

// shutdownBound is how long `up` may take, from the first SIGINT/SIGTERM, to
// exit: --shutdown-timeout for handlers to finish, the trigger's grace for
// cancelled ones to return, and shutdownExitGrace.
func shutdownBound(shutdownTimeout time.Duration) time.Duration {
	return shutdownTimeout + trigger.DefaultCancelGrace + shutdownExitGrace
}

// followFilter returns which components' output is echoed to stderr.
func followFilter(a *app.App, f *upFlags) (func(string) bool, error) {
	if f.quiet {
		return func(string) bool { return false }, nil
	}
	if len(f.follow) == 0 {
		return nil, nil
	}
	valid := a.ComponentIDs()
	for _, id := range f.follow {
		if !slices.Contains(valid, id) {
			return nil, fmt.Errorf("--follow %q: no such component; valid ids: %s", id, strings.Join(valid, ", "))
		}
	}
	follow := slices.Clone(f.follow)
	return func(id string) bool { return slices.Contains(follow, id) }, nil
}

// displayPath shows p relative to the working directory when it lies below it.
func displayPath(p string) string {
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	rel, err := filepath.Rel(wd, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return p
	}
	return rel
}

// handleSignals makes SIGINT and SIGTERM start a graceful shutdown (cancel)
// and a second one exit at once, with the shell's code for a death by that
// signal (130, 143). The signals are handled explicitly, not left to their
// default action, because a process started in the background of a
// non-interactive shell begins with SIGINT ignored.
//
// The first signal is acknowledged by a log line ("received signal") as
// soon as it is taken. A second signal counts from that line on: signals
// of one kind do not queue (POSIX merges a signal sent while the same one
// is still pending, and Go's runtime merges one it has not yet handed to
// os/signal), so two sent back to back, before redspin took the first,
// arrive as one.
//
// After the first signal, the process exits within bound whatever happens:
// if shutdown has not finished by then, it logs that and exits with status
// 1. handleSignals stops when finished is closed.
func (c *cli) handleSignals(cancel context.CancelFunc, finished <-chan struct{}, bound time.Duration) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		defer signal.Stop(sigs)
		select {
		case sig := <-sigs:
			c.logger.Info("received signal: shutting down; send it again to exit at once",
				"signal", sig.String(), "exit_within", bound.String())
			cancel()
		case <-finished:
			return
		}
		deadline := time.NewTimer(bound)
		defer deadline.Stop()
		select {
		case sig := <-sigs:
			c.logger.Warn("second signal: exiting without waiting for handlers", "signal", sig.String())
			code := 1
			if s, ok := sig.(syscall.Signal); ok {
				code = 128 + int(s)
			}
			os.Exit(code)
		case <-deadline.C:
			c.logger.Error("shutdown did not finish in time; exiting without it", "bound", bound.String())
			os.Exit(exitFailure)
		case <-finished:
		}
	}()
}

// publishWhenReady sends the --publish messages once every channel is subscribed.
func (c *cli) publishWhenReady(ctx context.Context, t *trigger.Trigger, a *app.App, msgs []string) {
	if !waitReady(ctx, t.Ready) {
		return
	}
	for _, m := range msgs {
		channel, payload, _ := strings.Cut(m, "=")
		srv, ok := a.ServerFor(channel)
		if !ok {
			c.logger.Warn("--publish: no trigger subscribes to this channel", "channel", channel)
			continue
		}
		n, err := publishTo(ctx, srv.URL, channel, []byte(payload))
		if err != nil {
			c.logger.Warn("--publish failed", "channel", channel, "err", err)
			continue
		}
		c.logger.Info("published", "channel", channel, "bytes", len(payload), "subscribers", n)
	}
}

// loadWithEmbedded loads the app and, when --embedded-redis asks for it and
// some trigger has no address, starts the embedded Redis for those
// triggers; the caller closes it after the trigger has stopped. The URL
// file goes into the app's state dir.
func (c *cli) loadWithEmbedded(ctx context.Context, f *upFlags, opts app.Options) (*app.App, *embedredis.Server, error) {
	if !f.embedded {
		a, err := app.Load(ctx, opts)
		return a, nil, err
	}
	opts.Embedded = true
	a, err := app.Load(ctx, opts)
	if err != nil {
		return a, nil, err
	}
	if !a.HasEmbedded() {
		c.logger.Info("--embedded-redis: every trigger has an address, so no embedded Redis is started")
		return a, nil, nil
	}
	srv, err := embedredis.Start("")
	if err != nil {
		return a, nil, fmt.Errorf("--embedded-redis: %w", err)
	}
	fmt.Fprintf(c.stdout, "Embedded Redis listening on %s\n", srv.URL())
	if err := a.ServeEmbedded(srv.URL()); err != nil {
		return a, srv, err
	}
	return a, srv, srv.WriteURLFile(a.StateDir)
}

// channelMaxPayload is the longest payload any of components accepts (0 =
// no limit): a longer message is not read into memory (trigger.Channel).
func channelMaxPayload(h *host.Host, components []string) int {
	most := 0
	for _, c := range components {
		n := h.MaxPayload(c)
		if n == 0 {
			return 0
		}
		most = max(most, n)
	}
	return most
}
