//! Each program in `tests/wasi-programs`: `wasmaot run` and the built executable against the
//! peer (live or recorded).

use crate::wasi_harness as h;
use crate::wasi_harness::{Outcome, Spec};
use crate::{Ctx, Peer};
use libtest_mimic::Failed;
use std::fs;
use std::path::Path;

/// The Wasm function each trapping program traps in: Wasmtime 50's innermost frame
/// (`Trap.frames[0].func_name`). Programs not listed only need some function named.
const TRAP_FUNCTIONS: &[(&str, &str)] = &[
    ("abort", "abort"),
    ("divzero", "__original_main"),
    ("oob", "__original_main"),
    ("stackoverflow", "recurse"),
];

/// The peer's result for one program: outcome with the program's own stderr, and trap code.
struct PeerResult {
    out: Outcome,
    trap: Option<String>,
    tree: Option<std::collections::BTreeMap<String, h::Node>>,
}

fn recorded(dir: &Path, name: &str) -> Result<PeerResult, String> {
    let read = |ext: &str| fs::read(dir.join(format!("{name}.{ext}")));
    let stdout = read("expected").map_err(|e| format!("{name}.expected: {e}"))?;
    let status =
        String::from_utf8_lossy(&read("status").map_err(|e| format!("{name}.status: {e}"))?)
            .trim()
            .parse()
            .map_err(|e| format!("{name}.status: {e}"))?;
    Ok(PeerResult {
        out: Outcome {
            status,
            stdout,
            stderr: read("stderr").unwrap_or_default(),
            elapsed: Default::default(),
        },
        trap: read("trap")
            .ok()
            .map(|t| String::from_utf8_lossy(&t).trim().to_string()),
        tree: None,
    })
}

/// Compares one of our outcomes with the peer's; pushes problems to `errs`.
fn compare(
    who: &str,
    name: &str,
    ours: &Outcome,
    peer: &PeerResult,
    peer_name: &str,
    errs: &mut Vec<String>,
) {
    if ours.stdout != peer.out.stdout {
        errs.push(format!(
            "{who}: stdout differs from {peer_name}: {}",
            h::first_difference(who, &ours.stdout, peer_name, &peer.out.stdout)
        ));
    }
    if ours.status != peer.out.status {
        errs.push(format!(
            "{who}: exit status {} but {peer_name} exits with {}; our stderr: {:?}",
            ours.status,
            peer.out.status,
            h::preview(&ours.stderr)
        ));
    }
    match &peer.trap {
        None => {
            if ours.stderr != peer.out.stderr {
                errs.push(format!(
                    "{who}: stderr differs from {peer_name}: {}",
                    h::first_difference(who, &ours.stderr, peer_name, &peer.out.stderr)
                ));
            }
        }
        Some(code) => {
            let Some(msg) = h::our_trap_message(code) else {
                errs.push(format!(
                    "{who}: peer trap code {code} has no known wasmaot message"
                ));
                return;
            };
            let prefix = &peer.out.stderr;
            let (own, last) = if ours.stderr.starts_with(prefix) {
                (
                    true,
                    String::from_utf8_lossy(&ours.stderr[prefix.len()..]).into_owned(),
                )
            } else {
                (false, ours.stderr_text())
            };
            if !own {
                errs.push(format!(
                    "{who}: the program's own stderr differs from {peer_name}'s: {}",
                    h::first_difference(who, &ours.stderr, peer_name, prefix)
                ));
            }
            let want_head = format!("error: wasm trap: {msg} (in function ");
            let func = last
                .strip_prefix(&want_head)
                .and_then(|r| r.strip_suffix(")\n"));
            match (func, TRAP_FUNCTIONS.iter().find(|(n, _)| *n == name)) {
                (None, _) => errs.push(format!(
                    "{who}: expected a trap line `{want_head}…)` ({code}) on stderr, got {last:?}"
                )),
                (Some(""), _) => errs.push(format!("{who}: trap line names no function: {last:?}")),
                (Some(f), Some((_, want))) if f != *want => errs.push(format!(
                    "{who}: trap in function `{f}`, wasmtime reports `{want}`"
                )),
                _ => {}
            }
        }
    }
}

/// Entries that may exist next to a run's TMP directory (anything else is an escape).
const ALLOWED_NEXT_TO_TMP: &[&str] = &["tmp", "bin", "io", "peer-io", "exe"];

pub(crate) fn check_no_escape(who: &str, tmp: &Path, errs: &mut Vec<String>) {
    let Some(parent) = tmp.parent() else { return };
    for e in fs::read_dir(parent).into_iter().flatten().flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if !ALLOWED_NEXT_TO_TMP.contains(&n.as_str()) {
            errs.push(format!(
                "{who}: `{n}` appeared next to the sandbox directory (escape)"
            ));
        }
    }
}

pub(crate) fn program_test(ctx: &Ctx, name: &str) -> Result<(), Failed> {
    let tools = ctx.tools()?;
    let spec = Spec::load(&ctx.dir.join(format!("{name}.json")), name)?;
    let wasm = ctx.dir.join(format!("{name}.wasm"));
    let w = ctx.work.path().join("programs").join(name);
    if !spec.preopen_order_preserved() {
        return Err(format!(
            "{name}.json: read-only dirs must come after writable ones (fd numbering)"
        )
        .into());
    }

    // The peer.
    let peer = match &ctx.peer {
        Peer::Live(_) => {
            let tmp = w.join("peer/tmp");
            let o = h::run_peer(&wasm, &spec, &tmp, &w.join("peer"), false)?;
            let (own, trap) = h::split_peer_trap(&o.stderr);
            if let Ok(rec) = recorded(&ctx.dir, name) {
                // Not an error of ours, but worth seeing: the recording is out of date.
                if rec.out.stdout != o.stdout || rec.out.status != o.status || rec.trap != trap {
                    h::say(&format!(
                        "note: {name}: live wasmtime differs from the recorded results\n"
                    ));
                }
            }
            PeerResult {
                tree: spec.uses_tmp().then(|| h::snapshot(&tmp)),
                out: Outcome { stderr: own, ..o },
                trap,
            }
        }
        Peer::Recorded(_) => recorded(&ctx.dir, name)?,
    };
    if let Some(code) = &peer.trap {
        if peer.out.status != h::TRAP_STATUS {
            return Err(format!("peer trapped ({code}) with status {}", peer.out.status).into());
        }
    }

    let mut errs = Vec::new();
    // `wasmaot run`.
    let run_tmp = w.join("run/tmp");
    let run = h::run_ours(tools, &wasm, &spec, &run_tmp, &w.join("run"), &[])?;
    compare("wasmaot run", name, &run, &peer, ctx.peer_name(), &mut errs);
    let run_tree = spec.uses_tmp().then(|| h::snapshot(&run_tmp));
    check_no_escape("wasmaot run", &run_tmp, &mut errs);

    // `wasmaot build` + the executable.
    let exe_tmp = w.join("exe/tmp");
    let built = ctx.exe(name, &spec);
    let exe_out = match &built {
        Ok(exe) => {
            let o = h::run_exe(exe, &spec, &exe_tmp, &w.join("exe"))?;
            compare(
                "built executable",
                name,
                &o,
                &peer,
                ctx.peer_name(),
                &mut errs,
            );
            check_no_escape("built executable", &exe_tmp, &mut errs);
            Some(o)
        }
        Err(e) => {
            errs.push(e.clone());
            None
        }
    };
    let exe_tree = spec.uses_tmp().then(|| h::snapshot(&exe_tmp));

    // Files left in the sandbox.
    if spec.uses_tmp() {
        let (run_tree, exe_tree) = (run_tree.unwrap(), exe_tree.unwrap());
        match &peer.tree {
            Some(pt) => {
                let d = h::snapshot_diff("wasmaot run", &run_tree, ctx.peer_name(), pt);
                if !d.is_empty() {
                    errs.push(format!(
                        "files left in TMP differ (wasmaot run vs peer):\n{d}"
                    ));
                }
                if built.is_ok() {
                    let d = h::snapshot_diff("built executable", &exe_tree, ctx.peer_name(), pt);
                    if !d.is_empty() {
                        errs.push(format!(
                            "files left in TMP differ (built executable vs peer):\n{d}"
                        ));
                    }
                }
            }
            None if built.is_ok() => {
                let d = h::snapshot_diff("wasmaot run", &run_tree, "built executable", &exe_tree);
                if !d.is_empty() {
                    errs.push(format!(
                        "files left in TMP differ (run vs executable):\n{d}"
                    ));
                }
            }
            None => {}
        }
    }

    h::say(&format!(
        "  {name:<14} peer {:<20} status {:>3}  run {:>6.3}s  exe {}\n",
        ctx.peer_name(),
        peer.out.status,
        run.elapsed.as_secs_f64(),
        exe_out.map_or("-".to_string(), |o| format!(
            "{:.3}s",
            o.elapsed.as_secs_f64()
        )),
    ));
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("\n").into())
    }
}
