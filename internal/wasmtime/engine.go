package wasmtime

// #include "binding.h"
import "C"

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"sync"
)

// Version is the Wasmtime version this binding is built against; part of
// every compiled-artifact cache key.
const Version = "39.0.1"

// PoolingConfig configures Wasmtime's pooling instance allocator. Zero
// fields take Wasmtime's defaults.
type PoolingConfig struct {
	TotalComponentInstances      uint32 // default: Wasmtime's (1000)
	TotalCoreInstances           uint32
	TotalMemories                uint32
	TotalTables                  uint32
	MaxComponentInstanceSize     uint64 // bytes of VM metadata per component instance
	MaxCoreInstanceSize          uint64
	MaxCoreInstancesPerComponent uint32
	MaxMemoriesPerComponent      uint32
	MaxTablesPerComponent        uint32
	MaxMemoriesPerModule         uint32
	MaxTablesPerModule           uint32
	TableElements                uint64
	MaxMemorySize                uint64 // bytes per linear memory
	MaxUnusedWarmSlots           uint32
	// LinearMemoryKeepResident and TableKeepResident are the bytes of each
	// freed slot that are reset with memset and kept resident instead of
	// being returned to the kernel (cheaper reuse for small guests).
	LinearMemoryKeepResident uint64
	TableKeepResident        uint64
}

// EngineConfig configures an Engine. The zero value is a plain engine with
// on-demand allocation, no epoch interruption and serial compilation.
type EngineConfig struct {
	// Pooling enables the pooling allocator with the given settings.
	Pooling *PoolingConfig
	// EpochInterruption instruments code so that Store.SetEpochDeadline and
	// Engine.IncrementEpoch can interrupt it. Every store then needs a
	// deadline: the default deadline (0) interrupts at once.
	EpochInterruption bool
	// ParallelCompilation compiles functions on several threads.
	ParallelCompilation bool
	// MemoryInitCOW maps initial memory images copy-on-write (default in
	// Wasmtime: on); set DisableMemoryInitCOW to turn it off.
	DisableMemoryInitCOW bool
	// MaxWasmStack is the maximum Wasm stack in bytes (0 = default).
	MaxWasmStack uint64
	// CacheConfigFile, if set, enables Wasmtime's own compilation cache
	// with that TOML file (see Wasmtime's docs).
	CacheConfigFile string
}

// Engine compiles and runs Wasm. It is safe for concurrent use.
type Engine struct {
	mu   sync.Mutex
	_ptr *C.wasm_engine_t
	cfg  EngineConfig
}

// Wasmtime 39's pooling allocator reserves, for each of TotalMemories, the
// larger of the memory reservation (4 GiB on 64-bit hosts) and the maximum
// memory size, plus a guard region (32 MiB): 1000 memories take ~4 TiB of
// address space (not memory). poolMemorySlot rounds the guard up.
const (
	poolMemoryReservation = 4 << 30
	poolMemoryGuard       = 64 << 20
	// Wasmtime's defaults for fields left zero.
	poolDefaultMemories      = 1000
	poolDefaultTables        = 1000
	poolDefaultTableElements = 20_000
)

// PoolReservation estimates the address space (bytes) the pooling
// allocator with p reserves when the engine is created. It errs on the
// large side: the linear-memory slots, the table slots and the instance
// metadata.
func PoolReservation(p PoolingConfig) uint64 {
	or := func(v, def uint64) uint64 {
		if v == 0 {
			return def
		}
		return v
	}
	slot := max(p.MaxMemorySize, poolMemoryReservation) + poolMemoryGuard
	n := or(uint64(p.TotalMemories), poolDefaultMemories) * slot
	n += or(uint64(p.TotalTables), poolDefaultTables) * or(p.TableElements, poolDefaultTableElements) * 16
	n += uint64(p.TotalCoreInstances)*p.MaxCoreInstanceSize + uint64(p.TotalComponentInstances)*p.MaxComponentInstanceSize
	return n
}

// NewEngine creates an engine with cfg.
//
// With cfg.Pooling, NewEngine first checks that the pool's address space
// (PoolReservation) can be reserved, and returns an error if not (a
// `ulimit -v`, valgrind, strict overcommit): Wasmtime's C API aborts the
// process when that reservation fails inside engine creation.
func NewEngine(cfg EngineConfig) (*Engine, error) {
	if p := cfg.Pooling; p != nil {
		n := PoolReservation(*p)
		if err := reserveAddressSpace(n); err != nil {
			return nil, fmt.Errorf("wasmtime: pooling allocator: cannot reserve %d GiB of address space (fewer total memories need less): %w",
				(n+(1<<30)-1)>>30, err)
		}
	}
	c := C.wasm_config_new()
	C.wasmtime_config_wasm_component_model_set(c, true)
	C.wasmtime_config_epoch_interruption_set(c, C.bool(cfg.EpochInterruption))
	C.wasmtime_config_parallel_compilation_set(c, C.bool(cfg.ParallelCompilation))
	C.wasmtime_config_memory_init_cow_set(c, C.bool(!cfg.DisableMemoryInitCOW))
	if cfg.MaxWasmStack > 0 {
		C.wasmtime_config_max_wasm_stack_set(c, C.size_t(cfg.MaxWasmStack))
	}
	if cfg.CacheConfigFile != "" {
		p := C.CString(cfg.CacheConfigFile)
		cerr := C.wasmtime_config_cache_config_load(c, p)
		C.free(unsafePointer(p))
		if cerr != nil {
			C.wasm_config_delete(c)
			return nil, fmt.Errorf("wasmtime cache config %q: %w", cfg.CacheConfigFile, takeError(cerr))
		}
	}
	if p := cfg.Pooling; p != nil {
		pc := C.wasmtime_pooling_allocation_config_new()
		set32 := func(v uint32, f func(*C.wasmtime_pooling_allocation_config_t, C.uint32_t)) {
			if v != 0 {
				f(pc, C.uint32_t(v))
			}
		}
		setSz := func(v uint64, f func(*C.wasmtime_pooling_allocation_config_t, C.size_t)) {
			if v != 0 {
				f(pc, C.size_t(v))
			}
		}
		set32(p.TotalComponentInstances, func(pc *C.wasmtime_pooling_allocation_config_t, v C.uint32_t) {
			C.wasmtime_pooling_allocation_config_total_component_instances_set(pc, v)
		})
		set32(p.TotalCoreInstances, func(pc *C.wasmtime_pooling_allocation_config_t, v C.uint32_t) {
			C.wasmtime_pooling_allocation_config_total_core_instances_set(pc, v)
		})
		set32(p.TotalMemories, func(pc *C.wasmtime_pooling_allocation_config_t, v C.uint32_t) {
			C.wasmtime_pooling_allocation_config_total_memories_set(pc, v)
		})
		set32(p.TotalTables, func(pc *C.wasmtime_pooling_allocation_config_t, v C.uint32_t) {
			C.wasmtime_pooling_allocation_config_total_tables_set(pc, v)
		})
		setSz(p.MaxComponentInstanceSize, func(pc *C.wasmtime_pooling_allocation_config_t, v C.size_t) {
			C.wasmtime_pooling_allocation_config_max_component_instance_size_set(pc, v)
		})
		setSz(p.MaxCoreInstanceSize, func(pc *C.wasmtime_pooling_allocation_config_t, v C.size_t) {
			C.wasmtime_pooling_allocation_config_max_core_instance_size_set(pc, v)
		})
		set32(p.MaxCoreInstancesPerComponent, func(pc *C.wasmtime_pooling_allocation_config_t, v C.uint32_t) {
			C.wasmtime_pooling_allocation_config_max_core_instances_per_component_set(pc, v)
		})
		set32(p.MaxMemoriesPerComponent, func(pc *C.wasmtime_pooling_allocation_config_t, v C.uint32_t) {
			C.wasmtime_pooling_allocation_config_max_memories_per_component_set(pc, v)
		})
		set32(p.MaxTablesPerComponent, func(pc *C.wasmtime_pooling_allocation_config_t, v C.uint32_t) {
			C.wasmtime_pooling_allocation_config_max_tables_per_component_set(pc, v)
		})
		set32(p.MaxMemoriesPerModule, func(pc *C.wasmtime_pooling_allocation_config_t, v C.uint32_t) {
			C.wasmtime_pooling_allocation_config_max_memories_per_module_set(pc, v)
		})
		set32(p.MaxTablesPerModule, func(pc *C.wasmtime_pooling_allocation_config_t, v C.uint32_t) {
			C.wasmtime_pooling_allocation_config_max_tables_per_module_set(pc, v)
		})
		setSz(p.TableElements, func(pc *C.wasmtime_pooling_allocation_config_t, v C.size_t) {
			C.wasmtime_pooling_allocation_config_table_elements_set(pc, v)
		})
		setSz(p.MaxMemorySize, func(pc *C.wasmtime_pooling_allocation_config_t, v C.size_t) {
			C.wasmtime_pooling_allocation_config_max_memory_size_set(pc, v)
		})
		set32(p.MaxUnusedWarmSlots, func(pc *C.wasmtime_pooling_allocation_config_t, v C.uint32_t) {
			C.wasmtime_pooling_allocation_config_max_unused_warm_slots_set(pc, v)
		})
		setSz(p.LinearMemoryKeepResident, func(pc *C.wasmtime_pooling_allocation_config_t, v C.size_t) {
			C.wasmtime_pooling_allocation_config_linear_memory_keep_resident_set(pc, v)
		})
		setSz(p.TableKeepResident, func(pc *C.wasmtime_pooling_allocation_config_t, v C.size_t) {
			C.wasmtime_pooling_allocation_config_table_keep_resident_set(pc, v)
		})
		C.wasmtime_pooling_allocation_strategy_set(c, pc)
		C.wasmtime_pooling_allocation_config_delete(pc)
	}
	// wasm_engine_new_with_config consumes c.
	e := C.wasm_engine_new_with_config(c)
	if e == nil {
		return nil, fmt.Errorf("wasmtime: cannot create engine (invalid configuration)")
	}
	return &Engine{_ptr: e, cfg: cfg}, nil
}

func (e *Engine) ptr() *C.wasm_engine_t {
	maybeGC()
	if e._ptr == nil {
		panic("wasmtime: engine: object has been closed")
	}
	return e._ptr
}

// Config returns the configuration the engine was created with.
func (e *Engine) Config() EngineConfig { return e.cfg }

// Fingerprint identifies the settings that affect compiled code, for keying
// caches of serialized modules and components. Wasmtime also checks
// compatibility when deserializing.
func (e *Engine) Fingerprint() string {
	c := e.cfg
	s := fmt.Sprintf("wasmtime=%s;goarch=%s;epoch=%t;pooling=%t;stack=%d",
		Version, runtime.GOARCH, c.EpochInterruption, c.Pooling != nil, c.MaxWasmStack)
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:8])
}

// IncrementEpoch advances the engine's epoch; stores whose deadline is
// reached are interrupted (or call their deadline callback). Safe to call
// from any goroutine.
func (e *Engine) IncrementEpoch() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e._ptr != nil {
		C.wasmtime_engine_increment_epoch(e._ptr)
	}
}

// Close frees the engine. Everything created from it must be closed first.
// Close is idempotent.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e._ptr != nil {
		C.wasm_engine_delete(e._ptr)
		e._ptr = nil
	}
	return nil
}
