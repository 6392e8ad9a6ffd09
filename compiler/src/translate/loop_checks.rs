//! Memory64 bounds checks in loops: only the first trip needs the compare.
//!
//! A memory64 access whose `offset + size` fits in the guard traps unless `index <= length`
//! (see `memory.rs`), one compare per access. In a loop that walks memory with a moving index
//! the guard can do that compare's job on every trip but the first:
//!
//! - Let the access be in the loop header `H`, so that it runs on every trip, and let its
//!   index `x` advance by a constant `D` per trip: `x` is built by `iadd`, `isub`, `ishl` or
//!   `imul` by constants from values defined before the loop and from `H`'s parameters, each
//!   of which every back edge passes as `p + C` or `p - C` for its own constant `C` (or `p`).
//!   Then, modulo 2^64, the next trip's `x` is this trip's plus `D`.
//! - An access at `x` that did not fault proves `x + offset + size <= length`, so `x < 2^63`
//!   and the next trip's `x + D` has not wrapped. When `D + offset + size` fits in the guard,
//!   the next trip's access ends at most that far past `length` (lengths never shrink), in the
//!   guard, where it faults at its own trap site with the out-of-bounds trap. With the compare
//!   it would have trapped a few instructions earlier, with nothing in between but address
//!   arithmetic: the same trap with the same memory. The access also proves what the compare
//!   proved for the later accesses `bounds.rs` let go unchecked, since they come after it.
//! - The first trip has no earlier one, so its compare moves to the loop's single entry edge
//!   (the `jump` before a Wasm `loop`), on the index computed from the values that edge passes.
//!   Trapping there instead of in `H` is the same only if nothing observable happens in
//!   between: everything before the compare in `H` must be free of side effects and unable to
//!   trap, except by another out-of-bounds access or compare (the same trap, the same memory).
//! - An index moving down by `D` per trip, with no static offset, is covered the same way
//!   when `D` fits in the pre-guard below the base: from an in-bounds index it either stays
//!   in bounds or wraps to within `D` below 2^64, which addresses the pre-guard.
//!
//! - A compare moved to an inner loop's entry lies in the outer loop's body, usually at the
//!   end of its header (the inner loop's entry `jump` ends it). It guards the inner loop's
//!   first access, which follows it with only harmless code between, so the outer loop treats
//!   it as that access's check: it moves on to the outer loop's entry when its index does not
//!   change there or moves by a constant the guards cover. Inner loops are visited first.
//!   matmul64's `k` loop loses the compare of the row `c + i * n + jj` its inner loop updates.
//!
//! A table indexed by loaded data, `base + v` with `base` defined before the loop and `v` a
//! value of known range `[0, K]` (a zero-extended byte times 8: `K` within the pre-guard and,
//! with the access's reach, the guard) and no static offset, is covered on every trip once
//! `base <= length` or `base` lies within the pre-guard below 2^64: then `base + v` is in
//! bounds, in the guard, or (wrapped or not) in the pre-guard or memory, each faulting exactly
//! when the compare would trap. One compare before the entry `jump`, `base + P > length + P`
//! for the pre-guard size `P`, traps in the remaining case, `length < base < 2^64 - P`, where
//! every `base + v` is out of bounds, so the first trip's first such access would have trapped:
//! it must sit in the header with only harmless code before it, as above. Every other access
//! in the header with the same base then needs no compare, even after a store or call
//! (lengths never shrink).
//!
//! Everything else keeps its compare: an index moving down with a static offset or past the
//! pre-guard, by a non-constant stride or too far per trip, a first access after a store,
//! call or other trap in the header, or a loop with no single plain entry. The matmul64
//! kernel's inner loop, which walks two arrays with two pointers, loses both of its
//! compare-and-branch pairs: 10 instructions per trip instead of 14 (its wasm32 build needs
//! 12, two of them zero-extending the 32-bit indices); bytes64's histogram and reversal loops
//! lose all of theirs.

use super::iconst_value;
use super::memory::{GUARD_BYTES, PRE_GUARD_BYTES};
use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::dominator_tree::DominatorTree;
use cranelift_codegen::entity::{EntitySet, SecondaryMap};
use cranelift_codegen::flowgraph::ControlFlowGraph;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, Block, BlockArg, Function, Inst, InstBuilder};
use cranelift_codegen::ir::{InstructionData, Opcode, TrapCode, Value, ValueDef};
use std::collections::{BinaryHeap, HashMap};

/// A memory64 bounds check as `memory.rs` emitted it: the `trapnz` of an `index <= length`
/// compare, the memory, how far past `index` the access right after it reaches
/// (`offset + size`) and that access's static `offset`.
#[derive(Clone, Copy)]
pub(super) struct IndexCheck {
    pub trap: Inst,
    pub mem: u32,
    pub end: u64,
    pub offset: u64,
}

/// Deepest expression followed when computing an index's stride (a bound on the work per
/// check; clang's address expressions are two or three operations deep).
const MAX_DEPTH: u32 = 8;

/// Moves the compare of every check in `checks` that the guard covers after the first trip
/// (see the module docs) to its loop's entry edge. Inner loops go first, so that a compare
/// moved to an entry in an outer loop's header can move on to that loop's entry.
/// `cfg` and `domtree` are `func`'s.
pub(super) fn move_to_loop_entries(
    func: &mut Function,
    cfg: &ControlFlowGraph,
    domtree: &DominatorTree,
    checks: &[IndexCheck],
) {
    // A loop's header comes before the headers of the loops inside it in reverse post-order.
    let mut rpo = SecondaryMap::<Block, usize>::new();
    for (n, &b) in domtree.cfg_rpo().enumerate() {
        rpo[b] = n;
    }
    let mut ends: HashMap<Inst, IndexCheck> = checks.iter().map(|c| (c.trap, *c)).collect();
    let mut headers = BinaryHeap::new();
    let mut seen = EntitySet::<Block>::new();
    // Only a block with at least two predecessors can head a loop with an entry edge.
    let mut consider = |trap: Inst, func: &Function, headers: &mut BinaryHeap<(usize, Block)>| {
        if let Some(b) = func.layout.inst_block(trap) {
            if cfg.pred_iter(b).nth(1).is_some() && seen.insert(b) {
                headers.push((rpo[b], b));
            }
        }
    };
    for c in checks {
        consider(c.trap, func, &mut headers);
    }
    while let Some((_, header)) = headers.pop() {
        let Some(mut lp) = Loop::new(func, cfg, domtree, header) else {
            continue;
        };
        for moved in lp.move_checks(func, &ends) {
            ends.insert(moved.trap, moved);
            consider(moved.trap, func, &mut headers);
        }
    }
}

/// A loop header with a single plain entry, and what its back edges do to its parameters.
struct Loop<'a> {
    domtree: &'a DominatorTree,
    header: Block,
    /// The `jump` that enters the loop.
    entry: Inst,
    /// The values `entry` passes to the header's parameters.
    entry_args: Vec<Value>,
    /// Per header parameter, the constant every back edge adds to it, if there is one.
    steps: Vec<Option<u64>>,
    /// Index expressions already rebuilt before `entry`.
    at_entry: HashMap<Value, Value>,
    /// Loop-invariant bases of bounded indices already checked before `entry` (see
    /// `bounded_base`).
    covered: Vec<Value>,
}

impl<'a> Loop<'a> {
    fn new(
        func: &Function,
        cfg: &ControlFlowGraph,
        domtree: &'a DominatorTree,
        header: Block,
    ) -> Option<Self> {
        if !domtree.is_reachable(header) {
            return None;
        }
        let mut entry = None;
        let mut latches = Vec::new();
        for pred in cfg.pred_iter(header) {
            if domtree.block_dominates(header, pred.block) {
                latches.push(pred.inst);
            } else if entry.replace(pred.inst).is_some() {
                return None;
            }
        }
        let entry = entry?;
        if latches.is_empty() {
            return None;
        }
        let dfg = &func.dfg;
        let InstructionData::Jump { destination, .. } = dfg.insts[entry] else {
            return None;
        };
        let entry_args = destination
            .args(&dfg.value_lists)
            .map(|a| match a {
                BlockArg::Value(v) => Some(dfg.resolve_aliases(v)),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?;
        let params = dfg.block_params(header);
        let mut steps: Vec<Option<u64>> = vec![None; params.len()];
        let mut first = true;
        for &latch in &latches {
            let data = &dfg.insts[latch];
            for call in data.branch_destination(&dfg.jump_tables, &dfg.exception_tables) {
                if call.block(&dfg.value_lists) != header {
                    continue;
                }
                for (i, arg) in call.args(&dfg.value_lists).enumerate() {
                    let step = match arg {
                        BlockArg::Value(v) => advance(func, params[i], v),
                        _ => None,
                    };
                    steps[i] = if first || steps[i] == step {
                        step
                    } else {
                        None
                    };
                }
                first = false;
            }
        }
        Some(Loop {
            domtree,
            header,
            entry,
            entry_args,
            steps,
            at_entry: HashMap::new(),
            covered: Vec::new(),
        })
    }

    /// Moves the header's eligible checks to the entry edge (see the module docs). Scans the
    /// header in order: a check's compare may move only while everything before it is
    /// harmless, but one whose bounded index has a base already checked at the entry goes
    /// wherever it is. `checks` maps each check's `trapnz` to the check. Returns the checks
    /// now before the entry `jump`, which an outer loop may move on: each is made before the
    /// loop's first trip, where the access it covers runs, with only harmless code between.
    fn move_checks(
        &mut self,
        func: &mut Function,
        checks: &HashMap<Inst, IndexCheck>,
    ) -> Vec<IndexCheck> {
        let mut leading = true;
        let mut moved = Vec::new();
        let mut inst = func.layout.first_inst(self.header);
        while let Some(i) = inst {
            inst = func.layout.next_inst(i);
            if let Some(check) = checks.get(&i) {
                if self.remove_check(func, check, leading, &mut moved) {
                    continue;
                }
            }
            leading &= harmless(func, i);
        }
        moved
    }

    /// Removes `check` from the header when the guards cover it, after making what the first
    /// trip needs before the entry `jump` (adding a moved compare to `moved`); `leading` says
    /// nothing before it in the header has an effect. Returns whether it did.
    fn remove_check(
        &mut self,
        func: &mut Function,
        check: &IndexCheck,
        leading: bool,
        moved: &mut Vec<IndexCheck>,
    ) -> bool {
        let Some((index, length)) = compare_of(func, check.trap) else {
            return false;
        };
        if let Some(base) = self.bounded_base(func, index, check) {
            if !self.covered.contains(&base) {
                if !leading || !self.first_trip_length(func, length) {
                    return false;
                }
                if !self.check_base_at_entry(func, check.trap, base, length) {
                    return false;
                }
                self.covered.push(base);
            }
            func.layout.remove_inst(check.trap);
            return true;
        }
        if !leading
            || !self.first_trip_length(func, length)
            || !self.covered_after_first_trip(func, index, check)
        {
            return false;
        }
        match self.move_check(func, check.trap) {
            Some(trap) => {
                moved.push(IndexCheck { trap, ..*check });
                true
            }
            None => false,
        }
    }

    /// Whether `length` is what the first trip compares against: the memory's (unchanged
    /// since the entry, as nothing before the compare can grow it), fixed or passed in.
    fn first_trip_length(&self, func: &Function, length: Value) -> bool {
        self.stride(func, length, 0) == Some(0) || self.is_param(func, length)
    }

    /// Whether the guards catch what the compare of `check` on `index` would on every trip
    /// after the first: the index moves up by at most the guard less the access's reach, or
    /// down, with no static offset, by at most the pre-guard.
    fn covered_after_first_trip(&self, func: &Function, index: Value, check: &IndexCheck) -> bool {
        match self.stride(func, index, 0) {
            Some(d) if (d as i64) >= 0 => check.end <= GUARD_BYTES && d <= GUARD_BYTES - check.end,
            Some(d) => check.offset == 0 && d.wrapping_neg() <= PRE_GUARD_BYTES,
            None => false,
        }
    }

    /// For an `index` that is a loop-invariant base plus a value of small known range (at most
    /// the pre-guard, and within the guard with the access's reach), with no static offset:
    /// the base. Such an access cannot leave the guards once the base is at most the length or
    /// within the pre-guard below 2^64, whatever the value added (see the module docs).
    fn bounded_base(&self, func: &Function, index: Value, check: &IndexCheck) -> Option<Value> {
        let dfg = &func.dfg;
        if check.offset != 0 || check.end > GUARD_BYTES {
            return None;
        }
        let ValueDef::Result(inst, 0) = dfg.value_def(dfg.resolve_aliases(index)) else {
            return None;
        };
        let InstructionData::Binary {
            opcode: Opcode::Iadd,
            args,
        } = dfg.insts[inst]
        else {
            return None;
        };
        let limit = PRE_GUARD_BYTES.min(GUARD_BYTES - check.end);
        for (base, add) in [(args[0], args[1]), (args[1], args[0])] {
            let base = dfg.resolve_aliases(base);
            if constant(func, base).is_none()
                && self.invariant(func, base)
                && range_max(func, add, 0).is_some_and(|m| m <= limit)
            {
                return Some(base);
            }
        }
        None
    }

    /// Traps before the entry `jump` unless `base <= length` or `base` is within the
    /// pre-guard below 2^64: one compare of both plus the pre-guard (neither sum wraps when
    /// `base` is in range, as `length < 2^63`). On the first trip this traps exactly when the
    /// check `trap`, whose index is `base` plus at most the pre-guard, would have.
    fn check_base_at_entry(
        &mut self,
        func: &mut Function,
        trap: Inst,
        base: Value,
        length: Value,
    ) -> bool {
        let Some(code) = func.dfg.insts[trap].trap_code() else {
            return false;
        };
        let Some(length) = self.rebuild_at_entry(func, length) else {
            return false;
        };
        let mut pos = FuncCursor::new(func).at_inst(self.entry);
        let shifted = pos.ins().iadd_imm_u(base, PRE_GUARD_BYTES as i64);
        let limit = pos.ins().iadd_imm_u(length, PRE_GUARD_BYTES as i64);
        let out = pos.ins().icmp(IntCC::UnsignedGreaterThan, shifted, limit);
        pos.ins().trapnz(out, code);
        true
    }

    /// Removes the check `trap` from the header and makes its compare, on the first trip's
    /// index and length, before the entry `jump`; returns the new `trapnz`, if it did (it does
    /// whenever `covered_after_first_trip` holds, which accepts only what can be rebuilt).
    fn move_check(&mut self, func: &mut Function, trap: Inst) -> Option<Inst> {
        let (index, length) = compare_of(func, trap)?;
        let code = func.dfg.insts[trap].trap_code()?;
        let first = self.rebuild_at_entry(func, index)?;
        let length = self.rebuild_at_entry(func, length)?;
        let mut pos = FuncCursor::new(func).at_inst(self.entry);
        let out = pos.ins().icmp(IntCC::UnsignedGreaterThan, first, length);
        let new = pos.ins().trapnz(out, code);
        func.layout.remove_inst(trap);
        Some(new)
    }

    /// Whether `v` is one of the header's parameters.
    fn is_param(&self, func: &Function, v: Value) -> bool {
        let v = func.dfg.resolve_aliases(v);
        matches!(func.dfg.value_def(v), ValueDef::Param(b, _) if b == self.header)
    }

    /// Whether `v` is the same on every trip: defined outside the loop, before it.
    fn invariant(&self, func: &Function, v: Value) -> bool {
        let block = match func.dfg.value_def(v) {
            ValueDef::Param(b, _) => Some(b),
            ValueDef::Result(inst, _) => func.layout.inst_block(inst),
            _ => None,
        };
        block.is_some_and(|b| b != self.header && self.domtree.block_dominates(b, self.header))
    }

    /// How much `v` grows per trip (modulo 2^64), if it is an affine function of the header's
    /// parameters with constant coefficients (see the module docs).
    fn stride(&self, func: &Function, v: Value, depth: u32) -> Option<u64> {
        let dfg = &func.dfg;
        let v = dfg.resolve_aliases(v);
        if dfg.value_type(v) != types::I64 || depth > MAX_DEPTH {
            return None;
        }
        if constant(func, v).is_some() || self.invariant(func, v) {
            return Some(0);
        }
        let inst = match dfg.value_def(v) {
            ValueDef::Param(b, i) if b == self.header => return self.steps[i],
            ValueDef::Result(inst, 0) => inst,
            _ => return None,
        };
        let s = |x: Value| self.stride(func, x, depth + 1);
        match dfg.insts[inst] {
            InstructionData::Binary {
                opcode,
                args: [a, b],
            } => match opcode {
                Opcode::Iadd => Some(s(a)?.wrapping_add(s(b)?)),
                Opcode::Isub => Some(s(a)?.wrapping_sub(s(b)?)),
                Opcode::Ishl => Some(s(a)?.wrapping_shl(constant(func, b)? as u32 & 63)),
                Opcode::Imul => match (constant(func, a), constant(func, b)) {
                    (_, Some(k)) => Some(s(a)?.wrapping_mul(k)),
                    (Some(k), _) => Some(s(b)?.wrapping_mul(k)),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        }
    }

    /// The value `v` has on the first trip, computed before the entry `jump` (header
    /// parameters replaced by the entry's arguments); `None` if `v` is not an expression
    /// `stride` accepts.
    fn rebuild_at_entry(&mut self, func: &mut Function, v: Value) -> Option<Value> {
        let v = func.dfg.resolve_aliases(v);
        if self.invariant(func, v) {
            return Some(v);
        }
        if let Some(&done) = self.at_entry.get(&v) {
            return Some(done);
        }
        let new = match func.dfg.value_def(v) {
            ValueDef::Param(b, i) if b == self.header => return Some(self.entry_args[i]),
            ValueDef::Result(inst, 0) => {
                let data = func.dfg.insts[inst];
                if let Some(k) = constant(func, v) {
                    let mut pos = FuncCursor::new(func).at_inst(self.entry);
                    pos.ins().iconst(types::I64, k as i64)
                } else {
                    match data {
                        InstructionData::Binary {
                            opcode,
                            args: [a, b],
                        } => {
                            let a = self.rebuild_at_entry(func, a)?;
                            let b = self.rebuild_at_entry(func, b)?;
                            let mut pos = FuncCursor::new(func).at_inst(self.entry);
                            let (i, dfg) = pos.ins().Binary(opcode, types::I64, a, b);
                            dfg.first_result(i)
                        }
                        _ => return None,
                    }
                }
            }
            _ => return None,
        };
        self.at_entry.insert(v, new);
        Some(new)
    }
}

/// The index and length of the `icmp ugt index, length` that `trap` tests (the length is a
/// constant when the memory cannot change size).
pub(super) fn compare_of(func: &Function, trap: Inst) -> Option<(Value, Value)> {
    let dfg = &func.dfg;
    let InstructionData::CondTrap {
        opcode: Opcode::Trapnz,
        arg,
        ..
    } = dfg.insts[trap]
    else {
        return None;
    };
    let ValueDef::Result(cmp, 0) = dfg.value_def(dfg.resolve_aliases(arg)) else {
        return None;
    };
    match dfg.insts[cmp] {
        InstructionData::IntCompare {
            cond: IntCC::UnsignedGreaterThan,
            args: [index, len],
            ..
        } => Some((index, len)),
        _ => None,
    }
}

/// The constant `v` is, if it is one.
fn constant(func: &Function, v: Value) -> Option<u64> {
    iconst_value(&func.dfg, v).map(|k| k as u64)
}

/// The constant a back edge adds to header parameter `param` (modulo 2^64) when it passes `v`.
fn advance(func: &Function, param: Value, v: Value) -> Option<u64> {
    let dfg = &func.dfg;
    let v = dfg.resolve_aliases(v);
    if v == param {
        return Some(0);
    }
    let is_param = |x: Value| dfg.resolve_aliases(x) == param;
    let ValueDef::Result(inst, 0) = dfg.value_def(v) else {
        return None;
    };
    match dfg.insts[inst] {
        InstructionData::Binary {
            opcode: Opcode::Iadd,
            args: [a, b],
        } => match (is_param(a), is_param(b)) {
            (true, _) => constant(func, b),
            (_, true) => constant(func, a),
            _ => None,
        },
        InstructionData::Binary {
            opcode: Opcode::Isub,
            args: [a, b],
        } if is_param(a) => constant(func, b).map(u64::wrapping_neg),
        _ => None,
    }
}

/// Whether `inst` may run before a moved compare: it has no side effect and cannot trap,
/// except as an out-of-bounds memory access or check (the trap the compare makes).
fn harmless(func: &Function, inst: Inst) -> bool {
    let data = &func.dfg.insts[inst];
    let op = data.opcode();
    if op.is_call() || op.can_store() || op.other_side_effects() || op.is_branch() {
        return false;
    }
    let heap =
        |code: Option<TrapCode>| code.is_none() || code == Some(TrapCode::HEAP_OUT_OF_BOUNDS);
    if op.can_load() {
        return heap(data.memflags_trap_code(&func.dfg));
    }
    match data.trap_code() {
        Some(code) => code == TrapCode::HEAP_OUT_OF_BOUNDS,
        None => !op.can_trap(),
    }
}

/// The largest value `v` can take, when its definition bounds it: a zero-extension or narrow
/// zero-extending load, a mask, a shift, a sum or a product by a constant of such values
/// (without wrapping in `v`'s type).
fn range_max(func: &Function, v: Value, depth: u32) -> Option<u64> {
    let dfg = &func.dfg;
    let v = dfg.resolve_aliases(v);
    let bits = dfg.value_type(v).bits();
    let type_max = u64::MAX >> (64 - bits.clamp(1, 64));
    if let Some(k) = constant(func, v) {
        return Some(k & type_max);
    }
    let ValueDef::Result(inst, 0) = dfg.value_def(v) else {
        return None;
    };
    if depth > MAX_DEPTH {
        return None;
    }
    let r = |x: Value| range_max(func, x, depth + 1);
    let shift = |x: Value| constant(func, x).map(|k| (k as u32) & (bits - 1));
    let max = match dfg.insts[inst] {
        InstructionData::Unary {
            opcode: Opcode::Uextend,
            arg,
        } => {
            let from = u64::MAX >> (64 - dfg.value_type(arg).bits().clamp(1, 64));
            r(arg).map_or(from, |m| m.min(from))
        }
        InstructionData::Load { opcode, .. } => match opcode {
            Opcode::Uload8 => u8::MAX.into(),
            Opcode::Uload16 => u16::MAX.into(),
            Opcode::Uload32 => u32::MAX.into(),
            _ => return None,
        },
        InstructionData::Binary {
            opcode,
            args: [a, b],
        } => match opcode {
            Opcode::Band => match (r(a), r(b)) {
                (Some(x), Some(y)) => x.min(y),
                (Some(x), None) | (None, Some(x)) => x,
                (None, None) => return None,
            },
            Opcode::Ishl => {
                let (m, s) = (r(a)?, shift(b)?);
                if m.leading_zeros() < s {
                    return None;
                }
                m << s
            }
            Opcode::Ushr => r(a).unwrap_or(type_max) >> shift(b)?,
            Opcode::Iadd => r(a)?.checked_add(r(b)?)?,
            Opcode::Imul => r(a)?.checked_mul(r(b)?)?,
            _ => return None,
        },
        _ => return None,
    };
    (max <= type_max).then_some(max)
}
