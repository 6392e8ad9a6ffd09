//! SSA repair after code duplication: new block parameters where copies of a value meet.
//!
//! A pass that copies a block's instructions elsewhere ([`crate::threaded_dispatch`]) leaves
//! each value the block defined with several definitions: the original and one per copy.
//! Uses outside those blocks no longer have one dominating definition. This module finds,
//! for each such use, the definition that reaches it, adding block parameters where
//! different definitions meet (Cytron et al.'s placement at the iterated dominance frontier,
//! pruned to the blocks where the value is live, then renaming by the dominator tree).

use cranelift_codegen::dominator_tree::DominatorTree;
use cranelift_codegen::flowgraph::ControlFlowGraph;
use cranelift_codegen::ir::{Block, Function, Inst, InstructionData, Value, ValueDef};
use std::collections::{HashMap, HashSet};

/// A value that now has more than one definition: `original` where it was, and a copy in
/// each of `copies`' blocks. A copy is defined by the end of its block, and any use of
/// `original` inside that block means the value on entry to it.
pub(crate) struct Duplicated {
    /// The value as first defined (aliases resolved), also the name every use still has.
    pub original: Value,
    /// The blocks holding a copy's definition, with the copy.
    pub copies: Vec<(Block, Value)>,
}

/// Rewrites every use of each value in `vars` to the definition that reaches it, adding
/// block parameters (and arguments on every branch into their blocks) where definitions
/// meet. The control flow must be final; the function must have no `try_call` (whose
/// successors' arguments cannot be extended with plain values).
pub(crate) fn repair(func: &mut Function, vars: &[Duplicated]) {
    if vars.is_empty() {
        return;
    }
    let cfg = ControlFlowGraph::with_function(func);
    let domtree = DominatorTree::with_function(func, &cfg);
    let frontiers = frontiers(&cfg, &domtree);
    // The blocks using each value, found in one walk over the function.
    let index: HashMap<Value, usize> = vars
        .iter()
        .enumerate()
        .map(|(n, var)| (var.original, n))
        .collect();
    let mut uses: Vec<Vec<Block>> = vec![Vec::new(); vars.len()];
    for b in func.layout.blocks() {
        for i in func.layout.block_insts(b) {
            for a in func.dfg.inst_values(i) {
                if let Some(&n) = index.get(&a) {
                    if uses[n].last() != Some(&b) {
                        uses[n].push(b);
                    }
                }
            }
        }
    }
    for (var, mut use_blocks) in vars.iter().zip(uses) {
        use_blocks.dedup();
        repair_one(func, &cfg, &domtree, &frontiers, var, use_blocks);
    }
}

/// The dominance frontier of each reachable block (Cooper, Harvey and Kennedy's walk).
fn frontiers(cfg: &ControlFlowGraph, domtree: &DominatorTree) -> HashMap<Block, Vec<Block>> {
    let mut df: HashMap<Block, Vec<Block>> = HashMap::new();
    for &x in domtree.cfg_rpo() {
        let mut preds: Vec<Block> = cfg
            .pred_iter(x)
            .map(|p| p.block)
            .filter(|&p| domtree.is_reachable(p))
            .collect();
        preds.sort_unstable();
        preds.dedup();
        if preds.len() < 2 {
            continue;
        }
        let idom = domtree.idom(x);
        for p in preds {
            let mut runner = Some(p);
            while let Some(r) = runner {
                if Some(r) == idom {
                    break;
                }
                let entry = df.entry(r).or_default();
                if !entry.contains(&x) {
                    entry.push(x);
                }
                runner = domtree.idom(r);
            }
        }
    }
    df
}

/// The block defining `v`, if it is in the layout.
pub(crate) fn def_block(func: &Function, v: Value) -> Option<Block> {
    match func.dfg.value_def(v) {
        ValueDef::Result(inst, _) => func.layout.inst_block(inst),
        ValueDef::Param(block, _) => func.layout.is_block_inserted(block).then_some(block),
        _ => None,
    }
}

fn repair_one(
    func: &mut Function,
    cfg: &ControlFlowGraph,
    domtree: &DominatorTree,
    frontiers: &HashMap<Block, Vec<Block>>,
    var: &Duplicated,
    mut use_blocks: Vec<Block>,
) {
    let v = var.original;
    let home = def_block(func, v);
    let mut defs: HashMap<Block, Value> = var.copies.iter().copied().collect();
    if let Some(h) = home {
        defs.insert(h, v);
    }
    // Blocks with a use that needs the value on entry: every block but the original's.
    use_blocks.retain(|&b| Some(b) != home);
    if use_blocks.is_empty() {
        return;
    }
    // Where the value is live on entry: back from the uses to the definitions.
    let mut live_in = HashSet::new();
    let mut work = use_blocks.clone();
    while let Some(x) = work.pop() {
        if !domtree.is_reachable(x) || !live_in.insert(x) {
            continue;
        }
        work.extend(
            cfg.pred_iter(x)
                .map(|p| p.block)
                .filter(|p| !defs.contains_key(p)),
        );
    }
    // New parameters at the iterated dominance frontier of the definitions, where live.
    let ty = func.dfg.value_type(v);
    let mut phis: HashMap<Block, Value> = HashMap::new();
    let mut in_idf = HashSet::new();
    let mut work: Vec<Block> = defs.keys().copied().collect();
    work.sort_unstable();
    while let Some(d) = work.pop() {
        for &x in frontiers.get(&d).map(Vec::as_slice).unwrap_or(&[]) {
            if in_idf.insert(x) {
                work.push(x);
                if live_in.contains(&x) {
                    phis.insert(x, func.dfg.append_block_param(x, ty));
                }
            }
        }
    }
    // What unreachable code (which no definition dominates, and which the mid-end deletes)
    // names instead: a definition still in the layout, which is all the verifier asks there.
    let fallback = match home {
        Some(_) => v,
        None => var.copies.first().map_or(v, |&(_, c)| c),
    };
    let at_end = |mut y: Block| -> Value {
        loop {
            if let Some(&d) = defs.get(&y).or_else(|| phis.get(&y)) {
                return d;
            }
            match domtree.idom(y) {
                Some(i) => y = i,
                None => return fallback,
            }
        }
    };
    let at_start = |x: Block| -> Value {
        match phis.get(&x) {
            Some(&p) => p,
            None => domtree.idom(x).map_or(fallback, at_end),
        }
    };
    for &x in &use_blocks {
        let s = at_start(x);
        let insts: Vec<Inst> = func.layout.block_insts(x).collect();
        for i in insts {
            func.dfg.map_inst_values(i, |a| if a == v { s } else { a });
        }
    }
    // Arguments for the new parameters, on every edge into their blocks, in block order so
    // the output does not depend on hashing.
    let mut phi_blocks: Vec<(Block, Value)> = phis.iter().map(|(&b, &p)| (b, p)).collect();
    phi_blocks.sort_unstable();
    for (x, _) in phi_blocks {
        let mut seen: Vec<Inst> = Vec::new();
        let preds: Vec<(Block, Inst)> = cfg.pred_iter(x).map(|p| (p.block, p.inst)).collect();
        for (y, inst) in preds {
            if seen.contains(&inst) {
                continue;
            }
            seen.push(inst);
            let arg = at_end(y);
            append_to_calls(func, inst, x, arg);
        }
    }
}

/// Appends `arg` to every target of branch `inst` that names `block`.
fn append_to_calls(func: &mut Function, inst: Inst, block: Block, arg: Value) {
    let dfg = &mut func.dfg;
    if let InstructionData::BranchTable { table, .. } = dfg.insts[inst] {
        for call in dfg.jump_tables[table].all_branches_mut() {
            if call.block(&dfg.value_lists) == block {
                call.append_argument(arg, &mut dfg.value_lists);
            }
        }
        return;
    }
    let calls =
        dfg.insts[inst].branch_destination_mut(&mut dfg.jump_tables, &mut dfg.exception_tables);
    for call in calls {
        if call.block(&dfg.value_lists) == block {
            call.append_argument(arg, &mut dfg.value_lists);
        }
    }
}
