package trigger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/redspin/redspin/internal/observe"
)

// work is one worker of a lane: it handles messages until the lane closes.
// Once every component returned, the payload's buffer goes back to the
// lane's pool for a later message (see payloadPool).
func (t *Trigger) work(ctx context.Context, l *lane) {
	for {
		p, ok := l.pop()
		if !ok {
			return
		}
		t.dispatch(ctx, l, p)
		l.pool.put(p)
	}
}

// dispatch runs every component of the lane's channel on one payload,
// concurrently, and waits for all of them, in the message's span.
func (t *Trigger) dispatch(ctx context.Context, l *lane, payload []byte) {
	if !t.tracing {
		t.fanOut(ctx, l, payload)
		return
	}
	mctx, span := t.messageSpan(ctx, l, payload)
	defer span.End()
	t.fanOut(mctx, l, payload)
}

func (t *Trigger) fanOut(ctx context.Context, l *lane, payload []byte) {
	if len(l.components) == 1 {
		t.invoke(ctx, l, 0, payload)
		return
	}
	var wg sync.WaitGroup
	for i := 1; i < len(l.components); i++ {
		wg.Go(func() { t.invoke(ctx, l, i, payload) })
	}
	t.invoke(ctx, l, 0, payload)
	wg.Wait()
}

// invoke runs one component, classifies and records the outcome, and logs a
// failure at WARN.
func (t *Trigger) invoke(ctx context.Context, l *lane, i int, payload []byte) {
	id := l.components[i]
	start := time.Now()
	l.running[i].Add(1)
	cctx, span := ctx, trace.Span(nil)
	if t.tracing {
		cctx, span = componentSpan(ctx, id)
	}
	err := safeCall(cctx, t.log, id, func() error { return t.h.Handle(cctx, id, payload) })
	l.running[i].Add(-1)
	elapsed := time.Since(start)
	var r observe.Result
	switch {
	case err == nil:
		r = observe.Handled
		t.stats.handled.Add(1)
	case errors.Is(err, context.DeadlineExceeded):
		r = observe.TimedOut
		t.stats.timedOut.Add(1)
		t.log.WarnContext(cctx, "component handler timed out", "component", id, "channel", l.display,
			"server", l.srv.cfg.Display, "duration", elapsed.String(), "error", err)
	default:
		r = observe.Failed
		t.stats.failed.Add(1)
		t.log.WarnContext(cctx, "component handler failed", "component", id, "channel", l.display,
			"server", l.srv.cfg.Display, "error", err)
	}
	if span != nil {
		endComponent(span, r, err)
	}
	l.compMetric[i].Observe(r, elapsed)
	if err != nil {
		l.compMetric[i].Failure(err)
	}
}

// safeCall runs a handler call, turning a panic into an error so that one
// bad message never takes the process down; ctx is the message's (for the
// log line's trace ids).
func safeCall(ctx context.Context, log *slog.Logger, id string, call func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			log.ErrorContext(ctx, "component handler panicked", "component", id, "panic", fmt.Sprint(v),
				"stack", string(debug.Stack()))
			err = fmt.Errorf("handler panicked: %v", v)
		}
	}()
	return call()
}
