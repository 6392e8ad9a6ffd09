//! Host-side values ([`Val`]), their 16-byte raw form, and the process-wide interning of
//! function types into canonical ids.

use crate::func::Func;
use crate::layout::{FuncType, ValRaw, ValType};
use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

/// A WebAssembly value as the host sees it.
#[derive(Clone, Debug)]
pub enum Val {
    /// 32-bit integer.
    I32(i32),
    /// 64-bit integer.
    I64(i64),
    /// 32-bit float, as its bits.
    F32(u32),
    /// 64-bit float, as its bits.
    F64(u64),
    /// 128-bit vector.
    V128(u128),
    /// Function reference (`None` is null).
    FuncRef(Option<Func>),
    /// External reference, an opaque host number (`None` is null).
    ExternRef(Option<u64>),
    /// Exception reference (`None` is null).
    ExnRef(Option<crate::exceptions::ExnRef>),
}

impl PartialEq for Val {
    fn eq(&self, other: &Val) -> bool {
        match (self, other) {
            (Val::I32(a), Val::I32(b)) => a == b,
            (Val::I64(a), Val::I64(b)) => a == b,
            (Val::F32(a), Val::F32(b)) => a == b,
            (Val::F64(a), Val::F64(b)) => a == b,
            (Val::V128(a), Val::V128(b)) => a == b,
            (Val::FuncRef(a), Val::FuncRef(b)) => {
                a.as_ref().map(|f| f.raw()) == b.as_ref().map(|f| f.raw())
            }
            (Val::ExternRef(a), Val::ExternRef(b)) => a == b,
            (Val::ExnRef(a), Val::ExnRef(b)) => a == b,
            _ => false,
        }
    }
}

impl Val {
    /// The value's type.
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
            Val::FuncRef(_) => ValType::FuncRef,
            Val::ExternRef(_) => ValType::ExternRef,
            Val::ExnRef(_) => ValType::ExnRef,
        }
    }

    /// The default (zero or null) value of a type.
    pub fn default_for(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(0),
            ValType::FuncRef => Val::FuncRef(None),
            ValType::ExternRef => Val::ExternRef(None),
            ValType::ExnRef => Val::ExnRef(None),
        }
    }

    /// Encodes the value into one array-call slot.
    pub fn to_raw(&self) -> ValRaw {
        match self {
            Val::I32(x) => *x as u32 as ValRaw,
            Val::I64(x) => *x as u64 as ValRaw,
            Val::F32(x) => *x as ValRaw,
            Val::F64(x) => *x as ValRaw,
            Val::V128(x) => *x,
            Val::FuncRef(f) => f.as_ref().map_or(0, |f| f.raw() as u64) as ValRaw,
            Val::ExternRef(e) => extern_to_raw(*e) as ValRaw,
            // Wasm may keep it anywhere, so the object stays alive from now on.
            Val::ExnRef(e) => e.as_ref().map_or(0, |e| e.raw_pinned()) as ValRaw,
        }
    }

    /// Decodes a slot of type `ty`.
    ///
    /// # Safety
    /// A funcref slot must be null or point to a live [`crate::layout::VMFuncRef`] created by
    /// this runtime, an exnref slot null or a live exception object.
    pub unsafe fn from_raw(raw: ValRaw, ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(raw as u32 as i32),
            ValType::I64 => Val::I64(raw as u64 as i64),
            ValType::F32 => Val::F32(raw as u32),
            ValType::F64 => Val::F64(raw as u64),
            ValType::V128 => Val::V128(raw),
            // SAFETY: forwarded from the caller's contract.
            ValType::FuncRef => Val::FuncRef(unsafe { Func::from_raw(raw as u64 as usize) }),
            ValType::ExternRef => Val::ExternRef(extern_from_raw(raw as u64)),
            // SAFETY: forwarded from the caller's contract.
            ValType::ExnRef => {
                Val::ExnRef(unsafe { crate::exceptions::ExnRef::from_raw(raw as u64 as usize) })
            }
        }
    }

    /// The i32, if this is one.
    pub fn i32(&self) -> Option<i32> {
        match self {
            Val::I32(x) => Some(*x),
            _ => None,
        }
    }

    /// The i64, if this is one.
    pub fn i64(&self) -> Option<i64> {
        match self {
            Val::I64(x) => Some(*x),
            _ => None,
        }
    }
}

/// Maps a host externref to its raw handle (`Some(n)` → `n + 1`, null → 0).
pub fn extern_to_raw(e: Option<u64>) -> u64 {
    e.map_or(0, |n| n.wrapping_add(1))
}

/// Maps a raw externref handle back to the host view.
pub fn extern_from_raw(raw: u64) -> Option<u64> {
    if raw == 0 {
        None
    } else {
        Some(raw - 1)
    }
}

struct TypeRegistry {
    ids: HashMap<FuncType, u32>,
    types: Vec<FuncType>,
}

fn registry() -> &'static RwLock<TypeRegistry> {
    static REG: OnceLock<RwLock<TypeRegistry>> = OnceLock::new();
    REG.get_or_init(|| {
        RwLock::new(TypeRegistry {
            ids: HashMap::new(),
            types: Vec::new(),
        })
    })
}

/// Returns the process-wide canonical id of a function type (equal types, equal ids).
pub fn intern_func_type(ty: &FuncType) -> u32 {
    if let Some(id) = registry().read().unwrap().ids.get(ty) {
        return *id;
    }
    let mut reg = registry().write().unwrap();
    if let Some(id) = reg.ids.get(ty) {
        return *id;
    }
    // Id 0 is never handed out so that a zeroed funcref never matches a real type.
    let id = reg.types.len() as u32 + 1;
    reg.types.push(ty.clone());
    reg.ids.insert(ty.clone(), id);
    id
}

/// The function type behind a canonical id.
pub fn func_type_of(id: u32) -> Option<FuncType> {
    let reg = registry().read().unwrap();
    reg.types.get((id as usize).checked_sub(1)?).cloned()
}
