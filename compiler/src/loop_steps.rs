//! A loop's steps (`x' = x + k` passed back to the loop header) arranged so that `x` and `x'`
//! can share one register and the back edge needs no copy.
//!
//! A trip of a counted loop should end `add $k, x; jne header`. Three things keep `x` alive
//! after `x'` is computed, so the register allocator gives them two registers and the back
//! edge becomes an edge block, `mov x', x; jmp header`, behind a `je exit` (FINDINGS 43, 46):
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
//! - A loop over an array of structs reads fields of the current element, `x + c`, after the
//!   step to the next one. Where nothing else reads `x`, this pass rebases those reads on the
//!   step, `x' + (c - k)`, so `x` dies at the step (see [`rebase_offsets`]).
//!
//! It runs after the mid-end (in [`crate::object::compile_function`]), which would undo the
//! first rewrite, and changes no control flow.

use crate::translate::{constant_addend, iconst_value};
use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    Block, BlockArg, Function, Inst, InstBuilder, InstructionData, Opcode, Type, Value,
};
use std::collections::{HashMap, HashSet};

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
    let retargeted = retarget_exit_tests(func);
    retargeted + rebase_offsets(func) + sink_steps(func)
}

/// `k` as the immediate of an `iconst` of type `ty` (the bits above its width clear).
fn iconst_bits(ty: Type, k: i64) -> i64 {
    if ty.bits() < 64 {
        k & ((1i64 << ty.bits()) - 1)
    } else {
        k
    }
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
        let mut cur = FuncCursor::new(func).at_inst(term);
        let k = cur.ins().iconst(ty, iconst_bits(ty, limit));
        let test = cur.ins().icmp(cc, next, k);
        let InstructionData::Brif { arg, .. } = &mut cur.func.dfg.insts[term] else {
            unreachable!("collected as a brif");
        };
        // The old compare is left without this use; lowering skips unused pure instructions.
        *arg = test;
    }
    found.len()
}

/// Makes the offsets `x + c` that a single-block loop takes from its parameter `x` read the
/// loop's step `x' = x + k` instead, as `x' + (c - k)`, and puts the step first in the block,
/// when nothing else reads `x`; returns how many offsets it rebased.
///
/// A loop that walks an array of structs reads several fields of the current element,
/// `x + c1`, `x + c2`, … after the step to the next one, so `x` and `x'` were both live to the
/// end of the trip and the back edge copied `x'` into `x`'s register (`nbody`'s inner loop,
/// FINDINGS 46). Rebased, `x` dies at the step, which can update it in place. Both sides wrap
/// alike, so every offset keeps its value.
fn rebase_offsets(func: &mut Function) -> usize {
    // Each candidate `x`, with its block, its step and the step's constant.
    let mut candidates: HashMap<Value, (Block, Value, i64)> = HashMap::new();
    for block in func.layout.blocks() {
        let Some(term) = func.layout.last_inst(block) else {
            continue;
        };
        let dests = func.dfg.insts[term]
            .branch_destination(&func.dfg.jump_tables, &func.dfg.exception_tables);
        for call in dests {
            if call.block(&func.dfg.value_lists) != block {
                continue;
            }
            let params = func.dfg.block_params(block);
            for (i, arg) in call.args(&func.dfg.value_lists).enumerate() {
                let BlockArg::Value(step) = arg else {
                    continue;
                };
                let step = func.dfg.resolve_aliases(step);
                let Some((x, k)) = constant_addend(&func.dfg, step) else {
                    continue;
                };
                let def = func.dfg.value_def(step).inst();
                if params.get(i) == Some(&x)
                    && def.and_then(|d| func.layout.inst_block(d)) == Some(block)
                {
                    candidates.insert(x, (block, step, k));
                }
            }
        }
    }
    if candidates.is_empty() {
        return 0;
    }
    // Keep the candidates that only `iadd x, c` in their own block reads. A compare that
    // `retarget_exit_tests` left without readers is skipped: lowering drops it.
    let mut used = HashSet::new();
    for block in func.layout.blocks() {
        for inst in func.layout.block_insts(block) {
            used.extend(
                func.dfg
                    .inst_values(inst)
                    .map(|v| func.dfg.resolve_aliases(v)),
            );
        }
    }
    let mut offsets: HashMap<Value, Vec<Inst>> = HashMap::new();
    for block in func.layout.blocks() {
        for inst in func.layout.block_insts(block) {
            let result = func.dfg.inst_results(inst).first().copied();
            if func.dfg.insts[inst].opcode() == Opcode::Icmp
                && result.is_some_and(|r| !used.contains(&r))
            {
                continue;
            }
            let offset = result.and_then(|r| constant_addend(&func.dfg, r));
            for v in func.dfg.inst_values(inst) {
                let v = func.dfg.resolve_aliases(v);
                let Some(&(b, step, _)) = candidates.get(&v) else {
                    continue;
                };
                if b != block || offset.map(|(base, _)| base) != Some(v) {
                    candidates.remove(&v);
                } else if result != Some(step) {
                    offsets.entry(v).or_default().push(inst);
                }
            }
        }
    }
    let mut rebased: Vec<(Value, (Block, Value, i64))> = candidates.into_iter().collect();
    rebased.sort_unstable_by_key(|&(x, _)| x); // a deterministic order
    let mut count = 0;
    for (x, (block, step, k)) in rebased {
        let Some(reads) = offsets.get(&x) else {
            continue;
        };
        let ty = func.dfg.value_type(x);
        let def = func.dfg.value_def(step).unwrap_inst();
        func.layout.remove_inst(def);
        let first = func.layout.first_inst(block).expect("the block branches");
        let mut cur = FuncCursor::new(func).at_inst(first);
        // `x - (-k)`: lowering would see through an `iadd` into `x` at every rebased read and
        // keep `x` alive; an `isub` of a constant is not folded into an address.
        let kv = cur.ins().iconst(ty, iconst_bits(ty, k.wrapping_neg()));
        cur.func.layout.insert_inst(def, first);
        cur.func.replace(def).isub(x, kv);
        for &read in reads {
            let (_, c) = constant_addend(&cur.func.dfg, cur.func.dfg.first_result(read))
                .expect("collected as an offset");
            let mut cur = FuncCursor::new(cur.func).at_inst(read);
            let cv = cur.ins().iconst(ty, iconst_bits(ty, c.wrapping_sub(k)));
            cur.func
                .dfg
                .inst_args_mut(read)
                .copy_from_slice(&[step, cv]);
            count += 1;
        }
    }
    count
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
