//! wasmaot runtime: instances, linear memory, traps and WASI for objects compiled by
//! the `wasmaot` compiler. Builds as an rlib (Rust API) and as `libwasmaot_runtime.a` (C API).
//!
//! Typical use: [`Module::from_object_bytes`] → [`Linker::instantiate`] →
//! [`Instance::get_func`] → [`Func::call`], with traps reported as [`Error::Trap`].

pub mod capi;
pub mod command;
pub mod cpu;
pub mod error;
pub mod exceptions;
pub mod func;
pub mod global;
pub mod instance;
pub mod layout;
pub mod libcalls;
pub mod linker;
pub mod loader;
pub mod memory;
pub mod mmap;
pub mod module;
pub mod table;
pub mod tag;
pub mod traps;
pub mod values;
pub mod wasi;
pub mod wasi_link;

pub use error::{Error, Trap};
pub use exceptions::{Exception, ExnRef};
pub use func::{Caller, Func};
pub use global::Global;
pub use instance::Instance;
pub use layout::{FuncType, GlobalType, MemoryType, TableType, TrapKind, ValRaw, ValType};
pub use linker::Linker;
pub use memory::{Limits, Memory, MemoryError};
pub use module::Module;
pub use table::{Table, TableError};
pub use tag::Tag;
pub use values::Val;

/// Anything that can be imported or exported.
#[derive(Clone, Debug)]
pub enum Extern {
    /// A function.
    Func(Func),
    /// A table.
    Table(Table),
    /// A linear memory.
    Memory(Memory),
    /// A global.
    Global(Global),
    /// An exception tag.
    Tag(Tag),
}

impl Extern {
    /// "function", "table", "memory", "global" or "tag".
    pub fn kind_name(&self) -> &'static str {
        match self {
            Extern::Func(_) => "function",
            Extern::Table(_) => "table",
            Extern::Memory(_) => "memory",
            Extern::Global(_) => "global",
            Extern::Tag(_) => "tag",
        }
    }
}

impl From<Func> for Extern {
    fn from(f: Func) -> Extern {
        Extern::Func(f)
    }
}
impl From<Table> for Extern {
    fn from(t: Table) -> Extern {
        Extern::Table(t)
    }
}
impl From<Memory> for Extern {
    fn from(m: Memory) -> Extern {
        Extern::Memory(m)
    }
}
impl From<Tag> for Extern {
    fn from(t: Tag) -> Extern {
        Extern::Tag(t)
    }
}
impl From<Global> for Extern {
    fn from(g: Global) -> Extern {
        Extern::Global(g)
    }
}
