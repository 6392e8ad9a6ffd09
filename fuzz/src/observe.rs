//! What one engine did with one module, in a form both engines can produce and compare.

use std::fmt;

/// A value as both engines can report it: numbers by their bits, references only as null
/// or not (their identities are engine-private).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// `i32`.
    I32(i32),
    /// `i64`.
    I64(i64),
    /// `f32`, as its bits.
    F32(u32),
    /// `f64`, as its bits.
    F64(u64),
    /// `v128`.
    V128(u128),
    /// A reference; `true` when null.
    Ref { null: bool },
}

/// The trap kinds Wasm defines, in terms both engines map onto.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrapClass {
    /// `unreachable` (also what fuel exhaustion executes).
    Unreachable,
    /// Memory access or bulk memory operation out of bounds.
    MemoryOutOfBounds,
    /// Table access, bulk table operation or `call_indirect` index out of bounds.
    TableOutOfBounds,
    /// `call_indirect` of a null element.
    NullElement,
    /// `call_indirect` with the wrong signature.
    BadSignature,
    /// Signed division overflow.
    IntegerOverflow,
    /// Division or remainder by zero.
    DivisionByZero,
    /// Float to integer conversion out of range or of NaN.
    BadConversion,
    /// A null reference where a non-null one is required.
    NullReference,
    /// The call stack ran out. Engines have different depth limits, so this is never
    /// compared: a run that reaches it on either side is cut short there.
    StackOverflow,
    /// Anything else: the runners report it as an error (a divergence) instead of an
    /// outcome, with the engine's message.
    Other,
}

/// How one call (or instantiation) ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Returned these results.
    Returned(Vec<Value>),
    /// Trapped.
    Trapped(TrapClass),
}

/// The state of one exported item after all calls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// A global's value.
    Global(Value),
    /// A memory's size in pages and an FNV-1a hash of its bytes.
    Memory { pages: u64, hash: u64 },
    /// A table's size and a hash of which of its elements are null.
    Table { size: u64, nulls: u64 },
}

/// Everything one engine observed running one module.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observation {
    /// How instantiation (including the start function) ended: `Some` trap when it trapped.
    pub instantiation: Option<TrapClass>,
    /// Each call in order: the export's name, and how it ended.
    pub calls: Vec<(String, Outcome)>,
    /// The exported globals' values after each call (in the order of `Plan::items`), so a
    /// wrong write is caught at the call that made it.
    pub globals_after: Vec<Vec<Value>>,
    /// Each exported global, memory and table after the last call, by name.
    pub state: Vec<(String, State)>,
    /// Set when a stack overflow cut the run short (the engines' depth limits differ).
    pub cut_short: bool,
}

impl Observation {
    /// Records one call and the exported globals after it; `true` when the call overflowed
    /// the stack, which ends the run (the engines' depth limits differ).
    pub fn record(&mut self, name: &str, outcome: Outcome, globals: Vec<Value>) -> bool {
        let overflow = outcome == Outcome::Trapped(TrapClass::StackOverflow);
        self.calls.push((name.to_string(), outcome));
        self.globals_after.push(globals);
        self.cut_short = overflow;
        overflow
    }
}

/// FNV-1a, for hashing memories.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The first difference between two observations of the same module, or `None` when they
/// agree. Comparison stops where either run was cut short by a stack overflow.
pub fn first_difference(wasmaot: &Observation, wasmi: &Observation) -> Option<String> {
    let overflow = |o: &Outcome| *o == Outcome::Trapped(TrapClass::StackOverflow);
    let stack_overflow = Some(TrapClass::StackOverflow);
    if wasmaot.instantiation == stack_overflow || wasmi.instantiation == stack_overflow {
        return None;
    }
    if wasmaot.instantiation != wasmi.instantiation {
        return Some(format!(
            "instantiation: wasmaot {:?}, wasmi {:?}",
            wasmaot.instantiation, wasmi.instantiation
        ));
    }
    for (i, (a, b)) in wasmaot.calls.iter().zip(&wasmi.calls).enumerate() {
        if overflow(&a.1) || overflow(&b.1) {
            return None;
        }
        if a != b {
            return Some(format!(
                "call #{i} `{}`: wasmaot {:?}, wasmi {:?}",
                a.0, a.1, b.1
            ));
        }
        let (ga, gb) = (wasmaot.globals_after.get(i), wasmi.globals_after.get(i));
        if ga != gb {
            return Some(format!(
                "exported globals after call #{i} `{}`: wasmaot {ga:?}, wasmi {gb:?}",
                a.0
            ));
        }
    }
    if wasmaot.cut_short || wasmi.cut_short {
        return None;
    }
    if wasmaot.calls.len() != wasmi.calls.len() {
        return Some(format!(
            "number of calls: wasmaot {}, wasmi {}",
            wasmaot.calls.len(),
            wasmi.calls.len()
        ));
    }
    for (a, b) in wasmaot.state.iter().zip(&wasmi.state) {
        if a != b {
            return Some(format!(
                "final state of `{}`: wasmaot {:?}, wasmi {:?}",
                a.0, a.1, b.1
            ));
        }
    }
    if wasmaot.state.len() != wasmi.state.len() {
        return Some("different numbers of exported items".into());
    }
    None
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Returned(v) => write!(f, "returned {v:?}"),
            Outcome::Trapped(t) => write!(f, "trapped: {t:?}"),
        }
    }
}
