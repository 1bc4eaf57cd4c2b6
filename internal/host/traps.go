package host

import (
	"fmt"

	"github.com/redspin/redspin/internal/wasmtime"
)

// defineTraps defines the functions (and resource types) of imports
// redspin does not provide as functions that fail when called, naming the
// import. (Wasmtime's define_unknown_imports_as_traps is not used: it would
// also shadow WASI imports that its linker matches by semver, e.g. a guest's
// @0.2.12 against Wasmtime's 0.2.x.)
//
// Resources the stubs share with WASI imports (wasi:http/types uses
// wasi:io's streams) get WASI's own types, so that the component's imports
// agree; resources shared between stubbed interfaces get one type.
func (h *Host) defineTraps(l *wasmtime.ComponentLinker, imps, wasi []wasmtime.ImportInfo) error {
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
			if err := h.defineStubResource(li, r, imp.ResourceTypes[i], wasi, func(rt *wasmtime.ResourceType) uint32 {
				for _, a := range own {
					if a.ty.Equal(rt) {
						return a.num
					}
				}
				resourceType++
				own = append(own, assigned{rt, resourceType})
				return resourceType
			}); err != nil {
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

// defineStubResource defines resource name (of component type rt) in a
// stub instance: with WASI's type when rt is a WASI resource, else with the
// host type number that number(rt) assigns.
func (h *Host) defineStubResource(li *wasmtime.LinkerInstance, name string, rt *wasmtime.ResourceType,
	wasi []wasmtime.ImportInfo, number func(*wasmtime.ResourceType) uint32) error {
	for _, w := range wasi {
		for j, wt := range w.ResourceTypes {
			if !wt.Equal(rt) {
				continue
			}
			key := unversioned(w.Name) + "#" + w.Resources[j]
			types, err := h.wasiTypesFor()
			if err != nil {
				return err
			}
			ht := types[key]
			if ht == nil {
				return fmt.Errorf("uses WASI resource %s, which redspin cannot stub", key)
			}
			return li.AddResourceType(name, ht, nil)
		}
	}
	return li.AddResource(name, number(rt), nil)
}
