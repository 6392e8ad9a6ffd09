//! `fd_readdir`: directory listings with cookies.
//!
//! Like Wasmtime, entries `.` and `..` come first (cookies 1 and 2, both carrying the
//! directory's own inode), then the host entries in host order; an entry's `d_next` is its
//! position + 1, and a cookie `n` resumes after the first `n` entries. The listing is taken
//! when the cookie is 0 and reused for later cookies, so a traversal sees one consistent
//! snapshot. Output is truncated at `buf_len`, possibly mid-entry (`bufused == buf_len` tells
//! the guest to ask again).

use std::ffi::CString;
use std::os::fd::AsFd;

use super::errno::{Errno, WResult};
use super::fd::{DirEntry, Listed};
use super::mem::Mem;
use super::sys;
use super::types::{dirent, filetype, Params};
use super::WasiCtx;

/// The preview1 file type of a host `d_type`, asking `lstat` when the host does not say.
fn entry_type(dir: &DirEntry, name: &[u8], d_type: u8) -> u8 {
    match d_type {
        libc::DT_REG => filetype::REGULAR_FILE,
        libc::DT_DIR => filetype::DIRECTORY,
        libc::DT_LNK => filetype::SYMBOLIC_LINK,
        libc::DT_CHR => filetype::CHARACTER_DEVICE,
        libc::DT_BLK => filetype::BLOCK_DEVICE,
        libc::DT_SOCK => filetype::SOCKET_STREAM,
        libc::DT_UNKNOWN => CString::new(name)
            .ok()
            .and_then(|c| sys::lstatat(dir.fd.as_fd(), &c).ok())
            .map_or(filetype::UNKNOWN, |st| filetype::from_mode(st.st_mode)),
        _ => filetype::UNKNOWN,
    }
}

/// Snapshot of `dir`'s entries, `.` and `..` included.
fn list(dir: &DirEntry) -> Result<Vec<Listed>, Errno> {
    let ino = sys::fstat(dir.fd.as_fd()).map_err(Errno::from)?.st_ino;
    let mut out = vec![
        Listed {
            name: b".".to_vec(),
            ino,
            filetype: filetype::DIRECTORY,
        },
        Listed {
            name: b"..".to_vec(),
            ino,
            filetype: filetype::DIRECTORY,
        },
    ];
    for e in sys::list_dir(dir.fd.as_fd()).map_err(Errno::from)? {
        let filetype = entry_type(dir, &e.name, e.d_type);
        out.push(Listed {
            name: e.name,
            ino: e.ino,
            filetype,
        });
    }
    Ok(out)
}

/// `fd_readdir(fd, buf, buf_len, cookie, bufused)`.
pub(crate) fn fd_readdir(ctx: &mut WasiCtx, mem: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    let (buf, buf_len, cookie) = (p.u32(1), p.u32(2) as usize, p.u64(3));
    let d = ctx.fds.dir(p.u32(0))?;
    if !d.perms.read {
        return Err(Errno::Perm.into());
    }
    if cookie == 0 || d.listing.is_none() {
        d.listing = Some(list(d)?);
    }
    let listing = d.listing.as_deref().unwrap_or_default();
    let mut out = Vec::new();
    let skip = usize::try_from(cookie).unwrap_or(usize::MAX);
    for (i, e) in listing.iter().enumerate().skip(skip) {
        if out.len() >= buf_len {
            break;
        }
        out.extend_from_slice(&dirent(
            i as u64 + 1,
            e.ino,
            e.name.len() as u32,
            e.filetype,
        ));
        out.extend_from_slice(&e.name);
    }
    out.truncate(buf_len);
    mem.write_bytes(buf, &out)?;
    mem.write_u32(p.u32(4), out.len() as u32)
}
