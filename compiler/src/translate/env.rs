//! Access to the instance context from compiled code: memory flags, trap codes and the loads
//! that reach memories, tables and globals.

use super::{Regions, Translator};
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, TrapCode, Value};
use wasmaot_runtime::layout::{memdef, TrapKind, WASM_PAGE_SIZE};

/// Cranelift trap code for a trap kind (round-trips through [`trap_kind`]).
pub fn trap_code(kind: TrapKind) -> TrapCode {
    match kind {
        TrapKind::StackOverflow => TrapCode::STACK_OVERFLOW,
        TrapKind::IntegerOverflow => TrapCode::INTEGER_OVERFLOW,
        TrapKind::MemoryOutOfBounds => TrapCode::HEAP_OUT_OF_BOUNDS,
        TrapKind::IntegerDivisionByZero => TrapCode::INTEGER_DIVISION_BY_ZERO,
        TrapKind::BadConversionToInteger => TrapCode::BAD_CONVERSION_TO_INTEGER,
        other => TrapCode::unwrap_user(other as u8),
    }
}

/// The trap kind a Cranelift trap code stands for.
pub fn trap_kind(code: TrapCode) -> TrapKind {
    TrapKind::ALL
        .iter()
        .copied()
        .find(|k| trap_code(*k) == code)
        .unwrap_or(TrapKind::Unreachable)
}

/// Flags for loads of instance-context fields that never change (pointers to memory and table
/// descriptors, the builtins table, immutable type ids): free to hoist and merge.
pub fn readonly_flags() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly().with_can_move()
}

/// Flags for trusted runtime data that may change (e.g. a funcref's fields).
pub fn trusted_flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// Flags for mutable runtime state reachable from the vmctx (lengths, globals).
pub fn vmctx_flags(r: Regions) -> MemFlagsData {
    MemFlagsData::trusted().with_alias_region(Some(r.vmctx))
}

/// Flags for table element accesses (bounds checked before).
pub fn table_flags(r: Regions) -> MemFlagsData {
    MemFlagsData::trusted().with_alias_region(Some(r.table))
}

/// Flags for linear memory accesses: little-endian, may fault (a registered trap site).
pub fn heap_flags(r: Regions) -> MemFlagsData {
    MemFlagsData::new()
        .with_endianness(cranelift_codegen::ir::Endianness::Little)
        .with_trap_code(Some(TrapCode::HEAP_OUT_OF_BOUNDS))
        .with_alias_region(Some(r.heap))
}

impl Translator<'_, '_> {
    /// Loads a pointer stored at a fixed vmctx offset that never changes.
    pub(super) fn load_vmctx_ptr(&mut self, offset: u32) -> Value {
        self.b
            .ins()
            .load(types::I64, readonly_flags(), self.vmctx, offset as i32)
    }

    /// Base address of memory `mem` (never moves, so the load is hoistable).
    pub(super) fn memory_base(&mut self, mem: u32) -> Value {
        self.load_vmctx_ptr(self.env.offsets.memory_base(mem))
    }

    /// Current length in bytes of memory `mem`: a constant when it cannot change, else the
    /// value cached at entry and after calls (see `memory.rs`), else a fresh load.
    pub(super) fn memory_length(&mut self, mem: u32) -> Value {
        if let Some(len) = self.fixed_memory_length(mem) {
            return self.b.ins().iconst(types::I64, len as i64);
        }
        if let Some(var) = self.mem_len.get(mem as usize).copied().flatten() {
            return self.b.use_var(var);
        }
        self.load_memory_length(mem)
    }

    /// Loads memory `mem`'s current length from its definition. The load may not move across
    /// calls (they may grow the memory) but is ordered only against other vmctx-region
    /// accesses, not against heap stores.
    pub(super) fn load_memory_length(&mut self, mem: u32) -> Value {
        let def = self.load_vmctx_ptr(self.env.offsets.memory(mem));
        self.b.ins().load(
            types::I64,
            vmctx_flags(self.regions),
            def,
            memdef::LENGTH as i32,
        )
    }

    /// The length in bytes of a memory that can never change size (`max == min`, not
    /// shared). An imported one is just as fixed: import matching requires the provided
    /// memory's current size to be at least `min` and its maximum at most `max == min`.
    pub(super) fn fixed_memory_length(&self, mem: u32) -> Option<u64> {
        let m = &self.env.info.memories[mem as usize];
        (!m.shared && m.maximum == Some(m.initial)).then(|| m.initial * WASM_PAGE_SIZE)
    }

    /// Whether memory `mem` uses 64-bit indices.
    pub(super) fn memory64(&self, mem: u32) -> bool {
        self.env.info.memories[mem as usize].memory64
    }

    /// Whether table `t` uses 64-bit indices.
    pub(super) fn table64(&self, t: u32) -> bool {
        self.env.info.tables[t as usize].table64
    }

    /// Zero-extends a 32-bit index to 64 bits (64-bit indices pass through).
    pub(super) fn index_to_i64(&mut self, v: Value) -> Value {
        if self.b.func.dfg.value_type(v) == types::I64 {
            v
        } else {
            self.b.ins().uextend(types::I64, v)
        }
    }

    /// Address of global `g`'s storage and whether it is constant.
    pub(super) fn global_addr(&mut self, g: u32) -> (Value, i32) {
        let nimp = self.env.info.num_imported_globals;
        if g < nimp {
            let p = self.load_vmctx_ptr(self.env.offsets.imported_global(g));
            (p, 0)
        } else {
            (self.vmctx, self.env.offsets.defined_global(g - nimp) as i32)
        }
    }
}
