package host

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redspin/redspin/internal/wasi"
	"github.com/redspin/redspin/internal/wasmtime"
)

// componentGuest is a component exporting fermyon:spin/inbound-redis
// and/or redspin:streams/inbound-stream.
type componentGuest struct {
	guestBase
	linker *wasmtime.ComponentLinker
	// iface and fn: fermyon:spin/inbound-redis#handle-message (nil = not exported).
	iface, fn *wasmtime.ExportIndex
	// entryIface and entryFn: redspin:streams/inbound-stream (nil = not exported).
	entryIface, entryFn *wasmtime.ExportIndex
	// wasi is WASIRedspin when the component imports WASI, else WASINone.
	wasi WASIPath
	// wasiCfg is the per-message WASI configuration's constant part.
	wasiCfg wasi.Config
}

func (g *componentGuest) checkPayload(h *Host, n int) error { return h.checkComponentPayload(n) }

func (g *componentGuest) lowers(n int) int { return n }

func (g *componentGuest) instantiate(_ *Host, in *instance) error {
	inst, err := g.linker.Instantiate(in.s, g.art.comp)
	in.comp = inst
	return err
}

func (g *componentGuest) setupStore(h *Host, s *wasmtime.Store) (storeIO, error) {
	if g.wasi == WASINone {
		return noIO{}, nil
	}
	return h.redspinWASI(&g.guestBase, g.wasiCfg, s)
}

func (g *componentGuest) close() {
	g.fn.Close()
	g.iface.Close()
	g.entryFn.Close()
	g.entryIface.Close()
	if g.linker != nil {
		g.linker.Close()
	}
	g.closeBase()
}

// findExports looks up the handler exports the component has. Idempotent.
func (g *componentGuest) findExports() error {
	comp := g.art.comp
	var ok bool
	if g.info.StreamExport != "" && g.entryFn == nil {
		if g.entryIface, ok = comp.ExportIndex(nil, exportInboundStream); !ok {
			return fmt.Errorf("export %s not found", exportInboundStream)
		}
		if g.entryFn, ok = comp.ExportIndex(g.entryIface, funcHandleEntry); !ok {
			return fmt.Errorf("%s does not export %s", exportInboundStream, funcHandleEntry)
		}
	}
	if g.iface == nil && g.info.Export != "" {
		if g.iface, ok = comp.ExportIndex(nil, exportInboundRedis); !ok {
			return fmt.Errorf("export %s not found", exportInboundRedis)
		}
		if g.fn, ok = comp.ExportIndex(g.iface, funcHandleMessage); !ok {
			return fmt.Errorf("%s does not export %s", exportInboundRedis, funcHandleMessage)
		}
	}
	return nil
}

// handle calls the handler of g's instance in (post-return included, so
// that it can be called again); lowered is called as soon as the call has
// returned (the payload's lowered copies are freed).
func (g *componentGuest) handle(h *Host, in *instance, payload []byte, lowered func(), ph *phaseClock) error {
	f, err := g.exportFunc(in, g.fn, exportInboundRedis, funcHandleMessage)
	if err != nil {
		return err
	}
	start := time.Now()
	ok, errCase, err := f.CallBytesResult(payload)
	lowered()
	h.observeLowering(len(payload), time.Since(start))
	ph.called(h.phases)
	if err != nil {
		return h.describe("handle-message", err, nil)
	}
	return handlerResult(ok, errCase)
}

// exportFunc returns export idx (iface#fn, for errors) of in.
func (g *componentGuest) exportFunc(in *instance, idx *wasmtime.ExportIndex, iface, fn string) (*wasmtime.ComponentFunc, error) {
	f, ok := in.comp.Func(idx)
	if !ok {
		return nil, fmt.Errorf("%s#%s is not a function", iface, fn)
	}
	return f, nil
}

// WASIPath says which WASI a guest gets (ComponentInfo.WASI).
type WASIPath string

// The WASI paths.
const (
	// WASINone: the guest imports no WASI.
	WASINone WASIPath = ""
	// WASIRedspin: redspin's WASI 0.2 (internal/wasi), for every component
	// that imports WASI. It shares its stream and pollable types with
	// wasi:http, which Wasmtime's built-in WASI cannot; measured as fast as
	// Wasmtime's (RATIONALE.md, "redspin's own WASI").
	WASIRedspin WASIPath = "redspin WASI 0.2"
	// WASIPreview1: Wasmtime's WASI preview 1, for core modules.
	WASIPreview1 WASIPath = "Wasmtime WASI preview 1"
)

// linkComponent builds the component's linker: redspin's WASI 0.2 for
// every WASI import (wasi:http included: its functions fail until it is
// implemented), the host interfaces of g.imports, and trapping stubs for
// the other imports.
func (h *Host) linkComponent(g *componentGuest) error {
	comp := g.art.comp
	if err := g.findExports(); err != nil {
		return err
	}
	g.linker = wasmtime.NewComponentLinker(h.engine)
	imports := comp.Imports()
	defer func() {
		for i := range imports {
			imports[i].Close()
		}
	}()
	var rest, wasiImps []wasmtime.ImportInfo
	for _, imp := range imports {
		if wasi.Serves(imp.Name) {
			wasiImps = append(wasiImps, imp)
		} else {
			rest = append(rest, imp)
		}
	}
	if len(wasiImps) > 0 {
		g.wasi = WASIRedspin
		g.info.WASI = WASIRedspin
		g.wasiCfg = wasiConfig(&g.guestBase)
		var extra map[string]wasi.Interface
		if x, ok := g.imports.(WASIInterfaces); ok {
			extra = x.WASIInterfaces()
		}
		if _, err := wasi.Link(g.linker, wasiImps, extra); err != nil {
			return fmt.Errorf("link WASI: %w", err)
		}
		for _, imp := range wasiImps {
			_, implemented := extra[wasi.Unversioned(imp.Name)]
			g.hostData = g.hostData || implemented
			if strings.HasPrefix(imp.Name, "wasi:http/") && imp.HasFuncs && !implemented {
				g.info.UnsupportedImports = append(g.info.UnsupportedImports, imp.Name) // defined, but fails when called
			}
		}
	}
	rest = slices.DeleteFunc(rest, func(i wasmtime.ImportInfo) bool { return !i.HasFuncs })
	if g.imports != nil && len(rest) > 0 {
		done, err := g.imports.LinkComponent(g.linker, rest)
		if err != nil {
			return fmt.Errorf("link host interfaces: %w", err)
		}
		rest = slices.DeleteFunc(rest, func(i wasmtime.ImportInfo) bool { return slices.Contains(done, i.Name) })
		g.hostData = g.hostData || len(done) > 0
	}
	for _, i := range rest {
		g.info.UnsupportedImports = append(g.info.UnsupportedImports, i.Name)
	}
	if err := defineTraps(g.linker, rest, wasiImps); err != nil {
		return fmt.Errorf("link: %w", err)
	}
	return nil
}
