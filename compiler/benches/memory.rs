//! Linear-memory numbers: `memory.grow` cost at small and large sizes, refused grows,
//! instantiation with and without the reservation pool, and Memory64 vs 32-bit code on the
//! load/store-heavy kernels in `benches/workloads/mem64/`.
//!
//! ```sh
//! cargo bench -p wasmaot --bench memory            # full sizes (about a minute)
//! cargo bench -p wasmaot --bench memory -- --quick # small kernel sizes
//! ```
//!
//! Prints one table; nothing here is asserted (timings belong in a benchmark, not a test).
//! Times are the benchmark thread's on-CPU time (user + kernel,
//! `CLOCK_THREAD_CPUTIME_ID`), not wall time, so that other processes competing for the
//! machine's cores inflate them less (caches and the other hyperthread are still shared).

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;
use wasmaot::runtime::layout::{BoundsChecks, MemoryType};
use wasmaot::runtime::memory::{self, Limits};
use wasmaot::runtime::{Instance, Linker, Memory, Module, Val};
use wasmaot::CompileOptions;

/// A point in the calling thread's on-CPU time, user and kernel
/// (`clock_gettime(CLOCK_THREAD_CPUTIME_ID)`, nanoseconds).
#[derive(Clone, Copy)]
struct Instant(u64);

#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

extern "C" {
    fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
}

/// Linux's `CLOCK_THREAD_CPUTIME_ID`.
const CLOCK_THREAD_CPUTIME_ID: i32 = 3;

impl Instant {
    fn now() -> Instant {
        let mut ts = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec (x86-64/aarch64 Linux layout).
        let r = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        assert_eq!(r, 0, "clock_gettime");
        Instant(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
    }
    fn elapsed(&self) -> Duration {
        Duration::from_nanos(Instant::now().0 - self.0)
    }
}

struct Row {
    what: String,
    value: String,
    note: String,
}

fn row(rows: &mut Vec<Row>, what: impl Into<String>, value: impl Into<String>, note: &str) {
    let r = Row {
        what: what.into(),
        value: value.into(),
        note: note.into(),
    };
    eprintln!("  {:<62} {:>12}  {}", r.what, r.value, r.note);
    rows.push(r);
}

fn us(d: Duration) -> String {
    format!("{:.3} µs", d.as_secs_f64() * 1e6)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn compile(wat_or_wasm: &[u8], mode: BoundsChecks) -> Module {
    let opts = CompileOptions {
        name: "b".into(),
        bounds_checks: mode,
        ..Default::default()
    };
    let out = wasmaot::compile(wat_or_wasm, &opts).expect("compiles");
    Module::from_object_bytes(&out.object, Some("b")).expect("loads")
}

fn mode_name(m: BoundsChecks) -> &'static str {
    match m {
        BoundsChecks::Guard => "guard",
        BoundsChecks::Explicit => "explicit",
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    format!("{cpu}, {cores} cores, Linux {kernel}, load average at start {load}")
}

/// Mean time of one `grow(1)` starting at `start_pages`, over `n` consecutive grows; the
/// median over `reps` fresh memories.
fn host_grow(start_pages: u64, n: u64, reps: usize) -> Duration {
    median(
        (0..reps)
            .map(|_| {
                let m = Memory::new(MemoryType {
                    initial: start_pages,
                    maximum: None,
                    memory64: false,
                    shared: false,
                })
                .unwrap();
                let t = Instant::now();
                for _ in 0..n {
                    black_box(m.grow(1).unwrap());
                }
                t.elapsed() / n as u32
            })
            .collect(),
    )
}

const GROWER: &str = r#"(module
  (memory (export "mem") PAGES MAX)
  (func (export "grow_n") (param $n i32) (result i32)
    (local $r i32)
    (loop $l
      (local.set $r (memory.grow (i32.const 1)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (local.get $r)))"#;

/// Mean time of one `memory.grow 1` executed by compiled code.
fn wasm_grow(start_pages: u64, max: &str, n: i32, reps: usize) -> (Duration, i32) {
    let wat = GROWER
        .replace("PAGES", &start_pages.to_string())
        .replace("MAX", max);
    let module = compile(wat.as_bytes(), BoundsChecks::Guard);
    let mut last = 0;
    let d = median(
        (0..reps)
            .map(|_| {
                let inst = Linker::new().instantiate(&module).unwrap();
                let f = inst.get_func("grow_n").unwrap();
                let t = Instant::now();
                let r = f.call(&[Val::I32(n)]).unwrap();
                let d = t.elapsed() / n as u32;
                last = r[0].i32().unwrap();
                d
            })
            .collect(),
    );
    (d, last)
}

const SMALL: &str = r#"(module
  (memory (export "mem") 1)
  (data (i32.const 16) "hello")
  (func (export "get") (param i32) (result i32) (i32.load (local.get 0))))"#;

/// Per-instance time of instantiate + drop in sequence, and of instantiating while 1,000
/// instances are alive.
fn instantiation(module: &Module, n: usize) -> (Duration, Duration, Duration) {
    let linker = Linker::new();
    for _ in 0..100 {
        drop(linker.instantiate(module).unwrap()); // warm up (and fill the pool)
    }
    let t = Instant::now();
    for _ in 0..n {
        let i = linker.instantiate(module).unwrap();
        black_box(&i);
    }
    let seq = t.elapsed() / n as u32;
    let t = Instant::now();
    let live: Vec<Instance> = (0..1000)
        .map(|_| linker.instantiate(module).unwrap())
        .collect();
    let create_live = t.elapsed() / 1000;
    // With 1,000 alive, create and drop more.
    let t = Instant::now();
    for _ in 0..n {
        let i = linker.instantiate(module).unwrap();
        black_box(&i);
    }
    let seq_with_live = t.elapsed() / n as u32;
    drop(live);
    let _ = create_live;
    (seq, create_live, seq_with_live)
}

fn workload(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../benches/workloads/mem64")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Best time of `reps` calls of `run(arg)` for each module, each call on a fresh instance
/// (`run` grows memory); the modules take turns so that load changes affect them alike.
fn kernels(modules: &[Module], arg: i64, reps: usize) -> Vec<(Duration, u64)> {
    let mut out = vec![(Duration::MAX, 0); modules.len()];
    for _ in 0..reps {
        for (m, o) in modules.iter().zip(out.iter_mut()) {
            let inst = Linker::new().instantiate(m).unwrap();
            let f = inst.get_func("run").unwrap();
            let t = Instant::now();
            let r = f.call(&[Val::I64(arg)]).unwrap();
            o.0 = o.0.min(t.elapsed());
            o.1 = r[0].i64().unwrap() as u64;
        }
    }
    out
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let mut rows = Vec::new();
    let m = machine();
    eprintln!("machine: {m}");

    // --- memory.grow ---------------------------------------------------------------------
    let small = host_grow(16, 1000, 9);
    let large = host_grow(16384, 1000, 9);
    row(
        &mut rows,
        "host Memory::grow(1) at 1 MiB",
        us(small),
        "target ≤ 2 µs",
    );
    row(
        &mut rows,
        "host Memory::grow(1) at 1 GiB",
        us(large),
        &format!(
            "ratio to 1 MiB {:.2}× (target ≤ 2×)",
            large.as_secs_f64() / small.as_secs_f64()
        ),
    );
    let (w_small, _) = wasm_grow(16, "", 1000, 9);
    let (w_large, _) = wasm_grow(16384, "", 1000, 9);
    row(
        &mut rows,
        "compiled memory.grow 1 at 1 MiB",
        us(w_small),
        "builtin call included",
    );
    row(
        &mut rows,
        "compiled memory.grow 1 at 1 GiB",
        us(w_large),
        &format!(
            "ratio {:.2}×",
            w_large.as_secs_f64() / w_small.as_secs_f64()
        ),
    );
    let full = Memory::new(MemoryType {
        initial: 1,
        maximum: Some(1),
        memory64: false,
        shared: false,
    })
    .unwrap();
    let n = 1_000_000;
    let t = Instant::now();
    for _ in 0..n {
        black_box(full.grow_or_minus_one(black_box(1)));
    }
    row(
        &mut rows,
        "host refused grow (at maximum)",
        us(t.elapsed() / n),
        "target ≤ 0.5 µs",
    );
    let (refused, r) = wasm_grow(1, "1", 1_000_000, 3);
    assert_eq!(r, -1);
    row(
        &mut rows,
        "compiled refused memory.grow (at maximum)",
        us(refused),
        "target ≤ 0.5 µs",
    );

    // --- instantiation -------------------------------------------------------------------
    let n = if quick { 2_000 } else { 20_000 };
    for mode in [BoundsChecks::Guard, BoundsChecks::Explicit] {
        let module = compile(SMALL.as_bytes(), mode);
        for pool in [true, false] {
            memory::set_limits(Limits {
                pool_capacity: if pool {
                    memory::DEFAULT_POOL_CAPACITY
                } else {
                    0
                },
                ..memory::limits()
            });
            let (seq, live, seq_live) = instantiation(&module, n);
            let tag = format!(
                "{}, pool {}",
                mode_name(mode),
                if pool { "on" } else { "off" }
            );
            row(
                &mut rows,
                format!("instantiate+drop, 1-page module ({tag})"),
                us(seq),
                "target ≤ 5 µs",
            );
            row(
                &mut rows,
                format!("instantiate while 1,000 live ({tag})"),
                us(seq_live),
                &format!("building the 1,000: {}/instance", us(live)),
            );
        }
    }
    memory::set_limits(Limits {
        pool_capacity: memory::DEFAULT_POOL_CAPACITY,
        ..memory::limits()
    });

    // --- Memory64 vs 32-bit ----------------------------------------------------------------
    let (bytes_arg, matmul_arg, reps) = if quick { (8, 300, 3) } else { (64, 900, 5) };
    let expected: &[(&str, i64, u64)] = &[
        ("bytes64", 64, 17695116040554818465),
        ("matmul64", 900, 11633074446142144338),
    ];
    for (name, arg) in [("bytes64", bytes_arg), ("matmul64", matmul_arg)] {
        let w32 = workload(&format!("{name}.wasm32.wasm"));
        let w64 = workload(&format!("{name}.wasm64.wasm"));
        let r = kernels(
            &[
                compile(&w32, BoundsChecks::Guard),
                compile(&w32, BoundsChecks::Explicit),
                compile(&w64, BoundsChecks::Guard),
            ],
            arg,
            reps,
        );
        let [(g32, s_g32), (e32, s_e32), (m64, s_m64)] = r[..] else {
            unreachable!()
        };
        assert_eq!(s_g32, s_e32, "{name}: checksums differ");
        assert_eq!(s_g32, s_m64, "{name}: checksums differ");
        if let Some(&(_, _, want)) = expected.iter().find(|e| e.0 == name && e.1 == arg) {
            assert_eq!(s_g32, want, "{name}({arg}) checksum");
        }
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
        row(
            &mut rows,
            format!("{name} run({arg}): wasm32, guard"),
            ms(g32),
            "",
        );
        row(
            &mut rows,
            format!("{name} run({arg}): wasm32, explicit checks"),
            ms(e32),
            &format!("{:.3}× guard", e32.as_secs_f64() / g32.as_secs_f64()),
        );
        row(
            &mut rows,
            format!("{name} run({arg}): wasm64 (memory64)"),
            ms(m64),
            &format!(
                "{:.3}× guard (target ≤ 1.10×)",
                m64.as_secs_f64() / g32.as_secs_f64()
            ),
        );
    }

    println!("\nmachine: {m}\n");
    println!("| measurement | value | note |");
    println!("| --- | ---: | --- |");
    for r in &rows {
        println!("| {} | {} | {} |", r.what, r.value, r.note);
    }
}
