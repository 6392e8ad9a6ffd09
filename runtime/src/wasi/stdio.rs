//! Standard streams: inherited host descriptors, in-memory input, and captured output.

use std::sync::{Arc, Mutex};

use super::errno::Errno;
use super::sys;
use super::types::filetype;

/// A shared in-memory sink for captured guest output. Clones share the same buffer.
#[derive(Clone, Debug, Default)]
pub struct OutputPipe(Arc<Mutex<Vec<u8>>>);

impl OutputPipe {
    /// A new, empty pipe.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Appends bytes.
    fn push(&self, data: &[u8]) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(data);
    }
}

/// Where the guest's fd 0 reads from.
#[derive(Debug)]
pub(crate) enum Input {
    /// The host process's stdin.
    Inherit,
    /// Fixed bytes, consumed from `pos`.
    Bytes {
        /// All input.
        data: Vec<u8>,
        /// Read position.
        pos: usize,
    },
}

/// Where the guest's fd 1 or 2 writes to.
#[derive(Clone, Debug)]
pub(crate) enum Output {
    /// The host descriptor (1 or 2).
    Inherit(i32),
    /// An in-memory buffer.
    Capture(OutputPipe),
}

impl Input {
    /// Reads up to `buf.len()` bytes.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        match self {
            Input::Inherit => sys::read_raw(0, buf).map_err(Errno::from),
            Input::Bytes { data, pos } => {
                let n = buf.len().min(data.len() - *pos);
                buf[..n].copy_from_slice(&data[*pos..*pos + n]);
                *pos += n;
                Ok(n)
            }
        }
    }

    /// The host descriptor to poll, if any (in-memory input is always ready).
    pub fn host_fd(&self) -> Option<i32> {
        matches!(self, Input::Inherit).then_some(0)
    }

    /// `filetype` reported by fdstat/filestat (character device for a terminal, as Wasmtime).
    pub fn filetype(&self) -> u8 {
        tty_type(self.host_fd())
    }
}

impl Output {
    /// Writes `data`, returning how much was accepted.
    pub fn write(&self, data: &[u8]) -> Result<usize, Errno> {
        match self {
            // A vanished reader is EIO for the program, as Wasmtime reports it.
            Output::Inherit(fd) => sys::write_raw(*fd, data).map_err(|e| match Errno::from(e) {
                Errno::Pipe => Errno::Io,
                other => other,
            }),
            Output::Capture(p) => {
                p.push(data);
                Ok(data.len())
            }
        }
    }

    /// The host descriptor to poll, if any.
    pub fn host_fd(&self) -> Option<i32> {
        match self {
            Output::Inherit(fd) => Some(*fd),
            Output::Capture(_) => None,
        }
    }

    /// `filetype` reported by fdstat/filestat.
    pub fn filetype(&self) -> u8 {
        tty_type(self.host_fd())
    }
}

/// Character device when `fd` is a terminal, otherwise unknown.
fn tty_type(fd: Option<i32>) -> u8 {
    match fd {
        Some(fd) if sys::isatty(fd) => filetype::CHARACTER_DEVICE,
        _ => filetype::UNKNOWN,
    }
}
