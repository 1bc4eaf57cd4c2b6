package host

import (
	"fmt"
	"slices"
	"strings"

	"github.com/redspin/redspin/internal/wasmtime"
)

// moduleGuest is a core module (ShapeModule) or a Spin 1.x module
// (ShapeSpin1Module), with WASI preview 1 from Wasmtime.
type moduleGuest struct {
	guestBase
	linker                 *wasmtime.Linker
	pre                    *wasmtime.InstancePre
	handler, realloc, post string
	hasInit                bool
	// wasi records that the module imports WASI preview 1.
	wasi bool
}

// checkPayload refuses a payload over the core-module cap.
func (g *moduleGuest) checkPayload(_ *Host, n int) error {
	if n > maxModulePayload {
		return fmt.Errorf("%w: %d bytes exceeds the core-module payload limit of %s", ErrPayloadTooLarge, n, formatBytes(maxModulePayload))
	}
	return nil
}

// lowers is 0: a module takes the payload straight into its memory.
func (g *moduleGuest) lowers(int) int { return 0 }

// instantiate instantiates g in in's store and looks up its exports; its
// _initialize runs with the first message (handle).
func (g *moduleGuest) instantiate(_ *Host, in *instance) error {
	inst, err := g.pre.Instantiate(in.s)
	if err != nil {
		return err
	}
	mi := &moduleInstance{inst: inst}
	var ok bool
	if mi.mem, ok = inst.Memory(exportMemory); !ok {
		return fmt.Errorf("%s is not a memory", exportMemory)
	}
	if mi.realloc, ok = inst.Func(g.realloc); !ok {
		return fmt.Errorf("%s is not a function", g.realloc)
	}
	if mi.handler, ok = inst.Func(g.handler); !ok {
		return fmt.Errorf("%s is not a function", g.handler)
	}
	if g.post != "" {
		mi.post, _ = inst.Func(g.post)
	}
	mi.initialized = !g.hasInit
	in.mod = mi
	return nil
}

// moduleInstance is a core module's instance and its exports.
type moduleInstance struct {
	inst                   *wasmtime.Instance
	mem                    wasmtime.Memory
	realloc, handler, post *wasmtime.Func // post: nil = none
	// initialized: _initialize has run (or the module has none).
	initialized bool
}

func (g *moduleGuest) setupStore(h *Host, s *wasmtime.Store) (storeIO, error) {
	if !g.wasi {
		return noIO{}, nil
	}
	return h.wasmtimeWASI(&g.guestBase, s)
}

func (g *moduleGuest) close() {
	if g.pre != nil {
		g.pre.Close()
	}
	if g.linker != nil {
		g.linker.Close()
	}
	g.closeBase()
}

func (h *Host) linkModule(g *moduleGuest, bin *binInfo) error {
	if g.info.Shape == ShapeModule {
		g.handler, g.realloc = exportCoreHandler, exportCabiRealloc
		if slices.Contains(bin.exports, exportCorePost) {
			g.post = exportCorePost
		}
		g.hasInit = slices.Contains(bin.exports, exportInitialize)
	} else {
		g.handler, g.realloc = exportSpin1Handler, exportSpin1Realloc
	}
	var other []string // non-WASI imports, "module#field"
	for _, imp := range bin.imports {
		if mod, _, _ := strings.Cut(imp, "#"); mod == wasiP1Module {
			g.wasi = true
			g.info.WASI = WASIPreview1
		} else {
			other = append(other, imp)
		}
	}
	g.linker = wasmtime.NewLinker(h.engine)
	if g.wasi {
		if err := g.linker.DefineWASI(); err != nil {
			return fmt.Errorf("link WASI: %w", err)
		}
	}
	if g.imports != nil && len(other) > 0 {
		done, err := g.imports.LinkModule(g.linker, other)
		if err != nil {
			return fmt.Errorf("link host interfaces: %w", err)
		}
		other = slices.DeleteFunc(other, func(i string) bool { return slices.Contains(done, i) })
		g.hostData = len(done) > 0
	}
	for _, imp := range other {
		if mod, _, _ := strings.Cut(imp, "#"); !slices.Contains(g.info.UnsupportedImports, mod) {
			g.info.UnsupportedImports = append(g.info.UnsupportedImports, mod)
		}
	}
	if err := g.linker.DefineUnknownImportsAsTraps(g.art.module); err != nil {
		return fmt.Errorf("link: %w", err)
	}
	var err error
	if g.pre, err = g.linker.InstantiatePre(g.art.module); err != nil {
		return fmt.Errorf("link: %w", err)
	}
	return nil
}

// handle runs _initialize once per instance if g has one, copies payload
// into the instance's memory and calls the handler, then post-return if g
// has it. The same instance may be called again (instance reuse): a
// memory left above reuseMemoryLimit poisons it.
func (g *moduleGuest) handle(h *Host, in *instance, payload []byte, _ func(), ph *phaseClock) error {
	defer ph.called(h.phases)
	mi := in.mod
	mem := &mi.mem
	if !mi.initialized {
		f, ok := mi.inst.Func(exportInitialize)
		if !ok {
			return fmt.Errorf("%s is not a function", exportInitialize)
		}
		if _, err := f.CallI32(0); err != nil {
			return h.describe(exportInitialize, err, mem)
		}
		mi.initialized = true
	}
	if h.opts.Reuse.enabled() {
		defer func() {
			if mem.Size() > h.reuseMemoryLimit() {
				in.poisoned = true
			}
		}()
	}
	r, err := mi.realloc.CallI32(1, 0, 0, 1, int32(len(payload)))
	if err != nil {
		return h.describe(g.realloc, err, mem)
	}
	ptr := uint32(r[0])
	data := mem.Data()
	if uint64(ptr)+uint64(len(payload)) > uint64(len(data)) {
		return fmt.Errorf("%s returned %d, outside memory (%d bytes) for a %d-byte payload", g.realloc, ptr, len(data), len(payload))
	}
	copy(data[ptr:], payload)
	r, err = mi.handler.CallI32(1, int32(ptr), int32(len(payload)))
	if err != nil {
		return h.describe(g.handler, err, mem)
	}
	ret := uint32(r[0])
	data = mem.Data() // memory may have grown
	if uint64(ret)+2 > uint64(len(data)) {
		return fmt.Errorf("%s returned %d, outside memory", g.handler, ret)
	}
	tag, errCase := data[ret], data[ret+1]
	if mi.post != nil {
		if _, err := mi.post.CallI32(0, int32(ret)); err != nil {
			return h.describe(g.post, err, mem)
		}
	}
	switch {
	case tag == 0:
		return nil
	case tag == 1 && errCase == 0:
		return nil // err(success)
	case tag == 1 && errCase == 1:
		return ErrHandlerFailed
	}
	return fmt.Errorf("%s returned an invalid result (tag %d, case %d)", g.handler, tag, errCase)
}
