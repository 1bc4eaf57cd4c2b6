package host

import (
	"context"
	"fmt"

	"github.com/redspin/redspin/internal/wasi"
	"github.com/redspin/redspin/internal/wasmtime"
)

// wasmtimeWASI gives s Wasmtime's WASI preview 1 context for core module
// g: g's environment, its read-only mounts, empty stdin, and stdout/stderr
// to g's sinks through pooled pipes (outpipe.go). flush writes buffered
// output; call it once the guest has returned.
func (h *Host) wasmtimeWASI(g *guestBase, s *wasmtime.Store) (flush func(), err error) {
	w := wasmtime.NewWASIConfig()
	if err := w.SetEnv(g.env[0], g.env[1]); err != nil {
		w.Close()
		return nil, err
	}
	for _, m := range g.mount {
		if err := w.PreopenDir(m.HostDir, m.GuestDir, false); err != nil {
			w.Close()
			return nil, err
		}
	}
	// A stream that goes nowhere stays unset, so Wasmtime discards it;
	// a kept one goes through a pipe (or a callback, see Options).
	var out, errOut stdioOut
	out.set(h.pipes, w, g.stdout, (*wasmtime.WASIConfig).SetStdout, (*wasmtime.WASIConfig).SetStdoutFile)
	errOut.set(h.pipes, w, g.stderr, (*wasmtime.WASIConfig).SetStderr, (*wasmtime.WASIConfig).SetStderrFile)
	flush = func() {
		out.finish()
		errOut.finish()
	}
	if err := s.SetWASI(w); err != nil {
		flush()
		return nil, fmt.Errorf("WASI: %w", err)
	}
	return flush, nil
}

// wasiConfig is the part of a component's redspin WASI configuration that
// is the same for every message (environment, mounts), built once at load.
func wasiConfig(g *guestBase) wasi.Config {
	var cfg wasi.Config
	for i, k := range g.env[0] {
		cfg.Env = append(cfg.Env, [2]string{k, g.env[1][i]})
	}
	for _, m := range g.mount {
		cfg.Mounts = append(cfg.Mounts, wasi.Mount{HostDir: m.HostDir, GuestDir: m.GuestDir})
	}
	return cfg
}

// redspinWASI gives s redspin's WASI (internal/wasi) for g: g's
// environment and read-only mounts (base, from wasiConfig), empty stdin,
// and stdout/stderr written to g's sinks in whole lines as the guest
// writes them. ctx and dl bound the guest's blocking WASI calls. flush
// ends the message's output at a line boundary and closes the WASI state;
// call it once the store is gone.
func (h *Host) redspinWASI(g *guestBase, base wasi.Config, s *wasmtime.Store, ctx context.Context, dl msgDeadline) (flush func(), err error) {
	cfg := base
	cfg.Context, cfg.Deadline, cfg.DeadlineErr = ctx, dl.at, dl.cause
	var out, errOut *lineWriter
	if g.stdout.enabled() {
		out = &lineWriter{sink: g.stdout}
		cfg.Stdout = out
	}
	if g.stderr.enabled() {
		errOut = &lineWriter{sink: g.stderr}
		cfg.Stderr = errOut
	}
	w, err := wasi.NewCtx(cfg)
	if err != nil {
		return nil, err
	}
	w.Attach(s)
	return func() {
		w.Close()
		if out != nil {
			out.EndMessage()
		}
		if errOut != nil {
			errOut.EndMessage()
		}
	}, nil
}
