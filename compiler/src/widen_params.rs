//! Widening of 32-bit block parameters that are zero-extended where they are used: a loop's
//! 32-bit address counter travels as a 64-bit value, so no `mov r32, r32` is left in the loop.
//!
//! A wasm32 address is an `i32`, and every memory access zero-extends it to 64 bits before
//! adding the base register (`uextend.i64`). On x86-64 a 32-bit ALU operation already zeroes
//! the upper half of its register, and Cranelift's lowering knows that for values an
//! `iadd`, `isub`, `imul`, `band`, `bor`, `bxor`, `ishl` or `ushr` defines; it does not know it
//! for a block parameter, so an address carried around a loop in a parameter costs a
//! `mov %e.., %e..` at each access, on every iteration. `matmul64`'s inner loop
//! (`c[j] += a * b[j]`) ran 10 instructions per trip, 2 of them such moves (FINDINGS 31).
//!
//! This pass gives such a parameter type `i64` and passes it `uextend.i64 v` (or a 64-bit
//! constant) on every incoming edge. Where `v` comes from one of the operations above, that
//! extension costs nothing; where it does not (a function argument, a load), it costs one
//! move on that edge. The parameter's extended uses read the new parameter directly and its
//! 32-bit uses read `ireduce.i32` of it, which is free. A parameter is widened when the
//! extensions it saves, weighted by loop depth (8× per level), outweigh the moves it adds.
//! The pass runs between `Context::optimize` and lowering (`crate::object::compile_function`),
//! after [`crate::hoist_remat`]; it never changes the control flow, every value keeps its
//! meaning (the new parameter is exactly the extension of the old one), and debug builds run
//! Cranelift's verifier on its output.

use crate::branch_sites::{Preds, Site};
use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::entity::SecondaryMap;
use cranelift_codegen::ir::{
    types, Block, Function, Inst, InstBuilder, InstructionData, Opcode, Value, ValueDef,
};
use cranelift_codegen::loop_analysis::LoopAnalysis;

/// The estimated execution weight of `block`: 8 to the power of its loop depth (capped).
fn weight(loops: &LoopAnalysis, block: Block) -> u64 {
    8u64.pow(loops.loop_level(block).level().min(6) as u32)
}

/// Whether the 64-bit extension of the `i32` value `v` is free on x86-64: its defining
/// operation writes a 32-bit register, which zeroes the upper half (the operations
/// Cranelift's x64 lowering recognises), or it is a constant.
fn extends_for_free(func: &Function, v: Value) -> bool {
    match func.dfg.value_def(v) {
        ValueDef::Result(inst, _) => matches!(
            func.dfg.insts[inst].opcode(),
            Opcode::Iadd
                | Opcode::Isub
                | Opcode::Imul
                | Opcode::Band
                | Opcode::Bor
                | Opcode::Bxor
                | Opcode::Ishl
                | Opcode::Ushr
                | Opcode::Iconst
        ),
        _ => false,
    }
}

/// Widens the 32-bit block parameters of `func` whose extensions it pays to remove (see the
/// module documentation). `loops` must describe `func`. Returns how many were widened.
pub fn widen(func: &mut Function, loops: &LoopAnalysis) -> usize {
    // The `uextend.i64` instructions reading each 32-bit block parameter.
    let mut extends = SecondaryMap::<Value, Vec<Inst>>::new();
    let mut params = Vec::new();
    for block in func.layout.blocks() {
        for inst in func.layout.block_insts(block) {
            let InstructionData::Unary {
                opcode: Opcode::Uextend,
                arg,
            } = func.dfg.insts[inst]
            else {
                continue;
            };
            let arg = func.dfg.resolve_aliases(arg);
            if func.dfg.ctrl_typevar(inst) != types::I64 || func.dfg.value_type(arg) != types::I32 {
                continue;
            }
            if let ValueDef::Param(..) = func.dfg.value_def(arg) {
                if extends[arg].is_empty() {
                    params.push(arg);
                }
                extends[arg].push(inst);
            }
        }
    }
    if params.is_empty() {
        return 0;
    }
    let preds = Preds::collect(func);
    let entry = func.layout.entry_block();
    // The 64-bit parameter that replaced each widened one, by the `ireduce` standing in for
    // the old parameter: an argument that is such an `ireduce` passes the wide value as is.
    let mut wide_of = SecondaryMap::<Value, Option<Value>>::new();
    let mut widened = 0;
    for p in params {
        let ValueDef::Param(block, i) = func.dfg.value_def(p) else {
            continue;
        };
        // The entry block's parameters are the function's; `try_call` successors may receive
        // call results; a `br_table` has no place for an extension per target.
        let sites = &preds.sites[block];
        if Some(block) == entry
            || preds.frozen.contains(block)
            || sites.iter().any(|s| matches!(s, Site::Table(..)))
        {
            continue;
        }
        let saved: u64 = extends[p]
            .iter()
            .filter_map(|&u| func.layout.inst_block(u))
            .map(|b| weight(loops, b))
            .sum();
        let mut added = 0u64;
        let mut editable = true;
        for &site in sites {
            let Site::Inst(branch, _) = site else {
                unreachable!("tables excluded above")
            };
            match site.arg(func, i) {
                Some(v) => {
                    if v != p && wide_of[v].is_none() && !extends_for_free(func, v) {
                        let from = func.layout.inst_block(branch).expect("a placed branch");
                        added += weight(loops, from);
                    }
                }
                None => editable = false,
            }
        }
        if !editable || saved <= added {
            continue;
        }

        // The new parameter, in the old one's place, and the 32-bit view of it.
        let wide = func.dfg.replace_block_param(p, types::I64);
        let mut cur = FuncCursor::new(func);
        cur.goto_first_insertion_point(block);
        let narrow = cur.ins().ireduce(types::I32, wide);
        let func = cur.func;
        func.dfg.change_to_alias(p, narrow);
        wide_of[narrow] = Some(wide);
        for &u in &extends[p] {
            let r = func.dfg.first_result(u);
            func.layout.remove_inst(u);
            func.dfg.detach_inst_results(u);
            func.dfg.change_to_alias(r, wide);
        }
        for &site in &preds.sites[block] {
            let (Site::Inst(branch, _), Some(v)) = (site, site.arg(func, i)) else {
                unreachable!("checked above");
            };
            let arg = match wide_of[v] {
                Some(w) => w,
                None => {
                    let mut cur = FuncCursor::new(func).at_inst(branch);
                    match crate::translate::iconst_value(&cur.func.dfg, v) {
                        Some(c) => cur.ins().iconst(types::I64, i64::from(c as u32)),
                        None => cur.ins().uextend(types::I64, v),
                    }
                }
            };
            site.set_arg(func, i, arg);
        }
        widened += 1;
    }
    widened
}
