package dbserver

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redspin/redspin/internal/testutil/redisserver"
)

// Server is a running database server shared by a test binary.
type Server struct {
	// Port is the TCP port on 127.0.0.1.
	Port int
	// Dir is the server's private directory (data, socket, log).
	Dir string
	// User and Password are a superuser the tests connect as.
	User, Password string
	// CAFile is the PEM CA that signed the server's TLS certificate.
	CAFile string

	cmd  *exec.Cmd
	exit chan struct{}
	out  bytes.Buffer
}

// Addr is 127.0.0.1:Port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

var (
	mu      sync.Mutex
	started = map[string]*Server{}
	failed  = map[string]error{}
)

// shared starts the server named kind once per process.
func shared(t testing.TB, kind string, bin string, start func(bin string) (*Server, error)) *Server {
	t.Helper()
	path := require(t, bin)
	mu.Lock()
	defer mu.Unlock()
	if s := started[kind]; s != nil {
		return s
	}
	if err := failed[kind]; err != nil {
		t.Fatalf("dbserver: %s did not start: %v", kind, err)
	}
	s, err := start(path)
	if err != nil {
		failed[kind] = err
		t.Fatalf("dbserver: %s did not start: %v", kind, err)
	}
	started[kind] = s
	return s
}

// Main runs a package's tests and then StopAll: call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	StopAll()
	os.Exit(code)
}

// StopAll kills every server this process started and removes their
// directories. Call it from TestMain after m.Run.
func StopAll() {
	mu.Lock()
	defer mu.Unlock()
	for k, s := range started {
		s.kill()
		_ = os.RemoveAll(s.Dir)
		delete(started, k)
	}
}

// require finds bin (a path or a name on PATH) or skips the test.
func require(t testing.TB, bin string) string {
	t.Helper()
	path, err := exec.LookPath(bin)
	if err != nil {
		if os.Getenv(redisserver.EnvE2E) == "1" {
			t.Fatalf("%s not found and %s=1: install it (.ci/run installs postgresql and mariadb-server)", bin, redisserver.EnvE2E)
		}
		t.Skipf("%s not found (install postgresql / mariadb-server, or set %s=1 to make this a failure): %v", bin, redisserver.EnvE2E, err)
	}
	return path
}

// runAs is the system user a server runs as when this process is root, and
// the credential for its commands (nil when not root).
func runAs(name string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("running as root needs the %s system user: %w", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// tempDir makes a short private directory owned by cred's user.
func tempDir(prefix string, cred *syscall.Credential) (string, error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// command builds a command run as cred that dies with this process.
func command(cred *syscall.Credential, bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Credential: cred}
	return cmd
}

// launch starts cmd in the background and polls ready until it succeeds,
// the process exits, or 30 s pass.
func (s *Server) launch(cmd *exec.Cmd, ready func(ctx context.Context) error) error {
	cmd.Stdout, cmd.Stderr = &s.out, &s.out
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd, s.exit = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(s.exit) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := ready(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.exit:
			return fmt.Errorf("exited at startup: %s", s.out.String())
		default:
		}
		if time.Now().After(deadline) {
			s.kill()
			return fmt.Errorf("not ready after 30s: %v\n%s", err, s.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *Server) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exit
}

// run runs a set-up command to completion.
func run(cmd *exec.Cmd) error {
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", filepath.Base(cmd.Path), err, out)
	}
	return nil
}

// writeCerts writes a CA and a server certificate for 127.0.0.1 into dir
// (ca.pem, server.pem, server-key.pem), readable by cred's user, and
// returns the CA's path.
func writeCerts(dir string, cred *syscall.Credential) (string, error) {
	caFile, err := redisserver.WriteCerts(dir)
	if err != nil || cred == nil {
		return caFile, err
	}
	for _, f := range []string{"ca.pem", "server.pem", "server-key.pem"} {
		if err := os.Chown(filepath.Join(dir, f), int(cred.Uid), int(cred.Gid)); err != nil {
			return "", err
		}
	}
	return caFile, nil
}
