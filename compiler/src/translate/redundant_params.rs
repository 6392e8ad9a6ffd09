//! Removal of redundant block parameters: the loop-invariant values that cranelift-frontend
//! leaves threaded through nested loops.
//!
//! The frontend builds SSA on the fly (Braun et al.) and drops a block parameter when every
//! predecessor passes the same value, but it decides each parameter once and never comes
//! back to it. A local that is only read after an inner loop with a join point inside keeps
//! a parameter on the inner loop's header whose incoming values are "the outer loop's
//! parameter" and, through the join, "itself". Cranelift's `remove_constant_phis` cannot
//! remove it either: it only replaces a parameter by a value defined by an instruction, not
//! by another block's parameter. Each such parameter is one more value the register
//! allocator sees defined anew on every back edge, where it may need a move or a spill
//! (sieve's counting loop carried four of them; tokenizer, sort and hashtable ran 1–1.5%
//! fewer instructions without them).
//!
//! A parameter is redundant when every incoming argument is either the parameter itself or
//! one other value `x`; then `x` dominates the block (each first entry to the block comes
//! through an edge passing `x`), so the parameter can become an alias of `x`. Removing one
//! may make others redundant, so the blocks receiving it are looked at again until nothing
//! changes: the minimal SSA of Braun et al.'s recursive trivial-phi removal.

use cranelift_codegen::entity::{EntitySet, SecondaryMap};
use cranelift_codegen::ir::{Block, BlockArg, BlockCall, Function, Inst, InstructionData};
use cranelift_codegen::ir::{JumpTable, Value};

/// Where one branch target (a `BlockCall`) lives, so that it can be edited in place.
#[derive(Clone, Copy)]
enum Site {
    /// Target `n` of a `jump` or `brif`.
    Inst(Inst, usize),
    /// Entry `n` of a `br_table`'s jump table (the default first).
    Table(JumpTable, usize),
}

/// The branch target at `site`.
fn call_at(func: &Function, site: Site) -> BlockCall {
    match site {
        Site::Inst(inst, n) => match &func.dfg.insts[inst] {
            InstructionData::Jump { destination, .. } => *destination,
            InstructionData::Brif { blocks, .. } => blocks[n],
            _ => unreachable!("only jumps and brifs are recorded as instruction sites"),
        },
        Site::Table(jt, n) => func.dfg.jump_tables[jt].all_branches()[n],
    }
}

/// The branch target at `site`, for editing.
fn call_mut(func: &mut Function, site: Site) -> &mut BlockCall {
    match site {
        Site::Inst(inst, n) => match &mut func.dfg.insts[inst] {
            InstructionData::Jump { destination, .. } => destination,
            InstructionData::Brif { blocks, .. } => &mut blocks[n],
            _ => unreachable!("only jumps and brifs are recorded as instruction sites"),
        },
        Site::Table(jt, n) => &mut func.dfg.jump_tables[jt].all_branches_mut()[n],
    }
}

/// Removes every redundant parameter of `func`'s blocks (see the module documentation).
/// Blocks reached by a `try_call` keep theirs: their arguments may be call results.
pub fn remove(func: &mut Function) {
    let Some(entry) = func.layout.entry_block() else {
        return;
    };
    // Every branch target of a block that has parameters, by destination block.
    let mut preds = SecondaryMap::<Block, Vec<Site>>::new();
    let mut candidates = Vec::new();
    let mut frozen = EntitySet::<Block>::new();
    let mut seen_tables = EntitySet::<JumpTable>::new();
    let mut record = |func: &Function, call: &BlockCall, site: Site| {
        let target = call.block(&func.dfg.value_lists);
        if target != entry && func.dfg.num_block_params(target) > 0 {
            if preds[target].is_empty() {
                candidates.push(target);
            }
            preds[target].push(site);
        }
    };
    for block in func.layout.blocks() {
        let Some(inst) = func.layout.last_inst(block) else {
            continue;
        };
        match &func.dfg.insts[inst] {
            InstructionData::Jump { destination, .. } => {
                record(func, destination, Site::Inst(inst, 0));
            }
            InstructionData::Brif { blocks, .. } => {
                for (n, call) in blocks.iter().enumerate() {
                    record(func, call, Site::Inst(inst, n));
                }
            }
            InstructionData::BranchTable { table, .. } => {
                if seen_tables.insert(*table) {
                    let calls = func.dfg.jump_tables[*table].all_branches();
                    for (n, call) in calls.iter().enumerate() {
                        record(func, call, Site::Table(*table, n));
                    }
                }
            }
            data => {
                let dfg = &func.dfg;
                for call in data.branch_destination(&dfg.jump_tables, &dfg.exception_tables) {
                    frozen.insert(call.block(&dfg.value_lists));
                }
            }
        }
    }
    candidates.retain(|&b| !frozen.contains(b));
    // Inner loops come later in the layout than the loops around them, and an outer
    // parameter can only become redundant once the inner one it receives is gone: visiting
    // in reverse layout order settles a nest in one pass. Another pass runs only if this one
    // removed something, so a function with nothing to remove costs one look at each
    // parameter.
    candidates.reverse();
    loop {
        let mut changed = false;
        for &block in &candidates {
            let sites = &preds[block];
            let mut i = func.dfg.num_block_params(block);
            while i > 0 {
                i -= 1;
                let param = func.dfg.block_params(block)[i];
                let Some(x) = unique_incoming(func, sites, i, param) else {
                    continue;
                };
                for &site in sites {
                    let mut call = call_at(func, site);
                    call.remove(i, &mut func.dfg.value_lists);
                    *call_mut(func, site) = call;
                }
                func.dfg.remove_block_param(param);
                func.dfg.change_to_alias(param, x);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

/// The one value other than `param` itself that every predecessor passes as argument `i`,
/// if there is exactly one (and every argument is a plain value).
fn unique_incoming(func: &Function, sites: &[Site], i: usize, param: Value) -> Option<Value> {
    let mut unique = None;
    for &site in sites {
        let call = call_at(func, site);
        let BlockArg::Value(v) = call.args(&func.dfg.value_lists).nth(i)? else {
            return None;
        };
        let v = func.dfg.resolve_aliases(v);
        if v == param {
            continue;
        }
        match unique {
            None => unique = Some(v),
            Some(u) if u == v => {}
            Some(_) => return None,
        }
    }
    unique
}
