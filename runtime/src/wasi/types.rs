//! Preview1 constants, parameter decoding (enum/flag validation) and the byte layouts of the
//! structures written to guest memory (little-endian, per `wasi_snapshot_preview1.witx`).

use super::errno::{WResult, WasiTrap};

/// Bits of the `rights` type.
pub mod rights {
    /// `fd_read`.
    pub const FD_READ: u64 = 1 << 1;
    /// `fd_seek`.
    pub const FD_SEEK: u64 = 1 << 2;
    /// `fd_write`.
    pub const FD_WRITE: u64 = 1 << 6;
    /// `fd_readdir`.
    pub const FD_READDIR: u64 = 1 << 14;
    /// `path_filestat_set_size`.
    pub const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    /// `fd_filestat_set_size`.
    pub const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    /// Every defined right (bits 0..=29).
    pub const ALL: u64 = (1 << 30) - 1;
    /// What Wasmtime reports as the base rights of a preopened directory.
    pub const PREOPEN_BASE: u64 = 0x07b7_fe00;
    /// What Wasmtime reports as the inheriting rights of a preopened directory.
    pub const PREOPEN_INHERITING: u64 = ALL & !PATH_FILESTAT_SET_SIZE & !(0b11 << 28);
    /// What Wasmtime reports (base and inheriting) for a directory opened with `path_open`.
    pub const DIR: u64 =
        ALL & !FD_SEEK & !FD_WRITE & !PATH_FILESTAT_SET_SIZE & !FD_FILESTAT_SET_SIZE;
}

/// `filetype` values.
pub mod filetype {
    /// Unknown (also used for non-terminal stdio, as in Wasmtime).
    pub const UNKNOWN: u8 = 0;
    /// Block device.
    pub const BLOCK_DEVICE: u8 = 1;
    /// Character device (terminal stdio).
    pub const CHARACTER_DEVICE: u8 = 2;
    /// Directory.
    pub const DIRECTORY: u8 = 3;
    /// Regular file.
    pub const REGULAR_FILE: u8 = 4;
    /// Stream socket.
    pub const SOCKET_STREAM: u8 = 6;
    /// Symbolic link.
    pub const SYMBOLIC_LINK: u8 = 7;

    /// The preview1 file type of a host `st_mode`.
    pub fn from_mode(mode: u32) -> u8 {
        match mode & libc::S_IFMT {
            libc::S_IFREG => REGULAR_FILE,
            libc::S_IFDIR => DIRECTORY,
            libc::S_IFLNK => SYMBOLIC_LINK,
            libc::S_IFCHR => CHARACTER_DEVICE,
            libc::S_IFBLK => BLOCK_DEVICE,
            libc::S_IFSOCK => SOCKET_STREAM,
            _ => UNKNOWN,
        }
    }
}

/// `fdflags` bits.
pub mod fdflags {
    /// Append mode.
    pub const APPEND: u16 = 1;
    /// Synchronized data integrity (unsupported, as in Wasmtime).
    pub const DSYNC: u16 = 2;
    /// Non-blocking mode.
    pub const NONBLOCK: u16 = 4;
    /// Synchronized read integrity (unsupported).
    pub const RSYNC: u16 = 8;
    /// Synchronized file integrity (unsupported).
    pub const SYNC: u16 = 16;
    /// All defined bits.
    pub const ALL: u16 = 31;
}

/// `oflags` bits.
pub mod oflags {
    /// Create if missing.
    pub const CREAT: u16 = 1;
    /// Fail if not a directory.
    pub const DIRECTORY: u16 = 2;
    /// Fail if it exists.
    pub const EXCL: u16 = 4;
    /// Truncate to size 0.
    pub const TRUNC: u16 = 8;
    /// All defined bits.
    pub const ALL: u16 = 15;
}

/// `fstflags` bits.
pub mod fstflags {
    /// Set atime to the given value.
    pub const ATIM: u16 = 1;
    /// Set atime to now.
    pub const ATIM_NOW: u16 = 2;
    /// Set mtime to the given value.
    pub const MTIM: u16 = 4;
    /// Set mtime to now.
    pub const MTIM_NOW: u16 = 8;
    /// All defined bits.
    pub const ALL: u16 = 15;
}

/// `lookupflags::symlink_follow`.
pub const LOOKUP_SYMLINK_FOLLOW: u32 = 1;

/// Narrows an enum parameter to `u8`, trapping when it is above `max` (Wasmtime behaviour).
pub(crate) fn enum_u8(raw: u64, max: u8, ty: &'static str) -> WResult<u8> {
    if raw > u64::from(max) {
        return Err(WasiTrap::InvalidEnum { ty, value: raw }.into());
    }
    Ok(raw as u8)
}

/// Narrows a flags parameter, trapping when bits outside `all` are set (Wasmtime behaviour).
pub(crate) fn flags(raw: u64, all: u64, ty: &'static str) -> WResult<u64> {
    if raw & !all != 0 {
        return Err(WasiTrap::InvalidFlags { ty, value: raw }.into());
    }
    Ok(raw)
}

/// The 64-byte `filestat` structure.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Filestat {
    /// Device id.
    pub dev: u64,
    /// Inode.
    pub ino: u64,
    /// `filetype`.
    pub filetype: u8,
    /// Hard link count.
    pub nlink: u64,
    /// Size in bytes.
    pub size: u64,
    /// Access time (ns since the epoch).
    pub atim: u64,
    /// Modification time.
    pub mtim: u64,
    /// Status change time.
    pub ctim: u64,
}

/// Nanoseconds since the epoch of a host `(sec, nsec)` pair, clamped at 0.
fn ts(sec: i64, nsec: i64) -> u64 {
    (sec as i128 * 1_000_000_000 + nsec as i128).clamp(0, u64::MAX as i128) as u64
}

impl Filestat {
    /// Converts a host `stat`.
    pub fn from_host(st: &libc::stat) -> Filestat {
        Filestat {
            dev: st.st_dev,
            ino: st.st_ino,
            filetype: filetype::from_mode(st.st_mode),
            nlink: st.st_nlink,
            size: st.st_size as u64,
            atim: ts(st.st_atime, st.st_atime_nsec),
            mtim: ts(st.st_mtime, st.st_mtime_nsec),
            ctim: ts(st.st_ctime, st.st_ctime_nsec),
        }
    }

    /// The guest layout (size 64, align 8).
    pub fn encode(&self) -> [u8; 64] {
        let mut b = [0u8; 64];
        b[0..8].copy_from_slice(&self.dev.to_le_bytes());
        b[8..16].copy_from_slice(&self.ino.to_le_bytes());
        b[16] = self.filetype;
        b[24..32].copy_from_slice(&self.nlink.to_le_bytes());
        b[32..40].copy_from_slice(&self.size.to_le_bytes());
        b[40..48].copy_from_slice(&self.atim.to_le_bytes());
        b[48..56].copy_from_slice(&self.mtim.to_le_bytes());
        b[56..64].copy_from_slice(&self.ctim.to_le_bytes());
        b
    }
}

/// The 24-byte `fdstat` structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fdstat {
    /// `filetype`.
    pub filetype: u8,
    /// `fdflags`.
    pub flags: u16,
    /// Base rights.
    pub rights_base: u64,
    /// Inheriting rights.
    pub rights_inheriting: u64,
}

impl Fdstat {
    /// The guest layout (size 24, align 8).
    pub fn encode(&self) -> [u8; 24] {
        let mut b = [0u8; 24];
        b[0] = self.filetype;
        b[2..4].copy_from_slice(&self.flags.to_le_bytes());
        b[8..16].copy_from_slice(&self.rights_base.to_le_bytes());
        b[16..24].copy_from_slice(&self.rights_inheriting.to_le_bytes());
        b
    }
}

/// The 24-byte `dirent` header that precedes each name in `fd_readdir` output.
pub(crate) fn dirent(next: u64, ino: u64, namlen: u32, filetype: u8) -> [u8; 24] {
    let mut b = [0u8; 24];
    b[0..8].copy_from_slice(&next.to_le_bytes());
    b[8..16].copy_from_slice(&ino.to_le_bytes());
    b[16..20].copy_from_slice(&namlen.to_le_bytes());
    b[20] = filetype;
    b
}

/// The 8-byte `prestat` for a directory whose guest name is `name_len` bytes.
pub(crate) fn prestat_dir(name_len: u32) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[4..8].copy_from_slice(&name_len.to_le_bytes());
    b
}

/// The 32-byte `event` structure written by `poll_oneoff`.
pub(crate) fn event(userdata: u64, error: u16, ty: u8, nbytes: u64, rwflags: u16) -> [u8; 32] {
    let mut b = [0u8; 32];
    b[0..8].copy_from_slice(&userdata.to_le_bytes());
    b[8..10].copy_from_slice(&error.to_le_bytes());
    b[10] = ty;
    b[16..24].copy_from_slice(&nbytes.to_le_bytes());
    b[24..26].copy_from_slice(&rwflags.to_le_bytes());
    b
}

/// Positional access to the raw parameters of one call (i32 values in the low 32 bits).
#[derive(Clone, Copy)]
pub(crate) struct Params<'a>(pub &'a [u64]);

impl Params<'_> {
    /// Parameter `i` as an `i32` reinterpreted unsigned (pointers, lengths, fds, enums).
    pub fn u32(&self, i: usize) -> u32 {
        self.0[i] as u32
    }

    /// Parameter `i` as a `u64`.
    pub fn u64(&self, i: usize) -> u64 {
        self.0[i]
    }
}
