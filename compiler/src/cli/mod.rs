//! Command-line front end (clap). Every command reports failure as one line
//! `error: <what>` on stderr and exits with status 1.

mod build;
mod compile;
mod demo;
mod inspect;
mod run;
mod wast;

use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};

/// An ahead-of-time compiler from WebAssembly to native objects.
#[derive(Parser)]
#[command(name = "wasmaot", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile, link and run the bundled example (seed 004's `sum`) as a C program.
    Demo(demo::Args),
    /// Compile a .wasm or .wat module into a relocatable native object.
    Compile(compile::Args),
    /// Compile a WASI command and link it into a standalone executable.
    Build(build::Args),
    /// Compile and run a module at once.
    Run(run::Args),
    /// Print a module's imports, exports, tables, memories and globals.
    Inspect(inspect::Args),
    /// Run .wast spec test scripts through the AOT pipeline.
    Wast(wast::Args),
}

/// Runs the CLI and returns the process exit status.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) if e.use_stderr() => {
            // One line, like every other error.
            let text = e.to_string();
            eprintln!(
                "{}",
                text.lines().next().unwrap_or("error: invalid arguments")
            );
            return 1;
        }
        Err(e) => {
            let _ = e.print();
            return 0;
        }
    };
    let result = match cli.command {
        Command::Demo(a) => demo::run(a),
        Command::Compile(a) => compile::run(a),
        Command::Build(a) => build::run(a),
        Command::Run(a) => run::run(a),
        Command::Inspect(a) => inspect::run(a),
        Command::Wast(a) => wast::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let msg = format!("{e:#}").replace('\n', " ");
            eprintln!("error: {msg}");
            1
        }
    }
}

/// The WASI capabilities `run` and `build` grant: nothing unless asked for.
#[derive(clap::Args)]
pub struct Capabilities {
    /// Grant a directory read-write: HOST[::GUEST].
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    pub dirs: Vec<String>,
    /// Grant a directory read-only: HOST[::GUEST].
    #[arg(long = "ro-dir", value_name = "HOST[::GUEST]")]
    pub ro_dirs: Vec<String>,
    /// Set an environment variable for the program.
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub envs: Vec<String>,
}

/// Reads an input file, naming it in the error.
pub fn read_input(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e))
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, then rename,
/// so a failure never leaves a partial output behind.
pub fn write_output(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| anyhow::anyhow!("{}: not a file path", path.display()))?;
    let tmp: PathBuf = dir.join(format!(
        ".{}.tmp{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let res = std::fs::write(&tmp, bytes).and_then(|_| std::fs::rename(&tmp, path));
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        anyhow::bail!("{}: {}", path.display(), e);
    }
    Ok(())
}

/// Default module name: the input's file stem, made a C identifier.
pub fn default_name(input: &Path) -> String {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "module".into());
    wasmaot::symbols::sanitize_module_name(&stem)
}

/// Compiles a file, prefixing errors with its path.
pub fn compile_file(
    input: &Path,
    opts: &wasmaot::CompileOptions,
) -> anyhow::Result<wasmaot::CompiledModule> {
    let bytes = read_input(input)?;
    wasmaot::compile(&bytes, opts).map_err(|e| anyhow::anyhow!("{}: {}", input.display(), e))
}
