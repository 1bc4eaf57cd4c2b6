// Package variables reads the component's variables
// (fermyon:spin/variables@2.0.0) in guests written in standard Go (see
// package github.com/redspin/redspin/sdk/go/redis for how to build one).
//
// A component's [variables] table in the manifest maps its variable names to
// templates over the application's variables; the host resolves them through
// its providers (redspin: --variable, the runtime config, SPIN_VARIABLE_*,
// .env, defaults).
//
// Outside a GOOS=wasip1 build the package compiles, but Get panics.
package variables

import (
	"github.com/redspin/redspin/sdk/go/internal/cabi"
)

// ErrorKind is a case of fermyon:spin/variables@2.0.0's error variant.
type ErrorKind uint8

// The error cases, in WIT order.
const (
	// InvalidName: the name is not a valid variable name.
	InvalidName ErrorKind = iota
	// Undefined: the component has no such variable.
	Undefined
	// Provider: a provider failed to resolve it.
	Provider
	// Other: any other failure.
	Other
)

var errorNames = []string{"invalid-name", "undefined", "provider", "other"}

// String names the case as the WIT does.
func (k ErrorKind) String() string { return cabi.CaseName(errorNames, uint8(k)) }

// Error is a failed Get.
type Error struct {
	// Kind is the error case.
	Kind ErrorKind
	// Message is the host's text (every case carries one).
	Message string
}

// Error implements error.
func (e *Error) Error() string { return "variables: " + e.Kind.String() + ": " + e.Message }

// Get returns the value of the component's variable name (lower-case
// letters, digits and underscores, as in the manifest).
func Get(name string) (string, error) {
	var a cabi.Area
	cabi.CallString(func(_, p, n, ret uint32) { get(p, n, ret) }, 0, name, &a)
	if a.IsErr() {
		return "", &Error{Kind: ErrorKind(a.U8(4)), Message: a.String(8)}
	}
	return a.String(4), nil
}
