//! Glue between [`crate::wasi::WasiCtx`] and instances: defines every `wasi_snapshot_preview1`
//! function in a [`Linker`] as a raw host function working on the caller's exported memory.

use crate::error::{Error, Trap};
use crate::func::Func;
use crate::layout::FuncType;
use crate::linker::Linker;
use crate::module::Module;
use crate::wasi::{WasiCtx, WasiTrap, MODULE};
use std::sync::{Arc, Mutex};

/// Most parameters any preview1 function takes (`path_open` has 9).
const MAX_PARAMS: usize = 16;

fn to_trap(t: WasiTrap) -> Trap {
    match t {
        WasiTrap::Exit(code) => Trap::exit(code),
        other => Trap::host(other.to_string()),
    }
}

/// Defines all preview1 functions in `linker`, each forwarding to `ctx`.
pub fn add_to_linker(linker: &mut Linker, ctx: Arc<Mutex<WasiCtx>>) {
    for (idx, (name, params, results)) in WasiCtx::functions().iter().enumerate() {
        let ty = FuncType {
            params: params.to_vec(),
            results: results.to_vec(),
        };
        let nparams = params.len();
        let ctx = ctx.clone();
        let f = Func::host_raw(ty, move |caller, slots| {
            let mut args = [0u64; MAX_PARAMS];
            for (a, s) in args.iter_mut().zip(slots.iter()).take(nparams) {
                *a = *s as u64;
            }
            let (base, len) = caller
                .exported_memory_raw("memory")
                .ok_or_else(|| Trap::host("WASI call from an instance without memory"))?;
            // SAFETY: the caller's memory is mapped for `len` bytes and the calling Wasm code is
            // suspended in this call, so nothing else accesses it meanwhile.
            let mem = unsafe { std::slice::from_raw_parts_mut(base, len as usize) };
            let r = ctx.lock().unwrap_or_else(|e| e.into_inner()).call_index(
                idx,
                mem,
                &args[..nparams],
            );
            match r {
                Ok(errno) => {
                    if let Some(s) = slots.first_mut() {
                        *s = errno as u32 as u128;
                    }
                    Ok(())
                }
                Err(t) => Err(to_trap(t)),
            }
        });
        linker.define(MODULE, name, f);
    }
}

/// The WASI hook the C API uses when no other is installed: inherited stdio, the process's
/// arguments and environment, no preopened directories.
pub fn default_hook(linker: &mut Linker, _module: &Module) -> Result<(), Error> {
    let ctx = WasiCtx::builder()
        .inherit_stdio()
        .args(std::env::args())
        .envs(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        )
        .build()
        .map_err(|e| Error::Instantiation(format!("WASI: {e}")))?;
    add_to_linker(linker, Arc::new(Mutex::new(ctx)));
    Ok(())
}
