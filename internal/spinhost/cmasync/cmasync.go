// Package cmasync tells which imports need component-model async, which
// Wasmtime 39's C API cannot serve: no host function can be async, and a
// component whose types include an async function does not compile.
//
// What happens to a guest (measured with Wasmtime 39 and components made by
// wit-component): a component's import type lists only the functions its
// code uses, so a guest of spin:sqlite/sqlite@3.1.0 that calls only the
// synchronous functions compiles and is served like 3.0.0. A guest that
// uses an async function (or any function of a wholly async interface such
// as spin:mqtt/mqtt@3.0.0) fails to compile with Wasmtime's "invalid
// leading byte (0x43) for component defined type"; [CompileError] turns
// that into a message naming the functions. A canonical-ABI core module
// importing "[async-lower]…" functions compiles, and those imports trap.
//
// The one classification is [Func]; the rest are views of it.
package cmasync

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Reason is why an async import cannot be served, for messages.
const Reason = "it needs component-model async, which Wasmtime 39's C API (redspin's engine) cannot serve"

// whollyAsync are Spin interfaces whose every function is async, with the
// synchronous version to use instead ("" = none).
var whollyAsync = map[string]string{
	"spin:mqtt/mqtt@3.0.0":           "fermyon:spin/mqtt@2.0.0",
	"spin:mysql/mysql@3.0.0":         "fermyon:spin/mysql@2.0.0",
	"spin:key-value/key-value@3.0.0": "fermyon:spin/key-value@2.0.0",
	"spin:redis/redis@3.0.0":         "fermyon:spin/redis@2.0.0",
	"spin:variables/variables@3.0.0": "fermyon:spin/variables@2.0.0",
}

// mixed are interface versions that add "-async" functions beside
// synchronous ones: their async functions, as a component names them.
var mixed = map[string][]string{
	"spin:sqlite/sqlite@3.1.0": {
		"[static]connection.open-async", "[method]connection.execute-async",
		"[method]connection.last-insert-rowid-async", "[method]connection.changes-async",
	},
	"spin:postgres/postgres@4.2.0": {
		"[method]connection-builder.build-async", "[static]connection.open-async",
		"[method]connection.query-async", "[method]connection.execute-async",
	},
}

// Func reports whether function fn of interface iface (component names,
// e.g. "spin:sqlite/sqlite@3.1.0", "[static]connection.open-async") is
// async.
func Func(iface, fn string) bool {
	if _, ok := whollyAsync[iface]; ok {
		return true
	}
	return slices.Contains(mixed[iface], fn)
}

// Interface returns, for an interface redspin cannot serve at all because
// every function is async, a sentence saying so and what to import
// instead; "" for any other interface.
func Interface(iface string) string {
	alt, ok := whollyAsync[iface]
	if !ok {
		return ""
	}
	return fmt.Sprintf("every function of %s is async: %s; build against %s", iface, Reason, alt)
}

// CoreField reports whether a core module's import field is a
// component-model async intrinsic or an async-lowered function
// ("[async-lower]…", "[waitable-set-new]", "[task-return]…", …).
func CoreField(field string) bool {
	for _, p := range []string{"[async-lower]", "[async-lift]", "[waitable", "[task-", "[subtask-", "[stream-", "[future-",
		"[context-", "[backpressure", "[yield]", "[error-context"} {
		if strings.HasPrefix(field, p) {
			return true
		}
	}
	return false
}

// Scan returns the known async functions and wholly async interfaces whose
// names appear in a component's bytes, sorted ("iface#fn" or "iface").
func Scan(wasm []byte) []string {
	var out []string
	for iface := range whollyAsync {
		if bytes.Contains(wasm, []byte(iface)) {
			out = append(out, iface)
		}
	}
	for iface, fns := range mixed {
		if !bytes.Contains(wasm, []byte(iface)) {
			continue
		}
		for _, fn := range fns {
			if bytes.Contains(wasm, []byte(fn)) {
				out = append(out, iface+"#"+fn)
			}
		}
	}
	slices.Sort(out)
	return out
}

// asyncErrors are Wasmtime 39's compile errors for component-model async:
// an async function type (0x43 is its type constructor), and the
// validator's for a `stream`, `future` or `error-context` type or an async
// canonical option, whichever the component defines first (a guest of
// spin:mysql@3.0.0 has its row stream before the async function).
var asyncErrors = []string{
	"invalid leading byte (0x43) for component defined type",
	"requires the component model async feature",
}

// ErrAsync is wrapped by CompileError's errors.
var ErrAsync = errors.New("component-model async is not supported")

// CompileError explains err, the failure to compile the component wasm,
// when it comes from component-model async: the error then names the async
// imports found in wasm and says what to do. Other errors are returned
// unchanged.
func CompileError(wasm []byte, err error) error {
	if err == nil || !slices.ContainsFunc(asyncErrors, func(m string) bool { return strings.Contains(err.Error(), m) }) {
		return err
	}
	found := Scan(wasm)
	what := "an async function or type"
	if len(found) > 0 {
		what = "async imports " + strings.Join(found, ", ")
	}
	fix := "use only the synchronous functions (e.g. spin:sqlite/sqlite@3.0.0 or 3.1.0's functions without -async) or the interfaces' synchronous versions"
	var alts []string
	for _, f := range found {
		if alt := whollyAsync[f]; alt != "" {
			alts = append(alts, alt+" instead of "+f)
		}
	}
	if len(alts) > 0 {
		fix = "build against " + strings.Join(alts, ", ")
	}
	return fmt.Errorf("%w: the component uses %s, and %s; %s (Wasmtime: %v)", ErrAsync, what, Reason, fix, err)
}
