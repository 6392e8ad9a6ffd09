//! Clocks and randomness: `clock_res_get`, `clock_time_get`, `random_get`.
//!
//! All four preview1 clocks are backed by the host's `clock_gettime` (Wasmtime answers `EBADF`
//! for the two CPU-time clocks; we implement them).

use super::errno::{Errno, WResult};
use super::mem::Mem;
use super::sys;
use super::types::{enum_u8, Params};
use super::WasiCtx;

/// `clockid::realtime`.
pub(crate) const REALTIME: u8 = 0;
/// `clockid::monotonic`.
pub(crate) const MONOTONIC: u8 = 1;

/// The host clock behind a preview1 `clockid` (an invalid id traps, as in Wasmtime).
pub(crate) fn host_clock(raw: u64) -> WResult<libc::clockid_t> {
    Ok(match enum_u8(raw, 3, "Clockid")? {
        REALTIME => libc::CLOCK_REALTIME,
        MONOTONIC => libc::CLOCK_MONOTONIC,
        2 => libc::CLOCK_PROCESS_CPUTIME_ID,
        _ => libc::CLOCK_THREAD_CPUTIME_ID,
    })
}

/// Current time of a host clock in nanoseconds.
pub(crate) fn now(clock: libc::clockid_t) -> Result<u64, Errno> {
    sys::clock_gettime(clock).map_err(Errno::from)
}

/// `clock_res_get(id, resolution)`.
pub(crate) fn clock_res_get(_: &mut WasiCtx, mem: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    let clock = host_clock(p.u32(0).into())?;
    let res = sys::clock_getres(clock).map_err(Errno::from)?;
    mem.write_u64(p.u32(1), res)
}

/// `clock_time_get(id, precision, time)`; the precision hint is ignored.
pub(crate) fn clock_time_get(_: &mut WasiCtx, mem: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    let clock = host_clock(p.u32(0).into())?;
    let t = now(clock)?;
    mem.write_u64(p.u32(2), t)
}

/// `random_get(buf, len)` from the kernel CSPRNG.
pub(crate) fn random_get(_: &mut WasiCtx, mem: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    let buf = mem.bytes_mut(p.u32(0), p.u32(1))?;
    sys::getrandom(buf).map_err(Errno::from)?;
    Ok(())
}
