//! Object emission: compiles every function (in parallel), generates trampolines, adapters and
//! export wrappers, writes the module descriptor, and emits a relocatable object.
//!
//! Output is byte-identical whatever the thread count: bodies are compiled independently and
//! defined serially in function-index order.

use crate::error::{CompileError, Result};
use crate::frozen_tables::{self, FrozenTable};
use crate::module::ModuleEnv;
use crate::symbols::{self, Namer};
use crate::trampolines;
use crate::translate::{self, wasm_signature, CodegenOptions};
use crate::{
    hoist_remat, loop_entry_copies, loop_steps, small_multiplies, threaded_dispatch, widen_params,
};
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::Function;
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa, TargetIsa};
use cranelift_codegen::settings::OptLevel;
use cranelift_codegen::{CodegenError, CompiledCode, Context};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_module::{DataDescription, DataId, FuncId, Linkage, Module, ModuleReloc};
use cranelift_object::{ObjectBuilder, ObjectModule};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use wasmaot_runtime::layout::{
    Handler, HandlerSite, ModuleInfo, TrapSite, ABI_VERSION, DESCRIPTOR_MAGIC,
};

/// A compiled function body, ready to be placed in the object.
struct CompiledBody {
    bytes: Vec<u8>,
    /// The alignment its code requires (its constant pool's, at least).
    alignment: u64,
    relocs: Vec<ModuleReloc>,
    traps: Vec<TrapSite>,
    handlers: Vec<HandlerSite>,
}

/// The result of compiling a module.
pub struct CompiledModule {
    /// The relocatable object file.
    pub object: Vec<u8>,
    /// The module description embedded in it.
    pub info: ModuleInfo,
}

fn codegen_err(e: impl std::fmt::Display) -> CompileError {
    CompileError::Codegen(e.to_string())
}

/// Compiles every defined function body on `threads` threads.
fn compile_bodies(
    env: &ModuleEnv<'_>,
    isa: &dyn TargetIsa,
    opts: CodegenOptions,
    threads: usize,
) -> Result<Vec<CompiledBody>> {
    let n = env.bodies.len();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<CompiledBody>>>> =
        Mutex::new((0..n).map(|_| None).collect());
    let nimp = env.num_imported_funcs();
    let work = || {
        let mut ctx = Context::new();
        let mut ra = regalloc2::Ctx::default();
        let mut fctx = FunctionBuilderContext::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= n {
                break;
            }
            let cx = (&mut ctx, &mut ra, &mut fctx);
            let r = compile_one(env, isa, opts, nimp + i as u32, i, cx);
            results.lock().unwrap()[i] = Some(r);
            ctx.clear();
            // Cranelift 0.135's `DataFlowGraph::clear` keeps the exception tables, so a reused
            // context would accumulate every earlier function's (quadratic compile time).
            ctx.func.dfg.exception_tables.clear();
        }
    };
    let threads = threads.clamp(1, n.max(1));
    if threads == 1 {
        work();
    } else {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(work);
            }
        });
    }
    results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.expect("every body compiled"))
        .collect()
}

/// Compiles the translated `ctx.func` as `Context::compile` would, with
/// [`threaded_dispatch::thread`] before Cranelift's mid-end (it changes the control flow, so
/// the mid-end's analyses see the result) and [`hoist_remat::hoist`],
/// [`widen_params::widen`], [`small_multiplies::rewrite`], [`loop_steps::rewrite`] and
/// [`loop_entry_copies::insert`] between the mid-end and lowering. `Context::compile` runs
/// both in one call, so this runs the mid-end (`Context::optimize`), our passes, and lowers
/// with `TargetIsa::compile_function` and its own register-allocator context `ra`. The
/// mid-end leaves the dominator tree valid, and none of the later passes changes the control
/// flow.
pub(crate) fn compile_function(
    ctx: &mut Context,
    ra: &mut regalloc2::Ctx,
    isa: &dyn TargetIsa,
) -> std::result::Result<CompiledCode, CodegenError> {
    let mut plane = ControlPlane::default();
    if isa.flags().opt_level() != OptLevel::None {
        threaded_dispatch::thread(&mut ctx.func);
    }
    ctx.optimize(isa, &mut plane)?;
    if isa.flags().opt_level() != OptLevel::None {
        ctx.compute_loop_analysis();
        let hoisted = hoist_remat::hoist(&mut ctx.func, &ctx.domtree, &ctx.loop_analysis);
        let widened = widen_params::widen(&mut ctx.func, &ctx.loop_analysis);
        let multiplies = small_multiplies::rewrite(&mut ctx.func);
        let compares = loop_steps::rewrite(&mut ctx.func);
        let copies = loop_entry_copies::insert(&mut ctx.func, &ctx.loop_analysis);
        if hoisted + widened + multiplies + compares + copies > 0 {
            ctx.func.dfg.resolve_all_aliases();
            // With `enable_verifier` (debug builds), the edited function is checked too.
            ctx.verify_if(isa)?;
        }
    }
    let stencil = isa.compile_function(&ctx.func, &ctx.domtree, ra, ctx.want_disasm, &mut plane)?;
    Ok(stencil.apply_params(&ctx.func.params))
}

/// Translates, optimises and lowers one body, reusing a worker's contexts.
fn compile_one(
    env: &ModuleEnv<'_>,
    isa: &dyn TargetIsa,
    opts: CodegenOptions,
    func_index: u32,
    defined: usize,
    (ctx, ra, fctx): (
        &mut Context,
        &mut regalloc2::Ctx,
        &mut FunctionBuilderContext,
    ),
) -> Result<CompiledBody> {
    if let Err(e) = translate::translate_function(
        env,
        isa,
        opts,
        func_index,
        &env.bodies[defined],
        &mut ctx.func,
        fctx,
    ) {
        // The builder stopped half-way: start the next function from a clean context.
        *fctx = FunctionBuilderContext::new();
        return Err(e);
    }
    let compiled = compile_function(ctx, ra, isa)
        .map_err(|e| CompileError::Codegen(format!("function {func_index}: {e:?}")))?;
    let code = &compiled;
    let traps = trap_sites(code);
    let handlers = handler_sites(code)
        .map_err(|m| CompileError::Codegen(format!("function {func_index}: {m}")))?;
    let bytes = code.code_buffer().to_vec();
    let alignment =
        u64::from(code.buffer.alignment).max(u64::from(isa.function_alignment().minimum));
    let relocs = code
        .buffer
        .relocs()
        .iter()
        .map(|r| ModuleReloc::from_mach_reloc(r, &ctx.func, FuncId::from_u32(defined as u32)))
        .collect();
    Ok(CompiledBody {
        bytes,
        alignment,
        relocs,
        traps,
        handlers,
    })
}

/// The calls with exception handlers of a compiled function, as the runtime's unwinder reads
/// them.
fn handler_sites(
    code: &cranelift_codegen::CompiledCode,
) -> std::result::Result<Vec<HandlerSite>, String> {
    use cranelift_codegen::{ExceptionContextLoc, FinalizedMachExceptionHandler as H};
    let mut out = Vec::new();
    for site in code.buffer.call_sites() {
        if site.exception_handlers.is_empty() {
            continue;
        }
        let frame_offset = site
            .frame_offset
            .ok_or("call with exception handlers but no frame offset")?;
        let handlers = site
            .exception_handlers
            .iter()
            .map(|h| match *h {
                H::Tag(tag, target) => Ok(Handler::Tag {
                    tag: tag.as_u32(),
                    target,
                }),
                H::Default(target) => Ok(Handler::All { target }),
                H::Context(ExceptionContextLoc::SPOffset(off)) => Ok(Handler::Context(off)),
                H::Context(ExceptionContextLoc::GPR(_)) => {
                    Err("exception context left in a register".to_string())
                }
            })
            .collect::<std::result::Result<_, String>>()?;
        out.push(HandlerSite {
            ret_offset: site.ret_addr,
            frame_offset,
            handlers,
        });
    }
    Ok(out)
}

/// The trap sites of a compiled function, as the runtime's trap table stores them.
pub(crate) fn trap_sites(code: &cranelift_codegen::CompiledCode) -> Vec<TrapSite> {
    code.buffer
        .traps()
        .iter()
        .map(|t| TrapSite {
            offset: t.offset,
            kind: translate::trap_kind(t.code),
        })
        .collect()
}

/// Defines a small generated function.
fn define(module: &mut ObjectModule, ctx: &mut Context, id: FuncId, func: Function) -> Result<()> {
    ctx.clear();
    ctx.func = func;
    module
        .define_function(id, ctx)
        .map_err(|e| codegen_err(format!("{e:?}")))
}

/// Compiles a parsed module into an object.
pub fn emit(
    mut env: ModuleEnv<'_>,
    isa: OwnedTargetIsa,
    opts: CodegenOptions,
    threads: usize,
    code_shift: u32,
) -> Result<CompiledModule> {
    let name = env.info.name.clone();
    let nimp = env.num_imported_funcs() as usize;
    let ndef = env.bodies.len();
    let call_conv = isa.default_call_conv();
    let mut module = ObjectModule::new(
        ObjectBuilder::new(
            isa.clone(),
            name.as_bytes().to_vec(),
            cranelift_module::default_libcall_names(),
        )
        .map_err(codegen_err)?,
    );

    let mut namer = Namer::default();
    let export_funcs: Vec<(String, u32)> = env
        .info
        .exports
        .iter()
        .filter_map(|e| match e.kind {
            wasmaot_runtime::layout::ExportKind::Func(f) => Some((e.name.clone(), f)),
            _ => None,
        })
        .collect();
    namer.reserve(&symbols::descriptor_symbol(&name));
    namer.reserve("wasmaot_invoke");
    for (e, _) in &export_funcs {
        namer.reserve(&symbols::export_symbol(&name, e));
    }

    // Bodies first, so that FuncId(k) is defined function k (the translator relies on it).
    let mut body_ids = Vec::with_capacity(ndef);
    for k in 0..ndef {
        let f = (nimp + k) as u32;
        let sym = namer.unique(&env.info.func_names[k]);
        let sig = wasm_signature(env.func_wasm_type(f), CallConv::Tail);
        let id = module
            .declare_function(&sym, Linkage::Local, &sig)
            .map_err(codegen_err)?;
        debug_assert_eq!(id.as_u32() as usize, k);
        body_ids.push(id);
    }
    // Dispatch arrays of frozen tables next, so that DataId(k) is array k (the translator
    // refers to them by that index).
    for (t, frozen) in env.frozen.tables.iter().enumerate() {
        let Some(frozen) = frozen else { continue };
        let id = define_dispatch_array(&mut module, &mut namer, &env, t, frozen, &body_ids)?;
        debug_assert_eq!(id.as_u32(), frozen.array);
    }

    let t0 = std::time::Instant::now();
    let mut bodies = compile_bodies(&env, &*isa, opts, threads)?;
    if std::env::var_os("WASMAOT_TIMINGS").is_some() {
        eprintln!(
            "timing: {} bodies on {threads} threads {:?}",
            ndef,
            t0.elapsed()
        );
    }
    let mut ctx = Context::new();
    let mut fctx = FunctionBuilderContext::new();
    env.info.func_sizes = bodies.iter().map(|b| b.bytes.len() as u32).collect();
    define_bodies(
        &mut module,
        &mut namer,
        &*isa,
        &mut bodies,
        &body_ids,
        code_shift,
    )?;
    env.info.func_handlers = bodies
        .iter_mut()
        .map(|b| std::mem::take(&mut b.handlers))
        .collect();
    env.info.func_traps = bodies.into_iter().map(|b| b.traps).collect();

    // Array-call trampolines for escaping functions.
    let mut tramp_ids = vec![None; ndef];
    for &f in &env.info.escaping {
        let k = f as usize - nimp;
        let sym = namer.unique(&format!("{}.array", env.info.func_names[k]));
        let id = module
            .declare_function(
                &sym,
                Linkage::Local,
                &trampolines::array_signature(call_conv),
            )
            .map_err(codegen_err)?;
        let func =
            trampolines::array_trampoline(&*isa, &mut fctx, id, env.func_wasm_type(f), body_ids[k]);
        define(&mut module, &mut ctx, id, func)?;
        tramp_ids[k] = Some(id);
    }

    // Import adapters and weak native symbols.
    let mut import_entries = Vec::new();
    let mut weak_natives = Vec::new();
    let func_imports: Vec<(String, String, u32)> = env
        .info
        .imports
        .iter()
        .filter_map(|i| match i.ty {
            wasmaot_runtime::layout::ExternType::Func(t) => {
                Some((i.module.clone(), i.name.clone(), t))
            }
            _ => None,
        })
        .collect();
    for (i, (imod, iname, t)) in func_imports.iter().enumerate() {
        let ft = env.types[*t as usize].clone();
        let sig = wasm_signature(&ft, CallConv::Tail);
        let sym = namer.unique(&format!("import{i}.host"));
        let host = module
            .declare_function(&sym, Linkage::Local, &sig)
            .map_err(codegen_err)?;
        let func = trampolines::host_adapter(&*isa, &mut fctx, host, &ft);
        define(&mut module, &mut ctx, host, func)?;
        let nsym = symbols::native_import_symbol(&name, imod, iname);
        // The same name imported twice (possibly at different types) binds natively once.
        let native = match trampolines::native_signature(&ft, call_conv) {
            Some(csig) if namer.try_reserve(&nsym) => {
                let native_fn = module
                    .declare_function(&nsym, Linkage::Import, &csig)
                    .map_err(codegen_err)?;
                weak_natives.push(native_fn);
                let asym = namer.unique(&format!("import{i}.native"));
                let adapter = module
                    .declare_function(&asym, Linkage::Local, &sig)
                    .map_err(codegen_err)?;
                let func =
                    trampolines::native_adapter(&*isa, &mut fctx, adapter, &ft, native_fn, csig);
                define(&mut module, &mut ctx, adapter, func)?;
                Some((native_fn, adapter))
            }
            _ => None,
        };
        import_entries.push((host, native));
    }

    // C-callable export wrappers.
    let mut isig = cranelift_codegen::ir::Signature::new(call_conv);
    for _ in 0..4 {
        isig.params.push(cranelift_codegen::ir::AbiParam::new(
            cranelift_codegen::ir::types::I64,
        ));
    }
    isig.returns.push(cranelift_codegen::ir::AbiParam::new(
        cranelift_codegen::ir::types::I32,
    ));
    let invoke = module
        .declare_function("wasmaot_invoke", Linkage::Import, &isig)
        .map_err(codegen_err)?;
    for (ename, f) in &export_funcs {
        let ft = env.func_wasm_type(*f).clone();
        let Some(csig) = trampolines::native_signature(&ft, call_conv) else {
            continue;
        };
        let offset = if (*f as usize) < nimp {
            env.offsets.imported_func(*f)
        } else {
            env.offsets
                .escaping_func(env.escaping_slot[*f as usize].expect("exports escape"))
        };
        let sym = symbols::export_symbol(&name, ename);
        let id = module
            .declare_function(&sym, Linkage::Export, &csig)
            .map_err(codegen_err)?;
        let func = trampolines::export_wrapper(&*isa, &mut fctx, id, &ft, offset, invoke, csig);
        define(&mut module, &mut ctx, id, func)?;
    }

    // End-of-code marker.
    let end_sym = namer.unique("wasmaot.code_end");
    let end_id = module
        .declare_function(
            &end_sym,
            Linkage::Local,
            &cranelift_codegen::ir::Signature::new(call_conv),
        )
        .map_err(codegen_err)?;
    let func = trampolines::code_end_marker(&*isa, &mut fctx, end_id);
    define(&mut module, &mut ctx, end_id, func)?;

    // Data: info blob, function table, import table, descriptor.
    let info_bytes = env.info.encode();
    let info_id = define_data(
        &mut module,
        &namer.unique("wasmaot.info"),
        info_bytes.clone(),
        8,
        |_, _| {},
    )?;
    let funcs_id = define_data(
        &mut module,
        &namer.unique("wasmaot.funcs"),
        vec![0; 16 * ndef.max(1)],
        8,
        |m, d| {
            for k in 0..ndef {
                let body = m.declare_func_in_data(body_ids[k], d);
                d.write_function_addr((16 * k) as u32, body);
                if let Some(t) = tramp_ids[k] {
                    let t = m.declare_func_in_data(t, d);
                    d.write_function_addr((16 * k + 8) as u32, t);
                }
            }
        },
    )?;
    let imports_id = define_data(
        &mut module,
        &namer.unique("wasmaot.imports"),
        vec![0; 24 * import_entries.len().max(1)],
        8,
        |m, d| {
            for (i, (host, native)) in import_entries.iter().enumerate() {
                let h = m.declare_func_in_data(*host, d);
                d.write_function_addr((24 * i) as u32, h);
                if let Some((sym, adapter)) = native {
                    let s = m.declare_func_in_data(*sym, d);
                    d.write_function_addr((24 * i + 8) as u32, s);
                    let a = m.declare_func_in_data(*adapter, d);
                    d.write_function_addr((24 * i + 16) as u32, a);
                }
            }
        },
    )?;
    let mut desc = vec![0u8; 64];
    desc[0..8].copy_from_slice(&DESCRIPTOR_MAGIC);
    desc[8..12].copy_from_slice(&ABI_VERSION.to_le_bytes());
    desc[12..16].copy_from_slice(&(ndef as u32).to_le_bytes());
    desc[24..32].copy_from_slice(&(info_bytes.len() as u64).to_le_bytes());
    let first_code = body_ids
        .first()
        .copied()
        .or(tramp_ids.iter().flatten().next().copied());
    let desc_id = module
        .declare_data(
            &symbols::descriptor_symbol(&name),
            Linkage::Export,
            false,
            false,
        )
        .map_err(codegen_err)?;
    let mut d = DataDescription::new();
    d.define(desc.into_boxed_slice());
    d.set_align(8);
    let gv = module.declare_data_in_data(info_id, &mut d);
    d.write_data_addr(16, gv, 0);
    let gv = module.declare_data_in_data(funcs_id, &mut d);
    d.write_data_addr(32, gv, 0);
    let gv = module.declare_data_in_data(imports_id, &mut d);
    d.write_data_addr(40, gv, 0);
    let start = module.declare_func_in_data(first_code.unwrap_or(end_id), &mut d);
    d.write_function_addr(48, start);
    let end = module.declare_func_in_data(end_id, &mut d);
    d.write_function_addr(56, end);
    module.define_data(desc_id, &d).map_err(codegen_err)?;

    if std::env::var_os("WASMAOT_TIMINGS").is_some() {
        eprintln!("timing: through data {:?}", t0.elapsed());
    }
    let mut product = module.finish();
    for id in weak_natives {
        let sym = product.function_symbol(id);
        product.object.symbol_mut(sym).weak = true;
    }
    let object = product.emit().map_err(codegen_err)?;
    Ok(CompiledModule {
        object,
        info: env.info,
    })
}

/// The cache-line size that code placement is pinned to.
const LINE: u64 = 64;

/// Defines the bodies at the start of `.text`, each aligned as the target prefers (32 bytes on
/// x86-64), not just as required.
///
/// The code starts on a 64-byte line, which aligns the section: where each function falls
/// within cache lines then depends on this object alone, not on what the program links before
/// it. With `shift` (a multiple of 16), a padding symbol of that many bytes comes first and
/// each body lands `shift` bytes after where it would have been, so that a benchmark can
/// measure how much a program's speed depends on code placement (benches/FINDINGS.md,
/// finding 30). The gap after each body is written out with it, so the layout is this
/// function's, whatever the shift.
fn define_bodies(
    module: &mut ObjectModule,
    namer: &mut Namer,
    isa: &dyn TargetIsa,
    bodies: &mut [CompiledBody],
    body_ids: &[FuncId],
    shift: u32,
) -> Result<()> {
    let preferred = u64::from(isa.function_alignment().preferred);
    let shift = u64::from(shift);
    let mut first_align = LINE;
    if shift > 0 {
        let id = module
            .declare_function(
                &namer.unique("wasmaot.code_shift"),
                Linkage::Local,
                &cranelift_codegen::ir::Signature::new(isa.default_call_conv()),
            )
            .map_err(codegen_err)?;
        let fill = match isa.triple().architecture {
            target_lexicon::Architecture::X86_64 => 0xcc, // int3
            _ => 0,
        };
        module
            .define_function_bytes(id, LINE, &vec![fill; shift as usize], &[])
            .map_err(codegen_err)?;
        first_align = 1;
    }
    let mut end = 0u64;
    let starts: Vec<u64> = bodies
        .iter()
        .map(|b| {
            let start = end.next_multiple_of(b.alignment.max(preferred));
            end = start + b.bytes.len() as u64;
            start
        })
        .collect();
    for (k, body) in bodies.iter_mut().enumerate() {
        if !(shift + starts[k]).is_multiple_of(body.alignment) {
            return Err(CompileError::Target(format!(
                "code shift {shift} breaks the {}-byte alignment of function {k}",
                body.alignment
            )));
        }
        let next = starts.get(k + 1).copied();
        let gap = next.map_or(0, |n| n - starts[k] - body.bytes.len() as u64);
        body.bytes.resize(body.bytes.len() + gap as usize, 0);
        let alignment = if k == 0 { first_align } else { 1 };
        module
            .define_function_bytes(
                body_ids[k],
                alignment.max(body.alignment),
                &body.bytes,
                &body.relocs,
            )
            .map_err(codegen_err)?;
    }
    Ok(())
}

/// Writes a frozen table's dispatch array: per slot the body's address and its type class
/// (both zero for a null slot), `frozen_tables::ENTRY_SIZE` bytes each.
fn define_dispatch_array(
    module: &mut ObjectModule,
    namer: &mut Namer,
    env: &ModuleEnv<'_>,
    table: usize,
    frozen: &FrozenTable,
    body_ids: &[FuncId],
) -> Result<DataId> {
    let nimp = env.num_imported_funcs();
    let size = frozen_tables::ENTRY_SIZE as usize;
    let mut bytes = vec![0u8; size * frozen.slots.len().max(1)];
    for (i, f) in frozen.slots.iter().enumerate() {
        if let Some(f) = f {
            let class = env.frozen.type_class[env.info.funcs[*f as usize] as usize];
            let at = size * i + frozen_tables::ENTRY_CLASS as usize;
            bytes[at..at + 4].copy_from_slice(&class.to_le_bytes());
        }
    }
    define_data(
        module,
        &namer.unique(&format!("wasmaot.table{table}.dispatch")),
        bytes,
        16,
        |m, d| {
            for (i, f) in frozen.slots.iter().enumerate() {
                if let Some(f) = f {
                    let body = m.declare_func_in_data(body_ids[(*f - nimp) as usize], d);
                    d.write_function_addr((size * i) as u32, body);
                }
            }
        },
    )
}

/// Declares and defines a local data object, letting `relocs` add relocations.
fn define_data(
    module: &mut ObjectModule,
    name: &str,
    bytes: Vec<u8>,
    align: u64,
    relocs: impl FnOnce(&mut ObjectModule, &mut DataDescription),
) -> Result<DataId> {
    let id = module
        .declare_data(name, Linkage::Local, false, false)
        .map_err(codegen_err)?;
    let mut d = DataDescription::new();
    d.define(bytes.into_boxed_slice());
    d.set_align(align);
    relocs(module, &mut d);
    module.define_data(id, &d).map_err(codegen_err)?;
    Ok(id)
}
