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

mod wasi_harness;

use libtest_mimic::{Arguments, Failed, Trial};
use std::collections::HashMap;
use std::fs;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use wasi_harness as h;
use wasi_harness::{Outcome, Spec, Tools};

/// The Wasm function each trapping program traps in: Wasmtime 50's innermost frame
/// (`Trap.frames[0].func_name`). Programs not listed only need some function named.
const TRAP_FUNCTIONS: &[(&str, &str)] = &[
    ("abort", "abort"),
    ("divzero", "__original_main"),
    ("oob", "__original_main"),
    ("stackoverflow", "recurse"),
];

#[derive(Clone, Debug)]
enum Peer {
    /// Python wasmtime, with its version.
    Live(String),
    /// Recorded results; why the live peer is unavailable.
    Recorded(String),
}

struct Ctx {
    tools: Result<Tools, String>,
    peer: Peer,
    dir: PathBuf,
    work: tempfile::TempDir,
    /// Program name → its executable, built once (TMP = `<work>/programs/<name>/exe/tmp`).
    exes: Mutex<HashMap<String, Arc<OnceLock<Result<PathBuf, String>>>>>,
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

    fn peer_name(&self) -> &'static str {
        match self.peer {
            Peer::Live(_) => "wasmtime (live)",
            Peer::Recorded(_) => "wasmtime (recorded)",
        }
    }
}

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

fn check_no_escape(who: &str, tmp: &Path, errs: &mut Vec<String>) {
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

fn program_test(ctx: &Ctx, name: &str) -> Result<(), Failed> {
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

// ---------------------------------------------------------------------------------------
// Direct sandbox checks: a generated module makes raw WASI calls and prints each errno.

/// WASI preview1 errno names by number.
const ERRNO_NAMES: &[&str] = &[
    "SUCCESS",
    "E2BIG",
    "EACCES",
    "EADDRINUSE",
    "EADDRNOTAVAIL",
    "EAFNOSUPPORT",
    "EAGAIN",
    "EALREADY",
    "EBADF",
    "EBADMSG",
    "EBUSY",
    "ECANCELED",
    "ECHILD",
    "ECONNABORTED",
    "ECONNREFUSED",
    "ECONNRESET",
    "EDEADLK",
    "EDESTADDRREQ",
    "EDOM",
    "EDQUOT",
    "EEXIST",
    "EFAULT",
    "EFBIG",
    "EHOSTUNREACH",
    "EIDRM",
    "EILSEQ",
    "EINPROGRESS",
    "EINTR",
    "EINVAL",
    "EIO",
    "EISCONN",
    "EISDIR",
    "ELOOP",
    "EMFILE",
    "EMLINK",
    "EMSGSIZE",
    "EMULTIHOP",
    "ENAMETOOLONG",
    "ENETDOWN",
    "ENETRESET",
    "ENETUNREACH",
    "ENFILE",
    "ENOBUFS",
    "ENODEV",
    "ENOENT",
    "ENOEXEC",
    "ENOLCK",
    "ENOLINK",
    "ENOMEM",
    "ENOMSG",
    "ENOPROTOOPT",
    "ENOSPC",
    "ENOSYS",
    "ENOTCONN",
    "ENOTDIR",
    "ENOTEMPTY",
    "ENOTRECOVERABLE",
    "ENOTSOCK",
    "ENOTSUP",
    "ENOTTY",
    "ENXIO",
    "EOVERFLOW",
    "EOWNERDEAD",
    "EPERM",
    "EPIPE",
    "EPROTO",
    "EPROTONOSUPPORT",
    "EPROTOTYPE",
    "ERANGE",
    "EROFS",
    "ESPIPE",
    "ESRCH",
    "ESTALE",
    "ETIMEDOUT",
    "ETXTBSY",
    "EXDEV",
    "ENOTCAPABLE",
];

const RW: u32 = 3; // fd of /sandbox (TMP, writable)
const RO: u32 = 4; // fd of /ro (read-only)
const FOLLOW: u32 = 1;
const O_CREAT: u32 = 1;
const O_DIRECTORY: u32 = 2;
const O_TRUNC: u32 = 8;
const R_READ: u64 = 1 << 1; // fd_read
const R_WRITE: u64 = 1 << 6; // fd_write
const R_ALL: u64 = 0x1FFF_FFFF;

enum Op {
    Open {
        fd: u32,
        path: &'static str,
        lookup: u32,
        oflags: u32,
        rights: u64,
    },
    Stat {
        fd: u32,
        path: &'static str,
        lookup: u32,
    },
    Mkdir {
        fd: u32,
        path: &'static str,
    },
    Unlink {
        fd: u32,
        path: &'static str,
    },
    Rmdir {
        fd: u32,
        path: &'static str,
    },
    Rename {
        fd: u32,
        old: &'static str,
        new_fd: u32,
        new: &'static str,
    },
    Symlink {
        target: &'static str,
        fd: u32,
        path: &'static str,
    },
    Link {
        fd: u32,
        old: &'static str,
        new_fd: u32,
        new: &'static str,
    },
    Readlink {
        fd: u32,
        path: &'static str,
    },
    /// open read-only, then `fd_write` to it.
    WriteReadOnlyFd {
        fd: u32,
        path: &'static str,
    },
    SetTimes {
        fd: u32,
        path: &'static str,
    },
}

/// (label, operation, expected errno: Wasmtime 50's answer).
fn direct_checks() -> Vec<(&'static str, Op, &'static str)> {
    use Op::*;
    let open = |fd, path| Open {
        fd,
        path,
        lookup: FOLLOW,
        oflags: 0,
        rights: R_READ,
    };
    vec![
        (
            "control: open target.txt",
            open(RW, "target.txt"),
            "SUCCESS",
        ),
        (
            "control: open sub/../target.txt",
            open(RW, "sub/../target.txt"),
            "SUCCESS",
        ),
        (
            "control: open inside_link",
            open(RW, "inside_link"),
            "SUCCESS",
        ),
        (
            "control: open dot_link/target.txt",
            open(RW, "dot_link/target.txt"),
            "SUCCESS",
        ),
        (
            "dotdot: open ../etc/passwd",
            open(RW, "../etc/passwd"),
            "EPERM",
        ),
        (
            "dotdot: open sub/../../etc/passwd",
            open(RW, "sub/../../etc/passwd"),
            "EPERM",
        ),
        (
            "dotdot: open .. as dir",
            Open {
                fd: RW,
                path: "..",
                lookup: FOLLOW,
                oflags: O_DIRECTORY,
                rights: R_READ,
            },
            "EPERM",
        ),
        (
            "dotdot: stat ..",
            Stat {
                fd: RW,
                path: "..",
                lookup: FOLLOW,
            },
            "EPERM",
        ),
        (
            "absolute: open /etc/passwd",
            open(RW, "/etc/passwd"),
            "EPERM",
        ),
        (
            "absolute: stat /",
            Stat {
                fd: RW,
                path: "/",
                lookup: FOLLOW,
            },
            "EPERM",
        ),
        (
            "absolute: create /tmp/wasmaot-escape",
            Open {
                fd: RW,
                path: "/tmp/wasmaot-escape",
                lookup: FOLLOW,
                oflags: O_CREAT,
                rights: R_ALL,
            },
            "EPERM",
        ),
        (
            "symlink out (absolute): open abs_link",
            open(RW, "abs_link"),
            "EPERM",
        ),
        (
            "symlink out (absolute): stat abs_link",
            Stat {
                fd: RW,
                path: "abs_link",
                lookup: FOLLOW,
            },
            "EPERM",
        ),
        (
            "symlink out (absolute): lstat abs_link",
            Stat {
                fd: RW,
                path: "abs_link",
                lookup: 0,
            },
            "SUCCESS",
        ),
        (
            "symlink out (absolute): open abs_link nofollow",
            Open {
                fd: RW,
                path: "abs_link",
                lookup: 0,
                oflags: 0,
                rights: R_READ,
            },
            "ELOOP",
        ),
        (
            "symlink out (dotdots): open rel_link",
            open(RW, "rel_link"),
            "EPERM",
        ),
        (
            "symlink to ..: open up_link as dir",
            Open {
                fd: RW,
                path: "up_link",
                lookup: FOLLOW,
                oflags: O_DIRECTORY,
                rights: R_READ,
            },
            "EPERM",
        ),
        (
            "symlink to ..: open up_link/etc/passwd",
            open(RW, "up_link/etc/passwd"),
            "EPERM",
        ),
        (
            "symlink to ..: stat up_link",
            Stat {
                fd: RW,
                path: "up_link",
                lookup: FOLLOW,
            },
            "EPERM",
        ),
        (
            "symlink to ..: create up_link/escaped.txt",
            Open {
                fd: RW,
                path: "up_link/escaped.txt",
                lookup: FOLLOW,
                oflags: O_CREAT,
                rights: R_ALL,
            },
            "EPERM",
        ),
        (
            "symlink to ../..: open sub/up2/etc/passwd",
            open(RW, "sub/up2/etc/passwd"),
            "EPERM",
        ),
        (
            "symlink to ..: mkdir up_link/escaped_dir",
            Mkdir {
                fd: RW,
                path: "up_link/escaped_dir",
            },
            "EPERM",
        ),
        (
            "escape: create ../escaped.txt",
            Open {
                fd: RW,
                path: "../escaped.txt",
                lookup: FOLLOW,
                oflags: O_CREAT,
                rights: R_ALL,
            },
            "EPERM",
        ),
        (
            "escape: mkdir ../escaped_dir",
            Mkdir {
                fd: RW,
                path: "../escaped_dir",
            },
            "EPERM",
        ),
        (
            "escape: rename target.txt -> ../escaped.txt",
            Rename {
                fd: RW,
                old: "target.txt",
                new_fd: RW,
                new: "../escaped.txt",
            },
            "EPERM",
        ),
        (
            "escape: link target.txt -> ../escaped_link",
            Link {
                fd: RW,
                old: "target.txt",
                new_fd: RW,
                new: "../escaped_link",
            },
            "EPERM",
        ),
        (
            "escape: symlink made_abs -> /etc/passwd",
            Symlink {
                target: "/etc/passwd",
                fd: RW,
                path: "made_abs",
            },
            "EPERM",
        ),
        (
            "escape: unlink ../x",
            Unlink {
                fd: RW,
                path: "../x",
            },
            "EPERM",
        ),
        (
            "control: readlink inside_link",
            Readlink {
                fd: RW,
                path: "inside_link",
            },
            "SUCCESS",
        ),
        // cap-std refuses to return an absolute symlink target.
        (
            "symlink out (absolute): readlink abs_link",
            Readlink {
                fd: RW,
                path: "abs_link",
            },
            "EPERM",
        ),
        (
            "read-only: open ro.txt for reading",
            open(RO, "ro.txt"),
            "SUCCESS",
        ),
        (
            "read-only: open ro.txt with write rights",
            Open {
                fd: RO,
                path: "ro.txt",
                lookup: FOLLOW,
                oflags: 0,
                rights: R_READ | R_WRITE,
            },
            "EPERM",
        ),
        (
            "read-only: create new.txt",
            Open {
                fd: RO,
                path: "new.txt",
                lookup: FOLLOW,
                oflags: O_CREAT,
                rights: R_READ | R_WRITE,
            },
            "EPERM",
        ),
        (
            "read-only: truncate ro.txt",
            Open {
                fd: RO,
                path: "ro.txt",
                lookup: FOLLOW,
                oflags: O_TRUNC,
                rights: R_READ | R_WRITE,
            },
            "EPERM",
        ),
        (
            "read-only: fd_write to a read-only fd",
            WriteReadOnlyFd {
                fd: RO,
                path: "ro.txt",
            },
            "EBADF",
        ),
        (
            "read-only: mkdir newdir",
            Mkdir {
                fd: RO,
                path: "newdir",
            },
            "EPERM",
        ),
        (
            "read-only: unlink ro.txt",
            Unlink {
                fd: RO,
                path: "ro.txt",
            },
            "EPERM",
        ),
        (
            "read-only: rmdir rsub",
            Rmdir {
                fd: RO,
                path: "rsub",
            },
            "EPERM",
        ),
        (
            "read-only: rename ro.txt -> moved.txt",
            Rename {
                fd: RO,
                old: "ro.txt",
                new_fd: RO,
                new: "moved.txt",
            },
            "EPERM",
        ),
        (
            "read-only: rename into it from /sandbox",
            Rename {
                fd: RW,
                old: "target.txt",
                new_fd: RO,
                new: "moved.txt",
            },
            "EPERM",
        ),
        (
            "read-only: symlink in it",
            Symlink {
                target: "ro.txt",
                fd: RO,
                path: "ln",
            },
            "EPERM",
        ),
        (
            "read-only: hard link in it",
            Link {
                fd: RO,
                old: "ro.txt",
                new_fd: RO,
                new: "hard",
            },
            "EPERM",
        ),
        (
            "read-only: set times of ro.txt",
            SetTimes {
                fd: RO,
                path: "ro.txt",
            },
            "EPERM",
        ),
    ]
}

/// Builds the WAT of the direct-check module: `_start` runs every check and prints
/// `<label>: <errno, 3 digits>` per line.
fn direct_checks_wat(checks: &[(&'static str, Op, &'static str)]) -> String {
    let mut data: Vec<u8> = Vec::new();
    const BASE: usize = 4096;
    let mut s = |t: &str| -> (usize, usize) {
        let p = BASE + data.len();
        data.extend_from_slice(t.as_bytes());
        (p, t.len())
    };
    let mut body = String::new();
    for (label, op, _) in checks {
        let (lp, ll) = s(&format!("{label}: "));
        let call = match op {
            Op::Open {
                fd,
                path,
                lookup,
                oflags,
                rights,
            } => {
                let (p, l) = s(path);
                format!("(call $open (i32.const {fd}) (i32.const {lookup}) (i32.const {p}) (i32.const {l}) (i32.const {oflags}) (i64.const {rights}))")
            }
            Op::Stat { fd, path, lookup } => {
                let (p, l) = s(path);
                format!("(call $path_filestat_get (i32.const {fd}) (i32.const {lookup}) (i32.const {p}) (i32.const {l}) (i32.const 64))")
            }
            Op::Mkdir { fd, path } => {
                let (p, l) = s(path);
                format!("(call $path_create_directory (i32.const {fd}) (i32.const {p}) (i32.const {l}))")
            }
            Op::Unlink { fd, path } => {
                let (p, l) = s(path);
                format!("(call $path_unlink_file (i32.const {fd}) (i32.const {p}) (i32.const {l}))")
            }
            Op::Rmdir { fd, path } => {
                let (p, l) = s(path);
                format!("(call $path_remove_directory (i32.const {fd}) (i32.const {p}) (i32.const {l}))")
            }
            Op::Rename {
                fd,
                old,
                new_fd,
                new,
            } => {
                let ((op_, ol), (np, nl)) = (s(old), s(new));
                format!("(call $path_rename (i32.const {fd}) (i32.const {op_}) (i32.const {ol}) (i32.const {new_fd}) (i32.const {np}) (i32.const {nl}))")
            }
            Op::Symlink { target, fd, path } => {
                let ((tp, tl), (p, l)) = (s(target), s(path));
                format!("(call $path_symlink (i32.const {tp}) (i32.const {tl}) (i32.const {fd}) (i32.const {p}) (i32.const {l}))")
            }
            Op::Link {
                fd,
                old,
                new_fd,
                new,
            } => {
                let ((op_, ol), (np, nl)) = (s(old), s(new));
                format!("(call $path_link (i32.const {fd}) (i32.const 0) (i32.const {op_}) (i32.const {ol}) (i32.const {new_fd}) (i32.const {np}) (i32.const {nl}))")
            }
            Op::Readlink { fd, path } => {
                let (p, l) = s(path);
                format!("(call $path_readlink (i32.const {fd}) (i32.const {p}) (i32.const {l}) (i32.const 512) (i32.const 512) (i32.const 8))")
            }
            Op::WriteReadOnlyFd { fd, path } => {
                let (p, l) = s(path);
                format!("(call $write_ro (i32.const {fd}) (i32.const {p}) (i32.const {l}))")
            }
            Op::SetTimes { fd, path } => {
                let (p, l) = s(path);
                // fst_flags 0b0101: set atim and mtim to the given times.
                format!("(call $path_filestat_set_times (i32.const {fd}) (i32.const 1) (i32.const {p}) (i32.const {l}) (i64.const 1000000000) (i64.const 1000000000) (i32.const 5))")
            }
        };
        body.push_str(&format!(
            "    (call $report (i32.const {lp}) (i32.const {ll}) {call})\n"
        ));
    }
    let escaped: String = data.iter().map(|b| format!("\\{b:02x}")).collect();
    format!(
        r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_get" (func $path_filestat_get (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_set_times" (func $path_filestat_set_times (param i32 i32 i32 i32 i64 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_create_directory" (func $path_create_directory (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_unlink_file" (func $path_unlink_file (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_remove_directory" (func $path_remove_directory (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_rename" (func $path_rename (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_symlink" (func $path_symlink (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_link" (func $path_link (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_readlink" (func $path_readlink (param i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const {BASE}) "{escaped}")
  ;; scratch: 0 opened fd, 8 readlink length, 64 filestat, 256 iovec, 264 nwritten,
  ;; 300 digits, 320 one byte to write, 512 readlink buffer
  (func $print (param $p i32) (param $n i32)
    (i32.store (i32.const 256) (local.get $p))
    (i32.store (i32.const 260) (local.get $n))
    (drop (call $fd_write (i32.const 1) (i32.const 256) (i32.const 1) (i32.const 264))))
  (func $report (param $lp i32) (param $ln i32) (param $e i32)
    (call $print (local.get $lp) (local.get $ln))
    (i32.store8 (i32.const 300) (i32.add (i32.const 48) (i32.rem_u (i32.div_u (local.get $e) (i32.const 100)) (i32.const 10))))
    (i32.store8 (i32.const 301) (i32.add (i32.const 48) (i32.rem_u (i32.div_u (local.get $e) (i32.const 10)) (i32.const 10))))
    (i32.store8 (i32.const 302) (i32.add (i32.const 48) (i32.rem_u (local.get $e) (i32.const 10))))
    (i32.store8 (i32.const 303) (i32.const 10))
    (call $print (i32.const 300) (i32.const 4)))
  (func $open (param $fd i32) (param $lookup i32) (param $p i32) (param $l i32) (param $oflags i32) (param $rights i64) (result i32)
    (local $e i32)
    (local.set $e (call $path_open (local.get $fd) (local.get $lookup) (local.get $p) (local.get $l)
      (local.get $oflags) (local.get $rights) (local.get $rights) (i32.const 0) (i32.const 0)))
    (if (i32.eqz (local.get $e)) (then (drop (call $fd_close (i32.load (i32.const 0))))))
    (local.get $e))
  (func $write_ro (param $fd i32) (param $p i32) (param $l i32) (result i32)
    (local $e i32) (local $f i32)
    (local.set $e (call $path_open (local.get $fd) (i32.const 1) (local.get $p) (local.get $l)
      (i32.const 0) (i64.const {R_READ}) (i64.const {R_READ}) (i32.const 0) (i32.const 0)))
    (if (local.get $e) (then (return (i32.add (i32.const 900) (local.get $e)))))
    (local.set $f (i32.load (i32.const 0)))
    (i32.store8 (i32.const 320) (i32.const 120))
    (i32.store (i32.const 256) (i32.const 320))
    (i32.store (i32.const 260) (i32.const 1))
    (local.set $e (call $fd_write (local.get $f) (i32.const 256) (i32.const 1) (i32.const 264)))
    (drop (call $fd_close (local.get $f)))
    (local.get $e))
  (func (export "_start")
{body}  ))
"#
    )
}

fn errno_name(n: u32) -> String {
    ERRNO_NAMES
        .get(n as usize)
        .map_or_else(|| format!("errno {n}"), |s| s.to_string())
}

/// Parses `label: NNN` lines into (label, errno name).
fn parse_report(out: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(out)
        .lines()
        .filter_map(|l| {
            let (label, n) = l.rsplit_once(": ")?;
            let n: u32 = n.trim().parse().ok()?;
            Some((label.to_string(), errno_name(n)))
        })
        .collect()
}

fn direct_sandbox_test(ctx: &Ctx) -> Result<(), Failed> {
    let tools = ctx.tools()?;
    let w = ctx.work.path().join("direct");
    fs::create_dir_all(&w).map_err(|e| e.to_string())?;
    let checks = direct_checks();
    let wasm_bytes =
        wat::parse_str(direct_checks_wat(&checks)).map_err(|e| format!("generated WAT: {e}"))?;
    let wasm = w.join("sandbox_direct.wasm");
    fs::write(&wasm, wasm_bytes).map_err(|e| e.to_string())?;

    // The read-only preopen: fixed, shared by all runs, must never change.
    let ro = w.join("ro");
    fs::create_dir_all(ro.join("rsub")).map_err(|e| e.to_string())?;
    fs::write(ro.join("ro.txt"), "read only\n").map_err(|e| e.to_string())?;
    let ro_before = h::snapshot(&ro);
    let spec_path = w.join("sandbox_direct.json");
    let spec_text = format!(
        r#"{{"argv0": "sandbox_direct", "args": [], "env": {{}},
  "dirs": [{{"host": "TMP", "guest": "/sandbox", "readonly": false}},
           {{"host": {}, "guest": "/ro", "readonly": true}}],
  "setup": [
    {{"op": "file", "path": "target.txt", "content": "inside\n"}},
    {{"op": "mkdir", "path": "sub"}},
    {{"op": "symlink", "path": "inside_link", "target": "target.txt"}},
    {{"op": "symlink", "path": "dot_link", "target": "."}},
    {{"op": "symlink", "path": "abs_link", "target": "/etc/passwd"}},
    {{"op": "symlink", "path": "rel_link", "target": "../../../../../../../../etc/passwd"}},
    {{"op": "symlink", "path": "up_link", "target": ".."}},
    {{"op": "symlink", "path": "sub/up2", "target": "../.."}}
  ], "stdin": ""}}"#,
        h::json::quote(&ro.display().to_string())
    );
    fs::write(&spec_path, spec_text).map_err(|e| e.to_string())?;
    let spec = Spec::load(&spec_path, "sandbox_direct")?;

    let expected: Vec<(String, String)> = checks
        .iter()
        .map(|(l, _, e)| (l.to_string(), e.to_string()))
        .collect();
    let mut errs = Vec::new();
    let mut results: Vec<(&str, Outcome)> = Vec::new();
    if let Peer::Live(_) = ctx.peer {
        let o = h::run_peer(&wasm, &spec, &w.join("peer/tmp"), &w.join("peer"), false)?;
        results.push(("wasmtime (live)", o));
    }
    let o = h::run_ours(tools, &wasm, &spec, &w.join("run/tmp"), &w.join("run"), &[])?;
    check_no_escape("wasmaot run", &w.join("run/tmp"), &mut errs);
    results.push(("wasmaot run", o));
    let exe = w.join("exe/exe/sandbox_direct");
    match h::build_exe(tools, &wasm, &spec, &w.join("exe/tmp"), &exe) {
        Ok(_) => {
            let o = h::run_exe(&exe, &spec, &w.join("exe/tmp"), &w.join("exe"))?;
            check_no_escape("built executable", &w.join("exe/tmp"), &mut errs);
            results.push(("built executable", o));
        }
        Err(e) => errs.push(e),
    }
    for (who, o) in &results {
        if o.status != 0 || !o.stderr.is_empty() {
            errs.push(format!(
                "{who}: status {} stderr {:?}",
                o.status,
                o.stderr_text()
            ));
        }
        let got = parse_report(&o.stdout);
        if got.len() != expected.len() {
            errs.push(format!(
                "{who}: {} results for {} checks",
                got.len(),
                expected.len()
            ));
        }
        for ((label, want), (_, have)) in expected.iter().zip(&got) {
            if want != have {
                errs.push(format!(
                    "{who}: {label}: got {have}, expected {want} (Wasmtime 50)"
                ));
            }
        }
        if who.starts_with("wasmtime") {
            continue;
        }
        if let Some((pn, po)) = results.iter().find(|(n, _)| n.starts_with("wasmtime")) {
            if po.stdout != o.stdout {
                errs.push(format!(
                    "{who}: output differs from {pn}: {}",
                    h::first_difference(who, &o.stdout, pn, &po.stdout)
                ));
            }
        }
    }
    let ro_after = h::snapshot(&ro);
    let d = h::snapshot_diff("before", &ro_before, "after", &ro_after);
    if !d.is_empty() {
        errs.push(format!("the read-only preopen changed:\n{d}"));
    }
    if errs.is_empty() {
        h::say(&format!(
            "  sandbox/direct: {} checks agree ({})\n",
            checks.len(),
            results
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        ));
        Ok(())
    } else {
        Err(errs.join("\n").into())
    }
}

// ---------------------------------------------------------------------------------------
// --max-memory

/// Python wasmtime with a per-memory byte limit (`Store.set_limits`), like `--max-memory`.
const PEER_LIMITED: &str = r#"
import os, sys, tempfile, wasmtime
eng = wasmtime.Engine()
mod = wasmtime.Module.from_file(eng, sys.argv[1])
store = wasmtime.Store(eng)
store.set_limits(memory_size=int(sys.argv[2]))
d = tempfile.mkdtemp()
w = wasmtime.WasiConfig()
w.argv = ["bigalloc"]
w.stdout_file = os.path.join(d, "out")
w.stderr_file = os.path.join(d, "err")
store.set_wasi(w)
link = wasmtime.Linker(eng)
link.define_wasi()
code = 0
try:
    link.instantiate(store, mod).exports(store)["_start"](store)
except wasmtime.ExitTrap as e:
    code = e.code
sys.stdout.buffer.write(open(os.path.join(d, "out"), "rb").read())
sys.stderr.buffer.write(open(os.path.join(d, "err"), "rb").read())
sys.exit(code)
"#;

fn max_memory_test(ctx: &Ctx, limit: &'static str, bytes: u64) -> Result<(), Failed> {
    let tools = ctx.tools()?;
    let spec = Spec::load(&ctx.dir.join("bigalloc.json"), "bigalloc")?;
    let wasm = ctx.dir.join("bigalloc.wasm");
    let w = ctx.work.path().join(format!("max-memory-{limit}"));
    let o = h::run_ours(
        tools,
        &wasm,
        &spec,
        &w.join("tmp"),
        &w,
        &["--max-memory", limit],
    )?;
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let mut errs = Vec::new();
    if o.status != 1 || !o.stderr.is_empty() {
        errs.push(format!(
            "expected the program to report failure (status 1, nothing on stderr), got status {} stderr {:?}",
            o.status,
            o.stderr_text()
        ));
    }
    let step = text
        .strip_prefix("malloc failed at step ")
        .and_then(|r| r.strip_suffix('\n'));
    if step.and_then(|s| s.parse::<u32>().ok()).is_none() {
        errs.push(format!("expected `malloc failed at step N`, got {text:?}"));
    }
    let mut peer_note = "no live peer".to_string();
    if let Peer::Live(_) = ctx.peer {
        let mut cmd = std::process::Command::new("python3");
        cmd.args(["-c", PEER_LIMITED])
            .arg(&wasm)
            .arg(bytes.to_string());
        let p = h::run_captured(cmd, &[], &w.join("peer-io"))?;
        peer_note = format!(
            "wasmtime (live, memory_size={bytes}): {:?}",
            String::from_utf8_lossy(&p.stdout)
        );
        if p.stdout != o.stdout || p.status != o.status {
            errs.push(format!(
                "differs from wasmtime with the same limit: ours status {} {:?}, wasmtime status {} {:?}",
                o.status,
                text,
                p.status,
                String::from_utf8_lossy(&p.stdout)
            ));
        }
    }
    if errs.is_empty() {
        h::say(&format!(
            "  max-memory {limit}: {:?} status 1; {peer_note}\n",
            text.trim_end()
        ));
        Ok(())
    } else {
        Err(errs.join("\n").into())
    }
}

/// Enough memory: the program succeeds with the recorded output.
fn max_memory_enough_test(ctx: &Ctx) -> Result<(), Failed> {
    let tools = ctx.tools()?;
    let spec = Spec::load(&ctx.dir.join("bigalloc.json"), "bigalloc")?;
    let wasm = ctx.dir.join("bigalloc.wasm");
    let w = ctx.work.path().join("max-memory-enough");
    let o = h::run_ours(
        tools,
        &wasm,
        &spec,
        &w.join("tmp"),
        &w,
        &["--max-memory", "512MiB"],
    )?;
    let want = fs::read(ctx.dir.join("bigalloc.expected")).map_err(|e| e.to_string())?;
    if o.status == 0 && o.stdout == want && o.stderr.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "with --max-memory 512MiB: status {} stdout {:?} stderr {:?}",
            o.status,
            String::from_utf8_lossy(&o.stdout),
            o.stderr_text()
        )
        .into())
    }
}

/// A cap below the module's initial memory: instantiation fails with an error (status 1),
/// not a crash or a trap.
fn max_memory_below_initial_test(ctx: &Ctx) -> Result<(), Failed> {
    let tools = ctx.tools()?;
    let spec = Spec::load(&ctx.dir.join("hello.json"), "hello")?;
    let wasm = ctx.dir.join("hello.wasm");
    let w = ctx.work.path().join("max-memory-tiny");
    let o = h::run_ours(
        tools,
        &wasm,
        &spec,
        &w.join("tmp"),
        &w,
        &["--max-memory", "64KiB"],
    )?;
    let err = o.stderr_text();
    if o.status == 1
        && o.stdout.is_empty()
        && err.starts_with("error: ")
        && err.lines().count() == 1
    {
        h::say(&format!("  max-memory 64KiB (hello): {}", err));
        Ok(())
    } else {
        Err(format!(
            "expected one `error:` line and status 1, got status {} stdout {:?} stderr {err:?}",
            o.status,
            String::from_utf8_lossy(&o.stdout)
        )
        .into())
    }
}

// ---------------------------------------------------------------------------------------
// stdio wired up differently from the spec runner: stdout and stderr into one file, and a
// stdout pipe whose reader goes away.

/// Python wasmtime with inherited stdio (argv[2] = argv0); exit status as a program's.
const PEER_INHERIT: &str = r#"
import sys, wasmtime
eng = wasmtime.Engine()
mod = wasmtime.Module.from_file(eng, sys.argv[1])
store = wasmtime.Store(eng)
w = wasmtime.WasiConfig()
w.argv = [sys.argv[2]]
w.inherit_stdin(); w.inherit_stdout(); w.inherit_stderr()
store.set_wasi(w)
link = wasmtime.Linker(eng)
link.define_wasi()
code = 0
try:
    link.instantiate(store, mod).exports(store)["_start"](store)
except wasmtime.ExitTrap as e:
    code = e.code
sys.exit(code)
"#;

/// Our two ways and the peer (when live) to run program `name` with inherited stdio.
fn stdio_runners(ctx: &Ctx, name: &str) -> Result<Vec<(&'static str, Command)>, Failed> {
    let tools = ctx.tools()?;
    let spec = Spec::load(&ctx.dir.join(format!("{name}.json")), name)?;
    let wasm = ctx.dir.join(format!("{name}.wasm"));
    let mut v = Vec::new();
    if let Peer::Live(_) = ctx.peer {
        let mut c = Command::new("python3");
        c.args(["-c", PEER_INHERIT]).arg(&wasm).arg(&spec.argv0);
        v.push(("wasmtime (live)", c));
    }
    let mut c = Command::new(&tools.wasmaot);
    c.arg("run").arg(&wasm);
    v.push(("wasmaot run", c));
    let exe = ctx.exe(name, &spec)?;
    let mut c = Command::new(exe);
    c.arg0(&spec.argv0);
    v.push(("built executable", c));
    Ok(v)
}

fn same_file_test(ctx: &Ctx) -> Result<(), Failed> {
    // What `stderr.c` writes, in program order.
    let want = "out 1\nerr 1\nout 2\nerr 2: no newline at end\nerr 3 via write(2)\nout 3\n";
    let w = ctx.work.path().join("same-file");
    fs::create_dir_all(&w).map_err(|e| e.to_string())?;
    let mut errs = Vec::new();
    for (i, (who, mut cmd)) in stdio_runners(ctx, "stderr")?.into_iter().enumerate() {
        let out = w.join(format!("out{i}"));
        let f = fs::File::create(&out).map_err(|e| e.to_string())?;
        cmd.stdin(Stdio::null())
            .stdout(f.try_clone().map_err(|e| e.to_string())?)
            .stderr(f);
        let st = cmd.status().map_err(|e| format!("{who}: {e}"))?;
        let got = fs::read_to_string(&out).map_err(|e| e.to_string())?;
        if !st.success() || got != want {
            errs.push(format!(
                "{who}: {st}, stdout+stderr {got:?}, expected {want:?}"
            ));
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("\n").into())
    }
}

/// `cat` with 1 MiB on stdin and a stdout pipe whose reader takes 10 bytes and closes it:
/// Wasmtime (which, like Python and Rust programs, ignores SIGPIPE) gives the guest `EIO`
/// for the write, so `cat` prints `write: I/O error` and exits with 1. Ours must neither die
/// of SIGPIPE nor answer differently.
fn reader_gone_test(ctx: &Ctx) -> Result<(), Failed> {
    use std::io::Read;
    let w = ctx.work.path().join("reader-gone");
    fs::create_dir_all(&w).map_err(|e| e.to_string())?;
    let input = w.join("input");
    fs::write(&input, "y\n".repeat(512 * 1024)).map_err(|e| e.to_string())?;
    let mut results = Vec::new();
    for (i, (who, mut cmd)) in stdio_runners(ctx, "cat")?.into_iter().enumerate() {
        let err = w.join(format!("err{i}"));
        cmd.stdin(fs::File::open(&input).map_err(|e| e.to_string())?)
            .stdout(Stdio::piped())
            .stderr(fs::File::create(&err).map_err(|e| e.to_string())?);
        let mut child = cmd.spawn().map_err(|e| format!("{who}: {e}"))?;
        let mut buf = [0u8; 10];
        let _ = child.stdout.take().map(|mut o| o.read_exact(&mut buf));
        // stdout's read end is dropped here.
        let st = child.wait().map_err(|e| e.to_string())?;
        let status = st.code().unwrap_or_else(|| 128 + st.signal().unwrap_or(0));
        results.push((who, status, fs::read_to_string(&err).unwrap_or_default()));
    }
    let (want_status, want_err) = match results.iter().find(|r| r.0.starts_with("wasmtime")) {
        Some((_, s, e)) => (*s, e.clone()),
        None => (1, "write: I/O error\n".to_string()),
    };
    let mut errs = Vec::new();
    for (who, status, err) in &results {
        if *status != want_status || *err != want_err {
            errs.push(format!(
                "{who}: status {status}{}, stderr {err:?}; wasmtime: status {want_status}, stderr {want_err:?}",
                if *status > 128 { format!(" (killed by signal {})", status - 128) } else { String::new() }
            ));
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("\n").into())
    }
}

// ---------------------------------------------------------------------------------------
// Raw WASI call survey (tests/wasi_harness/survey.rs).

/// Runs a generated module (`wasm`, spec at `spec_path`) with the peer (live), `wasmaot run`
/// and a built executable; returns (who, outcome, TMP snapshot) for each.
fn run_three(
    ctx: &Ctx,
    w: &Path,
    wasm: &Path,
    spec: &Spec,
) -> Result<(Vec<(&'static str, Outcome, h::Tree)>, Vec<String>), Failed> {
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

fn survey_test(ctx: &Ctx) -> Result<(), Failed> {
    let w = ctx.work.path().join("survey");
    fs::create_dir_all(&w).map_err(|e| e.to_string())?;
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

/// `poll_oneoff` for reading stdin when stdin is a pipe whose writer has gone (EOF):
/// Wasmtime reports the event with nbytes 1 and no flags.
fn poll_stdin_pipe_test(ctx: &Ctx) -> Result<(), Failed> {
    let tools = ctx.tools()?;
    let w = ctx.work.path().join("poll-stdin-pipe");
    fs::create_dir_all(&w).map_err(|e| e.to_string())?;
    let calls: Vec<_> = h::survey::calls()
        .into_iter()
        .filter(|c| c.label == "poll stdin read")
        .collect();
    let wasm = w.join("poll.wasm");
    fs::write(
        &wasm,
        wat::parse_str(h::survey::wat(&calls)).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let exe = w.join("poll");
    h::build_exe(
        tools,
        &wasm,
        &Spec::load(&ctx.dir.join("hello.json"), "hello")?,
        &w.join("tmp"),
        &exe,
    )?;
    let mut cmds: Vec<(&str, Command)> = Vec::new();
    if let Peer::Live(_) = ctx.peer {
        let mut c = Command::new("python3");
        c.args(["-c", PEER_INHERIT]).arg(&wasm).arg("poll");
        cmds.push(("wasmtime (live)", c));
    }
    let mut c = Command::new(&tools.wasmaot);
    c.arg("run").arg(&wasm);
    cmds.push(("wasmaot run", c));
    cmds.push(("built executable", Command::new(&exe)));
    let want = "poll stdin read: 00 04 00 00 00 00 00 00 00 00 00 01 00 00 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n";
    let mut errs = Vec::new();
    for (who, mut cmd) in cmds {
        use std::io::Write;
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{who}: {e}"))?;
        let _ = child.stdin.take().map(|mut i| i.write_all(b"input"));
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        let got = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() || got != want {
            errs.push(format!(
                "{who}: {}: {got:?}\n  expected (Wasmtime 50): {want:?}",
                out.status
            ));
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("\n").into())
    }
}

// ---------------------------------------------------------------------------------------
// `wasmaot build --inherit-env`: the environment comes from the process at run time.

fn inherit_env_test(ctx: &Ctx) -> Result<(), Failed> {
    use std::os::unix::ffi::OsStrExt;
    let tools = ctx.tools()?;
    let w = ctx.work.path().join("inherit-env");
    fs::create_dir_all(&w).map_err(|e| e.to_string())?;
    let spec = Spec::load(&ctx.dir.join("environ.json"), "environ")?;
    let exe = w.join("environ");
    let out = Command::new(&tools.wasmaot)
        .env("WASMAOT_RUNTIME_LIB", &tools.runtime_lib)
        .arg("build")
        .arg(ctx.dir.join("environ.wasm"))
        .arg("-o")
        .arg(&exe)
        .arg("--inherit-env")
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "wasmaot build --inherit-env: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let want = fs::read(ctx.dir.join("environ.expected")).map_err(|e| e.to_string())?;
    let mut errs = Vec::new();
    // 1. Exactly the spec's environment at run time: the recorded output.
    let mut cmd = Command::new(&exe);
    cmd.arg0("environ")
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)));
    let o = h::run_captured(cmd, &[], &w.join("io1"))?;
    if o.status != 0 || o.stdout != want {
        errs.push(format!(
            "run-time environment not passed through: status {}, {}",
            o.status,
            h::first_difference("ours", &o.stdout, "environ.expected", &want)
        ));
    }
    // 2. Plus a variable whose value is not UTF-8 (legal on Unix): must not crash; the
    //    other variables must still arrive (the odd one may be passed as bytes or left out).
    let mut cmd = Command::new(&exe);
    cmd.arg0("environ")
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .env("OTHER_BYTES", std::ffi::OsStr::from_bytes(b"\xff\xfe"));
    let o = h::run_captured(cmd, &[], &w.join("io2"))?;
    let tail = |b: &[u8]| {
        String::from_utf8_lossy(b)
            .lines()
            .skip(1)
            .collect::<Vec<_>>()
            .join("\n")
    };
    if o.status != 0 || tail(&o.stdout) != tail(&want) {
        errs.push(format!(
            "with a non-UTF-8 variable in the environment: status {}, stdout {:?}, stderr {:?}",
            o.status,
            h::preview(&o.stdout),
            o.stderr_text()
        ));
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("\n").into())
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
