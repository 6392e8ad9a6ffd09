//! Fixed-width SIMD (`v128`) operators.

use super::{op_name, Translator};
use crate::error::{unsupported, Result};
use wasmparser::Operator;

impl Translator<'_, '_> {
    /// Translates SIMD operators; returns whether `op` was one.
    pub(super) fn simd_op(&mut self, op: &Operator<'_>) -> Result<bool> {
        let name = op_name(op);
        let simd = ["V128", "I8x16", "I16x8", "I32x4", "I64x2", "F32x4", "F64x2"]
            .iter()
            .any(|p| name.starts_with(p));
        if simd {
            return unsupported(format!("simd operator {name}"));
        }
        Ok(false)
    }
}
