//! Configuration of a [`WasiCtx`]: arguments, environment, preopened directories and stdio.

use std::io;
use std::path::PathBuf;

use thiserror::Error;

use super::fd::{DirEntry, Entry, FdTable};
use super::stdio::{Input, Output, OutputPipe};
use super::{sys, WasiCtx};

/// What a guest may do beneath a preopened directory (inherited by everything opened from it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DirPerms {
    /// Look up, open, stat, list and read.
    pub read: bool,
    /// Create, remove, rename, link, truncate, write and change times.
    pub write: bool,
}

impl DirPerms {
    /// Read-only access.
    pub const READ_ONLY: DirPerms = DirPerms {
        read: true,
        write: false,
    };
    /// Full access.
    pub const READ_WRITE: DirPerms = DirPerms {
        read: true,
        write: true,
    };
}

/// Why [`WasiCtxBuilder::build`] failed.
#[derive(Debug, Error)]
pub enum WasiBuildError {
    /// A preopened host directory could not be opened.
    #[error("cannot open preopened directory {path:?}: {source}")]
    Preopen {
        /// The host path.
        path: PathBuf,
        /// The host error.
        #[source]
        source: io::Error,
    },
    /// An argument, environment entry or guest path contains a NUL byte.
    #[error("string contains a NUL byte: {0:?}")]
    Nul(String),
    /// An environment variable name is empty or contains `=`.
    #[error("invalid environment variable name {0:?}")]
    EnvName(String),
}

/// Builder for [`WasiCtx`]. Stdio is inherited from the host unless overridden.
#[derive(Debug)]
pub struct WasiCtxBuilder {
    args: Vec<String>,
    env: Vec<(String, String)>,
    preopens: Vec<(PathBuf, String, DirPerms)>,
    stdin: Input,
    stdout: Output,
    stderr: Output,
}

impl Default for WasiCtxBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl WasiCtxBuilder {
    /// A builder with no args, no env, no preopens and inherited stdio.
    pub fn new() -> Self {
        WasiCtxBuilder {
            args: Vec::new(),
            env: Vec::new(),
            preopens: Vec::new(),
            stdin: Input::Inherit,
            stdout: Output::Inherit(1),
            stderr: Output::Inherit(2),
        }
    }

    /// Appends one argument (the first is conventionally the program name).
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Appends several arguments.
    pub fn args<S: Into<String>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Adds the environment variable `key=value`.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Adds several environment variables.
    pub fn envs<K: Into<String>, V: Into<String>>(
        mut self,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.env
            .extend(vars.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Makes host directory `host_path` visible to the guest as `guest_path` with `perms`.
    /// Preopens get fds 3, 4, ... in the order they are added.
    pub fn preopen_dir(
        mut self,
        host_path: impl Into<PathBuf>,
        guest_path: impl Into<String>,
        perms: DirPerms,
    ) -> Self {
        self.preopens
            .push((host_path.into(), guest_path.into(), perms));
        self
    }

    /// Inherits the host's stdin, stdout and stderr (the default).
    pub fn inherit_stdio(mut self) -> Self {
        self.stdin = Input::Inherit;
        self.stdout = Output::Inherit(1);
        self.stderr = Output::Inherit(2);
        self
    }

    /// Makes fd 0 read `bytes` and then report end-of-file.
    pub fn stdin_bytes(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Input::Bytes {
            data: bytes.into(),
            pos: 0,
        };
        self
    }

    /// Captures fd 1 into a buffer readable with [`WasiCtx::captured_stdout`].
    pub fn stdout_capture(self) -> Self {
        self.stdout_pipe(OutputPipe::new())
    }

    /// Captures fd 2 into a buffer readable with [`WasiCtx::captured_stderr`].
    pub fn stderr_capture(self) -> Self {
        self.stderr_pipe(OutputPipe::new())
    }

    /// Sends fd 1 to `pipe` (keep a clone to read it after the context is gone).
    pub fn stdout_pipe(mut self, pipe: OutputPipe) -> Self {
        self.stdout = Output::Capture(pipe);
        self
    }

    /// Sends fd 2 to `pipe`.
    pub fn stderr_pipe(mut self, pipe: OutputPipe) -> Self {
        self.stderr = Output::Capture(pipe);
        self
    }

    /// Opens the preopened directories and produces the context.
    pub fn build(self) -> Result<WasiCtx, WasiBuildError> {
        let nul_free = |s: &str| {
            if s.contains('\0') {
                Err(WasiBuildError::Nul(s.to_owned()))
            } else {
                Ok(s.as_bytes().to_vec())
            }
        };
        let args = self
            .args
            .iter()
            .map(|a| nul_free(a))
            .collect::<Result<Vec<_>, _>>()?;
        let mut env = Vec::with_capacity(self.env.len());
        for (k, v) in &self.env {
            if k.is_empty() || k.contains('=') {
                return Err(WasiBuildError::EnvName(k.clone()));
            }
            env.push(nul_free(&format!("{k}={v}"))?);
        }
        let capture = |o: &Output| match o {
            Output::Capture(p) => Some(p.clone()),
            Output::Inherit(_) => None,
        };
        let (stdout_capture, stderr_capture) = (capture(&self.stdout), capture(&self.stderr));
        let mut fds = FdTable::default();
        fds.insert_at(0, Entry::Stdin(self.stdin));
        fds.insert_at(1, Entry::Stdout(self.stdout));
        fds.insert_at(2, Entry::Stdout(self.stderr));
        for (i, (host, guest, perms)) in self.preopens.into_iter().enumerate() {
            nul_free(&guest)?;
            let fd = sys::open_dir(&host).map_err(|source| WasiBuildError::Preopen {
                path: host.clone(),
                source,
            })?;
            let dir = DirEntry {
                fd,
                perms,
                preopen: Some(guest),
                listing: None,
            };
            fds.insert_at(3 + i as u32, Entry::Dir(dir));
        }
        Ok(WasiCtx {
            args,
            env,
            fds,
            stdout_capture,
            stderr_capture,
        })
    }
}
