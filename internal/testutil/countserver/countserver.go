// Package countserver starts httptest servers on loopback that count the
// connections they accept, so that a test can prove a request was refused
// before any connection was opened.
package countserver

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// Server is an httptest server with an accept counter. It is closed when
// the test ends.
type Server struct {
	*httptest.Server
	ln *counting
}

type counting struct {
	net.Listener
	n atomic.Int64
}

func (l *counting) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

func newServer(t testing.TB, h http.Handler) *Server {
	t.Helper()
	s := httptest.NewUnstartedServer(h)
	ln := &counting{Listener: s.Listener}
	s.Listener = ln
	t.Cleanup(s.Close)
	return &Server{Server: s, ln: ln}
}

// Start starts a plain HTTP server.
func Start(t testing.TB, h http.Handler) *Server {
	s := newServer(t, h)
	s.Server.Start()
	return s
}

// StartTLS starts an HTTPS server with cfg (its certificates and client
// authentication).
func StartTLS(t testing.TB, h http.Handler, cfg *tls.Config) *Server {
	s := newServer(t, h)
	s.TLS = cfg
	s.Server.StartTLS()
	return s
}

// Accepts returns the number of connections accepted so far.
func (s *Server) Accepts() int64 { return s.ln.n.Load() }

// Port returns the server's port, as a string.
func (s *Server) Port() string { return s.URL[strings.LastIndex(s.URL, ":")+1:] }
