//! Path operations other than `path_open`: create/remove directories, unlink, rename, links,
//! symlinks, stat and times. Every path is resolved by [`super::path::resolve`]; a read-only
//! preopen answers `EPERM` to every mutation before the path is looked at (as Wasmtime).

use std::ffi::CString;
use std::os::fd::AsFd;

use super::errno::{Errno, WResult};
use super::fd::DirEntry;
use super::fd_meta::times;
use super::mem::Mem;
use super::path::{resolve, FinalLink, Resolved};
use super::sys;
use super::types::{flags, Filestat, Params, LOOKUP_SYMLINK_FOLLOW};
use super::WasiCtx;

/// The directory `fd`, checked for lookup (`read`) or mutation (`write`) permission.
fn dir(ctx: &WasiCtx, fd: u32, write: bool) -> WResult<&DirEntry> {
    let d = ctx.fds.dir_ref(fd)?;
    let ok = if write { d.perms.write } else { d.perms.read };
    if !ok {
        return Err(Errno::Perm.into());
    }
    Ok(d)
}

/// Decodes a `lookupflags` parameter into "follow the final symlink".
fn follow(raw: u32) -> WResult<bool> {
    Ok(flags(raw.into(), LOOKUP_SYMLINK_FOLLOW.into(), "Lookupflags")? != 0)
}

/// After a following lookup, a path that ended in `/` must name a directory.
fn check_dir_required(r: &Resolved<'_>, st: &libc::stat) -> WResult<()> {
    if r.dir_required && st.st_mode & libc::S_IFMT != libc::S_IFDIR {
        return Err(Errno::Notdir.into());
    }
    Ok(())
}

/// `path_create_directory(fd, path, path_len)`.
pub(crate) fn path_create_directory(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    p: Params<'_>,
) -> WResult<()> {
    let path = mem.string(p.u32(1), p.u32(2))?;
    let d = dir(ctx, p.u32(0), true)?;
    let r = resolve(d.fd.as_fd(), &path, FinalLink::Keep)?;
    Ok(sys::mkdirat(r.dir(), &r.name_for_kernel()).map_err(Errno::from)?)
}

/// `path.ends_with('/')`: Wasmtime treats `x/` like `x/.` when removing, so nothing is removed
/// and the answer depends on what `x` leads to: `ENOTDIR` for a non-directory, else `on_dir`.
fn remove_with_slash(d: &DirEntry, path: &str, on_dir: Errno) -> WResult<()> {
    let r = resolve(d.fd.as_fd(), path, FinalLink::FollowIfSlash)?;
    check_dir_required(&r, &r.lstat()?)?;
    Err(on_dir.into())
}

/// `path_remove_directory(fd, path, path_len)`.
pub(crate) fn path_remove_directory(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    p: Params<'_>,
) -> WResult<()> {
    let path = mem.string(p.u32(1), p.u32(2))?;
    let d = dir(ctx, p.u32(0), true)?;
    if path.ends_with('/') {
        return remove_with_slash(d, &path, Errno::Inval);
    }
    let r = resolve(d.fd.as_fd(), &path, FinalLink::Keep)?;
    Ok(sys::unlinkat(r.dir(), &r.name, libc::AT_REMOVEDIR).map_err(Errno::from)?)
}

/// `path_unlink_file(fd, path, path_len)`.
pub(crate) fn path_unlink_file(ctx: &mut WasiCtx, mem: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    let path = mem.string(p.u32(1), p.u32(2))?;
    let d = dir(ctx, p.u32(0), true)?;
    if path.ends_with('/') {
        return remove_with_slash(d, &path, Errno::Isdir);
    }
    let r = resolve(d.fd.as_fd(), &path, FinalLink::Keep)?;
    Ok(sys::unlinkat(r.dir(), &r.name, 0).map_err(Errno::from)?)
}

/// `path_rename(fd, old_path, old_len, new_fd, new_path, new_len)`.
pub(crate) fn path_rename(ctx: &mut WasiCtx, mem: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    let old = mem.string(p.u32(1), p.u32(2))?;
    let new = mem.string(p.u32(4), p.u32(5))?;
    let od = dir(ctx, p.u32(0), true)?;
    let nd = dir(ctx, p.u32(3), true)?;
    let ro = resolve(od.fd.as_fd(), &old, FinalLink::Keep)?;
    let rn = resolve(nd.fd.as_fd(), &new, FinalLink::Keep)?;
    Ok(sys::renameat(
        ro.dir(),
        &ro.name_for_kernel(),
        rn.dir(),
        &rn.name_for_kernel(),
    )
    .map_err(Errno::from)?)
}

/// `path_link(old_fd, old_flags, old_path, old_len, new_fd, new_path, new_len)`.
/// `symlink_follow` is `EINVAL`, as in Wasmtime.
pub(crate) fn path_link(ctx: &mut WasiCtx, mem: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    let follow_old = follow(p.u32(1))?;
    let old = mem.string(p.u32(2), p.u32(3))?;
    let new = mem.string(p.u32(5), p.u32(6))?;
    let od = dir(ctx, p.u32(0), true)?;
    let nd = dir(ctx, p.u32(4), true)?;
    if follow_old {
        return Err(Errno::Inval.into());
    }
    let ro = resolve(od.fd.as_fd(), &old, FinalLink::FollowIfSlash)?;
    if ro.dir_required {
        // "dir/" can only name a directory, and directories cannot be hard-linked.
        let st = ro.lstat()?;
        check_dir_required(&ro, &st)?;
        return Err(Errno::Perm.into());
    }
    let rn = resolve(nd.fd.as_fd(), &new, FinalLink::Keep)?;
    Ok(sys::linkat(ro.dir(), &ro.name, rn.dir(), &rn.name_for_kernel()).map_err(Errno::from)?)
}

/// `path_symlink(old_path, old_len, fd, new_path, new_len)`: absolute targets are `EPERM`
/// (as Wasmtime); relative targets are stored verbatim and only matter when resolved, which is
/// sandboxed.
pub(crate) fn path_symlink(ctx: &mut WasiCtx, mem: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    let target = mem.string(p.u32(0), p.u32(1))?;
    let new = mem.string(p.u32(3), p.u32(4))?;
    let d = dir(ctx, p.u32(2), true)?;
    if target.starts_with('/') {
        return Err(Errno::Perm.into());
    }
    let target = CString::new(target).map_err(|_| Errno::Inval)?;
    let r = resolve(d.fd.as_fd(), &new, FinalLink::Keep)?;
    Ok(sys::symlinkat(&target, r.dir(), &r.name_for_kernel()).map_err(Errno::from)?)
}

/// `path_readlink(fd, path, path_len, buf, buf_len, bufused)`: the target is truncated to
/// `buf_len` without error; absolute targets are `EPERM` (as Wasmtime).
pub(crate) fn path_readlink(ctx: &mut WasiCtx, mem: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    let path = mem.string(p.u32(1), p.u32(2))?;
    let d = dir(ctx, p.u32(0), false)?;
    let r = resolve(d.fd.as_fd(), &path, FinalLink::FollowIfSlash)?;
    if r.dir_required {
        // "x/" names whatever x leads to, which is no longer a symlink.
        check_dir_required(&r, &r.lstat()?)?;
        return Err(Errno::Inval.into());
    }
    let target = sys::readlinkat(r.dir(), &r.name).map_err(Errno::from)?;
    if target.starts_with(b"/") {
        return Err(Errno::Perm.into());
    }
    let n = target.len().min(p.u32(4) as usize);
    mem.write_bytes(p.u32(3), &target[..n])?;
    mem.write_u32(p.u32(5), n as u32)
}

/// `path_filestat_get(fd, flags, path, path_len, filestat)`.
pub(crate) fn path_filestat_get(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    p: Params<'_>,
) -> WResult<()> {
    let follow = follow(p.u32(1))?;
    let path = mem.string(p.u32(2), p.u32(3))?;
    let d = dir(ctx, p.u32(0), false)?;
    let r = resolve(d.fd.as_fd(), &path, FinalLink::lookup(follow))?;
    let st = r.lstat()?;
    check_dir_required(&r, &st)?;
    mem.write_struct(p.u32(4), &Filestat::from_host(&st).encode(), 8)
}

/// `path_filestat_set_times(fd, flags, path, path_len, atim, mtim, fst_flags)`.
pub(crate) fn path_filestat_set_times(
    ctx: &mut WasiCtx,
    mem: &mut Mem<'_>,
    p: Params<'_>,
) -> WResult<()> {
    let follow = follow(p.u32(1))?;
    let t = times(p.u64(4), p.u64(5), p.u32(6))?;
    let path = mem.string(p.u32(2), p.u32(3))?;
    let d = dir(ctx, p.u32(0), true)?;
    let r = resolve(d.fd.as_fd(), &path, FinalLink::lookup(follow))?;
    if follow || r.dir_required {
        // A following lookup must find the target even when both times are UTIME_OMIT.
        check_dir_required(&r, &r.lstat()?)?;
    }
    Ok(sys::lutimensat(r.dir(), &r.name, &t).map_err(Errno::from)?)
}
