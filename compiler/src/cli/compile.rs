//! `wasmaot compile IN -o OUT.o [--name N] [--header H] [--target T] [-O N]`.

use super::{compile_file, default_name, write_output};
use std::path::PathBuf;
use wasmaot::BoundsChecks;

/// Arguments of `compile`.
#[derive(clap::Args)]
pub struct Args {
    /// Input module (.wasm or .wat).
    input: PathBuf,
    /// Output object file.
    #[arg(short = 'o', long = "output")]
    output: PathBuf,
    /// Module name: prefix of every exported symbol (default: the input's file stem).
    #[arg(long)]
    name: Option<String>,
    /// Also write a C header declaring the instance API, exports and imports.
    #[arg(long)]
    header: Option<PathBuf>,
    /// Target triple (default: the host).
    #[arg(long)]
    target: Option<String>,
    /// Optimisation level.
    #[arg(short = 'O', default_value = "2", value_parser = clap::value_parser!(u8).range(0..=2))]
    opt_level: u8,
    /// CPU features the code may use: `baseline` (portable x86-64-v2), `x86-64-v3` (AVX2) or
    /// `native` (this machine).
    #[arg(long, default_value = "baseline", value_parser = super::compile::parse_cpu)]
    cpu: wasmaot::Cpu,
    /// Bounds checks for 32-bit memories: `guard` (none; 8 GiB reservation) or `explicit`.
    #[arg(long = "bounds-checks", default_value = "guard", value_parser = parse_bounds)]
    bounds_checks: BoundsChecks,
    /// Compilation threads (0 = all cores).
    #[arg(short = 'j', long = "threads", default_value = "0")]
    threads: usize,
    /// Start the code this many bytes (a multiple of 16, at most 4096) after a 64-byte cache
    /// line instead of on it: for measuring how much speed depends on code placement.
    #[arg(long = "code-shift", default_value = "0", value_name = "BYTES")]
    code_shift: u32,
}

/// Parses `--cpu`.
pub fn parse_cpu(s: &str) -> Result<wasmaot::Cpu, String> {
    match s {
        "baseline" | "x86-64-v2" => Ok(wasmaot::Cpu::Baseline),
        "x86-64-v3" => Ok(wasmaot::Cpu::X86_64V3),
        "native" => Ok(wasmaot::Cpu::Native),
        _ => Err(format!(
            "expected `baseline` (= `x86-64-v2`), `x86-64-v3` or `native`, got `{s}`"
        )),
    }
}

/// Parses `--bounds-checks`.
pub fn parse_bounds(s: &str) -> Result<BoundsChecks, String> {
    match s {
        "guard" => Ok(BoundsChecks::Guard),
        "explicit" => Ok(BoundsChecks::Explicit),
        _ => Err(format!("expected `guard` or `explicit`, got `{s}`")),
    }
}

pub fn run(a: Args) -> anyhow::Result<i32> {
    let opts = wasmaot::CompileOptions {
        name: a.name.unwrap_or_else(|| default_name(&a.input)),
        target: a.target,
        opt_level: a.opt_level,
        bounds_checks: a.bounds_checks,
        cpu: a.cpu,
        threads: a.threads,
        code_shift: a.code_shift,
        ..Default::default()
    };
    let out = compile_file(&a.input, &opts)?;
    if let Some(h) = &a.header {
        let text = wasmaot::header::generate(&out.info);
        write_output(h, text.as_bytes())?;
    }
    write_output(&a.output, &out.object)?;
    Ok(0)
}
