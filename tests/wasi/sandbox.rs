//! Direct sandbox checks: a generated module makes raw WASI calls and prints each errno (the
//! checks themselves are in `sandbox_checks.rs`).

use crate::programs::check_no_escape;
use crate::sandbox_checks::{direct_checks, Op, R_READ};
use crate::wasi_harness as h;
use crate::wasi_harness::{Outcome, Spec};
use crate::{Ctx, Peer};
use libtest_mimic::Failed;
use std::fs;

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

pub(crate) fn direct_sandbox_test(ctx: &Ctx) -> Result<(), Failed> {
    let tools = ctx.tools()?;
    let w = ctx.workdir("direct")?;
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
