//! `path_open`: opening files and directories beneath a directory capability.

use std::os::fd::AsFd;

use super::errno::{Errno, WResult};
use super::fd::{DirEntry, Entry, FileEntry};
use super::mem::Mem;
use super::path::{resolve, FinalLink};
use super::sys;
use super::types::{fdflags, flags, oflags, rights, Params, LOOKUP_SYMLINK_FOLLOW};
use super::WasiCtx;

/// `path_open(dirfd, dirflags, path, path_len, oflags, rights_base, rights_inheriting,
/// fdflags, fd)`.
///
/// Access mode follows Wasmtime: write access iff `rights_base` has `fd_write`, read access
/// iff it has `fd_read` or lacks `fd_write`. A read-only preopen answers `EPERM` to
/// creation, truncation and write access; the sync fdflags are `ENOTSUP`.
pub(crate) fn path_open(ctx: &mut WasiCtx, mem: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    let lookup = flags(p.u32(1).into(), LOOKUP_SYMLINK_FOLLOW.into(), "Lookupflags")?;
    let path = mem.string(p.u32(2), p.u32(3))?;
    let of = flags(p.u32(4).into(), oflags::ALL.into(), "Oflags")? as u16;
    let base = flags(p.u64(5), rights::ALL, "Rights")?;
    flags(p.u64(6), rights::ALL, "Rights")?;
    let fdf = flags(p.u32(7).into(), fdflags::ALL.into(), "Fdflags")? as u16;

    let dir = ctx.fds.dir_ref(p.u32(0))?;
    if of & oflags::CREAT != 0 && of & oflags::DIRECTORY != 0 {
        return Err(Errno::Inval.into());
    }
    let perms = dir.perms;
    let write = base & rights::FD_WRITE != 0;
    let read = base & rights::FD_READ != 0 || !write;
    if !perms.read || ((of & (oflags::CREAT | oflags::TRUNC) != 0 || write) && !perms.write) {
        return Err(Errno::Perm.into());
    }
    if fdf & (fdflags::DSYNC | fdflags::RSYNC | fdflags::SYNC) != 0 {
        return Err(Errno::Notsup.into());
    }
    let r = resolve(dir.fd.as_fd(), &path, FinalLink::lookup(lookup != 0))?;
    if of & oflags::CREAT != 0 && r.dir_required {
        return Err(Errno::Isdir.into());
    }

    let mut fl = libc::O_NOFOLLOW;
    fl |= match (read, write) {
        (true, true) => libc::O_RDWR,
        (false, true) => libc::O_WRONLY,
        _ => libc::O_RDONLY,
    };
    let bits = [
        (
            of & oflags::DIRECTORY != 0 || r.dir_required,
            libc::O_DIRECTORY,
        ),
        (of & oflags::CREAT != 0, libc::O_CREAT),
        (of & oflags::EXCL != 0, libc::O_EXCL),
        (of & oflags::TRUNC != 0, libc::O_TRUNC),
        (fdf & fdflags::APPEND != 0, libc::O_APPEND),
        (fdf & fdflags::NONBLOCK != 0, libc::O_NONBLOCK),
    ];
    for (on, bit) in bits {
        if on {
            fl |= bit;
        }
    }
    let fd = sys::openat(r.dir(), &r.name, fl, 0o666).map_err(Errno::from)?;
    let st = sys::fstat(fd.as_fd()).map_err(Errno::from)?;
    let entry = if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
        Entry::Dir(DirEntry {
            fd,
            perms,
            preopen: None,
            listing: None,
        })
    } else {
        Entry::File(FileEntry {
            file: sys::file_from(fd),
            readable: read,
            writable: write,
            perms,
        })
    };
    let new = ctx.fds.insert(entry)?;
    mem.write_u32(p.u32(8), new)
}
