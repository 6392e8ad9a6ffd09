//! WASI programs end to end: every program in `tests/wasi-programs` run with `wasmaot run`
//! and as an executable from `wasmaot build`, each compared with a peer: Python's `wasmtime`
//! run live through `run_wasmtime.py` when `python3 -c "import wasmtime"` works, otherwise
//! the recorded `.expected`/`.status`/`.stderr`/`.trap` files. The peer in use is printed.
//!
//! Compared: stdout byte for byte, exit status, stderr (exactly, except that a trap is our
//! `error: wasm trap: <message> (in function <f>)` line where the peer has its `trap:` line;
//! the trap kind must match the peer's or the recorded `.trap`), and for programs with a
//! `TMP` preopen the files left in it (with the live peer; run vs build otherwise). Nothing
//! may appear next to the `TMP` directory (an escape).
//!
//! Also: direct sandbox checks (raw `path_*` calls from a generated module: `..`, absolute
//! paths, symlinks out and to `..`, mutations of a read-only preopen — each must fail with
//! Wasmtime's errno), and `--max-memory` (bigalloc fails cleanly under 16 MiB).
//!
//! Run: `cargo test -p wasmaot --test wasi` (needs `cc`; Python `wasmtime` optional).
//! See tests/wasi_harness/mod.rs for how `libwasmaot_runtime.a` is found.

#[path = "../wasi_harness/mod.rs"]
mod wasi_harness;

mod calls;
mod inherit_env;
mod limits;
mod programs;
mod sandbox;
mod sandbox_checks;
mod stdio;

use libtest_mimic::{Arguments, Failed, Trial};
use std::collections::HashMap;
use std::fs;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use wasi_harness as h;
use wasi_harness::{Spec, Tools};

use calls::survey_test;
use inherit_env::inherit_env_test;
use limits::{max_memory_below_initial_test, max_memory_enough_test, max_memory_test};
use programs::program_test;
use sandbox::direct_sandbox_test;
use stdio::{poll_stdin_pipe_test, reader_gone_test, same_file_test};

#[derive(Clone, Debug)]
enum Peer {
    /// Python wasmtime, with its version.
    Live(String),
    /// Recorded results; why the live peer is unavailable.
    Recorded(String),
}

/// A program's executable, or why it could not be built, computed once.
type BuiltOnce = OnceLock<Result<PathBuf, String>>;

struct Ctx {
    tools: Result<Tools, String>,
    peer: Peer,
    dir: PathBuf,
    work: tempfile::TempDir,
    /// Program name → its executable, built once (TMP = `<work>/programs/<name>/exe/tmp`).
    exes: Mutex<HashMap<String, Arc<BuiltOnce>>>,
}

impl Ctx {
    fn tools(&self) -> Result<&Tools, Failed> {
        self.tools.as_ref().map_err(|e| Failed::from(e.clone()))
    }
    /// The program's executable from `wasmaot build`, built on first use.
    fn exe(&self, name: &str, spec: &Spec) -> Result<PathBuf, String> {
        let tools = self.tools.as_ref().map_err(|e| e.clone())?;
        let cell = self
            .exes
            .lock()
            .unwrap()
            .entry(name.to_string())
            .or_default()
            .clone();
        cell.get_or_init(|| {
            let w = self.work.path().join("programs").join(name);
            let exe = w.join("exe/exe").join(&spec.argv0);
            let wasm = self.dir.join(format!("{name}.wasm"));
            h::build_exe(tools, &wasm, spec, &w.join("exe/tmp"), &exe).map(|_| exe)
        })
        .clone()
    }

    /// A fresh directory `<work>/<name>` for one test's files.
    fn workdir(&self, name: &str) -> Result<PathBuf, Failed> {
        let w = self.work.path().join(name);
        std::fs::create_dir_all(&w).map_err(|e| e.to_string())?;
        Ok(w)
    }

    fn peer_name(&self) -> &'static str {
        match self.peer {
            Peer::Live(_) => "wasmtime (live)",
            Peer::Recorded(_) => "wasmtime (recorded)",
        }
    }
}

fn main() {
    let args = Arguments::from_args();
    let dir = h::repo_root().join("tests/wasi-programs");
    let peer = match h::python_wasmtime() {
        Ok(v) => Peer::Live(v),
        Err(e) => Peer::Recorded(e),
    };
    match &peer {
        Peer::Live(v) => h::say(&format!("wasi: peer = Python wasmtime {v}, run live via run_wasmtime.py\n")),
        Peer::Recorded(why) => h::say(&format!(
            "wasi: peer = recorded .expected/.status/.stderr/.trap (Python wasmtime unavailable: {why})\n"
        )),
    }
    let tools = Tools::locate();
    match &tools {
        Ok(t) => h::say(&format!(
            "wasi: wasmaot = {}, runtime = {}\n",
            t.wasmaot.display(),
            t.runtime_lib.display()
        )),
        Err(e) => h::say(&format!("wasi: {e}\n")),
    }
    let ctx = Arc::new(Ctx {
        tools,
        peer,
        dir: dir.clone(),
        work: tempfile::Builder::new()
            .prefix("wasmaot-wasi-test-")
            .tempdir()
            .expect("temp dir"),
        exes: Mutex::new(HashMap::new()),
    });

    let mut names: Vec<String> = fs::read_dir(&dir)
        .expect("tests/wasi-programs")
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.strip_suffix(".json").map(str::to_string)
        })
        .filter(|n| dir.join(format!("{n}.wasm")).exists())
        .collect();
    names.sort();
    let mut trials = Vec::new();
    for n in names {
        let c = ctx.clone();
        trials.push(Trial::test(format!("program/{n}"), move || {
            program_test(&c, &n)
        }));
    }
    let c = ctx.clone();
    trials.push(Trial::test("sandbox/direct-checks", move || {
        direct_sandbox_test(&c)
    }));
    let c = ctx.clone();
    trials.push(Trial::test(
        "max-memory/bigalloc-16MiB-fails-cleanly",
        move || max_memory_test(&c, "16MiB", 16 << 20),
    ));
    let c = ctx.clone();
    trials.push(Trial::test(
        "max-memory/bigalloc-512MiB-succeeds",
        move || max_memory_enough_test(&c),
    ));
    let c = ctx.clone();
    trials.push(Trial::test("max-memory/below-initial-memory", move || {
        max_memory_below_initial_test(&c)
    }));
    let c = ctx.clone();
    trials.push(Trial::test(
        "stdio/stdout-and-stderr-to-one-file",
        move || same_file_test(&c),
    ));
    let c = ctx.clone();
    trials.push(Trial::test("stdio/stdout-reader-gone", move || {
        reader_gone_test(&c)
    }));
    let c = ctx.clone();
    trials.push(Trial::test("wasi-calls/survey", move || survey_test(&c)));
    let c = ctx.clone();
    trials.push(Trial::test("stdio/poll-stdin-pipe-at-eof", move || {
        poll_stdin_pipe_test(&c)
    }));
    let c = ctx.clone();
    trials.push(Trial::test("env/build-inherit-env", move || {
        inherit_env_test(&c)
    }));
    let conclusion = libtest_mimic::run(&args, trials);
    drop(ctx);
    conclusion.exit();
}
