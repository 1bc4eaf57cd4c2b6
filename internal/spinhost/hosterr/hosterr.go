// Package hosterr reads the classified errors of the Spin host interfaces.
//
// Each interface package (outredis, kv, vars) has its own error type whose
// kind is a case of that interface's WIT error variant and whose message is
// the payload of the variant's string case. The adapters only need those
// two facts, so the error types expose them through two methods, and the
// functions here find them anywhere in a wrapped error chain.
package hosterr

import "errors"

// Kinded is implemented by an interface's error type: HostErrorKind is the
// WIT error case, HostErrorMessage the text for its string payload.
type Kinded[K any] interface {
	error
	HostErrorKind() K
	HostErrorMessage() string
}

// KindOf returns the kind of the first Kinded[K] in err's chain, or other
// when there is none (a plain Go error is the interface's catch-all case).
func KindOf[K any](err error, other K) K {
	var e Kinded[K]
	if errors.As(err, &e) {
		return e.HostErrorKind()
	}
	return other
}

// MessageOf returns the payload text for err: the message of the first
// Kinded[K] in its chain when that is not empty, otherwise err's own text
// ("" for nil).
func MessageOf[K any](err error) string {
	var e Kinded[K]
	if errors.As(err, &e) {
		if m := e.HostErrorMessage(); m != "" {
			return m
		}
	}
	if err == nil {
		return ""
	}
	return err.Error()
}
