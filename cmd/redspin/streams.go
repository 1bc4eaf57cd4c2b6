package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"

	"github.com/redspin/redspin/internal/app"
	"github.com/redspin/redspin/internal/host"
	"github.com/redspin/redspin/internal/observe"
	"github.com/redspin/redspin/internal/redisurl"
	"github.com/redspin/redspin/internal/streamentry"
	"github.com/redspin/redspin/internal/trigger"
)

// streamTrigger builds the redis-stream trigger of a's stream triggers (nil when it has none).
func (c *cli) streamTrigger(a *app.App, f *upFlags, h *host.Host, obs observe.Observer, tp trace.TracerProvider) (*trigger.StreamTrigger, error) {
	if len(a.Streams) == 0 {
		return nil, nil
	}
	cfg := trigger.StreamConfig{
		Consumer:        f.consumer,
		HandlerTimeout:  f.handlerTimeout,
		ShutdownTimeout: offIfZero(f.shutdownTimeout),
		Stdout:          c.stdout,
		Logger:          c.logger,
		Observer:        obs,
		TracerProvider:  tp,
	}
	for _, s := range a.Streams {
		if s.ClaimIdle > 0 && (f.handlerTimeout == 0 || s.ClaimIdle <= f.handlerTimeout) {
			c.logger.Warn("claim_idle is not above --handler-timeout: another replica may claim an entry that is still being handled, and handle it twice",
				"trigger", s.ID, "claim_idle", s.ClaimIdle.String(), "handler_timeout", f.handlerTimeout.String())
		}
		cfg.Streams = append(cfg.Streams, streamOf(s))
	}
	return trigger.NewStream(cfg, streamHandler(h))
}

// streamOf maps a resolved stream trigger to the trigger's configuration.
func streamOf(s app.StreamTrigger) trigger.Stream {
	return trigger.Stream{
		Display: s.Display, Options: s.URL.UniversalOptions(), Component: s.Component,
		Key: s.Stream, Group: s.Group, Field: s.Field, Start: s.Start,
		Concurrency: s.Concurrency, ReadAhead: s.ReadAhead, MaxDeliveries: int64(s.MaxDeliveries), DeadLetter: s.DeadLetter,
		ClaimIdle: s.ClaimIdle, RetryBackoff: s.RetryBackoff,
	}
}

// streamHandler is the host as a stream-entry handler: its own HandleEntry when it has one (the rich
// export), else its plain Handle with the entry's field as the payload.
func streamHandler(h *host.Host) streamentry.Handler {
	if eh, ok := any(h).(streamentry.Handler); ok {
		return eh
	}
	return streamentry.FromPlain(h)
}

// runner is a trigger Run.
type runner interface {
	Run(ctx context.Context) error
}

// runTriggers runs the triggers that exist (non-nil) until ctx ends; a trigger that fails at startup
// stops the others, and its error is returned.
func runTriggers(ctx context.Context, triggers ...runner) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(triggers))
	for _, t := range triggers {
		go func() {
			err := t.Run(ctx)
			if err != nil {
				cancel()
			}
			errs <- err
		}()
	}
	var all []error
	for range triggers {
		if err := <-errs; err != nil {
			all = append(all, err)
		}
	}
	return errors.Join(all...)
}

// statusSources are the non-nil triggers' status sources.
func statusSources(t *trigger.Trigger, st *trigger.StreamTrigger) observe.StatusSource {
	var srcs []observe.StatusSource
	if t != nil {
		srcs = append(srcs, t)
	}
	if st != nil {
		srcs = append(srcs, st)
	}
	return observe.Merge(srcs...)
}

// printStreams prints each stream trigger for `check`.
func (c *cli) printStreams(a *app.App, consumer string) {
	if consumer == "" {
		consumer = "<hostname>-<pid>-<random> (--consumer overrides)"
	}
	for _, s := range a.Streams {
		fmt.Fprintf(c.stdout, "Stream %s/%s: [%s] group %q, consumer %s, dead letters to %q (field %q, start %q, concurrency %d, read_ahead %d, max_deliveries %d)\n",
			s.Display, s.Stream, s.Component, s.Group, consumer, s.DeadLetter, s.Field, s.Start, s.Concurrency, s.ReadAhead, s.MaxDeliveries)
		if hashTag(s.Stream) != hashTag(s.DeadLetter) {
			fmt.Fprintf(c.stdout, "\tnote: on a Redis Cluster %q and %q may sit in different hash slots, so dead-lettering falls back to XADD then XACK (at-least-once); hash-tag both to keep it atomic, e.g. stream = %q, dead_letter_stream = %q\n",
				s.Stream, s.DeadLetter, "{"+s.Stream+"}", "{"+s.Stream+"}"+app.DeadLetterSuffix)
		}
	}
}

// hashTag is the part of a key Redis Cluster hashes: the text between the first "{" and the next "}"
// when it is not empty, else the whole key.
func hashTag(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			return key[i+1 : i+1+j]
		}
	}
	return key
}

// waitReady polls ready until it holds (true) or ctx ends (false).
func waitReady(ctx context.Context, ready func() bool) bool {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !ready() {
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
	return true
}

// splitPublish separates the --publish messages for a's streams (NAME is a stream some redis-stream
// trigger reads) from those for channels.
func splitPublish(a *app.App, msgs []string) (streams, channels []string) {
	for _, m := range msgs {
		name, _, _ := strings.Cut(m, "=")
		if _, ok := a.StreamFor(name); ok {
			streams = append(streams, m)
		} else {
			channels = append(channels, m)
		}
	}
	return streams, channels
}

// addWhenReady adds the --publish STREAM=MESSAGE entries (the message in the trigger's field) once the
// stream trigger is reading.
func (c *cli) addWhenReady(ctx context.Context, st *trigger.StreamTrigger, a *app.App, msgs []string) {
	if !waitReady(ctx, st.Ready) {
		return
	}
	for _, m := range msgs {
		stream, payload, _ := strings.Cut(m, "=")
		s, _ := a.StreamFor(stream)
		opts := s.URL.UniversalOptions()
		opts.MaxRetries = -1
		client := redisurl.NewClient(opts)
		id, err := client.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []any{s.Field, payload}}).Result()
		_ = client.Close()
		if err != nil {
			c.logger.Warn("--publish failed", "stream", stream, "err", err)
			continue
		}
		c.logger.Info("added a stream entry", "stream", stream, "id", id, "field", s.Field, "bytes", len(payload))
	}
}
