package rdbms

import (
	"errors"
	"log/slog"

	"github.com/redspin/redspin/internal/spinhost/allowedhosts"
)

// CheckAllowed checks t against the component's allowed_outbound_hosts
// before any connection attempt. A refused address is
// connection-failed("address <shown> is not permitted"), as in Spin, and a
// warning naming the manifest line to add is logged.
func CheckAllowed(l *allowedhosts.List, component string, t allowedhosts.Target, shown string, log *slog.Logger) error {
	err := l.Check(component, t)
	if err == nil {
		return nil
	}
	var de *allowedhosts.DeniedError
	if errors.As(err, &de) && log != nil {
		log.Warn("outbound database: address not allowed", "host", t.String(), "fix", de.Suggestion(), "err", err)
	}
	return &Error{Kind: ConnectionFailed, Message: "address " + shown + " is not permitted", Err: err}
}
