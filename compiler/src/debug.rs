//! Inspection of what the compiler makes of one function, for tests and debugging: its
//! Cranelift IR as translated, the IR after optimisation, the machine code listing and its
//! trap sites.

use crate::error::{CompileError, Result};
use crate::{module, target_isa, to_binary, translate, validate, CompileOptions};
use cranelift_codegen::Context;
use cranelift_frontend::FunctionBuilderContext;
use wasmaot_runtime::layout::TrapSite;

/// One compiled function, in every form worth looking at.
#[derive(Clone, Debug)]
pub struct FunctionDump {
    /// The CLIF the translator produced (before any optimisation).
    pub clif: String,
    /// The CLIF after Cranelift's mid-end (GVN, LICM, alias analysis), as lowered.
    pub optimized: String,
    /// The machine-code listing (Cranelift's VCode disassembly, after register allocation).
    pub disasm: String,
    /// Trap sites (function-relative offsets), as written into the module's trap table.
    pub traps: Vec<TrapSite>,
}

/// Translates and compiles function `func_index` (a Wasm function index, counting imports) of
/// a `.wasm`/`.wat` module exactly as [`crate::compile`] would with `opts`.
pub fn dump_function(input: &[u8], func_index: u32, opts: &CompileOptions) -> Result<FunctionDump> {
    let wasm = to_binary(input)?;
    validate(&wasm, opts.features)?;
    let mut env = module::ModuleEnv::parse(&wasm, &opts.name, opts.bounds_checks)?;
    env.frozen = crate::frozen_tables::FrozenTables::analyse(&env, 1);
    let defined = func_index
        .checked_sub(env.num_imported_funcs())
        .filter(|&d| (d as usize) < env.bodies.len())
        .ok_or_else(|| {
            CompileError::Target(format!("function {func_index} is not a defined function"))
        })?;
    let isa = target_isa(opts)?;
    let codegen = translate::CodegenOptions {
        bounds_checks: opts.bounds_checks,
    };
    let mut ctx = Context::new();
    ctx.set_disasm(true);
    translate::translate_function(
        &env,
        &*isa,
        codegen,
        func_index,
        &env.bodies[defined as usize],
        &mut ctx.func,
        &mut FunctionBuilderContext::new(),
    )?;
    let clif = ctx.func.display().to_string();
    let compiled = crate::object::compile_function(&mut ctx, &mut regalloc2::Ctx::default(), &*isa)
        .map_err(|e| CompileError::Codegen(format!("{e:?}")))?;
    let code = &compiled;
    let disasm = code.vcode.clone().unwrap_or_default();
    let traps = crate::object::trap_sites(code);
    let optimized = ctx.func.display().to_string();
    Ok(FunctionDump {
        clif,
        optimized,
        disasm,
        traps,
    })
}

/// The CLIF text of function `func_index` as translated (see [`dump_function`]).
pub fn clif_of(input: &[u8], func_index: u32, opts: &CompileOptions) -> Result<String> {
    dump_function(input, func_index, opts).map(|d| d.clif)
}
