//! WASI preview1 (`wasi_snapshot_preview1`) host functions, independent of instances.
//!
//! A [`WasiCtx`] owns the guest's arguments, environment, descriptor table (stdio and
//! preopened directories) and answers calls made with the caller's linear memory. The glue
//! registers [`WasiCtx::functions`] as imports and forwards each call to
//! [`WasiCtx::call_index`] (or [`WasiCtx::call`] by name).
//!
//! Behaviour follows Wasmtime's preview1 implementation, checked empirically against Wasmtime
//! 50: errno choices, `EPERM` for sandbox escapes and for mutations under read-only preopens,
//! and traps (not `EFAULT`) for out-of-bounds or misaligned guest pointers and for invalid
//! enum/flag values. Deliberate differences are noted on the functions concerned.

mod args_env;
mod builder;
mod clock;
mod errno;
mod fd;
mod fd_io;
mod fd_meta;
mod fs_path;
mod mem;
mod open;
mod path;
mod poll;
mod proc;
mod readdir;
mod stdio;
mod sys;
mod types;

use crate::layout::ValType;

pub use builder::{DirPerms, WasiBuildError, WasiCtxBuilder};
pub use errno::{Errno, WasiTrap};
pub use stdio::OutputPipe;

use errno::{Error, WResult};
use fd::FdTable;
use mem::Mem;
use types::Params;

/// Import module name of every function in [`WasiCtx::functions`].
pub const MODULE: &str = "wasi_snapshot_preview1";

/// State of one WASI program: args, env, descriptor table and captured stdio.
#[derive(Debug)]
pub struct WasiCtx {
    args: Vec<Vec<u8>>,
    env: Vec<Vec<u8>>,
    fds: FdTable,
    stdout_capture: Option<OutputPipe>,
    stderr_capture: Option<OutputPipe>,
}

/// A host function body.
type Handler = fn(&mut WasiCtx, &mut Mem<'_>, Params<'_>) -> WResult<()>;

/// One entry of the function table: name, parameter types, result types.
pub type FunctionSig = (&'static str, &'static [ValType], &'static [ValType]);

macro_rules! wasi_functions {
    ($($name:ident ( $($p:ident),* ) $(-> $r:ident)? => $handler:path;)*) => {
        static SIGNATURES: &[FunctionSig] = &[
            $((stringify!($name), &[$(ValType::$p),*], &[$(ValType::$r)?]),)*
        ];
        static HANDLERS: &[Handler] = &[$($handler,)*];
    };
}

wasi_functions! {
    args_get(I32, I32) -> I32 => args_env::args_get;
    args_sizes_get(I32, I32) -> I32 => args_env::args_sizes_get;
    environ_get(I32, I32) -> I32 => args_env::environ_get;
    environ_sizes_get(I32, I32) -> I32 => args_env::environ_sizes_get;
    clock_res_get(I32, I32) -> I32 => clock::clock_res_get;
    clock_time_get(I32, I64, I32) -> I32 => clock::clock_time_get;
    fd_advise(I32, I64, I64, I32) -> I32 => fd_meta::fd_advise;
    fd_allocate(I32, I64, I64) -> I32 => fd_meta::fd_allocate;
    fd_close(I32) -> I32 => fd_meta::fd_close;
    fd_datasync(I32) -> I32 => fd_meta::fd_datasync;
    fd_fdstat_get(I32, I32) -> I32 => fd_meta::fd_fdstat_get;
    fd_fdstat_set_flags(I32, I32) -> I32 => fd_meta::fd_fdstat_set_flags;
    fd_fdstat_set_rights(I32, I64, I64) -> I32 => fd_meta::fd_fdstat_set_rights;
    fd_filestat_get(I32, I32) -> I32 => fd_meta::fd_filestat_get;
    fd_filestat_set_size(I32, I64) -> I32 => fd_meta::fd_filestat_set_size;
    fd_filestat_set_times(I32, I64, I64, I32) -> I32 => fd_meta::fd_filestat_set_times;
    fd_pread(I32, I32, I32, I64, I32) -> I32 => fd_io::fd_pread;
    fd_prestat_get(I32, I32) -> I32 => fd_meta::fd_prestat_get;
    fd_prestat_dir_name(I32, I32, I32) -> I32 => fd_meta::fd_prestat_dir_name;
    fd_pwrite(I32, I32, I32, I64, I32) -> I32 => fd_io::fd_pwrite;
    fd_read(I32, I32, I32, I32) -> I32 => fd_io::fd_read;
    fd_readdir(I32, I32, I32, I64, I32) -> I32 => readdir::fd_readdir;
    fd_renumber(I32, I32) -> I32 => fd_meta::fd_renumber;
    fd_seek(I32, I64, I32, I32) -> I32 => fd_io::fd_seek;
    fd_sync(I32) -> I32 => fd_meta::fd_sync;
    fd_tell(I32, I32) -> I32 => fd_io::fd_tell;
    fd_write(I32, I32, I32, I32) -> I32 => fd_io::fd_write;
    path_create_directory(I32, I32, I32) -> I32 => fs_path::path_create_directory;
    path_filestat_get(I32, I32, I32, I32, I32) -> I32 => fs_path::path_filestat_get;
    path_filestat_set_times(I32, I32, I32, I32, I64, I64, I32) -> I32 => fs_path::path_filestat_set_times;
    path_link(I32, I32, I32, I32, I32, I32, I32) -> I32 => fs_path::path_link;
    path_open(I32, I32, I32, I32, I32, I64, I64, I32, I32) -> I32 => open::path_open;
    path_readlink(I32, I32, I32, I32, I32, I32) -> I32 => fs_path::path_readlink;
    path_remove_directory(I32, I32, I32) -> I32 => fs_path::path_remove_directory;
    path_rename(I32, I32, I32, I32, I32, I32) -> I32 => fs_path::path_rename;
    path_symlink(I32, I32, I32, I32, I32) -> I32 => fs_path::path_symlink;
    path_unlink_file(I32, I32, I32) -> I32 => fs_path::path_unlink_file;
    poll_oneoff(I32, I32, I32, I32) -> I32 => poll::poll_oneoff;
    proc_exit(I32) => proc::proc_exit;
    proc_raise(I32) -> I32 => proc::proc_raise;
    sched_yield() -> I32 => proc::sched_yield;
    random_get(I32, I32) -> I32 => clock::random_get;
    sock_accept(I32, I32, I32) -> I32 => proc::sock_accept;
    sock_recv(I32, I32, I32, I32, I32, I32) -> I32 => proc::sock_recv;
    sock_send(I32, I32, I32, I32, I32) -> I32 => proc::sock_send;
    sock_shutdown(I32, I32) -> I32 => proc::sock_shutdown;
}

impl WasiCtx {
    /// A builder with inherited stdio and nothing else.
    pub fn builder() -> WasiCtxBuilder {
        WasiCtxBuilder::new()
    }

    /// Names and signatures of every function of the module, indexed like
    /// [`WasiCtx::call_index`]. Every function returns one `i32` errno except `proc_exit`.
    pub fn functions() -> &'static [FunctionSig] {
        SIGNATURES
    }

    /// The index of function `name` in [`WasiCtx::functions`].
    pub fn index_of(name: &str) -> Option<usize> {
        SIGNATURES.iter().position(|(n, _, _)| *n == name)
    }

    /// Calls function `name`; see [`WasiCtx::call_index`].
    pub fn call(&mut self, name: &str, memory: &mut [u8], args: &[u64]) -> Result<i32, WasiTrap> {
        let idx = Self::index_of(name).ok_or_else(|| WasiTrap::UnknownFunction(name.to_owned()))?;
        self.call_index(idx, memory, args)
    }

    /// Calls function number `idx` with the caller's exported memory and raw parameters
    /// (`i32` values in the low 32 bits). Returns the errno (0 on success), or the trap that
    /// must end the guest: [`WasiTrap::Exit`] for `proc_exit`, or a fault such as an
    /// out-of-bounds guest pointer.
    pub fn call_index(
        &mut self,
        idx: usize,
        memory: &mut [u8],
        args: &[u64],
    ) -> Result<i32, WasiTrap> {
        let (name, params, _) = *SIGNATURES.get(idx).ok_or(WasiTrap::BadIndex(idx))?;
        if args.len() != params.len() {
            return Err(WasiTrap::ArgCount {
                name,
                expected: params.len(),
                got: args.len(),
            });
        }
        let mut mem = Mem::new(memory);
        match HANDLERS[idx](self, &mut mem, Params(args)) {
            Ok(()) => Ok(0),
            Err(Error::Errno(e)) => Ok(e.raw()),
            Err(Error::Trap(t)) => Err(t),
        }
    }

    /// Everything the guest wrote to fd 1, when built with
    /// [`WasiCtxBuilder::stdout_capture`] or [`WasiCtxBuilder::stdout_pipe`].
    pub fn captured_stdout(&self) -> Option<Vec<u8>> {
        self.stdout_capture.as_ref().map(OutputPipe::contents)
    }

    /// Everything the guest wrote to fd 2, when captured.
    pub fn captured_stderr(&self) -> Option<Vec<u8>> {
        self.stderr_capture.as_ref().map(OutputPipe::contents)
    }
}
