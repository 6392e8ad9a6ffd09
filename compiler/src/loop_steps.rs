//! A loop's steps (`x' = x + k` passed back to the loop header) arranged so that `x` and `x'`
//! can share one register and the back edge needs no copy.
//!
//! A trip of a counted loop should end `add $k, x; jne header`. Two things in Cranelift's
//! mid-end output keep `x` alive after `x'` is computed, so the register allocator gives them
//! two registers and the back edge becomes an edge block, `mov x', x; jmp header`, behind a
//! `je exit` (FINDINGS 43):
//!
//! - The mid-end rewrites `x + k == K` as `x == K - k` (and `!=` alike), so the exit test
//!   reads `x` after the step. This pass makes the test compare `x'` with `K` again wherever
//!   `x'` is an argument of the same branch: `x == K - k` holds exactly when `x + k == K` in
//!   wrapping arithmetic.
//! - Elaboration places the branch's condition and arguments in their order of use, so a
//!   step passed before a value whose computation reads `x` comes first, and so does the
//!   compare of `for (i = 0; i < n; i++)`. This pass moves a compare that only the `brif`
//!   reads down to just before it (lowering fuses such a compare into the branch, so its
//!   operands were read there already), and then a step that only its own block reads down to
//!   just before its first reader. Nothing between the two places reads the moved value, so
//!   no value changes, and no point of the block has more values live than before.
//!
//! It runs after the mid-end (in [`crate::object::compile_function`]), which would undo the
//! first rewrite, and changes no control flow.

use crate::translate::{constant_addend, iconst_value};
use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    Block, BlockArg, Function, Inst, InstBuilder, InstructionData, Opcode, Value,
};
use std::collections::HashMap;

/// The values `term` passes to its successors that are steps: `iadd x, k` with a constant `k`.
fn passed_steps(func: &Function, term: Inst) -> Vec<Value> {
    let mut steps = Vec::new();
    let dests =
        func.dfg.insts[term].branch_destination(&func.dfg.jump_tables, &func.dfg.exception_tables);
    for call in dests {
        for arg in call.args(&func.dfg.value_lists) {
            if let BlockArg::Value(v) = arg {
                let v = func.dfg.resolve_aliases(v);
                if constant_addend(&func.dfg, v).is_some() && !steps.contains(&v) {
                    steps.push(v);
                }
            }
        }
    }
    steps
}

/// Rearranges the loop steps of `func` as the module documentation describes and returns how
/// many exit tests and steps it changed.
pub fn rewrite(func: &mut Function) -> usize {
    retarget_exit_tests(func) + sink_steps(func)
}

/// Makes each `brif` on `x == K` or `x != K` test `x + k` against `K + k` instead when the
/// branch passes `x + k` on; returns how many.
fn retarget_exit_tests(func: &mut Function) -> usize {
    // (the branch, its condition code, the stepped value, the new constant)
    let mut found = Vec::new();
    for block in func.layout.blocks() {
        let Some(term) = func.layout.last_inst(block) else {
            continue;
        };
        let InstructionData::Brif { arg: cond, .. } = func.dfg.insts[term] else {
            continue;
        };
        let Some(cmp) = func.dfg.value_def(func.dfg.resolve_aliases(cond)).inst() else {
            continue;
        };
        let InstructionData::IntCompare {
            cond: cc,
            args: [x, limit],
            ..
        } = func.dfg.insts[cmp]
        else {
            continue;
        };
        if !matches!(cc, IntCC::Equal | IntCC::NotEqual) {
            continue;
        }
        let (x, limit) = (func.dfg.resolve_aliases(x), func.dfg.resolve_aliases(limit));
        let Some(limit) = iconst_value(&func.dfg, limit) else {
            continue;
        };
        let stepped = passed_steps(func, term).into_iter().find_map(|v| {
            constant_addend(&func.dfg, v)
                .filter(|&(base, _)| base == x)
                .map(|(_, k)| (v, k))
        });
        if let Some((next, k)) = stepped {
            found.push((term, cc, next, limit.wrapping_add(k)));
        }
    }
    for &(term, cc, next, limit) in &found {
        let ty = func.dfg.value_type(next);
        let limit = if ty.bits() < 64 {
            limit & ((1i64 << ty.bits()) - 1)
        } else {
            limit
        };
        let mut cur = FuncCursor::new(func).at_inst(term);
        let k = cur.ins().iconst(ty, limit);
        let test = cur.ins().icmp(cc, next, k);
        let InstructionData::Brif { arg, .. } = &mut cur.func.dfg.insts[term] else {
            unreachable!("collected as a brif");
        };
        // The old compare is left without this use; lowering skips unused pure instructions.
        *arg = test;
    }
    found.len()
}

/// Moves each step a block passes on, and that only instructions of that block read, down to
/// just before its first reader, after moving the compare a `brif` branches on (when the
/// branch is its only reader) down to just before the branch; returns how many moved.
fn sink_steps(func: &mut Function) -> usize {
    // Candidates, each with the block that must be its only reader and whether it is a
    // compare (which only that block's branch may read): the steps defined in the block whose
    // terminator passes them, and the compares a block's `brif` branches on.
    let mut home: HashMap<Value, (Block, bool)> = HashMap::new();
    let mut compares = Vec::new();
    for block in func.layout.blocks() {
        let Some(term) = func.layout.last_inst(block) else {
            continue;
        };
        let defined_here = |v: Value| {
            let def = func.dfg.value_def(v).inst()?;
            (func.layout.inst_block(def) == Some(block)).then_some(def)
        };
        for v in passed_steps(func, term) {
            if defined_here(v).is_some() {
                home.insert(v, (block, false));
            }
        }
        if let InstructionData::Brif { arg, .. } = func.dfg.insts[term] {
            let cond = func.dfg.resolve_aliases(arg);
            if let Some(def) = defined_here(cond) {
                if func.dfg.insts[def].opcode() == Opcode::Icmp {
                    home.insert(cond, (block, true));
                    compares.push((cond, term));
                }
            }
        }
    }
    if home.is_empty() {
        return 0;
    }
    // Drop the candidates read outside their block, and the compares read by anything but
    // their branch.
    for block in func.layout.blocks() {
        let term = func.layout.last_inst(block);
        for inst in func.layout.block_insts(block) {
            for v in func.dfg.inst_values(inst) {
                let v = func.dfg.resolve_aliases(v);
                let Some(&(b, is_compare)) = home.get(&v) else {
                    continue;
                };
                if b != block || (is_compare && Some(inst) != term) {
                    home.remove(&v);
                }
            }
        }
    }
    let mut moved = 0;
    for &(cond, term) in &compares {
        if home.remove(&cond).is_some() {
            let def = func.dfg.value_def(cond).unwrap_inst();
            if func.layout.next_inst(def) != Some(term) {
                func.layout.remove_inst(def);
                func.layout.insert_inst(def, term);
                moved += 1;
            }
        }
    }
    let mut steps: Vec<(Value, Block)> = home.into_iter().map(|(v, (b, _))| (v, b)).collect();
    steps.sort_unstable_by_key(|&(v, _)| v); // a deterministic order
    for (v, block) in steps {
        let def = func.dfg.value_def(v).unwrap_inst();
        let first_reader = func
            .layout
            .block_insts(block)
            .skip_while(|&i| i != def)
            .skip(1)
            .find(|&i| {
                func.dfg
                    .inst_values(i)
                    .any(|a| func.dfg.resolve_aliases(a) == v)
            });
        let Some(reader) = first_reader else {
            continue;
        };
        if func.layout.next_inst(def) == Some(reader) {
            continue;
        }
        func.layout.remove_inst(def);
        func.layout.insert_inst(def, reader);
        moved += 1;
    }
    moved
}
