package host

import (
	"fmt"
	"time"

	"github.com/redspin/redspin/internal/spinhost/cmasync"
	"github.com/redspin/redspin/internal/wasmtime"
)

// artifact is a compiled binary, shared by components with the same bytes.
type artifact struct {
	kind   binKind
	comp   *wasmtime.Component
	module *wasmtime.Module
}

// compile returns the artifact for wasm, from memory, the disk cache, or a
// fresh compile (which it then caches).
func (h *Host) compile(wasm []byte, kind binKind, cache *artifactCache) (*artifact, error) {
	key := contentKey(wasm)
	if a, ok := h.arts[key]; ok {
		return a, nil
	}
	a := &artifact{kind: kind}
	if data := cache.load(key, h.engine, kind); data != nil {
		var err error
		if kind == binComponent {
			a.comp, err = wasmtime.DeserializeComponent(h.engine, data)
		} else {
			a.module, err = wasmtime.DeserializeModule(h.engine, data)
		}
		if err == nil {
			h.stats.CacheHits++
			h.arts[key] = a
			return a, nil
		}
		h.logger.Warn("discarding unusable cached artifact", "err", err)
		cache.remove(key, h.engine, kind)
	}
	if h.slow == nil { // the first compile starts the clock for the notice
		h.slow = time.AfterFunc(slowCompileAfter, func() {
			fmt.Fprintln(h.stderr, slowCompileNotice)
		})
	}
	var ser []byte
	var err error
	start := time.Now()
	if kind == binComponent {
		if a.comp, err = wasmtime.NewComponent(h.engine, wasm); err != nil {
			return nil, fmt.Errorf("compile: %w", cmasync.CompileError(wasm, err))
		}
		if cache.dir != "" {
			ser, err = a.comp.Serialize()
		}
	} else {
		if a.module, err = wasmtime.NewModule(h.engine, wasm); err != nil {
			return nil, fmt.Errorf("compile: %w", err)
		}
		if cache.dir != "" {
			ser, err = a.module.Serialize()
		}
	}
	h.stats.Compiled++
	h.arts[key] = a
	h.logger.Debug("compiled", "bytes", len(wasm), "took", time.Since(start))
	if err == nil && ser != nil {
		err = cache.store(key, h.engine, kind, ser)
	}
	if err != nil {
		h.logger.Warn("cannot cache compiled artifact", "dir", cache.dir, "err", err)
	}
	return a, nil
}
