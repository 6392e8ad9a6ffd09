//! Threaded dispatch: a copy of an interpreter loop's `br_table` dispatch at the end of each
//! of its cases.
//!
//! A `switch` in a loop compiles to a loop whose header loads the next opcode and ends in a
//! `br_table`; every case jumps to a shared latch (advance, test, jump back). Each executed
//! case then pays two jumps to get back, and one indirect jump serves every opcode, so the
//! branch predictor sees a single site. Native interpreters use computed `goto` for the
//! same reason ("threaded code"); Wasm cannot express it, so the compiler does it: the latch
//! is copied into each case that jumps to it, and the dispatch block into each copied
//! latch's edge back to the header. Every case then ends in its own indirect jump.
//!
//! One back edge to the original header is kept, so the loop stays a natural loop for
//! Cranelift's loop analysis and the register allocator's loop depths. Values defined in
//! the copied blocks get block parameters where their copies meet ([`crate::ssa_repair`]).
//! Only small blocks are copied, within a per-function instruction budget.

use crate::ssa_repair::{self, Duplicated};
use cranelift_codegen::dominator_tree::DominatorTree;
use cranelift_codegen::flowgraph::ControlFlowGraph;
use cranelift_codegen::ir::{
    Block, BlockCall, Function, Inst, InstructionData, JumpTableData, Value,
};
use std::collections::{HashMap, HashSet};

/// Fewest distinct targets of a `br_table` treated as an interpreter's dispatch.
const MIN_CASES: usize = 8;
/// Most instructions in a dispatch block that is copied.
const MAX_DISPATCH: usize = 64;
/// Most instructions in a latch (or a block that only jumps on to one) that is copied.
const MAX_LATCH: usize = 16;
/// Most instructions all copies in one function may add.
const BUDGET: usize = 8192;
/// Most dispatch blocks of one function looked at.
const MAX_DISPATCHES: usize = 64;
/// Instruction visits the analyses may make in one function: each dispatch looked at costs
/// about [`PASSES_PER_DISPATCH`] walks over the whole function (control-flow graph,
/// dominator tree, uses), so a huge function gets fewer dispatches looked at and
/// compilation stays linear in its size.
const WORK: usize = 4_000_000;
/// Whole-function walks per dispatch looked at (measured: about a dozen).
const PASSES_PER_DISPATCH: usize = 12;
/// Most jump-table entries all copies of one dispatch may add. Each entry is 4 bytes of
/// table and, where the register allocator must move a value on that edge, a small edge
/// block: the copies grow with cases × copies, so a 256-way switch gets 16 copies, not 255.
const MAX_TABLE_ENTRIES: usize = 4096;

/// Copies each dispatch block of `func` into the ends of its cases; returns how many copies
/// of dispatch blocks it made.
pub fn thread(func: &mut Function) -> usize {
    let dispatches: Vec<Block> = func
        .layout
        .blocks()
        .filter(|&b| is_dispatch(func, b))
        .collect();
    if dispatches.is_empty() || has_exception_edges(func) {
        return 0;
    }
    // SSA repair finds uses by value: no use may go through an alias.
    func.dfg.resolve_all_aliases();
    let mut budget = BUDGET;
    // Each dispatch costs a few walks over the function, copied or not: a generated function
    // with thousands of them must not make compilation quadratic.
    let insts: usize = func.layout.blocks().map(|b| size(func, b)).sum();
    let affordable = WORK / (PASSES_PER_DISPATCH * insts.max(1));
    let mut copies = 0;
    for h in dispatches.into_iter().take(MAX_DISPATCHES.min(affordable)) {
        if size(func, h) > budget {
            break;
        }
        copies += thread_one(func, h, &mut budget);
    }
    copies
}

/// Whether some instruction has exception-table edges (`try_call`): their targets'
/// arguments cannot take plain values, so SSA repair could not add parameters there.
fn has_exception_edges(func: &Function) -> bool {
    func.layout.blocks().any(|b| {
        func.layout
            .block_insts(b)
            .any(|i| func.dfg.insts[i].exception_table().is_some())
    })
}

fn size(func: &Function, b: Block) -> usize {
    func.layout.block_insts(b).count()
}

/// Whether every instruction of `b` may be copied: no calls or returns (they stay single).
fn copyable(func: &Function, b: Block) -> bool {
    func.layout.block_insts(b).all(|i| {
        let op = func.dfg.insts[i].opcode();
        !op.is_call() && !op.is_return() && func.dfg.insts[i].exception_table().is_none()
    })
}

/// A block ending in a `br_table` with at least [`MIN_CASES`] distinct targets, small and
/// copyable.
fn is_dispatch(func: &Function, b: Block) -> bool {
    let Some(last) = func.layout.last_inst(b) else {
        return false;
    };
    let InstructionData::BranchTable { table, .. } = func.dfg.insts[last] else {
        return false;
    };
    let mut targets: Vec<Block> = func.dfg.jump_tables[table]
        .all_branches()
        .iter()
        .map(|c| c.block(&func.dfg.value_lists))
        .collect();
    targets.sort_unstable();
    targets.dedup();
    targets.len() >= MIN_CASES
        && Some(b) != func.layout.entry_block()
        && size(func, b) <= MAX_DISPATCH
        && copyable(func, b)
}

/// The blocks branching to `b` (each once).
fn pred_blocks(func: &Function, b: Block) -> Vec<Block> {
    let cfg = ControlFlowGraph::with_function(func);
    let mut preds: Vec<Block> = cfg.pred_iter(b).map(|p| p.block).collect();
    preds.sort_unstable();
    preds.dedup();
    preds
}

/// The `jump`, if `p` ends in an unconditional jump to `b`.
fn jump_to(func: &Function, p: Block, b: Block) -> Option<Inst> {
    let last = func.layout.last_inst(p)?;
    match func.dfg.insts[last] {
        InstructionData::Jump { destination, .. }
            if destination.block(&func.dfg.value_lists) == b =>
        {
            Some(last)
        }
        _ => None,
    }
}

fn thread_one(func: &mut Function, h: Block, budget: &mut usize) -> usize {
    let entry = func.layout.entry_block();
    // The blocks of the loop `h` heads: those it dominates. Copies go only there, so the
    // loop gains no entries. (Merging copies into existing blocks keeps this set right.)
    let inside: HashSet<Block> = {
        let cfg = ControlFlowGraph::with_function(func);
        let domtree = DominatorTree::with_function(func, &cfg);
        func.layout
            .blocks()
            .filter(|&b| domtree.block_dominates(h, b))
            .collect()
    };
    // Its latches: the blocks inside that branch back to it.
    let latches: Vec<Block> = pred_blocks(func, h)
        .into_iter()
        .filter(|&l| {
            l != h
                && inside.contains(&l)
                && size(func, l) <= MAX_LATCH
                && copyable(func, l)
                && matches!(
                    func.layout.last_inst(l).map(|i| &func.dfg.insts[i]),
                    Some(InstructionData::Jump { .. } | InstructionData::Brif { .. })
                )
        })
        .collect();
    let mut tails: Vec<Block> = Vec::new();
    for l in latches {
        // Blocks that only jump on to the latch go first, so the cases reach it directly.
        for f in pred_blocks(func, l) {
            if f != h
                && Some(f) != entry
                && inside.contains(&f)
                && size(func, f) == 1
                && jump_to(func, f, l).is_some()
            {
                merge_into_jump_preds(func, f, h, &inside, budget);
            }
        }
        tails.extend(merge_into_jump_preds(func, l, h, &inside, budget));
    }
    tails.sort_unstable();
    tails.dedup();
    // The edges back to the header from the copied latches; one stays unless a latch kept
    // its own.
    let mut edges: Vec<(Block, usize)> = Vec::new();
    for &p in &tails {
        let Some(last) = func.layout.last_inst(p) else {
            continue;
        };
        let dfg = &func.dfg;
        for (n, call) in dfg.insts[last]
            .branch_destination(&dfg.jump_tables, &dfg.exception_tables)
            .iter()
            .enumerate()
        {
            if call.block(&dfg.value_lists) == h {
                edges.push((p, n));
            }
        }
    }
    let latch_left = pred_blocks(func, h)
        .into_iter()
        .any(|p| !tails.contains(&p) && inside.contains(&p));
    if !latch_left {
        edges.pop();
    }
    let cost = size(func, h);
    let entries = match func.layout.last_inst(h).map(|i| func.dfg.insts[i]) {
        Some(InstructionData::BranchTable { table, .. }) => {
            func.dfg.jump_tables[table].all_branches().len()
        }
        _ => unreachable!("a dispatch ends in a br_table"),
    };
    let edges: Vec<_> = edges
        .into_iter()
        .take(MAX_TABLE_ENTRIES / entries.max(1))
        .take_while(|_| {
            let ok = *budget >= cost;
            if ok {
                *budget -= cost;
            }
            ok
        })
        .collect();
    if edges.is_empty() {
        return 0;
    }
    let mut copies: Vec<HashMap<Value, Value>> = Vec::new();
    let mut copy_blocks = Vec::new();
    for &(p, n) in &edges {
        let last = func.layout.last_inst(p).expect("edge from a terminator");
        let nb = func.dfg.make_block();
        func.layout.insert_block_after(nb, p);
        // The copy gets parameters of its own, so the edge keeps its arguments (which
        // may be the header's own values, repaired like any other use).
        let params: Vec<Value> = func
            .dfg
            .block_params(h)
            .to_vec()
            .into_iter()
            .map(|v| {
                let ty = func.dfg.value_type(v);
                func.dfg.append_block_param(nb, ty)
            })
            .collect();
        let dfg = &mut func.dfg;
        let call = &mut dfg.insts[last]
            .branch_destination_mut(&mut dfg.jump_tables, &mut dfg.exception_tables)[n];
        call.set_block(nb, &mut dfg.value_lists);
        let map = copy_into(func, h, nb, &params);
        copies.push(map);
        copy_blocks.push(nb);
    }
    repair_block(func, h, &copy_blocks, &copies);
    edges.len()
}

/// Copies `x` into each predecessor inside the loop ending in `jump x(…)` (in place of the
/// jump); removes `x` if nothing else branches to it. Returns the blocks that received a
/// copy.
fn merge_into_jump_preds(
    func: &mut Function,
    x: Block,
    h: Block,
    inside: &HashSet<Block>,
    budget: &mut usize,
) -> Vec<Block> {
    let cost = size(func, x);
    let preds: Vec<(Block, Inst)> = pred_blocks(func, x)
        .into_iter()
        .filter(|&p| p != x && p != h && inside.contains(&p))
        .filter_map(|p| jump_to(func, p, x).map(|j| (p, j)))
        // An argument defined in `x` itself would name the copy's value, not the one
        // reaching `p`.
        .filter(|&(_, j)| {
            func.dfg
                .inst_values(j)
                .all(|a| ssa_repair::def_block(func, a) != Some(x))
        })
        .take_while(|_| {
            let ok = *budget >= cost;
            if ok {
                *budget -= cost;
            }
            ok
        })
        .collect();
    let mut copies = Vec::new();
    let mut blocks = Vec::new();
    for (p, jump) in preds {
        let InstructionData::Jump { destination, .. } = func.dfg.insts[jump] else {
            unreachable!("jump_to returned a jump");
        };
        let args: Vec<Value> = destination
            .args(&func.dfg.value_lists)
            .map(|a| a.as_value().expect("plain branch arguments"))
            .collect();
        func.layout.remove_inst(jump);
        copies.push(copy_into(func, x, p, &args));
        blocks.push(p);
    }
    if pred_blocks(func, x).is_empty() && Some(x) != func.layout.entry_block() {
        let insts: Vec<Inst> = func.layout.block_insts(x).collect();
        for i in insts {
            func.layout.remove_inst(i);
        }
        func.layout.remove_block(x);
    }
    repair_block(func, x, &blocks, &copies);
    blocks
}

/// Appends copies of `x`'s instructions to `dest`, with `x`'s parameters replaced by `args`;
/// returns the map from `x`'s values to the copies'.
fn copy_into(func: &mut Function, x: Block, dest: Block, args: &[Value]) -> HashMap<Value, Value> {
    let mut map: HashMap<Value, Value> = func
        .dfg
        .block_params(x)
        .iter()
        .copied()
        .zip(args.iter().map(|&a| func.dfg.resolve_aliases(a)))
        .collect();
    let insts: Vec<Inst> = func.layout.block_insts(x).collect();
    for inst in insts {
        let c = func.dfg.clone_inst(inst);
        if let InstructionData::BranchTable { table, .. } = func.dfg.insts[c] {
            let dfg = &mut func.dfg;
            let calls: Vec<BlockCall> = dfg.jump_tables[table]
                .all_branches()
                .to_vec()
                .iter()
                .map(|call| call.deep_clone(&mut dfg.value_lists))
                .collect();
            let fresh = dfg
                .jump_tables
                .push(JumpTableData::new(calls[0], &calls[1..]));
            if let InstructionData::BranchTable { table, .. } = &mut dfg.insts[c] {
                *table = fresh;
            }
        }
        func.dfg
            .map_inst_values(c, |a| map.get(&a).copied().unwrap_or(a));
        func.layout.append_inst(c, dest);
        let old: Vec<Value> = func.dfg.inst_results(inst).to_vec();
        let new: Vec<Value> = func.dfg.inst_results(c).to_vec();
        map.extend(old.into_iter().zip(new));
    }
    map
}

/// Repairs SSA for the values `x` defines after copies of it went into `blocks`.
fn repair_block(func: &mut Function, x: Block, blocks: &[Block], copies: &[HashMap<Value, Value>]) {
    if blocks.is_empty() {
        return;
    }
    let mut originals: Vec<Value> = func.dfg.block_params(x).to_vec();
    for i in func.layout.block_insts(x) {
        originals.extend_from_slice(func.dfg.inst_results(i));
    }
    // The removed block's values are defined in the copies only.
    if !func.layout.is_block_inserted(x) {
        originals.clear();
        originals.extend(copies[0].keys().copied());
        originals.sort_unstable();
    }
    let vars: Vec<Duplicated> = originals
        .into_iter()
        .map(|v| Duplicated {
            original: v,
            copies: blocks
                .iter()
                .zip(copies)
                .filter_map(|(&b, m)| m.get(&v).map(|&c| (b, c)))
                .collect(),
        })
        .collect();
    ssa_repair::repair(func, &vars);
}
