package main

import (
	"fmt"
	"strings"

	"github.com/redspin/redspin/internal/app"
	"github.com/redspin/redspin/internal/host"
)

// checkHandlers rejects a pub/sub trigger whose component exports only
// redspin's stream handler: it could not handle a single message.
func checkHandlers(a *app.App, h *host.Host) error {
	for _, s := range a.Servers {
		for _, ch := range s.Channels {
			for _, id := range ch.Components {
				if info, ok := h.Info(id); ok && info.Export == "" {
					return fmt.Errorf("component %q exports only %s, so the redis trigger on channel %q cannot run it: export fermyon:spin/inbound-redis too, or trigger it with [[trigger.redis-stream]]",
						id, info.StreamExport, ch.Name)
				}
			}
		}
	}
	return nil
}

// exportsOf names the handler exports a component has, for `check`.
func exportsOf(info host.ComponentInfo) string {
	var e []string
	for _, x := range []string{info.Export, info.StreamExport} {
		if x != "" {
			e = append(e, x)
		}
	}
	return strings.Join(e, " and ")
}
