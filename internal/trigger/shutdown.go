package trigger

import (
	"context"
	"log/slog"
	"time"
)

// cancelGrace is how long drain waits for handlers after cancelling them.
const cancelGrace = 5 * time.Second

// drain is the shutdown wait both trigger types share: it waits until done is closed, at most timeout;
// then it cancels the handlers (cancel) and waits cancelGrace more for them to return. It reports whether
// every handler finished before the timeout.
func drain(log *slog.Logger, done <-chan struct{}, timeout time.Duration, cancel context.CancelFunc) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-done:
		return true
	case <-timer.C:
	}
	log.Warn("shutdown timeout: cancelling handlers still running", "timeout", timeout.String())
	cancel()
	grace := time.NewTimer(cancelGrace)
	defer grace.Stop()
	select {
	case <-done:
	case <-grace.C:
		log.Error("handlers ignored cancellation; exiting without them")
	}
	return false
}
