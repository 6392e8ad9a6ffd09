//! The direct sandbox checks: each raw WASI call and the errno Wasmtime 50 answers with.

const RW: u32 = 3; // fd of /sandbox (TMP, writable)
const RO: u32 = 4; // fd of /ro (read-only)
const FOLLOW: u32 = 1;
const O_CREAT: u32 = 1;
const O_DIRECTORY: u32 = 2;
const O_TRUNC: u32 = 8;
pub(crate) const R_READ: u64 = 1 << 1; // fd_read
const R_WRITE: u64 = 1 << 6; // fd_write
const R_ALL: u64 = 0x1FFF_FFFF;

pub(crate) enum Op {
    Open {
        fd: u32,
        path: &'static str,
        lookup: u32,
        oflags: u32,
        rights: u64,
    },
    Stat {
        fd: u32,
        path: &'static str,
        lookup: u32,
    },
    Mkdir {
        fd: u32,
        path: &'static str,
    },
    Unlink {
        fd: u32,
        path: &'static str,
    },
    Rmdir {
        fd: u32,
        path: &'static str,
    },
    Rename {
        fd: u32,
        old: &'static str,
        new_fd: u32,
        new: &'static str,
    },
    Symlink {
        target: &'static str,
        fd: u32,
        path: &'static str,
    },
    Link {
        fd: u32,
        old: &'static str,
        new_fd: u32,
        new: &'static str,
    },
    Readlink {
        fd: u32,
        path: &'static str,
    },
    /// open read-only, then `fd_write` to it.
    WriteReadOnlyFd {
        fd: u32,
        path: &'static str,
    },
    SetTimes {
        fd: u32,
        path: &'static str,
    },
}

/// (label, operation, expected errno: Wasmtime 50's answer).
pub(crate) fn direct_checks() -> Vec<(&'static str, Op, &'static str)> {
    use Op::*;
    let open = |fd, path| Open {
        fd,
        path,
        lookup: FOLLOW,
        oflags: 0,
        rights: R_READ,
    };
    vec![
        (
            "control: open target.txt",
            open(RW, "target.txt"),
            "SUCCESS",
        ),
        (
            "control: open sub/../target.txt",
            open(RW, "sub/../target.txt"),
            "SUCCESS",
        ),
        (
            "control: open inside_link",
            open(RW, "inside_link"),
            "SUCCESS",
        ),
        (
            "control: open dot_link/target.txt",
            open(RW, "dot_link/target.txt"),
            "SUCCESS",
        ),
        (
            "dotdot: open ../etc/passwd",
            open(RW, "../etc/passwd"),
            "EPERM",
        ),
        (
            "dotdot: open sub/../../etc/passwd",
            open(RW, "sub/../../etc/passwd"),
            "EPERM",
        ),
        (
            "dotdot: open .. as dir",
            Open {
                fd: RW,
                path: "..",
                lookup: FOLLOW,
                oflags: O_DIRECTORY,
                rights: R_READ,
            },
            "EPERM",
        ),
        (
            "dotdot: stat ..",
            Stat {
                fd: RW,
                path: "..",
                lookup: FOLLOW,
            },
            "EPERM",
        ),
        (
            "absolute: open /etc/passwd",
            open(RW, "/etc/passwd"),
            "EPERM",
        ),
        (
            "absolute: stat /",
            Stat {
                fd: RW,
                path: "/",
                lookup: FOLLOW,
            },
            "EPERM",
        ),
        (
            "absolute: create /tmp/wasmaot-escape",
            Open {
                fd: RW,
                path: "/tmp/wasmaot-escape",
                lookup: FOLLOW,
                oflags: O_CREAT,
                rights: R_ALL,
            },
            "EPERM",
        ),
        (
            "symlink out (absolute): open abs_link",
            open(RW, "abs_link"),
            "EPERM",
        ),
        (
            "symlink out (absolute): stat abs_link",
            Stat {
                fd: RW,
                path: "abs_link",
                lookup: FOLLOW,
            },
            "EPERM",
        ),
        (
            "symlink out (absolute): lstat abs_link",
            Stat {
                fd: RW,
                path: "abs_link",
                lookup: 0,
            },
            "SUCCESS",
        ),
        (
            "symlink out (absolute): open abs_link nofollow",
            Open {
                fd: RW,
                path: "abs_link",
                lookup: 0,
                oflags: 0,
                rights: R_READ,
            },
            "ELOOP",
        ),
        (
            "symlink out (dotdots): open rel_link",
            open(RW, "rel_link"),
            "EPERM",
        ),
        (
            "symlink to ..: open up_link as dir",
            Open {
                fd: RW,
                path: "up_link",
                lookup: FOLLOW,
                oflags: O_DIRECTORY,
                rights: R_READ,
            },
            "EPERM",
        ),
        (
            "symlink to ..: open up_link/etc/passwd",
            open(RW, "up_link/etc/passwd"),
            "EPERM",
        ),
        (
            "symlink to ..: stat up_link",
            Stat {
                fd: RW,
                path: "up_link",
                lookup: FOLLOW,
            },
            "EPERM",
        ),
        (
            "symlink to ..: create up_link/escaped.txt",
            Open {
                fd: RW,
                path: "up_link/escaped.txt",
                lookup: FOLLOW,
                oflags: O_CREAT,
                rights: R_ALL,
            },
            "EPERM",
        ),
        (
            "symlink to ../..: open sub/up2/etc/passwd",
            open(RW, "sub/up2/etc/passwd"),
            "EPERM",
        ),
        (
            "symlink to ..: mkdir up_link/escaped_dir",
            Mkdir {
                fd: RW,
                path: "up_link/escaped_dir",
            },
            "EPERM",
        ),
        (
            "escape: create ../escaped.txt",
            Open {
                fd: RW,
                path: "../escaped.txt",
                lookup: FOLLOW,
                oflags: O_CREAT,
                rights: R_ALL,
            },
            "EPERM",
        ),
        (
            "escape: mkdir ../escaped_dir",
            Mkdir {
                fd: RW,
                path: "../escaped_dir",
            },
            "EPERM",
        ),
        (
            "escape: rename target.txt -> ../escaped.txt",
            Rename {
                fd: RW,
                old: "target.txt",
                new_fd: RW,
                new: "../escaped.txt",
            },
            "EPERM",
        ),
        (
            "escape: link target.txt -> ../escaped_link",
            Link {
                fd: RW,
                old: "target.txt",
                new_fd: RW,
                new: "../escaped_link",
            },
            "EPERM",
        ),
        (
            "escape: symlink made_abs -> /etc/passwd",
            Symlink {
                target: "/etc/passwd",
                fd: RW,
                path: "made_abs",
            },
            "EPERM",
        ),
        (
            "escape: unlink ../x",
            Unlink {
                fd: RW,
                path: "../x",
            },
            "EPERM",
        ),
        (
            "control: readlink inside_link",
            Readlink {
                fd: RW,
                path: "inside_link",
            },
            "SUCCESS",
        ),
        // cap-std refuses to return an absolute symlink target.
        (
            "symlink out (absolute): readlink abs_link",
            Readlink {
                fd: RW,
                path: "abs_link",
            },
            "EPERM",
        ),
        (
            "read-only: open ro.txt for reading",
            open(RO, "ro.txt"),
            "SUCCESS",
        ),
        (
            "read-only: open ro.txt with write rights",
            Open {
                fd: RO,
                path: "ro.txt",
                lookup: FOLLOW,
                oflags: 0,
                rights: R_READ | R_WRITE,
            },
            "EPERM",
        ),
        (
            "read-only: create new.txt",
            Open {
                fd: RO,
                path: "new.txt",
                lookup: FOLLOW,
                oflags: O_CREAT,
                rights: R_READ | R_WRITE,
            },
            "EPERM",
        ),
        (
            "read-only: truncate ro.txt",
            Open {
                fd: RO,
                path: "ro.txt",
                lookup: FOLLOW,
                oflags: O_TRUNC,
                rights: R_READ | R_WRITE,
            },
            "EPERM",
        ),
        (
            "read-only: fd_write to a read-only fd",
            WriteReadOnlyFd {
                fd: RO,
                path: "ro.txt",
            },
            "EBADF",
        ),
        (
            "read-only: mkdir newdir",
            Mkdir {
                fd: RO,
                path: "newdir",
            },
            "EPERM",
        ),
        (
            "read-only: unlink ro.txt",
            Unlink {
                fd: RO,
                path: "ro.txt",
            },
            "EPERM",
        ),
        (
            "read-only: rmdir rsub",
            Rmdir {
                fd: RO,
                path: "rsub",
            },
            "EPERM",
        ),
        (
            "read-only: rename ro.txt -> moved.txt",
            Rename {
                fd: RO,
                old: "ro.txt",
                new_fd: RO,
                new: "moved.txt",
            },
            "EPERM",
        ),
        (
            "read-only: rename into it from /sandbox",
            Rename {
                fd: RW,
                old: "target.txt",
                new_fd: RO,
                new: "moved.txt",
            },
            "EPERM",
        ),
        (
            "read-only: symlink in it",
            Symlink {
                target: "ro.txt",
                fd: RO,
                path: "ln",
            },
            "EPERM",
        ),
        (
            "read-only: hard link in it",
            Link {
                fd: RO,
                old: "ro.txt",
                new_fd: RO,
                new: "hard",
            },
            "EPERM",
        ),
        (
            "read-only: set times of ro.txt",
            SetTimes {
                fd: RO,
                path: "ro.txt",
            },
            "EPERM",
        ),
    ]
}
