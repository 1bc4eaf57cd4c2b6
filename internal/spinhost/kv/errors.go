package kv

import (
	"errors"
	"fmt"

	"github.com/redspin/redspin/internal/spinhost/hosterr"
)

// Kind classifies a key-value error. The first four are
// fermyon:spin/key-value@2.0.0's error cases in WIT order.
type Kind uint8

// Error kinds.
const (
	KindStoreTableFull Kind = iota // store-table-full
	KindNoSuchStore                // no-such-store
	KindAccessDenied               // access-denied
	KindOther                      // other(string)
	// KindInvalidStore: the handle names no open store. The unversioned
	// interface has invalid-store; the 2.0.0 resource cannot reach it.
	KindInvalidStore
	// KindNoSuchKey: the unversioned get of a missing key.
	KindNoSuchKey
)

func (k Kind) String() string {
	switch k {
	case KindStoreTableFull:
		return "store-table-full"
	case KindNoSuchStore:
		return "no-such-store"
	case KindAccessDenied:
		return "access-denied"
	case KindInvalidStore:
		return "invalid-store"
	case KindNoSuchKey:
		return "no-such-key"
	}
	return "other"
}

// Error is a key-value error, classified for the WIT variants. Message is
// the payload of other/io and a description otherwise; Error() is for logs.
type Error struct {
	Kind    Kind
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "key-value: " + e.Kind.String()
	}
	if e.Kind == KindOther {
		return "key-value: " + e.Message
	}
	return "key-value: " + e.Kind.String() + ": " + e.Message
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

func kindErr(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

func otherErr(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Kind: KindOther, Message: err.Error(), Err: err}
}

// Cases of the unversioned key-value error variant, in WIT order.
const (
	LegacyStoreTableFull uint8 = iota
	LegacyNoSuchStore
	LegacyAccessDenied
	LegacyInvalidStore
	LegacyNoSuchKey
	LegacyIO
)

// LegacyCase maps err to the unversioned key-value error variant: its case
// index and, for io(string), the message.
func LegacyCase(err error) (uint8, string) {
	switch KindOf(err) {
	case KindStoreTableFull:
		return LegacyStoreTableFull, ""
	case KindNoSuchStore:
		return LegacyNoSuchStore, ""
	case KindAccessDenied:
		return LegacyAccessDenied, ""
	case KindInvalidStore:
		return LegacyInvalidStore, ""
	case KindNoSuchKey:
		return LegacyNoSuchKey, ""
	}
	return LegacyIO, MessageOf(err)
}

// Cases of wasi:keyvalue/store@0.2.0-draft2's error variant, in WIT order.
const (
	WASINoSuchStore uint8 = iota
	WASIAccessDenied
	WASIOther
)

// WASICase maps err to wasi:keyvalue's error variant, as Spin does: a full
// store table is other("store table full") and an unknown bucket handle is
// no-such-store.
func WASICase(err error) (uint8, string) {
	switch KindOf(err) {
	case KindNoSuchStore, KindInvalidStore:
		return WASINoSuchStore, ""
	case KindAccessDenied:
		return WASIAccessDenied, ""
	case KindStoreTableFull:
		return WASIOther, "store table full"
	}
	return WASIOther, MessageOf(err)
}
