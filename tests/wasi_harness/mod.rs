//! Shared machinery of `tests/wasi.rs` and `tests/third_party.rs`: running a WASI program
//! per a `run_wasmtime.py` spec (see tests/wasi-programs/README.md) three ways and comparing.
//!
//! * **ours, `wasmaot run`**: `wasmaot run <argv0> --dir … --ro-dir … --env … -- ARGS`, run
//!   in a directory holding a symlink named `argv0` to the module, so the guest's `argv[0]` is
//!   exactly the spec's `argv0` (`run` passes the input path as `argv[0]`).
//! * **ours, `wasmaot build`**: an executable built once per capability set (host dirs and
//!   environment are fixed at build time, so `TMP` is a directory path fixed per build that
//!   is emptied and set up again before every run), started with `argv[0]` = `argv0`.
//! * **peer**: Python's `wasmtime` via `tests/wasi-programs/run_wasmtime.py` when
//!   `python3 -c "import wasmtime"` works, else the recorded `.expected`/`.status`/`.stderr`/
//!   `.trap` files. Which one was used is printed by the tests (never a silent skip).
//!
//! Finding `libwasmaot_runtime.a` for `wasmaot build` (see [`Tools::locate`]): `$WASMAOT_RUNTIME_LIB`
//! when set; otherwise the newest (by mtime) of `libwasmaot_runtime-*.a` in the test
//! binary's own `deps/` directory and `libwasmaot_runtime.a` in the profile directory.
//! Cargo builds the runtime's `staticlib` crate type into `deps/` whenever it builds the
//! runtime as a dependency of this test, so the newest one is the one matching the
//! `wasmaot` binary under test. (Running `cargo build -p wasmaot-runtime` from inside the
//! test is not an option: `cargo test` holds the target directory's lock.)

#![allow(dead_code)]

pub mod json;
pub mod survey;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Exit status of a trapped program (ours and the peer's).
pub const TRAP_STATUS: i32 = 134;
/// A run taking longer than this is killed and reported.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// [`RUN_TIMEOUT`] plus time to compile `wasm` first (`wasmaot run`, or a peer with a cold
/// cache): 8 s per MB, about four times what the debug-built CLI needs on two free cores
/// (yosys.wasm, 68.9 MB: 102 s compile + run), so a busy machine does not fail the case.
pub fn timeout_with_compile(wasm: &Path) -> Duration {
    let mb = fs::metadata(wasm).map_or(0, |m| m.len()) as f64 / 1e6;
    RUN_TIMEOUT + Duration::from_secs_f64(8.0 * mb)
}

/// Repository root (`compiler/..`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("compiler/ has a parent")
        .to_path_buf()
}

/// The `wasmaot` binary and the runtime static library it links built executables with.
#[derive(Clone, Debug)]
pub struct Tools {
    pub wasmaot: PathBuf,
    pub runtime_lib: PathBuf,
}

impl Tools {
    /// See the module documentation for how the runtime library is found.
    pub fn locate() -> Result<Tools, String> {
        let wasmaot = PathBuf::from(env!("CARGO_BIN_EXE_wasmaot"));
        if let Some(p) = std::env::var_os("WASMAOT_RUNTIME_LIB") {
            return Ok(Tools {
                wasmaot,
                runtime_lib: PathBuf::from(p),
            });
        }
        let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
        let deps = exe.parent().ok_or("test binary has no parent directory")?;
        let mut cands: Vec<PathBuf> = fs::read_dir(deps)
            .map_err(|e| format!("{}: {e}", deps.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let n = p.file_name().unwrap_or_default().to_string_lossy();
                n.starts_with("libwasmaot_runtime-") && n.ends_with(".a")
            })
            .collect();
        if let Some(profile) = deps.parent() {
            cands.push(profile.join("libwasmaot_runtime.a"));
        }
        let newest = cands
            .into_iter()
            .filter_map(|p| Some((fs::metadata(&p).ok()?.modified().ok()?, p)))
            .max()
            .map(|(_, p)| p);
        match newest {
            Some(runtime_lib) => Ok(Tools {
                wasmaot,
                runtime_lib,
            }),
            None => Err(format!(
                "libwasmaot_runtime.a not found in {} (set WASMAOT_RUNTIME_LIB)",
                deps.display()
            )),
        }
    }
}

/// Where a preopened directory comes from.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Host {
    /// The fresh per-run temporary directory.
    Tmp,
    /// A fixed host directory (absolute).
    Path(PathBuf),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DirSpec {
    pub host: Host,
    pub guest: String,
    pub readonly: bool,
}

#[derive(Clone, Debug)]
pub enum SetupStep {
    File { path: String, content: Vec<u8> },
    Mkdir { path: String },
    Symlink { path: String, target: String },
}

/// A parsed `run_wasmtime.py` spec.
#[derive(Clone, Debug)]
pub struct Spec {
    pub path: PathBuf,
    pub argv0: String,
    pub args: Vec<String>,
    /// Sorted by key (as `run_wasmtime.py` passes them).
    pub env: Vec<(String, String)>,
    pub dirs: Vec<DirSpec>,
    pub setup: Vec<SetupStep>,
    pub stdin: Vec<u8>,
    /// `tests/third_party/cases`: the module's file name.
    pub wasm: Option<String>,
    pub slow: bool,
}

impl Spec {
    pub fn load(path: &Path, default_argv0: &str) -> Result<Spec, String> {
        let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let v = json::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let s = |v: Option<&json::Value>| v.and_then(|v| v.as_str()).map(str::to_string);
        let mut env: Vec<(String, String)> = match v.get("env") {
            Some(json::Value::Object(kv)) => kv
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect(),
            _ => Vec::new(),
        };
        env.sort();
        let mut dirs = Vec::new();
        for d in v.get("dirs").and_then(|d| d.as_array()).unwrap_or(&[]) {
            let host = s(d.get("host")).ok_or("dir without host")?;
            let host = if host == "TMP" {
                Host::Tmp
            } else {
                let p = base.join(&host);
                Host::Path(fs::canonicalize(&p).map_err(|e| format!("{}: {e}", p.display()))?)
            };
            dirs.push(DirSpec {
                host,
                guest: s(d.get("guest")).ok_or("dir without guest")?,
                readonly: d.get("readonly").and_then(|b| b.as_bool()).unwrap_or(false),
            });
        }
        let mut setup = Vec::new();
        for st in v.get("setup").and_then(|d| d.as_array()).unwrap_or(&[]) {
            let path = s(st.get("path")).ok_or("setup step without path")?;
            setup.push(match s(st.get("op")).as_deref() {
                Some("file") => SetupStep::File {
                    path,
                    content: s(st.get("content")).unwrap_or_default().into_bytes(),
                },
                Some("mkdir") => SetupStep::Mkdir { path },
                Some("symlink") => SetupStep::Symlink {
                    path,
                    target: s(st.get("target")).ok_or("symlink without target")?,
                },
                other => return Err(format!("unknown setup op {other:?}")),
            });
        }
        let argv0 = s(v.get("argv0")).unwrap_or_else(|| default_argv0.to_string());
        if argv0.is_empty() || argv0.contains('/') {
            return Err(format!(
                "argv0 {argv0:?}: the harness needs a plain file name"
            ));
        }
        Ok(Spec {
            path: path.to_path_buf(),
            argv0,
            args: v
                .get("args")
                .and_then(|a| a.as_array())
                .unwrap_or(&[])
                .iter()
                .map(|a| a.as_str().unwrap_or_default().to_string())
                .collect(),
            env,
            dirs,
            setup,
            stdin: s(v.get("stdin")).unwrap_or_default().into_bytes(),
            wasm: s(v.get("wasm")),
            slow: v.get("slow").and_then(|b| b.as_bool()).unwrap_or(false),
        })
    }

    pub fn uses_tmp(&self) -> bool {
        self.dirs.iter().any(|d| d.host == Host::Tmp)
    }

    /// `--dir`/`--ro-dir`/`--env` flags (common to `run` and `build`), with `TMP` = `tmp`.
    /// Preopens keep the spec's order when all read-write dirs come before the read-only ones
    /// (both `run` and `build` number `--dir`s first, then `--ro-dir`s).
    pub fn capability_flags(&self, tmp: &Path) -> Vec<String> {
        let mut flags = Vec::new();
        let host = |d: &DirSpec| match &d.host {
            Host::Tmp => tmp.display().to_string(),
            Host::Path(p) => p.display().to_string(),
        };
        for d in self.dirs.iter().filter(|d| !d.readonly) {
            flags.push("--dir".into());
            flags.push(format!("{}::{}", host(d), d.guest));
        }
        for d in self.dirs.iter().filter(|d| d.readonly) {
            flags.push("--ro-dir".into());
            flags.push(format!("{}::{}", host(d), d.guest));
        }
        for (k, v) in &self.env {
            flags.push("--env".into());
            flags.push(format!("{k}={v}"));
        }
        flags
    }

    /// Whether `capability_flags` numbers the preopens as the peer does.
    pub fn preopen_order_preserved(&self) -> bool {
        let first_ro = self
            .dirs
            .iter()
            .position(|d| d.readonly)
            .unwrap_or(self.dirs.len());
        self.dirs[first_ro..].iter().all(|d| d.readonly)
    }

    /// Empties (or creates) `tmp` and applies the setup steps.
    pub fn prepare_tmp(&self, tmp: &Path) -> Result<(), String> {
        let _ = fs::remove_dir_all(tmp);
        fs::create_dir_all(tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        for st in &self.setup {
            let r = match st {
                SetupStep::File { path, content } => {
                    let p = tmp.join(path);
                    if let Some(parent) = p.parent() {
                        let _ = fs::create_dir_all(parent);
                    }
                    fs::write(&p, content)
                }
                SetupStep::Mkdir { path } => fs::create_dir_all(tmp.join(path)),
                SetupStep::Symlink { path, target } => {
                    std::os::unix::fs::symlink(target, tmp.join(path))
                }
            };
            r.map_err(|e| format!("setup {st:?}: {e}"))?;
        }
        Ok(())
    }
}

/// What a run produced.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub status: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
}

impl Outcome {
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// Runs `cmd` with `stdin` as its standard input, capturing stdout/stderr through files in
/// `scratch` (no pipe deadlocks), killing it after [`RUN_TIMEOUT`]. A death by signal `n`
/// is reported as status `128 + n`, as a shell would.
pub fn run_captured(cmd: Command, stdin: &[u8], scratch: &Path) -> Result<Outcome, String> {
    run_captured_within(cmd, stdin, scratch, RUN_TIMEOUT)
}

/// [`run_captured`] with its own time limit.
pub fn run_captured_within(
    mut cmd: Command,
    stdin: &[u8],
    scratch: &Path,
    limit: Duration,
) -> Result<Outcome, String> {
    fs::create_dir_all(scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let (pin, pout, perr) = (
        scratch.join("stdin"),
        scratch.join("stdout"),
        scratch.join("stderr"),
    );
    fs::write(&pin, stdin).map_err(|e| e.to_string())?;
    let open = |p: &Path| fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()));
    cmd.stdin(fs::File::open(&pin).map_err(|e| e.to_string())?)
        .stdout(open(&pout)?)
        .stderr(open(&perr)?);
    let desc = format!("{cmd:?}");
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("spawning {desc}: {e}"))?;
    let status = loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(st) => break st,
            None if start.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {limit:?}: {desc}"));
            }
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    let elapsed = start.elapsed();
    let status = match (status.code(), status.signal()) {
        (Some(c), _) => c,
        (None, Some(sig)) => 128 + sig,
        _ => -1,
    };
    Ok(Outcome {
        status,
        stdout: fs::read(&pout).map_err(|e| e.to_string())?,
        stderr: fs::read(&perr).map_err(|e| e.to_string())?,
        elapsed,
    })
}

/// `wasmaot run` per `spec` (TMP = `tmp`, prepared here), plus `extra` options before the
/// input (e.g. `--max-memory`). `work` is a scratch directory of this run.
pub fn run_ours(
    tools: &Tools,
    wasm: &Path,
    spec: &Spec,
    tmp: &Path,
    work: &Path,
    extra: &[&str],
) -> Result<Outcome, String> {
    if spec.uses_tmp() {
        spec.prepare_tmp(tmp)?;
    }
    let bin = work.join("bin");
    fs::create_dir_all(&bin).map_err(|e| e.to_string())?;
    let link = bin.join(&spec.argv0);
    let _ = fs::remove_file(&link);
    let wasm_abs = fs::canonicalize(wasm).map_err(|e| format!("{}: {e}", wasm.display()))?;
    std::os::unix::fs::symlink(&wasm_abs, &link).map_err(|e| e.to_string())?;
    let mut cmd = Command::new(&tools.wasmaot);
    cmd.current_dir(&bin)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .arg("run")
        .args(extra)
        .args(spec.capability_flags(tmp))
        .arg(&spec.argv0)
        .arg("--")
        .args(&spec.args);
    run_captured_within(
        cmd,
        &spec.stdin,
        &work.join("io"),
        timeout_with_compile(wasm),
    )
}

/// `wasmaot build` per `spec`'s capabilities (TMP = `tmp`, fixed in the executable).
pub fn build_exe(
    tools: &Tools,
    wasm: &Path,
    spec: &Spec,
    tmp: &Path,
    exe: &Path,
) -> Result<Duration, String> {
    if let Some(p) = exe.parent() {
        fs::create_dir_all(p).map_err(|e| e.to_string())?;
    }
    let start = Instant::now();
    let out = Command::new(&tools.wasmaot)
        .env("WASMAOT_RUNTIME_LIB", &tools.runtime_lib)
        .arg("build")
        .arg(wasm)
        .arg("-o")
        .arg(exe)
        .args(spec.capability_flags(tmp))
        .output()
        .map_err(|e| format!("spawning {}: {e}", tools.wasmaot.display()))?;
    if !out.status.success() {
        return Err(format!(
            "`wasmaot build {}` failed ({}): {}",
            wasm.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        ));
    }
    Ok(start.elapsed())
}

/// Runs a built executable per `spec` (TMP = `tmp`, the directory it was built with).
pub fn run_exe(exe: &Path, spec: &Spec, tmp: &Path, work: &Path) -> Result<Outcome, String> {
    if spec.uses_tmp() {
        spec.prepare_tmp(tmp)?;
    }
    let mut cmd = Command::new(exe);
    cmd.arg0(&spec.argv0)
        .args(&spec.args)
        .env_clear()
        .current_dir(work);
    run_captured(cmd, &spec.stdin, &work.join("io"))
}

/// Whether Python's wasmtime can be imported; `Err` carries the reason.
pub fn python_wasmtime() -> Result<String, String> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import wasmtime, importlib.metadata as m; print(m.version('wasmtime'))",
        ])
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr)
            .lines()
            .last()
            .unwrap_or("")
            .to_string())
    }
}

/// The live peer: `run_wasmtime.py wasm spec workdir` (workdir = TMP, must not exist yet).
pub fn run_peer(
    wasm: &Path,
    spec: &Spec,
    tmp: &Path,
    work: &Path,
    cache: bool,
) -> Result<Outcome, String> {
    let _ = fs::remove_dir_all(tmp);
    let script = repo_root().join("tests/wasi-programs/run_wasmtime.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script).arg(wasm).arg(&spec.path).arg(tmp);
    if cache {
        cmd.env("WASMAOT_PEER_CACHE", "1");
    }
    let o = run_captured_within(cmd, &[], &work.join("peer-io"), timeout_with_compile(wasm))?;
    if o.status == 125 {
        return Err(format!(
            "run_wasmtime.py failed: {}",
            o.stderr_text().trim_end()
        ));
    }
    Ok(o)
}

/// Wasmtime trap code (as in `.trap` files) → our trap message.
pub fn our_trap_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "STACK_OVERFLOW" => "call stack exhausted",
        "MEMORY_OUT_OF_BOUNDS" => "out of bounds memory access",
        "HEAP_MISALIGNED" => "unaligned atomic",
        "TABLE_OUT_OF_BOUNDS" => "out of bounds table access",
        "INDIRECT_CALL_TO_NULL" => "uninitialized element",
        "BAD_SIGNATURE" => "indirect call type mismatch",
        "INTEGER_OVERFLOW" => "integer overflow",
        "INTEGER_DIVISION_BY_ZERO" => "integer divide by zero",
        "BAD_CONVERSION_TO_INTEGER" => "invalid conversion to integer",
        "UNREACHABLE" => "unreachable",
        "NULL_REFERENCE" => "null reference",
        _ => return None,
    })
}

/// Splits the `trap: CODE: message` line `run_wasmtime.py` appends off a peer's stderr.
pub fn split_peer_trap(stderr: &[u8]) -> (Vec<u8>, Option<String>) {
    let marker = b"trap: ";
    // The marker starts a line: at 0 or after a newline; take the last one.
    let mut at = None;
    for i in 0..stderr.len() {
        if stderr[i..].starts_with(marker) && (i == 0 || stderr[i - 1] == b'\n') {
            at = Some(i);
        }
    }
    match at {
        Some(i) => {
            let line = String::from_utf8_lossy(&stderr[i + marker.len()..]).into_owned();
            let code = line.split(':').next().unwrap_or("").trim().to_string();
            (stderr[..i].to_vec(), Some(code))
        }
        None => (stderr.to_vec(), None),
    }
}

/// One entry of a directory tree snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    File(Vec<u8>),
    Dir,
    Symlink(String),
    Other,
}

/// A directory tree snapshot.
pub type Tree = BTreeMap<String, Node>;

/// Every path under `root` (relative), with contents of files and targets of symlinks.
pub fn snapshot(root: &Path) -> Tree {
    fn walk(root: &Path, rel: &str, out: &mut BTreeMap<String, Node>) {
        let Ok(rd) = fs::read_dir(root.join(rel)) else {
            return;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let r = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let p = root.join(&r);
            let Ok(md) = fs::symlink_metadata(&p) else {
                continue;
            };
            let node = if md.file_type().is_symlink() {
                Node::Symlink(
                    fs::read_link(&p)
                        .map(|t| t.display().to_string())
                        .unwrap_or_default(),
                )
            } else if md.is_dir() {
                Node::Dir
            } else if md.is_file() {
                Node::File(fs::read(&p).unwrap_or_default())
            } else {
                Node::Other
            };
            let is_dir = node == Node::Dir;
            out.insert(r.clone(), node);
            if is_dir {
                walk(root, &r, out);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, "", &mut out);
    out
}

/// Human-readable difference of two snapshots (empty when equal).
pub fn snapshot_diff(
    a_name: &str,
    a: &BTreeMap<String, Node>,
    b_name: &str,
    b: &BTreeMap<String, Node>,
) -> String {
    let mut s = String::new();
    for (k, v) in a {
        match b.get(k) {
            None => s.push_str(&format!("  {k}: only in {a_name}\n")),
            Some(w) if w != v => s.push_str(&format!(
                "  {k}: {a_name} has {}, {b_name} has {}\n",
                show_node(v),
                show_node(w)
            )),
            _ => {}
        }
    }
    for k in b.keys().filter(|k| !a.contains_key(*k)) {
        s.push_str(&format!("  {k}: only in {b_name}\n"));
    }
    s
}

fn show_node(n: &Node) -> String {
    match n {
        Node::File(c) => format!("file {:?}", preview(c)),
        Node::Dir => "dir".into(),
        Node::Symlink(t) => format!("symlink -> {t}"),
        Node::Other => "special file".into(),
    }
}

/// At most 200 bytes of output, lossily decoded.
pub fn preview(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(&b[..b.len().min(200)]).into_owned();
    if b.len() > 200 {
        format!("{s}… ({} bytes)", b.len())
    } else {
        s
    }
}

/// Where two byte strings first differ, with context from both.
pub fn first_difference(a_name: &str, a: &[u8], b_name: &str, b: &[u8]) -> String {
    let i = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let line = a[..i].iter().filter(|&&c| c == b'\n').count() + 1;
    let from = a[..i]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |p| p + 1);
    let ctx = |s: &[u8]| {
        let end = s[from.min(s.len())..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(s.len(), |p| from + p + 1);
        preview(&s[from.min(s.len())..end.min(from + 300).max(from.min(s.len()))])
    };
    format!(
        "first difference at byte {i} (line {line}); {a_name}: {} bytes, {b_name}: {} bytes\n  {a_name}: {:?}\n  {b_name}: {:?}",
        a.len(),
        b.len(),
        ctx(a),
        ctx(b)
    )
}

/// Writes `s` to stdout at once (lines of parallel tests do not interleave mid-line).
pub fn say(s: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(s.as_bytes());
    let _ = out.flush();
}
