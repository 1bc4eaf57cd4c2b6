package host

import (
	"fmt"

	"github.com/redspin/redspin/internal/wasi"
	"github.com/redspin/redspin/internal/wasmtime"
)

// defineTraps defines the functions (and resource types) of imports
// redspin does not provide as functions that fail when called, naming the
// import. (Wasmtime's define_unknown_imports_as_traps is not used: it would
// also shadow WASI imports that its linker matches by semver, e.g. a guest's
// @0.2.12 against Wasmtime's 0.2.x.)
//
// Resources the stubs share with WASI imports (wasi, linked by redspin's
// WASI) get that WASI's types, so that the component's imports agree;
// resources shared between stubbed interfaces get one type.
func defineTraps(l *wasmtime.ComponentLinker, imps, wasiImps []wasmtime.ImportInfo) error {
	if len(imps) == 0 {
		return nil
	}
	type assigned struct {
		ty  *wasmtime.ResourceType
		num uint32
	}
	var own []assigned
	root := l.Root()
	defer root.Close()
	trap := func(name string) wasmtime.ComponentHostFunc {
		return func(*wasmtime.ComponentCaller, []wasmtime.Val, []wasmtime.Val) error {
			return fmt.Errorf("%s is not supported by redspin (unsupported import)", name)
		}
	}
	var resourceType uint32 = 1 << 31 // host resource types redspin never creates
	number := func(rt *wasmtime.ResourceType) uint32 {
		for _, w := range wasiImps {
			for j, wt := range w.ResourceTypes {
				if wt.Equal(rt) {
					if n, ok := wasi.TypeOf(w.Resources[j]); ok {
						return n
					}
				}
			}
		}
		for _, a := range own {
			if a.ty.Equal(rt) {
				return a.num
			}
		}
		resourceType++
		own = append(own, assigned{rt, resourceType})
		return resourceType
	}
	for _, imp := range imps {
		if !imp.Instance {
			if err := root.AddFunc(imp.Name, trap(imp.Name)); err != nil {
				return fmt.Errorf("%s: %w", imp.Name, err)
			}
			continue
		}
		li, err := root.AddInstance(imp.Name)
		if err != nil {
			return fmt.Errorf("%s: %w", imp.Name, err)
		}
		for i, r := range imp.Resources {
			if err := li.AddResource(r, number(imp.ResourceTypes[i]), nil); err != nil {
				li.Close()
				return fmt.Errorf("%s/%s: %w", imp.Name, r, err)
			}
		}
		for _, f := range imp.Funcs {
			if err := li.AddFunc(f, trap(imp.Name+"#"+f)); err != nil {
				li.Close()
				return fmt.Errorf("%s#%s: %w", imp.Name, f, err)
			}
		}
		li.Close()
	}
	return nil
}
