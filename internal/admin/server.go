package admin

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/redspin/redspin/internal/observe"
)

// statusPage is the live status page: one self-contained HTML file (inline
// style and script, no external assets) that polls /status.json.
//
//go:embed status.html
var statusPage []byte

// pageCSP allows the page only its own inline style and script and requests
// to its own origin.
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; img-src data:"

// Server is the running admin HTTP server.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	done chan struct{}
	err  error
}

// Mux returns the admin routes: the status page (/) and its /status.json,
// /healthz, /readyz and /metrics. A nil src reports healthy and ready (the
// process is up); a nil m serves no /metrics and no counters in /status.json.
func Mux(m *Metrics, src observe.StatusSource) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", pageCSP)
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(statusPage)
	})
	mux.HandleFunc("GET /status.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(m.Status(src))
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		st := status(src)
		writeProbe(w, r, st.Healthy, st)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		st := status(src)
		writeProbe(w, r, st.Ready, st)
	})
	if m != nil {
		mux.Handle("GET /metrics", m.Handler())
	}
	return mux
}

func status(src observe.StatusSource) observe.Status {
	if src == nil {
		return observe.Status{Ready: true, Healthy: true}
	}
	return src.Status()
}

// writeProbe answers 200 or 503 with the status as JSON (HEAD: no body).
func writeProbe(w http.ResponseWriter, r *http.Request, ok bool, st observe.Status) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	code := http.StatusOK
	if !ok {
		code = http.StatusServiceUnavailable
	}
	w.WriteHeader(code)
	if r.Method == http.MethodHead {
		return
	}
	_ = json.NewEncoder(w).Encode(st)
}

// Start listens on addr (host:port; port 0 picks a free one) and serves the
// admin routes in the background until Close. A listen error is returned at
// once, naming the address.
func Start(addr string, m *Metrics, src observe.StatusSource, logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin server: listen on %q: %w", addr, err)
	}
	s := &Server{
		srv: &http.Server{
			Handler:           Mux(m, src),
			ReadHeaderTimeout: 5 * time.Second,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		},
		ln:   ln,
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.err = err
			logger.Error("admin server stopped", "addr", ln.Addr().String(), "error", err)
		}
	}()
	logger.Info("admin server listening", "addr", ln.Addr().String())
	return s, nil
}

// Addr is the address the server listens on (useful with port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server, letting requests in progress finish until ctx ends.
func (s *Server) Close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	<-s.done
	if err == nil {
		err = s.err
	}
	return err
}
