//! The C API (`include/wasmaot.h`) over the Rust objects, for programs that link compiled
//! objects statically together with `libwasmaot_runtime.a`.
#![allow(non_camel_case_types)]

use crate::error::{Error, Trap};
use crate::layout::{ModuleDescriptor, TrapKind, VMFuncRef, ValRaw, ValType};
use crate::linker::{wasi_hook, Linker};
use crate::memory::Memory;
use crate::{Extern, Instance, MemoryType, Module, Val};
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{c_char, c_int, CStr, CString};
use std::sync::Mutex;

/// An instance owned by C code.
pub struct wasmaot_instance_t {
    instance: Instance,
}

/// An error message owned by C code.
pub struct wasmaot_error_t {
    message: CString,
}

/// A host-created memory owned by C code.
pub struct wasmaot_memory_t {
    memory: Memory,
}

/// Payload of a [`wasmaot_val_t`].
#[repr(C)]
#[derive(Clone, Copy)]
pub union wasmaot_val_union {
    /// `WASMAOT_I32`.
    pub i32: i32,
    /// `WASMAOT_I64`.
    pub i64: i64,
    /// `WASMAOT_F32`.
    pub f32: f32,
    /// `WASMAOT_F64`.
    pub f64: f64,
    /// Funcref pointer or externref handle (0 = null).
    pub r#ref: u64,
    /// `WASMAOT_V128`, little-endian.
    pub v128: [u8; 16],
}

/// A tagged value (`kind` is a `WASMAOT_*` constant in `ValType` order, I32 = 0).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct wasmaot_val_t {
    /// Value type.
    pub kind: u32,
    /// Unused.
    pub _pad: u32,
    /// The value.
    pub of: wasmaot_val_union,
}

/// One import given to [`wasmaot_instance_new_with_imports`].
#[repr(C)]
pub struct wasmaot_import_t {
    /// Import module name.
    pub module: *const c_char,
    /// Import field name.
    pub name: *const c_char,
    /// `WASMAOT_EXTERN_MEMORY` (2) is the only kind supported so far.
    pub kind: u32,
    /// The object: a `wasmaot_memory_t*` for memories.
    pub ptr: *mut std::ffi::c_void,
}

const KINDS: [ValType; 7] = [
    ValType::I32,
    ValType::I64,
    ValType::F32,
    ValType::F64,
    ValType::V128,
    ValType::FuncRef,
    ValType::ExternRef,
];

thread_local! {
    static LAST_MESSAGE: RefCell<CString> = RefCell::new(CString::default());
    static LAST_EXIT: std::cell::Cell<i32> = const { std::cell::Cell::new(0) };
}

fn set_last(msg: &str) {
    let c = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    LAST_MESSAGE.with(|m| *m.borrow_mut() = c);
}

fn record(e: &Error) -> c_int {
    set_last(&e.to_string());
    match e {
        Error::Trap(t) => {
            if let Some(c) = t.exit_code {
                LAST_EXIT.set(c);
            }
            t.kind as c_int
        }
        _ => -1,
    }
}

fn error_out(err: *mut *mut wasmaot_error_t, e: Error) {
    set_last(&e.to_string());
    if !err.is_null() {
        let b = Box::new(wasmaot_error_t {
            message: CString::new(e.to_string().replace('\0', " ")).unwrap_or_default(),
        });
        // SAFETY: `err` is a valid out-pointer (C API contract).
        unsafe { *err = Box::into_raw(b) };
    }
}

/// Returns the (cached) module for a statically linked descriptor.
fn module_for(desc: *const ModuleDescriptor) -> Result<Module, Error> {
    static CACHE: Mutex<Option<HashMap<usize, Module>>> = Mutex::new(None);
    let mut c = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    let map = c.get_or_insert_with(HashMap::new);
    if let Some(m) = map.get(&(desc as usize)) {
        return Ok(m.clone());
    }
    if desc.is_null() {
        return Err(Error::Load("null descriptor".into()));
    }
    // SAFETY: C callers pass the address of a descriptor symbol of a linked object.
    let m = unsafe { Module::from_descriptor(&*desc) }?;
    map.insert(desc as usize, m.clone());
    Ok(m)
}

fn new_instance(
    desc: *const ModuleDescriptor,
    linker: &mut Linker,
) -> Result<Box<wasmaot_instance_t>, Error> {
    let module = module_for(desc)?;
    if module.imports_module("wasi_snapshot_preview1") {
        let hook = wasi_hook().unwrap_or(crate::wasi_link::default_hook);
        hook(linker, &module)?;
    }
    let instance = linker.instantiate(&module)?;
    let b = Box::new(wasmaot_instance_t { instance });
    b.instance
        .set_handle(&*b as *const wasmaot_instance_t as *mut u8);
    Ok(b)
}

/// Instantiates a statically linked module; imports come from native symbols (and WASI).
///
/// # Safety
/// `descriptor` must be a `<name>_wasmaot_module` symbol; `err` null or writable.
#[no_mangle]
pub unsafe extern "C" fn wasmaot_instance_new(
    descriptor: *const std::ffi::c_void,
    err: *mut *mut wasmaot_error_t,
) -> *mut wasmaot_instance_t {
    // SAFETY: same contract.
    unsafe { wasmaot_instance_new_with_imports(descriptor, std::ptr::null(), 0, err) }
}

/// Instantiates with explicit `(module, name, extern)` imports, the rest as above.
///
/// # Safety
/// As [`wasmaot_instance_new`]; `imports` points to `n` valid entries.
#[no_mangle]
pub unsafe extern "C" fn wasmaot_instance_new_with_imports(
    descriptor: *const std::ffi::c_void,
    imports: *const wasmaot_import_t,
    n: usize,
    err: *mut *mut wasmaot_error_t,
) -> *mut wasmaot_instance_t {
    let mut linker = Linker::new();
    for k in 0..n {
        // SAFETY: C API contract.
        let imp = unsafe { &*imports.add(k) };
        // SAFETY: C strings from the caller.
        let (m, f) = unsafe { (CStr::from_ptr(imp.module), CStr::from_ptr(imp.name)) };
        let ext = match imp.kind {
            // SAFETY: kind 2 carries a `wasmaot_memory_t*`.
            2 => Extern::Memory(
                unsafe { &*(imp.ptr as *const wasmaot_memory_t) }
                    .memory
                    .clone(),
            ),
            other => {
                error_out(err, Error::Link(format!("unsupported import kind {other}")));
                return std::ptr::null_mut();
            }
        };
        linker.define(&m.to_string_lossy(), &f.to_string_lossy(), ext);
    }
    match new_instance(descriptor as *const ModuleDescriptor, &mut linker) {
        Ok(b) => Box::into_raw(b),
        Err(e) => {
            error_out(err, e);
            std::ptr::null_mut()
        }
    }
}

/// Frees an instance.
///
/// # Safety
/// `inst` came from `wasmaot_instance_new*` and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn wasmaot_instance_delete(inst: *mut wasmaot_instance_t) {
    if !inst.is_null() {
        // SAFETY: C API contract.
        drop(unsafe { Box::from_raw(inst) });
    }
}

/// Calls export `name`: 0 on success, a `TrapKind` (1..=14) on trap, -1 on other errors
/// (unknown export, wrong argument types; see `wasmaot_trap_message`).
///
/// # Safety
/// Pointers valid for the given lengths.
#[no_mangle]
pub unsafe extern "C" fn wasmaot_call(
    inst: *mut wasmaot_instance_t,
    name: *const c_char,
    args: *const wasmaot_val_t,
    nargs: usize,
    results: *mut wasmaot_val_t,
    nresults: usize,
) -> c_int {
    // SAFETY: C API contract.
    let (inst, name) = unsafe { (&*inst, CStr::from_ptr(name).to_string_lossy()) };
    let Some(f) = inst.instance.get_func(&name) else {
        return record(&Error::Type(format!("no exported function `{name}`")));
    };
    let mut vals = Vec::with_capacity(nargs);
    for k in 0..nargs {
        // SAFETY: C API contract.
        let a = unsafe { *args.add(k) };
        let Some(ty) = KINDS.get(a.kind as usize) else {
            return record(&Error::Type(format!("bad value kind {}", a.kind)));
        };
        // SAFETY: reading the union as raw bits is always defined.
        let raw = unsafe { u128::from_le_bytes(a.of.v128) };
        let raw = if *ty == ValType::V128 {
            raw
        } else {
            raw as u64 as u128
        };
        // SAFETY: funcref values from C are null or came out of this runtime.
        vals.push(unsafe { Val::from_raw(raw, *ty) });
    }
    match f.call(&vals) {
        Ok(rs) => {
            for (k, r) in rs.iter().enumerate().take(nresults) {
                let Some(kind) = KINDS.iter().position(|t| *t == r.ty()) else {
                    return record(&Error::Type(format!(
                        "unsupported: {:?} results through the C API",
                        r.ty()
                    )));
                };
                let mut bytes = [0u8; 16];
                bytes.copy_from_slice(&r.to_raw().to_le_bytes());
                let v = wasmaot_val_t {
                    kind: kind as u32,
                    _pad: 0,
                    of: wasmaot_val_union { v128: bytes },
                };
                // SAFETY: C API contract.
                unsafe { *results.add(k) = v };
            }
            0
        }
        Err(e) => record(&e),
    }
}

/// Message of the last trap or error on this thread (valid until the next call).
#[no_mangle]
pub extern "C" fn wasmaot_trap_message() -> *const c_char {
    LAST_MESSAGE.with(|m| m.borrow().as_ptr())
}

/// Exit status of the last `Exit` trap on this thread.
#[no_mangle]
pub extern "C" fn wasmaot_exit_code() -> c_int {
    LAST_EXIT.get()
}

/// The funcref of exported function `name` (null if none), for `wasmaot_call_funcref`.
///
/// # Safety
/// Valid instance and C string.
#[no_mangle]
pub unsafe extern "C" fn wasmaot_export_funcref(
    inst: *mut wasmaot_instance_t,
    name: *const c_char,
) -> *const VMFuncRef {
    // SAFETY: C API contract.
    let (inst, name) = unsafe { (&*inst, CStr::from_ptr(name).to_string_lossy()) };
    inst.instance
        .get_func(&name)
        .map_or(std::ptr::null(), |f| f.raw())
}

/// Calls a funcref with array-call slots (params in, results out): 0, a trap kind, or -1.
///
/// # Safety
/// `funcref` from `wasmaot_export_funcref` of a live instance; `values` has `len` slots of the
/// right types.
#[no_mangle]
pub unsafe extern "C" fn wasmaot_call_funcref(
    _inst: *mut wasmaot_instance_t,
    funcref: *const VMFuncRef,
    values: *mut ValRaw,
    len: usize,
) -> c_int {
    // SAFETY: C API contract.
    let f = unsafe { *funcref };
    if f.array_call.is_null() {
        return record(&Error::Type("function has no array-call entry".into()));
    }
    // SAFETY: non-null array-call entries have this type; the rest is the caller's contract.
    let r = unsafe {
        crate::traps::catch_traps(
            std::mem::transmute::<*const u8, crate::layout::ArrayCallFn>(f.array_call),
            f.vmctx,
            std::ptr::null_mut(),
            values,
            len,
        )
    };
    match r {
        Ok(()) => 0,
        Err(t) => record(&Error::Trap(t)),
    }
}

/// Raises a trap of `kind` from a native import implementation (does not return).
#[no_mangle]
pub extern "C" fn wasmaot_trap(kind: c_int) {
    let kind = TrapKind::from_u8(kind as u8).unwrap_or(TrapKind::Host);
    crate::traps::raise_trap(Trap::new(kind))
}

fn memory_of(inst: *mut wasmaot_instance_t, idx: u32) -> Option<Memory> {
    // SAFETY: C API contract (valid instance).
    unsafe { inst.as_ref() }?.instance.memory(idx)
}

/// Base address of memory `idx` of an instance (null if none). Stable across growth.
#[no_mangle]
pub extern "C" fn wasmaot_memory_data(inst: *mut wasmaot_instance_t, idx: u32) -> *mut u8 {
    memory_of(inst, idx).map_or(std::ptr::null_mut(), |m| m.data_ptr())
}

/// Size of memory `idx` in pages.
#[no_mangle]
pub extern "C" fn wasmaot_memory_size(inst: *mut wasmaot_instance_t, idx: u32) -> u64 {
    memory_of(inst, idx).map_or(0, |m| m.size_pages())
}

/// Size of memory `idx` in bytes.
#[no_mangle]
pub extern "C" fn wasmaot_memory_size_bytes(inst: *mut wasmaot_instance_t, idx: u32) -> u64 {
    memory_of(inst, idx).map_or(0, |m| m.size_bytes())
}

/// Grows memory `idx` by `delta` pages: old size, or -1.
#[no_mangle]
pub extern "C" fn wasmaot_memory_grow(inst: *mut wasmaot_instance_t, idx: u32, delta: u64) -> i64 {
    memory_of(inst, idx).map_or(-1, |m| m.grow_or_minus_one(delta))
}

/// Creates a memory (`max == UINT64_MAX`: no maximum; flags: 1 shared, 2 memory64).
///
/// # Safety
/// `err` null or writable.
#[no_mangle]
pub unsafe extern "C" fn wasmaot_memory_new(
    initial: u64,
    max: u64,
    flags: u32,
    err: *mut *mut wasmaot_error_t,
) -> *mut wasmaot_memory_t {
    let ty = MemoryType {
        initial,
        maximum: (max != u64::MAX).then_some(max),
        shared: flags & 1 != 0,
        memory64: flags & 2 != 0,
    };
    match Memory::new(ty) {
        Ok(memory) => Box::into_raw(Box::new(wasmaot_memory_t { memory })),
        Err(e) => {
            error_out(err, e.into());
            std::ptr::null_mut()
        }
    }
}

/// Releases a host memory handle (the memory lives on while instances use it).
///
/// # Safety
/// `m` came from `wasmaot_memory_new` and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn wasmaot_memory_delete(m: *mut wasmaot_memory_t) {
    if !m.is_null() {
        // SAFETY: C API contract.
        drop(unsafe { Box::from_raw(m) });
    }
}

/// Base address of a host memory.
///
/// # Safety
/// Valid handle.
#[no_mangle]
pub unsafe extern "C" fn wasmaot_memory_base(m: *const wasmaot_memory_t) -> *mut u8 {
    // SAFETY: C API contract.
    unsafe { &*m }.memory.data_ptr()
}

/// Size of a host memory in pages.
///
/// # Safety
/// Valid handle.
#[no_mangle]
pub unsafe extern "C" fn wasmaot_memory_pages(m: *const wasmaot_memory_t) -> u64 {
    // SAFETY: C API contract.
    unsafe { &*m }.memory.size_pages()
}

/// Grows a host memory: old size in pages, or -1.
///
/// # Safety
/// Valid handle.
#[no_mangle]
pub unsafe extern "C" fn wasmaot_memory_grow_pages(m: *const wasmaot_memory_t, delta: u64) -> i64 {
    // SAFETY: C API contract.
    unsafe { &*m }.memory.grow_or_minus_one(delta)
}

/// Limits all memories together to `bytes` (rounded down to pages); 0 = unlimited.
#[no_mangle]
pub extern "C" fn wasmaot_set_memory_limit(bytes: u64) {
    let mut l = crate::memory::limits();
    l.max_pages_total = if bytes == 0 {
        u64::MAX
    } else {
        bytes / crate::layout::WASM_PAGE_SIZE
    };
    crate::memory::set_limits(l);
}

/// The message of an error.
///
/// # Safety
/// Valid error.
#[no_mangle]
pub unsafe extern "C" fn wasmaot_error_message(e: *const wasmaot_error_t) -> *const c_char {
    // SAFETY: C API contract.
    unsafe { &*e }.message.as_ptr()
}

/// Frees an error.
///
/// # Safety
/// `e` came from this API and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn wasmaot_error_delete(e: *mut wasmaot_error_t) {
    if !e.is_null() {
        // SAFETY: C API contract.
        drop(unsafe { Box::from_raw(e) });
    }
}

thread_local! {
    static LAST_TRAP: std::cell::Cell<c_int> = const { std::cell::Cell::new(0) };
}

/// Entry of the C-callable export wrappers that compiled objects define
/// (`<module>_<export>`): calls `funcref` with the array convention on behalf of the instance
/// whose context is `vmctx`, catching traps. Returns 0 or the trap kind, which is also what
/// [`wasmaot_last_trap`] reports afterwards.
///
/// # Safety
/// `funcref` points into the live instance context `vmctx`; `values` has `len` slots holding
/// the parameters.
#[no_mangle]
pub unsafe extern "C" fn wasmaot_invoke(
    vmctx: *mut u8,
    funcref: *const VMFuncRef,
    values: *mut ValRaw,
    len: usize,
) -> c_int {
    // SAFETY: the wrapper passes a funcref slot of its own instance.
    let f = unsafe { *funcref };
    let status = if f.array_call.is_null() {
        record(&Error::Type("function has no array-call entry".into()))
    } else {
        // SAFETY: non-null array-call entries have this type; slots come from the wrapper.
        let r = unsafe {
            crate::traps::catch_traps(
                std::mem::transmute::<*const u8, crate::layout::ArrayCallFn>(f.array_call),
                f.vmctx,
                vmctx,
                values,
                len,
            )
        };
        match r {
            Ok(()) => 0,
            Err(t) => record(&Error::Trap(t)),
        }
    };
    LAST_TRAP.set(status);
    status
}

/// The trap kind of the last export call made through a generated wrapper on this thread
/// (0 when it returned normally).
#[no_mangle]
pub extern "C" fn wasmaot_last_trap() -> c_int {
    LAST_TRAP.get()
}

/// The instance context of an instance: the `<module>_instance*` generated headers use.
///
/// # Safety
/// `inst` is a live instance.
#[no_mangle]
pub unsafe extern "C" fn wasmaot_instance_vmctx(inst: *mut wasmaot_instance_t) -> *mut u8 {
    // SAFETY: C API contract.
    unsafe { &*inst }.instance.vmctx()
}

/// The instance owning an instance context created through this C API.
///
/// # Safety
/// `vmctx` came from [`wasmaot_instance_vmctx`] of a live instance.
#[no_mangle]
pub unsafe extern "C" fn wasmaot_instance_from_vmctx(vmctx: *mut u8) -> *mut wasmaot_instance_t {
    // SAFETY: the handle field is written by `new_instance` and stays valid while it lives.
    unsafe { *(vmctx.add(crate::layout::VMCTX_HANDLE as usize) as *const *mut wasmaot_instance_t) }
}

/// Reads a NULL-terminated array of C strings.
///
/// # Safety
/// `list` is null or a NULL-terminated array of valid C strings.
unsafe fn c_strings(list: *const *const c_char) -> Vec<String> {
    let mut out = Vec::new();
    if list.is_null() {
        return out;
    }
    let mut k = 0;
    loop {
        // SAFETY: caller contract: NULL-terminated array.
        let p = unsafe { *list.add(k) };
        if p.is_null() {
            return out;
        }
        // SAFETY: valid C string.
        out.push(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned());
        k += 1;
    }
}

/// `main` of executables made by `wasmaot build`: runs the module's `_start` as a WASI command
/// and returns its exit status. `dirs` holds `"rw:HOST::GUEST"` / `"ro:HOST::GUEST"` grants and
/// `envs` `"KEY=VALUE"` pairs (both NULL-terminated, fixed at build time); with `inherit_env`
/// the process environment is passed too. Errors print one line and give status 1, traps 134.
/// With `WASMAOT_START_TIME` set, the time spent in `_start` is printed on stderr.
///
/// # Safety
/// `descriptor` is a linked module descriptor; the arrays are valid as described.
#[no_mangle]
pub unsafe extern "C" fn wasmaot_run_command(
    descriptor: *const std::ffi::c_void,
    argc: c_int,
    argv: *const *const c_char,
    dirs: *const *const c_char,
    envs: *const *const c_char,
    inherit_env: c_int,
) -> c_int {
    use crate::command::{run_command_status, CommandConfig, Preopen};
    let module = match module_for(descriptor as *const ModuleDescriptor) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let mut args = Vec::new();
    for k in 0..argc.max(0) as usize {
        // SAFETY: argv has argc valid entries.
        args.push(
            unsafe { CStr::from_ptr(*argv.add(k)) }
                .to_string_lossy()
                .into_owned(),
        );
    }
    let mut env: Vec<(String, String)> = if inherit_env != 0 {
        // Variables that are not UTF-8 cannot be expressed in WASI strings: leave them out.
        std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect()
    } else {
        Vec::new()
    };
    // SAFETY: NULL-terminated arrays per contract.
    for kv in unsafe { c_strings(envs) } {
        if let Some((k, v)) = kv.split_once('=') {
            env.push((k.to_string(), v.to_string()));
        }
    }
    // SAFETY: as above.
    let dirs = unsafe { c_strings(dirs) }
        .iter()
        .map(|d| match d.strip_prefix("ro:") {
            Some(rest) => Preopen::parse(rest, true),
            None => Preopen::parse(d.strip_prefix("rw:").unwrap_or(d), false),
        })
        .collect();
    let time_start = CommandConfig::time_start_from_env();
    run_command_status(
        &module,
        &CommandConfig {
            args,
            env,
            dirs,
            time_start,
        },
    )
}
