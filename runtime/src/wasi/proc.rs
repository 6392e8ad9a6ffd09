//! Process, scheduling and socket functions: `proc_exit`, `proc_raise`, `sched_yield` and the
//! `sock_*` calls, which answer like Wasmtime's preview1 (no sockets can exist here).

use super::errno::{Errno, WResult, WasiTrap};
use super::mem::Mem;
use super::sys;
use super::types::{enum_u8, fdflags, flags, Params};
use super::WasiCtx;

/// `proc_exit(code)`: [`WasiTrap::Exit`] for codes below 126, otherwise a trap (as Wasmtime).
pub(crate) fn proc_exit(_: &mut WasiCtx, _: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    let code = p.u32(0);
    if code < 126 {
        Err(WasiTrap::Exit(code as i32).into())
    } else {
        Err(WasiTrap::InvalidExitStatus(code).into())
    }
}

/// `proc_raise(signal)`: `ENOTSUP` (an unknown signal number traps).
pub(crate) fn proc_raise(_: &mut WasiCtx, _: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    enum_u8(p.u32(0).into(), 30, "Signal")?;
    Err(Errno::Notsup.into())
}

/// `sched_yield()`.
pub(crate) fn sched_yield(_: &mut WasiCtx, _: &mut Mem<'_>, _: Params<'_>) -> WResult<()> {
    sys::sched_yield();
    Ok(())
}

/// Any open descriptor is "not a socket"; a closed one is `EBADF`.
fn not_a_socket(ctx: &mut WasiCtx, fd: u32) -> WResult<()> {
    ctx.fds.get(fd)?;
    Err(Errno::Notsock.into())
}

/// `sock_accept(fd, flags, result_fd)`.
pub(crate) fn sock_accept(ctx: &mut WasiCtx, _: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    flags(p.u32(1).into(), fdflags::ALL.into(), "Fdflags")?;
    not_a_socket(ctx, p.u32(0))
}

/// `sock_recv(fd, ri_data, ri_data_len, ri_flags, ro_datalen, ro_flags)`.
pub(crate) fn sock_recv(ctx: &mut WasiCtx, _: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    flags(p.u32(3).into(), 3, "Riflags")?;
    not_a_socket(ctx, p.u32(0))
}

/// `sock_send(fd, si_data, si_data_len, si_flags, so_datalen)`.
pub(crate) fn sock_send(ctx: &mut WasiCtx, _: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    flags(p.u32(3).into(), 0xffff, "Siflags")?;
    not_a_socket(ctx, p.u32(0))
}

/// `sock_shutdown(fd, how)`.
pub(crate) fn sock_shutdown(ctx: &mut WasiCtx, _: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    flags(p.u32(1).into(), 3, "Sdflags")?;
    not_a_socket(ctx, p.u32(0))
}
