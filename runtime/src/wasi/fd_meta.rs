//! Descriptor metadata and lifetime: fdstat, filestat, sizes, times, sync, advice, prestat,
//! close and renumber.

use std::os::fd::AsFd;

use super::errno::{Errno, WResult};
use super::fd::Entry;
use super::mem::Mem;
use super::sys;
use super::types::{
    enum_u8, fdflags, filetype, flags, fstflags, prestat_dir, rights, Fdstat, Filestat, Params,
};
use super::WasiCtx;

/// `fd_close(fd)`; preopens and stdio may be closed too.
pub(crate) fn fd_close(ctx: &mut WasiCtx, _: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    ctx.fds.remove(p.u32(0))?;
    Ok(())
}

/// `fd_renumber(from, to)`: both must be open.
pub(crate) fn fd_renumber(ctx: &mut WasiCtx, _: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    Ok(ctx.fds.renumber(p.u32(0), p.u32(1))?)
}

/// `fd_sync(fd)`: files only (`EBADF` otherwise, as Wasmtime).
pub(crate) fn fd_sync(ctx: &mut WasiCtx, _: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    Ok(ctx
        .fds
        .file(p.u32(0))?
        .file
        .sync_all()
        .map_err(Errno::from)?)
}

/// `fd_datasync(fd)`: files only.
pub(crate) fn fd_datasync(ctx: &mut WasiCtx, _: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    Ok(ctx
        .fds
        .file(p.u32(0))?
        .file
        .sync_data()
        .map_err(Errno::from)?)
}

/// `fd_advise(fd, offset, len, advice)`: forwarded to `posix_fadvise`.
pub(crate) fn fd_advise(ctx: &mut WasiCtx, _: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    let advice = match enum_u8(p.u32(3).into(), 5, "Advice")? {
        0 => libc::POSIX_FADV_NORMAL,
        1 => libc::POSIX_FADV_SEQUENTIAL,
        2 => libc::POSIX_FADV_RANDOM,
        3 => libc::POSIX_FADV_WILLNEED,
        4 => libc::POSIX_FADV_DONTNEED,
        _ => libc::POSIX_FADV_NOREUSE,
    };
    let f = ctx.fds.file(p.u32(0))?;
    let (off, len) = (p.u64(1), p.u64(2));
    if len > i64::MAX as u64 {
        return Err(Errno::Inval.into());
    }
    if off <= i64::MAX as u64 {
        sys::fadvise(f.file.as_fd(), off as i64, len as i64, advice).map_err(Errno::from)?;
    }
    Ok(())
}

/// `fd_allocate(fd, offset, len)`: `ENOTSUP` for files, as in Wasmtime.
pub(crate) fn fd_allocate(ctx: &mut WasiCtx, _: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    ctx.fds.file(p.u32(0))?;
    Err(Errno::Notsup.into())
}

/// `fd_fdstat_get(fd, fdstat)`. Rights are reported the way Wasmtime reports them: derived
/// from the descriptor kind and access mode rather than stored.
pub(crate) fn fd_fdstat_get(ctx: &mut WasiCtx, mem: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    let st = match ctx.fds.get(p.u32(0))? {
        Entry::Stdin(i) => Fdstat {
            filetype: i.filetype(),
            flags: 0,
            rights_base: rights::FD_READ,
            rights_inheriting: rights::FD_READ,
        },
        Entry::Stdout(o) => Fdstat {
            filetype: o.filetype(),
            flags: 0,
            rights_base: rights::FD_WRITE,
            rights_inheriting: rights::FD_WRITE,
        },
        Entry::File(f) => {
            let host = sys::fstat(f.file.as_fd()).map_err(Errno::from)?;
            let fl = sys::get_fl(f.file.as_fd()).map_err(Errno::from)?;
            let mut r = rights::ALL;
            if !f.writable {
                r &= !rights::FD_WRITE;
            }
            if !f.readable {
                r &= !(rights::FD_READ | rights::FD_READDIR);
            }
            let mut flags = 0;
            if fl & libc::O_APPEND != 0 {
                flags |= fdflags::APPEND;
            }
            if fl & libc::O_NONBLOCK != 0 {
                flags |= fdflags::NONBLOCK;
            }
            Fdstat {
                filetype: filetype::from_mode(host.st_mode),
                flags,
                rights_base: r,
                rights_inheriting: r,
            }
        }
        Entry::Dir(d) => {
            let (base, inh) = match d.preopen {
                Some(_) => (rights::PREOPEN_BASE, rights::PREOPEN_INHERITING),
                None => (rights::DIR, rights::DIR),
            };
            Fdstat {
                filetype: filetype::DIRECTORY,
                flags: 0,
                rights_base: base,
                rights_inheriting: inh,
            }
        }
    };
    mem.write_struct(p.u32(1), &st.encode(), 8)
}

/// `fd_fdstat_set_flags(fd, flags)`: `APPEND` and `NONBLOCK` on files; the sync flags are
/// `EINVAL`, other descriptors `EBADF` (Wasmtime's answers).
pub(crate) fn fd_fdstat_set_flags(
    ctx: &mut WasiCtx,
    _: &mut Mem<'_>,
    p: Params<'_>,
) -> WResult<()> {
    let new = flags(p.u32(1).into(), fdflags::ALL.into(), "Fdflags")? as u16;
    let f = ctx.fds.file(p.u32(0))?;
    if new & (fdflags::DSYNC | fdflags::RSYNC | fdflags::SYNC) != 0 {
        return Err(Errno::Inval.into());
    }
    let mut fl =
        sys::get_fl(f.file.as_fd()).map_err(Errno::from)? & !(libc::O_APPEND | libc::O_NONBLOCK);
    if new & fdflags::APPEND != 0 {
        fl |= libc::O_APPEND;
    }
    if new & fdflags::NONBLOCK != 0 {
        fl |= libc::O_NONBLOCK;
    }
    Ok(sys::set_fl(f.file.as_fd(), fl).map_err(Errno::from)?)
}

/// `fd_fdstat_set_rights(fd, base, inheriting)`: `ENOTSUP` for files and directories, `EBADF`
/// otherwise, as in Wasmtime (rights are not narrowed).
pub(crate) fn fd_fdstat_set_rights(
    ctx: &mut WasiCtx,
    _: &mut Mem<'_>,
    p: Params<'_>,
) -> WResult<()> {
    flags(p.u64(1), rights::ALL, "Rights")?;
    flags(p.u64(2), rights::ALL, "Rights")?;
    match ctx.fds.get(p.u32(0))? {
        Entry::File(_) | Entry::Dir(_) => Err(Errno::Notsup.into()),
        _ => Err(Errno::Badf.into()),
    }
}

/// `fd_filestat_get(fd, filestat)`; stdio reports only its file type.
pub(crate) fn fd_filestat_get(ctx: &mut WasiCtx, mem: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    let st = match ctx.fds.get(p.u32(0))? {
        Entry::Stdin(i) => Filestat {
            filetype: i.filetype(),
            ..Filestat::default()
        },
        Entry::Stdout(o) => Filestat {
            filetype: o.filetype(),
            ..Filestat::default()
        },
        Entry::File(f) => Filestat::from_host(&sys::fstat(f.file.as_fd()).map_err(Errno::from)?),
        Entry::Dir(d) => Filestat::from_host(&sys::fstat(d.fd.as_fd()).map_err(Errno::from)?),
    };
    mem.write_struct(p.u32(1), &st.encode(), 8)
}

/// `fd_filestat_set_size(fd, size)`: needs a writable preopen (`EPERM`).
pub(crate) fn fd_filestat_set_size(
    ctx: &mut WasiCtx,
    _: &mut Mem<'_>,
    p: Params<'_>,
) -> WResult<()> {
    let f = ctx.fds.file(p.u32(0))?;
    if !f.perms.write {
        return Err(Errno::Perm.into());
    }
    Ok(f.file.set_len(p.u64(1)).map_err(Errno::from)?)
}

/// Decodes `fstflags` plus the two timestamps into `utimensat` times.
pub(crate) fn times(atim: u64, mtim: u64, raw_flags: u32) -> WResult<[libc::timespec; 2]> {
    let f = flags(raw_flags.into(), fstflags::ALL.into(), "Fstflags")? as u16;
    let one = |t: u64, set: u16, now: u16| -> Result<libc::timespec, Errno> {
        match (f & set != 0, f & now != 0) {
            (true, true) => Err(Errno::Inval),
            (true, false) => Ok(libc::timespec {
                tv_sec: (t / 1_000_000_000) as libc::time_t,
                tv_nsec: (t % 1_000_000_000) as libc::c_long,
            }),
            (false, true) => Ok(libc::timespec {
                tv_sec: 0,
                tv_nsec: libc::UTIME_NOW,
            }),
            (false, false) => Ok(libc::timespec {
                tv_sec: 0,
                tv_nsec: libc::UTIME_OMIT,
            }),
        }
    };
    Ok([
        one(atim, fstflags::ATIM, fstflags::ATIM_NOW)?,
        one(mtim, fstflags::MTIM, fstflags::MTIM_NOW)?,
    ])
}

/// `fd_filestat_set_times(fd, atim, mtim, fst_flags)`: files and directories of a writable
/// preopen.
pub(crate) fn fd_filestat_set_times(
    ctx: &mut WasiCtx,
    _: &mut Mem<'_>,
    p: Params<'_>,
) -> WResult<()> {
    let t = times(p.u64(1), p.u64(2), p.u32(3))?;
    let (fd, perms) = match ctx.fds.get(p.u32(0))? {
        Entry::File(f) => (f.file.as_fd(), f.perms),
        Entry::Dir(d) => (d.fd.as_fd(), d.perms),
        _ => return Err(Errno::Badf.into()),
    };
    if !perms.write {
        return Err(Errno::Perm.into());
    }
    Ok(sys::futimens(fd, &t).map_err(Errno::from)?)
}

/// `fd_prestat_get(fd, prestat)`: `EBADF` unless `fd` is a preopen.
pub(crate) fn fd_prestat_get(ctx: &mut WasiCtx, mem: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    match ctx.fds.get(p.u32(0))? {
        Entry::Dir(d) if d.preopen.is_some() => {
            let len = d.preopen.as_ref().map_or(0, |n| n.len()) as u32;
            mem.write_struct(p.u32(1), &prestat_dir(len), 4)
        }
        _ => Err(Errno::Badf.into()),
    }
}

/// `fd_prestat_dir_name(fd, path, len)`: `ENAMETOOLONG` when `len` is too small, `ENOTDIR` for
/// open descriptors that are not preopens (Wasmtime's answers). No NUL is written.
pub(crate) fn fd_prestat_dir_name(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    p: Params<'_>,
) -> WResult<()> {
    match ctx.fds.get(p.u32(0))? {
        Entry::Dir(d) if d.preopen.is_some() => {
            let name = d.preopen.as_deref().unwrap_or_default();
            if (p.u32(2) as usize) < name.len() {
                return Err(Errno::Nametoolong.into());
            }
            mem.write_bytes(p.u32(1), name.as_bytes())
        }
        _ => Err(Errno::Notdir.into()),
    }
}
