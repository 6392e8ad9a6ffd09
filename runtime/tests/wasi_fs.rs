//! WASI preview1 file system: preopens, path_open, I/O on files, stat, readdir and the
//! mutating path operations, checked against the host file system.

#[path = "wasi_support/mod.rs"]
mod support;

use support::*;
use wasmaot_runtime::wasi::{DirPerms, Errno, WasiCtx};

/// A tree with a file, a subdirectory and a symlink, preopened read-write as fd 3.
fn setup() -> (TempDir, Guest) {
    let dir = TempDir::new();
    dir.file("hello.txt", "hello world\n");
    dir.file("sub/inner.txt", "inner");
    dir.symlink("hello.txt", "link");
    let ctx = WasiCtx::builder()
        .stdout_capture()
        .preopen_dir(dir.path(), "/sandbox", DirPerms::READ_WRITE)
        .build()
        .unwrap();
    (dir, Guest::new(ctx))
}

#[test]
fn wasi_prestat_describes_preopens() {
    let (_dir, mut g) = setup();
    assert_eq!(g.errno("fd_prestat_get", &[3, 64]), 0);
    assert_eq!((g.mem[64], g.u32(68)), (0, 8));
    assert_eq!(g.errno("fd_prestat_dir_name", &[3, 100, 8]), 0);
    assert_eq!(g.get(100, 8), b"/sandbox");
    assert_eq!(
        g.errno("fd_prestat_dir_name", &[3, 100, 7]),
        en(Errno::Nametoolong)
    );
    assert_eq!(g.errno("fd_prestat_get", &[4, 64]), en(Errno::Badf));
    // Preopen rights as Wasmtime reports them.
    assert_eq!(g.errno("fd_fdstat_get", &[3, 64]), 0);
    assert_eq!(
        (g.mem[64], g.u64(72), g.u64(80)),
        (3, 0x07b7_fe00, 0x0ff7_ffff)
    );
}

#[test]
fn wasi_open_and_read_a_file() {
    let (_dir, mut g) = setup();
    let fd = g.open(3, "hello.txt", R_READ).unwrap();
    assert_eq!(g.read_all(fd), b"hello world\n");
    // Seek back and use pread, which leaves the position alone.
    assert_eq!(g.errno("fd_seek", &[fd.into(), 6, 0, 64]), 0);
    assert_eq!(g.u64(64), 6);
    g.put(256, &[BUF, 5].map(u32::to_le_bytes).concat());
    assert_eq!(g.errno("fd_pread", &[fd.into(), 256, 1, 0, RET.into()]), 0);
    assert_eq!(g.get(BUF, 5), b"hello");
    assert_eq!(g.errno("fd_tell", &[fd.into(), 64]), 0);
    assert_eq!(g.u64(64), 6);
    assert_eq!(g.errno("fd_seek", &[fd.into(), -2i64 as u64, 2, 64]), 0);
    assert_eq!(g.u64(64), 10);
    assert_eq!(
        g.errno("fd_seek", &[fd.into(), -1i64 as u64, 0, 64]),
        en(Errno::Inval)
    );
    // Opened read-only: no writing, and fdstat says so.
    assert_eq!(g.write(fd, b"x").0, en(Errno::Badf));
    assert_eq!(g.errno("fd_fdstat_get", &[fd.into(), 64]), 0);
    assert_eq!(g.mem[64], 4);
    assert_eq!(g.u64(72) & (R_READ | R_WRITE), R_READ);
    // Through a symlink too.
    let fd2 = g.open(3, "link", R_READ).unwrap();
    assert_eq!(g.read(fd2, 5).unwrap(), b"hello");
}

#[test]
fn wasi_create_write_truncate_append() {
    let (dir, mut g) = setup();
    let creat_trunc = 1 | 8;
    let fd = g
        .open_with(3, "sub/new.txt", creat_trunc, R_READ | R_WRITE, 0, true)
        .unwrap();
    assert_eq!(g.write(fd, b"abcdef"), (0, 6));
    assert_eq!(std::fs::read(dir.join("sub/new.txt")).unwrap(), b"abcdef");
    // pwrite at an offset.
    g.put(BUF, b"XY");
    g.put(256, &[BUF, 2].map(u32::to_le_bytes).concat());
    assert_eq!(g.errno("fd_pwrite", &[fd.into(), 256, 1, 1, RET.into()]), 0);
    assert_eq!(std::fs::read(dir.join("sub/new.txt")).unwrap(), b"aXYdef");
    // set_size, filestat.
    assert_eq!(g.errno("fd_filestat_set_size", &[fd.into(), 3]), 0);
    assert_eq!(g.errno("fd_filestat_get", &[fd.into(), 64]), 0);
    assert_eq!((g.mem[64 + 16], g.u64(64 + 32)), (4, 3));
    // O_EXCL on an existing file.
    assert_eq!(
        g.open_with(3, "sub/new.txt", 1 | 4, R_READ, 0, true),
        Err(en(Errno::Exist))
    );
    // Append mode via fdflags, and fd_fdstat_set_flags toggling it.
    let fd = g.open_with(3, "hello.txt", 0, R_WRITE, 1, true).unwrap();
    assert_eq!(g.write(fd, b"more\n").0, 0);
    assert_eq!(
        std::fs::read_to_string(dir.join("hello.txt")).unwrap(),
        "hello world\nmore\n"
    );
    assert_eq!(g.errno("fd_fdstat_get", &[fd.into(), 64]), 0);
    assert_eq!(g.u32(64 + 2) & 0xffff, 1);
    assert_eq!(g.errno("fd_fdstat_set_flags", &[fd.into(), 0]), 0);
    assert_eq!(g.errno("fd_fdstat_get", &[fd.into(), 64]), 0);
    assert_eq!(g.u32(64 + 2) & 0xffff, 0);
    assert_eq!(
        g.errno("fd_fdstat_set_flags", &[fd.into(), 16]),
        en(Errno::Inval)
    );
    // Wasmtime-compatible refusals.
    assert_eq!(
        g.errno("fd_allocate", &[fd.into(), 0, 10]),
        en(Errno::Notsup)
    );
    assert_eq!(
        g.errno("fd_fdstat_set_rights", &[fd.into(), 0, 0]),
        en(Errno::Notsup)
    );
    assert_eq!(
        g.open_with(3, "x", 0, R_READ, 16, true),
        Err(en(Errno::Notsup))
    );
    assert_eq!(g.errno("fd_sync", &[fd.into()]), 0);
    assert_eq!(g.errno("fd_datasync", &[fd.into()]), 0);
    assert_eq!(g.errno("fd_advise", &[fd.into(), 0, 0, 1]), 0);
}

#[test]
fn wasi_open_errors() {
    let (_dir, mut g) = setup();
    assert_eq!(g.open(3, "missing", R_READ), Err(en(Errno::Noent)));
    assert_eq!(g.open(3, "", R_READ), Err(en(Errno::Noent)));
    assert_eq!(
        g.open_with(3, "hello.txt", 2, R_READ, 0, true),
        Err(en(Errno::Notdir))
    );
    assert_eq!(g.open(3, "hello.txt/", R_READ), Err(en(Errno::Notdir)));
    assert_eq!(g.open(3, "sub", R_READ | R_WRITE), Err(en(Errno::Isdir)));
    assert_eq!(
        g.open_with(3, "link", 0, R_READ, 0, false),
        Err(en(Errno::Loop))
    );
    assert_eq!(g.open(4, "x", R_READ), Err(en(Errno::Badf)));
    assert_eq!(g.open(1, "x", R_READ), Err(en(Errno::Badf)));
    let (p, _) = g.put(PATH, b"\xff\xfe");
    assert_eq!(
        g.errno("path_open", &[3, 1, p, 2, 0, 2, 2, 0, RET.into()]),
        en(Errno::Ilseq)
    );
}

#[test]
fn wasi_directories_open_stat_and_list() {
    let (dir, mut g) = setup();
    for i in 0..5 {
        dir.file(&format!("sub/f{i}"), "");
    }
    let d = g
        .open_with(3, "sub", 2, R_READ | R_READDIR, 0, true)
        .unwrap();
    assert_eq!(g.errno("fd_fdstat_get", &[d.into(), 64]), 0);
    assert_eq!((g.mem[64], g.u64(72)), (3, 0x3fb7_ffbb));
    assert_eq!(g.errno("fd_prestat_get", &[d.into(), 64]), en(Errno::Badf));
    assert_eq!(
        g.open(d, "inner.txt", R_READ).map(|fd| g.read_all(fd)),
        Ok(b"inner".to_vec())
    );

    // Whole listing in one buffer.
    let entries = readdir(&mut g, d, 0, 4096);
    let names: Vec<&str> = entries.iter().map(|e| e.2.as_str()).collect();
    assert_eq!(&names[..2], [".", ".."]);
    let mut rest = names[2..].to_vec();
    rest.sort();
    assert_eq!(rest, ["f0", "f1", "f2", "f3", "f4", "inner.txt"]);
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e.0, i as u64 + 1, "d_next is the next cookie");
    }
    let ino = std::fs::metadata(dir.join("sub/inner.txt"))
        .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
        .unwrap();
    let inner = entries.iter().find(|e| e.2 == "inner.txt").unwrap();
    assert_eq!((inner.1, inner.3), (ino, 4));
    assert_eq!(entries[0].3, 3);

    // Resume from a cookie.
    let tail = readdir(&mut g, d, 5, 4096);
    assert_eq!(tail.len(), entries.len() - 5);
    assert_eq!(tail[0].2, entries[5].2);

    // A buffer too small for the first entry is filled completely (bufused == buf_len).
    assert_eq!(
        g.errno("fd_readdir", &[d.into(), BUF.into(), 30, 0, RET.into()]),
        0
    );
    assert_eq!(g.u32(RET), 30);
    assert_eq!(g.u64(BUF), 1);
    assert_eq!(g.u32(BUF + 16), 1);
    // Past the end: nothing.
    assert_eq!(
        g.errno("fd_readdir", &[d.into(), BUF.into(), 100, 1000, RET.into()]),
        0
    );
    assert_eq!(g.u32(RET), 0);
    // Not a directory.
    let f = g.open(3, "hello.txt", R_READ).unwrap();
    assert_eq!(
        g.errno("fd_readdir", &[f.into(), BUF.into(), 100, 0, RET.into()]),
        en(Errno::Badf)
    );
}

/// Parses `fd_readdir` output into `(d_next, d_ino, name, d_type)`.
fn readdir(g: &mut Guest, fd: u32, cookie: u64, len: u32) -> Vec<(u64, u64, String, u8)> {
    assert_eq!(
        g.errno(
            "fd_readdir",
            &[fd.into(), BUF.into(), len.into(), cookie, RET.into()]
        ),
        0
    );
    let used = g.u32(RET);
    assert!(used < len, "listing fits");
    let mut out = Vec::new();
    let mut at = BUF;
    while at < BUF + used {
        let namlen = g.u32(at + 16) as usize;
        let name = String::from_utf8(g.get(at + 24, namlen).to_vec()).unwrap();
        assert_eq!(g.get(at + 21, 3), [0, 0, 0], "padding");
        out.push((g.u64(at), g.u64(at + 8), name, g.mem[at as usize + 20]));
        at += 24 + namlen as u32;
    }
    assert_eq!(at, BUF + used);
    out
}

#[test]
fn wasi_mkdir_rename_unlink_rmdir() {
    let (dir, mut g) = setup();
    assert_eq!(g.path_call("path_create_directory", 3, "newdir"), 0);
    assert!(dir.join("newdir").is_dir());
    assert_eq!(
        g.path_call("path_create_directory", 3, "newdir"),
        en(Errno::Exist)
    );
    assert_eq!(
        g.path_call("path_create_directory", 3, "nope/deeper"),
        en(Errno::Noent)
    );

    assert_eq!(g.rename(3, "hello.txt", 3, "newdir/moved.txt"), 0);
    assert!(!dir.join("hello.txt").exists());
    assert_eq!(
        std::fs::read_to_string(dir.join("newdir/moved.txt")).unwrap(),
        "hello world\n"
    );
    assert_eq!(g.rename(3, "hello.txt", 3, "x"), en(Errno::Noent));
    assert_eq!(g.rename(3, "sub", 3, "newdir/moved.txt"), en(Errno::Notdir));

    assert_eq!(
        g.path_call("path_remove_directory", 3, "newdir"),
        en(Errno::Notempty)
    );
    assert_eq!(
        g.path_call("path_unlink_file", 3, "newdir"),
        en(Errno::Isdir)
    );
    assert_eq!(g.path_call("path_unlink_file", 3, "newdir/moved.txt"), 0);
    assert_eq!(
        g.path_call("path_unlink_file", 3, "newdir/moved.txt"),
        en(Errno::Noent)
    );
    assert_eq!(
        g.path_call("path_remove_directory", 3, "sub/inner.txt"),
        en(Errno::Notdir)
    );
    assert_eq!(
        g.path_call("path_remove_directory", 3, "newdir/"),
        en(Errno::Inval),
        "Wasmtime quirk"
    );
    assert_eq!(g.path_call("path_remove_directory", 3, "newdir"), 0);
    assert!(!dir.join("newdir").exists());
    // The dangling link itself is removed, not its target.
    assert_eq!(g.path_call("path_unlink_file", 3, "link"), 0);
    assert!(dir.join("link").symlink_metadata().is_err());
}

#[test]
fn wasi_symlinks_hardlinks_and_stat() {
    let (dir, mut g) = setup();
    assert_eq!(g.symlink("sub/inner.txt", 3, "s"), 0);
    assert_eq!(
        std::fs::read_link(dir.join("s")).unwrap().to_str(),
        Some("sub/inner.txt")
    );
    assert_eq!(g.symlink("x", 3, "s"), en(Errno::Exist));
    assert_eq!(g.stat(3, "s", false), Ok((7, 13)));
    assert_eq!(g.stat(3, "s", true), Ok((4, 5)));
    assert_eq!(g.stat(3, "sub", true).map(|s| s.0), Ok(3));
    assert_eq!(g.stat(3, "missing", true), Err(en(Errno::Noent)));

    let (p, l) = g.put(PATH, b"s");
    assert_eq!(
        g.errno("path_readlink", &[3, p, l, BUF.into(), 64, RET.into()]),
        0
    );
    assert_eq!((g.u32(RET), g.get(BUF, 13)), (13, &b"sub/inner.txt"[..]));
    assert_eq!(
        g.errno("path_readlink", &[3, p, l, BUF.into(), 3, RET.into()]),
        0,
        "truncates"
    );
    assert_eq!(g.u32(RET), 3);
    let (p, l) = g.put(PATH, b"hello.txt");
    assert_eq!(
        g.errno("path_readlink", &[3, p, l, BUF.into(), 64, RET.into()]),
        en(Errno::Inval)
    );

    let (p1, l1) = g.put(PATH, b"hello.txt");
    let (p2, l2) = g.put(PATH2, b"hard");
    assert_eq!(g.errno("path_link", &[3, 0, p1, l1, 3, p2, l2]), 0);
    assert_eq!(
        std::fs::read_to_string(dir.join("hard")).unwrap(),
        "hello world\n"
    );
    assert_eq!(
        g.errno("path_link", &[3, 1, p1, l1, 3, p2, l2]),
        en(Errno::Inval),
        "follow flag rejected"
    );

    // Times: explicit values, then "now".
    let (p, l) = g.put(PATH, b"hello.txt");
    assert_eq!(
        g.errno(
            "path_filestat_set_times",
            &[3, 1, p, l, 5_000_000_000, 7_000_000_000, 1 | 4]
        ),
        0
    );
    let m = std::fs::metadata(dir.join("hello.txt")).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!((m.atime(), m.mtime()), (5, 7));
    assert_eq!(
        g.errno("path_filestat_set_times", &[3, 1, p, l, 0, 0, 1 | 2]),
        en(Errno::Inval)
    );
    let fd = g.open(3, "hello.txt", R_READ).unwrap();
    assert_eq!(
        g.errno("fd_filestat_set_times", &[fd.into(), 0, 9_000_000_000, 4]),
        0
    );
    assert_eq!(std::fs::metadata(dir.join("hello.txt")).unwrap().mtime(), 9);
    assert_eq!(g.errno("fd_filestat_set_times", &[fd.into(), 0, 0, 8]), 0);
    assert!(std::fs::metadata(dir.join("hello.txt")).unwrap().mtime() > 1_000_000_000);
}
