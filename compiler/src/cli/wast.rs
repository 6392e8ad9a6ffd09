//! `wasmaot wast FILE...`: runs spec scripts and prints per-file and total counts.

use std::path::PathBuf;

/// Arguments of `wast`.
#[derive(clap::Args)]
pub struct Args {
    /// Scripts to run.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Feature set: a spec-suite directory name such as `wasm-v2` or `proposals/simd`
    /// (default: chosen from each file's parent directory).
    #[arg(long)]
    suite: Option<String>,
    /// Print every failure, not just the counts.
    #[arg(short, long)]
    verbose: bool,
    /// Bounds checks for 32-bit memories the scripts' modules are compiled with: `guard` or
    /// `explicit`.
    #[arg(long = "bounds-checks", default_value = "guard", value_parser = super::compile::parse_bounds)]
    bounds_checks: wasmaot::BoundsChecks,
}

pub fn run(a: Args) -> anyhow::Result<i32> {
    let mut total = wasmaot::wast::Report::default();
    for f in &a.files {
        let text =
            std::fs::read_to_string(f).map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
        let suite = a.suite.clone().unwrap_or_else(|| {
            f.parent()
                .and_then(|p| p.file_name())
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        let r =
            wasmaot::wast::run_script(&text, wasmaot::wast::features_for(&suite), a.bounds_checks);
        println!(
            "{}: {} passed, {} failed, {} unsupported",
            f.display(),
            r.passed,
            r.failed,
            r.unsupported
        );
        if a.verbose {
            for line in &r.failures {
                println!("  {line}");
            }
            for u in &r.unsupported_features {
                println!("  unsupported: {u}");
            }
        }
        total.add(&r);
    }
    println!(
        "total: {} passed, {} failed, {} unsupported",
        total.passed, total.failed, total.unsupported
    );
    Ok(if total.failed == 0 { 0 } else { 1 })
}
