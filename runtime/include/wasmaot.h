/* wasmaot runtime C API (libwasmaot_runtime.a).
 *
 * A compiled module `NAME` exports the data symbol `NAME_wasmaot_module`; pass its address to
 * wasmaot_instance_new. Function imports without an explicit definition bind to the C symbol
 * the program linked for them (weak references); `wasi_snapshot_preview1` imports bind to the
 * built-in WASI implementation (inherited stdio, process args and environment). */
#ifndef WASMAOT_H
#define WASMAOT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wasmaot_instance wasmaot_instance_t;
typedef struct wasmaot_error wasmaot_error_t;
typedef struct wasmaot_memory wasmaot_memory_t;
/* A function reference (opaque; see wasmaot_export_funcref). */
typedef struct wasmaot_funcref wasmaot_funcref_t;

/* Value kinds. */
enum {
    WASMAOT_I32 = 0,
    WASMAOT_I64 = 1,
    WASMAOT_F32 = 2,
    WASMAOT_F64 = 3,
    WASMAOT_V128 = 4,
    WASMAOT_FUNCREF = 5,
    WASMAOT_EXTERNREF = 6,
};

/* Trap kinds returned by wasmaot_call / wasmaot_call_funcref (0 = success, -1 = other error). */
enum {
    WASMAOT_TRAP_STACK_OVERFLOW = 1,
    WASMAOT_TRAP_MEMORY_OUT_OF_BOUNDS = 2,
    WASMAOT_TRAP_HEAP_MISALIGNED = 3,
    WASMAOT_TRAP_TABLE_OUT_OF_BOUNDS = 4,
    WASMAOT_TRAP_UNDEFINED_ELEMENT = 5,
    WASMAOT_TRAP_UNINITIALIZED_ELEMENT = 6,
    WASMAOT_TRAP_BAD_SIGNATURE = 7,
    WASMAOT_TRAP_INTEGER_OVERFLOW = 8,
    WASMAOT_TRAP_INTEGER_DIVISION_BY_ZERO = 9,
    WASMAOT_TRAP_BAD_CONVERSION_TO_INTEGER = 10,
    WASMAOT_TRAP_UNREACHABLE = 11,
    WASMAOT_TRAP_NULL_REFERENCE = 12,
    WASMAOT_TRAP_HOST = 13,
    WASMAOT_TRAP_EXIT = 14,
    WASMAOT_TRAP_UNCAUGHT_EXCEPTION = 15,
};

/* Import kinds for wasmaot_import_t. */
enum { WASMAOT_EXTERN_MEMORY = 2 };

/* Flags for wasmaot_memory_new. */
enum { WASMAOT_MEMORY_SHARED = 1, WASMAOT_MEMORY_64 = 2 };

/* A tagged value. Funcref values are wasmaot_funcref_t pointers, externrefs host numbers plus
 * one (0 is null). */
typedef struct wasmaot_val {
    uint32_t kind;
    uint32_t _pad;
    union {
        int32_t i32;
        int64_t i64;
        float f32;
        double f64;
        uint64_t ref;
        uint8_t v128[16];
    } of;
} wasmaot_val_t;

/* One array-call slot: parameters in, results out (i32 in the low 32 bits, f32/f64 as bits). */
typedef struct wasmaot_raw {
    _Alignas(16) uint64_t lo;
    uint64_t hi;
} wasmaot_raw_t;

/* An explicit import: module and field name, kind, object. */
typedef struct wasmaot_import {
    const char *module;
    const char *name;
    uint32_t kind;
    void *ptr;
} wasmaot_import_t;

/* Instantiates a module from its descriptor; NULL on failure (*err set if err != NULL). */
wasmaot_instance_t *wasmaot_instance_new(const void *descriptor, wasmaot_error_t **err);
/* Same with explicit imports; the others bind as for wasmaot_instance_new. */
wasmaot_instance_t *wasmaot_instance_new_with_imports(const void *descriptor,
                                                      const wasmaot_import_t *imports, size_t n,
                                                      wasmaot_error_t **err);
/* Frees an instance. */
void wasmaot_instance_delete(wasmaot_instance_t *inst);

/* Calls an export: 0 on success, a WASMAOT_TRAP_* kind on trap, -1 on other errors. */
int wasmaot_call(wasmaot_instance_t *inst, const char *export_name, const wasmaot_val_t *args,
                 size_t nargs, wasmaot_val_t *results, size_t nresults);
/* Message of the last trap or error on this thread (valid until the next call). */
const char *wasmaot_trap_message(void);
/* Exit status of the last WASMAOT_TRAP_EXIT on this thread. */
int wasmaot_exit_code(void);

/* The funcref of an exported function, or NULL (valid while the instance lives). */
const wasmaot_funcref_t *wasmaot_export_funcref(wasmaot_instance_t *inst, const char *name);
/* Calls a funcref through the array convention; result codes as wasmaot_call. */
int wasmaot_call_funcref(wasmaot_instance_t *inst, const wasmaot_funcref_t *f,
                         wasmaot_raw_t *values, size_t len);

/* Entry used by the export wrappers compiled objects define (`<module>_<export>`). */
int wasmaot_invoke(void *vmctx, const wasmaot_funcref_t *f, wasmaot_raw_t *values, size_t len);
/* Trap kind of the last call through an export wrapper on this thread (0: none). */
int wasmaot_last_trap(void);
/* The instance context (`<module>_instance*` in generated headers) of an instance, and back. */
void *wasmaot_instance_vmctx(wasmaot_instance_t *inst);
wasmaot_instance_t *wasmaot_instance_from_vmctx(void *vmctx);

/* `main` of executables made by `wasmaot build`: runs `_start` as a WASI command. `dirs`
 * ("rw:HOST::GUEST" / "ro:HOST::GUEST") and `envs` ("K=V") are NULL-terminated. */
int wasmaot_run_command(const void *descriptor, int argc, char **argv, const char *const *dirs,
                        const char *const *envs, int inherit_env);

/* Raises a trap from a native import implementation; does not return. */
void wasmaot_trap(int kind) __attribute__((noreturn));

/* Memory `idx` of an instance: base (stable across growth; NULL if none), size, growth. */
uint8_t *wasmaot_memory_data(wasmaot_instance_t *inst, uint32_t idx);
uint64_t wasmaot_memory_size(wasmaot_instance_t *inst, uint32_t idx);
uint64_t wasmaot_memory_size_bytes(wasmaot_instance_t *inst, uint32_t idx);
/* Old size in pages, or -1. */
int64_t wasmaot_memory_grow(wasmaot_instance_t *inst, uint32_t idx, uint64_t delta);

/* A host memory (max == UINT64_MAX: none; flags: WASMAOT_MEMORY_*); NULL on failure. */
wasmaot_memory_t *wasmaot_memory_new(uint64_t initial, uint64_t max, uint32_t flags,
                                     wasmaot_error_t **err);
void wasmaot_memory_delete(wasmaot_memory_t *m);
uint8_t *wasmaot_memory_base(const wasmaot_memory_t *m);
uint64_t wasmaot_memory_pages(const wasmaot_memory_t *m);
int64_t wasmaot_memory_grow_pages(const wasmaot_memory_t *m, uint64_t delta);

/* Limits all linear memories together to `bytes` (0: unlimited). */
void wasmaot_set_memory_limit(uint64_t bytes);

/* Error messages. */
const char *wasmaot_error_message(const wasmaot_error_t *e);
void wasmaot_error_delete(wasmaot_error_t *e);

#ifdef __cplusplus
}
#endif
#endif /* WASMAOT_H */
