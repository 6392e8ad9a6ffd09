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
//! Nothing is derived the other way, from an access at `x + k` about `x`: `x + k` may have
//! wrapped around. clang writes the unrolled `b[i]`, `b[i + 1]`, … of a loop over a memory64
//! buffer as separate `i64.add`s, so this removes three of four compares in such loops.
//! (Cranelift's mid-end already merges identical compares, such as those of a load and a
//! store of one element; it cannot see that `x` covers `x + k`.)
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

use super::iconst_value;
use super::memory::GUARD_BYTES;
use super::Translator;
use cranelift_codegen::ir::{InstructionData, Opcode, Value, ValueDef};

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
    /// extension) reaching `end` (`offset + size`; for memory64 at most the guard) bytes past
    /// it is covered by an earlier check, per the module docs.
    pub(super) fn index_known_in_bounds(&self, mem: u32, index: Value, end: u64) -> bool {
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
        let known = |v: Value| facts(v).next().is_some();
        if known(index) {
            return true;
        }
        let ValueDef::Result(inst, 0) = dfg.value_def(index) else {
            return false;
        };
        let InstructionData::Binary {
            opcode: Opcode::Iadd,
            args,
        } = dfg.insts[inst]
        else {
            return false;
        };
        let constant = |v: Value| iconst_value(dfg, v).map(|k| k as u64);
        let fits = |k: u64| k <= GUARD_BYTES - end;
        match (constant(args[0]), constant(args[1])) {
            (_, Some(k)) if fits(k) && known(args[0]) => true,
            (Some(k), _) if fits(k) && known(args[1]) => true,
            _ => false,
        }
    }

    /// Records that `index + end <= length` of memory `mem` has just been checked (for
    /// memory64, `index <= length`: `end` 0).
    pub(super) fn note_index_checked(&mut self, mem: u32, index: Value, end: u64) {
        if self.checked.known.len() < MAX_FACTS {
            self.checked.known.push(Fact { mem, index, end });
        }
    }
}
