package wasi

import (
	"fmt"

	"github.com/redspin/redspin/internal/wasmtime"
)

var cliEnvironment = Interface{
	"get-environment": func(x *Call, _, results []wasmtime.Val) error {
		out := make([]wasmtime.Val, len(x.cfg.Env))
		for i, kv := range x.cfg.Env {
			out[i] = wasmtime.Val{Kind: wasmtime.CTuple, Elems: []wasmtime.Val{wasmtime.Str(kv[0]), wasmtime.Str(kv[1])}}
		}
		results[0] = wasmtime.Val{Kind: wasmtime.CList, Elems: out}
		return nil
	},
	"get-arguments": func(_ *Call, _, results []wasmtime.Val) error {
		results[0] = wasmtime.Val{Kind: wasmtime.CList}
		return nil
	},
	"initial-cwd": func(_ *Call, _, results []wasmtime.Val) error {
		results[0] = wasmtime.None()
		return nil
	},
}

// ExitError is the trap of a guest that called wasi:cli/exit: Code 0 for
// exit(ok), 1 for exit(err), or exit-with-code's code.
type ExitError struct{ Code int }

// Error says the guest exited and with which status.
func (e ExitError) Error() string { return fmt.Sprintf("guest exited with status %d", e.Code) }

var cliExit = Interface{
	"exit": func(_ *Call, args, _ []wasmtime.Val) error {
		if len(args) > 0 && args[0].Ok {
			return ExitError{0}
		}
		return ExitError{1}
	},
	"exit-with-code": func(_ *Call, args, _ []wasmtime.Val) error {
		return ExitError{int(args[0].Num)}
	},
}

func getStream(ty uint32, open func(*Ctx) any) Func {
	return func(x *Call, _, results []wasmtime.Val) error {
		v, err := x.Push(ty, open(x.Ctx), 0)
		results[0] = v
		return err
	}
}

var (
	cliStdin  = Interface{"get-stdin": getStream(tyInputStream, func(*Ctx) any { return emptyStream{} })}
	cliStdout = Interface{"get-stdout": getStream(tyOutputStream, func(c *Ctx) any { return NewWriterStream(c.cfg.Stdout) })}
	cliStderr = Interface{"get-stderr": getStream(tyOutputStream, func(c *Ctx) any { return NewWriterStream(c.cfg.Stderr) })}
)

// cliTerminal: no stream is a terminal.
func cliTerminal(fn string) Interface {
	return Interface{fn: func(_ *Call, _, results []wasmtime.Val) error {
		results[0] = wasmtime.None()
		return nil
	}}
}
