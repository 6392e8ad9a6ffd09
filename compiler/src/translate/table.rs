//! Tables and references: `table.*`, `elem.drop`, `ref.null`, `ref.is_null`, `ref.func`.
//! Elements are 8 bytes (funcref pointer or extern handle, 0 = null); `get`/`set`/`size` are
//! inline, the rest call runtime builtins.

use super::{env, Translator};
use crate::error::{unsupported, Result};
use cranelift_codegen::ir::{condcodes::IntCC, types, InstBuilder, Value};
use wasmaot_runtime::layout::{tabledef, BuiltinIndex, TrapKind};
use wasmparser::Operator;

impl Translator<'_, '_> {
    /// Translates table and reference operators; returns whether `op` was one.
    pub(super) fn table_op(&mut self, op: &Operator<'_>) -> Result<bool> {
        match *op {
            Operator::RefNull { .. } => {
                let v = self.b.ins().iconst(types::I64, 0);
                self.push(v);
            }
            Operator::RefIsNull => {
                let r = self.pop();
                let c = self.b.ins().icmp_imm_u(IntCC::Equal, r, 0);
                let v = self.b.ins().uextend(types::I32, c);
                self.push(v);
            }
            Operator::RefFunc { function_index } => {
                let v = self.func_ref(function_index);
                self.push(v);
            }
            Operator::TableGet { table } => {
                let index = self.pop();
                let addr = self.table_elem_addr(table, index, TrapKind::TableOutOfBounds);
                let v = self
                    .b
                    .ins()
                    .load(types::I64, env::table_flags(self.regions), addr, 0);
                self.push(v);
            }
            Operator::TableSet { table } => {
                let (index, value) = self.pop2();
                let addr = self.table_elem_addr(table, index, TrapKind::TableOutOfBounds);
                self.b
                    .ins()
                    .store(env::table_flags(self.regions), value, addr, 0);
            }
            Operator::TableSize { table } => {
                let tdef = self.load_vmctx_ptr(self.env.offsets.table(table));
                let len = self.b.ins().load(
                    types::I64,
                    env::vmctx_flags(self.regions),
                    tdef,
                    tabledef::LENGTH as i32,
                );
                let v = self.narrow_to_table_index(table, len);
                self.push(v);
            }
            Operator::TableGrow { table } => {
                let (init, delta) = self.pop2();
                let delta = self.index_to_i64(delta);
                let t = self.b.ins().iconst(types::I32, i64::from(table));
                let old = self.call_builtin(BuiltinIndex::table_grow, &[t, init, delta]);
                let v = self.narrow_to_table_index(table, old);
                self.push(v);
            }
            Operator::TableFill { table } => {
                let (dst, val, len) = self.pop3();
                let dst = self.index_to_i64(dst);
                let len = self.index_to_i64(len);
                let t = self.b.ins().iconst(types::I32, i64::from(table));
                self.call_builtin_checked(
                    BuiltinIndex::table_fill,
                    &[t, dst, val, len],
                    TrapKind::TableOutOfBounds,
                );
            }
            Operator::TableCopy {
                dst_table,
                src_table,
            } => {
                let (dst, src, len) = self.pop3();
                let dst = self.index_to_i64(dst);
                let src = self.index_to_i64(src);
                let len = self.index_to_i64(len);
                let d = self.b.ins().iconst(types::I32, i64::from(dst_table));
                let s = self.b.ins().iconst(types::I32, i64::from(src_table));
                self.call_builtin_checked(
                    BuiltinIndex::table_copy,
                    &[d, s, dst, src, len],
                    TrapKind::TableOutOfBounds,
                );
            }
            Operator::TableInit { elem_index, table } => {
                let (dst, src, len) = self.pop3();
                let dst = self.index_to_i64(dst);
                let t = self.b.ins().iconst(types::I32, i64::from(table));
                let seg = self.b.ins().iconst(types::I32, i64::from(elem_index));
                self.call_builtin_checked(
                    BuiltinIndex::table_init,
                    &[t, seg, dst, src, len],
                    TrapKind::TableOutOfBounds,
                );
            }
            Operator::ElemDrop { elem_index } => {
                let seg = self.b.ins().iconst(types::I32, i64::from(elem_index));
                self.call_builtin(BuiltinIndex::elem_drop, &[seg]);
            }
            Operator::RefAsNonNull
            | Operator::BrOnNull { .. }
            | Operator::BrOnNonNull { .. }
            | Operator::CallRef { .. }
            | Operator::ReturnCallRef { .. }
            | Operator::RefEq => return unsupported("function-references / gc proposals"),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The funcref of function `f`: the address of its slot in the vmctx.
    pub(super) fn func_ref(&mut self, f: u32) -> Value {
        let off = if f < self.env.num_imported_funcs() {
            self.env.offsets.imported_func(f)
        } else {
            let slot = self.env.escaping_slot[f as usize].expect("validated: ref.func declared");
            self.env.offsets.escaping_func(slot)
        };
        self.b.ins().iadd_imm_s(self.vmctx, i64::from(off))
    }

    /// Narrows an i64 element count to the table's index type.
    fn narrow_to_table_index(&mut self, table: u32, v: Value) -> Value {
        if self.table64(table) {
            v
        } else {
            self.b.ins().ireduce(types::I32, v)
        }
    }

    /// Address of element `index` of `table`, trapping with `oob` when out of bounds. A table
    /// whose maximum equals its minimum can never grow or move, so its bound is a constant and
    /// its base load is hoistable (the common case for C programs' function tables).
    pub(super) fn table_elem_addr(&mut self, table: u32, index: Value, oob: TrapKind) -> Value {
        let tdef = self.load_vmctx_ptr(self.env.offsets.table(table));
        let ty = self.env.info.tables[table as usize];
        let fixed = ty.maximum == Some(ty.initial);
        let idx = self.index_to_i64(index);
        let out = if fixed {
            self.b
                .ins()
                .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, idx, ty.initial as i64)
        } else {
            let len = self.b.ins().load(
                types::I64,
                env::vmctx_flags(self.regions),
                tdef,
                tabledef::LENGTH as i32,
            );
            self.b
                .ins()
                .icmp(IntCC::UnsignedGreaterThanOrEqual, idx, len)
        };
        self.b.ins().trapnz(out, env::trap_code(oob));
        let flags = if fixed {
            env::readonly_flags()
        } else {
            env::vmctx_flags(self.regions)
        };
        let base = self
            .b
            .ins()
            .load(types::I64, flags, tdef, tabledef::BASE as i32);
        let off = self.b.ins().ishl_imm_u(idx, 3);
        self.b.ins().iadd(base, off)
    }
}
