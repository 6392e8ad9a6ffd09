// Part of the `memory` test: `include!`d by main.rs, so the tests stay at the crate root.

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

/// Memory64 accesses after a passed compare skip theirs when they are at the same index or at
/// the index plus a small constant (compiler/src/translate/dominated_checks.rs): each such access must
/// still trap exactly when it is out of bounds, at any size of the memory, and the accesses
/// before it must have happened.
const COVERED64: &str = r#"(module
  (memory (export "mem") i64 1 MAX)
  ;; b[x] + b[x+1] + b[x+2] + b[x+3]: one compare, for b[x].
  (func (export "sum4") (param $x i64) (result i32)
    (i32.add
      (i32.add (i32.load8_u (local.get $x))
               (i32.load8_u (i64.add (local.get $x) (i64.const 1))))
      (i32.add (i32.load8_u (i64.add (i64.const 2) (local.get $x)))
               (i32.load8_u (i64.add (local.get $x) (i64.const 3))))))
  ;; b[x+1] = b[x] + 1 (store past the end after a load in bounds), then b[x] = 7.
  (func (export "bump_next") (param $x i64)
    (i32.store8 (i64.add (local.get $x) (i64.const 1))
      (i32.add (i32.load8_u (local.get $x)) (i32.const 1)))
    (i32.store8 (local.get $x) (i32.const 7)))
  ;; b[x] + b[x-1]: a negative constant is checked again (x = 0 wraps to 2^64 - 1).
  (func (export "with_prev") (param $x i64) (result i32)
    (i32.add (i32.load8_u (local.get $x))
             (i32.load8_u (i64.add (local.get $x) (i64.const -1)))))
  ;; b[x] then a u64 at x + 65529 (+8 bytes reaches x + 65537).
  (func (export "far") (param $x i64) (result i64)
    (drop (i32.load8_u (local.get $x)))
    (i64.load (i64.add (local.get $x) (i64.const 65529))))
  ;; b[x+1] only on the path that did not check b[x] (the else arm of the if).
  (func (export "arms") (param $x i64) (param $c i32) (result i32)
    (if (result i32) (local.get $c)
      (then (i32.load8_u (local.get $x)))
      (else (i32.load8_u (i64.add (local.get $x) (i64.const 1))))))
  ;; b[x], then br_if out, then b[x+2] in the fall-through.
  (func (export "after_br_if") (param $x i64) (param $c i32) (result i32)
    (block $out (result i32)
      (drop (br_if $out (i32.load8_u (local.get $x)) (local.get $c)))
      (i32.load8_u (i64.add (local.get $x) (i64.const 2)))))
  (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0))))"#;

#[test]
fn memory64_accesses_covered_by_an_earlier_compare_still_trap() {
    let _g = shared();
    for mode in MODES {
        for max in ["", "1", "3"] {
            let inst = instance_in(&COVERED64.replace("MAX", max), mode);
            let mem = inst.get_memory("mem").unwrap();
            let end = 65536u64;
            assert!(mem.write(end - 4, &[1, 2, 3, 4]));
            assert_eq!(i32_of(&inst, "sum4", &[I64(end as i64 - 4)]), 10);
            for x in [end - 3, end - 1, end, u64::MAX - 1, u64::MAX] {
                traps(&inst, "sum4", &[I64(x as i64)]);
            }
            // The load at x is in bounds, the store at x + 1 is not: trap, write nothing.
            traps(&inst, "bump_next", &[I64(end as i64 - 1)]);
            assert_eq!(bytes(&mem, end - 1, 1), [4]);
            ok(&inst, "bump_next", &[I64(end as i64 - 2)]);
            assert_eq!(bytes(&mem, end - 2, 2), [7, 4]);
            traps(&inst, "with_prev", &[I64(0)]);
            assert_eq!(i32_of(&inst, "with_prev", &[I64(end as i64 - 1)]), 11);
            assert!(mem.write(65534, &[0x11]));
            traps(&inst, "far", &[I64(0)]);
            traps(&inst, "far", &[I64(8)]);
            assert!(mem.write(0, &[0x22]));
            assert_eq!(i32_of(&inst, "arms", &[I64(0), I32(1)]), 0x22);
            assert_eq!(i32_of(&inst, "arms", &[I64(end as i64 - 2), I32(0)]), 4);
            traps(&inst, "arms", &[I64(end as i64 - 1), I32(0)]);
            // x + 1 wraps to 0: in bounds (nothing covered the else arm's access).
            assert_eq!(i32_of(&inst, "arms", &[I64(-1), I32(0)]), 0x22);
            assert_eq!(i32_of(&inst, "after_br_if", &[I64(end as i64 - 1), I32(1)]), 4);
            traps(&inst, "after_br_if", &[I64(end as i64 - 2), I32(0)]);
            assert_eq!(i32_of(&inst, "after_br_if", &[I64(end as i64 - 3), I32(0)]), 4);
            if max != "1" {
                // The same code after a grow: what trapped at the old end now reads.
                assert_eq!(i64_of(&inst, "grow", &[I64(1)]), 1);
                assert_eq!(i32_of(&inst, "sum4", &[I64(end as i64 - 1)]), 4);
                ok(&inst, "bump_next", &[I64(end as i64 - 1)]);
                assert_eq!(bytes(&mem, end - 1, 2), [7, 5]);
                assert_eq!(i64_of(&inst, "far", &[I64(8)]), 0);
                traps(&inst, "far", &[I64(65536 + 8)]);
                traps(&inst, "sum4", &[I64(2 * end as i64 - 1)]);
            } else {
                assert_eq!(i64_of(&inst, "grow", &[I64(1)]), -1);
            }
        }
    }
}

/// Explicit-mode 32-bit checks cover a later access at the same index reaching no further
/// (compiler/src/translate/bounds.rs): a read-modify-write and a wider store after a narrow
/// load still trap exactly at the end of memory and write nothing.
#[test]
fn explicit_accesses_covered_by_an_earlier_check_still_trap() {
    let _g = shared();
    let wat = r#"(module
      (memory (export "mem") 1 MAX)
      (func (export "rmw") (param $x i32)
        (i32.store (local.get $x) (i32.add (i32.load (local.get $x)) (i32.const 1))))
      (func (export "widen") (param $x i32)
        (i32.store (local.get $x) (i32.load8_u (local.get $x)))))"#;
    for max in ["", "1"] {
        let inst = instance_in(&wat.replace("MAX", max), BoundsChecks::Explicit);
        let mem = inst.get_memory("mem").unwrap();
        let end = 65536u64;
        assert!(mem.write(end - 4, &[1, 2, 3, 4]));
        ok(&inst, "rmw", &[I32(end as i32 - 4)]);
        assert_eq!(bytes(&mem, end - 4, 4), [2, 2, 3, 4]);
        traps(&inst, "rmw", &[I32(end as i32 - 3)]);
        traps(&inst, "widen", &[I32(end as i32 - 1)]);
        traps(&inst, "widen", &[I32(end as i32 - 3)]);
        assert_eq!(bytes(&mem, end - 4, 4), [2, 2, 3, 4], "a trapping store wrote");
        ok(&inst, "widen", &[I32(end as i32 - 4)]);
        assert_eq!(bytes(&mem, end - 4, 4), [2, 0, 0, 0]);
    }
}
