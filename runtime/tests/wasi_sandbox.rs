//! The capability sandbox: nothing outside a preopen is reachable, whatever the path or
//! symlinks say, and read-only preopens refuse every mutation. Errnos are Wasmtime's: `EPERM`
//! for escapes and for mutations under a read-only preopen.

#[path = "wasi_support/mod.rs"]
mod support;

use support::*;
use wasmaot_runtime::wasi::{DirPerms, Errno, WasiCtx};

/// `outer/{secret.txt, box/..., ro/...}` with `box` preopened read-write as fd 3 and `ro`
/// read-only as fd 4.
fn setup() -> (TempDir, Guest) {
    let outer = TempDir::new();
    outer.file("secret.txt", "TOP SECRET");
    outer.file("box/hello.txt", "hello");
    outer.file("box/sub/file.txt", "in sub");
    outer.file("ro/data.txt", "read only");
    outer.file("ro/dir/nested.txt", "nested");
    let secret = outer.join("secret.txt");
    outer.symlink(secret.to_str().unwrap(), "box/abs");
    outer.symlink("/etc/passwd", "box/etc");
    outer.symlink("../secret.txt", "box/up");
    outer.symlink("..", "box/dotdot");
    outer.symlink("../", "box/outdir");
    outer.symlink("../../secret.txt", "box/sub/esc");
    outer.symlink("sub/esc", "box/chain");
    outer.symlink("chain", "box/chain2");
    outer.symlink("loop2", "box/loop1");
    outer.symlink("loop1", "box/loop2");
    outer.symlink("../newsecret.txt", "box/dangling_out");
    outer.symlink("sub", "box/inside");
    outer.symlink("../hello.txt", "box/sub/back");
    let ctx = WasiCtx::builder()
        .stdout_capture()
        .preopen_dir(outer.join("box"), "/box", DirPerms::READ_WRITE)
        .preopen_dir(outer.join("ro"), "/ro", DirPerms::READ_ONLY)
        .build()
        .unwrap();
    (outer, Guest::new(ctx))
}

const PERM: i32 = Errno::Perm as i32;

#[test]
fn wasi_dotdot_and_absolute_paths_are_refused() {
    let (outer, mut g) = setup();
    for path in [
        "../secret.txt",
        "/etc/passwd",
        "..",
        "sub/../..",
        "sub/../../secret.txt",
        "./../box/hello.txt",
    ] {
        assert_eq!(g.open(3, path, R_READ), Err(PERM), "{path}");
        assert_eq!(g.stat(3, path, true), Err(PERM), "{path}");
    }
    // `..` that stays inside is fine.
    let fd = g.open(3, "sub/../hello.txt", R_READ).unwrap();
    assert_eq!(g.read_all(fd), b"hello");
    // The absolute host path of a file inside the sandbox is still absolute.
    let inside = outer.join("box/hello.txt");
    assert_eq!(g.open(3, inside.to_str().unwrap(), R_READ), Err(PERM));
}

#[test]
fn wasi_symlinks_cannot_escape() {
    let (_outer, mut g) = setup();
    for path in [
        "abs",
        "etc",
        "up",
        "dotdot",
        "dotdot/secret.txt",
        "dotdot/box/hello.txt",
        "outdir/secret.txt",
        "outdir/",
        "sub/esc",
        "chain",
        "chain2",
        "inside/esc",
    ] {
        assert_eq!(g.open(3, path, R_READ), Err(PERM), "open {path}");
        assert_eq!(g.stat(3, path, true), Err(PERM), "stat {path}");
    }
    assert_eq!(g.open(3, "loop1", R_READ), Err(Errno::Loop as i32));
    // A symlink that leaves a directory and comes back inside is fine.
    let fd = g.open(3, "sub/back", R_READ).unwrap();
    assert_eq!(g.read_all(fd), b"hello");
    let fd = g.open(3, "inside/file.txt", R_READ).unwrap();
    assert_eq!(g.read_all(fd), b"in sub");
    // Without symlink_follow the link itself is the target: ELOOP for open, its own stat.
    assert_eq!(
        g.open_with(3, "abs", 0, R_READ, 0, false),
        Err(Errno::Loop as i32)
    );
    assert_eq!(g.stat(3, "abs", false).map(|s| s.0), Ok(7));
    // Reading an absolute link's target is refused like Wasmtime; a relative one is allowed.
    let (p, l) = g.put(PATH, b"abs");
    assert_eq!(
        g.errno("path_readlink", &[3, p, l, BUF.into(), 256, RET.into()]),
        PERM
    );
    let (p, l) = g.put(PATH, b"up");
    assert_eq!(
        g.errno("path_readlink", &[3, p, l, BUF.into(), 256, RET.into()]),
        0
    );
    assert_eq!(g.get(BUF, g.u32(RET) as usize), b"../secret.txt");
}

#[test]
fn wasi_nothing_is_created_or_removed_outside() {
    let (outer, mut g) = setup();
    // O_CREAT through a dangling link pointing outside.
    assert_eq!(
        g.open_with(3, "dangling_out", 1, R_READ | R_WRITE, 0, true),
        Err(PERM)
    );
    assert!(!outer.join("newsecret.txt").exists());
    assert_eq!(g.path_call("path_create_directory", 3, "../made"), PERM);
    assert_eq!(g.path_call("path_create_directory", 3, "outdir/made"), PERM);
    assert!(!outer.join("made").exists());
    assert_eq!(
        g.path_call("path_unlink_file", 3, "outdir/secret.txt"),
        PERM
    );
    assert_eq!(g.path_call("path_unlink_file", 3, "../secret.txt"), PERM);
    assert_eq!(
        g.path_call("path_remove_directory", 3, "dotdot/ro/dir"),
        PERM
    );
    assert_eq!(g.rename(3, "hello.txt", 3, "../stolen"), PERM);
    assert_eq!(g.rename(3, "outdir/secret.txt", 3, "here"), PERM);
    assert_eq!(g.rename(3, "hello.txt", 3, "outdir/stolen"), PERM);
    let (p1, l1) = g.put(PATH, b"outdir/secret.txt");
    let (p2, l2) = g.put(PATH2, b"hard");
    assert_eq!(g.errno("path_link", &[3, 0, p1, l1, 3, p2, l2]), PERM);
    let (p2, l2) = g.put(PATH2, b"../hard");
    let (p1, l1) = g.put(PATH, b"hello.txt");
    assert_eq!(g.errno("path_link", &[3, 0, p1, l1, 3, p2, l2]), PERM);
    // Setting times through an escaping link.
    let (p, l) = g.put(PATH, b"up");
    assert_eq!(
        g.errno("path_filestat_set_times", &[3, 1, p, l, 0, 0, 2 | 8]),
        PERM
    );

    assert_eq!(
        std::fs::read_to_string(outer.join("secret.txt")).unwrap(),
        "TOP SECRET"
    );
    assert!(!outer.join("stolen").exists() && !outer.join("hard").exists());
    assert!(outer.join("ro/dir/nested.txt").exists());
    assert!(outer.join("box/hello.txt").exists());
}

#[test]
fn wasi_new_symlinks_are_confined_too() {
    let (outer, mut g) = setup();
    assert_eq!(g.symlink("/etc/passwd", 3, "evil"), PERM);
    assert!(outer.join("box/evil").symlink_metadata().is_err());
    // Relative targets may be stored, but resolving them is still sandboxed.
    assert_eq!(g.symlink("../secret.txt", 3, "evil2"), 0);
    assert_eq!(g.open(3, "evil2", R_READ), Err(PERM));
    assert_eq!(g.symlink("x", 3, "../evil3"), PERM);
    assert!(outer.join("evil3").symlink_metadata().is_err());
}

#[test]
fn wasi_read_only_preopen_refuses_mutation() {
    let (outer, mut g) = setup();
    // Reading works.
    let fd = g.open(4, "data.txt", R_READ).unwrap();
    assert_eq!(g.read_all(fd), b"read only");
    // Every way of writing is EPERM.
    assert_eq!(g.open(4, "data.txt", R_READ | R_WRITE), Err(PERM));
    assert_eq!(g.open(4, "data.txt", R_WRITE), Err(PERM));
    assert_eq!(
        g.open_with(4, "data.txt", 8, R_READ, 0, true),
        Err(PERM),
        "O_TRUNC"
    );
    assert_eq!(
        g.open_with(4, "new.txt", 1, R_READ, 0, true),
        Err(PERM),
        "O_CREAT"
    );
    assert_eq!(g.path_call("path_create_directory", 4, "newdir"), PERM);
    assert_eq!(g.path_call("path_unlink_file", 4, "data.txt"), PERM);
    assert_eq!(g.path_call("path_remove_directory", 4, "dir"), PERM);
    assert_eq!(
        g.path_call("path_unlink_file", 4, "does-not-exist"),
        PERM,
        "checked before lookup"
    );
    assert_eq!(g.rename(4, "data.txt", 4, "renamed.txt"), PERM);
    assert_eq!(g.rename(4, "data.txt", 3, "moved.txt"), PERM);
    assert_eq!(g.rename(3, "hello.txt", 4, "moved.txt"), PERM);
    assert_eq!(g.symlink("data.txt", 4, "l"), PERM);
    let (p, l) = g.put(PATH, b"data.txt");
    assert_eq!(
        g.errno("path_filestat_set_times", &[4, 0, p, l, 0, 0, 2]),
        PERM
    );
    // A file opened for reading cannot be written, resized or re-timed.
    assert_eq!(g.write(fd, b"x").0, Errno::Badf as i32);
    assert_eq!(g.errno("fd_filestat_set_size", &[fd.into(), 0]), PERM);
    assert_eq!(
        g.errno("fd_filestat_set_times", &[fd.into(), 0, 0, 2]),
        PERM
    );
    assert_eq!(g.errno("fd_filestat_set_times", &[4, 0, 0, 2]), PERM);
    // Directories opened beneath it inherit the restriction.
    let d = g
        .open_with(4, "dir", 2, R_READ | R_READDIR, 0, true)
        .unwrap();
    assert_eq!(g.open_with(d, "x", 1, R_READ, 0, true), Err(PERM));
    assert_eq!(g.path_call("path_unlink_file", d, "nested.txt"), PERM);
    let fd = g.open(d, "nested.txt", R_READ).unwrap();
    assert_eq!(g.read_all(fd), b"nested");
    // Escapes from a read-only preopen are refused as well.
    assert_eq!(g.open(4, "../secret.txt", R_READ), Err(PERM));

    let mut names: Vec<_> = std::fs::read_dir(outer.join("ro"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["data.txt", "dir"]);
    assert_eq!(
        std::fs::read_to_string(outer.join("ro/data.txt")).unwrap(),
        "read only"
    );
    assert!(outer.join("box/hello.txt").exists());
}

#[test]
fn wasi_odd_path_bytes() {
    let (_outer, mut g) = setup();
    assert_eq!(
        g.open(3, "hello.txt\0../../secret.txt", R_READ),
        Err(Errno::Inval as i32)
    );
    assert_eq!(
        g.open(3, "sub//file.txt", R_READ).map(|fd| g.read_all(fd)),
        Ok(b"in sub".to_vec())
    );
    assert_eq!(g.open(3, "./", R_READ).map(|_| ()), Ok(()));
}
