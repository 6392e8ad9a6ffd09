//! Locals (Cranelift variables) and globals (instance-context storage).

use super::{env, Translator};
use crate::error::Result;
use cranelift_codegen::ir::InstBuilder;
use wasmparser::Operator;

impl Translator<'_, '_> {
    /// Translates `local.*` and `global.*`; returns whether `op` was one.
    pub(super) fn variable_op(&mut self, op: &Operator<'_>) -> Result<bool> {
        match *op {
            Operator::LocalGet { local_index } => {
                let (var, _) = self.locals[local_index as usize];
                let v = self.b.use_var(var);
                self.push(v);
            }
            Operator::LocalSet { local_index } => {
                let v = self.pop();
                let v = self.canonical(v);
                let (var, _) = self.locals[local_index as usize];
                self.b.def_var(var, v);
            }
            Operator::LocalTee { local_index } => {
                let v = self.pop();
                let v = self.canonical(v);
                let (var, _) = self.locals[local_index as usize];
                self.b.def_var(var, v);
                self.push(v);
            }
            Operator::GlobalGet { global_index } => {
                let gt = self.env.info.globals[global_index as usize];
                let ty = crate::translate::ir_type_of(gt.content);
                let (addr, off) = self.global_addr(global_index);
                let flags = if gt.mutable {
                    env::vmctx_flags(self.regions)
                } else {
                    env::readonly_flags()
                };
                let v = self.b.ins().load(ty, flags, addr, off);
                self.push(v);
            }
            Operator::GlobalSet { global_index } => {
                let v = self.pop();
                let v = self.canonical(v);
                let (addr, off) = self.global_addr(global_index);
                self.b
                    .ins()
                    .store(env::vmctx_flags(self.regions), v, addr, off);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
