//! Tables of function or external references. Elements are 8-byte raw values (funcref
//! pointers or externref handles, 0 = null) that compiled code reads through [`VMTableDef`].

use crate::func::Func;
use crate::layout::{TableType, VMTableDef, ValType};
use crate::values::{extern_from_raw, extern_to_raw, Val};
use std::cell::UnsafeCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A table could not be created or used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    /// Invalid limits or element type.
    #[error("invalid table type: {0}")]
    Type(String),
    /// The initial size exceeds the limit in force.
    #[error("cannot allocate table of {0} elements")]
    Allocation(u64),
    /// A value of the wrong type.
    #[error("value of type {0:?} does not fit a table of {1:?}")]
    ValueType(ValType, ValType),
    /// Index out of bounds.
    #[error("out of bounds table access")]
    OutOfBounds,
    /// A host function that no module has imported cannot be stored.
    #[error("a host function must be imported by a module before it can be stored in a table")]
    HostFuncWithoutAdapter,
}

struct TableInner {
    def: UnsafeCell<VMTableDef>,
    elems: UnsafeCell<Vec<u64>>,
    ty: TableType,
    max: u64,
    lock: Mutex<()>,
    /// vmctx of the instance that defines this table (0 for host tables); funcs owned by it
    /// are not kept alive through the table (that would be a cycle).
    owner_vmctx: AtomicUsize,
    /// Owners of funcrefs stored from the host, and instances that import this table.
    keepalive: Mutex<HashMap<usize, KeepAlive>>,
}

#[derive(Clone)]
#[allow(dead_code)]
pub(crate) enum KeepAlive {
    Func(Func),
    Instance(crate::Instance),
}

// SAFETY: structural changes (growth) happen under `lock`; element reads/writes are plain
// 8-byte accesses like compiled code's. Tables are not meant for unsynchronised concurrent
// growth and access from several threads (documented on `Table`).
unsafe impl Send for TableInner {}
// SAFETY: see above.
unsafe impl Sync for TableInner {}

/// A table. Growing may move its element array; compiled code always reloads the base.
/// Growing a table while another thread runs Wasm code that uses it is not supported.
#[derive(Clone)]
pub struct Table(Arc<TableInner>);

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Table({:?}, size {})", self.0.ty, self.size())
    }
}

fn elem_raw(ty: ValType, v: &Val) -> Result<u64, TableError> {
    match (ty, v) {
        (ValType::FuncRef, Val::FuncRef(None)) => Ok(0),
        (ValType::FuncRef, Val::FuncRef(Some(f))) => {
            if f.callable_from_wasm() {
                Ok(f.raw() as u64)
            } else {
                Err(TableError::HostFuncWithoutAdapter)
            }
        }
        (ValType::ExternRef, Val::ExternRef(e)) => Ok(extern_to_raw(*e)),
        (ValType::ExnRef, Val::ExnRef(e)) => Ok(e.as_ref().map_or(0, |e| e.raw_pinned() as u64)),
        _ => Err(TableError::ValueType(v.ty(), ty)),
    }
}

impl Table {
    /// Creates a table of `ty.initial` elements, all set to `init`.
    pub fn new(ty: TableType, init: Val) -> Result<Table, TableError> {
        if !matches!(
            ty.element,
            ValType::FuncRef | ValType::ExternRef | ValType::ExnRef
        ) {
            return Err(TableError::Type(format!("element type {:?}", ty.element)));
        }
        if ty.maximum.is_some_and(|m| m < ty.initial) {
            return Err(TableError::Type("maximum is less than initial".into()));
        }
        let limit = crate::memory::limits().max_table_elements;
        let index_max = if ty.table64 {
            u64::MAX
        } else {
            u32::MAX as u64
        };
        let max = ty.maximum.unwrap_or(index_max).min(limit);
        if ty.initial > max {
            return Err(TableError::Allocation(ty.initial));
        }
        let raw = elem_raw(ty.element, &init)?;
        let mut elems = vec![raw; ty.initial as usize];
        let def = VMTableDef {
            base: elems.as_mut_ptr(),
            length: ty.initial,
        };
        let t = Table(Arc::new(TableInner {
            def: UnsafeCell::new(def),
            elems: UnsafeCell::new(elems),
            ty,
            max,
            lock: Mutex::new(()),
            owner_vmctx: AtomicUsize::new(0),
            keepalive: Mutex::new(HashMap::new()),
        }));
        t.keep(&init);
        Ok(t)
    }

    fn keep(&self, v: &Val) {
        if let Val::FuncRef(Some(f)) = v {
            let key = f.owner_key();
            if key != self.0.owner_vmctx.load(Ordering::Relaxed) {
                self.0
                    .keepalive
                    .lock()
                    .unwrap()
                    .entry(key)
                    .or_insert_with(|| KeepAlive::Func(f.clone()));
            }
        }
    }

    /// Keeps `inst` alive as long as this table (used for instances importing it).
    pub(crate) fn keep_instance(&self, inst: &crate::Instance) {
        let key = inst.vmctx() as usize;
        if key != self.0.owner_vmctx.load(Ordering::Relaxed) {
            self.0
                .keepalive
                .lock()
                .unwrap()
                .entry(key)
                .or_insert_with(|| KeepAlive::Instance(inst.clone()));
        }
    }

    pub(crate) fn set_owner_vmctx(&self, vmctx: *mut u8) {
        self.0.owner_vmctx.store(vmctx as usize, Ordering::Relaxed);
    }

    /// The table's type (with the current size as `initial`).
    pub fn ty(&self) -> TableType {
        TableType {
            initial: self.size(),
            ..self.0.ty
        }
    }

    /// Element type.
    pub fn element(&self) -> ValType {
        self.0.ty.element
    }

    /// Current number of elements.
    pub fn size(&self) -> u64 {
        // SAFETY: `length` is only written under `lock` by `grow`.
        unsafe { (*self.0.def.get()).length }
    }

    /// Largest size this table may reach.
    pub fn max_size(&self) -> u64 {
        self.0.max
    }

    /// Raw element `index`.
    pub fn get_raw(&self, index: u64) -> Option<u64> {
        if index >= self.size() {
            return None;
        }
        // SAFETY: bounds checked; `base` points at `length` elements.
        Some(unsafe { *(*self.0.def.get()).base.add(index as usize) })
    }

    /// Writes raw element `index`; `false` when out of bounds.
    ///
    /// # Safety
    /// A funcref value must point to a funcref that outlives its presence in the table.
    pub unsafe fn set_raw(&self, index: u64, raw: u64) -> bool {
        if index >= self.size() {
            return false;
        }
        // SAFETY: bounds checked.
        unsafe { *(*self.0.def.get()).base.add(index as usize) = raw };
        true
    }

    /// Element `index` as a value.
    pub fn get(&self, index: u64) -> Option<Val> {
        let raw = self.get_raw(index)?;
        Some(match self.0.ty.element {
            // SAFETY: funcref elements are null or live funcrefs.
            ValType::FuncRef => Val::FuncRef(unsafe { Func::from_raw(raw as usize) }),
            // SAFETY: exnref elements are null or exception objects compiled code stored,
            // owned by a live instance.
            ValType::ExnRef => {
                Val::ExnRef(unsafe { crate::exceptions::ExnRef::from_raw(raw as usize) })
            }
            _ => Val::ExternRef(extern_from_raw(raw)),
        })
    }

    /// Sets element `index`.
    pub fn set(&self, index: u64, v: Val) -> Result<(), TableError> {
        let raw = elem_raw(self.0.ty.element, &v)?;
        if index >= self.size() {
            return Err(TableError::OutOfBounds);
        }
        self.keep(&v);
        // SAFETY: the owner of the funcref is kept alive by `keep`.
        unsafe { self.set_raw(index, raw) };
        Ok(())
    }

    /// Grows by `delta` elements set to `init`; returns the old size.
    pub fn grow(&self, delta: u64, init: Val) -> Result<u64, TableError> {
        let raw = elem_raw(self.0.ty.element, &init)?;
        let old = self
            .grow_raw(delta, raw)
            .ok_or(TableError::Allocation(delta))?;
        self.keep(&init);
        Ok(old)
    }

    /// Grows with a raw initial value; `None` (nothing changed) when refused.
    pub(crate) fn grow_raw(&self, delta: u64, raw: u64) -> Option<u64> {
        let _g = self.0.lock.lock().unwrap_or_else(|e| e.into_inner());
        let old = self.size();
        let new = old.checked_add(delta).filter(|n| *n <= self.0.max)?;
        if delta == 0 {
            return Some(old);
        }
        // SAFETY: growth is serialised by `lock`; `def` is updated to the (possibly moved)
        // element array before anyone can observe the new length.
        unsafe {
            let elems = &mut *self.0.elems.get();
            elems.try_reserve(delta as usize).ok()?;
            elems.resize(new as usize, raw);
            let def = &mut *self.0.def.get();
            def.base = elems.as_mut_ptr();
            def.length = new;
        }
        Some(old)
    }

    /// Fills `[dst, dst+len)` with a raw value; `false` when out of bounds.
    pub(crate) fn fill_raw(&self, dst: u64, raw: u64, len: u64) -> bool {
        if dst.checked_add(len).is_none_or(|e| e > self.size()) {
            return false;
        }
        // SAFETY: bounds checked.
        unsafe {
            let base = (*self.0.def.get()).base.add(dst as usize);
            std::slice::from_raw_parts_mut(base, len as usize).fill(raw);
        }
        true
    }

    /// The definition compiled code reads (stable address for the table's life).
    pub fn vmdef(&self) -> *mut VMTableDef {
        self.0.def.get()
    }

    /// Whether two handles refer to the same table.
    pub fn ptr_eq(&self, other: &Table) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// Copies `len` elements between (possibly identical) tables; `false` when out of bounds.
pub(crate) fn copy_elems(dst_t: &Table, src_t: &Table, dst: u64, src: u64, len: u64) -> bool {
    if dst.checked_add(len).is_none_or(|e| e > dst_t.size())
        || src.checked_add(len).is_none_or(|e| e > src_t.size())
    {
        return false;
    }
    // SAFETY: both ranges are in bounds; `copy` handles overlap.
    unsafe {
        std::ptr::copy(
            (*src_t.0.def.get()).base.add(src as usize),
            (*dst_t.0.def.get()).base.add(dst as usize),
            len as usize,
        )
    };
    true
}
