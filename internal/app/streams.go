package app

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/redspin/redspin/internal/diag"
	"github.com/redspin/redspin/internal/manifest"
	"github.com/redspin/redspin/internal/redisurl"
)

// StreamTrigger is one resolved [[trigger.redis-stream]]: its templates rendered and its defaults
// applied (except those the trigger derives from command-line flags, such as the claim idle time).
type StreamTrigger struct {
	// ID is the trigger ID; Component the component it runs.
	ID, Component string
	// Address is the resolved address as written; it may hold credentials, so it is never printed.
	Address string
	// URL is the parsed address.
	URL *redisurl.URL
	// Display is host:port or the socket path; it never holds credentials.
	Display string
	// Embedded marks a trigger without an address served by the embedded Redis (Options.Embedded);
	// until ServeEmbedded, Address is EmbeddedAddress and Display is "embedded".
	Embedded bool
	// Stream is the stream key; Group the consumer group (default "<application name>-<component id>").
	Stream, Group string
	// Field is the entry field passed as the message (default "payload").
	Field string
	// Start is where a new group starts: "0" (default) or "$".
	Start string
	// DeadLetter is the dead-letter stream (default "<stream>:dead").
	DeadLetter string
	// Concurrency is the entries in flight per process (default 1); MaxDeliveries the delivery count at
	// which a failing entry is dead-lettered (default 5).
	Concurrency, MaxDeliveries int
	// ReadAhead is how many entries a process may hold delivered but not started (default the larger of
	// DefaultStreamReadAhead and Concurrency).
	ReadAhead int
	// ClaimIdle is the manifest's claim_idle; 0 means the trigger's default (from --handler-timeout).
	ClaimIdle time.Duration
	// RetryBackoff is the manifest's retry_backoff; 0 means the trigger's default.
	RetryBackoff time.Duration
}

// Stream defaults applied by Load.
const (
	DefaultStreamField       = "payload"
	DefaultStreamStart       = "0"
	DefaultStreamConcurrency = 1
	DefaultStreamReadAhead   = 16
	DefaultMaxDeliveries     = 5
	DeadLetterSuffix         = ":dead"
)

// StreamFor returns the first stream trigger reading stream.
func (a *App) StreamFor(stream string) (StreamTrigger, bool) {
	i := slices.IndexFunc(a.Streams, func(s StreamTrigger) bool { return s.Stream == stream })
	if i < 0 {
		return StreamTrigger{}, false
	}
	return a.Streams[i], true
}

// selectStreams applies -c (validated by selectTriggers): triggers for other components are dropped.
func selectStreams(m *manifest.Manifest, only []string) []manifest.StreamTrigger {
	if len(only) == 0 {
		return m.StreamTriggers
	}
	var out []manifest.StreamTrigger
	for _, t := range m.StreamTriggers {
		if slices.Contains(only, t.Component) {
			out = append(out, t)
		}
	}
	return out
}

// resolveStreams renders the stream triggers' templates, applies their defaults and rejects two triggers
// on the same (address, stream, group): they would split the entries between their components.
func (a *App) resolveStreams(ctx context.Context, triggers []manifest.StreamTrigger, opts Options) error {
	def, err := a.renderDefault(ctx, "redis-stream", a.Manifest.StreamAddress, opts)
	if err != nil {
		return err
	}
	for _, t := range triggers {
		s := StreamTrigger{ID: t.ID, Component: t.Component, Field: t.Field, Start: t.Start,
			Concurrency: t.Concurrency, ReadAhead: t.ReadAhead, MaxDeliveries: t.MaxDeliveries, ClaimIdle: t.ClaimIdle, RetryBackoff: t.RetryBackoff}
		// render resolves one of the trigger's templates; what a secret
		// variable went into is shown by its template (template.Text.Shown).
		render := func(what, expr string) (string, error) {
			v, err := a.Render(ctx, expr)
			if err != nil {
				return "", diag.Errorf("trigger %q: failed to resolve redis-stream %s %q for component %q: %w", t.ID, what, expr, t.Component, err)
			}
			if v.Secret {
				return "", diag.Errorf("trigger %q: redis-stream %s %q uses a secret variable; stream, group and dead-letter names are shown in output and metrics, so they cannot be secret", t.ID, what, expr)
			}
			return v.Value, nil
		}
		addr, err := a.resolveAddress(ctx, "redis-stream", t.ID, t.Component, t.Address, def, opts)
		if err != nil {
			return err
		}
		s.Address, s.URL, s.Display, s.Embedded = addr.Value, addr.URL, addr.Display, addr.Embedded
		if s.Stream, err = render("stream", t.Stream); err != nil {
			return err
		}
		if s.Stream == "" {
			return fmt.Errorf("trigger %q: stream resolves to an empty string", t.ID)
		}
		s.Group = a.Manifest.Name + "-" + t.Component
		if t.Group != "" {
			if s.Group, err = render("group", t.Group); err != nil {
				return err
			}
		}
		s.DeadLetter = s.Stream + DeadLetterSuffix
		if t.DeadLetterStream != "" {
			if s.DeadLetter, err = render("dead_letter_stream", t.DeadLetterStream); err != nil {
				return err
			}
		}
		switch {
		case s.Group == "":
			return fmt.Errorf("trigger %q: group resolves to an empty string", t.ID)
		case s.DeadLetter == "" || s.DeadLetter == s.Stream:
			return fmt.Errorf("trigger %q: dead_letter_stream %q must be set and differ from the stream", t.ID, s.DeadLetter)
		}
		if s.Field == "" {
			s.Field = DefaultStreamField
		}
		if s.Start == "" {
			s.Start = DefaultStreamStart
		}
		if s.Concurrency == 0 {
			s.Concurrency = DefaultStreamConcurrency
		}
		if s.MaxDeliveries == 0 {
			s.MaxDeliveries = DefaultMaxDeliveries
		}
		if s.ReadAhead == 0 {
			s.ReadAhead = max(DefaultStreamReadAhead, s.Concurrency)
		}
		a.Streams = append(a.Streams, s)
	}
	return a.checkStreamGroups()
}

// checkStreamGroups rejects two triggers reading one (address, stream, group).
func (a *App) checkStreamGroups() error {
	for i, s := range a.Streams {
		for _, o := range a.Streams[:i] {
			if o.Address == s.Address && o.Stream == s.Stream && o.Group == s.Group {
				return fmt.Errorf("triggers %q and %q both read stream %q as group %q on %s: they would split its entries between components %q and %q; give one of them its own `group` (two groups on one stream each get every entry)",
					o.ID, s.ID, s.Stream, s.Group, s.Display, o.Component, s.Component)
			}
		}
	}
	return nil
}

// serveEmbeddedStreams points the stream triggers without an address at the embedded Redis.
func (a *App) serveEmbeddedStreams(url string, u *redisurl.URL) error {
	for i := range a.Streams {
		if s := &a.Streams[i]; s.Embedded {
			s.Address, s.URL, s.Display, s.Embedded = url, u, u.Display(), false
		}
	}
	return a.checkStreamGroups()
}
