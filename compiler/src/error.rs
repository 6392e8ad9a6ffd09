//! Errors of the compiler library: invalid input, unsupported features and backend failures.

use thiserror::Error;

/// Everything that can go wrong while compiling a module.
#[derive(Debug, Error)]
pub enum CompileError {
    /// The input is not a well-formed or valid Wasm module (or WAT text).
    #[error("{message} (at byte offset {offset:#x})")]
    Invalid {
        /// What the parser or validator said.
        message: String,
        /// Byte offset in the binary module.
        offset: usize,
    },
    /// The text format could not be parsed.
    #[error("{0}")]
    Wat(String),
    /// A feature the compiler does not implement yet.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Cranelift or the object writer failed.
    #[error("code generation failed: {0}")]
    Codegen(String),
    /// The requested target or setting is not available.
    #[error("invalid target or setting: {0}")]
    Target(String),
}

impl From<wasmparser::BinaryReaderError> for CompileError {
    fn from(e: wasmparser::BinaryReaderError) -> Self {
        CompileError::Invalid {
            message: e.message().to_string(),
            offset: e.offset() as usize,
        }
    }
}

/// Shorthand for an unsupported-feature error.
pub fn unsupported<T>(what: impl Into<String>) -> Result<T, CompileError> {
    Err(CompileError::Unsupported(what.into()))
}

/// Result type of the compiler library.
pub type Result<T, E = CompileError> = std::result::Result<T, E>;
