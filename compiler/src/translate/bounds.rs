//! Bounds checks that an earlier check makes redundant, found while translating (memory64
//! compares are left to `dominated_checks.rs`, which sees the whole function).
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

use super::Translator;
use cranelift_codegen::ir::Value;

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
    /// Whether an access of the 32-bit memory `mem` at `index` (as the Wasm operand, before
    /// extension) reaching `end` (`offset + size`) bytes past it is covered by an earlier
    /// check, per the module docs.
    pub(super) fn index_known_in_bounds(&self, mem: u32, index: Value, end: u64) -> bool {
        let dfg = &self.b.func.dfg;
        let v = dfg.resolve_aliases(index);
        self.checked
            .known
            .iter()
            .any(|f| f.mem == mem && dfg.resolve_aliases(f.index) == v && end <= f.end)
    }

    /// Records that `index + end <= length` of the 32-bit memory `mem` has just been checked.
    pub(super) fn note_index_checked(&mut self, mem: u32, index: Value, end: u64) {
        if self.checked.known.len() < MAX_FACTS {
            self.checked.known.push(Fact { mem, index, end });
        }
    }
}
