//! Name-based import resolution: a [`Linker`] maps `module::name` to externs, type-checks
//! them against a module's imports and instantiates.

use crate::error::Error;
use crate::instance::{self, Instance, Resolved};
use crate::layout::{BoundsChecks, ExternType, Import};
use crate::memory::MemoryLayout;
use crate::module::Module;
use crate::Extern;
use std::collections::HashMap;
use std::sync::OnceLock;

/// A hook that defines WASI functions in a linker (installed by the WASI implementation).
pub type WasiHook = fn(&mut Linker, &Module) -> Result<(), Error>;

static WASI_HOOK: OnceLock<WasiHook> = OnceLock::new();

/// Installs the function the C API uses to provide `wasi_snapshot_preview1` imports.
pub fn set_wasi_hook(hook: WasiHook) -> bool {
    WASI_HOOK.set(hook).is_ok()
}

/// The installed WASI hook, if any.
pub fn wasi_hook() -> Option<WasiHook> {
    WASI_HOOK.get().copied()
}

/// Definitions by `(module, name)`.
#[derive(Clone, Default)]
pub struct Linker {
    defs: HashMap<(String, String), Extern>,
    allow_native: bool,
}

impl Linker {
    /// An empty linker that also accepts native C symbols for undefined function imports.
    pub fn new() -> Linker {
        Linker {
            defs: HashMap::new(),
            allow_native: true,
        }
    }

    /// Whether undefined function imports may fall back to statically linked native symbols.
    pub fn allow_native_symbols(&mut self, allow: bool) -> &mut Self {
        self.allow_native = allow;
        self
    }

    /// Defines (or replaces) `module::name`.
    pub fn define(&mut self, module: &str, name: &str, ext: impl Into<Extern>) -> &mut Self {
        self.defs
            .insert((module.to_string(), name.to_string()), ext.into());
        self
    }

    /// Defines every export of `instance` under module name `name`.
    pub fn instance(&mut self, name: &str, instance: &Instance) -> &mut Self {
        for (n, e) in instance.exports() {
            self.define(name, &n, e);
        }
        self
    }

    /// The definition of `module::name`.
    pub fn get(&self, module: &str, name: &str) -> Option<&Extern> {
        self.defs.get(&(module.to_string(), name.to_string()))
    }

    /// Resolves and type-checks `module`'s imports, then instantiates it.
    pub fn instantiate(&self, module: &Module) -> Result<Instance, Error> {
        let info = module.info();
        let mut resolved = Vec::with_capacity(info.imports.len());
        let mut func_i = 0usize;
        for imp in &info.imports {
            let is_func = matches!(imp.ty, ExternType::Func(_));
            let r = match self.defs.get(&(imp.module.clone(), imp.name.clone())) {
                Some(e) => {
                    check_import(module, imp, e).map_err(|why| {
                        Error::Link(format!(
                            "incompatible import type for `{}::{}`: {why}",
                            imp.module, imp.name
                        ))
                    })?;
                    Resolved::Extern(e.clone())
                }
                None if is_func
                    && self.allow_native
                    && !module.0.imports[func_i].native_symbol.is_null() =>
                {
                    Resolved::Native
                }
                None => {
                    return Err(Error::Link(format!(
                        "unknown import: `{}::{}` has not been defined",
                        imp.module, imp.name
                    )))
                }
            };
            if is_func {
                func_i += 1;
            }
            resolved.push(r);
        }
        instance::instantiate(module, resolved)
    }
}

/// Checks that `ext` can satisfy `imp` (import subtyping); the error says why not.
pub fn check_import(module: &Module, imp: &Import, ext: &Extern) -> Result<(), String> {
    match (&imp.ty, ext) {
        (ExternType::Func(t), Extern::Func(f)) => {
            if f.type_id() == module.type_id(*t) {
                Ok(())
            } else {
                Err(format!(
                    "expected function {:?}, found {:?}",
                    module.info().types[*t as usize],
                    f.ty()
                ))
            }
        }
        (ExternType::Memory(want), Extern::Memory(m)) => {
            let have = m.ty();
            let declared_max = m.declared_type().maximum;
            if want.memory64 != have.memory64 {
                return Err("index type mismatch (memory64)".into());
            }
            if want.shared != have.shared {
                return Err("shared flag mismatch".into());
            }
            if !want.memory64
                && module.info().bounds_checks == BoundsChecks::Guard
                && m.layout() != MemoryLayout::Guarded
            {
                return Err(
                    "the memory has no guard region (it was made for code compiled \
                     with --bounds-checks explicit), but this module was compiled with \
                     --bounds-checks guard and needs a 4 GiB reservation plus guard"
                        .into(),
                );
            }
            limits_ok(want.initial, want.maximum, have.initial, declared_max)
        }
        (ExternType::Table(want), Extern::Table(t)) => {
            let have = t.ty();
            if want.element != have.element {
                return Err(format!(
                    "element type mismatch: expected {:?}, found {:?}",
                    want.element, have.element
                ));
            }
            if want.table64 != have.table64 {
                return Err("index type mismatch (table64)".into());
            }
            limits_ok(want.initial, want.maximum, have.initial, have.maximum)
        }
        (ExternType::Global(want), Extern::Global(g)) => {
            let have = g.ty();
            if want.mutable != have.mutable {
                return Err("global mutability mismatch".into());
            }
            if want.content != have.content {
                return Err(format!(
                    "global type mismatch: expected {:?}, found {:?}",
                    want.content, have.content
                ));
            }
            Ok(())
        }
        (ExternType::Tag(want), Extern::Tag(t)) => {
            let want = &module.info().types[*want as usize];
            if want == t.ty() {
                Ok(())
            } else {
                Err(format!("expected tag {want:?}, found {:?}", t.ty()))
            }
        }
        (want, have) => Err(format!(
            "expected {}, found {}",
            kind_name(want),
            have.kind_name()
        )),
    }
}

fn limits_ok(
    want_min: u64,
    want_max: Option<u64>,
    have_min: u64,
    have_max: Option<u64>,
) -> Result<(), String> {
    if have_min < want_min {
        return Err(format!(
            "limits mismatch: minimum {want_min} required, {have_min} provided"
        ));
    }
    if let Some(wm) = want_max {
        match have_max {
            None => {
                return Err(format!(
                    "limits mismatch: maximum {wm} required, none provided"
                ))
            }
            Some(hm) if hm > wm => {
                return Err(format!(
                    "limits mismatch: maximum {wm} required, {hm} provided"
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

fn kind_name(t: &ExternType) -> &'static str {
    match t {
        ExternType::Func(_) => "function",
        ExternType::Table(_) => "table",
        ExternType::Memory(_) => "memory",
        ExternType::Global(_) => "global",
        ExternType::Tag(_) => "tag",
    }
}
