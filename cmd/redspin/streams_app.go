package main

import (
	"context"
	"errors"
)

// appStreamTriggers lists the app's redis-stream triggers.
func appStreamTriggers(ctx context.Context, from string) ([]streamTrigger, error) {
	return nil, errors.New("reading stream triggers from the app needs the redis-stream trigger in internal/app")
}
