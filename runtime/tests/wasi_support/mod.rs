//! Shared helpers for the WASI tests: a guest memory plus context, and scratch directories.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use wasmaot_runtime::wasi::{Errno, WasiCtx, WasiTrap};

/// Size of the fake linear memory.
pub const MEM: usize = 65536;
/// Scratch address for path strings.
pub const PATH: u32 = 1024;
/// Second scratch address for path strings.
pub const PATH2: u32 = 2048;
/// Scratch address for results.
pub const RET: u32 = 512;
/// Scratch address for data buffers.
pub const BUF: u32 = 8192;

/// `rights::fd_read`.
pub const R_READ: u64 = 1 << 1;
/// `rights::fd_write`.
pub const R_WRITE: u64 = 1 << 6;
/// `rights::fd_readdir`.
pub const R_READDIR: u64 = 1 << 14;

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates a fresh, empty directory.
    pub fn new() -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let p = std::env::temp_dir().join(format!(
            "wasmaot-wasi-{}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            nanos
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    /// `self/rel`.
    pub fn join(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }

    /// Writes a file (creating parents).
    pub fn file(&self, rel: &str, data: &str) -> PathBuf {
        let p = self.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, data).unwrap();
        p
    }

    /// Creates a symlink `rel -> target`.
    pub fn symlink(&self, target: &str, rel: &str) {
        std::os::unix::fs::symlink(target, self.join(rel)).unwrap();
    }

    /// The path as a `&Path`.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A context plus a 64 KiB guest memory.
pub struct Guest {
    /// The WASI state.
    pub ctx: WasiCtx,
    /// Linear memory.
    pub mem: Vec<u8>,
}

impl Guest {
    /// Wraps a context.
    pub fn new(ctx: WasiCtx) -> Guest {
        Guest {
            ctx,
            mem: vec![0; MEM],
        }
    }

    /// Raw call.
    pub fn call(&mut self, name: &str, args: &[u64]) -> Result<i32, WasiTrap> {
        self.ctx.call(name, &mut self.mem, args)
    }

    /// A call that must return an errno (not trap).
    pub fn errno(&mut self, name: &str, args: &[u64]) -> i32 {
        match self.call(name, args) {
            Ok(e) => e,
            Err(t) => panic!("{name}{args:?} trapped: {t}"),
        }
    }

    /// Copies bytes into memory, returning `(ptr, len)` as call arguments.
    pub fn put(&mut self, at: u32, data: &[u8]) -> (u64, u64) {
        self.mem[at as usize..at as usize + data.len()].copy_from_slice(data);
        (at.into(), data.len() as u64)
    }

    /// Reads guest bytes.
    pub fn get(&self, at: u32, len: usize) -> &[u8] {
        &self.mem[at as usize..at as usize + len]
    }

    /// Reads a little-endian u32.
    pub fn u32(&self, at: u32) -> u32 {
        u32::from_le_bytes(self.get(at, 4).try_into().unwrap())
    }

    /// Reads a little-endian u64.
    pub fn u64(&self, at: u32) -> u64 {
        u64::from_le_bytes(self.get(at, 8).try_into().unwrap())
    }

    /// `path_open`; returns the new fd or the errno.
    pub fn open_with(
        &mut self,
        dirfd: u32,
        path: &str,
        oflags: u64,
        rights: u64,
        fdflags: u64,
        follow: bool,
    ) -> Result<u32, i32> {
        let (p, l) = self.put(PATH, path.as_bytes());
        let args = [
            dirfd.into(),
            follow as u64,
            p,
            l,
            oflags,
            rights,
            rights,
            fdflags,
            RET.into(),
        ];
        match self.errno("path_open", &args) {
            0 => Ok(self.u32(RET)),
            e => Err(e),
        }
    }

    /// `path_open` following symlinks, no oflags/fdflags.
    pub fn open(&mut self, dirfd: u32, path: &str, rights: u64) -> Result<u32, i32> {
        self.open_with(dirfd, path, 0, rights, 0, true)
    }

    /// A one-path call such as `path_create_directory(fd, path, len)`.
    pub fn path_call(&mut self, name: &str, fd: u32, path: &str) -> i32 {
        let (p, l) = self.put(PATH, path.as_bytes());
        self.errno(name, &[fd.into(), p, l])
    }

    /// `path_rename(fd, old, fd2, new)`.
    pub fn rename(&mut self, fd: u32, old: &str, fd2: u32, new: &str) -> i32 {
        let (p1, l1) = self.put(PATH, old.as_bytes());
        let (p2, l2) = self.put(PATH2, new.as_bytes());
        self.errno("path_rename", &[fd.into(), p1, l1, fd2.into(), p2, l2])
    }

    /// `path_symlink(target, fd, link)`.
    pub fn symlink(&mut self, target: &str, fd: u32, link: &str) -> i32 {
        let (p1, l1) = self.put(PATH, target.as_bytes());
        let (p2, l2) = self.put(PATH2, link.as_bytes());
        self.errno("path_symlink", &[p1, l1, fd.into(), p2, l2])
    }

    /// Writes `data` to `fd` with one iovec; returns errno and bytes written.
    pub fn write(&mut self, fd: u32, data: &[u8]) -> (i32, u32) {
        let (p, l) = self.put(BUF, data);
        self.put(
            RET + 64,
            &[(p as u32).to_le_bytes(), (l as u32).to_le_bytes()].concat(),
        );
        let e = self.errno("fd_write", &[fd.into(), (RET + 64).into(), 1, RET.into()]);
        (e, self.u32(RET))
    }

    /// Reads up to `max` bytes from `fd` with one iovec.
    pub fn read(&mut self, fd: u32, max: u32) -> Result<Vec<u8>, i32> {
        self.put(RET + 64, &[BUF.to_le_bytes(), max.to_le_bytes()].concat());
        match self.errno("fd_read", &[fd.into(), (RET + 64).into(), 1, RET.into()]) {
            0 => Ok(self.get(BUF, self.u32(RET) as usize).to_vec()),
            e => Err(e),
        }
    }

    /// Reads `fd` to end-of-file.
    pub fn read_all(&mut self, fd: u32) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let chunk = self.read(fd, 7).expect("fd_read");
            if chunk.is_empty() {
                return out;
            }
            out.extend(chunk);
        }
    }

    /// `path_filestat_get`; returns the filestat filetype and size.
    pub fn stat(&mut self, fd: u32, path: &str, follow: bool) -> Result<(u8, u64), i32> {
        let (p, l) = self.put(PATH, path.as_bytes());
        match self.errno(
            "path_filestat_get",
            &[fd.into(), follow as u64, p, l, BUF.into()],
        ) {
            0 => Ok((self.mem[BUF as usize + 16], self.u64(BUF + 32))),
            e => Err(e),
        }
    }
}

/// The errno value of `e`.
pub fn en(e: Errno) -> i32 {
    e.raw()
}
