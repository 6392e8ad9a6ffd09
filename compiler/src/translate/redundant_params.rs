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

use crate::branch_sites::{Preds, Site};
use cranelift_codegen::ir::{BlockArg, Function, Value};

/// Removes every redundant parameter of `func`'s blocks (see the module documentation).
/// Blocks reached by a `try_call` keep theirs: their arguments may be call results.
pub fn remove(func: &mut Function) {
    let Some(entry) = func.layout.entry_block() else {
        return;
    };
    // The branches into each block; the blocks with parameters, in the order branches
    // first name them.
    let Preds {
        sites: preds,
        order,
        frozen,
    } = Preds::collect(func);
    let mut candidates: Vec<_> = order
        .into_iter()
        .filter(|&b| b != entry && func.dfg.num_block_params(b) > 0 && !frozen.contains(b))
        .collect();
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
                    let mut call = site.call(func);
                    call.remove(i, &mut func.dfg.value_lists);
                    *site.call_mut(func) = call;
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
        let call = site.call(func);
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
