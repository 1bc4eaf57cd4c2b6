package host

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/redspin/redspin/internal/testutil/goguest"
)

// BenchmarkSDKGuest compares a guest written with the Go SDK
// (testdata/guests/go-sdk, built with -tags protocolonly so that it holds
// the same protocol code) with the hand-written Go guest (testdata/guests/go),
// both built from source here the same way, as core modules (what redspin
// runs) and, when jco is installed, as components (what Spin runs). It
// reports each module's size (bytes) next to the per-message time.
func BenchmarkSDKGuest(b *testing.B) {
	dir := b.TempDir()
	root, err := filepath.Abs("../..")
	if err != nil {
		b.Fatal(err)
	}
	hand, _ := goguest.Build(b, filepath.Join(root, "testdata/guests/go"), dir, "go")
	sdk, _ := goguest.Build(b, filepath.Join(root, "testdata/guests/go-sdk"), dir, "go-sdk", "protocolonly")
	guests := map[string]string{"go-module": hand, "go-sdk-module": sdk}
	if _, err := os.Stat(filepath.Join(root, "scripts/guests/node_modules")); err == nil {
		guests["go-component"] = goguest.Component(b, root, hand)
		guests["go-sdk-component"] = goguest.Component(b, root, sdk)
	}
	var comps []ComponentConfig
	for id, p := range guests {
		comps = append(comps, ComponentConfig{ID: id, WasmPath: p})
	}
	// No LogDir and nothing followed: output is discarded, as for a quiet app.
	h, err := New(context.Background(), comps, Options{CacheDir: testCacheDir, HandlerTimeout: time.Minute,
		Follow: func(string) bool { return false }})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	payload := []byte("print:a line of output that nobody reads")
	for _, id := range []string{"go-module", "go-sdk-module", "go-component", "go-sdk-component"} {
		p, ok := guests[id]
		if !ok {
			continue
		}
		b.Run(id, func(b *testing.B) {
			st, err := os.Stat(p)
			if err != nil {
				b.Fatal(err)
			}
			ph := &phaseTimes{}
			h.phases = ph
			defer func() { h.phases = nil }()
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := h.Handle(ctx, id, payload); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(st.Size()), "bytes")
			if ph.n > 0 {
				n := float64(ph.n)
				b.ReportMetric(float64(ph.instantiate.Microseconds())/n, "inst_us")
				b.ReportMetric(float64(ph.call.Microseconds())/n, "call_us")
			}
		})
	}
}
