package wasmtime

// #include "binding.h"
import "C"

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"unsafe"
)

// TrapCode is a Wasmtime trap code. Each code is also an error value, so
// errors.Is(err, wasmtime.TrapUnreachable) tests for that trap.
type TrapCode uint8

// Trap codes (wasmtime/trap.h order).
const (
	TrapStackOverflow TrapCode = iota
	TrapMemoryOutOfBounds
	TrapHeapMisaligned
	TrapTableOutOfBounds
	TrapIndirectCallToNull
	TrapBadSignature
	TrapIntegerOverflow
	TrapIntegerDivisionByZero
	TrapBadConversionToInteger
	TrapUnreachable
	TrapInterrupt
	TrapAlwaysTrapAdapter
	TrapOutOfFuel
	TrapAtomicWaitNonSharedMemory
	TrapNullReference
	TrapArrayOutOfBounds
	TrapAllocationTooLarge
	TrapCastFailure
	TrapCannotEnterComponent
	TrapNoAsyncResult
	TrapDisabledOpcode
)

// trapTexts are Wasmtime's descriptions of each trap, as they appear after
// "wasm trap: " in error messages.
var trapTexts = [...]string{
	TrapStackOverflow:             "call stack exhausted",
	TrapMemoryOutOfBounds:         "out of bounds memory access",
	TrapHeapMisaligned:            "unaligned atomic",
	TrapTableOutOfBounds:          "undefined element: out of bounds table access",
	TrapIndirectCallToNull:        "uninitialized element",
	TrapBadSignature:              "indirect call type mismatch",
	TrapIntegerOverflow:           "integer overflow",
	TrapIntegerDivisionByZero:     "integer divide by zero",
	TrapBadConversionToInteger:    "invalid conversion to integer",
	TrapUnreachable:               "wasm `unreachable` instruction executed",
	TrapInterrupt:                 "interrupt",
	TrapAlwaysTrapAdapter:         "degenerate component adapter called",
	TrapOutOfFuel:                 "all fuel consumed by WebAssembly",
	TrapAtomicWaitNonSharedMemory: "atomic wait on non-shared memory",
	TrapNullReference:             "null reference",
	TrapArrayOutOfBounds:          "out of bounds array access",
	TrapAllocationTooLarge:        "allocation size too large",
	TrapCastFailure:               "cast failure",
	TrapCannotEnterComponent:      "cannot enter component instance",
	TrapNoAsyncResult:             "async-lifted export failed to produce a result",
	TrapDisabledOpcode:            "pulley opcode disabled at compile time was executed",
}

func (c TrapCode) Error() string {
	if c == TrapOther {
		return "wasm trap"
	}
	if int(c) < len(trapTexts) {
		return "wasm trap: " + trapTexts[c]
	}
	return "wasm trap: unknown trap code"
}

// TrapOther is the code of a trap Wasmtime reports only by message (one
// this binding does not know, e.g. "cannot leave component instance").
const TrapOther TrapCode = 0xff

// ErrTrap matches (errors.Is) every error that is a Wasm trap.
var ErrTrap = errors.New("wasm trap")

// Error is an error reported by Wasmtime: a compile or link error, a trap,
// or an error returned by a host function.
//
// errors.Is(err, ErrTrap) reports a trap; errors.Is(err, TrapUnreachable) a
// particular one; an epoch interruption (a timeout) also matches
// context.DeadlineExceeded, or the context error that caused it.
type Error struct {
	msg     string // full message from Wasmtime, including any backtrace
	text    string // trap description, for TrapOther
	code    TrapCode
	isTrap  bool
	exit    int
	hasExit bool
	cause   error // a Go error behind it (host function, interrupt cause)
}

// Error returns the message without the Wasm backtrace: the root cause, and
// for traps the trap description.
func (e *Error) Error() string {
	if e.isTrap {
		if c := e.cause; c != nil && e.code == TrapInterrupt {
			return e.code.Error() + " (" + c.Error() + ")"
		}
		if e.code == TrapOther {
			return "wasm trap: " + e.text
		}
		return e.code.Error()
	}
	return rootCause(e.msg)
}

// Detail returns Wasmtime's full message, including the Wasm backtrace.
func (e *Error) Detail() string { return e.msg }

// Trap returns the trap code, if this error is a trap.
func (e *Error) Trap() (TrapCode, bool) { return e.code, e.isTrap }

// ExitStatus returns the status passed to WASI proc_exit, if that is what
// ended the call.
func (e *Error) ExitStatus() (int, bool) { return e.exit, e.hasExit }

// Unwrap returns the Go error behind this one, if any.
func (e *Error) Unwrap() error { return e.cause }

// Is implements errors.Is for ErrTrap, trap codes and, for interrupts,
// context.DeadlineExceeded.
func (e *Error) Is(target error) bool {
	if !e.isTrap {
		return false
	}
	switch t := target.(type) {
	case TrapCode:
		return t == e.code
	}
	if target == ErrTrap {
		return true
	}
	if e.code == TrapInterrupt && e.cause == nil && target == context.DeadlineExceeded {
		return true
	}
	return false
}

// rootCause extracts the most specific line of an anyhow-style message:
// the last entry of its "Caused by:" list, or its first line.
func rootCause(msg string) string {
	msg = strings.TrimSpace(msg)
	if i := strings.LastIndex(msg, "Caused by:"); i >= 0 {
		rest := strings.TrimSpace(msg[i+len("Caused by:"):])
		lines := strings.Split(rest, "\n")
		last := strings.TrimSpace(lines[len(lines)-1])
		// Entries may be numbered ("0: ...").
		if j := strings.Index(last, ": "); j > 0 && isDigits(last[:j]) {
			last = last[j+2:]
		}
		return last
	}
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		return strings.TrimSpace(msg[:i])
	}
	return msg
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// classify fills in the trap code from the message when Wasmtime did not
// hand back a wasm_trap_t (component calls report traps as errors).
func (e *Error) classify() {
	if e.isTrap {
		return
	}
	const marker = "wasm trap: "
	i := strings.LastIndex(e.msg, marker)
	if i < 0 {
		return
	}
	text := e.msg[i+len(marker):]
	if j := strings.IndexByte(text, '\n'); j >= 0 {
		text = text[:j]
	}
	text = strings.TrimSpace(text)
	for c, t := range trapTexts {
		if text == t {
			e.code, e.isTrap = TrapCode(c), true
			return
		}
	}
	e.code, e.isTrap, e.text = TrapOther, true, text
}

// cleanMessage drops the Rust stack backtrace Wasmtime may append (it
// names no useful frames) and trailing NULs.
func cleanMessage(m string) string {
	m = strings.TrimRight(m, "\x00")
	if i := strings.Index(m, "\nStack backtrace:"); i >= 0 {
		m = m[:i]
	}
	return strings.TrimSpace(m)
}

// takeError converts a wasmtime_error_t into a Go error and deletes it.
func takeError(cerr *C.wasmtime_error_t) error {
	var msg C.wasm_name_t
	C.wasmtime_error_message(cerr, &msg)
	e := &Error{msg: cleanMessage(string(takeByteVec(&msg)))}
	var status C.int
	if C.wasmtime_error_exit_status(cerr, &status) {
		e.exit, e.hasExit = int(status), true
	}
	C.wasmtime_error_delete(cerr)
	e.classify()
	return e
}

// takeTrap converts a wasm_trap_t into a Go error and deletes it.
func takeTrap(trap *C.wasm_trap_t) error {
	var msg C.wasm_message_t
	C.wasm_trap_message(trap, &msg)
	e := &Error{msg: cleanMessage(string(takeByteVec(&msg)))}
	var code C.wasmtime_trap_code_t
	if C.wasmtime_trap_code(trap, &code) {
		e.code, e.isTrap = TrapCode(code), true
	} else {
		e.classify()
	}
	C.wasm_trap_delete(trap)
	return e
}

// newCError makes a wasmtime_error_t (owned by the caller, normally handed
// to Wasmtime as a callback's result) from a Go error.
func newCError(err error) *C.wasmtime_error_t {
	s := C.CString(err.Error())
	defer C.free(unsafe.Pointer(s))
	return C.wasmtime_error_new(s)
}

// newCTrap makes a wasm_trap_t from a Go error.
func newCTrap(err error) *C.wasm_trap_t {
	msg := err.Error()
	p, n := cStr(msg)
	t := C.wasmtime_trap_new(p, n)
	runtime.KeepAlive(msg)
	return t
}
