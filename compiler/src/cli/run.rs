//! `wasmaot run IN [--invoke FUNC] [--dir H[::G]] [--env K=V] [--max-memory SIZE] [-- ARGS...]`:
//! compiles in-process, loads the object and runs it (a WASI command's `_start`, or one
//! export with `--invoke`).

use super::{compile::parse_bounds, compile_file, default_name};
use anyhow::{bail, Context};
use std::path::PathBuf;
use wasmaot::runtime::command::{self, CommandConfig, Preopen};
use wasmaot::runtime::layout::ValType;
use wasmaot::runtime::{memory, Linker, Module, Val};
use wasmaot::BoundsChecks;

/// Arguments of `run`.
#[derive(clap::Args)]
pub struct Args {
    /// Input module (.wasm or .wat).
    input: PathBuf,
    /// Call this export with ARGS parsed by its parameter types and print each result.
    #[arg(long)]
    invoke: Option<String>,
    /// What the program may see.
    #[command(flatten)]
    caps: super::Capabilities,
    /// Cap on all linear memory together, e.g. `512MiB`, `4GiB`, `65536` (bytes).
    #[arg(long = "max-memory", value_parser = parse_size)]
    max_memory: Option<u64>,
    /// CPU features the code may use: `baseline` (portable x86-64-v2), `x86-64-v3` (AVX2) or
    /// `native` (this machine).
    #[arg(long, default_value = "native", value_parser = super::compile::parse_cpu)]
    cpu: wasmaot::Cpu,
    /// Bounds checks for 32-bit memories: `guard` or `explicit`.
    #[arg(long = "bounds-checks", default_value = "guard", value_parser = parse_bounds)]
    bounds_checks: BoundsChecks,
    /// Arguments for the program (or for the invoked function).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

/// Parses a byte size with an optional KiB/MiB/GiB (or K/M/G) suffix.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("invalid size `{s}`"))?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(format!("invalid size unit in `{s}`")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("size `{s}` too large"))
}

fn parse_arg(ty: ValType, s: &str) -> anyhow::Result<Val> {
    Ok(match ty {
        ValType::I32 => Val::I32(match s.parse::<i32>() {
            Ok(v) => v,
            Err(_) => s
                .parse::<u32>()
                .with_context(|| format!("`{s}` is not an i32"))? as i32,
        }),
        ValType::I64 => Val::I64(match s.parse::<i64>() {
            Ok(v) => v,
            Err(_) => s
                .parse::<u64>()
                .with_context(|| format!("`{s}` is not an i64"))? as i64,
        }),
        ValType::F32 => Val::F32(
            s.parse::<f32>()
                .with_context(|| format!("`{s}` is not an f32"))?
                .to_bits(),
        ),
        ValType::F64 => Val::F64(
            s.parse::<f64>()
                .with_context(|| format!("`{s}` is not an f64"))?
                .to_bits(),
        ),
        other => bail!("unsupported: passing {other:?} arguments on the command line"),
    })
}

fn show(v: &Val) -> String {
    match v {
        Val::I32(x) => x.to_string(),
        Val::I64(x) => x.to_string(),
        Val::F32(b) => f32::from_bits(*b).to_string(),
        Val::F64(b) => f64::from_bits(*b).to_string(),
        Val::V128(x) => format!("{x:#034x}"),
        Val::FuncRef(f) => if f.is_some() { "funcref" } else { "null" }.to_string(),
        Val::ExternRef(e) => e.map_or("null".to_string(), |n| format!("externref {n}")),
        Val::ExnRef(e) => if e.is_some() { "exnref" } else { "null" }.to_string(),
    }
}

pub fn run(a: Args) -> anyhow::Result<i32> {
    if let Some(bytes) = a.max_memory {
        memory::set_limits(memory::Limits {
            max_pages_total: bytes >> 16,
            ..memory::limits()
        });
    }
    let name = default_name(&a.input);
    let opts = wasmaot::CompileOptions {
        name: name.clone(),
        bounds_checks: a.bounds_checks,
        cpu: a.cpu,
        ..Default::default()
    };
    let out = compile_file(&a.input, &opts)?;
    let module = Module::from_object_bytes(&out.object, Some(&name))
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.input.display()))?;
    let mut config = CommandConfig {
        args: std::iter::once(a.input.display().to_string())
            .chain(a.args.iter().cloned())
            .collect(),
        time_start: CommandConfig::time_start_from_env(),
        ..Default::default()
    };
    for kv in &a.caps.envs {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--env expects KEY=VALUE, got `{kv}`"))?;
        config.env.push((k.to_string(), v.to_string()));
    }
    config
        .dirs
        .extend(a.caps.dirs.iter().map(|d| Preopen::parse(d, false)));
    config
        .dirs
        .extend(a.caps.ro_dirs.iter().map(|d| Preopen::parse(d, true)));

    let Some(func) = a.invoke else {
        return Ok(command::run_command_status(&module, &config));
    };
    let mut linker = Linker::new();
    if module.imports_module(wasmaot::runtime::wasi::MODULE) {
        // Give an invoked function the same WASI world a command would get.
        let ctx = config_ctx(&config)?;
        wasmaot::runtime::wasi_link::add_to_linker(&mut linker, ctx);
    }
    let inst = linker
        .instantiate(&module)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let f = inst
        .get_func(&func)
        .ok_or_else(|| anyhow::anyhow!("{}: no exported function `{func}`", a.input.display()))?;
    let ty = f.ty();
    if ty.params.len() != a.args.len() {
        bail!(
            "`{func}` takes {} arguments, {} given",
            ty.params.len(),
            a.args.len()
        );
    }
    let args = ty
        .params
        .iter()
        .zip(&a.args)
        .map(|(t, s)| parse_arg(*t, s))
        .collect::<anyhow::Result<Vec<_>>>()?;
    match f.call(&args) {
        Ok(results) => {
            for r in &results {
                println!("{}", show(r));
            }
            Ok(0)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(match e {
                wasmaot::runtime::Error::Trap(t) if t.kind == wasmaot::runtime::TrapKind::Exit => {
                    t.exit_code.unwrap_or(0)
                }
                wasmaot::runtime::Error::Trap(_) => command::TRAP_EXIT_STATUS,
                _ => 1,
            })
        }
    }
}

fn config_ctx(
    c: &CommandConfig,
) -> anyhow::Result<std::sync::Arc<std::sync::Mutex<wasmaot::runtime::wasi::WasiCtx>>> {
    use wasmaot::runtime::wasi::{DirPerms, WasiCtx};
    let mut b = WasiCtx::builder()
        .inherit_stdio()
        .args(c.args.iter().cloned())
        .envs(c.env.iter().cloned());
    for d in &c.dirs {
        let p = if d.read_only {
            DirPerms::READ_ONLY
        } else {
            DirPerms::READ_WRITE
        };
        b = b.preopen_dir(d.host.clone(), d.guest.clone(), p);
    }
    Ok(std::sync::Arc::new(std::sync::Mutex::new(
        b.build().map_err(|e| anyhow::anyhow!("WASI: {e}"))?,
    )))
}
