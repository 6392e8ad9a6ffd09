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

/// Host environment variable that sets [`CommandConfig::time_start`] in `wasmaot run` and in
/// executables made by `wasmaot build`, so that a benchmark can time the same span (the
/// `_start` call) that it times in an embedded engine.
pub const START_TIME_ENV: &str = "WASMAOT_START_TIME";

/// Prefix of the stderr line [`CommandConfig::time_start`] prints:
/// `wasmaot-start-time: cpu=SECONDS wall=SECONDS`.
pub const START_TIME_PREFIX: &str = "wasmaot-start-time:";

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
    /// Print the CPU time of this thread and the wall time spent in `_start` (after
    /// instantiation, before the instance is torn down) on stderr, as a
    /// [`START_TIME_PREFIX`] line.
    pub time_start: bool,
}

impl CommandConfig {
    /// `time_start` as the host environment asks ([`START_TIME_ENV`] set to anything).
    pub fn time_start_from_env() -> bool {
        std::env::var_os(START_TIME_ENV).is_some()
    }
}

/// CPU time this thread has used, in seconds (user and system, like Python's
/// `time.thread_time`): what `time_start` reports, and what the benchmark runner times
/// in-process engines with.
pub fn thread_cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID exists on every
    // Linux this runtime supports, and on failure `ts` stays zero.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
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
            Some(f) => {
                let (cpu0, wall0) = (thread_cpu_seconds(), std::time::Instant::now());
                let r = f.call(&[]).map(|_| ());
                if config.time_start {
                    let (cpu, wall) = (thread_cpu_seconds() - cpu0, wall0.elapsed());
                    eprintln!(
                        "{START_TIME_PREFIX} cpu={cpu:.6} wall={:.6}",
                        wall.as_secs_f64()
                    );
                }
                r
            }
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
