//! A survey of raw WASI preview1 calls (no wasi-libc in between): a generated module makes
//! each call with fixed arguments and prints `label: EE XX XX …` — the errno in decimal
//! and a hex dump of the memory the call wrote — so the whole output can be compared with
//! Wasmtime's byte for byte. Covers fd_* on stdio/directories/bad fds, path_* error cases,
//! clocks, poll_oneoff, sockets, renumber/close.
//!
//! Left out on purpose: the CPU-time clocks (ids 2 and 3), where wasmaot deliberately
//! differs (Wasmtime answers `EBADF`; see runtime/src/wasi/clock.rs), and calls that trap
//! (invalid enum/flag values), which are covered by the runtime's own tests.

use std::fmt::Write as _;

/// One argument of a call.
pub enum A {
    /// An integer (i32 or i64 per the signature).
    N(i64),
    /// Pointer to a string placed in memory.
    S(&'static str),
    /// Length of that string.
    L(&'static str),
    /// Pointer to raw bytes placed in memory, 8-aligned.
    B(Vec<u8>),
}

pub struct Call {
    pub label: String,
    pub func: &'static str,
    pub args: Vec<A>,
    /// Memory to dump after the call: (address, length).
    pub dump: (u32, u32),
}

fn sig(func: &str) -> &'static str {
    match func {
        "fd_fdstat_get"
        | "fd_filestat_get"
        | "fd_prestat_get"
        | "fd_tell"
        | "fd_renumber"
        | "fd_fdstat_set_flags"
        | "clock_res_get"
        | "random_get"
        | "sock_shutdown" => "i32 i32",
        "fd_prestat_dir_name"
        | "path_create_directory"
        | "path_remove_directory"
        | "path_unlink_file"
        | "sock_accept" => "i32 i32 i32",
        "fd_seek" => "i32 i64 i32 i32",
        "fd_read" | "fd_write" | "poll_oneoff" => "i32 i32 i32 i32",
        "fd_close" | "fd_sync" | "fd_datasync" | "proc_raise" => "i32",
        "fd_advise" => "i32 i64 i64 i32",
        "fd_allocate" | "fd_fdstat_set_rights" => "i32 i64 i64",
        "fd_filestat_set_size" => "i32 i64",
        "fd_filestat_set_times" => "i32 i64 i64 i32",
        "fd_pread" | "fd_pwrite" => "i32 i32 i32 i64 i32",
        "fd_readdir" => "i32 i32 i32 i64 i32",
        "path_open" => "i32 i32 i32 i32 i32 i64 i64 i32 i32",
        "path_filestat_get" | "path_symlink" | "sock_send" => "i32 i32 i32 i32 i32",
        "path_readlink" | "path_rename" | "sock_recv" => "i32 i32 i32 i32 i32 i32",
        "path_link" => "i32 i32 i32 i32 i32 i32 i32",
        "path_filestat_set_times" => "i32 i32 i32 i32 i64 i64 i32",
        "clock_time_get" => "i32 i64 i32",
        "sched_yield" => "",
        other => panic!("no signature for {other}"),
    }
}

/// Output buffer address (8-aligned).
const O: i64 = 128;
const RW: i64 = 0x1FFF_FFFF;

fn call(label: &str, func: &'static str, args: Vec<A>, dump: (u32, u32)) -> Call {
    Call {
        label: label.to_string(),
        func,
        args,
        dump,
    }
}

fn open(
    label: &str,
    path: &'static str,
    oflags: i64,
    rights: i64,
    fdflags: i64,
    lookup: i64,
    dfd: i64,
) -> Call {
    use A::*;
    call(
        label,
        "path_open",
        vec![
            N(dfd),
            N(lookup),
            S(path),
            L(path),
            N(oflags),
            N(rights),
            N(rights),
            N(fdflags),
            N(O),
        ],
        (O as u32, 4),
    )
}

fn sub_clock(userdata: u64, id: u32, timeout: u64, flags: u16) -> Vec<u8> {
    let mut b = vec![0u8; 48];
    b[0..8].copy_from_slice(&userdata.to_le_bytes());
    b[8] = 0;
    b[16..20].copy_from_slice(&id.to_le_bytes());
    b[24..32].copy_from_slice(&timeout.to_le_bytes());
    b[40..42].copy_from_slice(&flags.to_le_bytes());
    b
}

fn sub_fd(userdata: u64, tag: u8, fd: u32) -> Vec<u8> {
    let mut b = vec![0u8; 48];
    b[0..8].copy_from_slice(&userdata.to_le_bytes());
    b[8] = tag;
    b[16..20].copy_from_slice(&fd.to_le_bytes());
    b
}

fn poll(label: &str, subs: Vec<Vec<u8>>) -> Call {
    let n = subs.len() as u32;
    call(
        label,
        "poll_oneoff",
        vec![A::B(subs.concat()), A::N(512), A::N(n as i64), A::N(O)],
        (512, 32 * n),
    )
}

/// Host-side setup of the `/sandbox` preopen (fd 3) the calls expect, as spec steps.
pub const SETUP_JSON: &str = r#"[
    {"op": "file", "path": "f.txt", "content": "hello world\n"},
    {"op": "mkdir", "path": "d"},
    {"op": "file", "path": "d/a", "content": "a"},
    {"op": "file", "path": "d/b", "content": "b"},
    {"op": "symlink", "path": "ln", "target": "f.txt"},
    {"op": "symlink", "path": "dangling", "target": "nope"},
    {"op": "symlink", "path": "dln", "target": "d"},
    {"op": "mkdir", "path": "e"}
  ]"#;

pub fn calls() -> Vec<Call> {
    use A::*;
    let o = O as u32;
    let st = |label: &str, lookup: i64, path: &'static str, at: u32, len: u32| {
        call(
            label,
            "path_filestat_get",
            vec![N(3), N(lookup), S(path), L(path), N(O)],
            (o + at, len),
        )
    };
    let p1 = |label: &str, func: &'static str, path: &'static str| {
        call(label, func, vec![N(3), S(path), L(path)], (0, 0))
    };
    let p2 = |label: &str, func: &'static str, a: &'static str, b: &'static str| {
        call(
            label,
            func,
            vec![N(3), S(a), L(a), N(3), S(b), L(b)],
            (0, 0),
        )
    };
    let ms = 1_000_000u64;
    vec![
        call("fdstat 0", "fd_fdstat_get", vec![N(0), N(O)], (o, 24)),
        call("fdstat 1", "fd_fdstat_get", vec![N(1), N(O)], (o, 24)),
        call("fdstat 2", "fd_fdstat_get", vec![N(2), N(O)], (o, 24)),
        call("fdstat 3", "fd_fdstat_get", vec![N(3), N(O)], (o, 24)),
        call("fdstat 9", "fd_fdstat_get", vec![N(9), N(O)], (o, 0)),
        call(
            "filestat 0 type",
            "fd_filestat_get",
            vec![N(0), N(O)],
            (o + 16, 1),
        ),
        call(
            "filestat 1 type",
            "fd_filestat_get",
            vec![N(1), N(O)],
            (o + 16, 1),
        ),
        call(
            "filestat 3 type",
            "fd_filestat_get",
            vec![N(3), N(O)],
            (o + 16, 1),
        ),
        call("prestat 3", "fd_prestat_get", vec![N(3), N(O)], (o, 8)),
        call("prestat 4", "fd_prestat_get", vec![N(4), N(O)], (o, 8)),
        call("prestat 0", "fd_prestat_get", vec![N(0), N(O)], (o, 8)),
        call(
            "prestat_dir_name 3",
            "fd_prestat_dir_name",
            vec![N(3), N(200), N(8)],
            (200, 8),
        ),
        call(
            "prestat_dir_name 3 short",
            "fd_prestat_dir_name",
            vec![N(3), N(200), N(2)],
            (200, 8),
        ),
        call(
            "prestat_dir_name 3 long",
            "fd_prestat_dir_name",
            vec![N(3), N(200), N(20)],
            (200, 10),
        ),
        call(
            "prestat_dir_name 0",
            "fd_prestat_dir_name",
            vec![N(0), N(200), N(8)],
            (200, 8),
        ),
        call("seek 0", "fd_seek", vec![N(0), N(0), N(1), N(O)], (o, 8)),
        call("seek 1", "fd_seek", vec![N(1), N(0), N(1), N(O)], (o, 8)),
        call("seek 3", "fd_seek", vec![N(3), N(0), N(1), N(O)], (o, 8)),
        call("tell 1", "fd_tell", vec![N(1), N(O)], (o, 8)),
        call("sync 1", "fd_sync", vec![N(1)], (0, 0)),
        call("datasync 1", "fd_datasync", vec![N(1)], (0, 0)),
        call("sync 3", "fd_sync", vec![N(3)], (0, 0)),
        call(
            "advise 1",
            "fd_advise",
            vec![N(1), N(0), N(0), N(0)],
            (0, 0),
        ),
        call(
            "advise 3",
            "fd_advise",
            vec![N(3), N(0), N(0), N(0)],
            (0, 0),
        ),
        call("allocate 1", "fd_allocate", vec![N(1), N(0), N(10)], (0, 0)),
        call(
            "set_flags 1 append",
            "fd_fdstat_set_flags",
            vec![N(1), N(1)],
            (0, 0),
        ),
        call(
            "set_flags 3 nonblock",
            "fd_fdstat_set_flags",
            vec![N(3), N(4)],
            (0, 0),
        ),
        call(
            "set_rights 1",
            "fd_fdstat_set_rights",
            vec![N(1), N(0), N(0)],
            (0, 0),
        ),
        call(
            "set_size 1",
            "fd_filestat_set_size",
            vec![N(1), N(0)],
            (0, 0),
        ),
        call(
            "set_size 3",
            "fd_filestat_set_size",
            vec![N(3), N(0)],
            (0, 0),
        ),
        call(
            "set_times 1",
            "fd_filestat_set_times",
            vec![N(1), N(0), N(0), N(10)],
            (0, 0),
        ),
        call(
            "set_times 1 bad flags",
            "fd_filestat_set_times",
            vec![N(1), N(0), N(0), N(3)],
            (0, 0),
        ),
        call(
            "pread 0",
            "fd_pread",
            vec![N(0), N(300), N(1), N(0), N(O)],
            (o, 4),
        ),
        call(
            "pwrite 1",
            "fd_pwrite",
            vec![N(1), N(300), N(0), N(0), N(O)],
            (o, 4),
        ),
        call(
            "readdir 1",
            "fd_readdir",
            vec![N(1), N(400), N(256), N(0), N(O)],
            (o, 4),
        ),
        call(
            "readdir 0",
            "fd_readdir",
            vec![N(0), N(400), N(256), N(0), N(O)],
            (o, 4),
        ),
        call(
            "write 0",
            "fd_write",
            vec![N(0), N(300), N(0), N(O)],
            (o, 4),
        ),
        call("read 1", "fd_read", vec![N(1), N(300), N(0), N(O)], (o, 4)),
        call(
            "write 3",
            "fd_write",
            vec![N(3), N(300), N(0), N(O)],
            (o, 4),
        ),
        call("read 3", "fd_read", vec![N(3), N(300), N(0), N(O)], (o, 4)),
        call(
            "read 99",
            "fd_read",
            vec![N(99), N(300), N(0), N(O)],
            (o, 4),
        ),
        open("open d dir", "d", 2, RW, 0, 1, 3),
        open("open f.txt as dir", "f.txt", 2, RW, 0, 1, 3),
        open("open d with write", "d", 0, RW, 0, 1, 3),
        open("open d read only rights", "d", 0, 2, 0, 1, 3),
        open("open nonexist", "nonexist", 0, RW, 0, 1, 3),
        open("open f.txt creat excl", "f.txt", 5, RW, 0, 1, 3),
        open("open empty path", "", 0, RW, 0, 1, 3),
        open("open f.txt/", "f.txt/", 0, RW, 0, 1, 3),
        open("open ln nofollow", "ln", 0, RW, 0, 0, 3),
        open("open ln follow", "ln", 0, RW, 0, 1, 3),
        open("open f.txt dsync", "f.txt", 0, RW, 2, 1, 3),
        open("open f.txt rsync", "f.txt", 0, RW, 8, 1, 3),
        open("open f.txt sync", "f.txt", 0, RW, 16, 1, 3),
        open("open f.txt nonblock", "f.txt", 0, RW, 4, 1, 3),
        open("open f.txt append", "f.txt", 0, RW, 1, 1, 3),
        open("open f.txt trunc readonly rights", "f.txt", 8, 2, 0, 1, 3),
        open("open . dir", ".", 2, RW, 0, 1, 3),
        open("open via fd 0", "f.txt", 0, RW, 0, 1, 0),
        open("open via fd 1", "f.txt", 0, RW, 0, 1, 1),
        open("open via fd 99", "f.txt", 0, RW, 0, 1, 99),
        open("open creat dir/", "newdir/", 1, RW, 0, 1, 3),
        open("open d/a/../b", "d/a/../b", 0, RW, 0, 1, 3),
        open("open dir creat", "d", 1, RW, 0, 1, 3),
        st("fstat f.txt", 1, "f.txt", 16, 1),
        st("fstat f.txt size", 1, "f.txt", 32, 8),
        st("lstat ln", 0, "ln", 16, 1),
        st("stat ln", 1, "ln", 16, 1),
        st("stat d", 1, "d", 16, 1),
        st("stat empty", 1, "", 16, 1),
        st("stat .", 1, ".", 16, 1),
        st("stat dangling", 1, "dangling", 16, 1),
        st("lstat dangling", 0, "dangling", 16, 1),
        p1("mkdir d", "path_create_directory", "d"),
        p1("mkdir f.txt/x", "path_create_directory", "f.txt/x"),
        p1("mkdir empty", "path_create_directory", ""),
        p1("mkdir .", "path_create_directory", "."),
        p1("mkdir new2/", "path_create_directory", "new2/"),
        p1("rmdir f.txt", "path_remove_directory", "f.txt"),
        p1("rmdir d", "path_remove_directory", "d"),
        p1("rmdir .", "path_remove_directory", "."),
        p1("rmdir nonexist", "path_remove_directory", "nonexist"),
        p1("rmdir ln", "path_remove_directory", "ln"),
        p1("rmdir dln", "path_remove_directory", "dln"),
        p1("unlink d", "path_unlink_file", "d"),
        p1("unlink f.txt/", "path_unlink_file", "f.txt/"),
        p1("unlink nonexist", "path_unlink_file", "nonexist"),
        p1("unlink dln/", "path_unlink_file", "dln/"),
        p1("unlink .", "path_unlink_file", "."),
        call(
            "readlink f.txt",
            "path_readlink",
            vec![N(3), S("f.txt"), L("f.txt"), N(300), N(64), N(O)],
            (o, 4),
        ),
        call(
            "readlink ln",
            "path_readlink",
            vec![N(3), S("ln"), L("ln"), N(300), N(64), N(O)],
            (300, 5),
        ),
        call(
            "readlink ln short",
            "path_readlink",
            vec![N(3), S("ln"), L("ln"), N(300), N(2), N(O)],
            (o, 4),
        ),
        call(
            "readlink nonexist",
            "path_readlink",
            vec![N(3), S("nonexist"), L("nonexist"), N(300), N(64), N(O)],
            (o, 4),
        ),
        call(
            "symlink exists",
            "path_symlink",
            vec![S("f.txt"), L("f.txt"), N(3), S("ln"), L("ln")],
            (0, 0),
        ),
        call(
            "symlink empty target",
            "path_symlink",
            vec![S(""), L(""), N(3), S("ln2"), L("ln2")],
            (0, 0),
        ),
        call(
            "symlink trailing slash",
            "path_symlink",
            vec![S("f.txt"), L("f.txt"), N(3), S("ln3/"), L("ln3/")],
            (0, 0),
        ),
        p2("rename d -> f.txt", "path_rename", "d", "f.txt"),
        p2("rename f.txt -> d", "path_rename", "f.txt", "d"),
        p2("rename nonexist", "path_rename", "nonexist", "x"),
        p2("rename d -> d/sub", "path_rename", "d", "d/sub"),
        p2("rename e -> d (nonempty)", "path_rename", "e", "d"),
        p2("rename f.txt -> f.txt", "path_rename", "f.txt", "f.txt"),
        p2("rename f.txt -> g/", "path_rename", "f.txt", "g/"),
        call(
            "link d",
            "path_link",
            vec![N(3), N(0), S("d"), L("d"), N(3), S("d2"), L("d2")],
            (0, 0),
        ),
        call(
            "link exists",
            "path_link",
            vec![N(3), N(0), S("f.txt"), L("f.txt"), N(3), S("ln"), L("ln")],
            (0, 0),
        ),
        call(
            "link follow ln",
            "path_link",
            vec![N(3), N(1), S("ln"), L("ln"), N(3), S("hl"), L("hl")],
            (0, 0),
        ),
        call(
            "link nofollow ln",
            "path_link",
            vec![N(3), N(0), S("ln"), L("ln"), N(3), S("hl2"), L("hl2")],
            (0, 0),
        ),
        call(
            "set_times now",
            "path_filestat_set_times",
            vec![N(3), N(1), S("f.txt"), L("f.txt"), N(0), N(0), N(10)],
            (0, 0),
        ),
        call(
            "set_times bad",
            "path_filestat_set_times",
            vec![N(3), N(1), S("f.txt"), L("f.txt"), N(0), N(0), N(3)],
            (0, 0),
        ),
        call(
            "set_times nofollow dangling",
            "path_filestat_set_times",
            vec![N(3), N(0), S("dangling"), L("dangling"), N(0), N(0), N(10)],
            (0, 0),
        ),
        call("clock_res 0", "clock_res_get", vec![N(0), N(O)], (o, 8)),
        call("clock_res 1", "clock_res_get", vec![N(1), N(O)], (o, 8)),
        call("random 0", "random_get", vec![N(O), N(0)], (0, 0)),
        call("sched_yield", "sched_yield", vec![], (0, 0)),
        call(
            "sock_accept 3",
            "sock_accept",
            vec![N(3), N(0), N(O)],
            (0, 0),
        ),
        call(
            "sock_accept 1",
            "sock_accept",
            vec![N(1), N(0), N(O)],
            (0, 0),
        ),
        call("sock_shutdown 1", "sock_shutdown", vec![N(1), N(3)], (0, 0)),
        call(
            "sock_recv 0",
            "sock_recv",
            vec![N(0), N(300), N(0), N(0), N(O), N(O + 4)],
            (0, 0),
        ),
        call(
            "sock_send 1",
            "sock_send",
            vec![N(1), N(300), N(0), N(0), N(O)],
            (0, 0),
        ),
        call(
            "poll 0 subs",
            "poll_oneoff",
            vec![N(300), N(400), N(0), N(O)],
            (o, 4),
        ),
        poll("poll clock rel 1ms", vec![sub_clock(1, 1, ms, 0)]),
        poll("poll clock realtime rel 1ms", vec![sub_clock(1, 0, ms, 0)]),
        poll("poll clock abs past", vec![sub_clock(2, 1, 1, 1)]),
        poll("poll clock cputime", vec![sub_clock(3, 2, ms, 0)]),
        poll("poll stdin read", vec![sub_fd(4, 1, 0)]),
        poll("poll stdout write", vec![sub_fd(5, 2, 1)]),
        poll("poll dir read", vec![sub_fd(6, 1, 3)]),
        poll("poll fd 99 read", vec![sub_fd(7, 1, 99)]),
        poll("poll stdout read", vec![sub_fd(8, 1, 1)]),
        poll("poll stdin write", vec![sub_fd(9, 2, 0)]),
        poll(
            "poll clock + stdout write",
            vec![sub_clock(10, 1, 50 * ms, 0), sub_fd(11, 2, 1)],
        ),
        poll(
            "poll two clocks",
            vec![sub_clock(12, 1, 10_000 * ms, 0), sub_clock(13, 1, ms, 0)],
        ),
        call("renumber 3 -> 10", "fd_renumber", vec![N(3), N(10)], (0, 0)),
        call("prestat 10", "fd_prestat_get", vec![N(10), N(O)], (o, 8)),
        call("renumber 10 -> 3", "fd_renumber", vec![N(10), N(3)], (0, 0)),
        call("renumber 1 -> 1", "fd_renumber", vec![N(1), N(1)], (0, 0)),
        call("renumber 3 -> 99", "fd_renumber", vec![N(3), N(99)], (0, 0)),
        call("renumber 99 -> 3", "fd_renumber", vec![N(99), N(3)], (0, 0)),
        call("close 99", "fd_close", vec![N(99)], (0, 0)),
        call("close 3", "fd_close", vec![N(3)], (0, 0)),
        call(
            "prestat 3 after close",
            "fd_prestat_get",
            vec![N(3), N(O)],
            (o, 8),
        ),
        call("close 3 again", "fd_close", vec![N(3)], (0, 0)),
        call("close 0", "fd_close", vec![N(0)], (0, 0)),
        call(
            "fdstat 0 after close",
            "fd_fdstat_get",
            vec![N(0), N(O)],
            (o, 0),
        ),
        call("proc_raise 9", "proc_raise", vec![N(9)], (0, 0)),
    ]
}

/// The module: `_start` makes every call in order, printing one line each.
pub fn wat(calls: &[Call]) -> String {
    const BASE: usize = 4096;
    let mut data: Vec<u8> = Vec::new();
    let mut place = |bytes: &[u8], align: usize| -> usize {
        while !(BASE + data.len()).is_multiple_of(align) {
            data.push(0);
        }
        let p = BASE + data.len();
        data.extend_from_slice(bytes);
        p
    };
    let mut body = String::new();
    let mut funcs: Vec<&str> = calls.iter().map(|c| c.func).chain(["fd_write"]).collect();
    funcs.sort();
    funcs.dedup();
    for c in calls {
        let label = format!("{}: ", c.label);
        let lp = place(label.as_bytes(), 1);
        let types: Vec<&str> = sig(c.func).split_whitespace().collect();
        assert_eq!(types.len(), c.args.len(), "{}: argument count", c.label);
        let mut ps = String::new();
        for (t, a) in types.iter().zip(&c.args) {
            let _ = match a {
                A::N(v) => write!(ps, " ({t}.const {v})"),
                A::S(s) => write!(ps, " (i32.const {})", place(s.as_bytes(), 1)),
                A::L(s) => write!(ps, " (i32.const {})", s.len()),
                A::B(b) => write!(ps, " (i32.const {})", place(b, 8)),
            };
        }
        let _ = writeln!(
            body,
            "    (call $report (i32.const {lp}) (i32.const {}) (call ${}{ps}) (i32.const {}) (i32.const {}))",
            label.len(),
            c.func,
            c.dump.0,
            c.dump.1
        );
    }
    let imports: String = funcs
        .iter()
        .map(|f| {
            let s = sig(f);
            let params = if s.is_empty() {
                String::new()
            } else {
                format!(" (param {s})")
            };
            format!(
                "  (import \"wasi_snapshot_preview1\" \"{f}\" (func ${f}{params} (result i32)))\n"
            )
        })
        .collect();
    let escaped: String = data.iter().map(|b| format!("\\{b:02x}")).collect();
    format!(
        r#"(module
{imports}  (memory (export "memory") 2)
  (data (i32.const {BASE}) "{escaped}")
  ;; scratch: 0..2047 call outputs (zeroed after each call), 3000 iovec, 3008 nwritten, 3100 text
  (func $print (param $p i32) (param $n i32)
    (i32.store (i32.const 3000) (local.get $p))
    (i32.store (i32.const 3004) (local.get $n))
    (drop (call $fd_write (i32.const 1) (i32.const 3000) (i32.const 1) (i32.const 3008))))
  (func $hex (param $b i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $b) (i32.const 10))
      (then (i32.add (local.get $b) (i32.const 48)))
      (else (i32.add (local.get $b) (i32.const 87)))))
  (func $report (param $lp i32) (param $ln i32) (param $e i32) (param $dp i32) (param $dl i32)
    (local $i i32)
    (call $print (local.get $lp) (local.get $ln))
    (i32.store8 (i32.const 3100) (i32.add (i32.const 48) (i32.rem_u (i32.div_u (local.get $e) (i32.const 10)) (i32.const 10))))
    (i32.store8 (i32.const 3101) (i32.add (i32.const 48) (i32.rem_u (local.get $e) (i32.const 10))))
    (call $print (i32.const 3100) (i32.const 2))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $dl)))
      (i32.store8 (i32.const 3100) (i32.const 32))
      (i32.store8 (i32.const 3101) (call $hex (i32.shr_u (i32.load8_u (i32.add (local.get $dp) (local.get $i))) (i32.const 4))))
      (i32.store8 (i32.const 3102) (call $hex (i32.and (i32.load8_u (i32.add (local.get $dp) (local.get $i))) (i32.const 15))))
      (call $print (i32.const 3100) (i32.const 3))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (i32.store8 (i32.const 3100) (i32.const 10))
    (call $print (i32.const 3100) (i32.const 1))
    (memory.fill (i32.const 0) (i32.const 0) (i32.const 2048)))
  (func (export "_start")
{body}  ))
"#
    )
}
