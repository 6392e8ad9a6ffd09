//! Exception handling (`try_table`, `throw`, `throw_ref`): calls inside a `try_table` become
//! Cranelift `try_call`s whose exception table lists the handlers in scope, innermost first.
//!
//! Every table starts with the function's vmctx as the dynamic context, so the runtime's
//! unwinder can compare a tag index's identity (`vmctx.tags[i]`) with the thrown exception's.
//! A `throw` inside the same function does not need the unwinder: after `exn_new` builds the
//! exception, the handlers in scope are tested inline and only an unmatched exception goes to
//! the `exn_throw` builtin, which searches the callers.

use super::{env, FrameKind, Translator};
use crate::error::Result;
use cranelift_codegen::ir::{
    self, condcodes::IntCC, types, BlockArg, ExceptionTableData, ExceptionTableItem, ExceptionTag,
    InstBuilder, StackSlotData, StackSlotKind, Value,
};
use wasmaot_runtime::layout::{exn, BuiltinIndex, TrapKind};
use wasmparser::{Catch, Operator};

/// One catch clause of a `try_table`.
pub(super) struct CatchClause {
    /// Tag index, or `None` for `catch_all`/`catch_all_ref`.
    tag: Option<u32>,
    /// Whether the `exnref` is passed to the label too (`catch_ref`, `catch_all_ref`).
    with_ref: bool,
    /// Label depth, relative to the `try_table`'s enclosing block.
    label: u32,
    /// The handler block (one `i64` param: the exception), created when first needed.
    block: Option<ir::Block>,
}

impl Translator<'_, '_> {
    /// Translates exception operators; returns whether `op` was one.
    pub(super) fn exception_op(&mut self, op: &Operator<'_>) -> Result<bool> {
        match op {
            Operator::TryTable { try_table } => {
                let catches = try_table
                    .catches
                    .iter()
                    .map(|c| {
                        let (tag, with_ref, label) = match *c {
                            Catch::One { tag, label } => (Some(tag), false, label),
                            Catch::OneRef { tag, label } => (Some(tag), true, label),
                            Catch::All { label } => (None, false, label),
                            Catch::AllRef { label } => (None, true, label),
                        };
                        CatchClause {
                            tag,
                            with_ref,
                            label,
                            block: None,
                        }
                    })
                    .collect();
                self.push_block(try_table.ty, FrameKind::TryTable { catches });
            }
            Operator::Throw { tag_index } => {
                let n = self.tag_params(*tag_index).len();
                let vals = self.stack.split_off(self.stack.len() - n);
                let exn = self.new_exception(*tag_index, &vals);
                self.dispatch(exn);
            }
            Operator::ThrowRef => {
                let exn = self.pop();
                self.b
                    .ins()
                    .trapz(exn, env::trap_code(TrapKind::NullReference));
                self.dispatch(exn);
            }
            Operator::Try { .. }
            | Operator::Catch { .. }
            | Operator::CatchAll
            | Operator::Rethrow { .. }
            | Operator::Delegate { .. } => {
                return crate::error::unsupported(
                    "exceptions (legacy try/catch/rethrow/delegate; use try_table)",
                );
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn tag_params(&self, tag: u32) -> Vec<ir::Type> {
        let ty = self.env.info.tags[tag as usize];
        self.env.types[ty as usize]
            .params()
            .iter()
            .map(|&t| super::ir_type(t))
            .collect()
    }

    /// Calls `exn_new` with the payload spilled to a stack slot.
    fn new_exception(&mut self, tag: u32, vals: &[Value]) -> Value {
        let ptr = if vals.is_empty() {
            self.b.ins().iconst(types::I64, 0)
        } else {
            let ss = self.b.create_sized_stack_slot(StackSlotData::new(
                StackSlotKind::ExplicitSlot,
                16 * vals.len() as u32,
                4,
            ));
            let addr = self.b.ins().stack_addr(types::I64, ss, 0);
            for (i, &v) in vals.iter().enumerate() {
                let v = self.canonical(v);
                self.b
                    .ins()
                    .store(env::trusted_flags(), v, addr, 16 * i as i32);
            }
            addr
        };
        let tag = self.b.ins().iconst(types::I32, tag as i64);
        self.call_builtin(BuiltinIndex::exn_new, &[tag, ptr])
    }

    /// Sends `exn` (non-null) to the first matching handler in scope in this function, else
    /// to `exn_throw`. Ends the current block.
    fn dispatch(&mut self, exn: Value) {
        for (tag, block) in self.handlers_in_scope() {
            match tag {
                None => {
                    self.b.ins().jump(block, &[BlockArg::Value(exn)]);
                    self.reachable = false;
                    return;
                }
                Some(t) => {
                    let thrown =
                        self.b
                            .ins()
                            .load(types::I64, env::trusted_flags(), exn, exn::TAG as i32);
                    let want = self.b.ins().load(
                        types::I64,
                        env::readonly_flags(),
                        self.vmctx,
                        self.env.offsets.tag(t) as i32,
                    );
                    let hit = self.b.ins().icmp(IntCC::Equal, thrown, want);
                    let next = self.b.create_block();
                    self.b
                        .ins()
                        .brif(hit, block, &[BlockArg::Value(exn)], next, &[]);
                    self.b.seal_block(next);
                    self.b.switch_to_block(next);
                }
            }
        }
        let fp = self.b.ins().get_frame_pointer(types::I64);
        self.call_builtin(BuiltinIndex::exn_throw, &[exn, fp]);
        self.b.ins().trap(env::trap_code(TrapKind::Unreachable));
        self.reachable = false;
    }

    /// The handlers a throw at this point may reach in this function, innermost first, up to
    /// and including the first catch-all.
    fn handlers_in_scope(&mut self) -> Vec<(Option<u32>, ir::Block)> {
        let mut out = Vec::new();
        let b = &mut self.b;
        for frame in self.control.iter_mut().rev() {
            let FrameKind::TryTable { ref mut catches } = frame.kind else {
                continue;
            };
            for c in catches.iter_mut() {
                // Handler blocks are created when a call or throw first needs them.
                let block = *c.block.get_or_insert_with(|| {
                    let block = b.create_block();
                    b.append_block_param(block, types::I64);
                    block
                });
                out.push((c.tag, block));
                if c.tag.is_none() {
                    return out;
                }
            }
        }
        out
    }

    /// The exception table for a call of signature `sig` at this point, with the block a
    /// normal return continues in (the callee's results are its params); `None` outside
    /// every `try_table`.
    pub(super) fn exception_table(
        &mut self,
        sig: ir::SigRef,
    ) -> Option<(ir::ExceptionTable, ir::Block)> {
        let handlers = self.handlers_in_scope();
        if handlers.is_empty() {
            return None;
        }
        let ret_tys: Vec<ir::Type> = self.b.func.dfg.signatures[sig]
            .returns
            .iter()
            .map(|r| r.value_type)
            .collect();
        let cont = self.b.create_block();
        for &t in &ret_tys {
            self.b.append_block_param(cont, t);
        }
        let rets: Vec<BlockArg> = (0..ret_tys.len() as u32)
            .map(BlockArg::TryCallRet)
            .collect();
        let normal = self.b.func.dfg.block_call(cont, &rets);
        let mut items = vec![ExceptionTableItem::Context(self.vmctx)];
        for (tag, block) in handlers {
            let call = self
                .b
                .func
                .dfg
                .block_call(block, &[BlockArg::TryCallExn(0)]);
            items.push(match tag {
                Some(t) => ExceptionTableItem::Tag(ExceptionTag::from_u32(t), call),
                None => ExceptionTableItem::Default(call),
            });
        }
        let data = ExceptionTableData::new(sig, normal, items);
        Some((self.b.func.dfg.exception_tables.push(data), cont))
    }

    /// At the `end` of a `try_table`: fills in the handler blocks that calls or throws used,
    /// each moving the payload (and the `exnref`) to its label. The current block is already
    /// terminated.
    pub(super) fn finish_try_table(&mut self, catches: Vec<CatchClause>) {
        for c in catches {
            let Some(block) = c.block else { continue };
            self.b.switch_to_block(block);
            self.b.seal_block(block);
            // The callee may have grown a memory before throwing.
            self.reload_memory_lengths();
            let exn = self.b.block_params(block)[0];
            let mut vals = Vec::new();
            if let Some(t) = c.tag {
                let tys = self.tag_params(t);
                if !tys.is_empty() {
                    let base = self.b.ins().load(
                        types::I64,
                        env::trusted_flags(),
                        exn,
                        exn::VALUES as i32,
                    );
                    for (i, ty) in tys.into_iter().enumerate() {
                        let v = self
                            .b
                            .ins()
                            .load(ty, env::trusted_flags(), base, 16 * i as i32);
                        vals.push(v);
                    }
                }
            }
            if c.with_ref {
                vals.push(exn);
            }
            let (target, _) = self.branch_target(c.label);
            let args = self.block_args(&vals);
            self.b.ins().jump(target, &args);
        }
    }
}
