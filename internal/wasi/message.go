package wasi

import (
	"context"
	"time"
)

// SetMessage binds c's blocking calls to another message: from now on they
// end when ctx is done or at deadline (zero = none), interrupting the guest
// with deadlineErr (nil = context.DeadlineExceeded). It is for a store that
// serves several messages (instance reuse): the Ctx, its resource table and
// its output writers live as long as the store, while Config's Context and
// Deadline are per message. Call it between calls, never during one.
func (c *Ctx) SetMessage(ctx context.Context, deadline time.Time, deadlineErr error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if deadlineErr == nil {
		deadlineErr = context.DeadlineExceeded
	}
	c.cfg.Context, c.cfg.Deadline, c.cfg.DeadlineErr = ctx, deadline, deadlineErr
}
