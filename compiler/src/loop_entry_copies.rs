//! Copies of the values an innermost loop receives on entry, so that the register allocator
//! can keep its loop-carried values in registers in functions that make calls.
//!
//! regalloc2 joins a block parameter and the values branches pass to it into one live range
//! when they do not overlap. A loop-carried sum that also lives through an outer loop with a
//! call in it (`memset` per window, say) is then one range that crosses the call, and regalloc2
//! tends to give the whole range a stack slot and reload and store it around each use, inside
//! the inner loop too: `sieve`'s scan loop loaded and stored three values on every trip
//! (FINDINGS 36). An explicit copy on each entry edge (`iadd v, 0`, which the mid-end would
//! remove and so runs after it) starts a new range that only spans the loop, and that range
//! gets a register; it costs one instruction per entry into the loop.
//!
//! The copies are made only where that range is likely to help: in functions that contain a
//! call, for innermost loops without a call of their own, for integer arguments that are not
//! constants and are not computed in the block that branches into the loop (such a value's
//! range begins right there and has nothing to split off).
//!
//! The same loops, when they have a single entry edge, also get a copy of each instance
//! pointer (the memory base above all: a `readonly` vmctx load that the mid-end hoists to the
//! function's entry) that they read at least [`MIN_READS`] times, and read the copy instead.
//! The pointer's own range spans the whole function and its calls, so regalloc2 often spills
//! it and reloads it at every access: `sort`'s merge loop reloaded the memory base twice per
//! element (FINDINGS 39). They also get a copy of each integer an enclosing loop carries
//! (a parameter of an outer loop's header) that they read: such a value lives through the
//! outer loop's calls, and regalloc2 reloaded `sieve`'s sampling stride from its stack slot
//! in the scan loop and stored it back on every trip (FINDINGS 45). The pass changes no value
//! and no control flow; it runs in [`crate::object::compile_function`] after the mid-end.

use crate::branch_sites::{Preds, Site};
use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::entity::{EntitySet, SecondaryMap};
use cranelift_codegen::ir::{
    types, Block, Function, Inst, InstBuilder, InstructionData, Opcode, Value, ValueDef,
};
use cranelift_codegen::loop_analysis::{Loop, LoopAnalysis};

/// Whether `block` contains a call.
fn calls(func: &Function, block: Block) -> bool {
    func.layout
        .block_insts(block)
        .any(|i| func.dfg.insts[i].opcode().is_call())
}

/// Inserts the entry copies of `func`'s innermost loops (see the module documentation) and
/// returns how many. `loops` must describe `func`.
pub fn insert(func: &mut Function, loops: &LoopAnalysis) -> usize {
    // The loops that contain a call (with every loop around them), found in one walk.
    let mut with_call = EntitySet::<Loop>::new();
    let mut any_call = false;
    for block in func.layout.blocks() {
        if !calls(func, block) {
            continue;
        }
        any_call = true;
        let mut lp = loops.innermost_loop(block);
        while let Some(l) = lp {
            if !with_call.insert(l) {
                break;
            }
            lp = loops.loop_parent(l);
        }
    }
    if !any_call {
        return 0;
    }
    let mut outer = EntitySet::<Loop>::new();
    for lp in loops.loops() {
        if let Some(parent) = loops.loop_parent(lp) {
            outer.insert(parent);
        }
    }
    let preds = Preds::collect(func);
    let mut blocks_of = SecondaryMap::<Loop, Vec<Block>>::new();
    for block in func.layout.blocks() {
        if let Some(l) = loops.innermost_loop(block) {
            blocks_of[l].push(block);
        }
    }
    let mut inserted = 0;
    for lp in loops.loops() {
        let header = loops.loop_header(lp);
        if outer.contains(lp) || with_call.contains(lp) || preds.frozen.contains(header) {
            continue;
        }
        for &site in &preds.sites[header] {
            // Entry edges only, and only from `jump`s and `brif`s: a copy placed before a
            // `br_table` would run on every dispatch, whichever target it takes.
            let Site::Inst(branch, _) = site else {
                continue;
            };
            let from = func.layout.inst_block(branch).expect("a placed branch");
            if loops.is_in_loop(from, lp) {
                continue;
            }
            let count = site.call(func).args(&func.dfg.value_lists).count();
            for i in 0..count {
                let Some(v) = site.arg(func, i) else {
                    continue;
                };
                let ty = func.dfg.value_type(v);
                let computed_here = match func.dfg.value_def(v) {
                    ValueDef::Result(inst, _) => func.layout.inst_block(inst) == Some(from),
                    ValueDef::Param(..) => false,
                    ValueDef::Union(..) => true,
                };
                if (ty != types::I32 && ty != types::I64)
                    || computed_here
                    || crate::translate::iconst_value(&func.dfg, v).is_some()
                {
                    continue;
                }
                let mut cur = FuncCursor::new(func).at_inst(branch);
                let zero = cur.ins().iconst(ty, 0);
                let copy = cur.ins().iadd(v, zero);
                site.set_arg(func, i, copy);
                inserted += 1;
            }
        }
        inserted += copy_outside_values(func, loops, lp, &preds.sites[header], &blocks_of[lp]);
    }
    inserted
}

/// How many times a loop must read an instance pointer for a copy to pay for itself.
const MIN_READS: usize = 3;

/// Whether `v` is an instance pointer: a 64-bit `readonly`, `can_move` load (the memory
/// base, a table's or the builtins' address; not the 32-bit type ids loaded the same way),
/// which the mid-end hoists to the function's entry.
fn instance_pointer(func: &Function, v: Value) -> bool {
    if func.dfg.value_type(v) != types::I64 {
        return false;
    }
    match func.dfg.value_def(v) {
        ValueDef::Result(inst, 0) => match func.dfg.insts[inst] {
            InstructionData::Load {
                opcode: Opcode::Load,
                flags,
                ..
            } => {
                let f = func.dfg.mem_flags[flags];
                f.readonly() && f.can_move()
            }
            _ => false,
        },
        _ => false,
    }
}

/// Whether `v` is an integer a loop carries: a parameter of a loop header. The caller checks
/// that the header is outside the loop reading `v`, so it is an enclosing loop's (or, where a
/// loop reads what an earlier loop left, that loop's; the copy is as cheap there).
fn outer_carried(func: &Function, loops: &LoopAnalysis, v: Value) -> bool {
    matches!(func.dfg.value_type(v), types::I32 | types::I64)
        && matches!(func.dfg.value_def(v), ValueDef::Param(b, _) if loops.is_loop_header(b).is_some())
}

/// For a loop with a single entry edge: copies on that edge each instance pointer that the
/// loop's instructions read at least [`MIN_READS`] times, and each integer an enclosing loop
/// carries that they read at all (both defined outside the loop), and makes the loop read the
/// copies, so that each gets a register for the loop's length instead of a reload at each use
/// (and, for a value the register allocator split, a store back to its stack slot on every
/// back edge). Returns how many copies it made.
fn copy_outside_values(
    func: &mut Function,
    loops: &LoopAnalysis,
    lp: Loop,
    sites: &[Site],
    blocks: &[Block],
) -> usize {
    // The edges into the header from outside the loop: `Some(branch)` for a `jump` or `brif`,
    // `None` for a `br_table` edge (not placed by block here, so it rules the loop out).
    let mut entries = sites.iter().filter_map(|s| match *s {
        Site::Inst(branch, _) => {
            let from = func.layout.inst_block(branch)?;
            (!loops.is_in_loop(from, lp)).then_some(Some(branch))
        }
        Site::Table(..) => Some(None),
    });
    let (Some(Some(branch)), None) = (entries.next(), entries.next()) else {
        return 0;
    };
    // Every read of an outside instance pointer or outer-loop value in the loop: (instruction,
    // argument, value).
    let mut reads: Vec<(Inst, usize, Value)> = Vec::new();
    for &block in blocks {
        for inst in func.layout.block_insts(block) {
            for (k, &v) in func.dfg.inst_args(inst).iter().enumerate() {
                let home = match func.dfg.value_def(v) {
                    ValueDef::Result(def, _) => func.layout.inst_block(def),
                    ValueDef::Param(b, _) => Some(b),
                    _ => None,
                };
                let outside = home.is_some_and(|b| !loops.is_in_loop(b, lp));
                if outside && (instance_pointer(func, v) || outer_carried(func, loops, v)) {
                    reads.push((inst, k, v));
                }
            }
        }
    }
    // A loop reads few distinct outside values: a list is the right map.
    let mut counts: Vec<(Value, usize)> = Vec::new();
    for &(_, _, v) in &reads {
        match counts.iter_mut().find(|(p, _)| *p == v) {
            Some((_, n)) => *n += 1,
            None => counts.push((v, 1)),
        }
    }
    let mut copies: Vec<(Value, Value)> = Vec::new();
    for &(inst, k, v) in &reads {
        if instance_pointer(func, v) && counts.iter().any(|&(p, n)| p == v && n < MIN_READS) {
            continue;
        }
        let copy = match copies.iter().find(|(o, _)| *o == v) {
            Some(&(_, c)) => c,
            None => {
                let ty = func.dfg.value_type(v);
                let mut cur = FuncCursor::new(func).at_inst(branch);
                // A `bor`, not an `iadd`: x64 lowering folds an `iadd` of 0 into the
                // addressing modes of the accesses, which would read `v` again.
                let zero = cur.ins().iconst(ty, 0);
                let c = cur.ins().bor(v, zero);
                copies.push((v, c));
                c
            }
        };
        func.dfg.inst_args_mut(inst)[k] = copy;
    }
    copies.len()
}
