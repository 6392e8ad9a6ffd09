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
//! range begins right there and has nothing to split off). The pass changes no value and no
//! control flow; it runs in [`crate::object::compile_function`] after the mid-end.

use crate::branch_sites::{Preds, Site};
use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::entity::EntitySet;
use cranelift_codegen::ir::{types, Block, Function, InstBuilder, ValueDef};
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
    }
    inserted
}
