//! `wasmaot build --inherit-env`: the environment comes from the process at run time.

use crate::wasi_harness as h;
use crate::wasi_harness::Spec;
use crate::Ctx;
use libtest_mimic::Failed;
use std::fs;
use std::os::unix::process::CommandExt;
use std::process::Command;

pub(crate) fn inherit_env_test(ctx: &Ctx) -> Result<(), Failed> {
    use std::os::unix::ffi::OsStrExt;
    let tools = ctx.tools()?;
    let w = ctx.workdir("inherit-env")?;
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
