package sqlite

import (
	"fmt"

	"github.com/redspin/redspin/internal/spinhost/hosterr"
)

// Kind classifies an SQLite error: the cases of Spin's sqlite error variant,
// in WIT order (the same in every version).
type Kind uint8

// Error kinds.
const (
	KindNoSuchDatabase    Kind = iota // no-such-database
	KindAccessDenied                  // access-denied
	KindInvalidConnection             // invalid-connection
	KindDatabaseFull                  // database-full
	KindIO                            // io(string)
)

func (k Kind) String() string {
	return [...]string{"no-such-database", "access-denied", "invalid-connection", "database-full", "io"}[k]
}

// CaseNames are the error variant's case names, indexed by Kind.
var CaseNames = []string{"no-such-database", "access-denied", "invalid-connection", "database-full", "io"}

// Error is an SQLite error for the guest. Message is io's payload.
type Error struct {
	Kind    Kind
	Message string
}

func (e *Error) Error() string {
	if e.Kind == KindIO {
		return "sqlite: " + e.Message
	}
	if e.Message != "" {
		return "sqlite: " + e.Kind.String() + ": " + e.Message
	}
	return "sqlite: " + e.Kind.String()
}

// HostErrorKind is e's Kind (see package hosterr).
func (e *Error) HostErrorKind() Kind { return e.Kind }

// HostErrorMessage is e's Message (see package hosterr).
func (e *Error) HostErrorMessage() string { return e.Message }

// KindOf returns the Kind of the first *Error in err's chain, or KindIO.
func KindOf(err error) Kind { return hosterr.KindOf(err, KindIO) }

// MessageOf returns io's payload for err.
func MessageOf(err error) string { return hosterr.MessageOf[Kind](err) }

func ioErr(err error) *Error { return &Error{Kind: KindIO, Message: err.Error()} }

func ioErrf(format string, args ...any) *Error {
	return &Error{Kind: KindIO, Message: fmt.Sprintf(format, args...)}
}
