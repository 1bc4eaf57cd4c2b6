package wasi

import "github.com/redspin/redspin/internal/wasmtime"

// wasi:sockets is denied: a guest gets its network resource, but creating
// a socket or resolving a name fails with access-denied (redspin's
// outbound networking is Redis, and later HTTP, through host interfaces).
// Methods of sockets fail when called, which cannot happen: no socket is
// ever created.

var socketsInstanceNetwork = Interface{
	"instance-network": func(x *Call, _, results []wasmtime.Val) error {
		v, err := x.Push(tyNetwork, struct{}{}, 0)
		results[0] = v
		return err
	},
}

// socketsDenied answers fn with err(access-denied).
func socketsDenied(fn string) Interface {
	return Interface{fn: func(x *Call, args, results []wasmtime.Val) error {
		if len(args) > 0 && args[0].Kind == wasmtime.CResource {
			if _, _, err := x.Borrow(args[0], tyNetwork); err != nil {
				return err
			}
		}
		e := wasmtime.Enum("access-denied")
		results[0] = wasmtime.ErrVal(&e)
		return nil
	}}
}
