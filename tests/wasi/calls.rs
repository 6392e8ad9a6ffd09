//! Raw WASI call survey (tests/wasi_harness/survey.rs).

use crate::programs::check_no_escape;
use crate::wasi_harness as h;
use crate::wasi_harness::{Outcome, Spec};
use crate::{Ctx, Peer};
use libtest_mimic::Failed;
use std::fs;
use std::path::Path;

/// One call's name, outcome and the file tree after it.
type CallResult = (&'static str, Outcome, h::Tree);

/// Runs a generated module (`wasm`, spec at `spec_path`) with the peer (live), `wasmaot run`
/// and a built executable; returns (who, outcome, TMP snapshot) for each.
fn run_three(
    ctx: &Ctx,
    w: &Path,
    wasm: &Path,
    spec: &Spec,
) -> Result<(Vec<CallResult>, Vec<String>), Failed> {
    let tools = ctx.tools()?;
    let mut errs = Vec::new();
    let mut v = Vec::new();
    if let Peer::Live(_) = ctx.peer {
        let tmp = w.join("peer/tmp");
        let o = h::run_peer(wasm, spec, &tmp, &w.join("peer"), false)?;
        v.push(("wasmtime (live)", o, h::snapshot(&tmp)));
    }
    let tmp = w.join("run/tmp");
    let o = h::run_ours(tools, wasm, spec, &tmp, &w.join("run"), &[])?;
    check_no_escape("wasmaot run", &tmp, &mut errs);
    v.push(("wasmaot run", o, h::snapshot(&tmp)));
    let tmp = w.join("exe/tmp");
    let exe = w.join("exe/exe").join(&spec.argv0);
    match h::build_exe(tools, wasm, spec, &tmp, &exe) {
        Ok(_) => {
            let o = h::run_exe(&exe, spec, &tmp, &w.join("exe"))?;
            check_no_escape("built executable", &tmp, &mut errs);
            v.push(("built executable", o, h::snapshot(&tmp)));
        }
        Err(e) => errs.push(e),
    }
    Ok((v, errs))
}

pub(crate) fn survey_test(ctx: &Ctx) -> Result<(), Failed> {
    let w = ctx.workdir("survey")?;
    let calls = h::survey::calls();
    let bytes =
        wat::parse_str(h::survey::wat(&calls)).map_err(|e| format!("generated WAT: {e}"))?;
    let wasm = w.join("survey.wasm");
    fs::write(&wasm, bytes).map_err(|e| e.to_string())?;
    let spec_path = w.join("survey.json");
    let spec_text = format!(
        r#"{{"argv0": "survey", "dirs": [{{"host": "TMP", "guest": "/sandbox", "readonly": false}}],
  "setup": {}, "stdin": "input"}}"#,
        h::survey::SETUP_JSON
    );
    fs::write(&spec_path, spec_text).map_err(|e| e.to_string())?;
    let spec = Spec::load(&spec_path, "survey")?;
    let (runs, mut errs) = run_three(ctx, &w, &wasm, &spec)?;

    let recorded_path = h::repo_root().join("tests/wasi_harness/survey.expected");
    let recorded = fs::read(&recorded_path).ok();
    let (ref_name, reference, ref_tree) = match runs.iter().find(|r| r.0.starts_with("wasmtime")) {
        Some((n, o, t)) => {
            if o.status != 0 || !o.stderr.is_empty() {
                return Err(
                    format!("wasmtime: status {} stderr {:?}", o.status, o.stderr_text()).into(),
                );
            }
            if std::env::var_os("WASMAOT_RECORD_SURVEY").is_some() {
                fs::write(&recorded_path, &o.stdout).map_err(|e| e.to_string())?;
                h::say(&format!("  survey: recorded {}\n", recorded_path.display()));
            } else if recorded.as_deref() != Some(&o.stdout[..]) {
                h::say("note: survey: live wasmtime differs from tests/wasi_harness/survey.expected (re-record with WASMAOT_RECORD_SURVEY=1)\n");
            }
            (*n, o.stdout.clone(), Some(t.clone()))
        }
        None => (
            "wasmtime (recorded)",
            recorded.ok_or_else(|| format!("{}: missing", recorded_path.display()))?,
            None,
        ),
    };
    for (who, o, tree) in runs.iter().filter(|r| !r.0.starts_with("wasmtime")) {
        if o.status != 0 || !o.stderr.is_empty() {
            errs.push(format!(
                "{who}: status {} stderr {:?}",
                o.status,
                o.stderr_text()
            ));
        }
        let (ours, theirs) = (
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&reference),
        );
        let (ol, tl): (Vec<&str>, Vec<&str>) = (ours.lines().collect(), theirs.lines().collect());
        for i in 0..ol.len().max(tl.len()) {
            let (a, b) = (
                ol.get(i).copied().unwrap_or("<missing>"),
                tl.get(i).copied().unwrap_or("<missing>"),
            );
            if a != b {
                errs.push(format!(
                    "{who}: {a:?}\n  {:>w$}  {ref_name}: {b:?}",
                    "",
                    w = who.len()
                ));
            }
        }
        if let Some(rt) = &ref_tree {
            let d = h::snapshot_diff(who, tree, ref_name, rt);
            if !d.is_empty() {
                errs.push(format!("{who}: files left in /sandbox differ:\n{d}"));
            }
        }
    }
    if errs.is_empty() {
        h::say(&format!(
            "  wasi-calls/survey: {} calls agree with {ref_name}\n",
            calls.len()
        ));
        Ok(())
    } else {
        Err(errs.join("\n").into())
    }
}
