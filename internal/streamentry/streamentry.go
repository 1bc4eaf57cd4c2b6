// Package streamentry defines what the redis-stream trigger hands to a handler and what the handler
// answers: one stream entry, its delivery count, and the disposition (ack, retry, dead-letter). It is a
// leaf package shared by the trigger, the host and the CLI so none of them imports another for these types.
package streamentry

import (
	"context"
	"time"
)

// Field is one field of a stream entry, in the order Redis returned it.
type Field struct {
	// Name is the field name.
	Name string
	// Value is the field value, as bytes.
	Value []byte
}

// Entry is one stream entry delivered to a handler.
type Entry struct {
	// Stream is the stream key the entry was read from.
	Stream string
	// ID is the entry ID, such as "1700000000000-0".
	ID string
	// Group is the consumer group that delivered the entry.
	Group string
	// Fields are all fields of the entry, in order.
	Fields []Field
	// Deliveries is Redis's delivery count for the entry, including this delivery (1 on the first).
	Deliveries int64
	// Payload is the value of the trigger's `field`; nil when the entry has no such field.
	Payload []byte
}

// Action is what the trigger does with an entry after a successful handler call.
type Action int

const (
	// Ack acknowledges the entry: it is done.
	Ack Action = iota
	// Retry leaves the entry pending; the trigger delivers it again after Disposition.RetryAfter.
	Retry
	// DeadLetter moves the entry to the dead-letter stream now, with Disposition.Reason as its error.
	DeadLetter
)

// String names the action for logs.
func (a Action) String() string {
	switch a {
	case Ack:
		return "ack"
	case Retry:
		return "retry"
	case DeadLetter:
		return "dead-letter"
	}
	return "unknown"
}

// Disposition is a handler's answer for one entry.
type Disposition struct {
	// Action is what to do with the entry; the zero value is Ack.
	Action Action
	// RetryAfter is the delay before the next delivery when Action is Retry; 0 means the trigger's backoff.
	RetryAfter time.Duration
	// Reason is recorded as the error when Action is DeadLetter; empty means "dead-lettered by the handler".
	Reason string
}

// Handler handles stream entries for components.
type Handler interface {
	// HandleEntry runs componentID's handler for e. A non-nil error is a failed delivery (trap, timeout,
	// err(error)); the Disposition is only read when the error is nil.
	HandleEntry(ctx context.Context, componentID string, e Entry) (Disposition, error)
}

// PlainHandler is a handler of plain messages, such as the pub/sub trigger's.
type PlainHandler interface {
	// Handle runs componentID's handler with payload; a non-nil error is a failed delivery.
	Handle(ctx context.Context, componentID string, payload []byte) error
}

// FromPlain adapts a plain handler: it receives the entry's Payload, success acks the entry and an error is a
// failed delivery.
func FromPlain(h PlainHandler) Handler {
	return plain{h}
}

type plain struct{ h PlainHandler }

func (p plain) HandleEntry(ctx context.Context, componentID string, e Entry) (Disposition, error) {
	if err := p.h.Handle(ctx, componentID, e.Payload); err != nil {
		return Disposition{}, err
	}
	return Disposition{Action: Ack}, nil
}

// Names of the fields redspin adds to a dead-letter entry, next to all of the original fields.
const (
	// FieldStream names the source stream.
	FieldStream = "redspin.stream"
	// FieldID is the entry's ID in the source stream.
	FieldID = "redspin.id"
	// FieldGroup names the consumer group.
	FieldGroup = "redspin.group"
	// FieldComponent names the component that failed the entry.
	FieldComponent = "redspin.component"
	// FieldDeliveries is the delivery count when the entry was dead-lettered, in decimal.
	FieldDeliveries = "redspin.deliveries"
	// FieldError is the last error (or the handler's reason).
	FieldError = "redspin.error"
	// FieldTime is when the entry was dead-lettered, in RFC 3339.
	FieldTime = "redspin.time"
)
