package redisserver

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvE2E names the environment variable that makes a missing redis-server a
// test failure instead of a skip.
const EnvE2E = "REDSPIN_E2E"

// User is an ACL user with full access.
type User struct{ Name, Password string }

// Options selects optional listeners and authentication.
type Options struct {
	TLS      bool     // also listen with TLS (TLSPort) using a generated certificate
	Unix     bool     // also listen on a unix socket (Socket)
	Password string   // requirepass for the default user
	Users    []User   // ACL users (on, all keys and channels, all commands)
	Args     []string // extra redis-server arguments
}

// Server is a running redis-server.
type Server struct {
	Port    int    // plain TCP port on 127.0.0.1
	TLSPort int    // TLS port, 0 without Options.TLS
	Socket  string // unix socket path, "" without Options.Unix
	Dir     string // working directory (certificates, log)
	// CAFile is the PEM CA certificate that signed the server certificate.
	CAFile string

	t    testing.TB
	opts Options
	cmd  *exec.Cmd
	exit chan struct{}
	bin  string
}

// Require skips the test when redis-server is missing (fails it when
// REDSPIN_E2E=1) and returns the binary's path.
func Require(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv(EnvE2E) == "1" {
			t.Fatalf("redis-server not found and %s=1: install it (apt-get install -y redis-server)", EnvE2E)
		}
		t.Skipf("redis-server not found (install it, or set %s=1 to make this a failure): %v", EnvE2E, err)
	}
	return bin
}

// Start starts a redis-server on free loopback ports and waits until it
// answers PING. It is killed when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	bin := Require(t)
	// A short directory: unix socket paths are limited to ~100 bytes.
	dir, err := os.MkdirTemp("", "redspin-redis-")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Dir: dir, t: t, opts: opts, bin: bin}
	t.Cleanup(func() {
		s.Kill()
		_ = os.RemoveAll(dir)
	})
	if opts.TLS {
		if err := s.writeCerts(); err != nil {
			t.Fatalf("redisserver: certificates: %v", err)
		}
	}
	if opts.Unix {
		s.Socket = filepath.Join(dir, "redis.sock")
	}
	var lastErr error
	for range 5 { // a free port can be taken between picking and binding
		s.Port, s.TLSPort = freePort(t), 0
		if opts.TLS {
			s.TLSPort = freePort(t)
		}
		if lastErr = s.start(); lastErr == nil {
			return s
		}
	}
	t.Fatalf("redisserver: %v", lastErr)
	return nil
}

func freePort(t testing.TB) int {
	p, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// FreePort returns a TCP port free on 127.0.0.1 a moment ago (another
// process may take it before the caller binds it: retry on failure).
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) args() []string {
	a := []string{
		"--bind", "127.0.0.1", "--port", strconv.Itoa(s.Port),
		"--save", "", "--appendonly", "no",
		"--dir", s.Dir, "--logfile", filepath.Join(s.Dir, "redis.log"),
		"--daemonize", "no",
	}
	if s.opts.TLS {
		a = append(a, "--tls-port", strconv.Itoa(s.TLSPort),
			"--tls-cert-file", filepath.Join(s.Dir, "server.pem"),
			"--tls-key-file", filepath.Join(s.Dir, "server-key.pem"),
			"--tls-ca-cert-file", s.CAFile,
			"--tls-auth-clients", "no")
	}
	if s.Socket != "" {
		a = append(a, "--unixsocket", s.Socket, "--unixsocketperm", "700")
	}
	if s.opts.Password != "" {
		a = append(a, "--requirepass", s.opts.Password)
	}
	for _, u := range s.opts.Users {
		a = append(a, "--user", u.Name, "on", ">"+u.Password, "~*", "&*", "+@all")
	}
	return append(a, s.opts.Args...)
}

// start launches the process on the chosen ports and waits for PING.
func (s *Server) start() error {
	cmd := exec.Command(s.bin, s.args()...)
	cmd.Dir = s.Dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	setPdeathsig(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	exit := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exit) }()
	s.cmd, s.exit = cmd, exit

	c := redis.NewClient(s.plainOptions())
	defer c.Close()
	err := WaitAnswers(c, cmd.Process.Pid, exit, 10*time.Second)
	switch {
	case errors.Is(err, ErrExited):
		log, _ := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
		return fmt.Errorf("redis-server exited at startup: %s%s", out.String(), log)
	case err != nil:
		s.Kill()
		return fmt.Errorf("redis-server on port %d did not answer PING: %v", s.Port, err)
	}
	return nil
}

// ErrExited is returned by WaitAnswers when the process exits first.
var ErrExited = errors.New("redis-server exited")

// WaitAnswers waits until the redis-server with process id pid answers on
// c: until INFO server names that process_id, since a PING alone could be
// answered by another test's server that took the port first (then this
// one fails to bind and exits, and the caller picks other ports). It
// returns ErrExited when exit closes first, or the last error after
// timeout.
func WaitAnswers(c *redis.Client, pid int, exit <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	want := fmt.Sprintf("process_id:%d\r\n", pid)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		info, err := c.Info(ctx, "server").Result()
		cancel()
		if err == nil && strings.Contains(info, want) {
			return nil
		}
		if err == nil {
			err = errors.New("another process answers on the port")
		}
		select {
		case <-exit:
			return ErrExited
		default:
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Pid is the running process's id (0 when stopped).
func (s *Server) Pid() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Kill stops the server at once (SIGKILL, by pid) and waits for it to exit.
// It does nothing when the server is not running.
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exit
	s.cmd = nil
}

// Restart kills the server and starts it again on the same ports and socket.
func (s *Server) Restart() {
	s.t.Helper()
	s.Kill()
	if s.Socket != "" {
		_ = os.Remove(s.Socket)
	}
	var err error
	for range 50 { // the old listener may linger for a moment
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("redisserver: restart: %v", err)
}

// Addr is the plain TCP address, 127.0.0.1:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// TLSAddr is the TLS address (empty without Options.TLS).
func (s *Server) TLSAddr() string {
	if s.TLSPort == 0 {
		return ""
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.TLSPort))
}

// URL is a redis:// URL for the plain port, with the default user's password
// when one is set.
func (s *Server) URL() string { return s.urlFor("redis", s.Addr(), "", s.opts.Password) }

// UserURL is a redis://user:password@ URL for an ACL user.
func (s *Server) UserURL(u User) string { return s.urlFor("redis", s.Addr(), u.Name, u.Password) }

// TLSURL is a rediss:// URL for the TLS port.
func (s *Server) TLSURL() string { return s.urlFor("rediss", s.TLSAddr(), "", s.opts.Password) }

// UnixURL is a unix:// URL for the socket.
func (s *Server) UnixURL() string { return "unix://" + s.Socket }

func (s *Server) urlFor(scheme, host, user, password string) string {
	u := url.URL{Scheme: scheme, Host: host}
	switch {
	case user != "":
		u.User = url.UserPassword(user, password)
	case password != "":
		u.User = url.UserPassword("", password)
	}
	return u.String()
}

func (s *Server) plainOptions() *redis.Options {
	return &redis.Options{Addr: s.Addr(), Password: s.opts.Password, Protocol: 2, MaxRetries: -1}
}

// Client returns a client on the plain port (as the default user), closed
// when the test ends.
func (s *Server) Client() *redis.Client {
	c := redis.NewClient(s.plainOptions())
	s.t.Cleanup(func() { _ = c.Close() })
	return c
}

// TLSConfig trusts the generated CA; use it to reach TLSAddr.
func (s *Server) TLSConfig() *tls.Config {
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		s.t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		s.t.Fatal(errors.New("redisserver: bad CA file"))
	}
	return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}
