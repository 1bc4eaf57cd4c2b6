// Package redis is the Redis side of a Spin application written in standard
// Go: the handler of the Redis trigger (fermyon:spin/inbound-redis) and
// outbound Redis connections (fermyon:spin/redis@2.0.0).
//
// A guest registers its handler in an init function and is built as a WASI
// reactor, then finished by the SDK's post-link step (see package
// github.com/redspin/redspin/sdk/go/componentize):
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o app.raw.wasm .
//	go run github.com/redspin/redspin/sdk/go/cmd/redspin-componentize -o app.wasm app.raw.wasm
//
// The result is a core module that redspin runs as it is and that Spin turns
// into a component when it loads it.
//
// Outside a GOOS=wasip1 build the package compiles, so that code using it can
// be vetted and tested on the host, but every outbound call panics.
package redis

import (
	"context"

	"github.com/redspin/redspin/sdk/go/internal/cabi"
)

// HandlerFunc handles one message: payload is the message body. Returning nil
// acknowledges the message; returning an error fails it: the error's text is
// written to the guest's stderr and the host records the message as failed
// (the handler's result is err(error)). A panic traps the instance, which
// also fails the message.
type HandlerFunc func(ctx context.Context, payload []byte) error

// handler is the guest's one handler (a guest has exactly one export).
var handler HandlerFunc

// Handle registers h as the guest's Redis message handler. Call it from an
// init function; a later call replaces the handler. The context passed to h
// carries no deadline: the host enforces its own timeout by interrupting
// the guest.
func Handle(h HandlerFunc) { handler = h }

// ErrorKind is a case of fermyon:spin/redis@2.0.0's error variant.
type ErrorKind uint8

// The error cases, in WIT order.
const (
	// InvalidAddress: the address given to Open is not a valid Redis URL.
	InvalidAddress ErrorKind = iota
	// TooManyConnections: the host's connection limit for the instance is reached.
	TooManyConnections
	// TypeError: the value is not of the type the command expects.
	TypeError
	// Other: any other failure; Error.Message says what.
	Other
)

var errorNames = []string{"invalid-address", "too-many-connections", "type-error", "other"}

// String names the case as the WIT does.
func (k ErrorKind) String() string { return cabi.CaseName(errorNames, uint8(k)) }

// Error is a failed outbound Redis call.
type Error struct {
	// Kind is the error case.
	Kind ErrorKind
	// Message is the host's text for Other; empty for the other cases.
	Message string
}

// Error implements error.
func (e *Error) Error() string {
	if e.Message != "" {
		return "redis: " + e.Message
	}
	return "redis: " + e.Kind.String()
}

// Param is one argument of [Conn.Execute]: an integer or bytes. Make one with
// [Int], [Bytes] or [String].
type Param struct {
	isInt bool
	n     int64
	b     []byte
	s     string
}

// Int is an integer argument (redis-parameter.int64).
func Int(n int64) Param { return Param{isInt: true, n: n} }

// Bytes is a binary argument (redis-parameter.binary).
func Bytes(b []byte) Param { return Param{b: b} }

// String is a binary argument holding the bytes of s.
func String(s string) Param { return Param{s: s} }

// ResultKind is a case of fermyon:spin/redis@2.0.0's redis-result variant.
type ResultKind uint8

// The result cases, in WIT order.
const (
	// Nil: a nil reply.
	Nil ResultKind = iota
	// Status: a status reply such as "OK" (Result.Status).
	Status
	// Int64: an integer reply (Result.Int).
	Int64
	// Binary: a bulk reply (Result.Bytes).
	Binary
)

// Result is one value returned by [Conn.Execute].
type Result struct {
	// Kind says which of the other fields holds the value.
	Kind ResultKind
	// Status is the text of a Status reply.
	Status string
	// Int is the value of an Int64 reply.
	Int int64
	// Bytes is the value of a Binary reply.
	Bytes []byte
}

// Conn is an outbound Redis connection (a fermyon:spin/redis@2.0.0
// connection). It lives until Close or the end of the message: the host
// closes every connection when the handler returns. Its methods are not
// safe for concurrent use.
type Conn struct {
	handle uint32
	closed bool
}
