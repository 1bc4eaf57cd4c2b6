package wasm

import (
	"os"
	"testing"

	"github.com/redspin/redspin/internal/testutil/dbserver"
)

// TestMain stops the servers the package's tests started once for all of
// them: the Redis topologies (topo) and the databases (dbserver).
func TestMain(m *testing.M) {
	code := m.Run()
	topo.Close()
	dbserver.StopAll()
	os.Exit(code)
}
