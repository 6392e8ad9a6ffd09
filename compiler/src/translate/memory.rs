//! Linear memory: loads, stores and the `memory.*` / `data.drop` operators.
//!
//! Addressing (see `docs/ABI.md`): a 32-bit memory in guard mode is `base + zext(index) +
//! offset` with no compare at all — the 4 GiB reservation plus 4 GiB guard makes every such
//! address either valid or a fault at a registered trap site. Memory64 (and 32-bit memories
//! compiled with `--bounds-checks explicit`) compare the index against the current length:
//! when `offset + size` fits in the guard one unsigned compare `index > length` suffices;
//! otherwise `index + offset + size` is computed with an overflow trap and compared.

use super::{env, Translator};
use crate::error::{unsupported, Result};
use cranelift_codegen::ir::{condcodes::IntCC, types, InstBuilder, Type, Value};
use wasmaot_runtime::layout::{BoundsChecks, BuiltinIndex, TrapKind};
use wasmparser::{MemArg, Operator};

/// Bytes after every memory's reservation that are guaranteed to fault.
pub const GUARD_BYTES: u64 = 4 << 30;

/// How a load reads memory.
#[derive(Clone, Copy)]
enum Load {
    /// Full-width load of the type.
    Plain(Type),
    /// Narrow load, extended to `ty`: (bytes, signed, ty).
    Ext(u8, bool, Type),
}

fn load_kind(op: &Operator<'_>) -> Option<(Load, MemArg)> {
    use types::*;
    use Operator as O;
    Some(match *op {
        O::I32Load { memarg } => (Load::Plain(I32), memarg),
        O::I64Load { memarg } => (Load::Plain(I64), memarg),
        O::F32Load { memarg } => (Load::Plain(F32), memarg),
        O::F64Load { memarg } => (Load::Plain(F64), memarg),
        O::V128Load { memarg } => (Load::Plain(I8X16), memarg),
        O::I32Load8S { memarg } => (Load::Ext(1, true, I32), memarg),
        O::I32Load8U { memarg } => (Load::Ext(1, false, I32), memarg),
        O::I32Load16S { memarg } => (Load::Ext(2, true, I32), memarg),
        O::I32Load16U { memarg } => (Load::Ext(2, false, I32), memarg),
        O::I64Load8S { memarg } => (Load::Ext(1, true, I64), memarg),
        O::I64Load8U { memarg } => (Load::Ext(1, false, I64), memarg),
        O::I64Load16S { memarg } => (Load::Ext(2, true, I64), memarg),
        O::I64Load16U { memarg } => (Load::Ext(2, false, I64), memarg),
        O::I64Load32S { memarg } => (Load::Ext(4, true, I64), memarg),
        O::I64Load32U { memarg } => (Load::Ext(4, false, I64), memarg),
        _ => return None,
    })
}

/// Stores: (bytes written, memarg).
fn store_kind(op: &Operator<'_>) -> Option<(u8, MemArg)> {
    use Operator as O;
    Some(match *op {
        O::I32Store { memarg } | O::F32Store { memarg } | O::I64Store32 { memarg } => (4, memarg),
        O::I64Store { memarg } | O::F64Store { memarg } => (8, memarg),
        O::V128Store { memarg } => (16, memarg),
        O::I32Store8 { memarg } | O::I64Store8 { memarg } => (1, memarg),
        O::I32Store16 { memarg } | O::I64Store16 { memarg } => (2, memarg),
        _ => return None,
    })
}

impl Translator<'_, '_> {
    /// Translates memory operators; returns whether `op` was one.
    pub(super) fn memory_op(&mut self, op: &Operator<'_>) -> Result<bool> {
        if let Some((kind, memarg)) = load_kind(op) {
            let index = self.pop();
            let v = self.load(kind, &memarg, index);
            self.push(v);
            return Ok(true);
        }
        if let Some((size, memarg)) = store_kind(op) {
            let (index, value) = self.pop2();
            self.store(size, &memarg, index, value);
            return Ok(true);
        }
        match *op {
            Operator::MemorySize { mem } => {
                let len = self.memory_length(mem);
                let pages = self.b.ins().ushr_imm_u(len, 16);
                let v = self.from_i64_index(mem, pages);
                self.push(v);
            }
            Operator::MemoryGrow { mem } => {
                let delta = self.pop();
                let delta = self.index_to_i64(delta);
                let m = self.b.ins().iconst(types::I32, i64::from(mem));
                let old = self.call_builtin(BuiltinIndex::memory_grow, &[m, delta]);
                let v = self.from_i64_index(mem, old);
                self.push(v);
            }
            Operator::MemoryFill { mem } => {
                let (dst, val, len) = self.pop3();
                let dst = self.index_to_i64(dst);
                let len = self.index_to_i64(len);
                let m = self.b.ins().iconst(types::I32, i64::from(mem));
                self.call_builtin_checked(
                    BuiltinIndex::memory_fill,
                    &[m, dst, val, len],
                    TrapKind::MemoryOutOfBounds,
                );
            }
            Operator::MemoryCopy { dst_mem, src_mem } => {
                let (dst, src, len) = self.pop3();
                let dst = self.index_to_i64(dst);
                let src = self.index_to_i64(src);
                let len = self.index_to_i64(len);
                let d = self.b.ins().iconst(types::I32, i64::from(dst_mem));
                let s = self.b.ins().iconst(types::I32, i64::from(src_mem));
                self.call_builtin_checked(
                    BuiltinIndex::memory_copy,
                    &[d, s, dst, src, len],
                    TrapKind::MemoryOutOfBounds,
                );
            }
            Operator::MemoryInit { data_index, mem } => {
                let (dst, src, len) = self.pop3();
                let dst = self.index_to_i64(dst);
                let m = self.b.ins().iconst(types::I32, i64::from(mem));
                let seg = self.b.ins().iconst(types::I32, i64::from(data_index));
                self.call_builtin_checked(
                    BuiltinIndex::memory_init,
                    &[m, seg, dst, src, len],
                    TrapKind::MemoryOutOfBounds,
                );
            }
            Operator::DataDrop { data_index } => {
                let seg = self.b.ins().iconst(types::I32, i64::from(data_index));
                self.call_builtin(BuiltinIndex::data_drop, &[seg]);
            }
            Operator::MemoryAtomicNotify { .. }
            | Operator::MemoryAtomicWait32 { .. }
            | Operator::MemoryAtomicWait64 { .. }
            | Operator::AtomicFence { .. } => return unsupported("threads (atomic operations)"),
            Operator::MemoryDiscard { .. } => return unsupported("memory-control proposal"),
            _ => {
                if format!("{op:?}").contains("Atomic") {
                    return unsupported("threads (atomic operations)");
                }
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Narrows an i64 page/byte count to the memory's index type.
    fn from_i64_index(&mut self, mem: u32, v: Value) -> Value {
        if self.memory64(mem) {
            v
        } else {
            self.b.ins().ireduce(types::I32, v)
        }
    }

    /// Calls a builtin that returns nonzero on failure and traps with `kind` then.
    pub(super) fn call_builtin_checked(
        &mut self,
        which: BuiltinIndex,
        args: &[Value],
        kind: TrapKind,
    ) {
        let status = self.call_builtin(which, args);
        self.b.ins().trapnz(status, env::trap_code(kind));
    }

    /// Computes the address of an access of `size` bytes; returns (address, static offset).
    pub(super) fn heap_addr(&mut self, memarg: &MemArg, index: Value, size: u32) -> (Value, i32) {
        let mem = match memarg.target {
            wasmparser::MemArgTarget::Memory(m) => m,
            wasmparser::MemArgTarget::Array(_) => unreachable!("gc arrays are rejected earlier"),
        };
        let offset = memarg.offset;
        let idx = self.index_to_i64(index);
        let checked = self.memory64(mem) || self.opts.bounds_checks == BoundsChecks::Explicit;
        if checked {
            let end = u128::from(offset) + u128::from(size);
            if end > u128::from(u64::MAX) {
                // No index can make this access valid.
                self.b
                    .ins()
                    .trap(env::trap_code(TrapKind::MemoryOutOfBounds));
                let next = self.b.create_block();
                self.b.switch_to_block(next);
                self.b.seal_block(next);
            } else if end as u64 <= GUARD_BYTES {
                let len = self.memory_length(mem);
                let oob = self.b.ins().icmp(IntCC::UnsignedGreaterThan, idx, len);
                self.b
                    .ins()
                    .trapnz(oob, env::trap_code(TrapKind::MemoryOutOfBounds));
            } else {
                let len = self.memory_length(mem);
                let end = self.b.ins().iconst(types::I64, end as i64);
                let last = self.b.ins().uadd_overflow_trap(
                    idx,
                    end,
                    env::trap_code(TrapKind::MemoryOutOfBounds),
                );
                let oob = self.b.ins().icmp(IntCC::UnsignedGreaterThan, last, len);
                self.b
                    .ins()
                    .trapnz(oob, env::trap_code(TrapKind::MemoryOutOfBounds));
            }
        }
        let base = self.memory_base(mem);
        let addr = self.b.ins().iadd(base, idx);
        if offset <= i32::MAX as u64 {
            (addr, offset as i32)
        } else {
            (self.b.ins().iadd_imm_s(addr, offset as i64), 0)
        }
    }

    fn load(&mut self, kind: Load, memarg: &MemArg, index: Value) -> Value {
        let flags = env::heap_flags(self.regions);
        match kind {
            Load::Plain(ty) => {
                let (addr, off) = self.heap_addr(memarg, index, ty.bytes());
                self.b.ins().load(ty, flags, addr, off)
            }
            Load::Ext(bytes, signed, ty) => {
                let (addr, off) = self.heap_addr(memarg, index, u32::from(bytes));
                let ins = self.b.ins();
                match (bytes, signed) {
                    (1, true) => ins.sload8(ty, flags, addr, off),
                    (1, false) => ins.uload8(ty, flags, addr, off),
                    (2, true) => ins.sload16(ty, flags, addr, off),
                    (2, false) => ins.uload16(ty, flags, addr, off),
                    (4, true) => ins.sload32(flags, addr, off),
                    _ => ins.uload32(flags, addr, off),
                }
            }
        }
    }

    fn store(&mut self, size: u8, memarg: &MemArg, index: Value, value: Value) {
        let flags = env::heap_flags(self.regions);
        let (addr, off) = self.heap_addr(memarg, index, u32::from(size));
        let vty = self.b.func.dfg.value_type(value);
        let ins = self.b.ins();
        if u32::from(size) == vty.bytes() {
            ins.store(flags, value, addr, off);
        } else {
            match size {
                1 => ins.istore8(flags, value, addr, off),
                2 => ins.istore16(flags, value, addr, off),
                _ => ins.istore32(flags, value, addr, off),
            };
        }
    }
}
