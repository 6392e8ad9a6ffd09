//! Real-world WASI programs (YoWASP's icepll, boolector and yosys, which uses Wasm exception
//! handling; see tests/third_party/README.md)
//! compiled by wasmaot: each case in `tests/third_party/cases` runs as a native executable
//! from `wasmaot build` (built once per module and capability set) and through `wasmaot run`,
//! and must print exactly what Python's `wasmtime` prints (live via `run_wasmtime.py` with
//! its compilation cache, or the recorded `.expected`/`.status` when the `wasmtime` module
//! is unavailable — the test output says which) and exit with the same status.
//!
//! The modules are downloaded by `tests/third_party/fetch.sh` when missing (into
//! `target/third_party`, or `$WASMAOT_THIRD_PARTY`); if that fails, every case fails with
//! its message. A module that needs a feature wasmaot lacks fails its cases with the
//! compiler's message; nothing is skipped.
//!
//! Run times (ours next to Wasmtime's, same run) are printed as a table at the end; they
//! are informational only. Run: `cargo test -p wasmaot --test third_party -- --nocapture`
//! (libtest-mimic does not capture output; `--nocapture` is harmless).

mod wasi_harness;

use libtest_mimic::{Arguments, Failed, Trial};
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use wasi_harness as h;
use wasi_harness::{Outcome, Spec, Tools};

#[derive(Clone, Debug)]
enum Peer {
    Live(String),
    Recorded(String),
}

type Built = Arc<OnceLock<Result<(PathBuf, PathBuf, Duration), String>>>;

struct Ctx {
    tools: Result<Tools, String>,
    peer: Peer,
    cases: PathBuf,
    modules: Result<PathBuf, String>,
    work: tempfile::TempDir,
    /// (module, capability flags) → (executable, its TMP dir, build time).
    builds: Mutex<HashMap<String, Built>>,
    /// Module → peer warmed up (Wasmtime's compilation cache filled before timing).
    warm: Mutex<HashMap<String, Arc<OnceLock<()>>>>,
    timings: Mutex<Vec<Row>>,
}

/// A case that passed, for the timing pass.
struct Row {
    case: String,
    spec: Spec,
    wasm: PathBuf,
    exe: PathBuf,
    tmp: PathBuf,
    /// `wasmaot run` (compile + run) during the test.
    run: Duration,
}

fn secs(d: Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}

impl Ctx {
    fn exe_for(
        &self,
        case: &str,
        wasm: &Path,
        spec: &Spec,
    ) -> Result<(PathBuf, PathBuf, Duration), String> {
        let tools = self.tools.as_ref().map_err(|e| e.clone())?;
        let stem = wasm
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let mut key = format!("{stem} {:?}", spec.capability_flags(Path::new("TMP")));
        if spec.uses_tmp() {
            key = format!("{case} {key}"); // one TMP dir per executable: do not share
        }
        let cell = {
            let mut b = self.builds.lock().unwrap();
            b.entry(key).or_default().clone()
        };
        cell.get_or_init(|| {
            let dir = self.work.path().join("builds").join(case);
            let tmp = dir.join("tmp");
            let exe = dir.join("exe").join(&spec.argv0);
            let t = h::build_exe(tools, wasm, spec, &tmp, &exe)?;
            h::say(&format!(
                "  built {} for {case}'s capabilities in {}\n",
                stem,
                secs(t)
            ));
            Ok((exe, tmp, t))
        })
        .clone()
    }

    fn warm_peer(&self, wasm: &Path, spec: &Spec, work: &Path) {
        let key = wasm.display().to_string();
        let cell = self.warm.lock().unwrap().entry(key).or_default().clone();
        cell.get_or_init(|| {
            let _ = h::run_peer(wasm, spec, &work.join("warm/tmp"), &work.join("warm"), true);
        });
    }
}

fn case_test(ctx: &Ctx, name: &str) -> Result<(), Failed> {
    let tools = ctx.tools.as_ref().map_err(|e| e.clone())?;
    let modules = ctx.modules.as_ref().map_err(|e| e.clone())?;
    let spec = Spec::load(&ctx.cases.join(format!("{name}.json")), name)?;
    let wasm = modules.join(spec.wasm.as_deref().ok_or("case without \"wasm\"")?);
    if !wasm.exists() {
        return Err(format!("{} is missing after fetch.sh", wasm.display()).into());
    }
    let w = ctx.work.path().join("cases").join(name);

    let (peer, peer_name) = match &ctx.peer {
        Peer::Live(_) => {
            ctx.warm_peer(&wasm, &spec, &w);
            let o = h::run_peer(&wasm, &spec, &w.join("peer/tmp"), &w.join("peer"), true)?;
            (o, "wasmtime (live)")
        }
        Peer::Recorded(_) => {
            let read = |ext: &str| fs::read(ctx.cases.join(format!("{name}.{ext}")));
            let stdout = read("expected").map_err(|e| format!("{name}.expected: {e}"))?;
            let status = String::from_utf8_lossy(
                &read("status").map_err(|e| format!("{name}.status: {e}"))?,
            )
            .trim()
            .parse()
            .map_err(|e| format!("{name}.status: {e}"))?;
            (
                Outcome {
                    status,
                    stdout,
                    ..Default::default()
                },
                "wasmtime (recorded)",
            )
        }
    };
    let live = matches!(ctx.peer, Peer::Live(_));
    let mut errs = Vec::new();
    let check = |errs: &mut Vec<String>, who: &str, o: &Outcome| {
        compare(errs, who, o, &peer, peer_name, live)
    };

    // The executable from `wasmaot build`.
    let mut built = None;
    let mut exe_time = None;
    match ctx.exe_for(name, &wasm, &spec) {
        Ok((exe, tmp, _build)) => {
            let d = w.join("exe");
            fs::create_dir_all(&d).map_err(|e| e.to_string())?;
            let o = h::run_exe(&exe, &spec, &tmp, &d)?;
            exe_time = Some(o.elapsed);
            check(&mut errs, "built executable", &o);
            built = Some((exe, tmp));
        }
        Err(e) => check_failed(&mut errs, e),
    }
    // `wasmaot run` (compiles the module in-process every time).
    let o = h::run_ours(tools, &wasm, &spec, &w.join("run/tmp"), &w.join("run"), &[])?;
    check(&mut errs, "wasmaot run", &o);

    h::say(&format!(
        "  {name:<24} exe {:>8}  run (compile+run) {:>8}  {peer_name} {:>8}  (concurrent with other tests)\n",
        exe_time.map_or("-".into(), secs),
        secs(o.elapsed),
        if live { secs(peer.elapsed) } else { "-".into() }
    ));
    if let (true, Some((exe, tmp))) = (errs.is_empty(), built) {
        ctx.timings.lock().unwrap().push(Row {
            case: name.to_string(),
            spec,
            wasm,
            exe,
            tmp,
            run: o.elapsed,
        });
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("\n").into())
    }
}

fn check_failed(errs: &mut Vec<String>, e: String) {
    errs.push(format!("built executable: {e}"));
}

/// Our outcome against the peer's: stdout, status, and stderr (exactly with the live peer;
/// the recorded results have no stderr, so then it is only shown when the status differs).
fn compare(
    errs: &mut Vec<String>,
    who: &str,
    o: &Outcome,
    peer: &Outcome,
    peer_name: &str,
    live: bool,
) {
    if o.stdout != peer.stdout {
        errs.push(format!(
            "{who}: stdout differs from {peer_name}: {}",
            h::first_difference(who, &o.stdout, peer_name, &peer.stdout)
        ));
    }
    if o.status != peer.status {
        errs.push(format!(
            "{who}: exit status {} but {peer_name} exits with {}",
            o.status, peer.status
        ));
    }
    if (live && o.stderr != peer.stderr) || (o.status != peer.status && !o.stderr.is_empty()) {
        errs.push(format!(
            "{who}: stderr {:?}, {peer_name}'s {:?}",
            h::preview(&o.stderr),
            h::preview(&peer.stderr)
        ));
    }
}

/// Runs fetch.sh when a module the cases need is missing.
fn ensure_modules(cases: &[Spec]) -> Result<PathBuf, String> {
    let root = h::repo_root();
    let dir = std::env::var_os("WASMAOT_THIRD_PARTY")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/third_party"));
    let mut needed: Vec<&str> = cases.iter().filter_map(|c| c.wasm.as_deref()).collect();
    needed.sort();
    needed.dedup();
    let missing: Vec<&str> = needed
        .iter()
        .copied()
        .filter(|n| !dir.join(n).exists())
        .collect();
    if missing.is_empty() {
        h::say(&format!("third_party: modules in {}\n", dir.display()));
        return Ok(dir);
    }
    h::say(&format!(
        "third_party: {} missing, running tests/third_party/fetch.sh\n",
        missing.join(", ")
    ));
    let mut fetch = Command::new("bash");
    fetch.arg(root.join("tests/third_party/fetch.sh"));
    if missing.contains(&"yosys.wasm") {
        fetch.arg("--yosys");
    }
    let out = fetch
        .arg(&dir)
        .output()
        .map_err(|e| format!("running fetch.sh: {e}"))?;
    h::say(&String::from_utf8_lossy(&out.stdout));
    if !out.status.success() {
        return Err(format!(
            "tests/third_party/fetch.sh failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        ));
    }
    Ok(dir)
}

/// `run_wasmtime.run()` timed inside Python (so without interpreter start-up), cache on.
const PEER_TIMED: &str = r#"
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
os.environ["WASMAOT_PEER_CACHE"] = "1"
import run_wasmtime
spec_path = sys.argv[3]
spec = json.load(open(spec_path))
t = time.perf_counter()
run_wasmtime.run(sys.argv[2], spec, os.path.dirname(os.path.abspath(spec_path)))
print(time.perf_counter() - t)
"#;

/// After the tests, one case at a time (nothing else running): our executable (best of 3)
/// next to Wasmtime's `run()` (best of 2, compilation cache warm).
fn timing_pass(ctx: &Ctx) {
    let mut rows = std::mem::take(&mut *ctx.timings.lock().unwrap());
    if rows.is_empty() {
        return;
    }
    rows.sort_by(|a, b| a.case.cmp(&b.case));
    let live = matches!(ctx.peer, Peer::Live(_));
    let mut t = format!(
        "\nthird-party run times (informational; measured one at a time after the tests):\n  {:<24} {:>14} {:>16} {:>14} {:>7}\n",
        "case", "wasmaot exe", "wasmtime (py)", "wasmaot run", "ratio"
    );
    let scripts = h::repo_root().join("tests/wasi-programs");
    for r in &rows {
        let work = ctx.work.path().join("timing").join(&r.case);
        let exe = (0..3)
            .filter_map(|_| {
                h::run_exe(&r.exe, &r.spec, &r.tmp, &work)
                    .ok()
                    .map(|o| o.elapsed)
            })
            .min();
        let peer = if live {
            (0..2)
                .filter_map(|_| {
                    let o = Command::new("python3")
                        .args(["-c", PEER_TIMED])
                        .arg(&scripts)
                        .arg(&r.wasm)
                        .arg(&r.spec.path)
                        .output()
                        .ok()?;
                    let s = String::from_utf8_lossy(&o.stdout);
                    s.trim().parse::<f64>().ok().map(Duration::from_secs_f64)
                })
                .min_by(|a, b| a.cmp(b))
        } else {
            None
        };
        let ratio = match (exe, peer) {
            (Some(e), Some(p)) if !e.is_zero() => {
                format!("{:.1}x", p.as_secs_f64() / e.as_secs_f64())
            }
            _ => "-".into(),
        };
        t.push_str(&format!(
            "  {:<24} {:>14} {:>16} {:>14} {:>7}\n",
            r.case,
            exe.map_or("-".into(), secs),
            peer.map_or("-".into(), secs),
            secs(r.run),
            ratio
        ));
    }
    t.push_str(
        "  wasmaot exe: wall time of the built executable (best of 3); wasmtime (py): Python wasmtime's\n  \
         run_wasmtime.run() incl. engine set-up and cached module load (best of 2); wasmaot run:\n  \
         compile + run in the debug-built CLI, during the tests; ratio = wasmtime / exe\n",
    );
    h::say(&t);
}

fn main() {
    let args = Arguments::from_args();
    let cases = h::repo_root().join("tests/third_party/cases");
    let mut names: Vec<String> = fs::read_dir(&cases)
        .expect("tests/third_party/cases")
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_string_lossy()
                .strip_suffix(".json")
                .map(str::to_string)
        })
        .collect();
    names.sort();
    let specs: Vec<Spec> = names
        .iter()
        .filter_map(|n| Spec::load(&cases.join(format!("{n}.json")), n).ok())
        .collect();
    // Only fetch when some case would actually run (e.g. not for `--list`).
    let wanted = !args.list;
    let modules = if wanted {
        ensure_modules(&specs)
    } else {
        Err("not fetched".into())
    };
    let peer = match h::python_wasmtime() {
        Ok(v) => Peer::Live(v),
        Err(e) => Peer::Recorded(e),
    };
    match &peer {
        Peer::Live(v) => h::say(&format!(
            "third_party: peer = Python wasmtime {v}, live via run_wasmtime.py (WASMAOT_PEER_CACHE=1; warmed up before timing)\n"
        )),
        Peer::Recorded(why) => h::say(&format!(
            "third_party: peer = recorded .expected/.status (Python wasmtime unavailable: {why}); no Wasmtime timings\n"
        )),
    }
    let ctx = Arc::new(Ctx {
        tools: Tools::locate(),
        peer,
        cases: cases.clone(),
        modules,
        work: tempfile::Builder::new()
            .prefix("wasmaot-third-party-")
            .tempdir()
            .expect("temp dir"),
        builds: Mutex::new(HashMap::new()),
        warm: Mutex::new(HashMap::new()),
        timings: Mutex::new(Vec::new()),
    });
    let trials: Vec<Trial> = names
        .into_iter()
        .map(|n| {
            let c = ctx.clone();
            Trial::test(format!("case/{n}"), move || case_test(&c, &n))
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);

    timing_pass(&ctx);
    drop(ctx);
    conclusion.exit();
}
