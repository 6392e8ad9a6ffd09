//! Memory64 bounds checks in loops: only the first trip needs the compare.
//!
//! A memory64 access whose `offset + size` fits in the guard traps unless `index <= length`
//! (see `memory.rs`), one compare per access. In a loop that walks memory with a moving index
//! the guard can do that compare's job on every trip but the first:
//!
//! - Let the access be in the loop header `H`, so that it runs on every trip, and let its
//!   index `x` advance by a constant `D` per trip: `x` is built by `iadd`, `isub`, `ishl` or
//!   `imul` by constants from values defined before the loop and from `H`'s parameters, each
//!   of which every back edge passes as `p + C` for its own constant `C` (or `p` itself).
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
//!
//! Everything else keeps its compare: an index moving downwards (it may wrap below zero), by
//! a non-constant stride or too far per trip, an access after a store, call or other trap in
//! the header, or a loop with no single plain entry. The matmul64 kernel's inner loop, which
//! walks two arrays with two pointers, loses both of its compare-and-branch pairs: 10
//! instructions per trip instead of 14 (its wasm32 build needs 12, two of them
//! zero-extending the 32-bit indices).

use super::iconst_value;
use super::memory::GUARD_BYTES;
use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::dominator_tree::DominatorTree;
use cranelift_codegen::entity::EntitySet;
use cranelift_codegen::flowgraph::ControlFlowGraph;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, Block, BlockArg, Function, Inst, InstBuilder};
use cranelift_codegen::ir::{InstructionData, Opcode, TrapCode, Value, ValueDef};
use std::collections::HashMap;

/// A memory64 bounds check as `memory.rs` emitted it: the `trapnz` of an `index <= length`
/// compare, and how far past `index` the access right after it reaches (`offset + size`).
#[derive(Clone, Copy)]
pub(super) struct IndexCheck {
    pub trap: Inst,
    pub end: u64,
}

/// Deepest expression followed when computing an index's stride (a bound on the work per
/// check; clang's address expressions are two or three operations deep).
const MAX_DEPTH: u32 = 8;

/// Moves the compare of every check in `checks` that the guard covers after the first trip
/// (see the module docs) to its loop's entry edge.
pub(super) fn move_to_loop_entries(func: &mut Function, checks: &[IndexCheck]) {
    if checks.is_empty() {
        return;
    }
    let cfg = ControlFlowGraph::with_function(func);
    // Only a block with at least two predecessors can head a loop with an entry edge.
    let mut headers: Vec<Block> = Vec::new();
    let mut seen = EntitySet::<Block>::new();
    let mut ends = HashMap::new();
    for c in checks {
        match func.layout.inst_block(c.trap) {
            Some(b) if cfg.pred_iter(b).nth(1).is_some() => {
                ends.insert(c.trap, c.end);
                if seen.insert(b) {
                    headers.push(b);
                }
            }
            _ => {}
        }
    }
    if headers.is_empty() {
        return;
    }
    let domtree = DominatorTree::with_function(func, &cfg);
    for header in headers {
        if let Some(mut lp) = Loop::new(func, &cfg, &domtree, header) {
            lp.move_checks(func, &ends);
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
        })
    }

    /// Moves the header's eligible checks to the entry edge, scanning the header in order
    /// while everything before the current point is harmless (see the module docs).
    /// `ends` maps each check's `trapnz` to its access's reach.
    fn move_checks(&mut self, func: &mut Function, ends: &HashMap<Inst, u64>) {
        let mut inst = func.layout.first_inst(self.header);
        while let Some(i) = inst {
            inst = func.layout.next_inst(i);
            if let Some(&end) = ends.get(&i) {
                if self.covered_after_first_trip(func, i, end) && self.move_check(func, i) {
                    continue;
                }
            }
            if !harmless(func, i) {
                return;
            }
        }
    }

    /// Whether the guard catches what the compare of check `trap` (whose access reaches `end`
    /// bytes past the index) would on every trip after the first.
    fn covered_after_first_trip(&self, func: &Function, trap: Inst, end: u64) -> bool {
        let Some((index, length)) = compare_of(func, trap) else {
            return false;
        };
        // The length the first trip compares against: the memory's (unchanged since the
        // entry, as nothing before the compare can grow it), fixed or passed in.
        if self.stride(func, length, 0) != Some(0) && !self.is_param(func, length) {
            return false;
        }
        match self.stride(func, index, 0) {
            Some(d) => end <= GUARD_BYTES && d <= GUARD_BYTES - end,
            None => false,
        }
    }

    /// Removes the check `trap` from the header and makes its compare, on the first trip's
    /// index and length, before the entry `jump`; returns whether it did (it does whenever
    /// `covered_after_first_trip` holds, which accepts only what can be rebuilt).
    fn move_check(&mut self, func: &mut Function, trap: Inst) -> bool {
        let Some((index, length)) = compare_of(func, trap) else {
            return false;
        };
        let Some(code) = func.dfg.insts[trap].trap_code() else {
            return false;
        };
        let first = self.rebuild_at_entry(func, index);
        let length = self.rebuild_at_entry(func, length);
        let (Some(first), Some(length)) = (first, length) else {
            return false;
        };
        let mut pos = FuncCursor::new(func).at_inst(self.entry);
        let out = pos.ins().icmp(IntCC::UnsignedGreaterThan, first, length);
        pos.ins().trapnz(out, code);
        func.layout.remove_inst(trap);
        true
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
fn compare_of(func: &Function, trap: Inst) -> Option<(Value, Value)> {
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

/// The constant a back edge adds to header parameter `param` when it passes `v`.
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
