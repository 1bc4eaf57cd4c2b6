package wasi

import (
	"errors"
	"fmt"
	"strings"

	"github.com/redspin/redspin/internal/wasmtime"
)

// Interface is the implementation of one WASI interface: its functions
// by name as the WIT spells them ("get-stdout",
// "[method]output-stream.write"). A function the guest imports that is
// not listed fails when called.
type Interface map[string]Func

// packages are the WASI packages Link serves.
var packages = []string{"wasi:io/", "wasi:cli/", "wasi:clocks/", "wasi:random/", "wasi:filesystem/", "wasi:sockets/", "wasi:http/"}

// Serves reports whether Link defines the import called name: an
// interface of a package above, at any 0.2.x version.
func Serves(name string) bool {
	for _, p := range packages {
		if strings.HasPrefix(name, p) && strings.Contains(name, "@0.2.") {
			return true
		}
	}
	return false
}

// Unversioned strips "@version" from an interface name.
func Unversioned(name string) string {
	if i := strings.IndexByte(name, '@'); i >= 0 {
		return name[:i]
	}
	return name
}

// interfaces are the implementations of this package, by unversioned name.
func interfaces() map[string]Interface {
	return map[string]Interface{
		"wasi:io/error":                  ioError,
		"wasi:io/poll":                   ioPoll,
		"wasi:io/streams":                ioStreams,
		"wasi:cli/environment":           cliEnvironment,
		"wasi:cli/exit":                  cliExit,
		"wasi:cli/stdin":                 cliStdin,
		"wasi:cli/stdout":                cliStdout,
		"wasi:cli/stderr":                cliStderr,
		"wasi:cli/terminal-stdin":        cliTerminal("get-terminal-stdin"),
		"wasi:cli/terminal-stdout":       cliTerminal("get-terminal-stdout"),
		"wasi:cli/terminal-stderr":       cliTerminal("get-terminal-stderr"),
		"wasi:clocks/monotonic-clock":    clocksMonotonic,
		"wasi:clocks/wall-clock":         clocksWall,
		"wasi:random/random":             randomSecure,
		"wasi:random/insecure":           randomInsecure,
		"wasi:random/insecure-seed":      randomSeed,
		"wasi:filesystem/types":          fsTypes,
		"wasi:filesystem/preopens":       fsPreopens,
		"wasi:sockets/instance-network":  socketsInstanceNetwork,
		"wasi:sockets/tcp-create-socket": socketsDenied("create-tcp-socket"),
		"wasi:sockets/udp-create-socket": socketsDenied("create-udp-socket"),
		"wasi:sockets/ip-name-lookup":    socketsDenied("resolve-addresses"),
	}
}

// Link defines on l every import in imports that Serves, by its exact
// name, and returns the names it defined. extra adds or replaces
// interfaces by unversioned name (e.g. a wasi:http implementation); a
// function neither knows fails when called with an error naming it
// (wasi:http's: "... is not supported yet").
func Link(l *wasmtime.ComponentLinker, imports []wasmtime.ImportInfo, extra map[string]Interface) ([]string, error) {
	impls := interfaces()
	for k, v := range extra {
		impls[k] = v
	}
	var done []string
	root := l.Root()
	defer root.Close()
	for _, imp := range imports {
		if !imp.Instance || !Serves(imp.Name) {
			continue
		}
		if err := linkInterface(root, imp, impls[Unversioned(imp.Name)]); err != nil {
			return done, fmt.Errorf("define %s: %w", imp.Name, err)
		}
		done = append(done, imp.Name)
	}
	return done, nil
}

func linkInterface(root *wasmtime.LinkerInstance, imp wasmtime.ImportInfo, impl Interface) error {
	li, err := root.AddInstance(imp.Name)
	if err != nil {
		return err
	}
	defer li.Close()
	for _, r := range imp.Resources {
		ty, ok := TypeOf(r)
		if !ok {
			return fmt.Errorf("resource %s is not a WASI resource redspin knows", r)
		}
		if err := li.AddResource(r, ty, dropper(ty)); err != nil {
			return fmt.Errorf("resource %s: %w", r, err)
		}
	}
	for _, f := range imp.Funcs {
		name := imp.Name + "#" + f
		fn, ok := impl[f]
		if !ok {
			fn = unsupported(name)
		}
		if err := li.AddFunc(f, hostFunc(name, fn)); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
	}
	return nil
}

// unsupported fails a function this package does not implement.
func unsupported(name string) Func {
	msg := fmt.Sprintf("%s is not supported by redspin", name)
	if strings.HasPrefix(name, "wasi:http/") {
		msg = fmt.Sprintf("%s: wasi:http (outbound HTTP) is not supported yet", name)
	}
	return func(*Call, []wasmtime.Val, []wasmtime.Val) error { return errors.New(msg) }
}

var errNoCtx = errors.New("wasi: the store has no WASI context (host bug)")

// ctxKey is the key of a store's Ctx (Store.SetValue).
type ctxKey struct{}

func ctxOf(c *wasmtime.ComponentCaller) (*Ctx, error) {
	if x, ok := c.Value(ctxKey{}).(*Ctx); ok {
		return x, nil
	}
	return nil, errNoCtx
}

func hostFunc(name string, fn Func) wasmtime.ComponentHostFunc {
	return func(c *wasmtime.ComponentCaller, args, results []wasmtime.Val) error {
		ctx, err := ctxOf(c)
		if err != nil {
			return err
		}
		x := &ctx.call
		if ctx.inCall {
			x = &Call{} // not expected: the component model forbids reentry
		} else {
			ctx.inCall = true
			defer func() { ctx.inCall = false }()
		}
		x.Ctx, x.c = ctx, c
		err = fn(x, args, results)
		x.c = nil
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
}

func dropper(ty uint32) wasmtime.ResourceDestructor {
	return func(c *wasmtime.ComponentCaller, rep uint32) error {
		ctx, err := ctxOf(c)
		if err != nil {
			return err
		}
		return ctx.res.remove(rep, ty)
	}
}
