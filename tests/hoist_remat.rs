//! Hoisting of loop-invariant rematerialised operations (compiler/src/hoist_remat.rs):
//! Cranelift's mid-end re-emits `x & C`, `x + C` and the like inside every loop that uses
//! them; wasmaot moves them back out when the loop has a register to spare. Checked on the
//! optimised CLIF (where the operation lands) and by running loops whose bounds and
//! operands are such operations against a Rust model.

mod common;

use common::{call, instance, loop_lines};
use wasmaot::runtime::Val::I32;
use wasmaot::CompileOptions;

/// A counted loop whose bound is `n & -2` (what C's unrolled loops compare against).
const BOUND: &str = r#"(module
  (memory 1)
  (func (export "f") (param $n i32) (param $p i32) (result i32)
    (local $i i32) (local $s i32)
    (block $done
      (br_if $done (i32.lt_u (local.get $n) (i32.const 2)))
      (loop $l
        (local.set $s (i32.add (local.get $s)
          (i32.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (i32.and (local.get $n) (i32.const -2))))))
    (local.get $s))
  (func (export "set") (param i32 i32) (i32.store (local.get 0) (local.get 1))))"#;

/// The same loop, but it calls a function and keeps six more values live across the call:
/// more than the five callee-saved registers, so `n & -2` is better recomputed.
const BOUND_WITH_CALL: &str = r#"(module
  (memory 1)
  (func $g (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
  (func (export "f") (param $n i32) (param $p i32)
      (param $a i32) (param $b i32) (param $c i32) (param $d i32) (result i32)
    (local $i i32) (local $s i32)
    (block $done
      (br_if $done (i32.lt_u (local.get $n) (i32.const 2)))
      (loop $l
        (local.set $s (i32.add (local.get $s) (call $g (local.get $i))))
        (local.set $s (i32.xor (local.get $s)
          (i32.add (i32.add (local.get $a) (local.get $b)) (i32.add (local.get $c) (local.get $d)))))
        (local.set $s (i32.add (local.get $s) (local.get $p)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (i32.and (local.get $n) (i32.const -2))))))
    (local.get $s)))"#;

/// Whether the optimised CLIF of function `f` of `wat` computes a `band` inside its loop
/// (from the loop header's label to the backward branch to it), and the CLIF.
fn band_in_loop(wat: &str, f: u32) -> (bool, String) {
    let d = wasmaot::debug::dump_function(wat.as_bytes(), f, &CompileOptions::default()).unwrap();
    let clif = d.optimized;
    let lines: Vec<&str> = clif.lines().collect();
    let (header, back) = loop_lines(&clif);
    let inside = lines[header..=back].iter().any(|l| l.contains("= band"));
    assert!(
        lines.iter().any(|l| l.contains("= band")),
        "no band at all in\n{clif}"
    );
    (inside, clif)
}

#[test]
fn loop_invariant_mask_is_computed_before_the_loop() {
    let (inside, clif) = band_in_loop(BOUND, 0);
    assert!(
        !inside,
        "`n & -2` is still computed inside the loop:\n{clif}"
    );
    // The mid-end already computes the mask before the loop, for the first trip's test;
    // the hoisted copy reuses that one instead of computing it a second time.
    let bands = clif.lines().filter(|l| l.contains("= band")).count();
    assert_eq!(bands, 1, "the mask is computed {bands} times:\n{clif}");
}

#[test]
fn mask_stays_in_a_calling_loop_short_of_registers() {
    let (inside, clif) = band_in_loop(BOUND_WITH_CALL, 1);
    assert!(
        inside,
        "`n & -2` was hoisted out of a loop with a call:\n{clif}"
    );
    // And the result is still right: s = sum over i < n & -2 of ((s + 3i) ^ k) + p.
    let inst = instance(BOUND_WITH_CALL);
    for n in [0, 1, 2, 3, 7, 8, 100] {
        let (p, a, b, c, d) = (5, 1, 2, 3, -4);
        let mut s = 0i32;
        let k = a + b + c + d;
        for i in 0..(n & -2) {
            s = (s.wrapping_add(i * 3) ^ k).wrapping_add(p);
        }
        let r = call(
            &inst,
            "f",
            &[I32(n), I32(p), I32(a), I32(b), I32(c), I32(d)],
        )
        .unwrap();
        assert_eq!(r, vec![I32(s)], "f({n})");
    }
}

#[test]
fn hoisted_bound_counts_right() {
    let inst = instance(BOUND);
    let values: Vec<i32> = (0..64).map(|i| i * 7 - 100).collect();
    for (i, v) in values.iter().enumerate() {
        call(&inst, "set", &[I32(64 + 4 * i as i32), I32(*v)]).unwrap();
    }
    for n in 0..64 {
        let want: i32 = values[..(n & !1) as usize].iter().sum();
        let r = call(&inst, "f", &[I32(n), I32(64)]).unwrap();
        assert_eq!(r, vec![I32(want)], "f({n})");
    }
}

/// Every kind of operation the mid-end rematerialises, loop-invariant in an inner loop,
/// on i32 and i64, with the constant on either side, used in the inner and the outer loop.
const KINDS: &str = r#"(module
  (func (export "f") (param $x i32) (param $y i64) (param $n i32) (result i64)
    (local $i i32) (local $j i32) (local $s i64) (local $t i32)
    (loop $outer
      (local.set $t (i32.add (local.get $x) (local.get $i)))
      (local.set $j (i32.const 0))
      (loop $inner
        (local.set $s (i64.add (local.get $s) (i64.extend_i32_u
          (i32.xor
            (i32.add (i32.and (local.get $t) (i32.const 0xff0)) (i32.sub (i32.const 7) (local.get $t)))
            (i32.or (i32.xor (local.get $t) (i32.const -1)) (i32.const 0x10000))))))
        (local.set $s (i64.xor (local.get $s)
          (i64.add (i64.sub (local.get $y) (i64.const 0x123456789))
                   (i64.and (i64.const 0xf0f0f0f0f0f0) (local.get $y)))))
        (local.set $s (i64.add (local.get $s) (i64.extend_i32_u (local.get $j))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $inner (i32.lt_u (local.get $j) (i32.or (local.get $n) (i32.const 1)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $outer (i32.lt_u (local.get $i) (i32.and (local.get $n) (i32.const 0xff)))))
    (local.get $s)))"#;

#[test]
fn every_kind_of_operation_keeps_its_value() {
    let inst = instance(KINDS);
    let model = |x: i32, y: i64, n: i32| -> i64 {
        let (mut i, mut s) = (0i32, 0i64);
        loop {
            let t = x.wrapping_add(i);
            let mut j = 0i32;
            loop {
                let v = ((t & 0xff0).wrapping_add(7i32.wrapping_sub(t))) ^ (!t | 0x10000);
                s = s.wrapping_add(v as u32 as i64);
                s ^= y
                    .wrapping_sub(0x1_2345_6789)
                    .wrapping_add(0xf0f0_f0f0_f0f0 & y);
                s = s.wrapping_add(j as u32 as i64);
                j += 1;
                if (j as u32) >= (n | 1) as u32 {
                    break;
                }
            }
            i += 1;
            if (i as u32) >= (n & 0xff) as u32 {
                break;
            }
        }
        s
    };
    for x in [0, 1, -1, 0x7fff_ffff, 12345] {
        for y in [0i64, -1, 0x1_0000_0000, i64::MIN, 987654321] {
            for n in [0, 1, 2, 5, 9] {
                let r = call(&inst, "f", &[I32(x), wasmaot::runtime::Val::I64(y), I32(n)]);
                assert_eq!(
                    r.unwrap(),
                    vec![wasmaot::runtime::Val::I64(model(x, y, n))],
                    "f({x}, {y}, {n})"
                );
            }
        }
    }
}
