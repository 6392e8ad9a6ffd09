//! WASI preview1: function table, args/env, stdio, clocks, randomness, process control,
//! descriptor bookkeeping and guest-memory checking.

#[path = "wasi_support/mod.rs"]
mod support;

use support::*;
use wasmaot_runtime::layout::ValType;
use wasmaot_runtime::wasi::{Errno, OutputPipe, WasiCtx, WasiTrap};

fn captured() -> Guest {
    Guest::new(
        WasiCtx::builder()
            .stdout_capture()
            .stderr_capture()
            .stdin_bytes(&b"line one\nline two\n"[..])
            .build()
            .unwrap(),
    )
}

#[test]
fn wasi_function_table_lists_all_of_preview1() {
    let f = WasiCtx::functions();
    assert_eq!(f.len(), 46);
    let mut names: Vec<_> = f.iter().map(|(n, _, _)| *n).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 46, "duplicate names");
    for (name, _, results) in f {
        let expect: &[ValType] = if *name == "proc_exit" {
            &[]
        } else {
            &[ValType::I32]
        };
        assert_eq!(*results, expect, "{name}");
    }
    let open = WasiCtx::index_of("path_open").unwrap();
    use ValType::*;
    assert_eq!(f[open].1, &[I32, I32, I32, I32, I32, I64, I64, I32, I32]);
    assert_eq!(
        f[WasiCtx::index_of("fd_seek").unwrap()].1,
        &[I32, I64, I32, I32]
    );
    assert_eq!(WasiCtx::index_of("nope"), None);
}

#[test]
fn wasi_ctx_can_move_between_threads() {
    fn assert_send<T: Send + 'static>(_: &T) {}
    let ctx = WasiCtx::builder().stdout_capture().build().unwrap();
    assert_send(&ctx);
    let mut g = std::thread::spawn(move || Guest::new(ctx)).join().unwrap();
    assert_eq!(g.write(1, b"ok").0, 0);
    assert_eq!(g.ctx.captured_stdout().unwrap(), b"ok");
}

#[test]
fn wasi_unknown_function_and_wrong_arity_trap() {
    let mut g = captured();
    assert_eq!(
        g.call("nope", &[]),
        Err(WasiTrap::UnknownFunction("nope".into()))
    );
    assert!(matches!(
        g.call("fd_close", &[]),
        Err(WasiTrap::ArgCount {
            expected: 1,
            got: 0,
            ..
        })
    ));
    assert_eq!(
        g.ctx.call_index(999, &mut g.mem, &[]),
        Err(WasiTrap::BadIndex(999))
    );
}

#[test]
fn wasi_call_index_matches_call_by_name() {
    let mut g = captured();
    let idx = WasiCtx::index_of("sched_yield").unwrap();
    assert_eq!(g.ctx.call_index(idx, &mut g.mem, &[]), Ok(0));
    let idx = WasiCtx::index_of("fd_close").unwrap();
    assert_eq!(
        g.ctx.call_index(idx, &mut g.mem, &[77]),
        Ok(en(Errno::Badf))
    );
}

#[test]
fn wasi_args_sizes_and_layout() {
    let mut g = Guest::new(WasiCtx::builder().arg("prog").arg("héllo").build().unwrap());
    assert_eq!(g.errno("args_sizes_get", &[0, 4]), 0);
    assert_eq!(g.u32(0), 2);
    assert_eq!(g.u32(4), 5 + 7);
    assert_eq!(g.errno("args_get", &[16, 100]), 0);
    assert_eq!(g.u32(16), 100);
    assert_eq!(g.u32(20), 105);
    assert_eq!(g.get(100, 12), "prog\0héllo\0".as_bytes());
}

#[test]
fn wasi_environ_sizes_and_layout() {
    let mut g = Guest::new(
        WasiCtx::builder()
            .env("A", "1")
            .env("EMPTY", "")
            .build()
            .unwrap(),
    );
    assert_eq!(g.errno("environ_sizes_get", &[0, 4]), 0);
    assert_eq!((g.u32(0), g.u32(4)), (2, 4 + 7));
    assert_eq!(g.errno("environ_get", &[16, 200]), 0);
    assert_eq!((g.u32(16), g.u32(20)), (200, 204));
    assert_eq!(g.get(200, 11), b"A=1\0EMPTY=\0");
}

#[test]
fn wasi_builder_rejects_bad_strings() {
    assert!(WasiCtx::builder().arg("a\0b").build().is_err());
    assert!(WasiCtx::builder().env("A=B", "x").build().is_err());
    assert!(WasiCtx::builder()
        .preopen_dir(
            "/definitely/not/here",
            "x",
            wasmaot_runtime::wasi::DirPerms::READ_ONLY
        )
        .build()
        .is_err());
}

#[test]
fn wasi_fd_write_gathers_iovecs_into_captured_stdout() {
    let mut g = captured();
    g.put(BUF, b"hello, world");
    // iovecs: "hello", "" (skipped), ", world"
    let iovs = [BUF, 5, BUF, 0, BUF + 5, 7].map(u32::to_le_bytes).concat();
    g.put(256, &iovs);
    assert_eq!(g.errno("fd_write", &[1, 256, 3, RET.into()]), 0);
    assert_eq!(g.u32(RET), 12);
    assert_eq!(g.write(2, b"err").0, 0);
    assert_eq!(g.ctx.captured_stdout().unwrap(), b"hello, world");
    assert_eq!(g.ctx.captured_stderr().unwrap(), b"err");
    // stdin is not writable, stdout not readable.
    assert_eq!(g.write(0, b"x").0, en(Errno::Badf));
    assert_eq!(g.read(1, 4), Err(en(Errno::Badf)));
}

#[test]
fn wasi_shared_output_pipe_outlives_context() {
    let pipe = OutputPipe::new();
    {
        let mut g = Guest::new(
            WasiCtx::builder()
                .stdout_pipe(pipe.clone())
                .build()
                .unwrap(),
        );
        assert_eq!(g.write(1, b"kept").0, 0);
    }
    assert_eq!(pipe.contents(), b"kept");
}

#[test]
fn wasi_stdin_bytes_are_read_then_eof() {
    let mut g = captured();
    assert_eq!(g.read(0, 4).unwrap(), b"line");
    assert_eq!(g.read_all(0), b" one\nline two\n");
    assert_eq!(g.read(0, 4).unwrap(), b"");
    // Scatter over two iovecs.
    let mut g = captured();
    g.put(256, &[BUF, 3, BUF + 100, 50].map(u32::to_le_bytes).concat());
    assert_eq!(g.errno("fd_read", &[0, 256, 2, RET.into()]), 0);
    assert_eq!(g.u32(RET), 18);
    assert_eq!(g.get(BUF, 3), b"lin");
    assert_eq!(g.get(BUF + 100, 15), b"e one\nline two\n");
}

#[test]
fn wasi_stdio_fdstat_matches_wasmtime() {
    let mut g = captured();
    for (fd, rights) in [(0u64, R_READ), (1, R_WRITE), (2, R_WRITE)] {
        assert_eq!(g.errno("fd_fdstat_get", &[fd, 64]), 0);
        assert_eq!(g.mem[64], 0, "captured stdio is filetype unknown");
        assert_eq!((g.u64(72), g.u64(80)), (rights, rights));
    }
    assert_eq!(g.errno("fd_seek", &[1, 0, 0, 64]), en(Errno::Spipe));
    assert_eq!(g.errno("fd_prestat_get", &[1, 64]), en(Errno::Badf));
    assert_eq!(g.errno("fd_sync", &[1]), en(Errno::Badf));
}

#[test]
fn wasi_proc_exit_is_reported_as_exit() {
    let mut g = captured();
    assert_eq!(g.call("proc_exit", &[3]), Err(WasiTrap::Exit(3)));
    assert_eq!(g.call("proc_exit", &[0]), Err(WasiTrap::Exit(0)));
    assert_eq!(
        g.call("proc_exit", &[126]),
        Err(WasiTrap::InvalidExitStatus(126))
    );
}

#[test]
fn wasi_misc_process_and_socket_calls() {
    let mut g = captured();
    assert_eq!(g.errno("sched_yield", &[]), 0);
    assert_eq!(g.errno("proc_raise", &[2]), en(Errno::Notsup));
    assert!(matches!(
        g.call("proc_raise", &[31]),
        Err(WasiTrap::InvalidEnum { .. })
    ));
    assert_eq!(
        g.errno("sock_accept", &[0, 0, RET.into()]),
        en(Errno::Notsock)
    );
    assert_eq!(
        g.errno("sock_accept", &[42, 0, RET.into()]),
        en(Errno::Badf)
    );
    assert_eq!(
        g.errno("sock_recv", &[1, 0, 0, 0, RET.into(), RET as u64 + 4]),
        en(Errno::Notsock)
    );
    assert_eq!(
        g.errno("sock_send", &[1, 0, 0, 0, RET.into()]),
        en(Errno::Notsock)
    );
    assert_eq!(g.errno("sock_shutdown", &[1, 3]), en(Errno::Notsock));
    assert!(matches!(
        g.call("sock_shutdown", &[1, 4]),
        Err(WasiTrap::InvalidFlags { .. })
    ));
}

#[test]
fn wasi_bad_guest_pointers_trap() {
    let mut g = captured();
    let end = MEM as u64;
    assert_eq!(
        g.call("args_sizes_get", &[end - 2, 0]),
        Err(WasiTrap::OutOfBounds {
            ptr: MEM as u32 - 2,
            len: 4
        })
    );
    assert_eq!(
        g.call("args_sizes_get", &[2, 8]),
        Err(WasiTrap::Misaligned { ptr: 2, align: 4 })
    );
    assert_eq!(
        g.call("clock_time_get", &[1, 0, 4]),
        Err(WasiTrap::Misaligned { ptr: 4, align: 8 })
    );
    assert!(matches!(
        g.call("random_get", &[end - 4, 8]),
        Err(WasiTrap::OutOfBounds { .. })
    ));
    // Zero-length regions are never dereferenced.
    assert_eq!(g.call("random_get", &[end + 100, 0]), Ok(0));
    // An iovec whose buffer runs past the end.
    g.put(256, &[MEM as u32 - 4, 8].map(u32::to_le_bytes).concat());
    assert!(matches!(
        g.call("fd_write", &[1, 256, 1, RET.into()]),
        Err(WasiTrap::OutOfBounds { .. })
    ));
    // A huge iovec count.
    assert!(matches!(
        g.call("fd_write", &[1, 256, 0x2000_0000, RET.into()]),
        Err(WasiTrap::OutOfBounds { .. })
    ));
    assert!(g.ctx.captured_stdout().unwrap().is_empty());
}

#[test]
fn wasi_invalid_enums_and_flags_trap() {
    let mut g = captured();
    assert!(matches!(
        g.call("fd_seek", &[1, 0, 3, RET.into()]),
        Err(WasiTrap::InvalidEnum { ty: "Whence", .. })
    ));
    assert!(matches!(
        g.call("clock_time_get", &[9, 0, RET.into()]),
        Err(WasiTrap::InvalidEnum { ty: "Clockid", .. })
    ));
    assert!(matches!(
        g.call("fd_advise", &[1, 0, 0, 6]),
        Err(WasiTrap::InvalidEnum { .. })
    ));
    assert!(matches!(
        g.call("fd_fdstat_set_flags", &[1, 32]),
        Err(WasiTrap::InvalidFlags { .. })
    ));
    assert!(matches!(
        g.call("fd_filestat_set_times", &[1, 0, 0, 16]),
        Err(WasiTrap::InvalidFlags { .. })
    ));
}

#[test]
fn wasi_clocks_and_random() {
    let mut g = captured();
    assert_eq!(g.errno("clock_time_get", &[1, 0, 64]), 0);
    let t1 = g.u64(64);
    std::thread::sleep(std::time::Duration::from_millis(2));
    assert_eq!(g.errno("clock_time_get", &[1, 0, 64]), 0);
    assert!(g.u64(64) >= t1 + 2_000_000);
    assert_eq!(g.errno("clock_time_get", &[0, 0, 64]), 0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    assert!(g.u64(64).abs_diff(now) < 5_000_000_000);
    for id in 0..4 {
        assert_eq!(g.errno("clock_res_get", &[id, 64]), 0);
        assert!(g.u64(64) > 0 && g.u64(64) <= 1_000_000_000, "clock {id}");
        assert_eq!(g.errno("clock_time_get", &[id, 0, 64]), 0);
    }
    assert_eq!(g.errno("random_get", &[BUF.into(), 64]), 0);
    assert!(g.get(BUF, 64).iter().any(|&b| b != 0));
    assert_ne!(g.get(BUF, 32), g.get(BUF + 32, 32));
}

fn sub_clock(userdata: u64, clock: u32, timeout: u64, flags: u16) -> Vec<u8> {
    let mut b = vec![0u8; 48];
    b[0..8].copy_from_slice(&userdata.to_le_bytes());
    b[16..20].copy_from_slice(&clock.to_le_bytes());
    b[24..32].copy_from_slice(&timeout.to_le_bytes());
    b[40..42].copy_from_slice(&flags.to_le_bytes());
    b
}

fn sub_fd(userdata: u64, ty: u8, fd: u32) -> Vec<u8> {
    let mut b = vec![0u8; 48];
    b[0..8].copy_from_slice(&userdata.to_le_bytes());
    b[8] = ty;
    b[16..20].copy_from_slice(&fd.to_le_bytes());
    b
}

#[test]
fn wasi_poll_oneoff_clocks_and_fds() {
    let mut g = captured();
    assert_eq!(
        g.errno("poll_oneoff", &[4096, 6144, 0, RET.into()]),
        en(Errno::Inval)
    );

    let start = std::time::Instant::now();
    let subs = [
        sub_clock(11, 1, 20_000_000, 0),
        sub_clock(22, 1, 2_000_000, 0),
    ]
    .concat();
    g.put(4096, &subs);
    assert_eq!(g.errno("poll_oneoff", &[4096, 6144, 2, RET.into()]), 0);
    assert!(start.elapsed() >= std::time::Duration::from_millis(2));
    assert!(start.elapsed() < std::time::Duration::from_millis(20));
    assert_eq!(g.u32(RET), 1, "only the expired clock fires");
    assert_eq!(g.u64(6144), 22);
    assert_eq!(g.u32(6144 + 8) & 0xff_ffff, 0, "errno 0, type clock");

    // Captured stdout is writable and in-memory stdin readable: both fire immediately.
    let subs = [
        sub_fd(1, 2, 1),
        sub_clock(2, 1, 10_000_000_000, 0),
        sub_fd(3, 1, 0),
    ]
    .concat();
    g.put(4096, &subs);
    assert_eq!(g.errno("poll_oneoff", &[4096, 6144, 3, RET.into()]), 0);
    assert_eq!(g.u32(RET), 2);
    assert_eq!((g.u64(6144), g.mem[6144 + 10], g.u64(6144 + 16)), (1, 2, 1));
    assert_eq!((g.u64(6176), g.mem[6176 + 10]), (3, 1));

    // Absolute deadline in the past, unknown fd, unsupported clock.
    g.put(4096, &sub_clock(5, 1, 0, 1));
    assert_eq!(g.errno("poll_oneoff", &[4096, 6144, 1, RET.into()]), 0);
    assert_eq!(g.u32(RET), 1);
    g.put(4096, &sub_fd(1, 1, 99));
    assert_eq!(
        g.errno("poll_oneoff", &[4096, 6144, 1, RET.into()]),
        en(Errno::Badf)
    );
    g.put(4096, &sub_clock(5, 2, 0, 0));
    assert_eq!(
        g.errno("poll_oneoff", &[4096, 6144, 1, RET.into()]),
        en(Errno::Inval)
    );
}

#[test]
fn wasi_close_renumber_and_fd_reuse() {
    let dir = TempDir::new();
    dir.file("f", "x");
    let mut g = Guest::new(
        WasiCtx::builder()
            .stdout_capture()
            .preopen_dir(dir.path(), "/d", wasmaot_runtime::wasi::DirPerms::READ_ONLY)
            .build()
            .unwrap(),
    );
    let fds: Vec<u32> = (0..4).map(|_| g.open(3, "f", R_READ).unwrap()).collect();
    assert_eq!(fds, [4, 5, 6, 7]);
    assert_eq!(g.errno("fd_close", &[4]), 0);
    assert_eq!(g.errno("fd_close", &[6]), 0);
    assert_eq!(g.errno("fd_close", &[6]), en(Errno::Badf));
    // The highest freed number is reused first, then the next fresh one.
    assert_eq!(g.open(3, "f", R_READ), Ok(6));
    assert_eq!(g.open(3, "f", R_READ), Ok(4));
    assert_eq!(g.open(3, "f", R_READ), Ok(8));
    // renumber: both ends must be open; the source disappears.
    assert_eq!(g.errno("fd_renumber", &[8, 99]), en(Errno::Badf));
    assert_eq!(g.errno("fd_renumber", &[8, 1]), 0);
    assert_eq!(g.errno("fd_fdstat_get", &[8, 64]), en(Errno::Badf));
    assert_eq!(g.errno("fd_fdstat_get", &[1, 64]), 0);
    assert_eq!(g.mem[64], 4, "fd 1 is now the regular file");
    assert_eq!(g.read(1, 10).unwrap(), b"x");
}
