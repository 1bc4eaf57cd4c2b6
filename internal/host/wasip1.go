package host

import (
	"fmt"

	"github.com/redspin/redspin/internal/wasmtime"
)

// wasmtimeWASI gives s a Wasmtime WASI context for g (preview 1 for core
// modules, 0.2 for components linked with Wasmtime's WASI): g's
// environment, its read-only mounts, empty stdin, and stdout/stderr to g's
// sinks. flush writes buffered output; call it once the guest has returned.
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
