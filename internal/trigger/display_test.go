package trigger

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/redspin/redspin/internal/admin"
)

// TestChannelDisplay: a channel's Display, not its name, is what the Active
// Channels block, the logs and the metrics show; the name is what is
// subscribed (issue 10, defect 4: a secret went into the name).
func TestChannelDisplay(t *testing.T) {
	mr := miniredis.RunT(t)
	var calls atomic.Int32
	h := handlerFunc(func(context.Context, string, []byte) error {
		calls.Add(1)
		return errors.New("boom")
	})
	hs := started(t, Config{Servers: []Server{miniServer(mr,
		Channel{Name: "ch-TOPSECRET", Display: "ch-{{ tok }}", Components: []string{"a"}},
	)}}, h)
	want := fmt.Sprintf("Active Channels on %[1]s:\n\t%[1]s/ch-{{ tok }}: [a]\n", mr.Addr())
	if got := hs.stdout.String(); got != want {
		t.Fatalf("stdout:\n%q\nwant:\n%q", got, want)
	}
	if err := publisher(t, mr.Addr()).Publish(context.Background(), "ch-TOPSECRET", "m").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the failure counted", func() bool { return calls.Load() == 1 && hs.tr.Stats().Failed == 1 })
	if got := hs.metric(admin.MetricReceived, map[string]string{"channel": "ch-{{ tok }}", "server": mr.Addr()}); got != 1 {
		t.Errorf("received{ch-{{ tok }}} = %v, want 1", got)
	}
	if err := hs.stop(); err != nil {
		t.Fatal(err)
	}
	logs := hs.logs.String()
	if strings.Contains(logs, "TOPSECRET") || len(hs.logLines(`="ch-{{ tok }}"`)) != 2 {
		t.Errorf("logs:\n%s", logs)
	}
}
