//! `wasmaot build IN -o EXE`: compiles a WASI command and links it with the system `cc` and
//! `libwasmaot_runtime.a` into a standalone executable. Capabilities are fixed at build time
//! (`--dir`, `--ro-dir`, `--env`, `--inherit-env`); by default the program gets its
//! arguments and stdio only: no directories and no environment.

use super::{compile::parse_bounds, compile_file, default_name, write_output};
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::Command;
use wasmaot::BoundsChecks;

/// Arguments of `build`.
#[derive(clap::Args)]
pub struct Args {
    /// Input module (.wasm or .wat), a WASI command.
    input: PathBuf,
    /// Output executable.
    #[arg(short = 'o', long = "output")]
    output: PathBuf,
    /// What the program may see.
    #[command(flatten)]
    caps: super::Capabilities,
    /// Pass the whole process environment to the program at run time.
    #[arg(long = "inherit-env")]
    inherit_env: bool,
    /// CPU features the code may use: `native` (this machine's, the default: the executable is
    /// built to run here), `baseline` (portable x86-64-v2, for copying to other machines) or
    /// `x86-64-v3` (AVX2-class machines).
    #[arg(long, default_value = "native", value_parser = super::compile::parse_cpu)]
    cpu: wasmaot::Cpu,
    /// Compilation threads (0 = all cores).
    #[arg(short = 'j', long = "threads", default_value = "0")]
    threads: usize,
    /// Bounds checks for 32-bit memories: `guard` or `explicit`.
    #[arg(long = "bounds-checks", default_value = "guard", value_parser = parse_bounds)]
    bounds_checks: BoundsChecks,
    /// Optimisation level.
    #[arg(short = 'O', default_value = "2", value_parser = clap::value_parser!(u8).range(0..=2))]
    opt_level: u8,
    /// Start the code this many bytes (a multiple of 16, at most 4096) after a 64-byte cache
    /// line instead of on it: for measuring how much speed depends on code placement.
    #[arg(long = "code-shift", default_value = "0", value_name = "BYTES")]
    code_shift: u32,
}

/// Native libraries a Rust static library needs when linked by `cc`.
pub const NATIVE_LIBS: &[&str] = &["-lpthread", "-ldl", "-lm", "-lrt", "-lutil"];

/// Finds `libwasmaot_runtime.a`: `$WASMAOT_RUNTIME_LIB`, or next to this executable.
pub fn runtime_lib() -> anyhow::Result<PathBuf> {
    if let Ok(p) = std::env::var("WASMAOT_RUNTIME_LIB") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().context("locating the wasmaot executable")?;
    let dir = exe.parent().unwrap_or(Path::new("."));
    for cand in [
        dir.join("libwasmaot_runtime.a"),
        dir.join("../libwasmaot_runtime.a"),
    ] {
        if cand.exists() {
            return Ok(cand);
        }
    }
    bail!(
        "libwasmaot_runtime.a not found next to {} (build it with `cargo build --release`, or set WASMAOT_RUNTIME_LIB)",
        exe.display()
    )
}

fn c_string(s: &str) -> String {
    let mut o = String::from("\"");
    for b in s.bytes() {
        match b {
            b'"' | b'\\' => {
                o.push('\\');
                o.push(b as char);
            }
            0x20..=0x7e => o.push(b as char),
            _ => o.push_str(&format!("\\{b:03o}")),
        }
    }
    o.push('"');
    o
}

/// The C `main` of a built executable.
fn main_source(name: &str, dirs: &[String], envs: &[String], inherit_env: bool) -> String {
    let list = |v: &[String]| {
        v.iter()
            .map(|s| format!("{}, ", c_string(s)))
            .collect::<String>()
    };
    format!(
        "#include <stdint.h>\n\
         extern const uint8_t {name}_wasmaot_module[];\n\
         int wasmaot_run_command(const void *, int, char **, const char *const *, const char *const *, int);\n\
         static const char *const dirs[] = {{{}0}};\n\
         static const char *const envs[] = {{{}0}};\n\
         int main(int argc, char **argv) {{\n  \
           return wasmaot_run_command({name}_wasmaot_module, argc, argv, dirs, envs, {});\n}}\n",
        list(dirs),
        list(envs),
        i32::from(inherit_env)
    )
}

/// Links objects and C sources with the runtime into an executable at `output` (atomically).
pub fn link(sources: &[PathBuf], output: &Path, work: &Path) -> anyhow::Result<()> {
    let lib = runtime_lib()?;
    let tmp_exe = work.join("a.out");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let out = Command::new(&cc)
        .args(sources)
        .arg(&lib)
        .args(NATIVE_LIBS)
        .arg("-o")
        .arg(&tmp_exe)
        .output()
        .with_context(|| format!("running `{cc}`"))?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stderr);
        let first = msg
            .lines()
            .find(|l| l.contains("error"))
            .unwrap_or_else(|| msg.lines().next().unwrap_or("failed"));
        bail!("link failed: {first}");
    }
    let bytes = std::fs::read(&tmp_exe)?;
    write_output(output, &bytes)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(output, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

pub fn run(a: Args) -> anyhow::Result<i32> {
    let name = default_name(&a.input);
    let opts = wasmaot::CompileOptions {
        name: name.clone(),
        bounds_checks: a.bounds_checks,
        cpu: a.cpu,
        opt_level: a.opt_level,
        threads: a.threads,
        code_shift: a.code_shift,
        ..Default::default()
    };
    let out = compile_file(&a.input, &opts)?;
    if !out.info.exports.iter().any(|e| e.name == "_start") {
        bail!(
            "{}: not a WASI command (no `_start` export)",
            a.input.display()
        );
    }
    let work = tempfile::tempdir().context("creating a temporary directory")?;
    let obj = work.path().join(format!("{name}.o"));
    std::fs::write(&obj, &out.object)?;
    let mut dirs: Vec<String> = a.caps.dirs.iter().map(|d| format!("rw:{d}")).collect();
    dirs.extend(a.caps.ro_dirs.iter().map(|d| format!("ro:{d}")));
    for kv in &a.caps.envs {
        if !kv.contains('=') {
            bail!("--env expects KEY=VALUE, got `{kv}`");
        }
    }
    let main_c = work.path().join("main.c");
    std::fs::write(
        &main_c,
        main_source(&name, &dirs, &a.caps.envs, a.inherit_env),
    )?;
    link(&[main_c, obj], &a.output, work.path())?;
    Ok(0)
}
