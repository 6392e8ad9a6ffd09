//! The benchmark workloads (benches/workloads) are programs like any other: each committed
//! `.wasm` runs under `wasmaot run` at its small argument and must print the checksum in
//! `expected-small.txt`, which must also be what the C source prints when built natively with
//! `cc -O2` (so the committed `.wasm` and the expectations cannot drift from the sources).
//! The memory-system variants the report measures (`sieve N 0`, `hashtable OPS 0`) and
//! non-default window/round sizes are checked against the native build too, and `sieve`'s
//! checksum must not depend on its window size.
//!
//! Run: `cargo test -p wasmaot --test bench_workloads`.

mod common;

use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

fn workloads() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../benches/workloads")
}

/// `benches/workloads/<name>.c`, or `mem64/<name>.c` for the Memory64 pair.
fn source(name: &str) -> PathBuf {
    let top = workloads().join(format!("{name}.c"));
    if top.exists() {
        top
    } else {
        workloads().join("mem64").join(format!("{name}.c"))
    }
}

fn checksum(out: &[u8]) -> Result<String, Failed> {
    let text = String::from_utf8_lossy(out);
    text.lines()
        .find_map(|l| l.strip_prefix("checksum: "))
        .map(str::to_owned)
        .ok_or_else(|| format!("no `checksum:` line in output:\n{text}").into())
}

fn run(cmd: &mut Command) -> Result<String, Failed> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} exited with {}:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    checksum(&out.stdout)
}

/// Checksum printed by the committed `.wasm` under `wasmaot run`.
fn wasmaot(name: &str, args: &[&str]) -> Result<String, Failed> {
    let wasm = source(name).with_extension("wasm");
    run(Command::new(common::wasmaot_bin())
        .arg("run")
        .arg(wasm)
        .args(args))
}

/// Checksum printed by the C source built with `cc -O2`. Trials of one workload run in
/// parallel: each builds under its own temporary name and renames, so `exe` is always whole.
fn native(name: &str, args: &[&str], dir: &Path) -> Result<String, Failed> {
    static BUILDS: AtomicUsize = AtomicUsize::new(0);
    let exe = dir.join(name);
    if !exe.exists() {
        let n = BUILDS.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!("{name}.{n}.tmp"));
        let st = Command::new("cc")
            .args(["-O2", "-o"])
            .arg(&tmp)
            .arg(source(name))
            .arg("-lm")
            .status()
            .map_err(|e| format!("cc: {e}"))?;
        if !st.success() {
            return Err(format!("cc -O2 {} failed: {st}", source(name).display()).into());
        }
        std::fs::rename(&tmp, &exe).map_err(|e| e.to_string())?;
    }
    run(Command::new(&exe).args(args))
}

fn main() {
    let args = Arguments::from_args();
    let tmp = tempfile::tempdir().expect("temporary directory");
    let dir: &'static Path = Box::leak(tmp.path().to_path_buf().into_boxed_path());
    let expected = std::fs::read_to_string(workloads().join("expected-small.txt"))
        .expect("benches/workloads/expected-small.txt");
    let mut trials = Vec::new();
    for line in expected
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let parts: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        let [name, arg, want] = <[String; 3]>::try_from(parts).expect("`name arg checksum` lines");
        trials.push(Trial::test(format!("{name}_small"), move || {
            let got = wasmaot(&name, &[&arg])?;
            let cc = native(&name, &[&arg], dir)?;
            if got != want || cc != want {
                return Err(format!(
                    "{name} {arg}: wasmaot printed {got}, cc -O2 printed {cc}, expected-small.txt says {want}"
                )
                .into());
            }
            Ok(())
        }));
    }
    // Variants: (name, args, name and args whose checksum it must equal, if any).
    type Variant<'a> = (&'a str, &'a [&'a str], Option<&'a [&'a str]>);
    let variants: [Variant; 5] = [
        ("sieve", &["100000", "0"], Some(&["100000"])),
        ("sieve", &["100000", "100"], Some(&["100000"])),
        ("sieve", &["2000000", "4096"], Some(&["2000000", "0"])),
        ("hashtable", &["100000", "0"], None),
        ("hashtable", &["100000", "30000"], None),
    ];
    for (name, vargs, same_as) in variants {
        trials.push(Trial::test(
            format!("{name}_{}", vargs.join("_")),
            move || {
                let got = wasmaot(name, vargs)?;
                let cc = native(name, vargs, dir)?;
                if got != cc {
                    return Err(format!(
                        "{name} {vargs:?}: wasmaot printed {got}, cc -O2 printed {cc}"
                    )
                    .into());
                }
                if let Some(other) = same_as {
                    let base = wasmaot(name, other)?;
                    if base != got {
                        return Err(format!(
                            "{name} {vargs:?} printed {got} but {name} {other:?} printed {base}"
                        )
                        .into());
                    }
                }
                Ok(())
            },
        ));
    }
    let conclusion = libtest_mimic::run(&args, trials);
    drop(tmp); // the native builds; `exit` would skip the destructor
    conclusion.exit();
}
