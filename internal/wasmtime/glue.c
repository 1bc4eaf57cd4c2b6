// C glue for the binding: trampolines from Wasmtime callbacks into the
// //export'ed Go functions, and helpers for calls that are cheaper done in C.
// Only integer handles cross into C as callback data, never Go pointers.

#include <string.h>

#include "binding.h"
#include "_cgo_export.h"

static void rs_finalize(void *data) { rsHandleDelete((uintptr_t)data); }

wasmtime_store_t *rs_store_new(wasm_engine_t *engine, uintptr_t handle) {
  return wasmtime_store_new(engine, (void *)handle, handle ? rs_finalize : NULL);
}

uintptr_t rs_store_handle(wasmtime_context_t *ctx) {
  return (uintptr_t)wasmtime_context_get_data(ctx);
}

static wasmtime_error_t *rs_deadline_cb(wasmtime_context_t *ctx, void *data,
                                        uint64_t *delta,
                                        wasmtime_update_deadline_kind_t *kind) {
  (void)ctx;
  *kind = RS_UPDATE_DEADLINE_CONTINUE;
  return rsDeadline((uintptr_t)data, delta);
}

// The store's own finalizer frees the handle; this callback shares it.
void rs_store_deadline_callback(wasmtime_store_t *store, uintptr_t handle) {
  wasmtime_store_epoch_deadline_callback(store, rs_deadline_cb, (void *)handle,
                                         NULL);
}

static ptrdiff_t rs_wasi_write(void *data, const unsigned char *buf,
                               size_t len) {
  return rsWasiWrite((uintptr_t)data, (unsigned char *)buf, len);
}

void rs_wasi_stdout(wasi_config_t *config, uintptr_t handle) {
  wasi_config_set_stdout_custom(config, rs_wasi_write, (void *)handle,
                                rs_finalize);
}

void rs_wasi_stderr(wasi_config_t *config, uintptr_t handle) {
  wasi_config_set_stderr_custom(config, rs_wasi_write, (void *)handle,
                                rs_finalize);
}

static wasm_trap_t *rs_core_cb(void *env, wasmtime_caller_t *caller,
                               const wasmtime_val_t *args, size_t nargs,
                               wasmtime_val_t *results, size_t nresults) {
  return rsCoreCall((uintptr_t)env, caller, (wasmtime_val_t *)args, nargs,
                    results, nresults);
}

wasmtime_error_t *rs_linker_define_func(wasmtime_linker_t *linker,
                                        const char *module, size_t module_len,
                                        const char *name, size_t name_len,
                                        const wasm_functype_t *ty,
                                        uintptr_t handle) {
  return wasmtime_linker_define_func(linker, module, module_len, name, name_len,
                                     ty, rs_core_cb, (void *)handle,
                                     rs_finalize);
}

static wasmtime_error_t *
rs_component_cb(void *env, wasmtime_context_t *ctx,
                const wasmtime_component_func_type_t *ty,
                wasmtime_component_val_t *args, size_t nargs,
                wasmtime_component_val_t *results, size_t nresults) {
  (void)ty;
  return rsComponentCall((uintptr_t)env, ctx, args, nargs, results, nresults);
}

wasmtime_error_t *rs_component_add_func(
    wasmtime_component_linker_instance_t *li, const char *name,
    size_t name_len, uintptr_t handle) {
  return wasmtime_component_linker_instance_add_func(
      li, name, name_len, rs_component_cb, (void *)handle, rs_finalize);
}

static wasmtime_error_t *rs_resource_dtor(void *env, wasmtime_context_t *ctx,
                                          uint32_t rep) {
  return rsResourceDrop((uintptr_t)env, ctx, rep);
}

wasmtime_error_t *rs_component_add_resource(
    wasmtime_component_linker_instance_t *li, const char *name,
    size_t name_len, uint32_t ty, uintptr_t handle) {
  wasmtime_component_resource_type_t *rt =
      wasmtime_component_resource_type_new_host(ty);
  wasmtime_error_t *err = wasmtime_component_linker_instance_add_resource(
      li, name, name_len, rt, rs_resource_dtor, (void *)handle, rs_finalize);
  wasmtime_component_resource_type_delete(rt);
  return err;
}

wasmtime_error_t *rs_component_add_resource_type(
    wasmtime_component_linker_instance_t *li, const char *name,
    size_t name_len, const wasmtime_component_resource_type_t *ty,
    uintptr_t handle) {
  return wasmtime_component_linker_instance_add_resource(
      li, name, name_len, ty, rs_resource_dtor, (void *)handle, rs_finalize);
}

rs_host_ref_t rs_resource_from_host(wasmtime_context_t *ctx, bool owned,
                                     uint32_t rep, uint32_t ty) {
  rs_host_ref_t r;
  memset(&r, 0, sizeof r);
  wasmtime_component_resource_host_t *h =
      wasmtime_component_resource_host_new(owned, rep, ty);
  r.err = wasmtime_component_resource_host_to_any(ctx, h, &r.any);
  wasmtime_component_resource_host_delete(h);
  return r;
}

rs_host_ref_t
rs_resource_to_host(wasmtime_context_t *ctx,
                    const wasmtime_component_resource_any_t *any) {
  rs_host_ref_t r;
  memset(&r, 0, sizeof r);
  wasmtime_component_resource_host_t *h = NULL;
  r.err = wasmtime_component_resource_any_to_host(ctx, any, &h);
  if (r.err != NULL) {
    return r;
  }
  r.rep = wasmtime_component_resource_host_rep(h);
  r.ty = wasmtime_component_resource_host_type(h);
  r.owned = wasmtime_component_resource_host_owned(h);
  wasmtime_component_resource_host_delete(h);
  return r;
}

rs_bytes_result_t rs_call_bytes_result(const wasmtime_component_func_t *func,
                                       wasmtime_context_t *ctx,
                                       const uint8_t *payload, size_t len) {
  rs_bytes_result_t out;
  memset(&out, 0, sizeof out);
  wasmtime_component_val_t arg;
  arg.kind = RS_KIND_LIST;
  wasmtime_component_vallist_new_uninit(&arg.of.list, len);
  wasmtime_component_val_t *data = arg.of.list.data;
  for (size_t i = 0; i < len; i++) {
    data[i].kind = RS_KIND_U8;
    data[i].of.u8 = payload[i];
  }
  wasmtime_component_val_t res;
  memset(&res, 0, sizeof res);
  // The C API has no byte-buffer path: the list is one 32-byte value per
  // byte, which wasmtime_component_func_call converts into Rust values and
  // lowers, all within the call. It is freed the moment the call returns,
  // before post-return: the earliest the API allows.
  out.err = wasmtime_component_func_call(func, ctx, &arg, 1, &res, 1);
  wasmtime_component_val_delete(&arg);
  if (out.err != NULL) {
    return out;
  }
  if (res.kind == RS_KIND_RESULT) {
    out.shape_ok = 1;
    out.is_ok = res.of.result.is_ok;
    wasmtime_component_val_t *v = res.of.result.val;
    if (!res.of.result.is_ok && v != NULL && v->kind == RS_KIND_ENUM) {
      size_t n = v->of.enumeration.size;
      if (n > sizeof out.case_name) {
        n = sizeof out.case_name;
      }
      memcpy(out.case_name, v->of.enumeration.data, n);
      out.case_len = n;
    }
  }
  out.err = wasmtime_component_func_post_return(func, ctx);
  wasmtime_component_val_delete(&res);
  return out;
}

#define RS_SIZE(t) {"sizeof(" #t ")", sizeof(t)}
#define RS_ALIGN(t) {"_Alignof(" #t ")", _Alignof(t)}
#define RS_OFF(t, f) {"offsetof(" #t ", " #f ")", offsetof(t, f)}

static const struct {
  const char *name;
  size_t value;
} rs_layouts[] = {
    RS_SIZE(wasm_byte_vec_t),
    RS_OFF(wasm_byte_vec_t, data),
    RS_SIZE(wasm_valtype_vec_t),
    RS_SIZE(wasmtime_func_t),
    RS_ALIGN(wasmtime_func_t),
    RS_SIZE(wasmtime_table_t),
    RS_SIZE(wasmtime_memory_t),
    RS_ALIGN(wasmtime_memory_t),
    RS_SIZE(wasmtime_global_t),
    RS_SIZE(wasmtime_extern_union_t),
    RS_SIZE(wasmtime_extern_t),
    RS_OFF(wasmtime_extern_t, of),
    RS_SIZE(wasmtime_anyref_t),
    RS_SIZE(wasmtime_externref_t),
    RS_SIZE(wasmtime_valunion_t),
    RS_SIZE(wasmtime_val_t),
    RS_OFF(wasmtime_val_t, of),
    RS_SIZE(wasmtime_instance_t),
    RS_SIZE(wasmtime_component_func_t),
    RS_SIZE(wasmtime_component_instance_t),
    RS_SIZE(wasmtime_component_vallist_t),
    RS_OFF(wasmtime_component_vallist_t, data),
    RS_SIZE(wasmtime_component_valrecord_t),
    RS_SIZE(wasmtime_component_valtuple_t),
    RS_SIZE(wasmtime_component_valflags_t),
    RS_SIZE(wasmtime_component_valvariant_t),
    RS_OFF(wasmtime_component_valvariant_t, val),
    RS_SIZE(wasmtime_component_valresult_t),
    RS_OFF(wasmtime_component_valresult_t, val),
    RS_SIZE(wasmtime_component_valunion_t),
    RS_SIZE(wasmtime_component_val_t),
    RS_ALIGN(wasmtime_component_val_t),
    RS_OFF(wasmtime_component_val_t, of),
    RS_SIZE(wasmtime_component_valrecord_entry_t),
    RS_OFF(wasmtime_component_valrecord_entry_t, val),
    RS_SIZE(wasmtime_component_valtype_t),
    RS_OFF(wasmtime_component_valtype_t, of),
    RS_SIZE(wasmtime_component_item_union_t),
    RS_SIZE(wasmtime_component_item_t),
    RS_OFF(wasmtime_component_item_t, of),
};

size_t rs_layout(int i, const char **name) {
  if (i < 0 || (size_t)i >= sizeof rs_layouts / sizeof rs_layouts[0]) {
    *name = NULL;
    return 0;
  }
  *name = rs_layouts[i].name;
  return rs_layouts[i].value;
}
