//! Structured control flow, branches, `select`, and calls (direct, imported, indirect, tail).

use super::base_case::{BaseCase, Step};
use super::{env, FrameKind, Translator, NS_WASM_FUNC};
use crate::error::Result;
use crate::frozen_tables::{self, FrozenTable};
use crate::translate::{wasm_signature, Frame, NS_DATA};
use cranelift_codegen::ir::{
    self, condcodes::IntCC, types, ExtFuncData, ExternalName, InstBuilder, JumpTableData,
    MemFlagsData, UserExternalName, Value,
};
use cranelift_codegen::isa::CallConv;
use wasmaot_runtime::layout::{funcref, TrapKind};
use wasmparser::Operator;

impl Translator<'_, '_> {
    /// Translates control operators; returns whether `op` was one.
    pub(super) fn control_op(&mut self, op: &Operator<'_>) -> Result<bool> {
        match *op {
            Operator::Nop => {}
            Operator::Unreachable => {
                self.b.ins().trap(env::trap_code(TrapKind::Unreachable));
                self.reachable = false;
            }
            Operator::Block { blockty } => self.push_block(blockty, FrameKind::Block),
            Operator::Loop { blockty } => {
                let (params, results) = self.block_sig(blockty);
                let header = self.new_block(&params);
                let dest = self.new_block(&results);
                let n = params.len();
                let args = self.stack.split_off(self.stack.len() - n);
                let args = self.block_args(&args);
                self.b.ins().jump(header, &args);
                self.b.switch_to_block(header);
                let hp = self.b.block_params(header).to_vec();
                self.stack.extend(hp);
                self.control.push(Frame {
                    kind: FrameKind::Loop { header },
                    dest,
                    height: self.stack.len() - n,
                    num_params: n,
                    num_results: results.len(),
                    dest_used: false,
                    checked_mark: self.checked.mark(),
                });
            }
            Operator::If { blockty } => {
                let cond = self.pop();
                let (params, results) = self.block_sig(blockty);
                let then_block = self.b.create_block();
                let else_block = self.b.create_block();
                let dest = self.new_block(&results);
                self.b.ins().brif(cond, then_block, &[], else_block, &[]);
                self.b.seal_block(then_block);
                self.b.seal_block(else_block);
                self.b.switch_to_block(then_block);
                let n = params.len();
                self.control.push(Frame {
                    kind: FrameKind::If {
                        else_block,
                        else_seen: false,
                        params: self.peekn(n).to_vec(),
                    },
                    dest,
                    height: self.stack.len() - n,
                    num_params: n,
                    num_results: results.len(),
                    dest_used: false,
                    checked_mark: self.checked.mark(),
                });
            }
            Operator::Else => self.op_else(),
            Operator::End => self.op_end(),
            Operator::Br { relative_depth } => {
                self.branch(relative_depth);
                self.reachable = false;
            }
            Operator::BrIf { relative_depth } => {
                let cond = self.pop();
                let (target, n) = self.branch_target(relative_depth);
                let args = self.peekn(n).to_vec();
                let args = self.block_args(&args);
                let next = self.b.create_block();
                self.b.ins().brif(cond, target, &args, next, &[]);
                self.b.seal_block(next);
                self.b.switch_to_block(next);
            }
            Operator::BrTable { ref targets } => {
                let index = self.pop();
                let default = targets.default();
                let (_, n) = self.branch_target(default);
                let args = self.peekn(n).to_vec();
                let args = self.block_args(&args);
                let mut calls = Vec::new();
                for t in targets.targets() {
                    let (block, _) = self.branch_target(t?);
                    calls.push(self.b.func.dfg.block_call(block, &args));
                }
                let (dblock, _) = self.branch_target(default);
                let dcall = self.b.func.dfg.block_call(dblock, &args);
                let jt = self.b.create_jump_table(JumpTableData::new(dcall, &calls));
                self.b.ins().br_table(index, jt);
                self.reachable = false;
            }
            Operator::Return => {
                let n = self.results.len();
                let vals = self.stack.split_off(self.stack.len() - n);
                let vals: Vec<Value> = vals.into_iter().map(|v| self.canonical(v)).collect();
                self.b.ins().return_(&vals);
                self.reachable = false;
            }
            Operator::Drop => {
                self.pop();
            }
            Operator::Select | Operator::TypedSelect { .. } => {
                let (a, b, c) = self.pop3();
                // Vector operands may come from operators of different lane types.
                let (a, b) = (self.canonical(a), self.canonical(b));
                let v = self.b.ins().select(c, a, b);
                self.push(v);
            }
            Operator::TypedSelectMulti { .. } => {
                return crate::error::unsupported("select with multiple results");
            }
            Operator::Call { function_index } => self.call(function_index, false)?,
            Operator::ReturnCall { function_index } => self.call(function_index, true)?,
            Operator::CallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index, false)?,
            Operator::ReturnCallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index, true)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Opens a `block`-like frame (also `try_table`): its params stay on the stack.
    pub(super) fn push_block(&mut self, blockty: wasmparser::BlockType, kind: FrameKind) {
        let (params, results) = self.block_sig(blockty);
        let dest = self.new_block(&results);
        self.control.push(Frame {
            kind,
            dest,
            height: self.stack.len() - params.len(),
            num_params: params.len(),
            num_results: results.len(),
            dest_used: false,
            checked_mark: self.checked.mark(),
        });
    }

    fn new_block(&mut self, params: &[ir::Type]) -> ir::Block {
        let block = self.b.create_block();
        for &t in params {
            self.b.append_block_param(block, t);
        }
        block
    }

    /// The block a branch to `depth` jumps to and how many values it carries.
    pub(super) fn branch_target(&mut self, depth: u32) -> (ir::Block, usize) {
        let i = self.control.len() - 1 - depth as usize;
        let frame = &mut self.control[i];
        match frame.kind {
            FrameKind::Loop { header } => (header, frame.num_params),
            _ => {
                frame.dest_used = true;
                (frame.dest, frame.num_results)
            }
        }
    }

    fn branch(&mut self, depth: u32) {
        let (target, n) = self.branch_target(depth);
        let args = self.peekn(n).to_vec();
        let args = self.block_args(&args);
        self.b.ins().jump(target, &args);
    }

    pub(super) fn op_else(&mut self) {
        let reachable = self.reachable;
        let frame = self.control.last_mut().expect("validated: else without if");
        let FrameKind::If {
            else_block,
            ref mut else_seen,
            ref params,
        } = frame.kind
        else {
            unreachable!("validated: else without if")
        };
        *else_seen = true;
        let params = params.clone();
        let (dest, height, nres) = (frame.dest, frame.height, frame.num_results);
        // The `then` arm's compares do not cover the `else` arm.
        self.checked.cut(frame.checked_mark);
        if reachable {
            frame.dest_used = true;
            let vals = self.stack.split_off(self.stack.len() - nres);
            let args = self.block_args(&vals);
            self.b.ins().jump(dest, &args);
        }
        self.stack.truncate(height);
        self.stack.extend(params);
        self.b.switch_to_block(else_block);
        self.reachable = true;
    }

    pub(super) fn op_end(&mut self) {
        let mut frame = self.control.pop().expect("validated: end without block");
        // Branches to `dest` may have skipped the construct's compares.
        self.checked.cut(frame.checked_mark);
        if self.reachable {
            frame.dest_used = true;
            let vals = self.stack.split_off(self.stack.len() - frame.num_results);
            let args = self.block_args(&vals);
            self.b.ins().jump(frame.dest, &args);
        }
        if let FrameKind::If {
            else_block,
            else_seen: false,
            ref params,
        } = frame.kind
        {
            // An `if` without `else`: the implicit else passes the params through.
            self.b.switch_to_block(else_block);
            let args = self.block_args(&params.clone());
            self.b.ins().jump(frame.dest, &args);
            frame.dest_used = true;
        }
        if let FrameKind::Loop { header } = frame.kind {
            self.b.seal_block(header);
        }
        if let FrameKind::TryTable { ref mut catches } = frame.kind {
            let catches = std::mem::take(catches);
            self.finish_try_table(catches);
        }
        self.stack.truncate(frame.height);
        if frame.dest_used {
            self.b.switch_to_block(frame.dest);
            self.b.seal_block(frame.dest);
            let params = self.b.block_params(frame.dest).to_vec();
            self.stack.extend(params);
            self.reachable = true;
            if self.control.is_empty() {
                // End of the function body.
                let vals = std::mem::take(&mut self.stack);
                self.b.ins().return_(&vals);
                self.reachable = false;
            }
        } else {
            self.reachable = false;
        }
    }

    fn sig_for_type(&mut self, type_index: u32) -> ir::SigRef {
        if let Some(s) = self.sigs.get(&type_index) {
            return *s;
        }
        let sig = wasm_signature(&self.env.types[type_index as usize], CallConv::Tail);
        let s = self.b.import_signature(sig);
        self.sigs.insert(type_index, s);
        s
    }

    /// Pops call arguments, canonicalised.
    fn call_args(&mut self, n: usize) -> Vec<Value> {
        let vals = self.stack.split_off(self.stack.len() - n);
        vals.into_iter().map(|v| self.canonical(v)).collect()
    }

    fn push_results(&mut self, inst: ir::Inst) {
        let rs = self.b.inst_results(inst).to_vec();
        self.stack.extend(rs);
    }

    fn call(&mut self, f: u32, tail: bool) -> Result<()> {
        let type_index = self.env.info.funcs[f as usize];
        let nparams = self.env.types[type_index as usize].params().len();
        let args = self.call_args(nparams);
        if f < self.env.num_imported_funcs() {
            let sig = self.sig_for_type(type_index);
            let slot = self.env.offsets.imported_func(f) as i32;
            let flags = env::readonly_flags();
            let code = self.b.ins().load(
                types::I64,
                flags,
                self.vmctx,
                slot + funcref::WASM_CALL as i32,
            );
            let callee_vmctx =
                self.b
                    .ins()
                    .load(types::I64, flags, self.vmctx, slot + funcref::VMCTX as i32);
            self.call_through(sig, code, callee_vmctx, args, tail);
            return Ok(());
        }
        let fref = match self.direct.get(&f) {
            Some(r) => *r,
            None => {
                let sig = self.sig_for_type(type_index);
                let name = self
                    .b
                    .func
                    .declare_imported_user_function(UserExternalName::new(
                        NS_WASM_FUNC,
                        f - self.env.num_imported_funcs(),
                    ));
                let r = self.b.import_function(ExtFuncData {
                    name: ExternalName::user(name),
                    signature: sig,
                    colocated: true,
                    patchable: false,
                });
                self.direct.insert(f, r);
                r
            }
        };
        let mut all = vec![self.vmctx];
        all.extend(args);
        if tail {
            self.b.ins().return_call(fref, &all);
            self.reachable = false;
        } else if let Some((et, cont)) =
            self.exception_table(self.b.func.dfg.ext_funcs[fref].signature)
        {
            self.b.ins().try_call(fref, &all, et);
            self.continue_in(cont);
        } else if f == self.func_index && self.has_base_case()? {
            self.self_call(fref, &all)?;
        } else {
            let inst = self.b.ins().call(fref, &all);
            self.push_results(inst);
        }
        Ok(())
    }

    /// Whether the function has a base case its calls to itself can compute in place.
    fn has_base_case(&mut self) -> Result<bool> {
        if self.base_case.is_none() {
            let ty = self.env.func_wasm_type(self.func_index);
            let bc = BaseCase::find(&self.body, ty.params(), ty.results().len())?;
            self.base_case = Some(bc);
        }
        Ok(matches!(self.base_case, Some(Some(_))))
    }

    /// A call of the function to itself: its base case is computed in place when the
    /// arguments pass its test, and only other arguments make the call (see `base_case.rs`).
    fn self_call(&mut self, fref: ir::FuncRef, all: &[Value]) -> Result<()> {
        let bc = self.base_case.take().flatten();
        let bc = bc.expect("checked by the caller");
        let base = self.b.create_block();
        let call = self.b.create_block();
        let join = self.b.create_block();
        for i in 0..self.results.len() {
            self.b.append_block_param(join, self.results[i]);
        }
        self.replay(&bc.cond, &all[1..])?;
        let cond = self.pop();
        self.b.ins().brif(cond, base, &[], call, &[]);

        self.b.switch_to_block(base);
        self.b.seal_block(base);
        self.replay(&bc.results, &all[1..])?;
        let vals = self.stack.split_off(self.stack.len() - self.results.len());
        let args = self.block_args(&vals);
        self.b.ins().jump(join, &args);

        self.b.switch_to_block(call);
        self.b.seal_block(call);
        let inst = self.b.ins().call(fref, all);
        let rs = self.b.inst_results(inst).to_vec();
        let args = self.block_args(&rs);
        self.b.ins().jump(join, &args);

        self.continue_in(join);
        self.base_case = Some(Some(bc));
        Ok(())
    }

    /// Translates a base-case expression with `args` as the call's arguments.
    fn replay(&mut self, steps: &[Step<'_>], args: &[Value]) -> Result<()> {
        for s in steps {
            match s {
                Step::Arg(i) => self.push(args[*i as usize]),
                Step::Op(op) => self.op(op)?,
            }
        }
        Ok(())
    }

    /// Loads the funcref at `index` of `table` (null = 0), trapping when out of bounds.
    fn table_funcref(&mut self, table: u32, index: Value) -> Value {
        let addr = self.table_elem_addr(table, index, TrapKind::UndefinedElement);
        self.b
            .ins()
            .load(types::I64, env::table_flags(self.regions), addr, 0)
    }

    fn call_indirect(&mut self, type_index: u32, table: u32, tail: bool) -> Result<()> {
        const _: () = assert!(
            funcref::TYPE_ID < 4096,
            "the null-funcref load must hit page 0"
        );
        let env = self.env;
        if let Some(frozen) = env.frozen.table(table) {
            return self.call_indirect_frozen(type_index, frozen, tail);
        }
        let index = self.pop();
        let p = self.table_funcref(table, index);
        let flags = env::trusted_flags();
        // No explicit null test: a null funcref makes this load fault in the never-mapped first
        // page, and the trap site turns the fault into `UninitializedElement` (as Wasmtime does
        // with signal-based traps). `funcref::TYPE_ID` is far below the page size.
        let actual = self.b.ins().load(
            types::I32,
            flags.with_trap_code(Some(env::trap_code(TrapKind::UninitializedElement))),
            p,
            funcref::TYPE_ID as i32,
        );
        let expected = self.b.ins().load(
            types::I32,
            env::readonly_flags(),
            self.vmctx,
            self.env.offsets.type_id(type_index) as i32,
        );
        let bad = self.b.ins().icmp(IntCC::NotEqual, actual, expected);
        self.b
            .ins()
            .trapnz(bad, env::trap_code(TrapKind::BadSignature));
        let code = self
            .b
            .ins()
            .load(types::I64, flags, p, funcref::WASM_CALL as i32);
        let callee_vmctx = self
            .b
            .ins()
            .load(types::I64, flags, p, funcref::VMCTX as i32);
        let sig = self.sig_for_type(type_index);
        let nparams = self.env.types[type_index as usize].params().len();
        let args = self.call_args(nparams);
        self.call_through(sig, code, callee_vmctx, args, tail);
        Ok(())
    }

    /// `call_indirect` through a frozen table (see `frozen_tables.rs`): a bounds check against
    /// the constant length, one load of the callee's address from the dispatch array, and a
    /// check of the slot's type class unless every function in the table has the expected
    /// type (then only a null slot, address 0, can be wrong). The callee shares our vmctx.
    fn call_indirect_frozen(
        &mut self,
        type_index: u32,
        frozen: &FrozenTable,
        tail: bool,
    ) -> Result<()> {
        let expected = self.env.frozen.type_class[type_index as usize];
        let index = self.pop();
        let index = self.index_to_i64(index);
        let limit = self.b.ins().iconst(types::I64, frozen.slots.len() as i64);
        let oob = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, limit);
        self.b
            .ins()
            .trapnz(oob, env::trap_code(TrapKind::UndefinedElement));
        let base = self.dispatch_array(frozen.array);
        const _: () = assert!(frozen_tables::ENTRY_SIZE.is_power_of_two());
        let shift = frozen_tables::ENTRY_SIZE.trailing_zeros();
        let offset = self.b.ins().ishl_imm_u(index, i64::from(shift));
        let entry = self.b.ins().iadd(base, offset);
        // Read-only data, but not `can_move`: the load must stay behind the bounds check.
        let flags = MemFlagsData::trusted().with_readonly();
        let code = self.b.ins().load(types::I64, flags, entry, 0);
        let null = env::trap_code(TrapKind::UninitializedElement);
        if frozen.single_class == Some(expected) {
            self.b.ins().trapz(code, null);
        } else {
            let class = self
                .b
                .ins()
                .load(types::I32, flags, entry, frozen_tables::ENTRY_CLASS);
            let bad = self
                .b
                .ins()
                .icmp_imm_u(IntCC::NotEqual, class, i64::from(expected));
            let wrong = self.b.create_block();
            let ok = self.b.create_block();
            self.b.set_cold_block(wrong);
            self.b.ins().brif(bad, wrong, &[], ok, &[]);
            self.b.switch_to_block(wrong);
            self.b.seal_block(wrong);
            self.b.ins().trapz(code, null);
            self.b.ins().trap(env::trap_code(TrapKind::BadSignature));
            self.b.switch_to_block(ok);
            self.b.seal_block(ok);
        }
        let sig = self.sig_for_type(type_index);
        let nparams = self.env.types[type_index as usize].params().len();
        let args = self.call_args(nparams);
        let vmctx = self.vmctx;
        self.call_through(sig, code, vmctx, args, tail);
        Ok(())
    }

    /// Address of frozen-table dispatch array `array` (a PC-relative `lea`).
    fn dispatch_array(&mut self, array: u32) -> Value {
        let gv = match self.dispatch.get(&array) {
            Some(&gv) => gv,
            None => {
                let name = self
                    .b
                    .func
                    .declare_imported_user_function(UserExternalName::new(NS_DATA, array));
                let gv = self
                    .b
                    .func
                    .create_global_value(ir::GlobalValueData::Symbol {
                        name: ExternalName::user(name),
                        offset: ir::immediates::Imm64::new(0),
                        colocated: true,
                        tls: false,
                    });
                self.dispatch.insert(array, gv);
                gv
            }
        };
        self.b.ins().symbol_value(types::I64, gv)
    }

    /// Calls a code pointer with the Wasm convention, as a tail call or pushing the results.
    fn call_through(
        &mut self,
        sig: ir::SigRef,
        code: Value,
        callee_vmctx: Value,
        args: Vec<Value>,
        tail: bool,
    ) {
        let mut all = vec![callee_vmctx];
        all.extend(args);
        if tail {
            self.b.ins().return_call_indirect(sig, code, &all);
            self.reachable = false;
        } else if let Some((et, cont)) = self.exception_table(sig) {
            self.b.ins().try_call_indirect(code, &all, et);
            self.continue_in(cont);
        } else {
            let inst = self.b.ins().call_indirect(sig, code, &all);
            self.push_results(inst);
        }
    }

    /// Continues after a `try_call` in its normal-return block, whose params are the results.
    fn continue_in(&mut self, cont: ir::Block) {
        self.b.switch_to_block(cont);
        self.b.seal_block(cont);
        let rs = self.b.block_params(cont).to_vec();
        self.stack.extend(rs);
    }
}
