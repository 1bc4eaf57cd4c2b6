package wasm

import (
	"os"
	"testing"

	"github.com/redspin/redspin/internal/testutil/dbserver"
)

// TestMain stops the servers the package's tests started once for all of
// them: the Redis topologies (topo), the databases (dbserver) and the MQTT
// broker (broker).
func TestMain(m *testing.M) {
	code := m.Run()
	broker.Stop()
	topo.Close()
	dbserver.StopAll()
	os.Exit(code)
}
