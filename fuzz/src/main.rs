//! `wasmaot-fuzz`: checks a range of seeds and saves every module on which wasmaot and wasmi
//! disagree.

use anyhow::{bail, Result};
use clap::Parser;
use std::path::PathBuf;
use std::time::Instant;
use wasmaot_fuzz::arbiter::{self, Opinion};
use wasmaot_fuzz::{
    check_dispatch_seed, check_loop_seed, check_seed, run_wasmaot, run_wasmi, Tally, Verdict,
};

/// Differential fuzzing of wasmaot against wasmi on random valid modules.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// First seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Number of seeds to check.
    #[arg(long, short = 'n', default_value_t = 1000)]
    iterations: u64,
    /// Count divergences where Wasmtime sides with wasmaot as failures too (by default they
    /// are reported but taken as wasmi bugs).
    #[arg(long)]
    strict: bool,
    /// Directory for the modules that diverge (`seed-N.wasm`, with the calls made in
    /// `seed-N.calls`).
    #[arg(long, default_value = "target/fuzz-divergences")]
    save: PathBuf,
    /// Generate memory64 loops over moving pointers (`src/loops64.rs`) instead of
    /// wasm-smith modules.
    #[arg(long, conflicts_with = "dispatch")]
    loops64: bool,
    /// Generate interpreter loops with a `br_table` dispatch (`src/dispatch.rs`) instead of
    /// wasm-smith modules.
    #[arg(long)]
    dispatch: bool,
}

fn main() -> Result<()> {
    let args = Args::parse();
    run_wasmaot::set_limits();
    let engine = run_wasmi::engine();
    let start = Instant::now();
    let (mut skipped, mut diverged, mut reference_wrong) = (0u64, 0u64, 0u64);
    let mut tally = Tally::default();
    for seed in args.seed..args.seed.saturating_add(args.iterations) {
        let verdict = if args.loops64 {
            check_loop_seed(seed, &engine)
        } else if args.dispatch {
            check_dispatch_seed(seed, &engine)
        } else {
            check_seed(seed, &engine)
        };
        match verdict {
            Verdict::Agreed {
                observation,
                frozen_table,
            } => tally.add(&observation, frozen_table),
            Verdict::Skipped(_) => skipped += 1,
            Verdict::Diverged {
                what,
                wasm,
                script,
                observations,
            } => {
                std::fs::create_dir_all(&args.save)?;
                let path = args.save.join(format!("seed-{seed}.wasm"));
                std::fs::write(&path, wasm)?;
                std::fs::write(path.with_extension("calls"), script)?;
                let opinion = observations.and_then(|o| arbiter::ask(&path, &o.0, &o.1));
                let says = match opinion {
                    Some(Opinion::AgreesWithWasmaot) => {
                        "Wasmtime agrees with wasmaot: wasmi is wrong (or Cranelift is)"
                    }
                    Some(Opinion::AgreesWithWasmi) => "Wasmtime agrees with wasmi",
                    Some(Opinion::AgreesWithNeither) => "Wasmtime agrees with neither",
                    None => "no third opinion",
                };
                if opinion == Some(Opinion::AgreesWithWasmaot) && !args.strict {
                    reference_wrong += 1;
                } else {
                    diverged += 1;
                }
                println!("seed {seed}: {what} [{says}] (module: {})", path.display());
            }
        }
    }
    println!(
        "{} seeds in {:.1} s: {} agreed, {skipped} skipped, {diverged} diverged, \
         {reference_wrong} where Wasmtime sided with wasmaot against wasmi",
        args.iterations,
        start.elapsed().as_secs_f64(),
        tally.agreed
    );
    println!(
        "  {:>7}  agreeing modules with a frozen table",
        tally.frozen_tables
    );
    for (end, n) in &tally.ends {
        println!("  {n:>7}  {end}");
    }
    if diverged > 0 {
        bail!("{diverged} seeds diverged");
    }
    Ok(())
}
