//! Hoisting of loop-invariant "rematerialised" ALU operations out of loops, after Cranelift's
//! mid-end has run.
//!
//! Cranelift 0.135's e-graph pass hoists loop-invariant values out of loops, except the ones
//! its `remat.isle` rules mark for rematerialisation: an `iadd`/`isub`/`band`/`bor`/`bxor`
//! with a constant operand, or a `bnot`. Those it re-emits in every block that uses them, to
//! spare the register that would hold them across the loop. Inside a loop that trade is a bad
//! one when the register is free anyway: the operation then runs on every iteration, and on
//! x86 (two-address) it usually costs a `mov` as well. `matmul`'s unrolled inner loops ran
//! `mov; and $-2` on each trip to recompute `n & -2` (benches/FINDINGS.md, finding 19).
//!
//! This pass moves such an operation, when its non-constant operand is defined outside the
//! loop, to the end of the loop header's immediate dominator, and repeats outwards while the
//! operand stays invariant. Where that block already computes the same operation, the copy
//! reuses it. It leaves the operation in a loop that already holds as many values across it
//! as there are registers to hold them ([`BUDGET`], [`BUDGET_WITH_CALLS`]), which is where
//! rematerialisation earns its keep. The pass runs between `Context::optimize` and lowering
//! (`crate::object::compile_function`); it moves pure instructions only, never changes the control flow, and
//! debug builds run Cranelift's verifier on its output.

use cranelift_codegen::dominator_tree::DominatorTree;
use cranelift_codegen::entity::SecondaryMap;
use cranelift_codegen::ir::{
    Block, Function, Inst, InstructionData, Opcode, Type, Value, ValueDef,
};
use cranelift_codegen::loop_analysis::{Loop, LoopAnalysis};
use rustc_hash::FxHashMap as HashMap;

/// An operation of the rematerialised kind: its opcode, the loop-variable operand and,
/// for binary operations, the constant and whether it comes first.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Shape {
    opcode: Opcode,
    ty: Type,
    operand: Value,
    constant: Option<(i64, bool)>,
}

/// The constant an `iconst` defines `v` as, if it is one.
fn constant(func: &Function, v: Value) -> Option<i64> {
    crate::translate::iconst_value(&func.dfg, v)
}

/// `inst`'s shape, if it is one of the operations Cranelift rematerialises (constants apart).
fn shape(func: &Function, inst: Inst) -> Option<Shape> {
    let (opcode, operand, constant) = match func.dfg.insts[inst] {
        InstructionData::Binary { opcode, args }
            if matches!(
                opcode,
                Opcode::Iadd | Opcode::Isub | Opcode::Band | Opcode::Bor | Opcode::Bxor
            ) =>
        {
            match (constant(func, args[0]), constant(func, args[1])) {
                (None, Some(c)) => (opcode, args[0], Some((c, false))),
                (Some(c), None) => (opcode, args[1], Some((c, true))),
                _ => return None,
            }
        }
        InstructionData::Unary {
            opcode: Opcode::Bnot,
            arg,
        } => (Opcode::Bnot, arg, None),
        _ => return None,
    };
    let ty = func.dfg.ctrl_typevar(inst);
    // (`iconst` makes no constant wider than 64 bits.)
    (ty.is_int() && ty.bits() <= 64).then_some(Shape {
        opcode,
        ty,
        operand,
        constant,
    })
}

/// The block defining `v`.
fn def_block(func: &Function, v: Value) -> Option<Block> {
    match func.dfg.value_def(v) {
        ValueDef::Result(inst, _) => func.layout.inst_block(inst),
        ValueDef::Param(block, _) => Some(block),
        _ => None,
    }
}

/// The places an operation on `operand` found in loop `lp` could run instead, innermost
/// first: for each loop it can leave, that loop and the immediate dominator of its header,
/// as long as that block lies directly in the parent loop and `operand` is defined outside
/// the loop.
fn exits(
    func: &Function,
    domtree: &DominatorTree,
    loops: &LoopAnalysis,
    mut lp: Loop,
    operand: Value,
) -> Vec<(Loop, Block)> {
    let mut out = Vec::new();
    let Some(def) = def_block(func, operand) else {
        return out;
    };
    loop {
        if loops.is_in_loop(def, lp) {
            break;
        }
        let Some(pre) = domtree.idom(loops.loop_header(lp)) else {
            break;
        };
        let parent = loops.loop_parent(lp);
        if loops.innermost_loop(pre) != parent {
            break;
        }
        out.push((lp, pre));
        match parent {
            Some(p) => lp = p,
            None => break,
        }
    }
    out
}

/// Integer registers a value hoisted out of a loop may hold across it: x86-64 allocates 14,
/// and the loop's own temporaries need a few.
const BUDGET: u32 = 10;

/// The same across a loop that calls: only the five callee-saved registers survive a call,
/// and a value in none of them is spilled and reloaded, which costs more than recomputing it.
const BUDGET_WITH_CALLS: u32 = 5;

/// What the register allocator will face in each loop: the integer values defined outside
/// it and used inside, and its header's integer parameters (each needs a register, or a
/// spill, across the whole loop), and whether it calls.
struct Pressure {
    /// How many instructions inside each loop (nested loops included) use each integer
    /// value, wherever the value is defined.
    uses: HashMap<(Loop, Value), u32>,
    /// The loop's header's integer parameters and the integer values defined outside it
    /// with a use inside.
    live_in: SecondaryMap<Loop, u32>,
    calls: SecondaryMap<Loop, bool>,
}

impl Pressure {
    fn new(func: &Function, loops: &LoopAnalysis) -> Self {
        let mut p = Pressure {
            uses: HashMap::default(),
            live_in: SecondaryMap::new(),
            calls: SecondaryMap::new(),
        };
        for lp in loops.loops() {
            let params = func.dfg.block_params(loops.loop_header(lp));
            let ints = params.iter().filter(|&&v| func.dfg.value_type(v).is_int());
            p.live_in[lp] = ints.count() as u32;
        }
        for block in func.layout.blocks() {
            let Some(inner) = loops.innermost_loop(block) else {
                continue;
            };
            for inst in func.layout.block_insts(block) {
                if func.dfg.insts[inst].opcode().is_call() {
                    let mut lp = Some(inner);
                    while let Some(l) = lp {
                        p.calls[l] = true;
                        lp = loops.loop_parent(l);
                    }
                }
                for v in func.dfg.inst_values(inst) {
                    if !func.dfg.value_type(v).is_int() {
                        continue;
                    }
                    let mut lp = Some(inner);
                    while let Some(l) = lp {
                        *p.uses.entry((l, v)).or_insert(0) += 1;
                        lp = loops.loop_parent(l);
                    }
                }
            }
        }
        for &(l, v) in p.uses.keys() {
            if def_block(func, v).is_some_and(|d| !loops.is_in_loop(d, l)) {
                p.live_in[l] += 1;
            }
        }
        p
    }

    /// Whether `v`, defined outside `lp`, is live across it.
    fn is_live_in(&self, lp: Loop, v: Value) -> bool {
        self.uses.get(&(lp, v)).is_some_and(|&n| n > 0)
    }

    /// One use of `v` (defined outside `lp`) left `lp`.
    fn remove_use(&mut self, lp: Loop, v: Value) {
        if let Some(n) = self.uses.get_mut(&(lp, v)).filter(|n| **n > 0) {
            *n -= 1;
            if *n == 0 {
                self.live_in[lp] -= 1;
            }
        }
    }

    /// The operation defining `own` left `lp`, and its result is now `result` (`own` itself,
    /// or an equal value defined outside `lp` already): the uses of `own` inside `lp` are
    /// now uses of a value defined outside it.
    fn moved_out(&mut self, lp: Loop, own: Value, result: Value) {
        let n = if own == result {
            self.uses.get(&(lp, own)).copied().unwrap_or(0)
        } else {
            self.uses.remove(&(lp, own)).unwrap_or(0)
        };
        if n == 0 {
            return;
        }
        let was_live = own != result && self.is_live_in(lp, result);
        if own != result {
            *self.uses.entry((lp, result)).or_insert(0) += n;
        }
        if !was_live {
            self.live_in[lp] += 1;
        }
    }

    /// Whether `lp` has a register to spare for `hoisted` (or the value the moved operation
    /// would become, if `None`) across the whole loop.
    fn admits(&self, lp: Loop, hoisted: Option<Value>) -> bool {
        let budget = if self.calls[lp] {
            BUDGET_WITH_CALLS
        } else {
            BUDGET
        };
        hoisted.is_some_and(|h| self.is_live_in(lp, h)) || self.live_in[lp] < budget
    }
}

/// Hoists every loop-invariant rematerialised operation of `func` (see the module
/// documentation). `domtree` and `loops` must describe `func` as it is. Returns how many
/// operations moved.
pub fn hoist(func: &mut Function, domtree: &DominatorTree, loops: &LoopAnalysis) -> usize {
    let mut candidates = Vec::new();
    // Operations of the same shape already in a block (where the mid-end put one for a use
    // outside the loop): a hoisted copy reuses them instead of computing the value twice.
    // (A value stays valid when its operation moves further out or becomes an alias.)
    let mut placed: HashMap<(Block, Shape), Value> = HashMap::default();
    for block in func.layout.blocks() {
        let lp = loops.innermost_loop(block);
        for inst in func.layout.block_insts(block) {
            let Some(s) = shape(func, inst) else {
                continue;
            };
            placed
                .entry((block, s))
                .or_insert(func.dfg.first_result(inst));
            // Loop-invariant operands only; `exits` decides how far out each one goes.
            let Some(lp) = lp else { continue };
            if def_block(func, s.operand).is_some_and(|d| !loops.is_in_loop(d, lp)) {
                candidates.push((inst, lp, s));
            }
        }
    }
    if candidates.is_empty() {
        return 0;
    }
    let mut pressure = Pressure::new(func, loops);
    let mut moved = 0;
    for (inst, lp, s) in candidates {
        let mut dest = None;
        for (l, pre) in exits(func, domtree, loops, lp, s.operand) {
            let earlier = placed.get(&(pre, s)).copied();
            if !pressure.admits(l, earlier) {
                break;
            }
            dest = Some((l, pre));
        }
        let Some((last, dest)) = dest else {
            continue;
        };
        moved += 1;
        func.layout.remove_inst(inst);
        let own = func.dfg.first_result(inst);
        let result = match placed.get(&(dest, s)) {
            Some(&earlier) => {
                func.dfg.detach_inst_results(inst);
                func.dfg.change_to_alias(own, earlier);
                earlier
            }
            None => {
                let at = func
                    .layout
                    .last_inst(dest)
                    .expect("a dominator ends in a branch");
                func.layout.insert_inst(inst, at);
                if let Some((c, first)) = s.constant {
                    let k = func.dfg.make_inst(InstructionData::UnaryImm {
                        opcode: Opcode::Iconst,
                        imm: c.into(),
                    });
                    func.dfg.make_inst_results(k, s.ty);
                    func.layout.insert_inst(k, inst);
                    let kv = func.dfg.first_result(k);
                    func.dfg.inst_args_mut(inst)[usize::from(!first)] = kv;
                }
                placed.insert((dest, s), own);
                own
            }
        };
        let mut l = Some(lp);
        while let Some(cur) = l {
            pressure.remove_use(cur, s.operand);
            pressure.moved_out(cur, own, result);
            if cur == last {
                break;
            }
            l = loops.loop_parent(cur);
        }
    }
    moved
}
