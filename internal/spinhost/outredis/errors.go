package outredis

import (
	"errors"
	"strings"

	"github.com/redspin/redspin/internal/spinhost/hosterr"
)

// Kind is the case of fermyon:spin/redis@2.0.0's error variant.
type Kind uint8

// Cases of the error variant, in WIT order, so a Kind is its case index.
const (
	// KindInvalidAddress: the address is not a valid Redis URL or its host
	// is not in allowed_outbound_hosts.
	KindInvalidAddress Kind = iota
	// KindTooManyConnections: the instance already holds the maximum number
	// of open connections.
	KindTooManyConnections
	// KindTypeError: the value has the wrong type (a WRONGTYPE server error,
	// or a reply of an unexpected shape).
	KindTypeError
	// KindOther: anything else; Message is the case's payload.
	KindOther
)

func (k Kind) String() string {
	switch k {
	case KindInvalidAddress:
		return "invalid-address"
	case KindTooManyConnections:
		return "too-many-connections"
	case KindTypeError:
		return "type-error"
	}
	return "other"
}

// Error is an outbound Redis error, already classified into the WIT
// variant. Adapters lower Kind (and Message for KindOther); the full text of
// Error() is for logs and never contains credentials.
//
// Errors caused by the context (cancellation, deadline) unwrap to the
// context error, so adapters can tell an interrupted message from a guest
// error with errors.Is.
type Error struct {
	Kind Kind
	// Message is the text given to the guest in other(string), and a short
	// description for the other kinds.
	Message string
	// Code is the server's error code (the reply's first word, such as ERR
	// or WRONGTYPE) for errors the server returned; "" otherwise.
	Code string
	// Err is the underlying cause, if any.
	Err error
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	if e.Kind == KindOther {
		return "redis: " + msg
	}
	if msg == "" {
		return "redis: " + e.Kind.String()
	}
	return "redis: " + e.Kind.String() + ": " + msg
}

func (e *Error) Unwrap() error { return e.Err }

// HostErrorKind is e's Kind (see package hosterr).
func (e *Error) HostErrorKind() Kind { return e.Kind }

// HostErrorMessage is e's Message (see package hosterr).
func (e *Error) HostErrorMessage() string { return e.Message }

// KindOf returns the Kind of the first *Error in err's chain, or KindOther.
func KindOf(err error) Kind { return hosterr.KindOf(err, KindOther) }

// MessageOf returns the payload for err's string case: the *Error's
// Message, or err's text.
func MessageOf(err error) string { return hosterr.MessageOf[Kind](err) }

func serverError(text []byte) error {
	msg := string(text)
	code, _, _ := strings.Cut(msg, " ")
	return &Error{Kind: KindOther, Message: msg, Code: code}
}

// typed turns a WRONGTYPE server error into type-error, as the typed
// operations report it.
func typed(err error) error {
	var e *Error
	if errors.As(err, &e) && e.Code == "WRONGTYPE" {
		return &Error{Kind: KindTypeError, Message: e.Message, Code: e.Code}
	}
	return err
}

func otherErr(msg string, err error) *Error {
	return &Error{Kind: KindOther, Message: msg, Err: err}
}
