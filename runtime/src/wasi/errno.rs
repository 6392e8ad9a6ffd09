//! WASI errno values, the traps host functions can raise, and the internal error type that
//! carries either of them out of a host function.

use std::io;

use thiserror::Error;

macro_rules! errnos {
    ($($(#[$doc:meta])* $name:ident = $val:literal,)*) => {
        /// A preview1 `errno` value (numbering from `wasi_snapshot_preview1.witx`).
        #[repr(u16)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Errno {
            $($(#[$doc])* $name = $val,)*
        }
    };
}

errnos! {
    /// No error.
    Success = 0,
    /// Argument list too long.
    TooBig = 1,
    /// Permission denied.
    Acces = 2,
    /// Address in use.
    Addrinuse = 3,
    /// Address not available.
    Addrnotavail = 4,
    /// Address family not supported.
    Afnosupport = 5,
    /// Resource unavailable, or operation would block.
    Again = 6,
    /// Connection already in progress.
    Already = 7,
    /// Bad file descriptor.
    Badf = 8,
    /// Bad message.
    Badmsg = 9,
    /// Device or resource busy.
    Busy = 10,
    /// Operation canceled.
    Canceled = 11,
    /// No child processes.
    Child = 12,
    /// Connection aborted.
    Connaborted = 13,
    /// Connection refused.
    Connrefused = 14,
    /// Connection reset.
    Connreset = 15,
    /// Resource deadlock would occur.
    Deadlk = 16,
    /// Destination address required.
    Destaddrreq = 17,
    /// Mathematics argument out of domain of function.
    Dom = 18,
    /// Reserved.
    Dquot = 19,
    /// File exists.
    Exist = 20,
    /// Bad address.
    Fault = 21,
    /// File too large.
    Fbig = 22,
    /// Host is unreachable.
    Hostunreach = 23,
    /// Identifier removed.
    Idrm = 24,
    /// Illegal byte sequence.
    Ilseq = 25,
    /// Operation in progress.
    Inprogress = 26,
    /// Interrupted function.
    Intr = 27,
    /// Invalid argument.
    Inval = 28,
    /// I/O error.
    Io = 29,
    /// Socket is connected.
    Isconn = 30,
    /// Is a directory.
    Isdir = 31,
    /// Too many levels of symbolic links.
    Loop = 32,
    /// File descriptor value too large.
    Mfile = 33,
    /// Too many links.
    Mlink = 34,
    /// Message too large.
    Msgsize = 35,
    /// Reserved.
    Multihop = 36,
    /// Filename too long.
    Nametoolong = 37,
    /// Network is down.
    Netdown = 38,
    /// Connection aborted by network.
    Netreset = 39,
    /// Network unreachable.
    Netunreach = 40,
    /// Too many files open in system.
    Nfile = 41,
    /// No buffer space available.
    Nobufs = 42,
    /// No such device.
    Nodev = 43,
    /// No such file or directory.
    Noent = 44,
    /// Executable file format error.
    Noexec = 45,
    /// No locks available.
    Nolck = 46,
    /// Reserved.
    Nolink = 47,
    /// Not enough space.
    Nomem = 48,
    /// No message of the desired type.
    Nomsg = 49,
    /// Protocol not available.
    Noprotoopt = 50,
    /// No space left on device.
    Nospc = 51,
    /// Function not supported.
    Nosys = 52,
    /// The socket is not connected.
    Notconn = 53,
    /// Not a directory or a symbolic link to a directory.
    Notdir = 54,
    /// Directory not empty.
    Notempty = 55,
    /// State not recoverable.
    Notrecoverable = 56,
    /// Not a socket.
    Notsock = 57,
    /// Not supported, or operation not supported on socket.
    Notsup = 58,
    /// Inappropriate I/O control operation.
    Notty = 59,
    /// No such device or address.
    Nxio = 60,
    /// Value too large to be stored in data type.
    Overflow = 61,
    /// Previous owner died.
    Ownerdead = 62,
    /// Operation not permitted.
    Perm = 63,
    /// Broken pipe.
    Pipe = 64,
    /// Protocol error.
    Proto = 65,
    /// Protocol not supported.
    Protonosupport = 66,
    /// Protocol wrong type for socket.
    Prototype = 67,
    /// Result too large.
    Range = 68,
    /// Read-only file system.
    Rofs = 69,
    /// Invalid seek.
    Spipe = 70,
    /// No such process.
    Srch = 71,
    /// Reserved.
    Stale = 72,
    /// Connection timed out.
    Timedout = 73,
    /// Text file busy.
    Txtbsy = 74,
    /// Cross-device link.
    Xdev = 75,
    /// Extension: Capabilities insufficient.
    Notcapable = 76,
}

impl Errno {
    /// The value returned to the guest.
    pub fn raw(self) -> i32 {
        self as i32
    }

    /// Translates a Linux `errno` into its WASI counterpart (unknown values become `EIO`).
    pub fn from_host(raw: i32) -> Errno {
        use libc::*;
        match raw {
            0 => Errno::Success,
            E2BIG => Errno::TooBig,
            EACCES => Errno::Acces,
            EADDRINUSE => Errno::Addrinuse,
            EADDRNOTAVAIL => Errno::Addrnotavail,
            EAFNOSUPPORT => Errno::Afnosupport,
            EAGAIN => Errno::Again,
            EALREADY => Errno::Already,
            EBADF => Errno::Badf,
            EBADMSG => Errno::Badmsg,
            EBUSY => Errno::Busy,
            ECANCELED => Errno::Canceled,
            ECHILD => Errno::Child,
            ECONNABORTED => Errno::Connaborted,
            ECONNREFUSED => Errno::Connrefused,
            ECONNRESET => Errno::Connreset,
            EDEADLK => Errno::Deadlk,
            EDESTADDRREQ => Errno::Destaddrreq,
            EDOM => Errno::Dom,
            EDQUOT => Errno::Dquot,
            EEXIST => Errno::Exist,
            EFAULT => Errno::Fault,
            EFBIG => Errno::Fbig,
            EHOSTUNREACH => Errno::Hostunreach,
            EIDRM => Errno::Idrm,
            EILSEQ => Errno::Ilseq,
            EINPROGRESS => Errno::Inprogress,
            EINTR => Errno::Intr,
            EINVAL => Errno::Inval,
            EIO => Errno::Io,
            EISCONN => Errno::Isconn,
            EISDIR => Errno::Isdir,
            ELOOP => Errno::Loop,
            EMFILE => Errno::Mfile,
            EMLINK => Errno::Mlink,
            EMSGSIZE => Errno::Msgsize,
            EMULTIHOP => Errno::Multihop,
            ENAMETOOLONG => Errno::Nametoolong,
            ENETDOWN => Errno::Netdown,
            ENETRESET => Errno::Netreset,
            ENETUNREACH => Errno::Netunreach,
            ENFILE => Errno::Nfile,
            ENOBUFS => Errno::Nobufs,
            ENODEV => Errno::Nodev,
            ENOENT => Errno::Noent,
            ENOEXEC => Errno::Noexec,
            ENOLCK => Errno::Nolck,
            ENOLINK => Errno::Nolink,
            ENOMEM => Errno::Nomem,
            ENOMSG => Errno::Nomsg,
            ENOPROTOOPT => Errno::Noprotoopt,
            ENOSPC => Errno::Nospc,
            ENOSYS => Errno::Nosys,
            ENOTCONN => Errno::Notconn,
            ENOTDIR => Errno::Notdir,
            ENOTEMPTY => Errno::Notempty,
            ENOTRECOVERABLE => Errno::Notrecoverable,
            ENOTSOCK => Errno::Notsock,
            ENOTSUP => Errno::Notsup,
            ENOTTY => Errno::Notty,
            ENXIO => Errno::Nxio,
            EOVERFLOW => Errno::Overflow,
            EOWNERDEAD => Errno::Ownerdead,
            EPERM => Errno::Perm,
            EPIPE => Errno::Pipe,
            EPROTO => Errno::Proto,
            EPROTONOSUPPORT => Errno::Protonosupport,
            EPROTOTYPE => Errno::Prototype,
            ERANGE => Errno::Range,
            EROFS => Errno::Rofs,
            ESPIPE => Errno::Spipe,
            ESRCH => Errno::Srch,
            ESTALE => Errno::Stale,
            ETIMEDOUT => Errno::Timedout,
            ETXTBSY => Errno::Txtbsy,
            EXDEV => Errno::Xdev,
            _ => Errno::Io,
        }
    }
}

impl From<io::Error> for Errno {
    fn from(e: io::Error) -> Errno {
        match e.raw_os_error() {
            Some(raw) => Errno::from_host(raw),
            None => match e.kind() {
                io::ErrorKind::NotFound => Errno::Noent,
                io::ErrorKind::PermissionDenied => Errno::Perm,
                io::ErrorKind::InvalidInput => Errno::Inval,
                io::ErrorKind::OutOfMemory => Errno::Nomem,
                _ => Errno::Io,
            },
        }
    }
}

/// Why a WASI call did not return an errno: the guest must stop (exit or trap).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum WasiTrap {
    /// `proc_exit(code)` with `code < 126`: not an error, the program finished.
    #[error("exited with i32 exit status {0}")]
    Exit(i32),
    /// `proc_exit` with a status outside `0..126` (Wasmtime traps on these too).
    #[error("exit with invalid exit status outside of [0..126): {0}")]
    InvalidExitStatus(u32),
    /// A guest pointer/length pair that the function had to dereference lies outside memory.
    #[error("pointer out of bounds: {ptr:#x} + {len}")]
    OutOfBounds {
        /// Guest address.
        ptr: u32,
        /// Length of the access in bytes.
        len: u64,
    },
    /// A guest pointer not aligned to its type's alignment.
    #[error("pointer {ptr:#x} not aligned to {align}")]
    Misaligned {
        /// Guest address.
        ptr: u32,
        /// Required alignment.
        align: u32,
    },
    /// A parameter outside its enum's range (e.g. an unknown `whence` or `clockid`).
    #[error("invalid enum value {value} for {ty}")]
    InvalidEnum {
        /// The witx type name.
        ty: &'static str,
        /// The raw value.
        value: u64,
    },
    /// A flags parameter with undefined bits set.
    #[error("invalid flag value {value:#x} for {ty}")]
    InvalidFlags {
        /// The witx type name.
        ty: &'static str,
        /// The raw value.
        value: u64,
    },
    /// `call` with a name that is not part of `wasi_snapshot_preview1`.
    #[error("unknown WASI function `{0}`")]
    UnknownFunction(String),
    /// `call_index` with an index past [`super::WasiCtx::functions`].
    #[error("WASI function index {0} out of range")]
    BadIndex(usize),
    /// The caller passed the wrong number of parameters.
    #[error("`{name}` takes {expected} parameters, got {got}")]
    ArgCount {
        /// Function name.
        name: &'static str,
        /// Declared parameter count.
        expected: usize,
        /// Number passed.
        got: usize,
    },
}

/// What a host function body returns on failure: an errno for the guest, or a trap.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Error {
    /// Returned to the guest as the function's result.
    Errno(Errno),
    /// Ends the guest's execution.
    Trap(WasiTrap),
}

/// Result of a host function body.
pub(crate) type WResult<T> = Result<T, Error>;

impl From<Errno> for Error {
    fn from(e: Errno) -> Error {
        Error::Errno(e)
    }
}

impl From<WasiTrap> for Error {
    fn from(t: WasiTrap) -> Error {
        Error::Trap(t)
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        Error::Errno(e.into())
    }
}
