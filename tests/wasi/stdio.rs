//! stdio wired up differently from the spec runner: stdout and stderr into one file, a
//! stdout pipe whose reader goes away, and `poll_oneoff` on a stdin pipe at EOF.

use crate::wasi_harness as h;
use crate::wasi_harness::Spec;
use crate::{Ctx, Peer};
use libtest_mimic::Failed;
use std::fs;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};

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

pub(crate) fn same_file_test(ctx: &Ctx) -> Result<(), Failed> {
    // What `stderr.c` writes, in program order.
    let want = "out 1\nerr 1\nout 2\nerr 2: no newline at end\nerr 3 via write(2)\nout 3\n";
    let w = ctx.workdir("same-file")?;
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
pub(crate) fn reader_gone_test(ctx: &Ctx) -> Result<(), Failed> {
    use std::io::Read;
    let w = ctx.workdir("reader-gone")?;
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

/// `poll_oneoff` for reading stdin when stdin is a pipe whose writer has gone (EOF):
/// Wasmtime reports the event with nbytes 1 and no flags.
pub(crate) fn poll_stdin_pipe_test(ctx: &Ctx) -> Result<(), Failed> {
    let tools = ctx.tools()?;
    let w = ctx.workdir("poll-stdin-pipe")?;
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
