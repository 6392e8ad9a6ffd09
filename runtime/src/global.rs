//! Globals: 16-byte storage cells, either inline in an instance's vmctx or owned by the host.

use crate::error::Error;
use crate::func::Func;
use crate::instance::Instance;
use crate::layout::{GlobalType, ValRaw, ValType};
use crate::values::Val;
use std::cell::UnsafeCell;
use std::sync::{Arc, Mutex};

#[repr(C, align(16))]
struct Storage(UnsafeCell<[u8; 16]>);

struct HostGlobal {
    storage: Storage,
    /// Owners of funcrefs stored here, and instances importing this global.
    keepalive: Mutex<Vec<Owner>>,
}

#[derive(Clone)]
#[allow(dead_code)]
enum Owner {
    Func(Func),
    Instance(Instance),
}

#[derive(Clone)]
enum GlobalOwner {
    Instance(Instance),
    Host(Arc<HostGlobal>),
}

/// A global variable. Cloning is cheap; all clones refer to the same storage.
#[derive(Clone)]
pub struct Global {
    ptr: *mut u8,
    ty: GlobalType,
    owner: GlobalOwner,
}

// SAFETY: the storage lives as long as `owner`; accesses are 16-byte plain loads/stores as in
// compiled code (Wasm globals are not atomic).
unsafe impl Send for Global {}
// SAFETY: see above.
unsafe impl Sync for Global {}
// SAFETY: see above.
unsafe impl Send for HostGlobal {}
// SAFETY: see above.
unsafe impl Sync for HostGlobal {}

impl std::fmt::Debug for Global {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Global({:?}, {:?})", self.ty, self.get())
    }
}

impl Global {
    /// Creates a host global with an initial value.
    pub fn new(ty: GlobalType, init: Val) -> Result<Global, Error> {
        if init.ty() != ty.content {
            return Err(Error::Type(format!(
                "global of type {:?} initialised with {:?}",
                ty.content,
                init.ty()
            )));
        }
        let hg = Arc::new(HostGlobal {
            storage: Storage(UnsafeCell::new([0; 16])),
            keepalive: Mutex::new(Vec::new()),
        });
        let g = Global {
            ptr: hg.storage.0.get().cast(),
            ty,
            owner: GlobalOwner::Host(hg),
        };
        g.store(&init);
        Ok(g)
    }

    /// A defined global of an instance, stored inline in its vmctx.
    pub(crate) fn from_instance(instance: Instance, ptr: *mut u8, ty: GlobalType) -> Global {
        Global {
            ptr,
            ty,
            owner: GlobalOwner::Instance(instance),
        }
    }

    /// The global's type.
    pub fn ty(&self) -> GlobalType {
        self.ty
    }

    /// Address of the 16-byte storage compiled code uses.
    pub fn storage(&self) -> *mut u8 {
        self.ptr
    }

    /// Raw contents.
    pub fn get_raw(&self) -> ValRaw {
        // SAFETY: the storage is 16 aligned and alive as long as `self`.
        unsafe { (self.ptr as *const ValRaw).read() }
    }

    /// Current value.
    pub fn get(&self) -> Val {
        // SAFETY: the storage holds a value of the global's type.
        unsafe { Val::from_raw(self.get_raw(), self.ty.content) }
    }

    /// Sets the value (mutable globals only, matching type).
    pub fn set(&self, v: Val) -> Result<(), Error> {
        if !self.ty.mutable {
            return Err(Error::Type("cannot set an immutable global".into()));
        }
        if v.ty() != self.ty.content {
            return Err(Error::Type(format!(
                "global of type {:?} set to {:?}",
                self.ty.content,
                v.ty()
            )));
        }
        self.store(&v);
        Ok(())
    }

    fn store(&self, v: &Val) {
        if let Val::FuncRef(Some(f)) = v {
            match &self.owner {
                GlobalOwner::Host(h) => h.keepalive.lock().unwrap().push(Owner::Func(f.clone())),
                GlobalOwner::Instance(i) => i.keep_func(f),
            }
        }
        // SAFETY: as for `get_raw`.
        unsafe { (self.ptr as *mut ValRaw).write(v.to_raw()) }
    }

    /// Keeps an importing instance alive when it may store its funcrefs here.
    pub(crate) fn keep_instance(&self, inst: &Instance) {
        if self.ty.mutable && self.ty.content == ValType::FuncRef {
            match &self.owner {
                GlobalOwner::Host(h) => h
                    .keepalive
                    .lock()
                    .unwrap()
                    .push(Owner::Instance(inst.clone())),
                GlobalOwner::Instance(owner) => owner.keep_instance(inst),
            }
        }
    }

    /// Whether two handles refer to the same storage.
    pub fn ptr_eq(&self, other: &Global) -> bool {
        self.ptr == other.ptr
    }
}
