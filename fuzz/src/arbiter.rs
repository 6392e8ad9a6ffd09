//! A third opinion on a divergence: `fuzz/arbiter.py` replays the saved module and calls on
//! Wasmtime (Python package) and prints what it saw in the textual form of [`lines`]; the
//! engine whose lines match Wasmtime's is taken to be right. Wasmtime shares Cranelift with
//! wasmaot, so "Wasmtime agrees with wasmaot" could also be a bug common to both; the
//! fuzzer reports it as such instead of hiding it.

use crate::observe::{Observation, Outcome, Value};
use std::path::Path;
use std::process::Command;

/// Who Wasmtime sided with.
#[derive(Debug, PartialEq, Eq)]
pub enum Opinion {
    /// Wasmtime saw what wasmaot saw: the reference (wasmi) is wrong, or Cranelift is.
    AgreesWithWasmaot,
    /// Wasmtime saw what wasmi saw: wasmaot is wrong.
    AgreesWithWasmi,
    /// Wasmtime agrees with neither.
    AgreesWithNeither,
}

fn token(v: &Value) -> String {
    match v {
        Value::I32(x) => format!("i32:{:x}", *x as u32),
        Value::I64(x) => format!("i64:{:x}", *x as u64),
        Value::F32(x) => format!("f32:{x:x}"),
        Value::F64(x) => format!("f64:{x:x}"),
        Value::V128(x) => format!("v128:{x:x}"),
        Value::Ref { null: true } => "ref:null".into(),
        Value::Ref { null: false } => "ref:nonnull".into(),
    }
}

fn join(values: &[Value]) -> String {
    values.iter().map(token).collect::<Vec<_>>().join(" ")
}

/// An observation as `arbiter.py` prints one: `#i returned …` or `#i trapped KIND`,
/// then `#i globals …` after each call (none after a stack overflow).
pub fn lines(obs: &Observation) -> Vec<String> {
    if let Some(t) = obs.instantiation {
        return vec![format!("instantiation trapped {t:?}")];
    }
    let mut out = Vec::new();
    for (i, ((_, outcome), globals)) in obs.calls.iter().zip(&obs.globals_after).enumerate() {
        out.push(match outcome {
            Outcome::Returned(v) => format!("#{i} returned {}", join(v)).trim_end().to_string(),
            Outcome::Trapped(t) => format!("#{i} trapped {t:?}"),
        });
        out.push(
            format!("#{i} globals {}", join(globals))
                .trim_end()
                .to_string(),
        );
    }
    out
}

/// Whether two lines say the same, a `v128:?` token (a value Python cannot read) matching
/// anything.
fn same(ours: &str, theirs: &str) -> bool {
    let (a, b): (Vec<_>, Vec<_>) = (ours.split(' ').collect(), theirs.split(' ').collect());
    a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x == y || *y == "v128:?")
}

fn agrees(obs: &Observation, theirs: &[String]) -> bool {
    let ours = lines(obs);
    // A run cut short by a stack overflow is compared up to where it stopped.
    let n = ours.len().min(theirs.len());
    ours[..n].iter().zip(&theirs[..n]).all(|(a, b)| same(a, b))
        && (ours.len() == theirs.len() || obs.cut_short || theirs.len() < ours.len())
}

/// Asks Wasmtime about the module saved at `wasm` (with its `.calls` beside it); `None` when
/// the arbiter cannot run (no `python3` or no `wasmtime` package) or failed.
pub fn ask(wasm: &Path, wasmaot: &Observation, wasmi: &Observation) -> Option<Opinion> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("arbiter.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(wasm)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let theirs: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    Some(match (agrees(wasmaot, &theirs), agrees(wasmi, &theirs)) {
        (true, false) => Opinion::AgreesWithWasmaot,
        (false, true) => Opinion::AgreesWithWasmi,
        _ => Opinion::AgreesWithNeither,
    })
}
