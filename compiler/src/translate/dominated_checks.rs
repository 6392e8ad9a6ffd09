//! Memory64 compares that an earlier compare covers wherever it dominates, not only inside
//! its own Wasm construct.
//!
//! While translating, `bounds.rs` drops a compare that an earlier one covers, but it must
//! forget its facts at each construct's `end`: a local read after the `end` of an `if` is a
//! block parameter at that point, not the value the compare saw. Once the function is
//! translated and `redundant_params.rs` has made such parameters aliases of the one value
//! they always carry, the same rule holds across construct ends, with the dominator tree
//! saying where a compare has run: a compare of `x + k` goes when a compare of `x + j` of the
//! same memory dominates it and covers it by `bounds.rs`'s rule (`covers`).
//!
//! The covering compare may itself be gone by the time the code runs (dropped here, or moved
//! to a loop entry by `loop_checks.rs`): the access right after it still runs first, and a
//! memory64 access that did not fault had its index in bounds, whether a compare or a guard
//! made it so. bytes64's search loop, `b[i] == p0 && b[i + 1] == p1 && …` unrolled by two,
//! kept a compare for the second half's `b[i + 1]`, behind the `if` of the first half.

use super::bounds::{covers, split_constant};
use super::loop_checks::{compare_of, IndexCheck};
use cranelift_codegen::dominator_tree::DominatorTree;
use cranelift_codegen::ir::{Function, Value};
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
