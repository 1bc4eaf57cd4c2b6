package host

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Export names redspin looks for.
const (
	exportInboundRedis  = "fermyon:spin/inbound-redis"
	exportSpin4Prefix   = "spin:redis/inbound-redis@"
	exportInboundStream = "redspin:streams/inbound-stream@0.1.0"
	funcHandleEntry     = "handle-entry"
	funcHandleMessage   = "handle-message"
	exportCoreHandler   = "fermyon:spin/inbound-redis#handle-message"
	exportCorePost      = "cabi_post_fermyon:spin/inbound-redis#handle-message"
	exportCabiRealloc   = "cabi_realloc"
	exportSpin1Handler  = "handle-redis-message"
	exportSpin1Realloc  = "canonical_abi_realloc"
	exportInitialize    = "_initialize"
	exportMemory        = "memory"
	wasiP1Module        = "wasi_snapshot_preview1"
	defaultEpochTick    = 10 * time.Millisecond
	slowCompileNotice   = "Preparing Wasm modules is taking a few seconds..."
	maxTicksPerDeadline = 10
)

// spin4Error rejects a Spin 4 (component-model async) handler; it reads as
// a sentence after the component's name.
type spin4Error struct{ export string }

func (e spin4Error) Error() string {
	return fmt.Sprintf("exports %s (Spin 4 async), not supported yet", e.export)
}

// detectShape checks a binary's exports and returns its shape and handler
// export, or an error naming what it exports instead.
func detectShape(b *binInfo) (shape, export string, err error) {
	has := func(name string) bool { return slices.Contains(b.exports, name) }
	listed := func() string {
		if len(b.exports) == 0 {
			return "it exports nothing"
		}
		return "it exports " + strings.Join(b.exports, ", ")
	}
	if b.kind == binComponent {
		var spin4 string
		for _, e := range b.exports {
			if strings.HasPrefix(e, exportSpin4Prefix) {
				spin4 = e
			}
		}
		switch {
		case has(exportInboundRedis) && spin4 != "":
			return "", "", fmt.Errorf("exports both %s and %s; a Redis component must export exactly one handler", exportInboundRedis, spin4)
		case spin4 != "":
			return "", "", spin4Error{spin4}
		case has(exportInboundRedis):
			return ShapeComponent, exportInboundRedis, nil
		case has(exportInboundStream):
			return ShapeComponent, "", nil
		}
		return "", "", fmt.Errorf("no Redis handler: %s (want %s); a component for redis-stream triggers may export %s instead",
			listed(), exportInboundRedis, exportInboundStream)
	}
	switch {
	case has(exportCoreHandler) && has(exportSpin1Handler):
		return "", "", fmt.Errorf("exports both %s and %s; a Redis module must export exactly one handler", exportCoreHandler, exportSpin1Handler)
	case has(exportCoreHandler):
		if !has(exportCabiRealloc) || !has(exportMemory) {
			return "", "", fmt.Errorf("module exports %s but not %s and %s", exportCoreHandler, exportCabiRealloc, exportMemory)
		}
		return ShapeModule, exportCoreHandler, nil
	case has(exportSpin1Handler):
		if !has(exportSpin1Realloc) || !has(exportMemory) {
			return "", "", fmt.Errorf("module exports %s but not %s and %s", exportSpin1Handler, exportSpin1Realloc, exportMemory)
		}
		return ShapeSpin1Module, exportSpin1Handler, nil
	}
	return "", "", fmt.Errorf("no Redis handler: %s (want %s, or %s for Spin 1.x modules)", listed(), exportCoreHandler, exportSpin1Handler)
}
