package rdbms

import (
	"errors"

	"github.com/redspin/redspin/internal/spinhost/hosterr"
)

// ErrKind is a case of the rdbms error variant (2.0.0 / 3.x / 4.x order;
// the unversioned variants put success first, see [ErrKind.Legacy]).
type ErrKind uint8

// Error cases.
const (
	ConnectionFailed ErrKind = iota
	BadParameter
	QueryFailed
	ValueConversionFailed
	OtherError
)

var errKindNames = [...]string{"connection-failed", "bad-parameter", "query-failed", "value-conversion-failed", "other"}

// String returns the 2.0.0 case name.
func (k ErrKind) String() string {
	if int(k) < len(errKindNames) {
		return errKindNames[k]
	}
	return "other"
}

// Legacy returns the case's index and name in the unversioned pg-error /
// mysql-error (success first; other is other-error).
func (k ErrKind) Legacy() (uint8, string) {
	if k >= OtherError {
		return 5, "other-error"
	}
	return uint8(k) + 1, k.String()
}

// DBError is 4.x's structured database error (a query-failed payload).
type DBError struct {
	AsText, Severity, Code, Message string
	Detail                          *string
	Extras                          [][2]string
}

// Error is an rdbms host error: the variant case and its text. DB is set
// for a PostgreSQL server error (4.x lowers it as query-error.db-error;
// earlier versions get Message, which is then DB.AsText).
type Error struct {
	Kind    ErrKind
	Message string
	DB      *DBError
	Err     error
}

func (e *Error) Error() string { return e.Kind.String() + ": " + e.Message }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// HostErrorKind returns the case (for package hosterr).
func (e *Error) HostErrorKind() ErrKind { return e.Kind }

// HostErrorMessage returns the payload text.
func (e *Error) HostErrorMessage() string { return e.Message }

// Errorf builds an Error of kind k with message msg.
func Errorf(k ErrKind, msg string) *Error { return &Error{Kind: k, Message: msg} }

// KindOf returns err's case; a plain error is other.
func KindOf(err error) ErrKind { return hosterr.KindOf(err, OtherError) }

// MessageOf returns err's payload text.
func MessageOf(err error) string { return hosterr.MessageOf[ErrKind](err) }

// DBErrorOf returns the structured database error in err's chain, or nil.
func DBErrorOf(err error) *DBError {
	var e *Error
	if errors.As(err, &e) {
		return e.DB
	}
	return nil
}
