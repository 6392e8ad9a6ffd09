//! Data transfer on descriptors: `fd_read`, `fd_write`, `fd_pread`, `fd_pwrite`, `fd_seek`,
//! `fd_tell`.
//!
//! Unlike Wasmtime, which transfers only the first non-empty iovec per call, all iovecs are
//! used (a single host `read`/`write`, so results are still allowed to be short).

use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;

use super::errno::{Errno, WResult};
use super::fd::Entry;
use super::mem::{iov_total, IoVec, Mem};
use super::types::{enum_u8, Params};
use super::WasiCtx;

/// Largest transfer done in one call; longer requests are cut short (a legal short count).
const MAX_IO: usize = 64 << 20;

/// Where a transfer goes.
#[derive(Clone, Copy)]
enum Op {
    /// `read`/`write` at the current position.
    Stream,
    /// `pread`/`pwrite` at an offset.
    At(u64),
}

/// Reads into `iovs` with `read`, going straight into guest memory for a single buffer.
fn read_into(
    mem: &mut Mem<'_>,
    iovs: &[IoVec],
    read: impl FnOnce(&mut [u8]) -> Result<usize, Errno>,
) -> WResult<u32> {
    let live: Vec<IoVec> = iovs.iter().copied().filter(|v| v.len > 0).collect();
    if let [one] = live.as_slice() {
        let len = (one.len as usize).min(MAX_IO) as u32;
        return Ok(read(mem.bytes_mut(one.ptr, len)?)? as u32);
    }
    let mut buf = vec![0u8; iov_total(&live).min(MAX_IO)];
    let n = read(&mut buf)?;
    Ok(mem.scatter(&live, &buf[..n])? as u32)
}

/// Writes the contents of `iovs` with `write`.
fn write_from(
    mem: &Mem<'_>,
    iovs: &[IoVec],
    write: impl FnOnce(&[u8]) -> Result<usize, Errno>,
) -> WResult<u32> {
    let live: Vec<IoVec> = iovs.iter().copied().filter(|v| v.len > 0).collect();
    if let [one] = live.as_slice() {
        let len = (one.len as usize).min(MAX_IO) as u32;
        return Ok(write(mem.bytes(one.ptr, len)?)? as u32);
    }
    let mut data = mem.gather(&live)?;
    data.truncate(MAX_IO);
    Ok(write(&data)? as u32)
}

/// A guest file offset as a host one (`EINVAL` above `i64::MAX`, like the host would say).
fn offset(raw: u64) -> Result<u64, Errno> {
    if raw > i64::MAX as u64 {
        return Err(Errno::Inval);
    }
    Ok(raw)
}

/// Shared body of `fd_read` and `fd_pread`.
fn do_read(ctx: &mut WasiCtx, mem: &mut Mem<'_>, fd: u32, iovs: &[IoVec], op: Op) -> WResult<u32> {
    match (ctx.fds.get(fd)?, op) {
        (Entry::Stdin(input), Op::Stream) => read_into(mem, iovs, |b| input.read(b)),
        (Entry::Stdin(_), Op::At(_)) => Err(Errno::Spipe.into()),
        (Entry::File(_), Op::At(off)) if offset(off).is_err() => Err(Errno::Inval.into()),
        (Entry::File(f), op) if f.readable => read_into(mem, iovs, |b| {
            let r = match op {
                Op::Stream => (&f.file).read(b),
                Op::At(off) => f.file.read_at(b, offset(off)?),
            };
            r.map_err(Errno::from)
        }),
        _ => Err(Errno::Badf.into()),
    }
}

/// Shared body of `fd_write` and `fd_pwrite`.
fn do_write(ctx: &mut WasiCtx, mem: &Mem<'_>, fd: u32, iovs: &[IoVec], op: Op) -> WResult<u32> {
    match (ctx.fds.get(fd)?, op) {
        (Entry::Stdout(out), Op::Stream) => write_from(mem, iovs, |b| out.write(b)),
        (Entry::Stdout(_), Op::At(_)) => Err(Errno::Spipe.into()),
        (Entry::File(_), Op::At(off)) if offset(off).is_err() => Err(Errno::Inval.into()),
        (Entry::File(f), op) if f.writable => write_from(mem, iovs, |b| {
            let r = match op {
                Op::Stream => (&f.file).write(b),
                Op::At(off) => f.file.write_at(b, offset(off)?),
            };
            r.map_err(Errno::from)
        }),
        _ => Err(Errno::Badf.into()),
    }
}

/// `fd_read(fd, iovs, iovs_len, nread)`.
pub(crate) fn fd_read(ctx: &mut WasiCtx, mem: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    let iovs = mem.iovecs(p.u32(1), p.u32(2))?;
    let n = do_read(ctx, mem, p.u32(0), &iovs, Op::Stream)?;
    mem.write_u32(p.u32(3), n)
}

/// `fd_pread(fd, iovs, iovs_len, offset, nread)`.
pub(crate) fn fd_pread(ctx: &mut WasiCtx, mem: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    let iovs = mem.iovecs(p.u32(1), p.u32(2))?;
    let n = do_read(ctx, mem, p.u32(0), &iovs, Op::At(p.u64(3)))?;
    mem.write_u32(p.u32(4), n)
}

/// `fd_write(fd, iovs, iovs_len, nwritten)`.
pub(crate) fn fd_write(ctx: &mut WasiCtx, mem: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    let iovs = mem.iovecs(p.u32(1), p.u32(2))?;
    let n = do_write(ctx, mem, p.u32(0), &iovs, Op::Stream)?;
    mem.write_u32(p.u32(3), n)
}

/// `fd_pwrite(fd, iovs, iovs_len, offset, nwritten)`.
pub(crate) fn fd_pwrite(ctx: &mut WasiCtx, mem: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    let iovs = mem.iovecs(p.u32(1), p.u32(2))?;
    let n = do_write(ctx, mem, p.u32(0), &iovs, Op::At(p.u64(3)))?;
    mem.write_u32(p.u32(4), n)
}

/// Seeks `fd` (`whence` 0/1/2 = set/cur/end): `ESPIPE` for stdio, `EBADF` for directories.
fn seek(ctx: &mut WasiCtx, fd: u32, off: i64, whence: u8) -> WResult<u64> {
    let file = match ctx.fds.get(fd)? {
        Entry::File(f) => &f.file,
        Entry::Stdin(_) | Entry::Stdout(_) => return Err(Errno::Spipe.into()),
        Entry::Dir(_) => return Err(Errno::Badf.into()),
    };
    let to = match whence {
        0 if off < 0 => return Err(Errno::Inval.into()),
        0 => SeekFrom::Start(off as u64),
        1 => SeekFrom::Current(off),
        _ => SeekFrom::End(off),
    };
    Ok((&*file).seek(to).map_err(Errno::from)?)
}

/// `fd_seek(fd, offset, whence, newoffset)`.
pub(crate) fn fd_seek(ctx: &mut WasiCtx, mem: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    let whence = enum_u8(p.u32(2).into(), 2, "Whence")?;
    let pos = seek(ctx, p.u32(0), p.u64(1) as i64, whence)?;
    mem.write_u64(p.u32(3), pos)
}

/// `fd_tell(fd, offset)`.
pub(crate) fn fd_tell(ctx: &mut WasiCtx, mem: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    let pos = seek(ctx, p.u32(0), 0, 1)?;
    mem.write_u64(p.u32(1), pos)
}
