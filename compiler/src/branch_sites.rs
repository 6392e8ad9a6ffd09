//! The branches into each block of a function, found once and editable in place: what the
//! passes that change block parameters after translation need
//! ([`crate::translate`]'s redundant-parameter removal, [`crate::widen_params`]).

use cranelift_codegen::entity::{EntitySet, SecondaryMap};
use cranelift_codegen::ir::{
    Block, BlockArg, BlockCall, Function, Inst, InstructionData, JumpTable, Value,
};

/// Where one branch target (a `BlockCall`) lives.
#[derive(Clone, Copy)]
pub(crate) enum Site {
    /// Target `n` of a `jump` or `brif`.
    Inst(Inst, usize),
    /// Entry `n` of a `br_table`'s jump table (the default first).
    Table(JumpTable, usize),
}

impl Site {
    /// The branch target at this site.
    pub(crate) fn call(self, func: &Function) -> BlockCall {
        match self {
            Site::Inst(inst, n) => match &func.dfg.insts[inst] {
                InstructionData::Jump { destination, .. } => *destination,
                InstructionData::Brif { blocks, .. } => blocks[n],
                _ => unreachable!("only jumps and brifs are recorded as instruction sites"),
            },
            Site::Table(jt, n) => func.dfg.jump_tables[jt].all_branches()[n],
        }
    }

    /// Argument `i` this site passes, if it is a plain value (aliases resolved).
    pub(crate) fn arg(self, func: &Function, i: usize) -> Option<Value> {
        match self.call(func).args(&func.dfg.value_lists).nth(i)? {
            BlockArg::Value(v) => Some(func.dfg.resolve_aliases(v)),
            _ => None,
        }
    }

    /// Replaces argument `i` this site passes by `v`.
    pub(crate) fn set_arg(self, func: &mut Function, i: usize, v: Value) {
        let mut call = self.call(func);
        let mut k = 0;
        call.update_args(&mut func.dfg.value_lists, |a| {
            let a = if k == i { BlockArg::Value(v) } else { a };
            k += 1;
            a
        });
        *self.call_mut(func) = call;
    }

    /// The branch target at this site, for editing.
    pub(crate) fn call_mut(self, func: &mut Function) -> &mut BlockCall {
        match self {
            Site::Inst(inst, n) => match &mut func.dfg.insts[inst] {
                InstructionData::Jump { destination, .. } => destination,
                InstructionData::Brif { blocks, .. } => &mut blocks[n],
                _ => unreachable!("only jumps and brifs are recorded as instruction sites"),
            },
            Site::Table(jt, n) => &mut func.dfg.jump_tables[jt].all_branches_mut()[n],
        }
    }
}

/// Every `jump`, `brif` and `br_table` edge of a function, by destination block.
pub(crate) struct Preds {
    /// The sites that branch to each block.
    pub sites: SecondaryMap<Block, Vec<Site>>,
    /// The blocks that some site names, in the order the layout first names them.
    pub order: Vec<Block>,
    /// Blocks reached by any other branch (a `try_call`'s successors, whose arguments may be
    /// call results): their parameters are not the passes' to change.
    pub frozen: EntitySet<Block>,
}

impl Preds {
    /// Walks `func`'s terminators once.
    pub(crate) fn collect(func: &Function) -> Preds {
        let mut preds = Preds {
            sites: SecondaryMap::new(),
            order: Vec::new(),
            frozen: EntitySet::new(),
        };
        let mut seen_tables = EntitySet::<JumpTable>::new();
        let record = |preds: &mut Preds, call: &BlockCall, site: Site| {
            let target = call.block(&func.dfg.value_lists);
            if preds.sites[target].is_empty() {
                preds.order.push(target);
            }
            preds.sites[target].push(site);
        };
        for block in func.layout.blocks() {
            let Some(inst) = func.layout.last_inst(block) else {
                continue;
            };
            let dfg = &func.dfg;
            match &dfg.insts[inst] {
                InstructionData::Jump { destination, .. } => {
                    record(&mut preds, destination, Site::Inst(inst, 0));
                }
                InstructionData::Brif { blocks, .. } => {
                    for (n, call) in blocks.iter().enumerate() {
                        record(&mut preds, call, Site::Inst(inst, n));
                    }
                }
                InstructionData::BranchTable { table, .. } => {
                    if seen_tables.insert(*table) {
                        let calls = dfg.jump_tables[*table].all_branches();
                        for (n, call) in calls.iter().enumerate() {
                            record(&mut preds, call, Site::Table(*table, n));
                        }
                    }
                }
                data => {
                    for call in data.branch_destination(&dfg.jump_tables, &dfg.exception_tables) {
                        preds.frozen.insert(call.block(&dfg.value_lists));
                    }
                }
            }
        }
        preds
    }
}
