package host

import (
	"fmt"
	"slices"
	"strings"
	"time"

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
	// wasi records that the component imports WASI 0.2.
	wasi bool
}

// newComponentGuest links b's component and instantiates it once.
func (h *Host) newComponentGuest(b *guestBase) (*componentGuest, error) {
	g := &componentGuest{guestBase: *b}
	err := h.linkComponent(g, false)
	if err == nil {
		err = h.trial(g)
		if err != nil && strings.Contains(err.Error(), "mismatched resource types") {
			// An unsupported interface shares resource types with WASI
			// (wasi:http/types uses wasi:io streams): see linkComponent.
			h.logger.Warn("component imports interfaces that share WASI resources; WASI calls will fail", "component", g.id, "err", err)
			g.linker.Close()
			g.linker, g.info.UnsupportedImports, g.wasi = nil, nil, false
			if err = h.linkComponent(g, true); err == nil {
				err = h.trial(g)
			}
		}
	}
	if err != nil {
		g.close()
		return nil, err
	}
	return g, nil
}

func (g *componentGuest) checkPayload(h *Host, n int) error { return h.checkComponentPayload(n) }

func (g *componentGuest) lowers(n int) int { return n }

func (g *componentGuest) instantiate(s *wasmtime.Store) error {
	_, err := g.linker.Instantiate(s, g.art.comp)
	return err
}

func (g *componentGuest) setupStore(h *Host, s *wasmtime.Store) (func(), error) {
	if !g.wasi {
		return func() {}, nil
	}
	return h.wasmtimeWASI(&g.guestBase, s)
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

// handle instantiates g and calls its handler; lowered is called as soon
// as the call has returned (the payload's lowered copies are freed).
func (g *componentGuest) handle(h *Host, s *wasmtime.Store, payload []byte, lowered func(), ph *phaseClock) error {
	inst, err := g.linker.Instantiate(s, g.art.comp)
	if err != nil {
		return h.describe("instantiate", err, nil)
	}
	f, ok := inst.Func(g.fn)
	if !ok {
		return fmt.Errorf("%s#%s is not a function", exportInboundRedis, funcHandleMessage)
	}
	ph.instantiated(h.phases)
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

// wasiP2Interfaces are the packages Wasmtime's WASI 0.2 linker provides.
var wasiP2Interfaces = []string{"wasi:cli/", "wasi:clocks/", "wasi:filesystem/", "wasi:io/", "wasi:random/", "wasi:sockets/"}

func providedByWASI(name string) bool {
	for _, p := range wasiP2Interfaces {
		if strings.HasPrefix(name, p) && strings.Contains(name, "@0.2.") {
			return true
		}
	}
	return false
}

func (h *Host) linkComponent(g *componentGuest, stubsOnly bool) error {
	comp := g.art.comp
	if err := g.findExports(); err != nil {
		return err
	}
	g.linker = wasmtime.NewComponentLinker(h.engine)
	if stubsOnly {
		for _, imp := range comp.Imports() {
			if imp.HasFuncs {
				g.info.UnsupportedImports = append(g.info.UnsupportedImports, imp.Name)
			}
		}
		if err := g.linker.DefineUnknownImportsAsTraps(comp); err != nil {
			return fmt.Errorf("link: %w", err)
		}
		return nil
	}
	var unsupported, wasi []wasmtime.ImportInfo
	imports := comp.Imports()
	defer func() {
		for i := range imports {
			imports[i].Close()
		}
	}()
	for _, imp := range imports {
		if strings.HasPrefix(imp.Name, "wasi:") && providedByWASI(imp.Name) {
			g.wasi = true
			wasi = append(wasi, imp)
			continue
		}
		if imp.HasFuncs {
			unsupported = append(unsupported, imp)
			g.info.UnsupportedImports = append(g.info.UnsupportedImports, imp.Name)
		}
	}
	if g.wasi {
		if err := g.linker.AddWASIP2(); err != nil {
			return fmt.Errorf("link WASI: %w", err)
		}
	}
	if g.imports != nil && len(unsupported) > 0 {
		done, err := g.imports.LinkComponent(g.linker, unsupported)
		if err != nil {
			return fmt.Errorf("link host interfaces: %w", err)
		}
		unsupported = slices.DeleteFunc(unsupported, func(i wasmtime.ImportInfo) bool { return slices.Contains(done, i.Name) })
		g.info.UnsupportedImports = g.info.UnsupportedImports[:0]
		for _, i := range unsupported {
			g.info.UnsupportedImports = append(g.info.UnsupportedImports, i.Name)
		}
	}
	if err := h.defineTraps(g.linker, unsupported, wasi); err != nil {
		return fmt.Errorf("link: %w", err)
	}
	return nil
}

// wasiTypesFor returns the host types of WASI resources (computed once).
func (h *Host) wasiTypesFor() (map[string]*wasmtime.ResourceType, error) {
	if h.wasiTypes == nil {
		t, err := wasiResourceTypes(h.engine)
		if err != nil {
			return nil, fmt.Errorf("probing WASI resource types: %w", err)
		}
		h.wasiTypes = t
	}
	return h.wasiTypes, nil
}
