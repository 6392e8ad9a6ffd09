//! Small generated functions that connect Wasm code with the host: array-call trampolines
//! (host → Wasm), import adapters (Wasm → host, and Wasm → native C symbol), the C-callable
//! export wrappers, and the end-of-code marker.

use crate::translate::{ir_type, wasm_signature};
use cranelift_codegen::ir::{
    types, AbiParam, ExtFuncData, ExternalName, Function, InstBuilder, MemFlagsData, Signature,
    StackSlotData, StackSlotKind, Type, UserExternalName, UserFuncName, Value,
};
use cranelift_codegen::isa::{CallConv, TargetIsa};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::FuncId;
use wasmparser::FuncType;

/// Size of one array-call value slot.
const SLOT: i32 = 16;

fn flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// The array-call signature: `(callee_vmctx, caller_vmctx, values, len)`, C ABI.
pub fn array_signature(call_conv: CallConv) -> Signature {
    let mut sig = Signature::new(call_conv);
    for _ in 0..4 {
        sig.params.push(AbiParam::new(types::I64));
    }
    sig
}

/// C signature of a function with Wasm type `ft` called natively: `(instance, params...)`
/// returning the single result, or taking one out-pointer per result when there are several.
/// `None` when a type has no C equivalent (v128).
pub fn native_signature(ft: &FuncType, call_conv: CallConv) -> Option<Signature> {
    if ft
        .params()
        .iter()
        .chain(ft.results())
        .any(|t| matches!(t, wasmparser::ValType::V128))
    {
        return None;
    }
    let mut sig = Signature::new(call_conv);
    sig.params.push(AbiParam::new(types::I64));
    sig.params
        .extend(ft.params().iter().map(|&t| AbiParam::new(ir_type(t))));
    if ft.results().len() == 1 {
        sig.returns.push(AbiParam::new(ir_type(ft.results()[0])));
    } else {
        sig.params
            .extend(ft.results().iter().map(|_| AbiParam::new(types::I64)));
    }
    Some(sig)
}

fn func_name(id: FuncId) -> UserFuncName {
    UserFuncName::User(UserExternalName::new(0, id.as_u32()))
}

fn import_fn(
    b: &mut FunctionBuilder<'_>,
    id: FuncId,
    sig: Signature,
) -> cranelift_codegen::ir::FuncRef {
    let sigref = b.import_signature(sig);
    let name = b
        .func
        .declare_imported_user_function(UserExternalName::new(0, id.as_u32()));
    b.import_function(ExtFuncData {
        name: ExternalName::user(name),
        signature: sigref,
        colocated: true,
        patchable: false,
    })
}

/// A stack slot big enough for `n` array-call values.
fn values_slot(b: &mut FunctionBuilder<'_>, n: usize) -> Value {
    let ss = b.create_sized_stack_slot(StackSlotData::new(
        StackSlotKind::ExplicitSlot,
        (n.max(1) as u32) * SLOT as u32,
        4,
    ));
    b.ins().stack_addr(types::I64, ss, 0)
}

fn store_values(b: &mut FunctionBuilder<'_>, base: Value, vals: &[Value]) {
    for (i, &v) in vals.iter().enumerate() {
        b.ins().store(flags(), v, base, i as i32 * SLOT);
    }
}

fn load_values(b: &mut FunctionBuilder<'_>, base: Value, tys: &[Type]) -> Vec<Value> {
    tys.iter()
        .enumerate()
        .map(|(i, &t)| b.ins().load(t, flags(), base, i as i32 * SLOT))
        .collect()
}

fn types_of(ts: &[wasmparser::ValType]) -> Vec<Type> {
    ts.iter().map(|&t| ir_type(t)).collect()
}

/// Builds `f` with a fresh builder positioned in an entry block holding the params.
fn build(
    func: &mut Function,
    fctx: &mut FunctionBuilderContext,
    isa: &dyn TargetIsa,
    body: impl FnOnce(&mut FunctionBuilder<'_>, &[Value]),
) {
    let mut b = FunctionBuilder::new(func, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let params = b.block_params(entry).to_vec();
    body(&mut b, &params);
    b.finalize(isa.frontend_config());
}

/// Host → Wasm: `tramp(callee_vmctx, caller_vmctx, values, len)` calls `body(callee_vmctx,
/// params...)`; the caller's context is not needed by Wasm code.
pub fn array_trampoline(
    isa: &dyn TargetIsa,
    fctx: &mut FunctionBuilderContext,
    id: FuncId,
    ft: &FuncType,
    body: FuncId,
) -> Function {
    let mut func =
        Function::with_name_signature(func_name(id), array_signature(isa.default_call_conv()));
    build(&mut func, fctx, isa, |b, p| {
        let callee = import_fn(b, body, wasm_signature(ft, CallConv::Tail));
        let args = load_values(b, p[2], &types_of(ft.params()));
        let mut all = vec![p[0]];
        all.extend(args);
        let call = b.ins().call(callee, &all);
        let results = b.inst_results(call).to_vec();
        store_values(b, p[2], &results);
        b.ins().return_(&[]);
    });
    func
}

/// Wasm → host: `adapter(host_ctx, params...)` spills the params and calls the
/// array-convention function pointer stored first in `host_ctx` as
/// `f(host_ctx, null, values, len)`. An imported host function's `host_ctx` is the runtime's
/// binding of that function to the importing instance, which supplies the caller itself.
pub fn host_adapter(
    isa: &dyn TargetIsa,
    fctx: &mut FunctionBuilderContext,
    id: FuncId,
    ft: &FuncType,
) -> Function {
    let mut func = Function::with_name_signature(func_name(id), wasm_signature(ft, CallConv::Tail));
    build(&mut func, fctx, isa, |b, p| {
        let n = ft.params().len().max(ft.results().len());
        let values = values_slot(b, n);
        store_values(b, values, &p[1..]);
        let sig = b.import_signature(array_signature(isa.default_call_conv()));
        let target = b.ins().load(types::I64, flags(), p[0], 0);
        let len = b.ins().iconst(types::I64, n as i64);
        let no_caller = b.ins().iconst(types::I64, 0);
        b.ins()
            .call_indirect(sig, target, &[p[0], no_caller, values, len]);
        let results = load_values(b, values, &types_of(ft.results()));
        b.ins().return_(&results);
    });
    func
}

/// Wasm → native C symbol: `adapter(vmctx, params...)`, where `vmctx` is the importing
/// instance's (the runtime puts it in the import's slot), calls `symbol(vmctx, params...)` with
/// the C convention.
pub fn native_adapter(
    isa: &dyn TargetIsa,
    fctx: &mut FunctionBuilderContext,
    id: FuncId,
    ft: &FuncType,
    symbol: FuncId,
    csig: Signature,
) -> Function {
    let mut func = Function::with_name_signature(func_name(id), wasm_signature(ft, CallConv::Tail));
    build(&mut func, fctx, isa, |b, p| {
        let target = import_fn(b, symbol, csig);
        let mut args = p.to_vec();
        let rtys = types_of(ft.results());
        if rtys.len() == 1 {
            let call = b.ins().call(target, &args);
            let r = b.inst_results(call).to_vec();
            b.ins().return_(&r);
        } else {
            let values = values_slot(b, rtys.len());
            for i in 0..rtys.len() {
                let ptr = b.ins().iadd_imm_s(values, i as i64 * SLOT as i64);
                args.push(ptr);
            }
            b.ins().call(target, &args);
            let results = load_values(b, values, &rtys);
            b.ins().return_(&results);
        }
    });
    func
}

/// C-callable export: `sym(instance, params...)` calls the funcref at `vmctx + funcref_offset`
/// through `wasmaot_invoke(vmctx, funcref, values, len)`, which catches traps (the caller
/// reads them with `wasmaot_last_trap`).
pub fn export_wrapper(
    isa: &dyn TargetIsa,
    fctx: &mut FunctionBuilderContext,
    id: FuncId,
    ft: &FuncType,
    funcref_offset: u32,
    invoke: FuncId,
    csig: Signature,
) -> Function {
    let mut func = Function::with_name_signature(func_name(id), csig);
    build(&mut func, fctx, isa, |b, p| {
        let np = ft.params().len();
        let rtys = types_of(ft.results());
        let n = np.max(rtys.len());
        let values = values_slot(b, n);
        store_values(b, values, &p[1..1 + np]);
        let mut isig = Signature::new(isa.default_call_conv());
        for _ in 0..4 {
            isig.params.push(AbiParam::new(types::I64));
        }
        isig.returns.push(AbiParam::new(types::I32));
        let invoke = import_fn(b, invoke, isig);
        let fref = b.ins().iadd_imm_s(p[0], i64::from(funcref_offset));
        let len = b.ins().iconst(types::I64, n as i64);
        b.ins().call(invoke, &[p[0], fref, values, len]);
        let results = load_values(b, values, &rtys);
        if rtys.len() == 1 {
            b.ins().return_(&results);
        } else {
            for (i, r) in results.iter().enumerate() {
                b.ins().store(flags(), *r, p[1 + np + i], 0);
            }
            b.ins().return_(&[]);
        }
    });
    func
}

/// A one-instruction function placed after all code, marking its end.
pub fn code_end_marker(
    isa: &dyn TargetIsa,
    fctx: &mut FunctionBuilderContext,
    id: FuncId,
) -> Function {
    let mut func =
        Function::with_name_signature(func_name(id), Signature::new(isa.default_call_conv()));
    build(&mut func, fctx, isa, |b, _| {
        b.ins().trap(cranelift_codegen::ir::TrapCode::unwrap_user(
            wasmaot_runtime::layout::TrapKind::Unreachable as u8,
        ));
    });
    func
}
