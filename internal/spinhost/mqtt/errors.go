package mqtt

import (
	"github.com/redspin/redspin/internal/spinhost/hosterr"
)

// Kind classifies an MQTT error: the cases of fermyon:spin/mqtt@2.0.0's
// error variant, in WIT order.
type Kind uint8

// Error kinds.
const (
	KindInvalidAddress     Kind = iota // invalid-address
	KindTooManyConnections             // too-many-connections
	KindConnectionFailed               // connection-failed(string)
	KindOther                          // other(string)
)

// CaseNames are the error variant's case names, indexed by Kind.
var CaseNames = []string{"invalid-address", "too-many-connections", "connection-failed", "other"}

// Error is an MQTT error for the guest; Message is the string payload of
// connection-failed and other.
type Error struct {
	Kind    Kind
	Message string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "mqtt: " + CaseNames[e.Kind]
	}
	return "mqtt: " + CaseNames[e.Kind] + ": " + e.Message
}

// HostErrorKind is e's Kind (see package hosterr).
func (e *Error) HostErrorKind() Kind { return e.Kind }

// HostErrorMessage is e's Message (see package hosterr).
func (e *Error) HostErrorMessage() string { return e.Message }

// KindOf returns the Kind of the first *Error in err's chain, or KindOther.
func KindOf(err error) Kind { return hosterr.KindOf(err, KindOther) }

// MessageOf returns the string payload for err.
func MessageOf(err error) string { return hosterr.MessageOf[Kind](err) }

// HasMessage reports whether kind k carries a string.
func (k Kind) HasMessage() bool { return k == KindConnectionFailed || k == KindOther }
