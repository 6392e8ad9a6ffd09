//! `args_*` and `environ_*`: NUL-terminated strings plus a pointer array.

use super::errno::WResult;
use super::mem::Mem;
use super::types::Params;
use super::WasiCtx;

/// Writes `strings` as pointers at `ptrs` and NUL-terminated bytes at `buf`.
fn write_strings(mem: &mut Mem<'_>, strings: &[Vec<u8>], ptrs: u32, buf: u32) -> WResult<()> {
    let mut at = buf;
    for (i, s) in strings.iter().enumerate() {
        mem.write_u32(ptrs.wrapping_add(4 * i as u32), at)?;
        mem.write_bytes(at, s)?;
        mem.write_bytes(at.wrapping_add(s.len() as u32), &[0])?;
        at = at.wrapping_add(s.len() as u32 + 1);
    }
    Ok(())
}

/// Writes the string count and the total size including NULs.
fn write_sizes(
    mem: &mut Mem<'_>,
    strings: &[Vec<u8>],
    count_ptr: u32,
    size_ptr: u32,
) -> WResult<()> {
    let size: usize = strings.iter().map(|s| s.len() + 1).sum();
    mem.write_u32(count_ptr, strings.len() as u32)?;
    mem.write_u32(size_ptr, size as u32)
}

/// `args_get(argv, argv_buf)`.
pub(crate) fn args_get(ctx: &mut WasiCtx, mem: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    write_strings(mem, &ctx.args, p.u32(0), p.u32(1))
}

/// `args_sizes_get(argc, argv_buf_size)`.
pub(crate) fn args_sizes_get(ctx: &mut WasiCtx, mem: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    write_sizes(mem, &ctx.args, p.u32(0), p.u32(1))
}

/// `environ_get(environ, environ_buf)`.
pub(crate) fn environ_get(ctx: &mut WasiCtx, mem: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    write_strings(mem, &ctx.env, p.u32(0), p.u32(1))
}

/// `environ_sizes_get(count, buf_size)`.
pub(crate) fn environ_sizes_get(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    p: Params<'_>,
) -> WResult<()> {
    write_sizes(mem, &ctx.env, p.u32(0), p.u32(1))
}
