//! Sandboxed path resolution beneath a directory capability.
//!
//! Paths are walked one component at a time from the directory fd, opening each intermediate
//! directory with `O_PATH | O_NOFOLLOW` and expanding symlinks in user space, so the kernel never
//! follows a link or `..` on our behalf. `..` pops our own stack of directory fds; popping past
//! the starting directory, an absolute path, or an absolute symlink target is an escape and fails
//! with `EPERM`, which is what Wasmtime (cap-std) returns. At most 40 symlinks are expanded
//! (`ELOOP` beyond). The final component is returned unopened so each operation can apply its
//! own non-following `*at` call to it.

use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use super::errno::{Errno, WResult};
use super::sys;

/// Symlink expansions allowed in one resolution (Linux's limit).
const MAX_SYMLINKS: u32 = 40;

/// The directory holding the final component.
enum Parent<'a> {
    /// The starting directory itself.
    Start(BorrowedFd<'a>),
    /// A directory reached by the walk.
    Owned(OwnedFd),
}

/// A resolved path: a directory fd inside the sandbox and one final component in it.
pub(crate) struct Resolved<'a> {
    parent: Parent<'a>,
    /// The final component: a single name without `/`, never `..`; `.` when the path names
    /// the directory itself (`.`, `a/..`).
    pub name: CString,
    /// The path ended in `/` (or a final symlink's target did): it must name a directory.
    pub dir_required: bool,
}

impl Resolved<'_> {
    /// The directory that contains [`Resolved::name`].
    pub fn dir(&self) -> BorrowedFd<'_> {
        match &self.parent {
            Parent::Start(fd) => *fd,
            Parent::Owned(fd) => fd.as_fd(),
        }
    }

    /// The final name with the trailing slash preserved, for calls that do not follow the final
    /// component anyway (mkdir, unlink, rmdir, rename, symlink) so the kernel applies its
    /// trailing-slash rules.
    pub fn name_for_kernel(&self) -> CString {
        if !self.dir_required || self.name.as_bytes() == b"." {
            return self.name.clone();
        }
        let mut v = self.name.as_bytes().to_vec();
        v.push(b'/');
        CString::new(v).expect("component has no NUL")
    }

    /// `lstat` of the final component (it is never followed here).
    pub fn lstat(&self) -> WResult<libc::stat> {
        Ok(sys::lstatat(self.dir(), &self.name)?)
    }
}

/// State of one walk.
struct Walk<'a> {
    start: BorrowedFd<'a>,
    stack: Vec<OwnedFd>,
    /// Components still to visit, last one first.
    pending: Vec<Vec<u8>>,
    links: u32,
    dir_required: bool,
}

impl<'a> Walk<'a> {
    fn cur(&self) -> BorrowedFd<'_> {
        self.stack.last().map_or(self.start, |fd| fd.as_fd())
    }

    /// Queues the components of `path` in front of the pending ones.
    fn push(&mut self, path: &[u8], is_final: bool) -> WResult<()> {
        if path.is_empty() {
            return Err(Errno::Noent.into());
        }
        if path[0] == b'/' {
            return Err(Errno::Perm.into());
        }
        if is_final && path.ends_with(b"/") {
            self.dir_required = true;
        }
        let comps = path.split(|&b| b == b'/').filter(|c| !c.is_empty());
        let comps: Vec<Vec<u8>> = comps.map(<[u8]>::to_vec).collect();
        self.pending.extend(comps.into_iter().rev());
        Ok(())
    }

    /// Replaces a symlink by its target.
    fn splice(&mut self, target: &[u8], is_final: bool) -> WResult<()> {
        self.links += 1;
        if self.links > MAX_SYMLINKS {
            return Err(Errno::Loop.into());
        }
        self.push(target, is_final)
    }

    fn finish(mut self, name: CString) -> Resolved<'a> {
        let parent = match self.stack.pop() {
            Some(fd) => Parent::Owned(fd),
            None => Parent::Start(self.start),
        };
        Resolved {
            parent,
            name,
            dir_required: self.dir_required,
        }
    }
}

/// What to do when the final component is a symlink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FinalLink {
    /// Leave it: the operation acts on the link itself and the kernel applies its own
    /// trailing-slash rules without following (mkdir, unlink, rmdir, rename, symlink, link target).
    Keep,
    /// Expand it only when the path ends in `/` (lookups without `symlink_follow`).
    FollowIfSlash,
    /// Expand it (lookups with `symlink_follow`).
    Follow,
}

impl FinalLink {
    /// `Follow` when `lookupflags::symlink_follow` is set, else `FollowIfSlash`.
    pub fn lookup(follow: bool) -> FinalLink {
        if follow {
            FinalLink::Follow
        } else {
            FinalLink::FollowIfSlash
        }
    }
}

/// Resolves `path` beneath `start`, treating a final symlink as `link` says.
pub(crate) fn resolve<'a>(
    start: BorrowedFd<'a>,
    path: &str,
    link: FinalLink,
) -> WResult<Resolved<'a>> {
    if path.contains('\0') {
        return Err(Errno::Inval.into());
    }
    let mut walk = Walk {
        start,
        stack: Vec::new(),
        pending: Vec::new(),
        links: 0,
        dir_required: false,
    };
    walk.push(path.as_bytes(), true)?;
    loop {
        let Some(comp) = walk.pending.pop() else {
            return Ok(walk.finish(c".".to_owned()));
        };
        let last = walk.pending.is_empty();
        match comp.as_slice() {
            b"." => {}
            b".." => {
                if walk.stack.pop().is_none() {
                    return Err(Errno::Perm.into());
                }
            }
            name => {
                let cname = CString::new(name).expect("path has no NUL");
                if last {
                    let follow = match link {
                        FinalLink::Keep => false,
                        FinalLink::FollowIfSlash => walk.dir_required,
                        FinalLink::Follow => true,
                    };
                    if follow {
                        match sys::readlinkat(walk.cur(), &cname) {
                            Ok(target) => {
                                walk.splice(&target, true)?;
                                continue;
                            }
                            Err(e)
                                if matches!(
                                    e.raw_os_error(),
                                    Some(libc::EINVAL | libc::ENOENT)
                                ) => {}
                            Err(e) => return Err(e.into()),
                        }
                    }
                    return Ok(walk.finish(cname));
                }
                step(&mut walk, &cname)?;
            }
        }
    }
}

/// Enters intermediate component `name`: a directory is pushed, a symlink is expanded.
fn step(walk: &mut Walk<'_>, name: &CStr) -> WResult<()> {
    let fd = sys::openat(walk.cur(), name, libc::O_PATH | libc::O_NOFOLLOW, 0)?;
    let st = sys::fstat(fd.as_fd())?;
    match st.st_mode & libc::S_IFMT {
        libc::S_IFDIR => walk.stack.push(fd),
        libc::S_IFLNK => {
            let target = sys::readlinkat(fd.as_fd(), c"")?;
            walk.splice(&target, false)?;
        }
        _ => return Err(Errno::Notdir.into()),
    }
    Ok(())
}
