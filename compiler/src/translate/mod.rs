//! Wasm → Cranelift IR translation of function bodies.
//!
//! The driver keeps the Wasm operand stack as a `Vec<Value>` and a control stack of
//! block/loop/if frames, and hands each operator to the file of its family: [`control`]
//! (branches, calls), [`exceptions`] (`try_table`, `throw`), [`variables`] (locals, globals),
//! [`numeric`] (integer and float arithmetic, conversions), [`memory`] (loads, stores,
//! `memory.*`; [`bounds`] drops the bounds checks an earlier one covers), [`table`]
//! (tables and references) and [`simd`] (v128). [`base_case`] lets a recursive function's calls
//! to itself compute its early return in place. After `br`, `return` or `unreachable` the rest of the
//! block is dead: operators are skipped, tracking only nesting, until the matching `else`/`end`.

mod base_case;
mod bounds;
mod control;
mod dominated_checks;
mod env;
mod exceptions;
mod loop_checks;
mod memory;
mod numeric;
mod redundant_params;
mod simd;
mod table;
mod variables;

pub use env::trap_kind;

use crate::error::{unsupported, CompileError, Result};
use crate::module::ModuleEnv;
use cranelift_codegen::dominator_tree::DominatorTree;
use cranelift_codegen::flowgraph::ControlFlowGraph;
use cranelift_codegen::ir::{
    self, types, AbiParam, AliasRegion, AliasRegionData, Block, BlockArg, Function, InstBuilder,
    Signature, Type, UserExternalName, UserFuncName, Value,
};
use cranelift_codegen::isa::{CallConv, TargetIsa};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use std::collections::HashMap;
use wasmaot_runtime::layout::BuiltinIndex;
use wasmparser::{BlockType, FunctionBody, Operator};

/// Namespace of `UserExternalName`s that refer to defined Wasm functions; the index is the
/// defined-function index, which the object writer makes equal to the function's `FuncId`.
pub const NS_WASM_FUNC: u32 = 0;
/// Namespace of `UserExternalName`s that refer to data objects; the index is the `DataId`
/// (the object writer declares frozen tables' dispatch arrays first, so array `k` is `k`).
pub const NS_DATA: u32 = 1;

/// The constant an `iconst` defines `v` as, if it is one (the bits as the instruction holds
/// them: narrow constants zero-extended).
pub(crate) fn iconst_value(dfg: &ir::DataFlowGraph, v: Value) -> Option<i64> {
    match dfg.value_def(v) {
        ir::ValueDef::Result(inst, 0) => match dfg.insts[inst] {
            ir::InstructionData::UnaryImm {
                opcode: ir::Opcode::Iconst,
                imm,
            } => Some(imm.bits()),
            _ => None,
        },
        _ => None,
    }
}

/// `(x, k)` when `v` is `iadd x, k` or `iadd k, x` with a constant `k`, `x` with aliases
/// resolved: a step, or an offset added to an address.
pub(crate) fn constant_addend(dfg: &ir::DataFlowGraph, v: Value) -> Option<(Value, i64)> {
    let ir::ValueDef::Result(inst, 0) = dfg.value_def(dfg.resolve_aliases(v)) else {
        return None;
    };
    let ir::InstructionData::Binary {
        opcode: ir::Opcode::Iadd,
        args: [a, b],
    } = dfg.insts[inst]
    else {
        return None;
    };
    match (iconst_value(dfg, a), iconst_value(dfg, b)) {
        (_, Some(k)) => Some((dfg.resolve_aliases(a), k)),
        (Some(k), _) => Some((dfg.resolve_aliases(b), k)),
        _ => None,
    }
}

/// Cranelift type of a Wasm value type (references are pointers, v128 is `i8x16`).
pub fn ir_type(t: wasmparser::ValType) -> Type {
    match t {
        wasmparser::ValType::I32 => types::I32,
        wasmparser::ValType::I64 => types::I64,
        wasmparser::ValType::F32 => types::F32,
        wasmparser::ValType::F64 => types::F64,
        wasmparser::ValType::V128 => types::I8X16,
        wasmparser::ValType::Ref(_) => types::I64,
    }
}

/// Cranelift type of a runtime value type.
pub fn ir_type_of(t: wasmaot_runtime::layout::ValType) -> Type {
    use wasmaot_runtime::layout::ValType as V;
    match t {
        V::I32 => types::I32,
        V::I64 => types::I64,
        V::F32 => types::F32,
        V::F64 => types::F64,
        V::V128 => types::I8X16,
        V::FuncRef | V::ExternRef | V::ExnRef => types::I64,
    }
}

/// The Cranelift signature of a Wasm function: `(vmctx, params...)`. The one context argument
/// is the callee's own instance context (docs/ABI.md, "Calling conventions").
pub fn wasm_signature(ft: &wasmparser::FuncType, call_conv: CallConv) -> Signature {
    let mut sig = Signature::new(call_conv);
    sig.params.push(AbiParam::new(types::I64));
    sig.params
        .extend(ft.params().iter().map(|&t| AbiParam::new(ir_type(t))));
    sig.returns
        .extend(ft.results().iter().map(|&t| AbiParam::new(ir_type(t))));
    sig
}

/// Kind-specific part of a control frame.
enum FrameKind {
    Block,
    Loop {
        header: Block,
    },
    If {
        else_block: Block,
        else_seen: bool,
        params: Vec<Value>,
    },
    /// A `try_table` and its catch clauses (see `exceptions.rs`).
    TryTable {
        catches: Vec<exceptions::CatchClause>,
    },
}

/// One entry of the control stack.
struct Frame {
    kind: FrameKind,
    /// Where control continues after `end`; its params are the block's results.
    dest: Block,
    /// Operand stack height below the block's params.
    height: usize,
    num_params: usize,
    num_results: usize,
    /// Whether anything jumps to `dest`.
    dest_used: bool,
    /// Bounds-check facts known when the frame opened (see `bounds.rs`).
    checked_mark: usize,
}

/// Alias regions that let Cranelift reorder accesses to different kinds of state.
#[derive(Clone, Copy)]
pub(crate) struct Regions {
    heap: AliasRegion,
    vmctx: AliasRegion,
    table: AliasRegion,
}

/// Options that change the generated code.
#[derive(Clone, Copy, Debug)]
pub struct CodegenOptions {
    /// How 32-bit memories are bounds-checked.
    pub bounds_checks: wasmaot_runtime::layout::BoundsChecks,
}

/// Translates one function body.
pub(crate) struct Translator<'m, 'b> {
    env: &'m ModuleEnv<'m>,
    opts: CodegenOptions,
    /// Whether float constants in loops and sign-operator masks are vector constants the
    /// mid-end hoists out of loops (x86-64; see numeric.rs).
    hoistable_float_consts: bool,
    b: FunctionBuilder<'b>,
    vmctx: Value,
    stack: Vec<Value>,
    control: Vec<Frame>,
    locals: Vec<(Variable, Type)>,
    reachable: bool,
    unreachable_depth: u32,
    sigs: HashMap<u32, ir::SigRef>,
    direct: HashMap<u32, ir::FuncRef>,
    /// Symbols of the frozen tables' dispatch arrays used so far (see `frozen_tables.rs`).
    dispatch: HashMap<u32, ir::GlobalValue>,
    builtins: HashMap<u32, ir::SigRef>,
    regions: Regions,
    results: Vec<Type>,
    /// Cached length of each memory accessed with bounds checks (see `memory.rs`).
    mem_len: Vec<Option<Variable>>,
    /// Indices whose bounds check dominates the current point (see `bounds.rs`).
    checked: bounds::CheckedIndices,
    /// Every memory64 `index <= length` check made (see `loop_checks.rs`).
    index_checks: Vec<loop_checks::IndexCheck>,
    /// The function being translated, and its body.
    func_index: u32,
    body: FunctionBody<'m>,
    /// Its base case, which its calls to itself evaluate first (see `base_case.rs`); looked
    /// for at the first such call, so only recursive functions pay for the search.
    base_case: Option<Option<base_case::BaseCase<'m>>>,
}

/// Builds the IR of defined function `func_index` into `func`.
pub fn translate_function(
    env: &ModuleEnv<'_>,
    isa: &dyn TargetIsa,
    opts: CodegenOptions,
    func_index: u32,
    body: &FunctionBody<'_>,
    func: &mut Function,
    fctx: &mut FunctionBuilderContext,
) -> Result<()> {
    let wasm_ty = env.func_wasm_type(func_index).clone();
    func.signature = wasm_signature(&wasm_ty, CallConv::Tail);
    func.name = UserFuncName::User(UserExternalName::new(
        NS_WASM_FUNC,
        func_index - env.num_imported_funcs(),
    ));
    let heap = func.dfg.alias_regions.insert(AliasRegionData {
        user_id: 1,
        description: "heap".into(),
    });
    let vmctx_region = func.dfg.alias_regions.insert(AliasRegionData {
        user_id: 2,
        description: "vmctx".into(),
    });
    let table = func.dfg.alias_regions.insert(AliasRegionData {
        user_id: 3,
        description: "table".into(),
    });
    let mut b = FunctionBuilder::new(func, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let vmctx = b.block_params(entry)[0];
    let params: Vec<Value> = b.block_params(entry)[1..].to_vec();

    // Declare locals: params first, then the body's locals, zero-initialised.
    let mut locals = Vec::new();
    for (p, &t) in params.iter().zip(wasm_ty.params()) {
        let ty = ir_type(t);
        let var = b.declare_var(ty);
        b.def_var(var, *p);
        locals.push((var, ty));
    }
    let mut reader = body.get_locals_reader()?;
    for _ in 0..reader.get_count() {
        let (count, t) = reader.read()?;
        if let wasmparser::ValType::Ref(r) = t {
            crate::module::ref_type(r)?;
        }
        let ty = ir_type(t);
        for _ in 0..count {
            let var = b.declare_var(ty);
            let zero = zero_value(&mut b, ty);
            b.def_var(var, zero);
            locals.push((var, ty));
        }
    }

    let results: Vec<Type> = wasm_ty.results().iter().map(|&t| ir_type(t)).collect();
    let ret = b.create_block();
    for &t in &results {
        b.append_block_param(ret, t);
    }
    let mut t = Translator {
        env,
        opts,
        hoistable_float_consts: isa.triple().architecture == target_lexicon::Architecture::X86_64,
        b,
        vmctx,
        stack: Vec::new(),
        control: vec![Frame {
            kind: FrameKind::Block,
            dest: ret,
            height: 0,
            num_params: 0,
            num_results: results.len(),
            dest_used: false,
            checked_mark: 0,
        }],
        locals,
        reachable: true,
        unreachable_depth: 0,
        sigs: HashMap::new(),
        direct: HashMap::new(),
        dispatch: HashMap::new(),
        builtins: HashMap::new(),
        regions: Regions {
            heap,
            vmctx: vmctx_region,
            table,
        },
        results,
        mem_len: Vec::new(),
        checked: bounds::CheckedIndices::default(),
        index_checks: Vec::new(),
        func_index,
        body: body.clone(),
        base_case: None,
    };
    t.init_memory_lengths(body)?;
    let mut ops = body.get_operators_reader()?;
    while !ops.eof() {
        let pos = ops.original_position();
        let op = ops.read()?;
        t.op(&op).map_err(|e| match e {
            CompileError::Unsupported(m) => {
                CompileError::Unsupported(format!("{m} (at byte offset {pos:#x})"))
            }
            other => other,
        })?;
    }
    t.b.seal_all_blocks();
    let index_checks = std::mem::take(&mut t.index_checks);
    t.b.finalize(isa.frontend_config());
    redundant_params::remove(func);
    if !index_checks.is_empty() {
        // Neither pass changes the control flow: one dominator tree serves both.
        let cfg = ControlFlowGraph::with_function(func);
        let domtree = DominatorTree::with_function(func, &cfg);
        let index_checks = dominated_checks::remove(func, &domtree, index_checks);
        loop_checks::move_to_loop_entries(func, &cfg, &domtree, &index_checks);
    }
    Ok(())
}

/// A zero of any translator type.
pub(crate) fn zero_value(b: &mut FunctionBuilder<'_>, ty: Type) -> Value {
    if ty.is_vector() {
        let c = b
            .func
            .dfg
            .constants
            .insert(ir::ConstantData::from(vec![0u8; 16]));
        let v = b.ins().vconst(types::I8X16, c);
        if ty == types::I8X16 {
            v
        } else {
            b.ins().bitcast(ty, ir::MemFlagsData::new(), v)
        }
    } else if ty == types::F32 {
        b.ins().f32const(0.0)
    } else if ty == types::F64 {
        b.ins().f64const(0.0)
    } else {
        b.ins().iconst(ty, 0)
    }
}

impl<'m, 'b> Translator<'m, 'b> {
    fn pop(&mut self) -> Value {
        self.stack
            .pop()
            .expect("validated: operand stack underflow")
    }
    fn pop2(&mut self) -> (Value, Value) {
        let b = self.pop();
        let a = self.pop();
        (a, b)
    }
    fn pop3(&mut self) -> (Value, Value, Value) {
        let c = self.pop();
        let (a, b) = self.pop2();
        (a, b, c)
    }
    fn push(&mut self, v: Value) {
        self.stack.push(v);
    }
    fn peekn(&self, n: usize) -> &[Value] {
        &self.stack[self.stack.len() - n..]
    }

    /// Parameter and result types of a block type.
    fn block_sig(&self, bt: BlockType) -> (Vec<Type>, Vec<Type>) {
        match bt {
            BlockType::Empty => (vec![], vec![]),
            BlockType::Type(t) => (vec![], vec![ir_type(t)]),
            BlockType::FuncType(i) => {
                let ft = &self.env.types[i as usize];
                (
                    ft.params().iter().map(|&t| ir_type(t)).collect(),
                    ft.results().iter().map(|&t| ir_type(t)).collect(),
                )
            }
        }
    }

    /// Block arguments from values, with vectors canonicalised to `i8x16`.
    fn block_args(&mut self, vals: &[Value]) -> Vec<BlockArg> {
        let vals: Vec<Value> = vals.iter().map(|&v| self.canonical(v)).collect();
        vals.into_iter().map(BlockArg::from).collect()
    }

    /// Vector values travel between blocks, locals and calls as `i8x16`.
    fn canonical(&mut self, v: Value) -> Value {
        let ty = self.b.func.dfg.value_type(v);
        if ty.is_vector() && ty != types::I8X16 {
            self.b.ins().bitcast(
                types::I8X16,
                ir::MemFlagsData::new().with_endianness(ir::Endianness::Little),
                v,
            )
        } else {
            v
        }
    }

    /// Translates one operator.
    fn op(&mut self, op: &Operator<'_>) -> Result<()> {
        if !self.reachable {
            return self.op_unreachable(op);
        }
        if self.control_op(op)? || self.exception_op(op)? {
            let call = matches!(
                op,
                Operator::Call { .. } | Operator::CallIndirect { .. } | Operator::CallRef { .. }
            );
            if call && self.reachable {
                // The callee may have grown a memory.
                self.reload_memory_lengths();
            }
            return Ok(());
        }
        if self.variable_op(op)?
            || self.numeric_op(op)?
            || self.memory_op(op)?
            || self.table_op(op)?
            || self.simd_op(op)?
        {
            return Ok(());
        }
        let name = op_name(op);
        if name.contains("Atomic") {
            return unsupported("threads (atomic operations)");
        }
        unsupported(format!("operator {name}"))
    }

    /// Handles an operator in dead code: only nesting matters.
    fn op_unreachable(&mut self, op: &Operator<'_>) -> Result<()> {
        match op {
            Operator::Block { .. }
            | Operator::Loop { .. }
            | Operator::If { .. }
            | Operator::TryTable { .. } => self.unreachable_depth += 1,
            Operator::Else if self.unreachable_depth == 0 => self.op_else(),
            Operator::End if self.unreachable_depth == 0 => self.op_end(),
            Operator::End => self.unreachable_depth -= 1,
            _ => {}
        }
        Ok(())
    }

    /// Calls a runtime builtin through the builtins table in the vmctx.
    fn call_builtin(&mut self, which: BuiltinIndex, args: &[Value]) -> Value {
        let sig = match self.builtins.get(&(which as u32)) {
            Some(s) => *s,
            None => {
                let mut sig = Signature::new(CallConv::SystemV);
                sig.params.push(AbiParam::new(types::I64));
                let (ps, r) = which.signature();
                for p in ps {
                    sig.params.push(AbiParam::new(builtin_type(p)));
                }
                sig.returns.push(AbiParam::new(builtin_type(r)));
                let s = self.b.import_signature(sig);
                self.builtins.insert(which as u32, s);
                s
            }
        };
        let table = self.load_vmctx_ptr(wasmaot_runtime::layout::VMCTX_BUILTINS);
        let f = self.b.ins().load(
            types::I64,
            env::readonly_flags(),
            table,
            (which as u32 * 8) as i32,
        );
        let mut all = vec![self.vmctx];
        all.extend_from_slice(args);
        let call = self.b.ins().call_indirect(sig, f, &all);
        self.b.inst_results(call)[0]
    }
}

fn builtin_type(name: &str) -> Type {
    match name {
        "i32" => types::I32,
        _ => types::I64,
    }
}

/// Short name of an operator for error messages.
pub fn op_name(op: &Operator<'_>) -> String {
    let s = format!("{op:?}");
    s.split([' ', '{', '(']).next().unwrap_or("?").to_string()
}
