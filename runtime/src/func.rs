//! Functions: Wasm functions of an instance and host functions, both seen through a
//! [`VMFuncRef`], plus the [`Caller`] handed to host functions.
//!
//! `VMFuncRef::_pad` is runtime-private: 0 for the funcref embedded in a host function, or the
//! byte offset of the slot inside its owning instance's vmctx. That is how a raw funcref coming
//! out of compiled code is turned back into a [`Func`] that keeps its owner alive.

use crate::error::{Error, Trap};
use crate::instance::{Instance, InstanceInner};
use crate::layout::{ArrayCallFn, FuncType, VMFuncRef, ValRaw, VMCTX_INSTANCE};
use crate::memory::Memory;
use crate::module::Module;
use crate::traps;
use crate::values::{func_type_of, intern_func_type, Val};
use crate::Extern;
use std::cell::UnsafeCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::sync::{Arc, OnceLock};

/// Closure type of a host function working on [`Val`]s.
pub type HostFn = dyn Fn(&mut Caller<'_>, &[Val]) -> Result<Vec<Val>, Trap> + Send + Sync;
/// Closure type of a host function working on raw slots (params in, results out).
pub type HostRawFn = dyn Fn(&mut Caller<'_>, &mut [ValRaw]) -> Result<(), Trap> + Send + Sync;

enum HostImpl {
    Vals(Box<HostFn>),
    Raw(Box<HostRawFn>),
}

/// A host function. `array_call` must stay the first field: adapters in compiled code call
/// `(*(host_ctx as *const ArrayCallFn))(host_ctx, null, values, len)`.
#[repr(C)]
pub(crate) struct HostFunc {
    array_call: ArrayCallFn,
    funcref: UnsafeCell<VMFuncRef>,
    ty: FuncType,
    imp: HostImpl,
    /// The module whose adapter fills `funcref.wasm_call` (kept loaded).
    adapter: OnceLock<Module>,
}

// SAFETY: `funcref` is written once (under `adapter`'s initialisation) before Wasm can see it
// through this host function; the closures are `Send + Sync`.
unsafe impl Send for HostFunc {}
// SAFETY: see above.
unsafe impl Sync for HostFunc {}

#[derive(Clone)]
pub(crate) enum FuncOwner {
    Instance(Instance),
    Host(Arc<HostFunc>),
}

/// A function reference usable from the host: a Wasm function of some instance or a host
/// function. Cloning is cheap.
#[derive(Clone)]
pub struct Func {
    raw: NonNull<VMFuncRef>,
    pub(crate) owner: FuncOwner,
}

// SAFETY: the funcref is immutable once published and its owner is kept alive by `owner`.
unsafe impl Send for Func {}
// SAFETY: see above.
unsafe impl Sync for Func {}

impl std::fmt::Debug for Func {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Func({:p})", self.raw)
    }
}

/// A host function as one instance imports it. The import's slot in that instance's vmctx
/// points here instead of at the [`HostFunc`], so compiled code passes a single context
/// argument and the host function still learns which instance called it (as in wasm2c, an
/// imported host function is bound to the instance that imports it).
/// `array_call` must stay the first field, as in [`HostFunc`].
#[repr(C)]
pub(crate) struct HostBinding {
    array_call: ArrayCallFn,
    host: Arc<HostFunc>,
    /// The importing instance's vmctx; the instance owns this binding.
    caller: *mut u8,
}

impl HostBinding {
    /// Binds `host` to the instance whose vmctx is `caller`.
    pub(crate) fn new(host: Arc<HostFunc>, caller: *mut u8) -> Box<HostBinding> {
        Box::new(HostBinding {
            array_call: bound_host_trampoline,
            host,
            caller,
        })
    }

    /// The funcref the importing instance stores in its import slot (`_pad` left to the caller).
    pub(crate) fn vmfuncref(&self, wasm_call: *const u8, type_id: u32) -> VMFuncRef {
        VMFuncRef {
            wasm_call,
            array_call: bound_host_trampoline as *const u8,
            vmctx: self as *const HostBinding as *mut u8,
            type_id,
            _pad: 0,
        }
    }
}

// SAFETY: immutable after creation; `caller` is only read, while its instance is alive.
unsafe impl Send for HostBinding {}
// SAFETY: see above.
unsafe impl Sync for HostBinding {}

/// The array-call entry of every host function. `caller` is null when the call comes from
/// the host or through the host function's own funcref (not through an import).
unsafe extern "C" fn host_trampoline(
    ctx: *mut u8,
    caller: *mut u8,
    values: *mut ValRaw,
    len: usize,
) {
    // Everything that owns resources lives in `run_host`, which returns before we raise.
    // SAFETY: `ctx` is the `HostFunc` this trampoline was registered with; `values` has `len`
    // slots (array-call contract).
    raise_outcome(unsafe { run_host(ctx as *const HostFunc, caller, values, len) });
}

/// The array-call entry of an imported host function: the binding names the caller.
unsafe extern "C" fn bound_host_trampoline(
    ctx: *mut u8,
    _caller: *mut u8,
    values: *mut ValRaw,
    len: usize,
) {
    // SAFETY: `ctx` is the `HostBinding` whose funcref this entry was reached through; the
    // importing instance owns it and is alive while its code or its funcrefs run.
    let b = unsafe { &*(ctx as *const HostBinding) };
    // SAFETY: array-call contract, as in `host_trampoline`.
    raise_outcome(unsafe { run_host(Arc::as_ptr(&b.host), b.caller, values, len) });
}

/// Turns a host function's failure into a trap or a resumed panic (never returns then).
fn raise_outcome(outcome: Outcome) {
    match outcome {
        Ok(()) => {}
        Err(Ok(trap)) => traps::raise_trap(trap),
        Err(Err(panic)) => traps::raise_panic(panic),
    }
}

type Outcome = Result<(), Result<Trap, Box<dyn std::any::Any + Send>>>;

unsafe fn run_host(
    f: *const HostFunc,
    caller: *mut u8,
    values: *mut ValRaw,
    len: usize,
) -> Outcome {
    // SAFETY: the function is alive while Wasm can call it (its owner keeps it alive).
    let f = unsafe { &*f };
    // SAFETY: array-call contract.
    let slots = unsafe { std::slice::from_raw_parts_mut(values, len) };
    let mut c = Caller::new(caller);
    let r = catch_unwind(AssertUnwindSafe(|| match &f.imp {
        HostImpl::Raw(g) => g(&mut c, slots),
        HostImpl::Vals(g) => {
            let args: Vec<Val> =
                f.ty.params
                    .iter()
                    .zip(slots.iter())
                    // SAFETY: slots hold values of the declared parameter types.
                    .map(|(t, r)| unsafe { Val::from_raw(*r, *t) })
                    .collect();
            let results = g(&mut c, &args)?;
            if results.len() != f.ty.results.len()
                || results.iter().zip(&f.ty.results).any(|(v, t)| v.ty() != *t)
            {
                return Err(Trap::host(
                    "host function returned values of the wrong type",
                ));
            }
            for (s, v) in slots.iter_mut().zip(&results) {
                *s = v.to_raw();
            }
            Ok(())
        }
    }));
    match r {
        Ok(Ok(())) => Ok(()),
        Ok(Err(t)) => Err(Ok(t)),
        Err(p) => Err(Err(p)),
    }
}

impl Func {
    /// Creates a host function taking and returning [`Val`]s.
    pub fn host(
        ty: FuncType,
        f: impl Fn(&mut Caller<'_>, &[Val]) -> Result<Vec<Val>, Trap> + Send + Sync + 'static,
    ) -> Func {
        Func::new_host(ty, HostImpl::Vals(Box::new(f)))
    }

    /// Creates a host function working on raw slots: params are read from `values[0..]`, results
    /// written to `values[0..]` (the slice has `max(params, results)` slots).
    pub fn host_raw(
        ty: FuncType,
        f: impl Fn(&mut Caller<'_>, &mut [ValRaw]) -> Result<(), Trap> + Send + Sync + 'static,
    ) -> Func {
        Func::new_host(ty, HostImpl::Raw(Box::new(f)))
    }

    fn new_host(ty: FuncType, imp: HostImpl) -> Func {
        let type_id = intern_func_type(&ty);
        let hf = Arc::new(HostFunc {
            array_call: host_trampoline,
            funcref: UnsafeCell::new(VMFuncRef {
                wasm_call: std::ptr::null(),
                array_call: host_trampoline as *const u8,
                vmctx: std::ptr::null_mut(),
                type_id,
                _pad: 0,
            }),
            ty,
            imp,
            adapter: OnceLock::new(),
        });
        let ctx = Arc::as_ptr(&hf) as *mut u8;
        // SAFETY: nobody else can see `hf` yet.
        unsafe { (*hf.funcref.get()).vmctx = ctx };
        Func {
            raw: NonNull::new(hf.funcref.get()).unwrap(),
            owner: FuncOwner::Host(hf),
        }
    }

    /// A function of an instance whose funcref lives in its vmctx.
    pub(crate) fn from_instance(instance: Instance, raw: *const VMFuncRef) -> Func {
        Func {
            raw: NonNull::new(raw as *mut VMFuncRef).expect("null funcref"),
            owner: FuncOwner::Instance(instance),
        }
    }

    /// Turns a raw funcref (null → `None`) back into a function, keeping its owner alive.
    ///
    /// # Safety
    /// `raw` must be null or point to a live funcref created by this runtime (an instance
    /// slot or a host function's own funcref).
    pub unsafe fn from_raw(raw: usize) -> Option<Func> {
        let p = NonNull::new(raw as *mut VMFuncRef)?;
        // SAFETY: the caller guarantees a live funcref; `_pad` is the runtime's tag.
        let tag = unsafe { (*p.as_ptr())._pad };
        let owner = if tag == 0 {
            let off = std::mem::offset_of!(HostFunc, funcref);
            let hf = (raw - off) as *const HostFunc;
            // SAFETY: tag 0 funcrefs are embedded in an `Arc<HostFunc>` that is alive.
            unsafe {
                Arc::increment_strong_count(hf);
                FuncOwner::Host(Arc::from_raw(hf))
            }
        } else {
            let vmctx = raw - tag as usize;
            // SAFETY: a nonzero tag is the slot's offset in a live instance's vmctx, whose
            // instance pointer is at `VMCTX_INSTANCE`.
            let inst =
                unsafe { *((vmctx + VMCTX_INSTANCE as usize) as *const *const InstanceInner) };
            // SAFETY: the instance is alive (it owns the slot we were handed).
            FuncOwner::Instance(unsafe { Instance::from_inner_ptr(inst) })
        };
        Some(Func { raw: p, owner })
    }

    /// The raw funcref pointer compiled code uses for this function.
    pub fn raw(&self) -> *const VMFuncRef {
        self.raw.as_ptr()
    }

    /// A copy of the funcref contents.
    pub fn vmfuncref(&self) -> VMFuncRef {
        // SAFETY: the funcref is alive as long as `self`.
        unsafe { *self.raw.as_ptr() }
    }

    /// Canonical type id.
    pub fn type_id(&self) -> u32 {
        self.vmfuncref().type_id
    }

    /// The function's type.
    pub fn ty(&self) -> FuncType {
        func_type_of(self.type_id()).expect("interned type")
    }

    /// The host function behind this func, if it is one.
    pub(crate) fn host_func(&self) -> Option<&Arc<HostFunc>> {
        match &self.owner {
            FuncOwner::Host(h) => Some(h),
            FuncOwner::Instance(_) => None,
        }
    }

    /// Identity of the owner (instance or host function), for keep-alive bookkeeping.
    pub(crate) fn owner_key(&self) -> usize {
        match &self.owner {
            FuncOwner::Host(h) => Arc::as_ptr(h) as usize,
            FuncOwner::Instance(i) => i.vmctx() as usize,
        }
    }

    /// Whether compiled code can call this function (host functions need an adapter that an
    /// importing module provides).
    pub fn callable_from_wasm(&self) -> bool {
        !self.vmfuncref().wasm_call.is_null()
    }

    /// Records `module`'s adapter for this host function if it has none yet.
    pub(crate) fn adopt_adapter(&self, module: &Module, adapter: *const u8) {
        if let Some(h) = self.host_func() {
            if adapter.is_null() {
                return;
            }
            h.adapter.get_or_init(|| {
                // SAFETY: runs once; until now `wasm_call` was null, so no compiled code could
                // call through this funcref.
                unsafe { (*h.funcref.get()).wasm_call = adapter };
                module.clone()
            });
        }
    }

    /// Calls the function with type-checked arguments and returns its results.
    pub fn call(&self, args: &[Val]) -> Result<Vec<Val>, Error> {
        let ty = self.ty();
        if args.len() != ty.params.len() {
            return Err(Error::Type(format!(
                "expected {} arguments, got {}",
                ty.params.len(),
                args.len()
            )));
        }
        for (i, (a, t)) in args.iter().zip(&ty.params).enumerate() {
            if a.ty() != *t {
                return Err(Error::Type(format!(
                    "argument {i} has type {:?}, expected {t:?}",
                    a.ty()
                )));
            }
            if let Val::FuncRef(Some(f)) = a {
                if !f.callable_from_wasm() {
                    return Err(Error::Type(format!(
                        "argument {i}: a host function must be imported by a module before \
                         it can be passed to Wasm"
                    )));
                }
            }
        }
        let mut slots: Vec<ValRaw> = vec![0; ty.params.len().max(ty.results.len()).max(1)];
        for (s, a) in slots.iter_mut().zip(args) {
            *s = a.to_raw();
        }
        // SAFETY: the slots have the lengths and types the signature requires.
        unsafe { self.call_raw(&mut slots) }?;
        Ok(ty
            .results
            .iter()
            .zip(&slots)
            // SAFETY: the callee wrote results of its declared types.
            .map(|(t, r)| unsafe { Val::from_raw(*r, *t) })
            .collect())
    }

    /// Calls the function on raw slots (no type checks).
    ///
    /// # Safety
    /// `values` must hold the parameters with the function's types and have room for the
    /// results.
    pub unsafe fn call_raw(&self, values: &mut [ValRaw]) -> Result<(), Error> {
        let f = self.vmfuncref();
        if f.array_call.is_null() {
            return Err(Error::Type(
                "function has no array-call entry and cannot be called from the host".into(),
            ));
        }
        // SAFETY: non-null array-call entries have the `ArrayCallFn` type.
        let entry: ArrayCallFn = unsafe { std::mem::transmute(f.array_call) };
        // SAFETY: the caller guarantees the slots; the funcref's vmctx is kept alive by `self`.
        unsafe {
            traps::catch_traps(
                entry,
                f.vmctx,
                std::ptr::null_mut(),
                values.as_mut_ptr(),
                values.len(),
            )
        }
        .map_err(Error::Trap)
    }
}

/// What a host function can see of its caller: the instance that imported it (the binding made
/// at instantiation, docs/ABI.md), or none when it is called through its own funcref.
pub struct Caller<'a> {
    vmctx: *mut u8,
    instance: Option<&'a InstanceInner>,
}

impl<'a> Caller<'a> {
    fn new(vmctx: *mut u8) -> Caller<'a> {
        let instance = if vmctx.is_null() {
            None
        } else {
            // SAFETY: a non-null caller vmctx belongs to a live instance whose private pointer
            // is at `VMCTX_INSTANCE`; the instance outlives the call.
            unsafe {
                let p = *(vmctx.add(VMCTX_INSTANCE as usize) as *const *const InstanceInner);
                p.as_ref()
            }
        };
        Caller { vmctx, instance }
    }

    /// The calling instance's vmctx (null when there is none).
    pub fn vmctx(&self) -> *mut u8 {
        self.vmctx
    }

    /// The calling instance.
    pub fn instance(&self) -> Option<Instance> {
        // SAFETY: the instance is alive for the call's duration.
        self.instance
            .map(|i| unsafe { Instance::from_inner_ptr(i as *const InstanceInner) })
    }

    /// Memory `index` of the calling instance.
    pub fn memory(&self, index: u32) -> Option<Memory> {
        self.instance?.memories.get(index as usize).cloned()
    }

    /// Base pointer and byte length of the calling instance's memory `index` (no refcounting).
    pub fn memory_raw(&self, index: u32) -> Option<(*mut u8, u64)> {
        let m = self.instance?.memories.get(index as usize)?;
        Some((m.data_ptr(), m.size_bytes()))
    }

    /// Base pointer and byte length of the calling instance's memory exported as `name`, or of
    /// its memory 0 when there is no such export (no refcounting, no allocation).
    pub fn exported_memory_raw(&self, name: &str) -> Option<(*mut u8, u64)> {
        let inst = self.instance?;
        let idx = match inst.module.0.exports.get(name) {
            Some(crate::layout::ExportKind::Memory(i)) => *i,
            _ => 0,
        };
        self.memory_raw(idx)
    }

    /// An export of the calling instance.
    pub fn get_export(&self, name: &str) -> Option<Extern> {
        self.instance()?.get_export(name)
    }
}
