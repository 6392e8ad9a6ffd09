//! Running a WASI command (a module exporting `_start`): what `wasmaot run` does in-process
//! and what executables made by `wasmaot build` do in their `main`.
//!
//! Capabilities are explicit: a program sees only the directories and environment variables
//! it is given, never the whole filesystem by default.

use crate::error::Error;
use crate::layout::TrapKind;
use crate::linker::Linker;
use crate::module::Module;
use crate::wasi::{DirPerms, WasiCtx};
use crate::wasi_link;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Exit status of a program that trapped (128 + SIGABRT, as Wasmtime's CLI uses).
pub const TRAP_EXIT_STATUS: i32 = 134;

/// A preopened directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preopen {
    /// Directory on the host.
    pub host: PathBuf,
    /// Path the program sees.
    pub guest: String,
    /// Whether the program may only read.
    pub read_only: bool,
}

impl Preopen {
    /// Parses `HOST[::GUEST]` (the guest path defaults to the host path).
    pub fn parse(spec: &str, read_only: bool) -> Preopen {
        let (host, guest) = match spec.split_once("::") {
            Some((h, g)) => (h, g),
            None => (spec, spec),
        };
        Preopen {
            host: PathBuf::from(host),
            guest: guest.to_string(),
            read_only,
        }
    }
}

/// What a command gets from the host.
#[derive(Clone, Debug, Default)]
pub struct CommandConfig {
    /// `argv`, including the program name.
    pub args: Vec<String>,
    /// Environment variables.
    pub env: Vec<(String, String)>,
    /// Preopened directories.
    pub dirs: Vec<Preopen>,
}

/// Instantiates `module` with WASI per `config` (plus any definitions already in `linker`)
/// and runs `_start`. Returns the exit status: 0 when `_start` returns, the `proc_exit`
/// status, or an error for traps and link failures.
pub fn run_command(
    module: &Module,
    linker: &mut Linker,
    config: &CommandConfig,
) -> Result<i32, Error> {
    let mut b = WasiCtx::builder()
        .inherit_stdio()
        .args(config.args.iter().cloned())
        .envs(config.env.iter().cloned());
    for d in &config.dirs {
        let perms = if d.read_only {
            DirPerms::READ_ONLY
        } else {
            DirPerms::READ_WRITE
        };
        b = b.preopen_dir(d.host.clone(), d.guest.clone(), perms);
    }
    let ctx = b
        .build()
        .map_err(|e| Error::Instantiation(format!("WASI: {e}")))?;
    wasi_link::add_to_linker(linker, Arc::new(Mutex::new(ctx)));
    let outcome = linker
        .instantiate(module)
        .and_then(|inst| match inst.get_func("_start") {
            Some(f) => f.call(&[]).map(|_| ()),
            None => Ok(()),
        });
    match outcome {
        Ok(()) => Ok(0),
        Err(Error::Trap(t)) if t.kind == TrapKind::Exit => Ok(t.exit_code.unwrap_or(0)),
        Err(e) => Err(e),
    }
}

/// Runs a command and turns every outcome into a process exit status, printing errors as
/// one line on stderr (`error: wasm trap: … (in function …)`).
pub fn run_command_status(module: &Module, config: &CommandConfig) -> i32 {
    // Like Wasmtime (and Rust programs): a write to a closed pipe is an error the program
    // sees, not a signal that kills it.
    // SAFETY: setting a signal disposition to SIG_IGN has no preconditions.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    match run_command(module, &mut Linker::new(), config) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            match e {
                Error::Trap(_) => TRAP_EXIT_STATUS,
                _ => 1,
            }
        }
    }
}
