package outredis

import "context"

// Legacy is the unversioned fermyon:spin/redis interface (and Spin 1.x's
// outbound-redis imports) on top of an Instance: every call takes the
// address, checks it against allowed_outbound_hosts, opens a new connection,
// runs one command and closes the connection again. A missing key reads as
// an empty value.
//
// Errors are the same *Error values as the 2.0.0 interface, for logging;
// the unversioned interface has only error.error, so adapters lower every
// error to that case.
type Legacy struct{ i *Instance }

// Legacy returns the unversioned interface over i's connection table. Its
// connections count against MaxConnections only while a call runs.
func (i *Instance) Legacy() Legacy { return Legacy{i} }

// WithConn runs f on a connection to address opened for this one call (as
// every unversioned function does), then closes it. Failures are logged at
// debug level, since the unversioned interface shows the guest only
// error.error.
func WithConn[T any](ctx context.Context, l Legacy, address string, f func(h uint32) (T, error)) (T, error) {
	var zero T
	h, err := l.i.Open(ctx, address)
	if err == nil {
		defer l.i.Drop(h)
		var v T
		if v, err = f(h); err == nil {
			return v, nil
		}
	}
	// The guest will see only error.error: keep the reason in the log.
	l.i.c.log.Debug("outbound redis (unversioned interface): the guest gets error.error", "err", err)
	return zero, err
}

// Publish sends payload to channel at address.
func (l Legacy) Publish(ctx context.Context, address, channel string, payload []byte) error {
	_, err := WithConn(ctx, l, address, func(h uint32) (struct{}, error) {
		return struct{}{}, l.i.Publish(ctx, h, channel, payload)
	})
	return err
}

// Get returns the value of key, or an empty value when it does not exist.
func (l Legacy) Get(ctx context.Context, address, key string) ([]byte, error) {
	return WithConn(ctx, l, address, func(h uint32) ([]byte, error) {
		v, _, err := l.i.Get(ctx, h, key)
		if err == nil && v == nil {
			v = []byte{}
		}
		return v, err
	})
}

// Set sets key to value.
func (l Legacy) Set(ctx context.Context, address, key string, val []byte) error {
	_, err := WithConn(ctx, l, address, func(h uint32) (struct{}, error) {
		return struct{}{}, l.i.Set(ctx, h, key, val)
	})
	return err
}

// Incr increments key by one and returns the new value.
func (l Legacy) Incr(ctx context.Context, address, key string) (int64, error) {
	return WithConn(ctx, l, address, func(h uint32) (int64, error) { return l.i.Incr(ctx, h, key) })
}

// Del deletes keys and returns how many existed.
func (l Legacy) Del(ctx context.Context, address string, keys []string) (int64, error) {
	return WithConn(ctx, l, address, func(h uint32) (int64, error) { return l.i.Del(ctx, h, keys) })
}

// SAdd adds values to the set at key.
func (l Legacy) SAdd(ctx context.Context, address, key string, values []string) (int64, error) {
	return WithConn(ctx, l, address, func(h uint32) (int64, error) { return l.i.SAdd(ctx, h, key, values) })
}

// SRem removes values from the set at key.
func (l Legacy) SRem(ctx context.Context, address, key string, values []string) (int64, error) {
	return WithConn(ctx, l, address, func(h uint32) (int64, error) { return l.i.SRem(ctx, h, key, values) })
}

// SMembers returns the members of the set at key.
func (l Legacy) SMembers(ctx context.Context, address, key string) ([]string, error) {
	return WithConn(ctx, l, address, func(h uint32) ([]string, error) { return l.i.SMembers(ctx, h, key) })
}

// Execute runs a command as [Instance.Execute] does.
func (l Legacy) Execute(ctx context.Context, address, command string, args []Param) ([]Result, error) {
	return WithConn(ctx, l, address, func(h uint32) ([]Result, error) { return l.i.Execute(ctx, h, command, args) })
}
