package host

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redspin/redspin/internal/streamentry"
	"github.com/redspin/redspin/internal/wasmtime"
)

var _ streamentry.Handler = (*Host)(nil)

// HandleEntry runs one stream entry through component componentID in a
// fresh instance, or with Options.Reuse in one of its earlier instances.
//
// A component exporting redspin:streams/inbound-stream@0.1.0 receives the
// whole entry (stream, ID, group, every field, delivery count) and its
// answer is returned: ack, retry (optionally after a delay) or dead-letter
// with a reason. Every other guest, and core modules and Spin 1.x modules
// always, runs its fermyon:spin/inbound-redis handler with e.Payload (empty
// when nil): ok or err(success) is Ack, anything else an error.
//
// The error is non-nil for a failed delivery: a trap, a timeout or
// cancellation, err(error) from a plain handler, or an entry too large for
// MaxComponentPayload (the sum of its field names and values); it names the
// component and wraps the cause as Handle's error does.
func (h *Host) HandleEntry(ctx context.Context, componentID string, e streamentry.Entry) (streamentry.Disposition, error) {
	g, ok := h.guests[componentID]
	if !ok {
		return streamentry.Disposition{}, fmt.Errorf("unknown component %q", componentID)
	}
	cg, ok := g.(*componentGuest)
	if !ok || cg.entryFn == nil {
		return streamentry.FromPlain(h).HandleEntry(ctx, componentID, e)
	}
	d, err := h.handleEntry(ctx, cg, e)
	if err != nil {
		return streamentry.Disposition{}, fmt.Errorf("component %q: %w", componentID, err)
	}
	return d, nil
}

func (h *Host) handleEntry(ctx context.Context, g *componentGuest, e streamentry.Entry) (streamentry.Disposition, error) {
	var d streamentry.Disposition
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed.Load() {
		return d, fmt.Errorf("host is closed")
	}
	if err := ctx.Err(); err != nil {
		return d, err
	}
	dl := h.deadlineOf(ctx)
	n := entrySize(e)
	if err := h.checkComponentPayload(n); err != nil {
		return d, fmt.Errorf("entry %s: %w", e.ID, err)
	}
	defer h.started()()
	err := h.inInstance(ctx, dl, g, n, func(in *instance, lowered func(), ph *phaseClock) error {
		f, err := g.exportFunc(in, g.entryFn, exportInboundStream, funcHandleEntry)
		if err != nil {
			return err
		}
		start := time.Now()
		res, err := f.Call([]wasmtime.Val{entryVal(e)}, 1)
		lowered()
		h.observeLowering(n, time.Since(start))
		ph.called(h.phases)
		if err != nil {
			return h.describe(funcHandleEntry, err, nil)
		}
		d, err = disposition(res[0])
		return err
	})
	return d, err
}

// entrySize is what MaxComponentPayload caps for an entry: its field names and
// values (the C API passes every byte of a list<u8> as a 32-byte value).
func entrySize(e streamentry.Entry) int {
	n := 0
	for _, f := range e.Fields {
		n += len(f.Name) + len(f.Value)
	}
	return n
}

// entryVal is e as the WIT record inbound-stream.entry. Strings that are
// not UTF-8 (a Redis field name may be any bytes) have their invalid bytes
// replaced by U+FFFD, as the WIT documents.
func entryVal(e streamentry.Entry) wasmtime.Val {
	fields := make([]wasmtime.Val, len(e.Fields))
	for i, f := range e.Fields {
		v := f.Value
		if v == nil {
			v = []byte{}
		}
		fields[i] = wasmtime.Val{Kind: wasmtime.CRecord, Names: []string{"name", "value"},
			Elems: []wasmtime.Val{wasmtime.Str(utf8(f.Name)), wasmtime.Bytes(v)}}
	}
	return wasmtime.Val{
		Kind:  wasmtime.CRecord,
		Names: []string{"stream-key", "id", "group", "fields", "deliveries"},
		Elems: []wasmtime.Val{
			wasmtime.Str(utf8(e.Stream)),
			wasmtime.Str(utf8(e.ID)),
			wasmtime.Str(utf8(e.Group)),
			{Kind: wasmtime.CList, Elems: fields},
			{Kind: wasmtime.CU64, Num: uint64(max(e.Deliveries, 0))},
		},
	}
}

func utf8(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// disposition reads the variant inbound-stream.disposition.
func disposition(v wasmtime.Val) (streamentry.Disposition, error) {
	if v.Kind != wasmtime.CVariant {
		return streamentry.Disposition{}, fmt.Errorf("%s returned a value of kind %d, not a disposition variant", funcHandleEntry, v.Kind)
	}
	switch v.Str {
	case "ack":
		return streamentry.Disposition{Action: streamentry.Ack}, nil
	case "retry":
		d := streamentry.Disposition{Action: streamentry.Retry}
		if v.Payload != nil && v.Payload.Payload != nil { // some(ms)
			d.RetryAfter = time.Duration(v.Payload.Payload.Num) * time.Millisecond
		}
		return d, nil
	case "dead-letter":
		d := streamentry.Disposition{Action: streamentry.DeadLetter}
		if v.Payload != nil {
			d.Reason = v.Payload.Str
		}
		return d, nil
	}
	return streamentry.Disposition{}, fmt.Errorf("%s returned an unknown disposition %q", funcHandleEntry, v.Str)
}
