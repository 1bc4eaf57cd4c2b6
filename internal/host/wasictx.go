package host

import (
	"fmt"

	"github.com/redspin/redspin/internal/wasi"
	"github.com/redspin/redspin/internal/wasmtime"
)

// wasmtimeWASI gives s Wasmtime's WASI preview 1 context for core module
// g: g's environment, its read-only mounts, empty stdin, and stdout/stderr
// to g's sinks through pooled pipes (outpipe.go), held as long as the store.
func (h *Host) wasmtimeWASI(g *guestBase, s *wasmtime.Store) (*moduleIO, error) {
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
	io := &moduleIO{}
	io.out.set(h.pipes, w, g.stdout, (*wasmtime.WASIConfig).SetStdout, (*wasmtime.WASIConfig).SetStdoutFile)
	io.errOut.set(h.pipes, w, g.stderr, (*wasmtime.WASIConfig).SetStderr, (*wasmtime.WASIConfig).SetStderrFile)
	if err := s.SetWASI(w); err != nil {
		io.close()
		return nil, fmt.Errorf("WASI: %w", err)
	}
	return io, nil
}

// wasiConfig is the part of a component's redspin WASI configuration that
// is the same for every instance (environment, mounts), built once at load.
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
// writes them. Each message binds it to its context and deadline and ends
// its output (componentIO).
func (h *Host) redspinWASI(g *guestBase, base wasi.Config, s *wasmtime.Store) (*componentIO, error) {
	cfg := base
	io := &componentIO{}
	if g.stdout.enabled() {
		io.out = &lineWriter{sink: g.stdout}
		cfg.Stdout = io.out
	}
	if g.stderr.enabled() {
		io.errOut = &lineWriter{sink: g.stderr}
		cfg.Stderr = io.errOut
	}
	w, err := wasi.NewCtx(cfg)
	if err != nil {
		return nil, err
	}
	w.Attach(s)
	io.w = w
	return io, nil
}
