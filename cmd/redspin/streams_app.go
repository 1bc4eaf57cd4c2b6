package main

import (
	"context"
	"path/filepath"

	"github.com/redspin/redspin/internal/app"
	"github.com/redspin/redspin/internal/embedredis"
)

// appStreamTriggers lists the app's redis-stream triggers. A trigger
// without an address gets the URL that a running `up --embedded-redis`
// wrote; when none is running it keeps no address, and selecting it fails.
func appStreamTriggers(ctx context.Context, opts app.Options) ([]appStream, error) {
	opts.SkipComponents, opts.Embedded = true, true
	a, err := app.Load(ctx, opts)
	defer a.Close()
	if err != nil {
		return nil, err
	}
	embedded, hint := embeddedURL(a)
	out := make([]appStream, 0, len(a.Streams))
	for _, s := range a.Streams {
		t := appStream{component: s.Component, address: s.Address, stream: s.Stream, field: s.Field, deadLetter: s.DeadLetter}
		if s.Embedded {
			t.address, t.hint = embedded, hint
			if embedded == "" {
				t.noAddress = "the trigger has no address and no embedded Redis is running for the app (start `redspin up --embedded-redis`, or give -a)"
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// embeddedURL is the URL of the embedded Redis that a running
// `redspin up --embedded-redis` wrote for app a ("" when there is none),
// and a hint naming the file, for errors.
func embeddedURL(a *app.App) (url, hint string) {
	if !a.HasEmbedded() || a.StateDir == "" {
		return "", ""
	}
	u, err := embedredis.ReadURL(a.StateDir)
	if err != nil {
		return "", ""
	}
	return u, " (the embedded Redis URL in " + filepath.Join(a.StateDir, embedredis.URLFile) + "; is `redspin up --embedded-redis` still running?)"
}
