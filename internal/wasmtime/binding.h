// Declarations of the parts of Wasmtime 39's C API that this package uses.
//
// Written for redspin: it declares only what the binding calls, with types laid
// out exactly as in the upstream headers. Two tests compile it against those
// headers (from the wasmtime-go module): TestLayout compares every
// sizeof/offsetof, and TestHeaders includes this file after wasmtime.h with
// RS_AGAINST_REAL_HEADERS defined, which leaves out the by-value type
// definitions (already in wasmtime.h) so that every prototype and typedef here
// is checked against the real one (a mismatch is a compile error), and
// checks every constant copied below or in the Go code with _Static_assert.
// Opaque structs are incomplete types. The library itself is linked through
// the wasmtime-go module's cgo flags.

#ifndef REDSPIN_WASMTIME_BINDING_H
#define REDSPIN_WASMTIME_BINDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

// Constants copied from the upstream headers (checked by TestHeaders).
#define RS_KIND_U8 2                   // WASMTIME_COMPONENT_U8
#define RS_KIND_LIST 13                // WASMTIME_COMPONENT_LIST
#define RS_KIND_ENUM 17                // WASMTIME_COMPONENT_ENUM
#define RS_KIND_RESULT 19              // WASMTIME_COMPONENT_RESULT
#define RS_UPDATE_DEADLINE_CONTINUE 0  // WASMTIME_UPDATE_DEADLINE_CONTINUE
#define RS_EXTERN_FUNC 0               // WASMTIME_EXTERN_FUNC
#define RS_EXTERN_MEMORY 3             // WASMTIME_EXTERN_MEMORY
#define RS_WASI_PERMS_READ 1           // WASMTIME_WASI_{DIR,FILE}_PERMS_READ
#define RS_WASI_PERMS_WRITE 2          // WASMTIME_WASI_{DIR,FILE}_PERMS_WRITE

// ---- wasm.h -----------------------------------------------------------------

#ifndef RS_AGAINST_REAL_HEADERS
typedef struct wasm_byte_vec_t {
  size_t size;
  char *data;
} wasm_byte_vec_t;
#endif
typedef wasm_byte_vec_t wasm_name_t;
typedef wasm_name_t wasm_message_t;

void wasm_byte_vec_new(wasm_byte_vec_t *out, size_t size, const char *data);
void wasm_byte_vec_delete(wasm_byte_vec_t *v);

typedef struct wasm_config_t wasm_config_t;
typedef struct wasm_engine_t wasm_engine_t;
typedef struct wasm_trap_t wasm_trap_t;
typedef struct wasm_valtype_t wasm_valtype_t;
typedef struct wasm_functype_t wasm_functype_t;

#ifndef RS_AGAINST_REAL_HEADERS
typedef struct wasm_valtype_vec_t {
  size_t size;
  wasm_valtype_t **data;
} wasm_valtype_vec_t;
#endif

wasm_config_t *wasm_config_new(void);
void wasm_config_delete(wasm_config_t *);
wasm_engine_t *wasm_engine_new_with_config(wasm_config_t *);
void wasm_engine_delete(wasm_engine_t *);
void wasm_trap_delete(wasm_trap_t *);
void wasm_trap_message(const wasm_trap_t *, wasm_message_t *out);
wasm_valtype_t *wasm_valtype_new(uint8_t kind);
void wasm_valtype_vec_new(wasm_valtype_vec_t *out, size_t n,
                          wasm_valtype_t *const data[]);
void wasm_valtype_vec_new_empty(wasm_valtype_vec_t *out);
wasm_functype_t *wasm_functype_new(wasm_valtype_vec_t *params,
                                   wasm_valtype_vec_t *results);
void wasm_functype_delete(wasm_functype_t *);

// ---- wasmtime/error.h, trap.h -------------------------------------------------

typedef struct wasmtime_error wasmtime_error_t;
wasmtime_error_t *wasmtime_error_new(const char *);
void wasmtime_error_delete(wasmtime_error_t *error);
void wasmtime_error_message(const wasmtime_error_t *error, wasm_name_t *message);
bool wasmtime_error_exit_status(const wasmtime_error_t *, int *status);

typedef uint8_t wasmtime_trap_code_t;
wasm_trap_t *wasmtime_trap_new(const char *msg, size_t msg_len);
bool wasmtime_trap_code(const wasm_trap_t *, wasmtime_trap_code_t *code);

// ---- wasmtime/config.h, engine.h -----------------------------------------------

void wasmtime_config_epoch_interruption_set(wasm_config_t *, bool);
void wasmtime_config_parallel_compilation_set(wasm_config_t *, bool);
void wasmtime_config_cranelift_opt_level_set(wasm_config_t *, uint8_t);
void wasmtime_config_memory_init_cow_set(wasm_config_t *, bool);
void wasmtime_config_wasm_component_model_set(wasm_config_t *, bool);
void wasmtime_config_max_wasm_stack_set(wasm_config_t *, size_t);
void wasmtime_config_memory_reservation_set(wasm_config_t *, uint64_t);
void wasmtime_config_memory_guard_size_set(wasm_config_t *, uint64_t);
wasmtime_error_t *wasmtime_config_cache_config_load(wasm_config_t *,
                                                   const char *);

typedef struct wasmtime_pooling_allocation_config_t
    wasmtime_pooling_allocation_config_t;
wasmtime_pooling_allocation_config_t *wasmtime_pooling_allocation_config_new(void);
void wasmtime_pooling_allocation_config_delete(
    wasmtime_pooling_allocation_config_t *);
void wasmtime_pooling_allocation_config_max_unused_warm_slots_set(
    wasmtime_pooling_allocation_config_t *, uint32_t);
void wasmtime_pooling_allocation_config_linear_memory_keep_resident_set(
    wasmtime_pooling_allocation_config_t *, size_t);
void wasmtime_pooling_allocation_config_table_keep_resident_set(
    wasmtime_pooling_allocation_config_t *, size_t);
void wasmtime_pooling_allocation_config_total_component_instances_set(
    wasmtime_pooling_allocation_config_t *, uint32_t);
void wasmtime_pooling_allocation_config_max_component_instance_size_set(
    wasmtime_pooling_allocation_config_t *, size_t);
void wasmtime_pooling_allocation_config_max_core_instances_per_component_set(
    wasmtime_pooling_allocation_config_t *, uint32_t);
void wasmtime_pooling_allocation_config_max_memories_per_component_set(
    wasmtime_pooling_allocation_config_t *, uint32_t);
void wasmtime_pooling_allocation_config_max_tables_per_component_set(
    wasmtime_pooling_allocation_config_t *, uint32_t);
void wasmtime_pooling_allocation_config_total_memories_set(
    wasmtime_pooling_allocation_config_t *, uint32_t);
void wasmtime_pooling_allocation_config_total_tables_set(
    wasmtime_pooling_allocation_config_t *, uint32_t);
void wasmtime_pooling_allocation_config_total_core_instances_set(
    wasmtime_pooling_allocation_config_t *, uint32_t);
void wasmtime_pooling_allocation_config_max_core_instance_size_set(
    wasmtime_pooling_allocation_config_t *, size_t);
void wasmtime_pooling_allocation_config_max_tables_per_module_set(
    wasmtime_pooling_allocation_config_t *, uint32_t);
void wasmtime_pooling_allocation_config_table_elements_set(
    wasmtime_pooling_allocation_config_t *, size_t);
void wasmtime_pooling_allocation_config_max_memories_per_module_set(
    wasmtime_pooling_allocation_config_t *, uint32_t);
void wasmtime_pooling_allocation_config_max_memory_size_set(
    wasmtime_pooling_allocation_config_t *, size_t);
void wasmtime_pooling_allocation_strategy_set(
    wasm_config_t *, const wasmtime_pooling_allocation_config_t *);

void wasmtime_engine_increment_epoch(wasm_engine_t *engine);

// ---- wasmtime/store.h ------------------------------------------------------------

typedef struct wasmtime_store wasmtime_store_t;
typedef struct wasmtime_context wasmtime_context_t;
typedef struct wasi_config_t wasi_config_t;

wasmtime_store_t *wasmtime_store_new(wasm_engine_t *engine, void *data,
                                     void (*finalizer)(void *));
wasmtime_context_t *wasmtime_store_context(wasmtime_store_t *store);
void wasmtime_store_limiter(wasmtime_store_t *store, int64_t memory_size,
                            int64_t table_elements, int64_t instances,
                            int64_t tables, int64_t memories);
void wasmtime_store_delete(wasmtime_store_t *store);
void *wasmtime_context_get_data(const wasmtime_context_t *context);
wasmtime_error_t *wasmtime_context_set_wasi(wasmtime_context_t *context,
                                           wasi_config_t *wasi);
void wasmtime_context_set_epoch_deadline(wasmtime_context_t *context,
                                         uint64_t ticks_beyond_current);
typedef uint8_t wasmtime_update_deadline_kind_t;
void wasmtime_store_epoch_deadline_callback(
    wasmtime_store_t *store,
    wasmtime_error_t *(*func)(wasmtime_context_t *context, void *data,
                              uint64_t *epoch_deadline_delta,
                              wasmtime_update_deadline_kind_t *update_kind),
    void *data, void (*finalizer)(void *));

// ---- wasi.h ----------------------------------------------------------------------

typedef size_t wasi_dir_perms;
typedef size_t wasi_file_perms;
wasi_config_t *wasi_config_new(void);
void wasi_config_delete(wasi_config_t *);
bool wasi_config_set_argv(wasi_config_t *config, size_t argc,
                          const char *argv[]);
bool wasi_config_set_env(wasi_config_t *config, size_t envc,
                         const char *names[], const char *values[]);
void wasi_config_set_stdout_custom(
    wasi_config_t *config,
    ptrdiff_t (*callback)(void *, const unsigned char *, size_t), void *data,
    void (*finalizer)(void *));
void wasi_config_set_stderr_custom(
    wasi_config_t *config,
    ptrdiff_t (*callback)(void *, const unsigned char *, size_t), void *data,
    void (*finalizer)(void *));
bool wasi_config_set_stdout_file(wasi_config_t *config, const char *path);
bool wasi_config_set_stderr_file(wasi_config_t *config, const char *path);
bool wasi_config_preopen_dir(wasi_config_t *config, const char *host_path,
                             const char *guest_path, wasi_dir_perms dir_perms,
                             wasi_file_perms file_perms);

// ---- wasmtime/wat.h --------------------------------------------------------------

wasmtime_error_t *wasmtime_wat2wasm(const char *wat, size_t wat_len,
                                    wasm_byte_vec_t *ret);

// ---- core: wasmtime/extern.h, val.h, func.h, instance.h, memory.h, module.h ----

typedef struct wasmtime_module wasmtime_module_t;
typedef struct wasmtime_instance_pre wasmtime_instance_pre_t;
typedef struct wasmtime_caller wasmtime_caller_t;
typedef struct wasmtime_linker wasmtime_linker_t;

#ifndef RS_AGAINST_REAL_HEADERS
typedef struct wasmtime_func {
  uint64_t store_id;
  void *__private;
} wasmtime_func_t;

typedef struct wasmtime_table {
  struct {
    uint64_t store_id;
    uint32_t __private1;
  };
  uint32_t __private2;
} wasmtime_table_t;

typedef struct wasmtime_memory {
  struct {
    uint64_t store_id;
    uint32_t __private1;
  };
  uint32_t __private2;
} wasmtime_memory_t;

typedef struct wasmtime_global {
  uint64_t store_id;
  uint32_t __private1;
  uint32_t __private2;
  uint32_t __private3;
} wasmtime_global_t;
#endif

typedef uint8_t wasmtime_extern_kind_t;
#ifndef RS_AGAINST_REAL_HEADERS
typedef union wasmtime_extern_union {
  wasmtime_func_t func;
  wasmtime_global_t global;
  wasmtime_table_t table;
  wasmtime_memory_t memory;
  struct wasmtime_sharedmemory *sharedmemory;
} wasmtime_extern_union_t;

typedef struct wasmtime_extern {
  wasmtime_extern_kind_t kind;
  wasmtime_extern_union_t of;
} wasmtime_extern_t;
#endif

void wasmtime_extern_delete(wasmtime_extern_t *val);

#ifndef RS_AGAINST_REAL_HEADERS
typedef struct wasmtime_anyref {
  uint64_t store_id;
  uint32_t __private1;
  uint32_t __private2;
  void *__private3;
} wasmtime_anyref_t;

typedef struct wasmtime_externref {
  uint64_t store_id;
  uint32_t __private1;
  uint32_t __private2;
  void *__private3;
} wasmtime_externref_t;
#endif

typedef uint8_t wasmtime_valkind_t;
typedef uint8_t wasmtime_v128[16];
#ifndef RS_AGAINST_REAL_HEADERS
typedef union wasmtime_valunion {
  int32_t i32;
  int64_t i64;
  float f32;
  double f64;
  wasmtime_anyref_t anyref;
  wasmtime_externref_t externref;
  wasmtime_func_t funcref;
  wasmtime_v128 v128;
} wasmtime_valunion_t;

typedef struct wasmtime_val {
  wasmtime_valkind_t kind;
  wasmtime_valunion_t of;
} wasmtime_val_t;

typedef struct wasmtime_instance {
  uint64_t store_id;
  size_t __private;
} wasmtime_instance_t;
#endif

typedef wasm_trap_t *(*wasmtime_func_callback_t)(
    void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args,
    size_t nargs, wasmtime_val_t *results, size_t nresults);

wasmtime_error_t *wasmtime_func_call(wasmtime_context_t *store,
                                     const wasmtime_func_t *func,
                                     const wasmtime_val_t *args, size_t nargs,
                                     wasmtime_val_t *results, size_t nresults,
                                     wasm_trap_t **trap);
bool wasmtime_caller_export_get(wasmtime_caller_t *caller, const char *name,
                                size_t name_len, wasmtime_extern_t *item);
wasmtime_context_t *wasmtime_caller_context(wasmtime_caller_t *caller);

bool wasmtime_instance_export_get(wasmtime_context_t *store,
                                  const wasmtime_instance_t *instance,
                                  const char *name, size_t name_len,
                                  wasmtime_extern_t *item);
void wasmtime_instance_pre_delete(wasmtime_instance_pre_t *instance_pre);
wasmtime_error_t *wasmtime_instance_pre_instantiate(
    const wasmtime_instance_pre_t *instance_pre, wasmtime_context_t *store,
    wasmtime_instance_t *instance, wasm_trap_t **trap_ptr);

uint8_t *wasmtime_memory_data(const wasmtime_context_t *store,
                              const wasmtime_memory_t *memory);
size_t wasmtime_memory_data_size(const wasmtime_context_t *store,
                                 const wasmtime_memory_t *memory);

wasmtime_error_t *wasmtime_module_new(wasm_engine_t *engine,
                                      const uint8_t *wasm, size_t wasm_len,
                                      wasmtime_module_t **ret);
void wasmtime_module_delete(wasmtime_module_t *m);
wasmtime_error_t *wasmtime_module_serialize(wasmtime_module_t *module,
                                            wasm_byte_vec_t *ret);
wasmtime_error_t *wasmtime_module_deserialize(wasm_engine_t *engine,
                                              const uint8_t *bytes,
                                              size_t bytes_len,
                                              wasmtime_module_t **ret);

wasmtime_linker_t *wasmtime_linker_new(wasm_engine_t *engine);
void wasmtime_linker_delete(wasmtime_linker_t *linker);
void wasmtime_linker_allow_shadowing(wasmtime_linker_t *linker,
                                     bool allow_shadowing);
wasmtime_error_t *
wasmtime_linker_define_unknown_imports_as_traps(wasmtime_linker_t *linker,
                                                wasmtime_module_t *module);
wasmtime_error_t *wasmtime_linker_define_func(
    wasmtime_linker_t *linker, const char *module, size_t module_len,
    const char *name, size_t name_len, const wasm_functype_t *ty,
    wasmtime_func_callback_t cb, void *data, void (*finalizer)(void *));
wasmtime_error_t *wasmtime_linker_define_wasi(wasmtime_linker_t *linker);
wasmtime_error_t *
wasmtime_linker_instantiate_pre(const wasmtime_linker_t *linker,
                                const wasmtime_module_t *module,
                                wasmtime_instance_pre_t **instance_pre);

// ---- component model -----------------------------------------------------------

typedef struct wasmtime_component_t wasmtime_component_t;
typedef struct wasmtime_component_export_index_t
    wasmtime_component_export_index_t;
typedef struct wasmtime_component_linker_t wasmtime_component_linker_t;
typedef struct wasmtime_component_linker_instance_t
    wasmtime_component_linker_instance_t;
typedef struct wasmtime_component_func_type_t wasmtime_component_func_type_t;
typedef struct wasmtime_component_resource_type
    wasmtime_component_resource_type_t;
typedef struct wasmtime_component_resource_any
    wasmtime_component_resource_any_t;
typedef struct wasmtime_component_resource_host
    wasmtime_component_resource_host_t;
typedef struct wasmtime_component_type_t wasmtime_component_type_t;
typedef struct wasmtime_component_instance_type
    wasmtime_component_instance_type_t;

wasmtime_error_t *wasmtime_component_new(const wasm_engine_t *engine,
                                         const uint8_t *buf, size_t len,
                                         wasmtime_component_t **component_out);
wasmtime_error_t *
wasmtime_component_serialize(const wasmtime_component_t *component,
                             wasm_byte_vec_t *ret);
wasmtime_error_t *
wasmtime_component_deserialize(const wasm_engine_t *engine, const uint8_t *buf,
                               size_t len,
                               wasmtime_component_t **component_out);
void wasmtime_component_delete(wasmtime_component_t *component);
wasmtime_component_type_t *
wasmtime_component_type(const wasmtime_component_t *component);
void wasmtime_component_type_delete(wasmtime_component_type_t *ty);
wasmtime_component_export_index_t *wasmtime_component_get_export_index(
    const wasmtime_component_t *component,
    const wasmtime_component_export_index_t *instance_export_index,
    const char *name, size_t name_len);
void wasmtime_component_export_index_delete(
    wasmtime_component_export_index_t *export_index);

// wasmtime/component/types/val.h: only the layout of the by-value type is used.
typedef uint8_t wasmtime_component_valtype_kind_t;
#ifndef RS_AGAINST_REAL_HEADERS
typedef union wasmtime_component_valtype_union {
  void *ptr; // every member of the upstream union is a pointer
} wasmtime_component_valtype_union_t;
typedef struct wasmtime_component_valtype_t {
  wasmtime_component_valtype_kind_t kind;
  wasmtime_component_valtype_union_t of;
} wasmtime_component_valtype_t;
#endif

// wasmtime/component/types/component.h
typedef uint8_t wasmtime_component_item_kind_t;
#ifndef RS_AGAINST_REAL_HEADERS
typedef union wasmtime_component_item_union {
  wasmtime_component_type_t *component;
  wasmtime_component_instance_type_t *component_instance;
  struct wasmtime_module_type *module;
  wasmtime_component_func_type_t *component_func;
  wasmtime_component_resource_type_t *resource;
  wasm_functype_t *core_func;
  wasmtime_component_valtype_t type;
} wasmtime_component_item_union_t;
typedef struct wasmtime_component_item_t {
  wasmtime_component_item_kind_t kind;
  wasmtime_component_item_union_t of;
} wasmtime_component_item_t;
#endif

size_t wasmtime_component_type_import_count(const wasmtime_component_type_t *ty,
                                            const wasm_engine_t *engine);
bool wasmtime_component_type_import_nth(const wasmtime_component_type_t *ty,
                                        const wasm_engine_t *engine, size_t nth,
                                        const char **name_ret,
                                        size_t *name_len_ret,
                                        wasmtime_component_item_t *type_ret);
void wasmtime_component_item_delete(wasmtime_component_item_t *ptr);
size_t wasmtime_component_instance_type_export_count(
    const wasmtime_component_instance_type_t *ty, const wasm_engine_t *engine);
bool wasmtime_component_instance_type_export_nth(
    const wasmtime_component_instance_type_t *ty, const wasm_engine_t *engine,
    size_t nth, const char **name_ret, size_t *name_len_ret,
    wasmtime_component_item_t *type_ret);

#ifndef RS_AGAINST_REAL_HEADERS
typedef struct wasmtime_component_func {
  struct {
    uint64_t store_id;
    uint32_t __private1;
  };
  uint32_t __private2;
} wasmtime_component_func_t;

typedef struct wasmtime_component_instance {
  uint64_t store_id;
  uint32_t __private;
} wasmtime_component_instance_t;
#endif

// wasmtime/component/val.h
typedef uint8_t wasmtime_component_valkind_t;
struct wasmtime_component_val;
struct wasmtime_component_valrecord_entry;

#ifndef RS_AGAINST_REAL_HEADERS
typedef struct wasmtime_component_vallist {
  size_t size;
  struct wasmtime_component_val *data;
} wasmtime_component_vallist_t;
typedef struct wasmtime_component_valrecord {
  size_t size;
  struct wasmtime_component_valrecord_entry *data;
} wasmtime_component_valrecord_t;
typedef struct wasmtime_component_valtuple {
  size_t size;
  struct wasmtime_component_val *data;
} wasmtime_component_valtuple_t;
typedef struct wasmtime_component_valflags {
  size_t size;
  wasm_name_t *data;
} wasmtime_component_valflags_t;
#endif

void wasmtime_component_vallist_new_uninit(wasmtime_component_vallist_t *out,
                                           size_t size);
void wasmtime_component_valrecord_new_uninit(
    wasmtime_component_valrecord_t *out, size_t size);
void wasmtime_component_valtuple_new_uninit(wasmtime_component_valtuple_t *out,
                                            size_t size);
void wasmtime_component_valflags_new_uninit(wasmtime_component_valflags_t *out,
                                            size_t size);

#ifndef RS_AGAINST_REAL_HEADERS
typedef struct {
  wasm_name_t discriminant;
  struct wasmtime_component_val *val;
} wasmtime_component_valvariant_t;

typedef struct {
  bool is_ok;
  struct wasmtime_component_val *val;
} wasmtime_component_valresult_t;

typedef union {
  bool boolean;
  int8_t s8;
  uint8_t u8;
  int16_t s16;
  uint16_t u16;
  int32_t s32;
  uint32_t u32;
  int64_t s64;
  uint64_t u64;
  float f32;
  double f64;
  uint32_t character;
  wasm_name_t string;
  wasmtime_component_vallist_t list;
  wasmtime_component_valrecord_t record;
  wasmtime_component_valtuple_t tuple;
  wasmtime_component_valvariant_t variant;
  wasm_name_t enumeration;
  struct wasmtime_component_val *option;
  wasmtime_component_valresult_t result;
  wasmtime_component_valflags_t flags;
  wasmtime_component_resource_any_t *resource;
} wasmtime_component_valunion_t;

typedef struct wasmtime_component_val {
  wasmtime_component_valkind_t kind;
  wasmtime_component_valunion_t of;
} wasmtime_component_val_t;

typedef struct wasmtime_component_valrecord_entry {
  wasm_name_t name;
  wasmtime_component_val_t val;
} wasmtime_component_valrecord_entry_t;
#endif

wasmtime_component_val_t *wasmtime_component_val_new(wasmtime_component_val_t *val);
void wasmtime_component_val_delete(wasmtime_component_val_t *value);

wasmtime_component_resource_host_t *
wasmtime_component_resource_host_new(bool owned, uint32_t rep, uint32_t ty);
uint32_t wasmtime_component_resource_host_rep(
    const wasmtime_component_resource_host_t *resource);
uint32_t wasmtime_component_resource_host_type(
    const wasmtime_component_resource_host_t *resource);
bool wasmtime_component_resource_host_owned(
    const wasmtime_component_resource_host_t *resource);
void wasmtime_component_resource_host_delete(
    wasmtime_component_resource_host_t *resource);
void wasmtime_component_resource_any_delete(
    wasmtime_component_resource_any_t *resource);
wasmtime_error_t *wasmtime_component_resource_any_drop(
    wasmtime_context_t *ctx, const wasmtime_component_resource_any_t *resource);
wasmtime_error_t *wasmtime_component_resource_any_to_host(
    wasmtime_context_t *ctx, const wasmtime_component_resource_any_t *resource,
    wasmtime_component_resource_host_t **ret);
wasmtime_error_t *wasmtime_component_resource_host_to_any(
    wasmtime_context_t *ctx, const wasmtime_component_resource_host_t *resource,
    wasmtime_component_resource_any_t **ret);
wasmtime_component_resource_type_t *
wasmtime_component_resource_type_new_host(uint32_t ty);
wasmtime_component_resource_type_t *wasmtime_component_resource_type_clone(
    const wasmtime_component_resource_type_t *ty);
bool wasmtime_component_resource_type_equal(
    const wasmtime_component_resource_type_t *a,
    const wasmtime_component_resource_type_t *b);
wasmtime_component_resource_type_t *wasmtime_component_resource_any_type(
    const wasmtime_component_resource_any_t *resource);
wasmtime_component_resource_any_t *wasmtime_component_resource_any_clone(
    const wasmtime_component_resource_any_t *resource);
void wasmtime_component_resource_type_delete(
    wasmtime_component_resource_type_t *resource);

wasmtime_error_t *wasmtime_component_func_call(
    const wasmtime_component_func_t *func, wasmtime_context_t *context,
    const wasmtime_component_val_t *args, size_t args_size,
    wasmtime_component_val_t *results, size_t results_size);
wasmtime_error_t *
wasmtime_component_func_post_return(const wasmtime_component_func_t *func,
                                    wasmtime_context_t *context);
bool wasmtime_component_instance_get_func(
    const wasmtime_component_instance_t *instance, wasmtime_context_t *context,
    const wasmtime_component_export_index_t *export_index,
    wasmtime_component_func_t *func_out);

typedef wasmtime_error_t *(*wasmtime_component_func_callback_t)(
    void *, wasmtime_context_t *, const wasmtime_component_func_type_t *,
    wasmtime_component_val_t *, size_t, wasmtime_component_val_t *, size_t);
typedef wasmtime_error_t *(*wasmtime_component_resource_destructor_t)(
    void *, wasmtime_context_t *, uint32_t);

wasmtime_component_linker_t *
wasmtime_component_linker_new(const wasm_engine_t *engine);
void wasmtime_component_linker_allow_shadowing(
    wasmtime_component_linker_t *linker, bool allow);
wasmtime_component_linker_instance_t *
wasmtime_component_linker_root(wasmtime_component_linker_t *linker);
wasmtime_error_t *wasmtime_component_linker_instantiate(
    const wasmtime_component_linker_t *linker, wasmtime_context_t *context,
    const wasmtime_component_t *component,
    wasmtime_component_instance_t *instance_out);
wasmtime_error_t *wasmtime_component_linker_define_unknown_imports_as_traps(
    wasmtime_component_linker_t *linker, const wasmtime_component_t *component);
void wasmtime_component_linker_delete(wasmtime_component_linker_t *linker);
wasmtime_error_t *wasmtime_component_linker_instance_add_instance(
    wasmtime_component_linker_instance_t *linker_instance, const char *name,
    size_t name_len, wasmtime_component_linker_instance_t **linker_instance_out);
wasmtime_error_t *wasmtime_component_linker_instance_add_func(
    wasmtime_component_linker_instance_t *linker_instance, const char *name,
    size_t name_len, wasmtime_component_func_callback_t callback, void *data,
    void (*finalizer)(void *));
wasmtime_error_t *
wasmtime_component_linker_add_wasip2(wasmtime_component_linker_t *linker);
wasmtime_error_t *wasmtime_component_linker_instance_add_resource(
    wasmtime_component_linker_instance_t *linker_instance, const char *name,
    size_t name_len, const wasmtime_component_resource_type_t *resource,
    wasmtime_component_resource_destructor_t destructor, void *data,
    void (*finalizer)(void *));
void wasmtime_component_linker_instance_delete(
    wasmtime_component_linker_instance_t *linker_instance);

// ---- redspin glue (glue.c) -------------------------------------------------------

wasmtime_store_t *rs_store_new(wasm_engine_t *engine, uintptr_t handle);
uintptr_t rs_store_handle(wasmtime_context_t *ctx);
void rs_store_deadline_callback(wasmtime_store_t *store, uintptr_t handle);
void rs_wasi_stdout(wasi_config_t *config, uintptr_t handle);
void rs_wasi_stderr(wasi_config_t *config, uintptr_t handle);
wasmtime_error_t *rs_linker_define_func(wasmtime_linker_t *linker,
                                        const char *module, size_t module_len,
                                        const char *name, size_t name_len,
                                        const wasm_functype_t *ty,
                                        uintptr_t handle);
wasmtime_error_t *rs_component_add_func(
    wasmtime_component_linker_instance_t *li, const char *name,
    size_t name_len, uintptr_t handle);
wasmtime_error_t *rs_component_add_resource(
    wasmtime_component_linker_instance_t *li, const char *name,
    size_t name_len, uint32_t ty, uintptr_t handle);
wasmtime_error_t *rs_component_add_resource_type(
    wasmtime_component_linker_instance_t *li, const char *name,
    size_t name_len, const wasmtime_component_resource_type_t *ty,
    uintptr_t handle);

// Results of the helpers below, returned by value so that Go passes them
// no pointer (a Go pointer passed to C escapes to the heap).
typedef struct rs_host_ref {
  wasmtime_error_t *err;
  wasmtime_component_resource_any_t *any;
  uint32_t rep, ty;
  bool owned;
} rs_host_ref_t;

// A host resource as a resource value of ctx's store (.any), in one call
// (wasmtime_component_resource_host_new, _to_any, _delete).
rs_host_ref_t rs_resource_from_host(wasmtime_context_t *ctx, bool owned,
                                     uint32_t rep, uint32_t ty);

// A resource value's host rep, type and ownership, in one call
// (wasmtime_component_resource_any_to_host and the host accessors).
rs_host_ref_t
rs_resource_to_host(wasmtime_context_t *ctx,
                    const wasmtime_component_resource_any_t *any);

// The outcome of rs_call_bytes_result, returned by value.
typedef struct rs_bytes_result {
  wasmtime_error_t *err;
  int is_ok, shape_ok;
  size_t case_len;
  char case_name[64];
} rs_bytes_result_t;

// Calls a component function of type func(list<u8>) -> result<_, enum>
// with payload and runs post-return: is_ok, and for err the enum case
// name (truncated to 64 bytes); shape_ok is 0 when the result is not a
// result.
rs_bytes_result_t rs_call_bytes_result(const wasmtime_component_func_t *func,
                                       wasmtime_context_t *ctx,
                                       const uint8_t *payload, size_t len);

// Sizes and offsets of the declared by-value types (see layout_test.go).
size_t rs_layout(int i, const char **name);

#endif
