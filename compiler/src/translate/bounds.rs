//! Bounds checks that an earlier check makes redundant.
//!
//! **Memory64.** An access whose `offset + size` fits in the guard traps unless
//! `index <= length` (see `memory.rs`). Once that compare has passed for a value `x`:
//!
//! - another such access at `x` itself needs no compare;
//! - neither does one at `x + k` (an `iadd` of `x` and a constant `k >= 0`) when
//!   `k + offset + size` fits in the guard: `x <= length < 2^63`, so the add cannot wrap,
//!   and the access ends at most `k + offset + size` bytes past `length`, inside the guard
//!   that every memory64 reservation has, where it faults at its own trap site.
//!
//! - generally, a passed `x + j` covers `x + k` for constants `j <= k` as above, the step
//!   being `k - j`: the `x + j` that passed is at most `length`, whether or not it wrapped.
//!
//! The other way, from `x + j` down to `x + k` with `k < j`, `x + j` may have wrapped around
//! and `x + k` not: then `x + k` lies within `j - k` below 2^64, an address that far below
//! the base, which the pre-guard every memory64 reservation has makes fault, as long as the
//! access has no static offset to carry it back up (`j - k` within the pre-guard). Without
//! the wrap `x + k` is below `x + j` and in bounds. clang writes the unrolled `b[i]`,
//! `b[i + 1]`, … of a loop over a memory64 buffer as separate `i64.add`s, in either order, so
//! this removes three of four compares in such loops. (Cranelift's mid-end already merges
//! identical compares, such as those of a load and a store of one element; it cannot see that
//! `x` covers `x + k`.)
//!
//! **32-bit memories with `--bounds-checks explicit`.** There is no guard: a passed check
//! proves `index + end <= length` for its own `end = offset + size`, so it covers a later
//! access at the same index value reaching no further — a narrower or lower field after a
//! wider or higher one, whose compare Cranelift would keep (its bound differs).
//!
//! Lengths never shrink, so a fact stays true across calls and `memory.grow`; it holds
//! wherever the compare dominates. In structured Wasm that is the rest of the construct
//! (`block`, `loop`, `if` arm, `try_table`) the compare is in, including constructs nested
//! later in it, but not after its `end` (a branch may have skipped the compare) nor in the
//! `else` arm of an `if` whose `then` arm made it. So the facts form a stack: each control
//! frame remembers its height when opened and cuts it back at `else` and `end`. (Inside a
//! `loop`, reading a local yields a fresh block parameter while the loop is translated, so a
//! compare made before the loop covers only values the loop gets from the operand stack.)
//! Once the function is translated, `dominated_checks.rs` applies the memory64 rule
//! (`covers`) across construct ends, where the dominator tree shows the compare has run.

use super::iconst_value;
use super::memory::{GUARD_BYTES, PRE_GUARD_BYTES};
use super::Translator;
use cranelift_codegen::ir::{DataFlowGraph, InstructionData, Opcode, Value, ValueDef};

/// Facts kept at once; later compares add none beyond it (a bound on the cost of a lookup).
const MAX_FACTS: usize = 32;

/// A passed check: `index + end <= length` of memory `mem` (memory64 checks have `end` 0).
struct Fact {
    mem: u32,
    index: Value,
    end: u64,
}

/// Indices known to be in bounds at the current point.
#[derive(Default)]
pub(super) struct CheckedIndices {
    /// Passed checks whose compare dominates the current point, innermost construct last.
    known: Vec<Fact>,
}

impl CheckedIndices {
    /// Height to restore when the construct opened now ends (or reaches its `else`).
    pub(super) fn mark(&self) -> usize {
        self.known.len()
    }

    /// Forgets the facts established since `mark`.
    pub(super) fn cut(&mut self, mark: usize) {
        self.known.truncate(mark);
    }
}

impl Translator<'_, '_> {
    /// Whether an access of memory `mem` at `index` (as the Wasm operand, before any
    /// extension) with static offset `offset`, reaching `end` (`offset + size`; for memory64
    /// at most the guard) bytes past it, is covered by an earlier check, per the module docs.
    pub(super) fn index_known_in_bounds(
        &self,
        mem: u32,
        index: Value,
        end: u64,
        offset: u64,
    ) -> bool {
        let dfg = &self.b.func.dfg;
        let facts = |v: Value| {
            let v = dfg.resolve_aliases(v);
            self.checked
                .known
                .iter()
                .filter(move |f| f.mem == mem && dfg.resolve_aliases(f.index) == v)
        };
        if !self.memory64(mem) {
            return facts(index).any(|f| end <= f.end);
        }
        let (x, k) = split_constant(dfg, index);
        self.checked.known.iter().filter(|f| f.mem == mem).any(|f| {
            let (y, j) = split_constant(dfg, f.index);
            y == x && covers(j, k, end, offset)
        })
    }

    /// Records that `index + end <= length` of memory `mem` has just been checked (for
    /// memory64, `index <= length`: `end` 0).
    pub(super) fn note_index_checked(&mut self, mem: u32, index: Value, end: u64) {
        if self.checked.known.len() < MAX_FACTS {
            self.checked.known.push(Fact { mem, index, end });
        }
    }
}

/// Whether a passed memory64 compare of `x + j` covers an access at `x + k` that reaches
/// `end` bytes past it (at most the guard), `offset` of them its static offset: up within the
/// guard, or down within the pre-guard with no static offset (see the module docs).
pub(super) fn covers(j: u64, k: u64, end: u64, offset: u64) -> bool {
    if j <= k {
        k - j <= GUARD_BYTES - end
    } else {
        offset == 0 && j - k <= PRE_GUARD_BYTES
    }
}

/// `v` as `x + k` for a constant `k` (an `iadd` with a constant operand), else `v + 0`; `x`
/// with aliases resolved.
pub(super) fn split_constant(dfg: &DataFlowGraph, v: Value) -> (Value, u64) {
    let v = dfg.resolve_aliases(v);
    if let ValueDef::Result(inst, 0) = dfg.value_def(v) {
        if let InstructionData::Binary {
            opcode: Opcode::Iadd,
            args: [a, b],
        } = dfg.insts[inst]
        {
            match (iconst_value(dfg, a), iconst_value(dfg, b)) {
                (_, Some(k)) => return (dfg.resolve_aliases(a), k as u64),
                (Some(k), _) => return (dfg.resolve_aliases(b), k as u64),
                _ => {}
            }
        }
    }
    (v, 0)
}
