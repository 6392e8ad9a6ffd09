//! The contract between compiled objects and the runtime: the instance context (`VMContext`)
//! layout, the module descriptor every object exports, the array-call convention, the builtin
//! function table and trap kinds.
//!
//! The compiler depends on this module so that every offset is defined exactly once. See
//! `docs/ABI.md` for the prose version of the same contract.

use serde::{Deserialize, Serialize};

/// Magic bytes at the start of every module descriptor.
pub const DESCRIPTOR_MAGIC: [u8; 8] = *b"WASMAOT\0";
/// Version of this contract; the runtime refuses descriptors with another version.
pub const ABI_VERSION: u32 = 3;
/// Size of one Wasm page.
pub const WASM_PAGE_SIZE: u64 = 65536;
/// Suffix of the root descriptor symbol: `<name>` + this.
pub const DESCRIPTOR_SYMBOL_SUFFIX: &str = "_wasmaot_module";

/// Root data symbol of a compiled module (`<name>_wasmaot_module`).
///
/// All pointers are filled in by relocations, so the descriptor is usable both from a statically
/// linked executable and from an object loaded in-process by [`crate::loader`].
#[repr(C)]
pub struct ModuleDescriptor {
    /// Always [`DESCRIPTOR_MAGIC`].
    pub magic: [u8; 8],
    /// Always [`ABI_VERSION`].
    pub abi_version: u32,
    /// Number of entries in `funcs` (defined functions only).
    pub num_defined_funcs: u32,
    /// Serialized [`ModuleInfo`] (postcard).
    pub info: *const u8,
    /// Length of `info` in bytes.
    pub info_len: u64,
    /// One entry per defined function, in function-index order.
    pub funcs: *const FuncEntry,
    /// One entry per imported function, in import order.
    pub imports: *const ImportEntry,
    /// First byte of the module's code (all bodies, trampolines and adapters lie in
    /// `code_start..code_end`); the signal handler uses the range to recognise Wasm code.
    pub code_start: *const u8,
    /// One past the last byte of the module's code.
    pub code_end: *const u8,
}

// SAFETY: the descriptor is immutable data emitted by the compiler.
unsafe impl Sync for ModuleDescriptor {}

/// Code addresses of one defined function.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct FuncEntry {
    /// The function body (`CallConv::Tail`, see [`ModuleInfo`] docs for the signature).
    pub body: *const u8,
    /// Its array-call trampoline, or null when the function cannot escape to the host.
    pub array_call: *const u8,
}

/// Code addresses generated for one imported function.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ImportEntry {
    /// Wasm-convention adapter that calls a host function through the array convention:
    /// `adapter(host_ctx, params...)` spills the params and calls
    /// `(*(host_ctx as *const ArrayCallFn))(host_ctx, null, values, len)`.
    pub host_adapter: *const u8,
    /// Address of the native C symbol that implements this import when the program linked one
    /// (a weak reference: null when absent).
    pub native_symbol: *const u8,
    /// Wasm-convention adapter calling `native_symbol` with the C calling convention:
    /// `native(caller_instance_handle, params...) -> result`.
    pub native_adapter: *const u8,
}

/// One 16-byte slot of the array-call convention: parameters in, results out.
pub type ValRaw = u128;

/// The array-call convention (C ABI): `f(callee_vmctx, caller_vmctx, values, values_len)`;
/// `caller_vmctx` is null when the host calls.
/// Parameters are read from `values[0..]` and results written back to `values[0..]`.
pub type ArrayCallFn = unsafe extern "C" fn(*mut u8, *mut u8, *mut ValRaw, usize);

/// A function reference as compiled code sees it. Funcref values and table elements are
/// pointers to one of these (null is `ref.null func`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VMFuncRef {
    /// Wasm-convention entry: `f(vmctx, params...) -> results`, passed this funcref's `vmctx`.
    pub wasm_call: *const u8,
    /// Array-convention entry, see [`ArrayCallFn`].
    pub array_call: *const u8,
    /// The first argument to pass to either entry.
    pub vmctx: *mut u8,
    /// Canonical (process-wide) signature id.
    pub type_id: u32,
    /// Runtime-private tag (pads to 32 bytes): 0 in a host function's own funcref, else the
    /// slot's byte offset in its owning vmctx. Compiled code never reads or writes it.
    pub _pad: u32,
}

/// Byte offsets inside [`VMFuncRef`].
pub mod funcref {
    /// Offset of `wasm_call`.
    pub const WASM_CALL: u32 = 0;
    /// Offset of `array_call`.
    pub const ARRAY_CALL: u32 = 8;
    /// Offset of `vmctx`.
    pub const VMCTX: u32 = 16;
    /// Offset of `type_id`.
    pub const TYPE_ID: u32 = 24;
    /// Size of the structure.
    pub const SIZE: u32 = 32;
}

/// The runtime's description of one linear memory, pointed to from every instance that uses it.
/// `base` never changes for the life of the memory; `length` changes on growth.
#[repr(C)]
#[derive(Debug)]
pub struct VMMemoryDef {
    /// Start of the linear memory.
    pub base: *mut u8,
    /// Current size in bytes.
    pub length: u64,
}

/// Byte offsets inside [`VMMemoryDef`].
pub mod memdef {
    /// Offset of `base`.
    pub const BASE: u32 = 0;
    /// Offset of `length`.
    pub const LENGTH: u32 = 8;
}

/// The runtime's description of one table. Elements are 8 bytes: a `*const VMFuncRef` for
/// funcref tables, an extern handle for externref tables (0 is null in both).
#[repr(C)]
#[derive(Debug)]
pub struct VMTableDef {
    /// Start of the element array (may move when the table grows).
    pub base: *mut u64,
    /// Current number of elements.
    pub length: u64,
}

/// Byte offsets inside [`VMTableDef`].
pub mod tabledef {
    /// Offset of `base`.
    pub const BASE: u32 = 0;
    /// Offset of `length`.
    pub const LENGTH: u32 = 8;
}

/// Size of the storage of one global (large enough for a v128).
pub const GLOBAL_SIZE: u32 = 16;

/// Counts that determine an instance context's layout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VMCounts {
    /// Memories, imported and defined.
    pub memories: u32,
    /// Tables, imported and defined.
    pub tables: u32,
    /// Imported globals.
    pub imported_globals: u32,
    /// Defined globals.
    pub defined_globals: u32,
    /// Imported functions.
    pub imported_funcs: u32,
    /// Defined functions that can escape (exported, in an element segment, or `ref.func`'d).
    pub escaping_funcs: u32,
    /// Function types in the module's type section.
    pub types: u32,
    /// Exception tags, imported and defined.
    pub tags: u32,
}

/// Offsets of every field of an instance context (`VMContext`), derived from [`VMCounts`].
///
/// ```text
///   0  builtins: *const Builtins      table of runtime entry points
///   8  instance: *const ()            the runtime's instance (private)
///  16  handle:   *mut ()              the embedder-visible instance handle
///  24  reserved
///  32  memories:          [*mut VMMemoryDef; memories]
///      memory_bases:      [*mut u8; memories]          (copies of the never-moving bases)
///      tables:            [*mut VMTableDef; tables]
///      imported_globals:  [*mut [u8; 16]; imported_globals]
///      (align 16) defined_globals: [[u8; 16]; defined_globals]
///      imported_funcs:    [VMFuncRef; imported_funcs]
///      escaping_funcs:    [VMFuncRef; escaping_funcs]
///      type_ids:          [u32; types]
///      (align 8) tags:    [*const (); tags]             (identity of each tag)
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VMOffsets {
    /// The counts this layout was made from.
    pub counts: VMCounts,
    /// Start of the memory pointer array.
    pub memories: u32,
    /// Start of the memory base array: a copy of each memory's base, which never moves, so
    /// compiled code reaches linear memory with one load from the vmctx.
    pub memory_bases: u32,
    /// Start of the table pointer array.
    pub tables: u32,
    /// Start of the imported global pointer array.
    pub imported_globals: u32,
    /// Start of the defined global storage.
    pub defined_globals: u32,
    /// Start of the imported function references.
    pub imported_funcs: u32,
    /// Start of the escaping defined function references.
    pub escaping_funcs: u32,
    /// Start of the canonical type id array.
    pub type_ids: u32,
    /// Start of the tag identity array: one pointer per tag, equal for two tags exactly when
    /// they are the same tag (an imported tag holds its exporter's pointer).
    pub tags: u32,
    /// Total size in bytes (multiple of 16).
    pub size: u32,
}

/// Offset of the builtins table pointer.
pub const VMCTX_BUILTINS: u32 = 0;
/// Offset of the runtime's private instance pointer.
pub const VMCTX_INSTANCE: u32 = 8;
/// Offset of the embedder-visible instance handle.
pub const VMCTX_HANDLE: u32 = 16;

impl VMOffsets {
    /// Computes the layout for the given counts.
    pub fn new(counts: VMCounts) -> Self {
        let memories = 32;
        let memory_bases = memories + 8 * counts.memories;
        let tables = memory_bases + 8 * counts.memories;
        let imported_globals = tables + 8 * counts.tables;
        let defined_globals = align16(imported_globals + 8 * counts.imported_globals);
        let imported_funcs = defined_globals + GLOBAL_SIZE * counts.defined_globals;
        let escaping_funcs = imported_funcs + funcref::SIZE * counts.imported_funcs;
        let type_ids = escaping_funcs + funcref::SIZE * counts.escaping_funcs;
        let tags = (type_ids + 4 * counts.types + 7) & !7;
        let size = align16(tags + 8 * counts.tags);
        VMOffsets {
            counts,
            memories,
            memory_bases,
            tables,
            imported_globals,
            defined_globals,
            imported_funcs,
            escaping_funcs,
            type_ids,
            tags,
            size,
        }
    }
    /// Offset of the pointer to memory `i`'s [`VMMemoryDef`].
    pub fn memory(&self, i: u32) -> u32 {
        self.memories + 8 * i
    }
    /// Offset of the copy of memory `i`'s base address.
    pub fn memory_base(&self, i: u32) -> u32 {
        self.memory_bases + 8 * i
    }
    /// Offset of the pointer to table `i`'s [`VMTableDef`].
    pub fn table(&self, i: u32) -> u32 {
        self.tables + 8 * i
    }
    /// Offset of the pointer to imported global `i`'s storage.
    pub fn imported_global(&self, i: u32) -> u32 {
        self.imported_globals + 8 * i
    }
    /// Offset of defined global `i`'s storage.
    pub fn defined_global(&self, i: u32) -> u32 {
        self.defined_globals + GLOBAL_SIZE * i
    }
    /// Offset of imported function `i`'s [`VMFuncRef`].
    pub fn imported_func(&self, i: u32) -> u32 {
        self.imported_funcs + funcref::SIZE * i
    }
    /// Offset of escaping function slot `i`'s [`VMFuncRef`].
    pub fn escaping_func(&self, i: u32) -> u32 {
        self.escaping_funcs + funcref::SIZE * i
    }
    /// Offset of the canonical id of module type `i`.
    pub fn type_id(&self, i: u32) -> u32 {
        self.type_ids + 4 * i
    }
    /// Offset of tag `i`'s identity pointer.
    pub fn tag(&self, i: u32) -> u32 {
        self.tags + 8 * i
    }
}

fn align16(x: u32) -> u32 {
    (x + 15) & !15
}

/// Why compiled code stopped. The numeric values are stored in trap tables and returned by
/// the C API, so they never change.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TrapKind {
    /// Call stack exhausted.
    StackOverflow = 1,
    /// Linear memory access out of bounds.
    MemoryOutOfBounds = 2,
    /// Atomic access with a misaligned address.
    HeapMisaligned = 3,
    /// Table access out of bounds.
    TableOutOfBounds = 4,
    /// `call_indirect` index past the end of the table.
    UndefinedElement = 5,
    /// `call_indirect` through a null entry.
    UninitializedElement = 6,
    /// `call_indirect` signature mismatch.
    BadSignature = 7,
    /// Signed division overflow, or float-to-int out of range.
    IntegerOverflow = 8,
    /// Integer division or remainder by zero.
    IntegerDivisionByZero = 9,
    /// NaN converted to an integer.
    BadConversionToInteger = 10,
    /// `unreachable` executed.
    Unreachable = 11,
    /// Null reference dereferenced (`call_ref`, `ref.as_non_null`).
    NullReference = 12,
    /// Trap raised by a host function.
    Host = 13,
    /// WASI `proc_exit`: not an error, carries an exit status.
    Exit = 14,
    /// A Wasm exception was thrown and no handler in Wasm code caught it.
    UncaughtException = 15,
}

impl TrapKind {
    /// Every kind, for tables and tests.
    pub const ALL: [TrapKind; 15] = [
        TrapKind::StackOverflow,
        TrapKind::MemoryOutOfBounds,
        TrapKind::HeapMisaligned,
        TrapKind::TableOutOfBounds,
        TrapKind::UndefinedElement,
        TrapKind::UninitializedElement,
        TrapKind::BadSignature,
        TrapKind::IntegerOverflow,
        TrapKind::IntegerDivisionByZero,
        TrapKind::BadConversionToInteger,
        TrapKind::Unreachable,
        TrapKind::NullReference,
        TrapKind::Host,
        TrapKind::Exit,
        TrapKind::UncaughtException,
    ];

    /// The message the spec test suite uses for this trap.
    pub fn message(self) -> &'static str {
        match self {
            TrapKind::StackOverflow => "call stack exhausted",
            TrapKind::MemoryOutOfBounds => "out of bounds memory access",
            TrapKind::HeapMisaligned => "unaligned atomic",
            TrapKind::TableOutOfBounds => "out of bounds table access",
            TrapKind::UndefinedElement => "undefined element",
            TrapKind::UninitializedElement => "uninitialized element",
            TrapKind::BadSignature => "indirect call type mismatch",
            TrapKind::IntegerOverflow => "integer overflow",
            TrapKind::IntegerDivisionByZero => "integer divide by zero",
            TrapKind::BadConversionToInteger => "invalid conversion to integer",
            TrapKind::Unreachable => "unreachable",
            TrapKind::NullReference => "null reference",
            TrapKind::Host => "host trap",
            TrapKind::Exit => "exit",
            TrapKind::UncaughtException => "uncaught exception",
        }
    }

    /// Decodes a stored kind.
    pub fn from_u8(x: u8) -> Option<TrapKind> {
        TrapKind::ALL.iter().copied().find(|k| *k as u8 == x)
    }
}

/// A trap site: an instruction that may fault (or a `ud2`) and what it means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrapSite {
    /// Offset from the start of the code item.
    pub offset: u32,
    /// What a fault here means.
    pub kind: TrapKind,
}

/// A call instruction inside a `try_table`: where the unwinder may resume its function.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandlerSite {
    /// Offset of the call's return address from the start of the function body.
    pub ret_offset: u32,
    /// Distance from the frame pointer down to the stack pointer at the call; the handler
    /// runs with `sp = fp - frame_offset`.
    pub frame_offset: u32,
    /// Handlers in the order they are tried; the first that matches wins.
    pub handlers: Vec<Handler>,
}

/// One entry of a [`HandlerSite`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Handler {
    /// The vmctx that gives the following tags their meaning is stored at `sp + offset`.
    Context(u32),
    /// Exceptions of tag index `tag` (of that vmctx's module) resume at body offset `target`.
    Tag {
        /// Tag index in the module.
        tag: u32,
        /// Handler offset from the start of the function body.
        target: u32,
    },
    /// Every exception resumes at body offset `target`.
    All {
        /// Handler offset from the start of the function body.
        target: u32,
    },
}

/// Layout of an exception object, as compiled handlers read it: an `exnref` points here.
pub mod exn {
    /// Offset of the tag's identity pointer (see [`super::VMOffsets::tags`]).
    pub const TAG: u32 = 0;
    /// Offset of the pointer to the payload: one 16-byte slot per tag parameter.
    pub const VALUES: u32 = 8;
}

/// Signature of the runtime entry points compiled code calls through the builtins table
/// (first argument is always the caller's vmctx). `for_each_builtin!` lists them once for both
/// sides; the compiler builds Cranelift signatures from it and the runtime fills the table.
///
/// Types: `i32`, `i64` (also used for pointers/references). Functions that can fail return an
/// `i32` that is nonzero on failure; compiled code then traps with the builtin's trap kind.
#[macro_export]
macro_rules! for_each_builtin {
    ($mac:ident) => {
        $mac! {
            /// `memory.grow`: old size in pages, or -1.
            memory_grow(mem: i32, delta: i64) -> i64;
            /// `memory.fill`; nonzero when out of bounds.
            memory_fill(mem: i32, dst: i64, val: i32, len: i64) -> i32;
            /// `memory.copy`; nonzero when out of bounds.
            memory_copy(dst_mem: i32, src_mem: i32, dst: i64, src: i64, len: i64) -> i32;
            /// `memory.init`; nonzero when out of bounds.
            memory_init(mem: i32, seg: i32, dst: i64, src: i32, len: i32) -> i32;
            /// `data.drop`.
            data_drop(seg: i32) -> i32;
            /// `table.grow`: old size, or -1.
            table_grow(table: i32, init: i64, delta: i64) -> i64;
            /// `table.fill`; nonzero when out of bounds.
            table_fill(table: i32, dst: i64, val: i64, len: i64) -> i32;
            /// `table.copy`; nonzero when out of bounds.
            table_copy(dst_table: i32, src_table: i32, dst: i64, src: i64, len: i64) -> i32;
            /// `table.init`; nonzero when out of bounds.
            table_init(table: i32, seg: i32, dst: i64, src: i32, len: i32) -> i32;
            /// `elem.drop`.
            elem_drop(seg: i32) -> i32;
            /// `memory.atomic.notify`: woken count, or -1 when misaligned/out of bounds.
            memory_atomic_notify(mem: i32, addr: i64, count: i32) -> i64;
            /// `memory.atomic.wait32`: 0 ok, 1 not-equal, 2 timed out, negative = trap.
            memory_atomic_wait32(mem: i32, addr: i64, expected: i32, timeout: i64) -> i64;
            /// `memory.atomic.wait64`: as above.
            memory_atomic_wait64(mem: i32, addr: i64, expected: i64, timeout: i64) -> i64;
            /// `throw`, first half: a new exception of tag `tag` whose payload is copied from
            /// `values` (one 16-byte slot per tag parameter); returns the `exnref`.
            exn_new(tag: i32, values: i64) -> i64;
            /// Unwinds `exn` (non-null) to the nearest handler in a caller of the Wasm function
            /// whose frame pointer is `fp` (that function's own handlers were tried inline);
            /// never returns.
            exn_throw(exn: i64, fp: i64) -> i32;
        }
    };
}

macro_rules! define_builtin_index {
    ($( $(#[$attr:meta])* $name:ident($($p:ident: $t:ident),*) -> $r:ident; )*) => {
        /// Index of each builtin in the builtins table (a table of function pointers).
        #[allow(non_camel_case_types, missing_docs)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u32)]
        pub enum BuiltinIndex { $( $name, )* }
        impl BuiltinIndex {
            /// Every builtin, in table order.
            pub const ALL: &'static [BuiltinIndex] = &[ $( BuiltinIndex::$name, )* ];
            /// Parameter types after the vmctx, and the result type, as type names.
            pub fn signature(self) -> (&'static [&'static str], &'static str) {
                match self { $( BuiltinIndex::$name => (&[$(stringify!($t)),*], stringify!($r)), )* }
            }
            /// The builtin's name.
            pub fn name(self) -> &'static str {
                match self { $( BuiltinIndex::$name => stringify!($name), )* }
            }
        }
    };
}
for_each_builtin!(define_builtin_index);

/// A value type as the runtime sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ValType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// 32-bit float.
    F32,
    /// 64-bit float.
    F64,
    /// 128-bit vector.
    V128,
    /// Nullable function reference.
    FuncRef,
    /// Nullable external reference.
    ExternRef,
    /// Nullable exception reference (a pointer to an [`exn`] object).
    ExnRef,
}

/// A function signature.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FuncType {
    /// Parameter types.
    pub params: Vec<ValType>,
    /// Result types.
    pub results: Vec<ValType>,
}

/// A memory's type: limits in pages, index width, sharing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MemoryType {
    /// Initial size in pages.
    pub initial: u64,
    /// Maximum size in pages.
    pub maximum: Option<u64>,
    /// 64-bit index (memory64).
    pub memory64: bool,
    /// Shared between threads.
    pub shared: bool,
}

/// A table's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TableType {
    /// Element type (`FuncRef` or `ExternRef`).
    pub element: ValType,
    /// Initial size in elements.
    pub initial: u64,
    /// Maximum size in elements.
    pub maximum: Option<u64>,
    /// 64-bit index (table64).
    pub table64: bool,
}

/// A global's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GlobalType {
    /// Value type.
    pub content: ValType,
    /// Whether `global.set` is allowed.
    pub mutable: bool,
}

/// A constant expression (global initializers, segment offsets, element items), as a small
/// stack program the runtime evaluates at instantiation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ConstOp {
    /// Push an i32.
    I32(i32),
    /// Push an i64.
    I64(i64),
    /// Push an f32 (bits).
    F32(u32),
    /// Push an f64 (bits).
    F64(u64),
    /// Push a v128.
    V128(u128),
    /// Push the value of a global.
    GlobalGet(u32),
    /// Push `ref.null` of a type.
    RefNull(ValType),
    /// Push a reference to a function.
    RefFunc(u32),
    /// i32.add / i32.sub / i32.mul.
    I32Add,
    /// See above.
    I32Sub,
    /// See above.
    I32Mul,
    /// i64.add / i64.sub / i64.mul.
    I64Add,
    /// See above.
    I64Sub,
    /// See above.
    I64Mul,
}

/// What an import or export refers to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ExternType {
    /// A function of a type (index into `ModuleInfo::types`).
    Func(u32),
    /// A table.
    Table(TableType),
    /// A memory.
    Memory(MemoryType),
    /// A global.
    Global(GlobalType),
    /// An exception tag of a function type (index into `ModuleInfo::types`; no results).
    Tag(u32),
}

/// One import.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Import {
    /// Module name.
    pub module: String,
    /// Field name.
    pub name: String,
    /// What is imported.
    pub ty: ExternType,
}

/// Kind and index of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExportKind {
    /// Function index.
    Func(u32),
    /// Table index.
    Table(u32),
    /// Memory index.
    Memory(u32),
    /// Global index.
    Global(u32),
    /// Tag index.
    Tag(u32),
}

/// One export.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Export {
    /// Export name.
    pub name: String,
    /// What is exported.
    pub kind: ExportKind,
}

/// An element segment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ElemSegment {
    /// Active: table index and offset expression; `None` for passive/declared.
    pub active: Option<(u32, Vec<ConstOp>)>,
    /// Declarative segments are dropped at instantiation.
    pub declared: bool,
    /// Element type.
    pub element: ValType,
    /// One constant expression per item.
    pub items: Vec<Vec<ConstOp>>,
}

/// A data segment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataSegment {
    /// Active: memory index and offset expression; `None` for passive.
    pub active: Option<(u32, Vec<ConstOp>)>,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// How 32-bit memories are bounds-checked by this object, and therefore what it needs from
/// the runtime's memories (see `crate::memory::MemoryLayout`). Memory64 accesses are checked
/// the same way in both modes (`index > length` when `offset + size` fits in the 4 GiB guard
/// that every memory64 reservation has, else an overflow-checked `index + offset + size`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BoundsChecks {
    /// No checks: every access is `base + zext(index) + offset`, and the runtime must reserve
    /// 4 GiB plus a 4 GiB guard per 32-bit memory (`MemoryLayout::Guarded`). The module's
    /// defined memories get that layout, and importing a memory without it is a link error.
    Guard,
    /// Every 32-bit access traps unless `index + offset + size <= length` (computed in 64
    /// bits, so it cannot wrap), and never relies on a guard region: the module's defined
    /// 32-bit memories reserve only their maximum (`MemoryLayout::Compact`), and it may
    /// import memories of either layout.
    Explicit,
}

/// Everything about a module the runtime needs beyond code: types, imports, exports, memory,
/// table and global definitions, segments, trap tables and names. Serialized into the object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModuleInfo {
    /// The module's name (symbol prefix).
    pub name: String,
    /// The type section.
    pub types: Vec<FuncType>,
    /// Imports, in order.
    pub imports: Vec<Import>,
    /// Exports, in order.
    pub exports: Vec<Export>,
    /// Type index of every function (imported first).
    pub funcs: Vec<u32>,
    /// Number of imported functions.
    pub num_imported_funcs: u32,
    /// Every table (imported first).
    pub tables: Vec<TableType>,
    /// Number of imported tables.
    pub num_imported_tables: u32,
    /// Every memory (imported first).
    pub memories: Vec<MemoryType>,
    /// Number of imported memories.
    pub num_imported_memories: u32,
    /// Every global's type (imported first).
    pub globals: Vec<GlobalType>,
    /// Number of imported globals.
    pub num_imported_globals: u32,
    /// Initializers of defined globals.
    pub global_inits: Vec<Vec<ConstOp>>,
    /// Defined tables whose elements start as a constant expression rather than null:
    /// (table index, expression).
    pub table_inits: Vec<(u32, Vec<ConstOp>)>,
    /// Element segments.
    pub elems: Vec<ElemSegment>,
    /// Data segments.
    pub datas: Vec<DataSegment>,
    /// Start function.
    pub start: Option<u32>,
    /// Function index of each escaping slot (see [`VMCounts::escaping_funcs`]).
    pub escaping: Vec<u32>,
    /// Name of each defined function (from the name section, or `f<index>`).
    pub func_names: Vec<String>,
    /// Code size of each defined function body.
    pub func_sizes: Vec<u32>,
    /// Trap sites of each defined function body (sorted by offset).
    pub func_traps: Vec<Vec<TrapSite>>,
    /// Calls with exception handlers of each defined function body (sorted by offset).
    pub func_handlers: Vec<Vec<HandlerSite>>,
    /// Type index of every tag (imported first).
    pub tags: Vec<u32>,
    /// Number of imported tags.
    pub num_imported_tags: u32,
    /// How 32-bit memories are checked.
    pub bounds_checks: BoundsChecks,
    /// Layout counts (the runtime recomputes offsets from these).
    pub counts: VMCounts,
    /// Target architecture (`x86_64`, `aarch64`) and the CPU features the code was compiled to
    /// use (Cranelift flag names without `has_`, e.g. `sse41`, `avx2`); checked at load time.
    pub target_arch: String,
    /// See `target_arch`.
    pub cpu_features: Vec<String>,
}

impl ModuleInfo {
    /// Decodes the serialized info from a descriptor.
    pub fn decode(bytes: &[u8]) -> Result<ModuleInfo, postcard::Error> {
        postcard::from_bytes(bytes)
    }
    /// Encodes the info for embedding in an object.
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("serializing module info cannot fail")
    }
    /// The layout counts this module's instance context needs.
    pub fn layout_counts(&self) -> VMCounts {
        VMCounts {
            memories: self.memories.len() as u32,
            tables: self.tables.len() as u32,
            imported_globals: self.num_imported_globals,
            defined_globals: self.globals.len() as u32 - self.num_imported_globals,
            imported_funcs: self.num_imported_funcs,
            escaping_funcs: self.escaping.len() as u32,
            types: self.types.len() as u32,
            tags: self.tags.len() as u32,
        }
    }

    /// Type of function `index`.
    pub fn func_type(&self, index: u32) -> &FuncType {
        &self.types[self.funcs[index as usize] as usize]
    }
}
