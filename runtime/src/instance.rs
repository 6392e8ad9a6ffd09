//! Instances: the vmctx compiled code runs against, and instantiation in spec order.

use crate::error::{Error, Trap};
use crate::func::{Func, HostBinding};
use crate::global::Global;
use crate::layout::BoundsChecks;
use crate::layout::ValType;
use crate::layout::{
    ConstOp, ExportKind, ExternType, TrapKind, VMFuncRef, ValRaw, VMCTX_BUILTINS, VMCTX_HANDLE,
    VMCTX_INSTANCE,
};
use crate::memory::{Memory, MemoryLayout};
use crate::module::Module;
use crate::table::Table;
use crate::tag::Tag;
use crate::{libcalls, Extern};
use std::alloc::Layout;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// How one import of a module is satisfied.
#[derive(Clone, Debug)]
pub enum Resolved {
    /// By an extern (already type-checked).
    Extern(Extern),
    /// By the native C symbol the program linked (function imports only).
    Native,
}

pub(crate) struct InstanceInner {
    pub(crate) module: Module,
    vmctx: *mut u8,
    layout: Layout,
    pub(crate) memories: Vec<Memory>,
    pub(crate) tables: Vec<Table>,
    imported_globals: Vec<Global>,
    /// Import sources kept alive (instances, host functions); never read.
    #[allow(dead_code)]
    imported_funcs: Vec<Option<Func>>,
    /// The host functions this instance imports, bound to it; its import slots point here,
    /// so each binding is boxed to keep its address when the vector grows.
    #[allow(dead_code, clippy::vec_box)]
    host_bindings: Vec<Box<HostBinding>>,
    /// Every tag, imported first.
    pub(crate) tags: Vec<Tag>,
    pub(crate) dropped_elems: Box<[AtomicBool]>,
    pub(crate) dropped_datas: Box<[AtomicBool]>,
    keepalive: Mutex<Vec<KeepAlive>>,
}

#[allow(dead_code)]
enum KeepAlive {
    Func(Func),
    Instance(Instance),
}

// SAFETY: the vmctx is owned by the instance and only mutated during instantiation or by
// compiled code (whose concurrency is the embedder's responsibility, as documented on
// `Instance`).
unsafe impl Send for InstanceInner {}
// SAFETY: see above.
unsafe impl Sync for InstanceInner {}

impl Drop for InstanceInner {
    fn drop(&mut self) {
        // SAFETY: allocated in `instantiate` with this layout; nothing refers to it any more.
        unsafe { std::alloc::dealloc(self.vmctx, self.layout) };
    }
}

/// An instantiated module. Cloning is cheap. Calling into one instance from several threads at
/// once is only meaningful for modules designed for it (shared memories); the runtime does not
/// serialise calls.
#[derive(Clone)]
pub struct Instance(pub(crate) Arc<InstanceInner>);

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Instance({}, {:p})", self.0.module.name(), self.0.vmctx)
    }
}

impl InstanceInner {
    /// Calls `f` with every `exnref` stored in this instance's globals and tables (imported
    /// ones included): roots for the exception-object collector.
    pub(crate) fn for_each_exnref(&self, f: &mut dyn FnMut(usize)) {
        let info = &self.module.0.info;
        let ni = info.num_imported_globals as usize;
        for (i, g) in info.globals.iter().enumerate() {
            if g.content != ValType::ExnRef {
                continue;
            }
            let p = if i < ni {
                self.imported_globals[i].storage()
            } else {
                // SAFETY: defined global storage lies inside the vmctx allocation.
                unsafe {
                    self.vmctx
                        .add(self.module.0.offsets.defined_global((i - ni) as u32) as usize)
                }
            };
            // SAFETY: global storage is 16 bytes, 16-aligned; the low word holds the ref.
            f(unsafe { *(p as *const usize) });
        }
        for t in &self.tables {
            if t.ty().element == ValType::ExnRef {
                for i in 0..t.size() {
                    f(t.get_raw(i).unwrap_or(0) as usize);
                }
            }
        }
    }

    /// Whether this instance's globals or tables can hold `exnref`s.
    fn holds_exnrefs(&self) -> bool {
        let info = &self.module.0.info;
        info.globals.iter().any(|g| g.content == ValType::ExnRef)
            || info.tables.iter().any(|t| t.element == ValType::ExnRef)
    }
}

impl Instance {
    /// Rebuilds a handle from the pointer stored at `VMCTX_INSTANCE`.
    ///
    /// # Safety
    /// `p` must come from a live instance's vmctx.
    pub(crate) unsafe fn from_inner_ptr(p: *const InstanceInner) -> Instance {
        // SAFETY: `p` is `Arc::as_ptr` of a live instance (caller's contract).
        unsafe {
            Arc::increment_strong_count(p);
            Instance(Arc::from_raw(p))
        }
    }

    /// Rebuilds a handle from a vmctx pointer.
    ///
    /// # Safety
    /// `vmctx` must be the vmctx of a live instance.
    pub unsafe fn from_vmctx(vmctx: *mut u8) -> Instance {
        // SAFETY: caller's contract; the private pointer is at `VMCTX_INSTANCE`.
        unsafe {
            Instance::from_inner_ptr(
                *(vmctx.add(VMCTX_INSTANCE as usize) as *const *const InstanceInner),
            )
        }
    }

    /// The instance context compiled code receives.
    pub fn vmctx(&self) -> *mut u8 {
        self.0.vmctx
    }

    /// The module this is an instance of.
    pub fn module(&self) -> &Module {
        &self.0.module
    }

    /// Sets the embedder handle at `VMCTX_HANDLE` (read by native import adapters).
    pub fn set_handle(&self, handle: *mut u8) {
        // SAFETY: the handle slot is a pointer-sized field of our vmctx.
        unsafe { *(self.0.vmctx.add(VMCTX_HANDLE as usize) as *mut *mut u8) = handle };
    }

    /// The embedder handle.
    pub fn handle(&self) -> *mut u8 {
        // SAFETY: as above.
        unsafe { *(self.0.vmctx.add(VMCTX_HANDLE as usize) as *const *mut u8) }
    }

    /// Export `name`.
    pub fn get_export(&self, name: &str) -> Option<Extern> {
        let kind = *self.0.module.0.exports.get(name)?;
        Some(self.extern_of(kind))
    }

    fn extern_of(&self, kind: ExportKind) -> Extern {
        match kind {
            ExportKind::Func(i) => Extern::Func(self.func(i).expect("exported funcs escape")),
            ExportKind::Table(i) => Extern::Table(self.0.tables[i as usize].clone()),
            ExportKind::Memory(i) => Extern::Memory(self.0.memories[i as usize].clone()),
            ExportKind::Global(i) => Extern::Global(self.global(i)),
            ExportKind::Tag(i) => Extern::Tag(self.0.tags[i as usize].clone()),
        }
    }

    /// All exports, in declaration order.
    pub fn exports(&self) -> Vec<(String, Extern)> {
        self.0
            .module
            .info()
            .exports
            .iter()
            .map(|e| (e.name.clone(), self.extern_of(e.kind)))
            .collect()
    }

    /// Exported function `name`.
    pub fn get_func(&self, name: &str) -> Option<Func> {
        match self.get_export(name)? {
            Extern::Func(f) => Some(f),
            _ => None,
        }
    }

    /// Exported memory `name`.
    pub fn get_memory(&self, name: &str) -> Option<Memory> {
        match self.get_export(name)? {
            Extern::Memory(m) => Some(m),
            _ => None,
        }
    }

    /// Exported global `name`.
    pub fn get_global(&self, name: &str) -> Option<Global> {
        match self.get_export(name)? {
            Extern::Global(g) => Some(g),
            _ => None,
        }
    }

    /// Exported table `name`.
    pub fn get_table(&self, name: &str) -> Option<Table> {
        match self.get_export(name)? {
            Extern::Table(t) => Some(t),
            _ => None,
        }
    }

    /// Memory `index` (imported or defined).
    pub fn memory(&self, index: u32) -> Option<Memory> {
        self.0.memories.get(index as usize).cloned()
    }

    /// Function `index` if it has a funcref slot (imported, or defined and escaping).
    pub fn func(&self, index: u32) -> Option<Func> {
        self.funcref_ptr(index)
            .map(|p| Func::from_instance(self.clone(), p))
    }

    /// Address of function `index`'s funcref slot in the vmctx.
    pub(crate) fn funcref_ptr(&self, index: u32) -> Option<*const VMFuncRef> {
        let m = &self.0.module.0;
        let off = if index < m.info.num_imported_funcs {
            m.offsets.imported_func(index)
        } else {
            let slot = *m.func_slot.get(index as usize)?;
            if slot == u32::MAX {
                return None;
            }
            m.offsets.escaping_func(slot)
        };
        // SAFETY: the offset lies inside the vmctx allocation.
        Some(unsafe { self.0.vmctx.add(off as usize) } as *const VMFuncRef)
    }

    /// Global `index` (imported or defined).
    pub fn global(&self, index: u32) -> Global {
        let m = &self.0.module.0;
        let ni = m.info.num_imported_globals;
        if index < ni {
            return self.0.imported_globals[index as usize].clone();
        }
        let off = m.offsets.defined_global(index - ni);
        // SAFETY: inside the vmctx allocation.
        let ptr = unsafe { self.0.vmctx.add(off as usize) };
        Global::from_instance(self.clone(), ptr, m.info.globals[index as usize])
    }

    fn global_ptr(&self, index: u32) -> *mut u8 {
        let m = &self.0.module.0;
        let ni = m.info.num_imported_globals;
        if index < ni {
            self.0.imported_globals[index as usize].storage()
        } else {
            // SAFETY: inside the vmctx allocation.
            unsafe {
                self.0
                    .vmctx
                    .add(m.offsets.defined_global(index - ni) as usize)
            }
        }
    }

    /// Keeps a funcref's owner alive as long as this instance (unless it is this instance).
    pub(crate) fn keep_func(&self, f: &Func) {
        if f.owner_key() != self.vmctx() as usize {
            self.0
                .keepalive
                .lock()
                .unwrap()
                .push(KeepAlive::Func(f.clone()));
        }
    }

    /// Keeps another instance alive as long as this one.
    pub(crate) fn keep_instance(&self, other: &Instance) {
        if !Arc::ptr_eq(&self.0, &other.0) {
            self.0
                .keepalive
                .lock()
                .unwrap()
                .push(KeepAlive::Instance(other.clone()));
        }
    }

    /// Evaluates a constant expression against this (partially initialised) instance.
    pub(crate) fn eval_const(&self, ops: &[ConstOp]) -> Result<ValRaw, Error> {
        let mut st: Vec<ValRaw> = Vec::with_capacity(4);
        let bad = || Error::Instantiation("malformed constant expression".into());
        for op in ops {
            let v = match op {
                ConstOp::I32(x) => *x as u32 as ValRaw,
                ConstOp::I64(x) => *x as u64 as ValRaw,
                ConstOp::F32(x) => *x as ValRaw,
                ConstOp::F64(x) => *x as ValRaw,
                ConstOp::V128(x) => *x,
                // SAFETY: global storage is 16-aligned and 16 bytes.
                ConstOp::GlobalGet(g) => unsafe { (self.global_ptr(*g) as *const ValRaw).read() },
                ConstOp::RefNull(_) => 0,
                ConstOp::RefFunc(f) => self.funcref_ptr(*f).ok_or_else(bad)? as usize as ValRaw,
                _ => {
                    let b = st.pop().ok_or_else(bad)?;
                    let a = st.pop().ok_or_else(bad)?;
                    let (a32, b32, a64, b64) = (a as u32, b as u32, a as u64, b as u64);
                    match op {
                        ConstOp::I32Add => a32.wrapping_add(b32) as ValRaw,
                        ConstOp::I32Sub => a32.wrapping_sub(b32) as ValRaw,
                        ConstOp::I32Mul => a32.wrapping_mul(b32) as ValRaw,
                        ConstOp::I64Add => a64.wrapping_add(b64) as ValRaw,
                        ConstOp::I64Sub => a64.wrapping_sub(b64) as ValRaw,
                        _ => a64.wrapping_mul(b64) as ValRaw,
                    }
                }
            };
            st.push(v);
        }
        if st.len() != 1 {
            return Err(bad());
        }
        Ok(st[0])
    }
}

/// Instantiates `module` with already resolved and type-checked imports (one per import, in
/// order): allocate the vmctx, create memories/tables/globals, fill funcref slots and type
/// ids, apply element then data segments, run the start function.
pub(crate) fn instantiate(module: &Module, imports: Vec<Resolved>) -> Result<Instance, Error> {
    let m = &module.0;
    let info = &*m.info;
    let off = &m.offsets;
    if imports.len() != info.imports.len() {
        return Err(Error::Instantiation("wrong number of imports".into()));
    }
    let layout = Layout::from_size_align(off.size.max(32) as usize, 16).unwrap();
    // SAFETY: nonzero size.
    let vmctx = unsafe { std::alloc::alloc_zeroed(layout) };
    if vmctx.is_null() {
        std::alloc::handle_alloc_error(layout);
    }
    let mut memories = Vec::with_capacity(info.memories.len());
    let mut tables = Vec::with_capacity(info.tables.len());
    let mut imported_globals = Vec::with_capacity(info.num_imported_globals as usize);
    let mut imported_funcs = Vec::with_capacity(info.num_imported_funcs as usize);
    let mut host_bindings = Vec::new();
    let mut tags = Vec::with_capacity(info.tags.len());
    // Put the vmctx under an owner right away so early errors free it.
    struct VmctxGuard(*mut u8, Layout);
    impl Drop for VmctxGuard {
        fn drop(&mut self) {
            if !self.0.is_null() {
                // SAFETY: allocated above with this layout and not yet handed over.
                unsafe { std::alloc::dealloc(self.0, self.1) }
            }
        }
    }
    let mut guard = VmctxGuard(vmctx, layout);
    let w = |o: u32| -> *mut u8 {
        // SAFETY: every offset from `VMOffsets` lies inside the allocation.
        unsafe { vmctx.add(o as usize) }
    };
    let mut func_i = 0u32;
    for (imp, r) in info.imports.iter().zip(imports) {
        match (&imp.ty, r) {
            (ExternType::Func(t), r) => {
                let slot = off.imported_func(func_i);
                let e = m.imports[func_i as usize];
                let type_id = m.type_ids[*t as usize];
                let f = match r {
                    Resolved::Native => {
                        imported_funcs.push(None);
                        VMFuncRef {
                            wasm_call: e.native_adapter,
                            array_call: std::ptr::null(),
                            vmctx,
                            type_id,
                            _pad: slot,
                        }
                    }
                    Resolved::Extern(Extern::Func(func)) => {
                        func.adopt_adapter(module, e.host_adapter);
                        let mut f = match func.host_func() {
                            Some(h) => {
                                let b = HostBinding::new(h.clone(), vmctx);
                                let f = b.vmfuncref(e.host_adapter, func.type_id());
                                host_bindings.push(b);
                                f
                            }
                            None => func.vmfuncref(),
                        };
                        f._pad = slot;
                        imported_funcs.push(Some(func));
                        f
                    }
                    _ => return Err(Error::Instantiation("import kind mismatch".into())),
                };
                // SAFETY: the slot is a 32-byte, 16-aligned field of the vmctx.
                unsafe { (w(slot) as *mut VMFuncRef).write(f) };
                func_i += 1;
            }
            (ExternType::Memory(_), Resolved::Extern(Extern::Memory(mem))) => {
                let i = memories.len() as u32;
                // SAFETY: pointer-sized fields of the vmctx.
                unsafe {
                    *(w(off.memory(i)) as *mut usize) = mem.vmdef() as usize;
                    *(w(off.memory_base(i)) as *mut usize) = mem.data_ptr() as usize;
                };
                memories.push(mem);
            }
            (ExternType::Table(_), Resolved::Extern(Extern::Table(t))) => {
                // SAFETY: pointer-sized field of the vmctx.
                unsafe { *(w(off.table(tables.len() as u32)) as *mut usize) = t.vmdef() as usize };
                tables.push(t);
            }
            (ExternType::Global(_), Resolved::Extern(Extern::Global(g))) => {
                let o = off.imported_global(imported_globals.len() as u32);
                // SAFETY: pointer-sized field of the vmctx.
                unsafe { *(w(o) as *mut usize) = g.storage() as usize };
                imported_globals.push(g);
            }
            (ExternType::Tag(_), Resolved::Extern(Extern::Tag(t))) => tags.push(t),
            _ => return Err(Error::Instantiation("import kind mismatch".into())),
        }
    }
    for &ty in &info.tags[info.num_imported_tags as usize..] {
        tags.push(Tag::new(info.types[ty as usize].clone()));
    }
    for (i, t) in tags.iter().enumerate() {
        // SAFETY: pointer-sized field of the vmctx.
        unsafe { *(w(off.tag(i as u32)) as *mut usize) = t.identity() };
    }
    // Defined memories get the layout the module's code was compiled for: explicit bounds
    // checks need no guard region, so their 32-bit memories reserve only their maximum.
    let mem_layout = match info.bounds_checks {
        BoundsChecks::Guard => MemoryLayout::Guarded,
        BoundsChecks::Explicit => MemoryLayout::Compact,
    };
    for ty in &info.memories[info.num_imported_memories as usize..] {
        let mem = Memory::with_layout(*ty, mem_layout)?;
        let i = memories.len() as u32;
        // SAFETY: pointer-sized fields of the vmctx.
        unsafe {
            *(w(off.memory(i)) as *mut usize) = mem.vmdef() as usize;
            *(w(off.memory_base(i)) as *mut usize) = mem.data_ptr() as usize;
        };
        memories.push(mem);
    }
    for ty in &info.tables[info.num_imported_tables as usize..] {
        let t = Table::new(*ty, crate::Val::default_for(ty.element))?;
        t.set_owner_vmctx(vmctx);
        // SAFETY: pointer-sized field of the vmctx.
        unsafe { *(w(off.table(tables.len() as u32)) as *mut usize) = t.vmdef() as usize };
        tables.push(t);
    }
    // SAFETY: the builtins table is a static array; the type ids fit the reserved array.
    unsafe {
        *(w(VMCTX_BUILTINS) as *mut usize) = libcalls::builtins_table() as usize;
        std::ptr::copy_nonoverlapping(
            m.type_ids.as_ptr(),
            w(off.type_ids) as *mut u32,
            m.type_ids.len(),
        );
    }
    for (slot, &f) in info.escaping.iter().enumerate() {
        let so = off.escaping_func(slot as u32);
        let r = if f < info.num_imported_funcs {
            // SAFETY: import slots were written above.
            let mut r = unsafe { *(w(off.imported_func(f)) as *const VMFuncRef) };
            r._pad = so;
            r
        } else {
            let e = m.funcs[(f - info.num_imported_funcs) as usize];
            VMFuncRef {
                wasm_call: e.body,
                array_call: e.array_call,
                vmctx,
                type_id: m.type_ids[info.funcs[f as usize] as usize],
                _pad: so,
            }
        };
        // SAFETY: 32-byte field of the vmctx.
        unsafe { (w(so) as *mut VMFuncRef).write(r) };
    }
    let flags = |n: usize| (0..n).map(|_| AtomicBool::new(false)).collect();
    guard.0 = std::ptr::null_mut();
    let inner = Arc::new(InstanceInner {
        module: module.clone(),
        vmctx,
        layout,
        memories,
        tables,
        imported_globals,
        imported_funcs,
        host_bindings,
        tags,
        dropped_elems: flags(info.elems.len()),
        dropped_datas: flags(info.datas.len()),
        keepalive: Mutex::new(Vec::new()),
    });
    // SAFETY: pointer-sized field of the vmctx.
    unsafe { *(w(VMCTX_INSTANCE) as *mut *const InstanceInner) = Arc::as_ptr(&inner) };
    if inner.holds_exnrefs() {
        crate::exceptions::register_holder(&inner);
    }
    let inst = Instance(inner);
    for t in &inst.0.tables[..info.num_imported_tables as usize] {
        t.keep_instance(&inst);
    }
    for g in &inst.0.imported_globals {
        g.keep_instance(&inst);
    }

    // Defined globals, in order (initialisers may read earlier globals).
    for (i, init) in info.global_inits.iter().enumerate() {
        let v = inst.eval_const(init)?;
        // SAFETY: 16-byte aligned field of the vmctx.
        unsafe { (w(off.defined_global(i as u32)) as *mut ValRaw).write(v) };
    }
    // Tables whose elements start as a constant expression.
    for (t, init) in &info.table_inits {
        let v = inst.eval_const(init)? as u64;
        let table = &inst.0.tables[*t as usize];
        table.fill_raw(0, v, table.size());
    }
    // Element segments.
    for (i, seg) in info.elems.iter().enumerate() {
        if let Some((t, offset)) = &seg.active {
            let table = &inst.0.tables[*t as usize];
            let start = inst.eval_const(offset)?;
            let start = if table.ty().table64 {
                start as u64
            } else {
                start as u32 as u64
            };
            let n = seg.items.len() as u64;
            if start.checked_add(n).is_none_or(|e| e > table.size()) {
                return Err(Trap::new(TrapKind::TableOutOfBounds).into());
            }
            for (j, item) in seg.items.iter().enumerate() {
                let v = inst.eval_const(item)? as u64;
                // SAFETY: the funcref points into this instance (kept alive by the table when
                // the table is imported) or is an externref handle.
                unsafe { table.set_raw(start + j as u64, v) };
            }
        }
        if seg.active.is_some() || seg.declared {
            inst.0.dropped_elems[i].store(true, Ordering::Relaxed);
        }
    }
    // Data segments.
    for (i, seg) in info.datas.iter().enumerate() {
        if let Some((mi, offset)) = &seg.active {
            let mem = &inst.0.memories[*mi as usize];
            let start = inst.eval_const(offset)?;
            let start = if mem.declared_type().memory64 {
                start as u64
            } else {
                start as u32 as u64
            };
            if !mem.write(start, &seg.bytes) {
                return Err(Trap::new(TrapKind::MemoryOutOfBounds).into());
            }
            inst.0.dropped_datas[i].store(true, Ordering::Relaxed);
        }
    }
    if let Some(start) = info.start {
        let (entry, callee) = if start < info.num_imported_funcs {
            // SAFETY: import slots were written above.
            let r = unsafe { *(w(off.imported_func(start)) as *const VMFuncRef) };
            (r.array_call, r.vmctx)
        } else {
            (
                m.funcs[(start - info.num_imported_funcs) as usize].array_call,
                vmctx,
            )
        };
        if entry.is_null() {
            return Err(Error::Instantiation(
                "start function has no array-call trampoline".into(),
            ));
        }
        // SAFETY: non-null array-call entries have this type.
        let entry: crate::layout::ArrayCallFn = unsafe { std::mem::transmute(entry) };
        let mut slot = [0 as ValRaw; 1];
        // SAFETY: the start function takes and returns nothing; one slot is plenty.
        unsafe { crate::traps::catch_traps(entry, callee, vmctx, slot.as_mut_ptr(), 1) }?;
    }
    Ok(inst)
}
