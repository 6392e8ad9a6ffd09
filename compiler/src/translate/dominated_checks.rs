//! Memory64 compares that an earlier compare makes redundant, wherever it dominates.
//!
//! A memory64 access whose `offset + size` fits in the guard traps unless `index <= length`
//! (see `memory.rs`). Once that compare has passed for `x + j` (`x` a value, `j` a constant,
//! often 0), it covers a later access at `x + k`:
//!
//! - for `j <= k`, when `k - j + offset + size` fits in the guard: the `x + j` that passed is
//!   at most `length < 2^63`, whether or not it wrapped, so `x + k` does not wrap and the
//!   access ends at most that far past `length`, inside the guard every memory64 reservation
//!   has, where it faults at its own trap site;
//! - for `k < j`, when the access has no static offset to carry it back up and `j - k` fits
//!   in the pre-guard below the base: `x + j` may have wrapped around and `x + k` not, but
//!   then `x + k` lies within `j - k` below 2^64, an address in the pre-guard; without the
//!   wrap `x + k` is below `x + j` and in bounds.
//!
//! clang writes the unrolled `b[i]`, `b[i + 1]`, … of a loop over a memory64 buffer as
//! separate `i64.add`s, in either order, so this removes three of four compares in such
//! loops. (Cranelift's mid-end merges identical compares, such as those of a load and a store
//! of one element; it cannot see that `x` covers `x + k`.) Lengths never shrink, so the fact
//! holds wherever the compare dominates, across calls and `memory.grow`.
//!
//! The pass runs once the function is translated and `redundant_params.rs` has made the
//! block parameters the frontend creates for locals read after a construct's `end` aliases
//! of the one value they carry, so a compare before an `if` covers accesses after it:
//! bytes64's search loop, `b[i] == p0 && b[i + 1] == p1 && …` unrolled by two, reads
//! `b[i + 1]` again after the first half's `if`. The covering compare may itself be gone by
//! the time the code runs (dropped here, or moved to a loop entry by `loop_checks.rs`): the
//! access right after it still runs first, and a memory64 access that did not fault had its
//! index in bounds, whether a compare or a guard made it so.

use super::constant_addend;
use super::loop_checks::{compare_of, IndexCheck};
use super::memory::{GUARD_BYTES, PRE_GUARD_BYTES};
use cranelift_codegen::dominator_tree::DominatorTree;
use cranelift_codegen::ir::{DataFlowGraph, Function, Value};
use std::collections::HashMap;

/// Earlier compares of the same index looked at for each compare (the nearest ones first): a
/// bound on the work in functions with thousands of accesses through one pointer.
const MAX_CANDIDATES: usize = 32;

/// Removes the compare of every check in `checks` (in translation order) that an earlier
/// check dominates and covers; returns the checks still in place.
pub(super) fn remove(
    func: &mut Function,
    domtree: &DominatorTree,
    checks: Vec<IndexCheck>,
) -> Vec<IndexCheck> {
    if checks.len() < 2 {
        return checks;
    }
    // The checks of each memory and base `x`, with their constants `j` (index `x + j`).
    let mut by_base: HashMap<(u32, Value), Vec<(usize, u64)>> = HashMap::new();
    for (n, c) in checks.iter().enumerate() {
        let reachable = func
            .layout
            .inst_block(c.trap)
            .is_some_and(|b| domtree.is_reachable(b));
        if let Some((index, _)) = compare_of(func, c.trap).filter(|_| reachable) {
            let (x, j) = split_constant(&func.dfg, index);
            by_base.entry((c.mem, x)).or_default().push((n, j));
        }
    }
    let mut covered = vec![false; checks.len()];
    for group in by_base.values() {
        for (pos, &(n, k)) in group.iter().enumerate() {
            let c = &checks[n];
            // Only a check translated earlier can dominate this one.
            covered[n] = group[..pos]
                .iter()
                .rev()
                .take(MAX_CANDIDATES)
                .any(|&(m, j)| {
                    covers(j, k, c.end, c.offset)
                        && domtree.dominates(checks[m].trap, c.trap, &func.layout)
                });
        }
    }
    checks
        .into_iter()
        .zip(covered)
        .filter_map(|(c, covered)| {
            if covered {
                func.layout.remove_inst(c.trap);
                None
            } else {
                Some(c)
            }
        })
        .collect()
}

/// Whether a passed memory64 compare of `x + j` covers an access at `x + k` that reaches
/// `end` bytes past it (at most the guard), `offset` of them its static offset: up within the
/// guard, or down within the pre-guard with no static offset (see the module docs).
fn covers(j: u64, k: u64, end: u64, offset: u64) -> bool {
    if j <= k {
        k - j <= GUARD_BYTES - end
    } else {
        offset == 0 && j - k <= PRE_GUARD_BYTES
    }
}

/// `v` as `x + k` for a constant `k` (an `iadd` with a constant operand), else `v + 0`; `x`
/// with aliases resolved.
fn split_constant(dfg: &DataFlowGraph, v: Value) -> (Value, u64) {
    constant_addend(dfg, v).map_or((dfg.resolve_aliases(v), 0), |(x, k)| (x, k as u64))
}
