package redistopo

import (
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/redspin/redspin/internal/testutil/redisserver"
)

// Shared starts each topology at most once for a package's tests; the
// package's TestMain calls Close after m.Run. The zero value is ready.
type Shared struct {
	mu       sync.Mutex
	dir      string
	sentinel *Sentinel
	cluster  *Cluster
}

// Sentinel returns the package's Sentinel topology, starting it on first
// use. It skips the test when redis-server is missing (fails it when
// REDSPIN_E2E=1) and fails it when the topology does not start.
func (s *Shared) Sentinel(t testing.TB) *Sentinel {
	t.Helper()
	bin := redisserver.Require(t)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sentinel == nil {
		dir := s.tempDir(t)
		top, err := StartSentinel(bin, dir)
		if err != nil {
			t.Fatalf("redistopo: sentinel topology: %v", err)
		}
		s.sentinel = top
	}
	return s.sentinel
}

// Cluster returns the package's cluster, starting it on first use. It
// skips the test when redis-server or redis-cli is missing (fails it when
// REDSPIN_E2E=1) and fails it when the cluster does not start.
func (s *Shared) Cluster(t testing.TB) *Cluster {
	t.Helper()
	bin := redisserver.Require(t)
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		if os.Getenv(redisserver.EnvE2E) == "1" {
			t.Fatalf("redis-cli not found and %s=1: install it (apt-get install -y redis-tools)", redisserver.EnvE2E)
		}
		t.Skipf("redis-cli not found (install redis-tools, or set %s=1 to make this a failure): %v", redisserver.EnvE2E, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cluster == nil {
		dir := s.tempDir(t)
		c, err := StartCluster(bin, cli, dir)
		if err != nil {
			t.Fatalf("redistopo: cluster: %v", err)
		}
		s.cluster = c
	}
	return s.cluster
}

func (s *Shared) tempDir(t testing.TB) string {
	if s.dir == "" {
		// Short: unix socket paths are limited; not t.TempDir, which ends
		// with the first test.
		dir, err := os.MkdirTemp("", "redspin-topo-")
		if err != nil {
			t.Fatal(err)
		}
		s.dir = dir
	}
	return s.dir
}

// Main is a package's TestMain: it runs the tests, closes s and exits with
// their status.
//
//	var topo redistopo.Shared
//	func TestMain(m *testing.M) { topo.Main(m) }
func (s *Shared) Main(m *testing.M) {
	code := m.Run()
	s.Close()
	os.Exit(code)
}

// Close kills every process the Shared started and removes their
// directories.
func (s *Shared) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sentinel != nil {
		s.sentinel.Close()
	}
	if s.cluster != nil {
		s.cluster.Close()
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}
