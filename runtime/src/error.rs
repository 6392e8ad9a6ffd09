//! Error and trap types shared by the whole runtime.

use crate::layout::TrapKind;
use crate::memory::MemoryError;
use std::fmt;

/// Why compiled code (or a host function called by it) stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trap {
    /// What happened.
    pub kind: TrapKind,
    /// Name of the Wasm function the trap happened in, when known.
    pub func: Option<String>,
    /// Exit status carried by a [`TrapKind::Exit`] trap (WASI `proc_exit`).
    pub exit_code: Option<i32>,
    /// Extra detail (for host traps: the host's message).
    pub message: Option<String>,
    /// Faulting program counter, for traps raised by a signal.
    pub pc: Option<usize>,
    /// The exception, for [`TrapKind::UncaughtException`].
    pub exception: Option<crate::exceptions::Exception>,
}

impl Trap {
    /// A trap of the given kind with no further detail.
    pub fn new(kind: TrapKind) -> Trap {
        Trap {
            kind,
            func: None,
            exit_code: None,
            message: None,
            pc: None,
            exception: None,
        }
    }

    /// A host trap carrying a message.
    pub fn host(message: impl Into<String>) -> Trap {
        Trap {
            message: Some(message.into()),
            ..Trap::new(TrapKind::Host)
        }
    }

    /// An exit request (WASI `proc_exit`) with a status.
    pub fn exit(code: i32) -> Trap {
        Trap {
            exit_code: Some(code),
            ..Trap::new(TrapKind::Exit)
        }
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind == TrapKind::Exit {
            return write!(f, "exit with status {}", self.exit_code.unwrap_or(0));
        }
        write!(f, "wasm trap: {}", self.kind.message())?;
        if let Some(m) = &self.message {
            write!(f, ": {m}")?;
        }
        if let Some(name) = &self.func {
            write!(f, " (in function {name})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Trap {}

/// Everything that can go wrong when loading, linking, instantiating or calling.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Execution trapped.
    #[error(transparent)]
    Trap(#[from] Trap),
    /// An import could not be satisfied (message names `module::name` and why).
    #[error("link error: {0}")]
    Link(String),
    /// Instantiation failed for a reason other than a trap or a link error.
    #[error("instantiation error: {0}")]
    Instantiation(String),
    /// A linear memory could not be created or grown.
    #[error(transparent)]
    Memory(#[from] MemoryError),
    /// A table could not be created.
    #[error(transparent)]
    Table(#[from] crate::table::TableError),
    /// An object file or descriptor could not be loaded.
    #[error("load error: {0}")]
    Load(String),
    /// A host-side call had wrong argument count or types.
    #[error("type error: {0}")]
    Type(String),
}

impl Error {
    /// The trap, if this error is one.
    pub fn as_trap(&self) -> Option<&Trap> {
        match self {
            Error::Trap(t) => Some(t),
            _ => None,
        }
    }
}
