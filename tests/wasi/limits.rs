//! --max-memory

use crate::wasi_harness as h;
use crate::wasi_harness::Spec;
use crate::{Ctx, Peer};
use libtest_mimic::Failed;
use std::fs;

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

pub(crate) fn max_memory_test(ctx: &Ctx, limit: &'static str, bytes: u64) -> Result<(), Failed> {
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
pub(crate) fn max_memory_enough_test(ctx: &Ctx) -> Result<(), Failed> {
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
pub(crate) fn max_memory_below_initial_test(ctx: &Ctx) -> Result<(), Failed> {
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
