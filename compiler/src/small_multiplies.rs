//! Multiplications by 3, 5 and 9 rewritten as `x + (x << k)`, which x86-64 computes in one
//! `lea` instead of an `imul`.
//!
//! Cranelift 0.135 lowers `imul x, 3` to `imul $3, x` (3 cycles of latency on current x86-64
//! cores, and a following `+ 1` is one more `add`), while `iadd (ishl x 1), x` lowers to
//! `lea (x, x, 2)`, and with a constant added, `lea 1(x, x, 2)`: one instruction of 1–2
//! cycles. GCC and LLVM make the same choice. In a loop whose trip time is its dependency
//! chain, such as `collatz`'s `x = x & 1 ? 3 * x + 1 : x >> 1`, that chain shrinks from
//! `imul, add, cmov` to `lea, cmov` (FINDINGS 35). Both forms wrap modulo 2^n the same way,
//! so every value is unchanged. The pass runs after the mid-end (in
//! [`crate::object::compile_function`]), which would fold the shift and add back into a
//! multiplication; it changes no control flow.

use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::ir::{types, Function, InstBuilder, Opcode};

/// The shift `k` for which `c == 2^k + 1`, when `x * c` is one `lea` (`k` is 1, 2 or 3, the
/// scales an x86-64 address can apply).
fn lea_shift(c: i64) -> Option<i64> {
    match c {
        3 => Some(1),
        5 => Some(2),
        9 => Some(3),
        _ => None,
    }
}

/// Rewrites every 32- and 64-bit `imul` by 3, 5 or 9 in `func` as a shift and an add, and
/// returns how many.
pub fn rewrite(func: &mut Function) -> usize {
    let mut found = Vec::new();
    for block in func.layout.blocks() {
        for inst in func.layout.block_insts(block) {
            if func.dfg.insts[inst].opcode() != Opcode::Imul {
                continue;
            }
            let ty = func.dfg.ctrl_typevar(inst);
            if ty != types::I32 && ty != types::I64 {
                continue;
            }
            let [a, b] = *func.dfg.inst_args(inst) else {
                continue;
            };
            let constant = |v| crate::translate::iconst_value(&func.dfg, v).and_then(lea_shift);
            let (x, k) = match (constant(a), constant(b)) {
                (None, Some(k)) => (a, k),
                (Some(k), None) => (b, k),
                _ => continue,
            };
            found.push((inst, x, k));
        }
    }
    for &(inst, x, k) in &found {
        let ty = func.dfg.ctrl_typevar(inst);
        let mut cur = FuncCursor::new(func).at_inst(inst);
        let amount = cur.ins().iconst(ty, k);
        let shifted = cur.ins().ishl(x, amount);
        cur.func.replace(inst).iadd(shifted, x);
    }
    found.len()
}
