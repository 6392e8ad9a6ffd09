//! wasmaot: an ahead-of-time compiler from WebAssembly to relocatable native objects, on
//! Cranelift. [`compile`] turns a `.wasm` (or `.wat`) module into an ELF object that links
//! with the `wasmaot-runtime` library; the layout contract lives in
//! [`wasmaot_runtime::layout`] and `docs/ABI.md`.

mod branch_sites;
pub mod debug;
pub mod error;
pub mod frozen_tables;
pub mod header;
pub mod hoist_remat;
pub mod loop_entry_copies;
pub mod loop_steps;
pub mod module;
pub mod object;
pub mod small_multiplies;
mod ssa_repair;
pub mod symbols;
pub mod threaded_dispatch;
pub mod trampolines;
pub mod translate;
pub mod wast;
pub mod widen_params;

pub use error::{CompileError, Result};
pub use object::CompiledModule;
pub use wasmaot_runtime as runtime;
pub use wasmaot_runtime::layout::BoundsChecks;

use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use std::str::FromStr;
use wasmparser::WasmFeatures;

/// Settings of one compilation.
#[derive(Clone, Debug)]
pub struct CompileOptions {
    /// Module name: prefix of every global symbol (a C identifier).
    pub name: String,
    /// Target triple; `None` is the host.
    pub target: Option<String>,
    /// Optimisation level 0, 1 or 2.
    pub opt_level: u8,
    /// Bounds-checking strategy for 32-bit memories.
    pub bounds_checks: BoundsChecks,
    /// Worker threads for function compilation; 0 means all cores.
    pub threads: usize,
    /// Wasm features accepted by the validator.
    pub features: WasmFeatures,
    /// Which CPU features the generated code may use.
    pub cpu: Cpu,
    /// Bytes of padding before the first function (a multiple of 16, at most 4096). Code
    /// normally starts on a 64-byte line; this moves all of it, to measure how much a
    /// program's speed depends on where its code falls (benches/FINDINGS.md, finding 30).
    pub code_shift: u32,
}

/// The CPU the generated code targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cpu {
    /// Portable: x86-64 with SSE4.1/SSE4.2/POPCNT (x86-64-v2), plain AArch64.
    Baseline,
    /// x86-64-v3 (AVX2, BMI1/BMI2, FMA, LZCNT; like `-march=x86-64-v3`): Haswell-class and
    /// later CPUs, for objects that ship to such machines; x86-64 targets only.
    X86_64V3,
    /// Everything this machine has (like `-march=native`); only for the host target.
    Native,
}

/// Every feature the compiler implements (anything else is rejected by validation or with
/// an "unsupported" error).
pub fn supported_features() -> WasmFeatures {
    WasmFeatures::WASM2
        | WasmFeatures::TAIL_CALL
        | WasmFeatures::EXTENDED_CONST
        | WasmFeatures::MULTI_MEMORY
        | WasmFeatures::MEMORY64
        | WasmFeatures::EXCEPTIONS
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            name: "module".into(),
            target: None,
            opt_level: 2,
            bounds_checks: BoundsChecks::Guard,
            threads: 0,
            features: supported_features(),
            cpu: Cpu::Baseline,
            code_shift: 0,
        }
    }
}

/// Returns the module's binary form: `.wat` text (detected by content) is assembled.
pub fn to_binary(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>> {
    if bytes.starts_with(b"\0asm") {
        return Ok(bytes.into());
    }
    wat::parse_bytes(bytes).map_err(|e| CompileError::Wat(e.to_string().replace('\n', " ")))
}

/// Validates a binary module against the given features.
pub fn validate(wasm: &[u8], features: WasmFeatures) -> Result<()> {
    wasmparser::Validator::new_with_features(features).validate_all(wasm)?;
    Ok(())
}

/// Builds the Cranelift target for the options.
pub fn target_isa(opts: &CompileOptions) -> Result<OwnedTargetIsa> {
    let terr = |e: &dyn std::fmt::Display| CompileError::Target(e.to_string());
    let mut flags = settings::builder();
    let level = match opts.opt_level {
        0 => "none",
        1 => "speed",
        _ => "speed",
    };
    for (k, v) in [
        ("opt_level", level),
        ("enable_probestack", "true"),
        ("probestack_strategy", "inline"),
        ("is_pic", "false"),
        ("use_colocated_libcalls", "true"),
        ("enable_multi_ret_implicit_sret", "true"),
        ("preserve_frame_pointers", "true"),
        (
            "enable_verifier",
            if cfg!(debug_assertions) {
                "true"
            } else {
                "false"
            },
        ),
    ] {
        flags.set(k, v).map_err(|e| terr(&e))?;
    }
    let triple = match &opts.target {
        Some(t) => target_lexicon::Triple::from_str(t).map_err(|e| terr(&e))?,
        None => target_lexicon::Triple::host(),
    };
    let isa = if opts.cpu == Cpu::Native {
        if triple != target_lexicon::Triple::host() {
            return Err(CompileError::Target(
                "--cpu native only applies to the host target".into(),
            ));
        }
        cranelift_native::builder().map_err(|e| terr(&e))?
    } else {
        let mut isa = cranelift_codegen::isa::lookup(triple.clone()).map_err(|e| terr(&e))?;
        if triple.architecture == target_lexicon::Architecture::X86_64 {
            // SSE4.1 makes ceil/floor/trunc/nearest single instructions (no libcalls).
            for f in [
                "has_sse3",
                "has_ssse3",
                "has_sse41",
                "has_sse42",
                "has_popcnt",
            ] {
                isa.enable(f).map_err(|e| terr(&e))?;
            }
            if opts.cpu == Cpu::X86_64V3 {
                // Cranelift's preset, plus AVX itself (the VEX encodings AVX2 code uses).
                for f in ["x86-64-v3", "has_avx"] {
                    isa.enable(f).map_err(|e| terr(&e))?;
                }
            }
        } else if opts.cpu == Cpu::X86_64V3 {
            return Err(CompileError::Target(format!(
                "--cpu x86-64-v3 only applies to x86-64 targets, not {triple}"
            )));
        }
        isa
    };
    isa.finish(settings::Flags::new(flags))
        .map_err(|e| terr(&e))
}

/// The target architecture name and the enabled CPU feature flags of an ISA, as recorded in
/// the module info for the runtime's start-up check.
fn cpu_requirements(isa: &dyn cranelift_codegen::isa::TargetIsa) -> (String, Vec<String>) {
    let arch = match isa.triple().architecture {
        target_lexicon::Architecture::X86_64 => "x86_64".to_string(),
        target_lexicon::Architecture::Aarch64(_) => "aarch64".to_string(),
        other => other.to_string(),
    };
    let features = isa
        .isa_flags()
        .iter()
        .filter(|v| v.as_bool() == Some(true))
        .filter_map(|v| v.name.strip_prefix("has_").map(str::to_string))
        .collect();
    (arch, features)
}

/// Compiles a `.wasm` or `.wat` module into a relocatable object.
pub fn compile(input: &[u8], opts: &CompileOptions) -> Result<CompiledModule> {
    if !symbols::is_c_identifier(&opts.name) {
        return Err(CompileError::Target(format!(
            "module name `{}` is not a C identifier",
            opts.name
        )));
    }
    if !opts.code_shift.is_multiple_of(16) || opts.code_shift > 4096 {
        return Err(CompileError::Target(format!(
            "code shift {} is not a multiple of 16 between 0 and 4096",
            opts.code_shift
        )));
    }
    let t0 = std::time::Instant::now();
    let wasm = to_binary(input)?;
    validate(&wasm, opts.features)?;
    let t1 = std::time::Instant::now();
    let mut env = module::ModuleEnv::parse(&wasm, &opts.name, opts.bounds_checks)?;
    if std::env::var_os("WASMAOT_TIMINGS").is_some() {
        eprintln!("timing: validate {:?}, parse {:?}", t1 - t0, t1.elapsed());
    }
    let isa = target_isa(opts)?;
    (env.info.target_arch, env.info.cpu_features) = cpu_requirements(&*isa);
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        opts.threads
    };
    let t2 = std::time::Instant::now();
    env.frozen = frozen_tables::FrozenTables::analyse(&env, threads);
    if std::env::var_os("WASMAOT_TIMINGS").is_some() {
        eprintln!("timing: frozen tables {:?}", t2.elapsed());
    }
    let codegen = translate::CodegenOptions {
        bounds_checks: opts.bounds_checks,
    };
    object::emit(env, isa, codegen, threads, opts.code_shift)
}
