//! `wasmaot demo`: the main job on an embedded default. Compiles the bundled `sum` module
//! (examples/sum) to an object plus C header, links it with its C `main` and the runtime
//! library using the system `cc`, and runs the executable.

use super::build::link;
use anyhow::{bail, Context};
use std::path::PathBuf;
use std::process::Command;

const SUM_WAT: &str = include_str!("../../../examples/sum/sum.wat");
const SUM_MAIN: &str = include_str!("../../../examples/sum/main.c");

/// Arguments of `demo`.
#[derive(clap::Args)]
pub struct Args {
    /// Keep the generated files in this directory (default: a temporary one).
    #[arg(long)]
    keep: Option<PathBuf>,
}

pub fn run(a: Args) -> anyhow::Result<i32> {
    let tmp = tempfile::tempdir().context("creating a temporary directory")?;
    let dir = a.keep.unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    let opts = wasmaot::CompileOptions {
        name: "sum".into(),
        ..Default::default()
    };
    let out = wasmaot::compile(SUM_WAT.as_bytes(), &opts)?;
    let obj = dir.join("sum.o");
    std::fs::write(&obj, &out.object)?;
    std::fs::write(dir.join("sum.h"), wasmaot::header::generate(&out.info))?;
    let main_c = dir.join("main.c");
    std::fs::write(&main_c, SUM_MAIN)?;
    println!(
        "compiled examples/sum/sum.wat -> {} ({} bytes)",
        obj.display(),
        out.object.len()
    );
    let exe = dir.join("sum");
    link(&[main_c, obj], &exe, &dir)?;
    println!(
        "linked {} with cc and libwasmaot_runtime.a; running it:",
        exe.display()
    );
    let status = Command::new(&exe).status().context("running the demo")?;
    if !status.success() {
        bail!("the demo program failed ({status})");
    }
    Ok(0)
}
