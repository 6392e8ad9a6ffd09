//! `wasmaot-bench`: the Rust half of the benchmark harness (`benches/run.sh` drives it from
//! `benches/harness/bench.py`).
//!
//! ```text
//! wasmaot-bench wasmi FILE.wasm [ARGS...]
//!     Runs a wasm32 WASI command under the wasmi 2.0 interpreter, in process, with just the
//!     WASI preview1 functions the workloads import (see `wasi_shims`). The program's stdout
//!     goes to stdout; the last stderr line is `BENCH {"cpu":S,"wall":S,"exit":N}`, timing
//!     only the `_start` call (module compilation and instantiation excluded).
//!
//! wasmaot-bench invoke FILE.wasm N RUNS [guard|explicit] [SHIFT]
//!     Compiles a freestanding module exporting `run(i64) -> i64` with the wasmaot library
//!     (its code moved SHIFT bytes off the cache line, as `wasmaot build --code-shift`),
//!     loads the object in process, and RUNS times instantiates it afresh and times `run(N)`
//!     (each call grows memory, so every call gets a new instance).  Prints one JSON line:
//!     `{"compile":S,"instantiate":[S..],"cpu":[S..],"wall":[S..],"result":"U64"}`.
//!
//! wasmaot-bench pad-functions IN.wasm OUT.wasm K
//!     Writes IN with K empty functions defined ahead of its own (see `pad`), which moves
//!     Wasmtime's code for every original function by K code-alignment slots.
//! ```

use anyhow::{anyhow, bail, Context, Result};
use std::time::Instant;
use wasmaot::runtime::command::thread_cpu_seconds;

mod pad;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let res = match args.first().map(String::as_str) {
        Some("wasmi") => run_wasmi(&args[1..]),
        Some("invoke") => run_invoke(&args[1..]),
        Some("pad-functions") => pad::run(&args[1..]),
        _ => Err(anyhow!(
            "usage: wasmaot-bench wasmi FILE.wasm [ARGS...] | invoke FILE.wasm N RUNS [guard|explicit] [SHIFT] | pad-functions IN.wasm OUT.wasm K"
        )),
    };
    match res {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// wasmi

/// Host state of a wasmi run: argv and the bytes written to stdout/stderr.
struct Host {
    argv: Vec<Vec<u8>>,
    stdout: Vec<u8>,
}

mod wasi_shims {
    //! WASI preview1, only as much as the benchmark workloads import (checked with
    //! `wasm-objdump -x -j Import`: args_get, args_sizes_get, fd_close, fd_fdstat_get,
    //! fd_seek, fd_write, proc_exit) plus environ_*, clock_time_get and random_get for
    //! programs that want them.
    use super::Host;
    use wasmi::{Caller, Error, Extern, Linker};

    const ESUCCESS: i32 = 0;
    const EBADF: i32 = 8;
    const EFAULT: i32 = 21;
    const ESPIPE: i32 = 70;
    const M: &str = "wasi_snapshot_preview1";

    fn mem<'a>(caller: &'a mut Caller<'_, Host>) -> Option<(&'a mut [u8], &'a mut Host)> {
        let m = match caller.get_export("memory") {
            Some(Extern::Memory(m)) => m,
            _ => return None,
        };
        Some(m.data_and_store_mut(caller))
    }

    fn put32(m: &mut [u8], at: u32, v: u32) -> bool {
        let at = at as usize;
        match m.get_mut(at..at + 4) {
            Some(s) => {
                s.copy_from_slice(&v.to_le_bytes());
                true
            }
            None => false,
        }
    }

    fn get32(m: &[u8], at: u32) -> Option<u32> {
        let at = at as usize;
        m.get(at..at + 4)
            .map(|s| u32::from_le_bytes(s.try_into().unwrap()))
    }

    pub fn add(linker: &mut Linker<Host>) -> Result<(), wasmi::errors::LinkerError> {
        linker.func_wrap(
            M,
            "args_sizes_get",
            |mut c: Caller<'_, Host>, argc: i32, size: i32| -> i32 {
                let Some((m, h)) = mem(&mut c) else {
                    return EFAULT;
                };
                let total: usize = h.argv.iter().map(|a| a.len() + 1).sum();
                let n = h.argv.len() as u32;
                if put32(m, argc as u32, n) && put32(m, size as u32, total as u32) {
                    ESUCCESS
                } else {
                    EFAULT
                }
            },
        )?;
        linker.func_wrap(
            M,
            "args_get",
            |mut c: Caller<'_, Host>, argv: i32, buf: i32| -> i32 {
                let Some((m, h)) = mem(&mut c) else {
                    return EFAULT;
                };
                let mut at = buf as u32;
                for (i, a) in h.argv.iter().enumerate() {
                    if !put32(m, argv as u32 + 4 * i as u32, at) {
                        return EFAULT;
                    }
                    let s = at as usize;
                    let Some(dst) = m.get_mut(s..s + a.len() + 1) else {
                        return EFAULT;
                    };
                    dst[..a.len()].copy_from_slice(a);
                    dst[a.len()] = 0;
                    at += a.len() as u32 + 1;
                }
                ESUCCESS
            },
        )?;
        linker.func_wrap(
            M,
            "environ_sizes_get",
            |mut c: Caller<'_, Host>, n: i32, size: i32| -> i32 {
                let Some((m, _)) = mem(&mut c) else {
                    return EFAULT;
                };
                if put32(m, n as u32, 0) && put32(m, size as u32, 0) {
                    ESUCCESS
                } else {
                    EFAULT
                }
            },
        )?;
        linker.func_wrap(
            M,
            "environ_get",
            |_: Caller<'_, Host>, _: i32, _: i32| -> i32 { ESUCCESS },
        )?;
        linker.func_wrap(
            M,
            "fd_write",
            |mut c: Caller<'_, Host>, fd: i32, iovs: i32, n: i32, nwritten: i32| -> i32 {
                let Some((m, h)) = mem(&mut c) else {
                    return EFAULT;
                };
                let mut total = 0u32;
                for i in 0..n as u32 {
                    let (Some(p), Some(len)) = (
                        get32(m, iovs as u32 + 8 * i),
                        get32(m, iovs as u32 + 8 * i + 4),
                    ) else {
                        return EFAULT;
                    };
                    let Some(bytes) = m.get(p as usize..p as usize + len as usize) else {
                        return EFAULT;
                    };
                    match fd {
                        1 => h.stdout.extend_from_slice(bytes),
                        2 => {
                            use std::io::Write;
                            let _ = std::io::stderr().write_all(bytes);
                        }
                        _ => return EBADF,
                    }
                    total += len;
                }
                if put32(m, nwritten as u32, total) {
                    ESUCCESS
                } else {
                    EFAULT
                }
            },
        )?;
        linker.func_wrap(M, "fd_close", |_: Caller<'_, Host>, _: i32| -> i32 {
            ESUCCESS
        })?;
        linker.func_wrap(
            M,
            "fd_seek",
            |_: Caller<'_, Host>, _: i32, _: i64, _: i32, _: i32| -> i32 { ESPIPE },
        )?;
        // Every fd is a character device (stdout line-buffered), as in the wasm3 and
        // wasm-interp shims of the harness.
        linker.func_wrap(
            M,
            "fd_fdstat_get",
            |mut c: Caller<'_, Host>, _: i32, buf: i32| -> i32 {
                let Some((m, _)) = mem(&mut c) else {
                    return EFAULT;
                };
                let at = buf as usize;
                match m.get_mut(at..at + 24) {
                    Some(s) => {
                        s.fill(0);
                        s[0] = 2; // __WASI_FILETYPE_CHARACTER_DEVICE
                        ESUCCESS
                    }
                    None => EFAULT,
                }
            },
        )?;
        linker.func_wrap(
            M,
            "proc_exit",
            |_: Caller<'_, Host>, code: i32| -> Result<(), Error> { Err(Error::i32_exit(code)) },
        )?;
        linker.func_wrap(
            M,
            "clock_time_get",
            |mut c: Caller<'_, Host>, _id: i32, _prec: i64, out: i32| -> i32 {
                let Some((m, _)) = mem(&mut c) else {
                    return EFAULT;
                };
                let ns = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64);
                let at = out as usize;
                match m.get_mut(at..at + 8) {
                    Some(s) => {
                        s.copy_from_slice(&ns.to_le_bytes());
                        ESUCCESS
                    }
                    None => EFAULT,
                }
            },
        )?;
        linker.func_wrap(
            M,
            "random_get",
            |mut c: Caller<'_, Host>, buf: i32, len: i32| -> i32 {
                let Some((m, _)) = mem(&mut c) else {
                    return EFAULT;
                };
                let Some(s) = m.get_mut(buf as usize..buf as usize + len as usize) else {
                    return EFAULT;
                };
                // Deterministic filler: benchmarks must not depend on it.
                let mut x = 0x9e3779b97f4a7c15u64;
                for b in s {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    *b = x as u8;
                }
                ESUCCESS
            },
        )?;
        Ok(())
    }
}

fn run_wasmi(args: &[String]) -> Result<i32> {
    let [file, rest @ ..] = args else {
        bail!("wasmi: missing FILE.wasm")
    };
    let bytes = std::fs::read(file).with_context(|| file.clone())?;
    let mut config = wasmi::Config::default();
    // Translate everything up front so that the timed region is execution only.
    config.compilation_mode(wasmi::CompilationMode::Eager);
    let engine = wasmi::Engine::new(&config);
    let module = wasmi::Module::new(&engine, &bytes[..]).map_err(|e| anyhow!("wasmi: {e}"))?;
    let stem = std::path::Path::new(file)
        .file_stem()
        .map_or("prog".into(), |s| s.to_string_lossy().into_owned());
    let argv = std::iter::once(stem)
        .chain(rest.iter().cloned())
        .map(String::into_bytes)
        .collect();
    let mut store = wasmi::Store::new(
        &engine,
        Host {
            argv,
            stdout: Vec::new(),
        },
    );
    let mut linker = wasmi::Linker::<Host>::new(&engine);
    wasi_shims::add(&mut linker).map_err(|e| anyhow!("wasmi: {e}"))?;
    let instance = linker
        .instantiate_and_start(&mut store, &module)
        .map_err(|e| anyhow!("wasmi: instantiate: {e}"))?;
    let start = instance
        .get_typed_func::<(), ()>(&store, "_start")
        .map_err(|e| anyhow!("wasmi: _start: {e}"))?;
    let (c0, w0) = (thread_cpu_seconds(), Instant::now());
    let res = start.call(&mut store, ());
    let (cpu, wall) = (thread_cpu_seconds() - c0, w0.elapsed().as_secs_f64());
    let code = match res {
        Ok(()) => 0,
        Err(e) => match e.i32_exit_status() {
            Some(c) => c,
            None => {
                eprintln!("wasmi: trap: {e}");
                134
            }
        },
    };
    use std::io::Write;
    std::io::stdout().write_all(&store.data().stdout)?;
    std::io::stdout().flush()?;
    eprintln!("BENCH {{\"cpu\":{cpu:.6},\"wall\":{wall:.6},\"exit\":{code}}}");
    Ok(code)
}

// ---------------------------------------------------------------------------------------------
// wasmaot in process

fn run_invoke(args: &[String]) -> Result<i32> {
    let [file, n, runs, rest @ ..] = args else {
        bail!("invoke: FILE N RUNS [guard|explicit] [SHIFT]")
    };
    let n: i64 = n.parse().context("N")?;
    let runs: usize = runs.parse().context("RUNS")?;
    let bounds = match rest.first().map(String::as_str) {
        None | Some("guard") => wasmaot::BoundsChecks::Guard,
        Some("explicit") => wasmaot::BoundsChecks::Explicit,
        Some(o) => bail!("invoke: unknown bounds-check mode `{o}`"),
    };
    let code_shift: u32 = match rest.get(1) {
        Some(s) => s.parse().context("SHIFT")?,
        None => 0,
    };
    if rest.len() > 2 {
        bail!("invoke: FILE N RUNS [guard|explicit] [SHIFT]");
    }
    let bytes = std::fs::read(file).with_context(|| file.clone())?;
    let opts = wasmaot::CompileOptions {
        name: "bench".into(),
        bounds_checks: bounds,
        code_shift,
        ..Default::default()
    };
    let t = Instant::now();
    let compiled = wasmaot::compile(&bytes, &opts).map_err(|e| anyhow!("{file}: {e}"))?;
    let compile = t.elapsed().as_secs_f64();
    let module = wasmaot::runtime::Module::from_object_bytes(&compiled.object, Some("bench"))
        .map_err(|e| anyhow!("{file}: load: {e}"))?;
    let linker = wasmaot::runtime::Linker::new();
    let (mut inst_t, mut cpu_t, mut wall_t) = (vec![], vec![], vec![]);
    let mut result = None;
    for _ in 0..runs {
        let t = Instant::now();
        let inst = linker
            .instantiate(&module)
            .map_err(|e| anyhow!("instantiate: {e}"))?;
        inst_t.push(t.elapsed().as_secs_f64());
        let f = inst
            .get_func("run")
            .ok_or_else(|| anyhow!("no export `run`"))?;
        let (c0, w0) = (thread_cpu_seconds(), Instant::now());
        let r = f
            .call(&[wasmaot::runtime::Val::I64(n)])
            .map_err(|e| anyhow!("run: {e}"))?;
        cpu_t.push(thread_cpu_seconds() - c0);
        wall_t.push(w0.elapsed().as_secs_f64());
        let v = match r.first() {
            Some(wasmaot::runtime::Val::I64(v)) => *v as u64,
            Some(wasmaot::runtime::Val::I32(v)) => *v as u32 as u64,
            other => bail!("run returned {other:?}"),
        };
        if result.is_some_and(|p| p != v) {
            bail!("run({n}) returned different results across runs");
        }
        result = Some(v);
        drop(inst);
    }
    let list = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.6}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    println!(
        "{{\"compile\":{compile:.6},\"instantiate\":[{}],\"cpu\":[{}],\"wall\":[{}],\"result\":\"{}\"}}",
        list(&inst_t),
        list(&cpu_t),
        list(&wall_t),
        result.map_or(String::new(), |r| r.to_string())
    );
    Ok(0)
}
