//! Linear memory through compiled code: bounds checks at every edge in both bounds-checking
//! modes and for memory64, proof from the generated code that guard-mode accesses carry no
//! check, `memory.grow`/`memory.size`, the seeds' WebAssembly.Memory semantics, imports and
//! exports, multi-memory, shared memories across threads, data segments, and many instances.
//!
//! Tests that count the process's mappings take [`exclusive`]; every other test holds
//! [`shared`] so that nothing creates or drops memories while they measure.

mod common;

use common::{call, trap_of};
use std::sync::{Arc, Barrier, RwLock, RwLockReadGuard, RwLockWriteGuard};
use wasmaot::runtime::layout::{BoundsChecks, MemoryType, TrapKind, WASM_PAGE_SIZE};
use wasmaot::runtime::memory::{self, MemoryError, MemoryLayout};
use wasmaot::runtime::{Error, Func, FuncType, Instance, Linker, Memory, Module, Val};
use wasmaot::CompileOptions;
use Val::{I32, I64};

const PAGE: u64 = WASM_PAGE_SIZE;
const OOB: &str = "out of bounds memory access";
const MODES: [BoundsChecks; 2] = [BoundsChecks::Guard, BoundsChecks::Explicit];

static LOCK: RwLock<()> = RwLock::new(());

fn shared() -> RwLockReadGuard<'static, ()> {
    LOCK.read().unwrap_or_else(|e| e.into_inner())
}

fn exclusive() -> RwLockWriteGuard<'static, ()> {
    LOCK.write().unwrap_or_else(|e| e.into_inner())
}

fn opts(mode: BoundsChecks) -> CompileOptions {
    CompileOptions {
        name: "t".into(),
        bounds_checks: mode,
        ..Default::default()
    }
}

/// Options that also accept shared memories (the threads proposal's memory types; atomic
/// instructions stay unsupported).
fn threads_opts(mode: BoundsChecks) -> CompileOptions {
    CompileOptions {
        features: wasmaot::supported_features() | wasmparser::WasmFeatures::THREADS,
        ..opts(mode)
    }
}

fn module_with(wat: &str, o: &CompileOptions) -> Module {
    let out = wasmaot::compile(wat.as_bytes(), o).expect("compiles");
    assert_eq!(out.info.bounds_checks, o.bounds_checks);
    Module::from_object_bytes(&out.object, Some(&o.name)).expect("loads")
}

fn module_in(wat: &str, mode: BoundsChecks) -> Module {
    module_with(wat, &opts(mode))
}

fn instance_in(wat: &str, mode: BoundsChecks) -> Instance {
    Linker::new()
        .instantiate(&module_in(wat, mode))
        .expect("instantiates")
}

fn ok(inst: &Instance, name: &str, args: &[Val]) -> Vec<Val> {
    call(inst, name, args).unwrap_or_else(|e| panic!("{name}{args:?}: {e}"))
}

fn i32_of(inst: &Instance, name: &str, args: &[Val]) -> i32 {
    match ok(inst, name, args).as_slice() {
        [I32(x)] => *x,
        other => panic!("{name}: {other:?}"),
    }
}

fn i64_of(inst: &Instance, name: &str, args: &[Val]) -> i64 {
    match ok(inst, name, args).as_slice() {
        [I64(x)] => *x,
        other => panic!("{name}: {other:?}"),
    }
}

fn traps(inst: &Instance, name: &str, args: &[Val]) {
    assert_eq!(trap_of(call(inst, name, args)), OOB, "{name}{args:?}");
}

fn mem_ty(initial: u64, maximum: Option<u64>) -> MemoryType {
    MemoryType {
        initial,
        maximum,
        memory64: false,
        shared: false,
    }
}

fn bytes(m: &Memory, at: u64, n: usize) -> Vec<u8> {
    let mut b = vec![0; n];
    assert!(m.read(at, &mut b), "read {at}+{n}");
    b
}

fn link_err(r: Result<Instance, Error>) -> String {
    match r {
        Err(Error::Link(m)) => m,
        other => panic!("expected a link error, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The seeds' WebAssembly.Memory semantics.

#[test]
fn seed_host_memory_api() {
    let _g = shared();
    // {initial:1, maximum:3}
    let m = Memory::new(mem_ty(1, Some(3))).unwrap();
    assert_eq!(m.size_bytes(), 65536);
    assert_eq!(m.grow(1), Ok(1));
    assert_eq!(m.size_bytes(), 131072);
    assert_eq!(m.grow(1), Ok(2));
    assert_eq!(
        m.grow(1),
        Err(MemoryError::GrowFailed {
            current: 3,
            delta: 1
        })
    );
    assert_eq!(m.grow_or_minus_one(1), -1);
    assert_eq!(m.size_bytes(), 196608, "a failed grow changes nothing");
    // {initial:16, maximum:256}
    let m = Memory::new(mem_ty(16, Some(256))).unwrap();
    assert_eq!(m.size_bytes(), 1048576);
    assert_eq!(m.grow(16), Ok(16));
    assert_eq!(m.size_bytes(), 2097152);
    // Shared memories need a maximum.
    let e = Memory::new(MemoryType {
        shared: true,
        ..mem_ty(16, None)
    })
    .unwrap_err();
    assert_eq!(e, MemoryError::SharedWithoutMaximum);
    assert_eq!(e.to_string(), "maximum is required for shared memory");
    let s = Memory::new(MemoryType {
        shared: true,
        ..mem_ty(16, Some(256))
    })
    .unwrap();
    assert_eq!(s.grow(16), Ok(16));
    // maximum < initial: a range error.
    assert!(matches!(
        Memory::new(mem_ty(10, Some(9))),
        Err(MemoryError::Range(_))
    ));
    // Beyond the index space: range errors too.
    assert!(matches!(
        Memory::new(mem_ty(65537, None)),
        Err(MemoryError::Range(_))
    ));
    // An initial size that cannot be allocated fails at construction, not at grow.
    let huge = MemoryType {
        memory64: true,
        ..mem_ty(1 << 40, None)
    };
    assert!(matches!(
        Memory::new(huge),
        Err(MemoryError::Allocation { .. })
    ));
    // The base never moves, unlike a JS ArrayBuffer.
    let m = Memory::new(mem_ty(1, None)).unwrap();
    let base = m.data_ptr();
    assert!(m.write(65535, &[9]));
    m.grow(100).unwrap();
    assert_eq!(m.data_ptr(), base);
    assert_eq!(bytes(&m, 65535, 1), [9]);
}

const ADD_PAGE: &str = r#"(module
  (memory (export "mem") 1 3)
  (func (export "add_page") (result i32) (memory.grow (i32.const 1)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size)))"#;

#[test]
fn seed_memory_grow_through_compiled_code() {
    let _g = shared();
    for mode in MODES {
        let inst = instance_in(ADD_PAGE, mode);
        let mem = inst.get_memory("mem").unwrap();
        assert_eq!(mem.size_bytes(), 65536);
        assert_eq!(i32_of(&inst, "add_page", &[]), 1);
        assert_eq!(mem.size_bytes(), 131072);
        assert_eq!(i32_of(&inst, "add_page", &[]), 2);
        assert_eq!(i32_of(&inst, "add_page", &[]), -1);
        assert_eq!(mem.size_bytes(), 196608);
        assert_eq!(i32_of(&inst, "size", &[]), 3);
        assert_eq!(i32_of(&inst, "grow", &[I32(0)]), 3);
        assert_eq!(i32_of(&inst, "grow", &[I32(-1)]), -1);

        let wat = ADD_PAGE.replace("1 3", "16 256");
        let inst = instance_in(&wat, mode);
        assert_eq!(i32_of(&inst, "grow", &[I32(16)]), 16);
        assert_eq!(inst.get_memory("mem").unwrap().size_bytes(), 2097152);
        assert_eq!(i32_of(&inst, "size", &[]), 32);
        assert_eq!(i32_of(&inst, "grow", &[I32(225)]), -1);
        assert_eq!(i32_of(&inst, "size", &[]), 32);

        // An initial size that cannot be allocated fails at instantiation.
        let big = r#"(module (memory i64 4294967296))"#;
        let r = Linker::new().instantiate(&module_in(big, mode));
        assert!(
            matches!(r, Err(Error::Memory(MemoryError::Allocation { .. }))),
            "{r:?}"
        );
    }
}

/// Seed 004: the host writes 7 and 4 into an imported memory, `sum` stores 11 at byte 8.
#[test]
fn seed_sum_through_an_imported_memory() {
    let _g = shared();
    let wat = r#"(module
      (memory (import "js" "mem") 1)
      (func (export "sum")
        (i32.store (i32.const 8)
          (i32.add (i32.load (i32.const 0)) (i32.load (i32.const 4))))))"#;
    for mode in MODES {
        let mem = Memory::new(mem_ty(1, None)).unwrap();
        let mut l = Linker::new();
        l.define("js", "mem", mem.clone());
        let inst = l.instantiate(&module_in(wat, mode)).unwrap();
        assert!(mem.write(0, &7u32.to_le_bytes()));
        assert!(mem.write(4, &4u32.to_le_bytes()));
        ok(&inst, "sum", &[]);
        assert_eq!(bytes(&mem, 8, 4), 11u32.to_le_bytes());
    }
}

// ---------------------------------------------------------------------------------------------
// Out-of-bounds accesses at every edge.

const EDGES32: &str = r#"(module
  (memory (export "mem") 1 MAX)
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "load64") (param i32) (result i64) (i64.load (local.get 0)))
  (func (export "store64") (param i32 i64) (i64.store (local.get 0) (local.get 1)))
  (func (export "store128") (param i32) (v128.store (local.get 0) (v128.const i64x2 -1 -1)))
  (func (export "load8_maxoff") (param i32) (result i32)
    (i32.load8_u offset=0xffffffff (local.get 0)))
  (func (export "store8_maxoff") (param i32)
    (i32.store8 offset=0xffffffff (local.get 0) (i32.const 1)))
  (func (export "load32_off") (param i32) (result i32) (i32.load offset=65532 (local.get 0)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size)))"#;

fn check_edges32(inst: &Instance, growable: bool) {
    let mem = inst.get_memory("mem").unwrap();
    // Last valid byte, first invalid byte.
    assert_eq!(i32_of(inst, "load8", &[I32(65535)]), 0);
    ok(inst, "store8", &[I32(65535), I32(0xab)]);
    assert_eq!(i32_of(inst, "load8", &[I32(65535)]), 0xab);
    traps(inst, "load8", &[I32(65536)]);
    traps(inst, "store8", &[I32(65536), I32(1)]);
    traps(inst, "load8", &[I32(-1)]);
    traps(inst, "store8", &[I32(-1), I32(1)]);
    // 8- and 16-byte accesses straddling the end trap and write nothing.
    let tail: Vec<u8> = (1..=16).collect();
    assert!(mem.write(65520, &tail));
    assert_eq!(i64_of(inst, "load64", &[I32(65528)]), 0x100f_0e0d_0c0b_0a09);
    traps(inst, "load64", &[I32(65529)]);
    traps(inst, "store64", &[I32(65532), I64(-1)]);
    traps(inst, "store64", &[I32(65529), I64(-1)]);
    traps(inst, "store128", &[I32(65521)]);
    assert_eq!(
        bytes(&mem, 65520, 16),
        tail,
        "a trapping store wrote nothing"
    );
    ok(inst, "store128", &[I32(65520)]);
    assert_eq!(bytes(&mem, 65520, 16), [0xff; 16]);
    // offset 0xffff_ffff with address 0xffff_ffff (and 0).
    traps(inst, "load8_maxoff", &[I32(-1)]);
    traps(inst, "load8_maxoff", &[I32(0)]);
    traps(inst, "store8_maxoff", &[I32(-1)]);
    traps(inst, "store8_maxoff", &[I32(0)]);
    // A static offset reaching the last word exactly.
    assert_eq!(i32_of(inst, "load32_off", &[I32(0)]), -1);
    traps(inst, "load32_off", &[I32(1)]);
    if growable {
        assert_eq!(i32_of(inst, "grow", &[I32(1)]), 1);
        assert_eq!(i32_of(inst, "size", &[]), 2);
        // The newly valid page works, and is zero.
        assert_eq!(i32_of(inst, "load8", &[I32(65536)]), 0);
        ok(inst, "store8", &[I32(131071), I32(7)]);
        assert_eq!(i32_of(inst, "load8", &[I32(131071)]), 7);
        assert_eq!(i32_of(inst, "load32_off", &[I32(65536)]), 0x0700_0000);
        traps(inst, "load8", &[I32(131072)]);
        traps(inst, "load64", &[I32(131065)]);
        traps(inst, "load32_off", &[I32(65537)]);
        traps(inst, "load8_maxoff", &[I32(-1)]);
    } else {
        assert_eq!(i32_of(inst, "grow", &[I32(1)]), -1);
        traps(inst, "load8", &[I32(65536)]);
    }
}

#[test]
fn out_of_bounds_edges_32bit() {
    let _g = shared();
    for mode in MODES {
        // Growable (length compared at run time) and fixed (length is a constant).
        let inst = instance_in(&EDGES32.replace("MAX", "4"), mode);
        check_edges32(&inst, true);
        let inst = instance_in(&EDGES32.replace("MAX", "1"), mode);
        check_edges32(&inst, false);
        // Without a maximum.
        let inst = instance_in(&EDGES32.replace("MAX", ""), mode);
        check_edges32(&inst, true);
    }
}

const EDGES64: &str = r#"(module
  (memory (export "mem") i64 1 MAX)
  (func (export "load8") (param i64) (result i32) (i32.load8_u (local.get 0)))
  (func (export "store8") (param i64 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "load64") (param i64) (result i64) (i64.load (local.get 0)))
  (func (export "store64") (param i64 i64) (i64.store (local.get 0) (local.get 1)))
  (func (export "load64_off8") (param i64) (result i64) (i64.load offset=8 (local.get 0)))
  (func (export "load8_offmax") (param i64) (result i32)
    (i32.load8_u offset=0xffffffffffffffff (local.get 0)))
  (func (export "load8_offbig") (param i64) (result i32)
    (i32.load8_u offset=0xfffffffffffffff0 (local.get 0)))
  (func (export "load8_off8g") (param i64) (result i32)
    (i32.load8_u offset=0x200000000 (local.get 0)))
  (func (export "load32_off4g") (param i64) (result i32)
    (i32.load offset=0xfffffffc (local.get 0)))
  (func (export "store64_off8") (param i64 i64) (i64.store offset=8 (local.get 0) (local.get 1)))
  (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0)))
  (func (export "size") (result i64) (memory.size)))"#;

fn check_edges64(inst: &Instance, growable: bool) {
    let mem = inst.get_memory("mem").unwrap();
    let near = |k: u64| I64(0u64.wrapping_sub(k) as i64); // 2^64 - k
    assert_eq!(i32_of(inst, "load8", &[I64(65535)]), 0);
    ok(inst, "store8", &[I64(65535), I32(3)]);
    assert_eq!(i32_of(inst, "load8", &[I64(65535)]), 3);
    traps(inst, "load8", &[I64(65536)]);
    traps(inst, "store8", &[I64(65536), I32(1)]);
    traps(inst, "load8", &[near(1)]);
    traps(inst, "load8", &[I64(1 << 32)]);
    traps(inst, "load8", &[I64(i64::MIN)]);
    assert_eq!(i64_of(inst, "load64", &[I64(65528)]), 0x0300_0000_0000_0000);
    traps(inst, "load64", &[I64(65529)]);
    traps(inst, "load64", &[near(8)]);
    traps(inst, "load64", &[near(1)]);
    // Address + offset wrapping past 2^64 must trap, not reach the start of memory.
    assert!(mem.write(0, &[0x5a; 8]));
    traps(inst, "load64_off8", &[near(8)]);
    traps(inst, "load64_off8", &[near(4)]);
    assert_eq!(
        i64_of(inst, "load64_off8", &[I64(65520)]),
        0x0300_0000_0000_0000
    );
    traps(inst, "load64_off8", &[I64(65521)]);
    traps(inst, "load8_offmax", &[I64(0)]);
    traps(inst, "load8_offmax", &[I64(1)]);
    traps(inst, "load8_offbig", &[I64(0x10)]);
    traps(inst, "load8_offbig", &[I64(0)]);
    traps(inst, "load8_off8g", &[I64(0)]);
    traps(inst, "load8_off8g", &[near(1 << 33)]);
    traps(inst, "load32_off4g", &[I64(0)]);
    traps(inst, "load32_off4g", &[near(0xffff_fffc)]);
    traps(inst, "store64_off8", &[near(8), I64(-1)]);
    assert_eq!(
        bytes(&mem, 0, 8),
        [0x5a; 8],
        "a wrapped store wrote nothing"
    );
    // Straddling the end: trap, write nothing.
    let tail: Vec<u8> = (1..=8).collect();
    assert!(mem.write(65528, &tail));
    traps(inst, "store64", &[I64(65532), I64(-1)]);
    traps(inst, "store64_off8", &[I64(65525), I64(-1)]);
    assert_eq!(bytes(&mem, 65528, 8), tail);
    if growable {
        assert_eq!(i64_of(inst, "grow", &[I64(1)]), 1);
        assert_eq!(i64_of(inst, "size", &[]), 2);
        assert_eq!(i32_of(inst, "load8", &[I64(65536)]), 0);
        ok(inst, "store8", &[I64(131071), I32(9)]);
        assert_eq!(i32_of(inst, "load8", &[I64(131071)]), 9);
        traps(inst, "load8", &[I64(131072)]);
        traps(inst, "load64_off8", &[I64(131065)]);
        traps(inst, "load64_off8", &[near(8)]);
        assert_eq!(i64_of(inst, "grow", &[near(1)]), -1);
    } else {
        assert_eq!(i64_of(inst, "grow", &[I64(1)]), -1);
        traps(inst, "load8", &[I64(65536)]);
    }
}

#[test]
fn out_of_bounds_edges_memory64() {
    let _g = shared();
    for mode in MODES {
        let inst = instance_in(&EDGES64.replace("MAX", "4"), mode);
        check_edges64(&inst, true);
        let inst = instance_in(&EDGES64.replace("MAX", "1"), mode);
        check_edges64(&inst, false);
        let inst = instance_in(&EDGES64.replace("MAX", ""), mode);
        check_edges64(&inst, true);
    }
}

/// The cached length is reloaded after anything that can grow the memory: a call to the host
/// (which grows it), `memory.grow` in the same function, calls inside loops.
#[test]
fn length_is_reloaded_after_calls_and_grow() {
    let _g = shared();
    let wat = r#"(module
      (import "env" "grow" (func $grow))
      (import "env" "mem" (memory IDX 1 100))
      (func (export "after_call") (result i32)
        (drop (i32.load8_u (IDX.const 0)))
        (call $grow)
        (i32.load8_u (IDX.const 65536)))
      (func (export "after_grow") (result i32)
        (drop (i32.load8_u (IDX.const 0)))
        (drop (memory.grow (IDX.const 1)))
        (i32.load8_u (IDX.sub (IDX.mul (memory.size) (IDX.const 65536)) (IDX.const 1))))
      (func $indirect (call $grow))
      (table funcref (elem $indirect))
      (func (export "in_loop") (param $n i32) (result i32)
        (local $i i32) (local $sum i32)
        (loop $l
          (call_indirect (i32.const 0))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          ;; the last byte of the newest page
          (local.set $sum (i32.add (local.get $sum)
            (i32.load8_u (IDX.sub (IDX.mul (memory.size) (IDX.const 65536)) (IDX.const 1)))))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
        (local.get $sum)))"#;
    for memory64 in [false, true] {
        let (wat, ty) = if memory64 {
            let w = wat.replace("IDX.", "i64.").replace("IDX", "i64");
            (
                w,
                MemoryType {
                    memory64: true,
                    ..mem_ty(1, Some(100))
                },
            )
        } else {
            (
                wat.replace("IDX.", "i32.").replace("IDX ", ""),
                mem_ty(1, Some(100)),
            )
        };
        for mode in MODES {
            let mem = Memory::new(ty).unwrap();
            let m2 = mem.clone();
            let grow = Func::host(FuncType::default(), move |_, _| {
                let old = m2.grow(1).unwrap();
                assert!(m2.write((old + 1) * PAGE - 1, &[1]));
                Ok(vec![])
            });
            let mut l = Linker::new();
            l.define("env", "mem", mem.clone())
                .define("env", "grow", grow);
            let inst = l.instantiate(&module_in(&wat, mode)).unwrap();
            assert_eq!(i32_of(&inst, "after_call", &[]), 0);
            assert_eq!(mem.size_pages(), 2);
            assert_eq!(i32_of(&inst, "after_grow", &[]), 0);
            assert_eq!(mem.size_pages(), 3);
            assert_eq!(i32_of(&inst, "in_loop", &[I32(10)]), 10);
            assert_eq!(mem.size_pages(), 13);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What the generated code looks like.

/// Fourteen accesses, no arithmetic, no control flow: any compare or conditional trap in the
/// code can only be a bounds check.
const KERNEL: &str = r#"(module
  (memory MEM)
  (func (export "kernel") (param $a IDX) (param $b IDX)
    (i32.store (local.get $a) (i32.load (local.get $b)))
    (i64.store offset=8 (local.get $a) (i64.load offset=16 (local.get $b)))
    (i32.store8 offset=4294967295 (local.get $a) (i32.load8_u offset=4294967295 (local.get $b)))
    (f64.store offset=100 (local.get $b) (f64.load (local.get $a)))
    (i32.store16 (local.get $a) (i32.load16_s offset=3 (local.get $b)))
    (v128.store offset=32 (local.get $a) (v128.load offset=64 (local.get $b)))
    (i64.store32 (local.get $b) (i64.load32_u offset=65536 (local.get $a)))))"#;
const KERNEL_ACCESSES: usize = 14;

fn kernel(mem: &str, idx: &str) -> String {
    KERNEL.replace("MEM", mem).replace("IDX", idx)
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// Number of CLIF instructions with opcode `op` (`v3 = icmp ...`, `trapnz ...`,
/// `v5 = load.i64 ...` all count under their opcode).
fn insts(clif: &str, op: &str) -> usize {
    clif.lines()
        .filter(|l| {
            let l = l.trim();
            let l = l.split_once(" = ").map_or(l, |(_, r)| r);
            let opcode = l.split([' ', '.']).next().unwrap_or("");
            opcode == op
        })
        .count()
}

#[test]
fn guard_mode_32bit_accesses_have_no_bounds_checks() {
    let _g = shared();
    let wat = kernel("1", "i32");
    let o = opts(BoundsChecks::Guard);
    let d = wasmaot::debug::dump_function(wat.as_bytes(), 0, &o).unwrap();
    // In the IR: no compare, no conditional or unconditional trap, no overflow check.
    for op in [
        "icmp",
        "trapnz",
        "trapz",
        "trap",
        "uadd_overflow_trap",
        "select_spectre_guard",
    ] {
        assert_eq!(
            insts(&d.clif, op),
            0,
            "`{op}` in guard-mode CLIF:\n{}",
            d.clif
        );
        assert_eq!(insts(&d.optimized, op), 0, "`{op}` after optimisation");
    }
    // The accesses themselves are all there.
    let accesses: usize = [
        "load", "store", "uload8", "istore8", "sload16", "istore16", "uload32", "istore32",
    ]
    .iter()
    .map(|op| insts(&d.clif, op))
    .sum();
    // (plus two loads per access of the memory's base through the vmctx)
    assert_eq!(
        accesses,
        KERNEL_ACCESSES + 2 * KERNEL_ACCESSES,
        "{}",
        d.clif
    );
    // In the machine code: no compare, no test, no conditional branch, no ud2 (the only
    // jump is the fall-through to the return block).
    for l in d.disasm.lines().map(str::trim) {
        assert!(
            !(l.starts_with("cmp") || l.starts_with("test") || l.starts_with("ud2"))
                && (!l.starts_with('j') || l.starts_with("jmp")),
            "`{l}` in:\n{}",
            d.disasm
        );
    }
    // Every load and store is a trap site meaning "out of bounds memory access", and nothing
    // else is.
    assert_eq!(
        d.traps.len(),
        KERNEL_ACCESSES,
        "{:?}\n{}",
        d.traps,
        d.disasm
    );
    assert!(d
        .traps
        .iter()
        .all(|t| t.kind == TrapKind::MemoryOutOfBounds));
    assert_eq!(TrapKind::MemoryOutOfBounds.message(), OOB);

    // The object's trap table says the same.
    let out = wasmaot::compile(wat.as_bytes(), &o).unwrap();
    assert_eq!(out.info.bounds_checks, BoundsChecks::Guard);
    let table = &out.info.func_traps[0];
    assert_eq!(table, &d.traps);

    // And each trap site is a load or store instruction in the emitted object.
    if let Some(listing) = objdump(&out.object) {
        let body = function_listing(&listing, &out.info.func_names[0]);
        assert!(
            !body.is_empty(),
            "no `{}` in\n{listing}",
            out.info.func_names[0]
        );
        for site in table {
            let line = body
                .iter()
                .find(|(off, _)| *off == u64::from(site.offset))
                .unwrap_or_else(|| panic!("no instruction at trap offset {:#x}", site.offset));
            assert!(
                line.1.contains("mov") && line.1.contains('('),
                "trap site {:#x} is not a memory access: {}",
                site.offset,
                line.1
            );
        }
        assert!(!body
            .iter()
            .any(|(_, i)| i.contains("cmp") || i.contains("ud2")));
    }
}

#[test]
fn checked_modes_do_compare() {
    let _g = shared();
    // Explicit 32-bit (growable and fixed) and memory64 in either mode: every access is
    // preceded by a compare and a conditional trap.
    let cases = [
        (BoundsChecks::Explicit, kernel("1", "i32")),
        (BoundsChecks::Explicit, kernel("1 1", "i32")),
        (BoundsChecks::Guard, kernel("i64 1", "i64")),
        (BoundsChecks::Explicit, kernel("i64 1", "i64")),
    ];
    for (mode, wat) in cases {
        let d = wasmaot::debug::dump_function(wat.as_bytes(), 0, &opts(mode)).unwrap();
        // One compare + conditional trap per access, or an unconditional trap where the
        // static offset alone is out of bounds.
        let conditional = insts(&d.clif, "trapnz");
        let statically_oob = insts(&d.clif, "trap");
        assert_eq!(
            conditional + statically_oob,
            KERNEL_ACCESSES,
            "{mode:?}:\n{}",
            d.clif
        );
        assert!(insts(&d.clif, "icmp") >= conditional, "{}", d.clif);
        assert!(count(&d.disasm, "cmp") >= 1, "{}", d.disasm);
        assert!(d
            .traps
            .iter()
            .all(|t| t.kind == TrapKind::MemoryOutOfBounds));
    }
    // The 32-bit explicit check is the full one (index + offset + size against the length),
    // so it needs no guard: every access compares against `length + 1 - (offset + size)`.
    let d = wasmaot::debug::dump_function(
        kernel("1", "i32").as_bytes(),
        0,
        &opts(BoundsChecks::Explicit),
    )
    .unwrap();
    assert_eq!(insts(&d.clif, "select"), KERNEL_ACCESSES, "{}", d.clif);
}

/// In a loop without calls the length is not reloaded per access: it is loaded once at entry
/// (the loop compares against a register); with a call in the loop it is reloaded after it.
#[test]
fn length_load_is_hoisted_out_of_call_free_loops() {
    let _g = shared();
    let wat = r#"(module
      (func $f)
      (memory i64 1)
      (func (export "sum") (param $p i64) (param $n i64) (result i32)
        (local $s i32)
        (loop $l
          (local.set $s (i32.add (local.get $s) (i32.load8_u (local.get $p))))
          (i64.store8 offset=7 (local.get $p) (local.get $n))
          (local.set $p (i64.add (local.get $p) (i64.const 1)))
          (br_if $l (i64.lt_u (local.get $p) (local.get $n))))
        (local.get $s))
      (func (export "sum_call") (param $p i64) (param $n i64) (result i32)
        (local $s i32)
        (loop $l
          (local.set $s (i32.add (local.get $s) (i32.load8_u (local.get $p))))
          (call $f)
          (local.set $p (i64.add (local.get $p) (i64.const 1)))
          (br_if $l (i64.lt_u (local.get $p) (local.get $n))))
        (local.get $s)))"#;
    let o = opts(BoundsChecks::Guard);
    // A length load is the only load at `+8` from the memory definition.
    let length_loads = |func: u32| {
        let d = wasmaot::debug::dump_function(wat.as_bytes(), func, &o).unwrap();
        d.optimized
            .lines()
            .filter(|l| l.contains("= load.i64") && l.ends_with("+8"))
            .count()
    };
    assert_eq!(length_loads(1), 1);
    assert_eq!(length_loads(2), 2);
    // And it still computes the right thing.
    let inst = instance_in(wat, BoundsChecks::Guard);
    // Bytes 7..107 were stored (100 each) before being read from p = 7 on.
    assert_eq!(i32_of(&inst, "sum", &[I64(0), I64(100)]), 93 * 100);
    traps(&inst, "sum", &[I64(65000), I64(65536)]);
}

// ---------------------------------------------------------------------------------------------
// Layouts: what the module tells the runtime.

#[test]
fn explicit_mode_memories_reserve_only_their_maximum() {
    let _g = shared();
    let layout_of = |wat: &str, mode| {
        let inst = instance_in(wat, mode);
        let m = inst.memory(0).unwrap();
        (m.layout(), m.reserved_bytes(), m.max_pages())
    };
    let g = BoundsChecks::Guard;
    let e = BoundsChecks::Explicit;
    assert_eq!(
        layout_of("(module (memory 1 2))", g),
        (MemoryLayout::Guarded, 8 << 30, 2)
    );
    assert_eq!(
        layout_of("(module (memory 1 2))", e),
        (MemoryLayout::Compact, 2 * PAGE, 2)
    );
    assert_eq!(
        layout_of("(module (memory 0 0))", e).0,
        MemoryLayout::Compact
    );
    let default_cap = memory::Limits::default().compact_reservation;
    assert_eq!(
        layout_of("(module (memory 1))", e),
        (MemoryLayout::Compact, default_cap, default_cap / PAGE)
    );
    // Memory64 keeps its guard in both modes (its check relies on it).
    assert_eq!(
        layout_of("(module (memory i64 1 2))", e),
        (MemoryLayout::Guarded, 2 * PAGE + (4 << 30), 2)
    );
}

#[test]
fn compact_memories_cannot_be_imported_by_guard_mode_code() {
    let _g = shared();
    let importer = r#"(module (memory (import "env" "mem") 1)
      (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0))))"#;
    let exporter = r#"(module (memory (export "mem") 1 2)
      (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))"#;
    let compact = Memory::with_layout(mem_ty(1, Some(2)), MemoryLayout::Compact).unwrap();
    assert_eq!(compact.layout(), MemoryLayout::Compact);
    assert_eq!(compact.reserved_bytes(), 2 * PAGE);
    let guarded = Memory::new(mem_ty(1, Some(2))).unwrap();
    let with = |m: &Memory| {
        let mut l = Linker::new();
        l.define("env", "mem", m.clone());
        l
    };
    // Compact into guard mode: a link error naming the import.
    let e = link_err(with(&compact).instantiate(&module_in(importer, BoundsChecks::Guard)));
    assert!(e.contains("`env::mem`") && e.contains("guard"), "{e}");
    // Every other combination links.
    for (m, mode) in [
        (&compact, BoundsChecks::Explicit),
        (&guarded, BoundsChecks::Explicit),
        (&guarded, BoundsChecks::Guard),
    ] {
        let inst = with(m).instantiate(&module_in(importer, mode)).unwrap();
        assert!(m.write(65535, &[4]));
        assert_eq!(i32_of(&inst, "load", &[I32(65535)]), 4);
        traps(&inst, "load", &[I32(65536)]);
    }
    // An explicit-mode module's own memory is compact: re-exporting it to a guard-mode
    // module fails; to an explicit-mode one it works.
    let src = instance_in(exporter, BoundsChecks::Explicit);
    let mut l = Linker::new();
    l.instance("env", &src);
    let e = link_err(l.instantiate(&module_in(importer, BoundsChecks::Guard)));
    assert!(e.contains("`env::mem`"), "{e}");
    let dst = l
        .instantiate(&module_in(importer, BoundsChecks::Explicit))
        .unwrap();
    ok(&src, "store", &[I32(10), I32(77)]);
    assert_eq!(i32_of(&dst, "load", &[I32(10)]), 77);
    // Memory64 memories are always guarded, so both modes import them.
    let m64 = Memory::with_layout(
        MemoryType {
            memory64: true,
            ..mem_ty(1, None)
        },
        MemoryLayout::Compact,
    )
    .unwrap();
    assert_eq!(m64.layout(), MemoryLayout::Guarded);
    let imp64 = r#"(module (memory (import "env" "mem") i64 1))"#;
    with(&m64)
        .instantiate(&module_in(imp64, BoundsChecks::Guard))
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Imports, exports, multi-memory.

#[test]
fn imported_and_exported_memories() {
    let _g = shared();
    let writer = r#"(module (memory (import "env" "mem") 1)
      (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
      (export "same" (memory 0)))"#;
    let reader = r#"(module (memory (import "env" "mem") 1 10)
      (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
      (func (export "size") (result i32) (memory.size)))"#;
    for mode in MODES {
        let mem = Memory::new(mem_ty(1, Some(10))).unwrap();
        let mut l = Linker::new();
        l.define("env", "mem", mem.clone());
        let w = l.instantiate(&module_in(writer, mode)).unwrap();
        let r = l.instantiate(&module_in(reader, mode)).unwrap();
        // One memory imported by two instances is the same bytes.
        ok(&w, "store", &[I32(100), I32(0x1234_5678)]);
        assert_eq!(i32_of(&r, "load", &[I32(100)]), 0x1234_5678);
        assert_eq!(bytes(&mem, 100, 4), 0x1234_5678u32.to_le_bytes());
        // Exported memories are reachable by name and are the imported one.
        let same = w.get_memory("same").unwrap();
        assert!(same.ptr_eq(&mem));
        assert_eq!(same.data_ptr(), mem.data_ptr());
        // Growth by the host is seen by both.
        assert_eq!(mem.grow(2), Ok(1));
        assert_eq!(i32_of(&r, "size", &[]), 3);
        ok(&w, "store", &[I32(3 * 65536 - 4), I32(-1)]);
        assert_eq!(i32_of(&r, "load", &[I32(3 * 65536 - 4)]), -1);
        traps(&r, "load", &[I32(3 * 65536 - 3)]);

        // A module-defined memory exported and imported by another instance.
        let owner = instance_in(
            r#"(module (memory (export "m") 2)
                 (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))"#,
            mode,
        );
        let mut l2 = Linker::new();
        l2.define("env", "mem", owner.get_memory("m").unwrap());
        let user = l2.instantiate(&module_in(writer, mode)).unwrap();
        ok(&user, "store", &[I32(65536), I32(42)]);
        assert_eq!(i32_of(&owner, "load", &[I32(65536)]), 42);
        drop(owner); // the importer keeps the memory alive
        ok(&user, "store", &[I32(65540), I32(43)]);
    }
}

#[test]
fn memory_imports_are_type_checked() {
    let _g = shared();
    let host = |ty: MemoryType| {
        let mut l = Linker::new();
        l.define("env", "mem", Memory::new(ty).unwrap());
        l
    };
    let m64 = |t: MemoryType| MemoryType {
        memory64: true,
        ..t
    };
    let cases: &[(&str, MemoryType, &str)] = &[
        (
            "(memory (import \"env\" \"mem\") 2)",
            mem_ty(1, None),
            "minimum",
        ),
        (
            "(memory (import \"env\" \"mem\") 1 5)",
            mem_ty(1, Some(10)),
            "maximum",
        ),
        (
            "(memory (import \"env\" \"mem\") 1 5)",
            mem_ty(1, None),
            "maximum",
        ),
        (
            "(memory (import \"env\" \"mem\") i64 1)",
            mem_ty(1, None),
            "index type",
        ),
        (
            "(memory (import \"env\" \"mem\") 1)",
            m64(mem_ty(1, None)),
            "index type",
        ),
        (
            "(memory (import \"env\" \"mem\") 1 5 shared)",
            mem_ty(1, Some(5)),
            "shared",
        ),
        (
            "(memory (import \"env\" \"mem\") 1 5)",
            MemoryType {
                shared: true,
                ..mem_ty(1, Some(5))
            },
            "shared",
        ),
    ];
    for mode in MODES {
        for (decl, ty, why) in cases {
            let wat = format!("(module {decl})");
            let module = module_with(&wat, &threads_opts(mode));
            let e = link_err(host(*ty).instantiate(&module));
            assert!(e.contains("`env::mem`") && e.contains(why), "{decl}: {e}");
        }
        // Subtyping: a bigger current size and a smaller maximum are fine.
        let m = Memory::new(mem_ty(1, Some(4))).unwrap();
        m.grow(2).unwrap();
        let mut l = Linker::new();
        l.define("env", "mem", m);
        l.instantiate(&module_in(
            "(module (memory (import \"env\" \"mem\") 3 8))",
            mode,
        ))
        .unwrap();
        // Not a memory at all.
        let mut l = Linker::new();
        l.define(
            "env",
            "mem",
            Func::host(FuncType::default(), |_, _| Ok(vec![])),
        );
        let e = link_err(l.instantiate(&module_in(
            "(module (memory (import \"env\" \"mem\") 1))",
            mode,
        )));
        assert!(e.contains("`env::mem`") && e.contains("memory"), "{e}");
        let e = link_err(Linker::new().instantiate(&module_in(
            "(module (memory (import \"env\" \"mem\") 1))",
            mode,
        )));
        assert!(e.contains("env::mem"), "{e}");
    }
}

#[test]
fn multi_memory() {
    let _g = shared();
    let wat = r#"(module
      (memory $a (export "a") 1)
      (memory $b (export "b") 1 2)
      (memory $c (export "c") i64 1)
      (func (export "store_a") (param i32 i32) (i32.store $a (local.get 0) (local.get 1)))
      (func (export "store_b") (param i32 i32) (i32.store $b (local.get 0) (local.get 1)))
      (func (export "load_a") (param i32) (result i32) (i32.load $a (local.get 0)))
      (func (export "load_b") (param i32) (result i32) (i32.load $b (local.get 0)))
      (func (export "load_c") (param i64) (result i32) (i32.load $c (local.get 0)))
      (func (export "copy_a_to_b") (param i32 i32 i32)
        (memory.copy $b $a (local.get 0) (local.get 1) (local.get 2)))
      (func (export "copy_b_to_c") (param i64 i32 i32)
        (memory.copy $c $b (local.get 0) (local.get 1) (local.get 2)))
      (func (export "grow_b") (param i32) (result i32) (memory.grow $b (local.get 0)))
      (func (export "size_a") (result i32) (memory.size $a))
      (func (export "size_b") (result i32) (memory.size $b))
      (func (export "swap") (param i32)
        ;; a = b, b = a at the same address, in one function
        (local $t i32)
        (local.set $t (i32.load $a (local.get 0)))
        (i32.store $a (local.get 0) (i32.load $b (local.get 0)))
        (i32.store $b (local.get 0) (local.get $t))))"#;
    for mode in MODES {
        let inst = instance_in(wat, mode);
        let (a, b) = (inst.get_memory("a").unwrap(), inst.get_memory("b").unwrap());
        assert!(!a.ptr_eq(&b));
        ok(&inst, "store_a", &[I32(0), I32(0x1122_3344)]);
        assert_eq!(i32_of(&inst, "load_b", &[I32(0)]), 0);
        ok(&inst, "copy_a_to_b", &[I32(100), I32(0), I32(4)]);
        assert_eq!(i32_of(&inst, "load_b", &[I32(100)]), 0x1122_3344);
        assert_eq!(i32_of(&inst, "load_a", &[I32(100)]), 0);
        ok(&inst, "copy_b_to_c", &[I64(65532), I32(100), I32(4)]);
        assert_eq!(i32_of(&inst, "load_c", &[I64(65532)]), 0x1122_3344);
        traps(&inst, "copy_b_to_c", &[I64(65533), I32(100), I32(4)]);
        ok(&inst, "store_b", &[I32(8), I32(5)]);
        ok(&inst, "swap", &[I32(8)]);
        assert_eq!(i32_of(&inst, "load_a", &[I32(8)]), 5);
        assert_eq!(i32_of(&inst, "load_b", &[I32(8)]), 0);
        // Growing one memory leaves the other alone.
        assert_eq!(i32_of(&inst, "grow_b", &[I32(1)]), 1);
        assert_eq!(i32_of(&inst, "size_b", &[]), 2);
        assert_eq!(i32_of(&inst, "size_a", &[]), 1);
        ok(&inst, "store_b", &[I32(131068), I32(6)]);
        traps(&inst, "store_a", &[I32(131068), I32(6)]);
        traps(&inst, "store_a", &[I32(65533), I32(6)]);
        assert_eq!(i32_of(&inst, "grow_b", &[I32(1)]), -1);
        ok(&inst, "copy_a_to_b", &[I32(131068), I32(0), I32(4)]);
        traps(&inst, "copy_a_to_b", &[I32(131069), I32(0), I32(4)]);
        traps(&inst, "copy_a_to_b", &[I32(0), I32(65533), I32(4)]);
        assert_eq!(i32_of(&inst, "load_b", &[I32(131068)]), 0x1122_3344);
    }
}

// ---------------------------------------------------------------------------------------------
// Shared memories and threads.

#[test]
fn shared_memory_grows_while_another_thread_reads() {
    let _g = shared();
    let wat = r#"(module
      (memory (import "env" "mem") 1 64 shared)
      (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
      (func (export "size") (result i32) (memory.size)))"#;
    for mode in MODES {
        let mem = Memory::new(MemoryType {
            shared: true,
            ..mem_ty(1, Some(64))
        })
        .unwrap();
        let base = mem.data_ptr();
        assert!(mem.write(0, &[0x11]));
        let module = module_with(wat, &threads_opts(mode));
        let mut l = Linker::new();
        l.define("env", "mem", mem.clone());
        let start = Arc::new(Barrier::new(3));
        // A reader that keeps loading the last byte of whatever size it last saw, and the
        // first byte, while two growers race.
        let reader = {
            let inst = l.instantiate(&module).unwrap();
            let mem = mem.clone();
            let start = start.clone();
            std::thread::spawn(move || {
                start.wait();
                let mut reads = 0u64;
                loop {
                    let size = mem.size_bytes();
                    let last = i32_of(&inst, "load8", &[I32((size - 1) as i32)]);
                    assert!(last == 0 || last == 0x22, "byte {} = {last}", size - 1);
                    assert_eq!(i32_of(&inst, "load8", &[I32(0)]), 0x11);
                    reads += 1;
                    if size == 64 * PAGE {
                        traps(&inst, "load8", &[I32(size as i32)]);
                        return reads;
                    }
                }
            })
        };
        let growers: Vec<_> = (0..2)
            .map(|_| {
                let inst = l.instantiate(&module).unwrap();
                let mem = mem.clone();
                let start = start.clone();
                std::thread::spawn(move || {
                    start.wait();
                    let mut olds = Vec::new();
                    loop {
                        let old = i32_of(&inst, "grow", &[I32(1)]);
                        if old < 0 {
                            return olds;
                        }
                        assert!(mem.write((old as u64 + 1) * PAGE - 1, &[0x22]));
                        olds.push(old);
                    }
                })
            })
            .collect();
        let mut olds: Vec<i32> = growers
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        assert!(reader.join().unwrap() > 0);
        // The grows were serialized: every old size was handed out exactly once.
        olds.sort();
        assert_eq!(olds, (1..64).collect::<Vec<_>>());
        assert_eq!(mem.size_pages(), 64);
        assert_eq!(mem.data_ptr(), base, "a shared memory never moves");
    }
}

// ---------------------------------------------------------------------------------------------
// Data segments at instantiation.

#[test]
fn data_segments_are_applied_in_order_with_bounds_checks() {
    let _g = shared();
    for mode in MODES {
        let mem = Memory::new(mem_ty(1, None)).unwrap();
        let mut l = Linker::new();
        l.define("env", "mem", mem.clone());
        let inst = |wat: &str| l.instantiate(&module_in(wat, mode));
        // In bounds, including an empty segment exactly at the end.
        inst(
            r#"(module (memory (import "env" "mem") 1)
              (data (i32.const 0) "abc") (data (i32.const 65533) "xyz")
              (data (i32.const 65536) ""))"#,
        )
        .unwrap();
        assert_eq!(bytes(&mem, 0, 3), b"abc");
        assert_eq!(bytes(&mem, 65533, 3), b"xyz");
        assert!(mem.write(0, &[0; 3]));
        assert!(mem.write(65533, &[0; 3]));
        // The second segment is out of bounds: instantiation traps, the first segment stays
        // written (segments are applied in order) and the failing one writes nothing.
        let r = inst(
            r#"(module (memory (import "env" "mem") 1)
              (data (i32.const 0) "abc") (data (i32.const 65534) "xyz") (data (i32.const 8) "q"))"#,
        );
        assert_eq!(
            r.unwrap_err().as_trap().map(|t| t.kind),
            Some(TrapKind::MemoryOutOfBounds)
        );
        assert_eq!(bytes(&mem, 0, 3), b"abc");
        assert_eq!(bytes(&mem, 65534, 2), [0, 0]);
        assert_eq!(bytes(&mem, 8, 1), [0]);
        // An empty segment past the end traps too.
        let r = inst(r#"(module (memory (import "env" "mem") 1) (data (i32.const 65537) ""))"#);
        assert!(r.unwrap_err().as_trap().is_some());
        // Element segments come first: an out-of-bounds one stops the data segments.
        assert!(mem.write(0, &[0; 3]));
        let r = inst(
            r#"(module (memory (import "env" "mem") 1) (table 1 funcref) (func $f)
              (elem (i32.const 1) $f) (data (i32.const 0) "abc"))"#,
        );
        assert_eq!(
            r.unwrap_err().as_trap().map(|t| t.kind),
            Some(TrapKind::TableOutOfBounds)
        );
        assert_eq!(bytes(&mem, 0, 3), [0; 3]);
        // Computed (extended-const) and memory64 offsets.
        let i = instance_in(
            r#"(module (memory (export "m") i64 2)
              (data (i64.add (i64.const 65534) (i64.const 1)) "ab"))"#,
            mode,
        );
        assert_eq!(bytes(&i.get_memory("m").unwrap(), 65535, 2), b"ab");
        let r = Linker::new().instantiate(&module_in(
            r#"(module (memory i64 1) (data (i64.const 0xffffffffffffffff) "ab"))"#,
            mode,
        ));
        assert!(r.unwrap_err().as_trap().is_some());
    }
}

// ---------------------------------------------------------------------------------------------
// Many instances.

const SMALL: &str = r#"(module
  (memory (export "mem") 1)
  (data (i32.const 0) "\2a")
  (func (export "get") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "put") (param i32 i32) (i32.store (local.get 0) (local.get 1))))"#;

fn maps_lines() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .count()
}

fn vm_size_kb() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = s.lines().find(|l| l.starts_with("VmSize:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn thousand_instances_alive_then_hundred_thousand_in_sequence() {
    let _g = exclusive();
    for mode in MODES {
        let module = module_in(SMALL, mode);
        let linker = Linker::new();
        // 1,000 live at once, each with its own memory.
        let all: Vec<Instance> = (0..1000)
            .map(|_| linker.instantiate(&module).unwrap())
            .collect();
        for (i, inst) in all.iter().enumerate() {
            ok(inst, "put", &[I32(4), I32(i as i32)]);
        }
        for (i, inst) in all.iter().enumerate() {
            assert_eq!(i32_of(inst, "get", &[I32(0)]), 0x2a);
            assert_eq!(i32_of(inst, "get", &[I32(4)]), i as i32);
            traps(inst, "get", &[I32(65533)]);
        }
        drop(all);
        assert!(memory::pooled_reservations() <= memory::limits().pool_capacity);

        // 100,000 created and dropped one after the other: the mappings stay at baseline,
        // and a recycled memory never shows a previous instance's bytes.
        let warm = linker.instantiate(&module).unwrap();
        drop(warm);
        let (maps0, vm0) = (maps_lines(), vm_size_kb());
        for i in 0..100_000 {
            let inst = linker.instantiate(&module).unwrap();
            if i % 1000 == 0 {
                assert_eq!(i32_of(&inst, "get", &[I32(4)]), 0, "fresh memory is zero");
                assert_eq!(i32_of(&inst, "get", &[I32(65532)]), 0);
            }
            ok(&inst, "put", &[I32(4), I32(i)]);
            ok(&inst, "put", &[I32(65532), I32(i)]);
        }
        let (maps1, vm1) = (maps_lines(), vm_size_kb());
        assert!(
            maps1 <= maps0 + 8,
            "{mode:?}: /proc/self/maps grew from {maps0} to {maps1} lines"
        );
        assert!(
            vm1 <= vm0 + 16 * 1024,
            "{mode:?}: VmSize grew from {vm0} kB to {vm1} kB"
        );
        assert_eq!(memory::pages_in_use(), 0);
    }
    // Trimming the pool gives its address space back.
    let vm0 = vm_size_kb();
    let pooled = memory::pooled_reservations();
    assert!(pooled >= 1);
    memory::trim_pool();
    assert_eq!(memory::pooled_reservations(), 0);
    assert!(
        vm_size_kb() < vm0,
        "trimming {pooled} reservations freed nothing"
    );
}

/// The per-memory and per-process budgets apply to `memory.grow` in compiled code (and to
/// instantiation), in both modes.
#[test]
fn budgets_limit_compiled_code() {
    let _g = exclusive();
    let before = memory::limits();
    let wat = ADD_PAGE.replace("1 3", "1 10");
    for mode in MODES {
        memory::set_limits(memory::Limits {
            max_pages_total: memory::pages_in_use() + 3,
            ..before
        });
        let inst = instance_in(&wat, mode);
        assert_eq!(i32_of(&inst, "grow", &[I32(2)]), 1);
        assert_eq!(i32_of(&inst, "grow", &[I32(1)]), -1);
        assert_eq!(i32_of(&inst, "size", &[]), 3);
        memory::set_limits(before);
        assert_eq!(i32_of(&inst, "grow", &[I32(1)]), 3);
        drop(inst);

        memory::set_limits(memory::Limits {
            max_pages_per_memory: 2,
            ..before
        });
        let inst = instance_in(&wat, mode);
        assert_eq!(i32_of(&inst, "add_page", &[]), 1);
        assert_eq!(i32_of(&inst, "add_page", &[]), -1);
        let r = Linker::new().instantiate(&module_in("(module (memory 3))", mode));
        assert!(
            matches!(
                r,
                Err(Error::Memory(MemoryError::Allocation { pages: 3, .. }))
            ),
            "{r:?}"
        );
        memory::set_limits(before);
    }
}

#[test]
fn recycled_memories_start_zeroed_and_guarded() {
    let _g = shared();
    // A memory that grew and was written, then dropped, must not leak its size or bytes into
    // the next memory that reuses its reservation.
    let wat = r#"(module
      (memory (export "mem") 1)
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
      (func (export "get") (param i32) (result i32) (i32.load8_u (local.get 0))))"#;
    for mode in MODES {
        let module = module_in(wat, mode);
        for _ in 0..50 {
            let a = Linker::new().instantiate(&module).unwrap();
            assert_eq!(i32_of(&a, "grow", &[I32(3)]), 1);
            let m = a.get_memory("mem").unwrap();
            assert!(m.write(0, &[1]));
            assert!(m.write(4 * PAGE - 1, &[1]));
            drop((a, m));
            let b = Linker::new().instantiate(&module).unwrap();
            assert_eq!(i32_of(&b, "get", &[I32(0)]), 0);
            traps(&b, "get", &[I32(65536)]);
            traps(&b, "get", &[I32(4 * 65536 - 1)]);
            assert_eq!(i32_of(&b, "grow", &[I32(3)]), 1);
            assert_eq!(i32_of(&b, "get", &[I32(4 * 65536 - 1)]), 0);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// objdump helpers.

/// `objdump -d` of an object, if objdump is installed.
fn objdump(object: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().ok()?;
    let path = dir.path().join("t.o");
    std::fs::write(&path, object).ok()?;
    let out = std::process::Command::new("objdump")
        .arg("-d")
        .arg("--no-show-raw-insn")
        .arg(&path)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The instructions of the function whose symbol is `name`, as (offset from the function
/// start, text).
fn function_listing(listing: &str, name: &str) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    let mut start = None;
    let header = format!("<{name}>:");
    for line in listing.lines() {
        if line.ends_with(">:") {
            start = if line.ends_with(&header) {
                line.split_whitespace()
                    .next()
                    .and_then(|a| u64::from_str_radix(a, 16).ok())
            } else {
                None
            };
            if !out.is_empty() {
                break;
            }
            continue;
        }
        if let (Some(s), Some((addr, insn))) = (start, line.split_once(':')) {
            if let Ok(a) = u64::from_str_radix(addr.trim(), 16) {
                out.push((a - s, insn.trim().to_string()));
            }
        }
    }
    out
}
