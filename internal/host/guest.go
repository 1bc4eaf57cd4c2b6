package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"

	"github.com/redspin/redspin/internal/wasmtime"
)

// guest is one loaded component or core module: a *componentGuest or a
// *moduleGuest. Handle and HandleEntry run every message through this
// interface; the shapes differ in how they link, what a payload costs and
// how the handler is called.
type guest interface {
	// base returns what every shape has (ID, info, output, environment).
	base() *guestBase
	// checkPayload refuses a payload of n bytes over the shape's cap.
	checkPayload(h *Host, n int) error
	// lowers reports how many of n payload bytes a call lowers through the
	// component model (they count against the payload budget).
	lowers(n int) int
	// setupStore gives a new store the guest's WASI state, which lives as
	// long as the store (storeIO).
	setupStore(h *Host, s *wasmtime.Store) (storeIO, error)
	// instantiate creates the guest's instance in in's store (with a
	// message bound to it: instantiation may call host functions).
	instantiate(h *Host, in *instance) error
	// handle runs the handler of the instantiated guest in with payload;
	// lowered is called as soon as the payload's lowered copies are freed.
	handle(h *Host, in *instance, payload []byte, lowered func(), ph *phaseClock) error
	close()
}

// guestBase is what components and core modules share.
type guestBase struct {
	id    string
	info  ComponentInfo
	art   *artifact
	env   [2][]string // names, values
	mount []Mount
	// imports are the component's host interfaces (nil = none).
	imports Imports
	// hostData: the guest links a function of imports (or a WASI
	// interface they implement), so its messages need their store data;
	// false = NewStoreData is not called (nothing could read it).
	hostData       bool
	stdout, stderr *sink
	// pool keeps the guest's instances between messages (Options.Reuse).
	pool *instancePool
}

func (b *guestBase) base() *guestBase { return b }

func (b *guestBase) closeBase() {
	b.pool.close()
	b.stdout.close()
	b.stderr.close()
}

// newStoreData gives s the data of the guest's host interfaces; the
// returned function ends it once the store is gone (nil = nothing to end).
func (b *guestBase) newStoreData(ctx context.Context, in *instance) (done func()) {
	if !b.hostData {
		return nil
	}
	data, done := b.imports.NewStoreData(ctx, in.lastData)
	in.lastData = data
	in.s.SetData(data)
	return done
}

// newGuestBase checks c's mounts, sorts its environment and opens its
// output sinks.
func (h *Host) newGuestBase(c ComponentConfig, info ComponentInfo) (*guestBase, error) {
	for _, m := range c.Mounts {
		if st, err := os.Stat(m.HostDir); err != nil {
			return nil, fmt.Errorf("files: %w", err)
		} else if !st.IsDir() {
			return nil, fmt.Errorf("files: %s is not a directory", m.HostDir)
		}
	}
	g := &guestBase{id: c.ID, info: info, mount: c.Mounts, imports: c.Imports, pool: newInstancePool(h.opts.Reuse, h)}
	names := make([]string, 0, len(c.Env))
	for k := range c.Env {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		g.env[0] = append(g.env[0], k)
		g.env[1] = append(g.env[1], c.Env[k])
	}
	var err error
	if g.stdout, g.stderr, err = openSinks(&h.opts, c.ID); err != nil {
		return nil, fmt.Errorf("log files: %w", err)
	}
	return g, nil
}

// load reads, compiles and links one component or module, and
// instantiates it once so that problems show at load.
func (h *Host) load(c ComponentConfig, cache *artifactCache) (guest, error) {
	wasm, err := os.ReadFile(c.WasmPath)
	if err != nil {
		return nil, err
	}
	bin, err := readBinary(wasm)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.WasmPath, err)
	}
	shape, export, err := detectShape(bin)
	if err != nil {
		return nil, err
	}
	info := ComponentInfo{Shape: shape, Export: export}
	if bin.kind == binComponent && slices.Contains(bin.exports, exportInboundStream) {
		info.StreamExport = exportInboundStream
	}
	b, err := h.newGuestBase(c, info)
	if err != nil {
		return nil, err
	}
	if b.art, err = h.compile(wasm, bin.kind, cache); err != nil {
		b.closeBase()
		return nil, err
	}
	var g guest
	if shape == ShapeComponent {
		cg := &componentGuest{guestBase: *b}
		g, err = cg, h.linkComponent(cg)
	} else {
		mg := &moduleGuest{guestBase: *b}
		g, err = mg, h.linkModule(mg, bin)
	}
	if err == nil {
		err = h.trial(g)
	}
	if err != nil {
		g.close()
		return nil, err
	}
	return g, nil
}

// trial instantiates g once in a store of its own, as a message would
// (without a deadline), and drops it. A failure other than a trap is
// tried once more: the first instantiation creates the guest's memory
// images, which the kernel can refuse transiently (sealing an image's
// memfd fails with EBUSY while its pages are briefly pinned); Wasmtime
// does not keep that failure, so a second try succeeds. A trap (in a
// start function) or a link error fails the second try the same way.
func (h *Host) trial(g guest) error {
	err := h.trialOnce(g)
	if err == nil || errors.Is(err, wasmtime.ErrTrap) {
		return err
	}
	if h.trialOnce(g) != nil {
		return err
	}
	h.logger.Warn("component instantiated at the second try", "component", g.base().id, "first_error", err)
	return nil
}

func (h *Host) trialOnce(g guest) error {
	in := &instance{limit: 1}
	if err := h.newStore(g, in); err != nil {
		return fmt.Errorf("instantiate: %w", err)
	}
	end := h.beginMessage(context.Background(), msgDeadline{}, g, in)
	err := g.instantiate(h, in)
	in.io.end()
	in.drop()
	end()
	if err != nil {
		return fmt.Errorf("instantiate: %w", err)
	}
	return nil
}
