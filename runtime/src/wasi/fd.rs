//! The guest's descriptor table: what each WASI fd refers to, and fd number allocation.
//!
//! Allocation follows Wasmtime: the highest previously freed number is reused first, otherwise
//! one past the highest fd in use.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::os::fd::OwnedFd;

use super::builder::DirPerms;
use super::errno::Errno;
use super::stdio::{Input, Output};

/// An open regular file (or other non-directory node).
#[derive(Debug)]
pub(crate) struct FileEntry {
    /// The host file.
    pub file: File,
    /// Opened with read access.
    pub readable: bool,
    /// Opened with write access.
    pub writable: bool,
    /// Permissions of the preopen it was reached through.
    pub perms: DirPerms,
}

/// One cached `fd_readdir` entry.
#[derive(Clone, Debug)]
pub(crate) struct Listed {
    /// Name bytes.
    pub name: Vec<u8>,
    /// Inode.
    pub ino: u64,
    /// Preview1 `filetype`.
    pub filetype: u8,
}

/// An open directory: the capability every path operation is relative to.
#[derive(Debug)]
pub(crate) struct DirEntry {
    /// Host directory descriptor (`O_RDONLY | O_DIRECTORY`).
    pub fd: OwnedFd,
    /// What the guest may do beneath it.
    pub perms: DirPerms,
    /// Guest name when this is a preopen.
    pub preopen: Option<String>,
    /// Snapshot taken by `fd_readdir` with cookie 0, reused for later cookies.
    pub listing: Option<Vec<Listed>>,
}

/// What one WASI fd refers to.
#[derive(Debug)]
pub(crate) enum Entry {
    /// Standard input.
    Stdin(Input),
    /// Standard output or error.
    Stdout(Output),
    /// A file opened with `path_open`.
    File(FileEntry),
    /// A directory (preopened or opened with `path_open`).
    Dir(DirEntry),
}

/// The fd table.
#[derive(Debug, Default)]
pub(crate) struct FdTable {
    map: BTreeMap<u32, Entry>,
    free: BTreeSet<u32>,
}

impl FdTable {
    /// Installs `entry` at a fresh fd number.
    pub fn insert(&mut self, entry: Entry) -> Result<u32, Errno> {
        let fd = match self.free.pop_last() {
            Some(fd) => fd,
            None => match self.map.last_key_value() {
                Some((&last, _)) => last.checked_add(1).ok_or(Errno::Mfile)?,
                None => 0,
            },
        };
        self.map.insert(fd, entry);
        Ok(fd)
    }

    /// Installs `entry` at exactly `fd` (used while building the context).
    pub fn insert_at(&mut self, fd: u32, entry: Entry) {
        self.free.remove(&fd);
        self.map.insert(fd, entry);
    }

    /// The entry for `fd`, or `EBADF`.
    pub fn get(&mut self, fd: u32) -> Result<&mut Entry, Errno> {
        self.map.get_mut(&fd).ok_or(Errno::Badf)
    }

    /// The file entry for `fd`; `EBADF` for anything else.
    pub fn file(&mut self, fd: u32) -> Result<&mut FileEntry, Errno> {
        match self.get(fd)? {
            Entry::File(f) => Ok(f),
            _ => Err(Errno::Badf),
        }
    }

    /// The directory entry for `fd`; `EBADF` for anything else (as Wasmtime).
    pub fn dir(&mut self, fd: u32) -> Result<&mut DirEntry, Errno> {
        match self.get(fd)? {
            Entry::Dir(d) => Ok(d),
            _ => Err(Errno::Badf),
        }
    }

    /// The directory entry for `fd`, shared; `EBADF` for anything else.
    pub fn dir_ref(&self, fd: u32) -> Result<&DirEntry, Errno> {
        match self.map.get(&fd) {
            Some(Entry::Dir(d)) => Ok(d),
            _ => Err(Errno::Badf),
        }
    }

    /// Closes `fd`.
    pub fn remove(&mut self, fd: u32) -> Result<Entry, Errno> {
        let e = self.map.remove(&fd).ok_or(Errno::Badf)?;
        self.free.insert(fd);
        Ok(e)
    }

    /// Moves `from` over `to` (closing what `to` held); both must be open.
    pub fn renumber(&mut self, from: u32, to: u32) -> Result<(), Errno> {
        if !self.map.contains_key(&from) || !self.map.contains_key(&to) {
            return Err(Errno::Badf);
        }
        if from != to {
            let e = self.remove(from)?;
            self.map.insert(to, e);
        }
        Ok(())
    }
}
