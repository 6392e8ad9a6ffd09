//! Linear memory: loads, stores and the `memory.*` / `data.drop` operators.
//!
//! Addressing (see `wasmaot_runtime::layout::BoundsChecks`):
//!
//! - a 32-bit memory in guard mode is `base + zext(index) + offset` with no compare at all —
//!   the 4 GiB reservation plus 4 GiB guard makes every such address either valid or a fault
//!   at a registered trap site ("out of bounds memory access");
//! - a 32-bit memory compiled with `--bounds-checks explicit` traps unless
//!   `zext(index) + offset + size <= length`, computed as `index < length + 1 - (offset +
//!   size)` (saturating; nothing can wrap in 64 bits) so that the bound is loop-invariant:
//!   one compare per access (none after a dominating one at the same index that reaches as
//!   far, `bounds.rs`), and no guard region is needed, so the reservation can be just the
//!   maximum;
//! - memory64 traps unless `index <= length` when `offset + size` fits in the 4 GiB guard that
//!   every memory64 reservation has (one compare, the guard catches the rest;
//!   `dominated_checks.rs` drops the compare where an earlier, dominating one covers it, and `loop_checks.rs`
//!   makes it once at a loop's entry where the guard covers every later trip), otherwise
//!   `index + offset + size` is computed with an overflow trap (no wrap-around near 2^64)
//!   and compared.
//!
//! The length a check compares against is a constant when the memory cannot change size
//! (`max == min`, not shared). Otherwise it is loaded once at function entry and again only
//! after calls (which may grow it) into a variable, so loops without calls compare against a
//! value held in a register instead of reloading it (Cranelift does not hoist such loads).

use super::{env, iconst_value, loop_checks, Translator};
use crate::error::{unsupported, Result};
use cranelift_codegen::ir::{condcodes::IntCC, types, InstBuilder};
use cranelift_codegen::ir::{Type, Value};
use wasmaot_runtime::layout::{BoundsChecks, BuiltinIndex, TrapKind};
use wasmparser::{FunctionBody, MemArg, Operator};

/// Bytes after every memory's reservation that are guaranteed to fault.
pub const GUARD_BYTES: u64 = 4 << 30;

/// Bytes just below every memory64 memory's base that are guaranteed to fault: an index within
/// this distance below 2^64 (a small step down from zero, modulo 2^64) traps when the access
/// has no static offset, without a compare (see `dominated_checks.rs` and `loop_checks.rs`).
pub const PRE_GUARD_BYTES: u64 = wasmaot_runtime::memory::PRE_GUARD_SIZE;

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
                let v = self.narrow_to_index_type(mem, pages);
                self.push(v);
            }
            Operator::MemoryGrow { mem } => {
                let delta = self.pop();
                let delta = self.index_to_i64(delta);
                let m = self.b.ins().iconst(types::I32, i64::from(mem));
                let old = self.call_builtin(BuiltinIndex::memory_grow, &[m, delta]);
                self.reload_memory_lengths();
                let v = self.narrow_to_index_type(mem, old);
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
            Operator::MemoryDiscard { .. } => return unsupported("memory-control proposal"),
            // Atomic operators are refused by the driver's fallback (`Translator::op`).
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Narrows an i64 page/byte count to the memory's index type.
    fn narrow_to_index_type(&mut self, mem: u32, v: Value) -> Value {
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

    /// Whether accesses to memory `mem` compare against its length.
    pub(super) fn memory_checked(&self, mem: u32) -> bool {
        self.memory64(mem) || self.opts.bounds_checks == BoundsChecks::Explicit
    }

    /// Computes the address of an access of `size` bytes, trapping first when the memory's
    /// checking mode requires it (see the module docs); returns (address, static offset).
    pub(super) fn heap_addr(&mut self, memarg: &MemArg, index: Value, size: u32) -> (Value, i32) {
        let mem = match memarg.target {
            wasmparser::MemArgTarget::Memory(m) => m,
            wasmparser::MemArgTarget::Array(_) => unreachable!("gc arrays are rejected earlier"),
        };
        let offset = memarg.offset;
        let idx = self.index_to_i64(index);
        // Bytes past `index` the access reaches.
        let end = u128::from(offset) + u128::from(size);
        let oob = env::trap_code(TrapKind::MemoryOutOfBounds);
        if self.memory64(mem) {
            if end > u128::from(u64::MAX) {
                // No index can make this access valid.
                self.trap_and_continue(TrapKind::MemoryOutOfBounds);
            } else if end as u64 <= GUARD_BYTES {
                // index <= length; the guard after the reservation catches offset + size.
                // (`dominated_checks.rs` drops the compares earlier ones cover.)
                self.check_index_le_length(mem, idx, end as u64, offset);
            } else {
                let end = self.b.ins().iconst(types::I64, end as i64);
                let last = self.b.ins().uadd_overflow_trap(idx, end, oob);
                let len = self.memory_length(mem);
                let out = self.b.ins().icmp(IntCC::UnsignedGreaterThan, last, len);
                self.b.ins().trapnz(out, oob);
            }
        } else if self.opts.bounds_checks == BoundsChecks::Explicit
            && !self.index_known_in_bounds(mem, index, end as u64)
        {
            // Full check, independent of any guard region: `idx < 2^32` and `end < 2^33`, so
            // `idx + end` cannot wrap.
            let end = end as u64;
            match self.fixed_memory_length(mem) {
                Some(len) if end > len => self.trap_and_continue(TrapKind::MemoryOutOfBounds),
                Some(len) => {
                    let out = self.b.ins().icmp_imm_u(
                        IntCC::UnsignedGreaterThan,
                        idx,
                        (len - end) as i64,
                    );
                    self.b.ins().trapnz(out, oob);
                    self.note_index_checked(mem, index, end);
                }
                None => {
                    // idx + end > len  ⟺  idx >= len + 1 - end, where the bound saturates at
                    // 0 when end > len + 1 (then every index traps). The bound depends only on
                    // the length, so Cranelift shares it between accesses of the same size and
                    // offset and hoists it out of call-free loops: one compare per access.
                    let len = self.memory_length(mem);
                    let len1 = self.b.ins().iadd_imm_u(len, 1);
                    let room = self.b.ins().icmp_imm_u(
                        IntCC::UnsignedGreaterThanOrEqual,
                        len1,
                        end as i64,
                    );
                    let diff = self.b.ins().iadd_imm_s(len1, (end as i64).wrapping_neg());
                    let zero = self.b.ins().iconst(types::I64, 0);
                    let bound = self.b.ins().select(room, diff, zero);
                    let out = self
                        .b
                        .ins()
                        .icmp(IntCC::UnsignedGreaterThanOrEqual, idx, bound);
                    self.b.ins().trapnz(out, oob);
                    self.note_index_checked(mem, index, end);
                }
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

    /// Traps unless the memory64 index `idx <= length`, and records the check for
    /// `dominated_checks.rs` and `loop_checks.rs` (with how far past `idx` the access right
    /// after it reaches, `end`, `offset` of them its static offset).
    fn check_index_le_length(&mut self, mem: u32, idx: Value, end: u64, offset: u64) {
        let out = match self.fixed_memory_length(mem) {
            Some(len) => self
                .b
                .ins()
                .icmp_imm_u(IntCC::UnsignedGreaterThan, idx, len as i64),
            None => {
                let len = self.memory_length(mem);
                self.b.ins().icmp(IntCC::UnsignedGreaterThan, idx, len)
            }
        };
        let trap = self
            .b
            .ins()
            .trapnz(out, env::trap_code(TrapKind::MemoryOutOfBounds));
        self.index_checks.push(loop_checks::IndexCheck {
            trap,
            mem,
            end,
            offset,
        });
    }

    /// Emits an unconditional trap and continues in a fresh (unreachable) block, so the
    /// caller can keep emitting the access.
    fn trap_and_continue(&mut self, kind: TrapKind) {
        self.b.ins().trap(env::trap_code(kind));
        let next = self.b.create_block();
        self.b.switch_to_block(next);
        self.b.seal_block(next);
    }

    /// Declares the cached length of every memory `body` accesses with bounds checks and
    /// loads it at function entry (call before translating the body, in the entry block).
    pub(super) fn init_memory_lengths(&mut self, body: &FunctionBody<'_>) -> Result<()> {
        let n = self.env.info.memories.len();
        let mut used = vec![false; n];
        let mut ops = body.get_operators_reader()?;
        while !ops.eof() {
            if let Some(m) = accessed_memory(&ops.read()?) {
                used[m as usize] = true;
            }
        }
        self.mem_len = vec![None; n];
        for (m, used) in used.into_iter().enumerate() {
            let m = m as u32;
            let shared = self.env.info.memories[m as usize].shared;
            if used && self.memory_checked(m) && !shared && self.fixed_memory_length(m).is_none() {
                let var = self.b.declare_var(types::I64);
                let len = self.load_memory_length(m);
                self.b.def_var(var, len);
                self.mem_len[m as usize] = Some(var);
            }
        }
        Ok(())
    }

    /// Reloads every cached length: after anything that may grow a memory (calls to Wasm or
    /// host functions, `memory.grow`).
    pub(super) fn reload_memory_lengths(&mut self) {
        for m in 0..self.mem_len.len() {
            if let Some(var) = self.mem_len[m] {
                let len = self.load_memory_length(m as u32);
                self.b.def_var(var, len);
            }
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
        // A narrowing store of a constant stores a constant of the narrow type instead:
        // Cranelift's x64 backend writes an immediate to memory only for a full-width
        // `store` (`movb $1, (..)`), while `istore8` of a constant first puts it in a
        // register, one more instruction and one more live register (sieve's marking loop).
        let narrow = match iconst_value(&self.b.func.dfg, value) {
            Some(bits) if u32::from(size) < vty.bytes() => Some(bits),
            _ => None,
        };
        if let Some(bits) = narrow {
            let ty = Type::int_with_byte_size(u16::from(size)).expect("1, 2 or 4 bytes");
            // Narrow immediates are kept zero-extended.
            let c = self.b.ins().iconst(ty, bits & ((1i64 << (8 * size)) - 1));
            self.b.ins().store(flags, c, addr, off);
            return;
        }
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

/// The memory an operator reads the length of or accesses through a `memarg`, if any (used to
/// decide which lengths to cache; missing one only costs speed).
fn accessed_memory(op: &Operator<'_>) -> Option<u32> {
    use Operator as O;
    let memarg = match *op {
        O::MemorySize { mem } => return Some(mem),
        O::V128Load8x8S { memarg }
        | O::V128Load8x8U { memarg }
        | O::V128Load16x4S { memarg }
        | O::V128Load16x4U { memarg }
        | O::V128Load32x2S { memarg }
        | O::V128Load32x2U { memarg }
        | O::V128Load8Splat { memarg }
        | O::V128Load16Splat { memarg }
        | O::V128Load32Splat { memarg }
        | O::V128Load64Splat { memarg }
        | O::V128Load32Zero { memarg }
        | O::V128Load64Zero { memarg }
        | O::V128Load8Lane { memarg, .. }
        | O::V128Load16Lane { memarg, .. }
        | O::V128Load32Lane { memarg, .. }
        | O::V128Load64Lane { memarg, .. }
        | O::V128Store8Lane { memarg, .. }
        | O::V128Store16Lane { memarg, .. }
        | O::V128Store32Lane { memarg, .. }
        | O::V128Store64Lane { memarg, .. } => memarg,
        _ => match (load_kind(op), store_kind(op)) {
            (Some((_, memarg)), _) | (_, Some((_, memarg))) => memarg,
            _ => return None,
        },
    };
    match memarg.target {
        wasmparser::MemArgTarget::Memory(m) => Some(m),
        wasmparser::MemArgTarget::Array(_) => None,
    }
}
