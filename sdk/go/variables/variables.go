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
	"runtime"
	"strconv"

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

// String names the case as the WIT does.
func (k ErrorKind) String() string {
	switch k {
	case InvalidName:
		return "invalid-name"
	case Undefined:
		return "undefined"
	case Provider:
		return "provider"
	case Other:
		return "other"
	}
	return "error(" + strconv.Itoa(int(k)) + ")"
}

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
	p, n := cabi.StringArg(name)
	cabi.PauseGC()
	get(p, n, a.Ptr())
	cabi.ResumeGC()
	runtime.KeepAlive(name)
	if a.U8(0) != 0 {
		return "", &Error{Kind: ErrorKind(a.U8(4)), Message: a.String(8)}
	}
	return a.String(4), nil
}
