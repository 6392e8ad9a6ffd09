//! Copies of an innermost loop's entry arguments in functions with calls
//! (compiler/src/loop_entry_copies.rs): checked on the optimised CLIF (a copy on the entry
//! edge of the inner loop of a function with a call, none without the call and none for the
//! outer loop; a copy of the memory base for a loop that reads it three times, none for
//! two; a copy of a value the outer loop carries, like `sieve`'s stride, none without the
//! call) and by running the loops against a Rust model.

mod common;

use common::{call, instance};
use wasmaot::runtime::Val::{I32, I64};
use wasmaot::CompileOptions;

/// `scan(n, rounds)`: `rounds` times, a call and then a loop over bytes `0..n` that carries
/// a sum, a count and a sampling counter (like `sieve`'s scan loop) from round to round.
/// `scan_nocall` is the same without the call. `fill(n)` writes bytes `0..n`.
fn module(with_call: bool) -> String {
    let call = if with_call {
        "(call $bump (local.get $r))"
    } else {
        ""
    };
    let name = if with_call { "scan" } else { "scan_nocall" };
    format!(
        r#"(module (memory 1)
  (global $g (mut i32) (i32.const 0))
  (func $bump (param i32) (global.set $g (i32.add (global.get $g) (local.get 0))))
  (func (export "{name}") (param $n i32) (param $rounds i32) (result i64)
    (local $sum i64) (local $count i64) (local $sampled i32) (local $r i32) (local $i i32)
    (loop $outer
      {call}
      (local.set $i (i32.const 0))
      (loop $inner
        (if (i32.eqz (i32.load8_u (local.get $i)))
          (then
            (local.set $count (i64.add (local.get $count) (i64.const 1)))
            (local.set $sampled (i32.add (local.get $sampled) (i32.const 1)))
            (if (i32.eq (local.get $sampled) (i32.add (local.get $r) (i32.const 1)))
              (then
                (local.set $sampled (i32.const 0))
                (local.set $sum (i64.add (local.get $sum)
                  (i64.mul (local.get $count) (i64.extend_i32_u (local.get $i)))))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $inner (i32.lt_u (local.get $i) (local.get $n))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $outer (i32.lt_u (local.get $r) (local.get $rounds))))
    (i64.add (i64.mul (local.get $sum) (i64.const 1000003))
      (i64.add (local.get $count) (i64.extend_i32_u (global.get $g)))))
  (func (export "fill") (param $n i32) (local $i i32)
    (loop $l
      (i32.store8 (local.get $i) (i32.rem_u (i32.mul (local.get $i) (local.get $i)) (i32.const 3)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))))"#
    )
}

/// The lines of function 1's optimised CLIF in `wat` that apply `op` (`" = iadd "`, say) to
/// a zero constant: the copies the pass made.
fn zero_ops(wat: &str, op: &str) -> Vec<String> {
    let d = wasmaot::debug::dump_function(wat.as_bytes(), 1, &CompileOptions::default()).unwrap();
    d.optimized
        .lines()
        .filter(|l| l.contains(op) && l.trim_end().ends_with("= 0"))
        .map(|l| l.trim().to_string())
        .collect()
}

/// The entry copies in the scanning function: `iadd`s of a zero constant.
fn copies(with_call: bool) -> Vec<String> {
    zero_ops(&module(with_call), " = iadd ")
}

#[test]
fn inner_loop_entries_are_copied_only_in_functions_with_calls() {
    let with = copies(true);
    // The sum, the count and the sampling counter come from the outer loop's parameters.
    assert!(
        with.len() >= 3,
        "expected the inner loop's entry arguments copied, found {with:?}"
    );
    let without = copies(false);
    assert!(without.is_empty(), "copies without a call: {without:?}");
}

/// The Rust model of `scan` (`with_call`) and `scan_nocall`.
fn model(bytes: &[u8], rounds: u32, with_call: bool) -> u64 {
    let (mut sum, mut count, mut sampled, mut g) = (0u64, 0u64, 0u32, 0u32);
    for r in 0..rounds {
        if with_call {
            g = g.wrapping_add(r);
        }
        for (i, &b) in bytes.iter().enumerate() {
            if b == 0 {
                count += 1;
                sampled += 1;
                if sampled == r + 1 {
                    sampled = 0;
                    sum = sum.wrapping_add(count.wrapping_mul(i as u64));
                }
            }
        }
    }
    sum.wrapping_mul(1000003)
        .wrapping_add(count.wrapping_add(u64::from(g)))
}

#[test]
fn copied_loops_compute_what_the_model_does() {
    for with_call in [true, false] {
        let name = if with_call { "scan" } else { "scan_nocall" };
        for (n, rounds) in [(1u32, 1u32), (7, 3), (1000, 5), (4096, 9)] {
            // A fresh instance each time: the global starts at 0.
            let inst = instance(&module(with_call));
            let bytes: Vec<u8> = (0..n).map(|i| (i.wrapping_mul(i) % 3) as u8).collect();
            call(&inst, "fill", &[I32(n as i32)]).unwrap();
            let got = call(&inst, name, &[I32(n as i32), I32(rounds as i32)]).unwrap();
            let want = model(&bytes, rounds, with_call);
            assert_eq!(got, vec![I64(want as i64)], "{name}({n}, {rounds})");
        }
    }
}

/// `merge(n, rounds)`: `rounds` times, a call and then a loop over `i` in `0..n` that takes
/// the minimum of `a[i]` and `b[n - 1 - i]` (arrays at 0 and 4096) and stores it at
/// `c[i ^ 1]` (at 8192; `stores`: three addresses computed from the memory base per trip) or
/// only adds it up (two), like `sort`'s merge loop; returns the sum of the minima plus the
/// words `c[0..n]`. `fill(n)` writes `a` and `b`.
fn merge_module(stores: bool) -> String {
    let keep = if stores {
        "(i32.store offset=8192 (i32.shl (i32.xor (local.get $i) (i32.const 1)) (i32.const 2)) \
         (local.get $m))"
    } else {
        ""
    };
    format!(
        r#"(module (memory 1)
  (global $g (mut i32) (i32.const 0))
  (func $bump (param i32) (global.set $g (i32.add (global.get $g) (local.get 0))))
  (func (export "merge") (param $n i32) (param $rounds i32) (result i64)
    (local $r i32) (local $i i32) (local $a i32) (local $b i32) (local $m i32) (local $sum i64)
    (loop $outer
      (call $bump (local.get $r))
      (local.set $i (i32.const 0))
      (loop $inner
        (local.set $a (i32.shl (local.get $i) (i32.const 2)))
        (local.set $b (i32.shl (i32.sub (i32.sub (local.get $n) (i32.const 1)) (local.get $i))
          (i32.const 2)))
        (local.set $m (select (i32.load (local.get $a)) (i32.load offset=4096 (local.get $b))
          (i32.lt_s (i32.load (local.get $a)) (i32.load offset=4096 (local.get $b)))))
        {keep}
        (local.set $sum (i64.add (local.get $sum) (i64.extend_i32_s (local.get $m))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $inner (i32.lt_u (local.get $i) (local.get $n))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $outer (i32.lt_u (local.get $r) (local.get $rounds))))
    (local.set $i (i32.const 0))
    (loop $check
      (local.set $sum (i64.add (local.get $sum)
        (i64.extend_i32_s (i32.load offset=8192 (i32.shl (local.get $i) (i32.const 2))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $check (i32.lt_u (local.get $i) (local.get $n))))
    (i64.add (local.get $sum) (i64.extend_i32_u (global.get $g))))
  (func (export "fill") (param $n i32) (local $i i32)
    (loop $l
      (i32.store (i32.shl (local.get $i) (i32.const 2))
        (i32.sub (i32.rem_u (i32.mul (local.get $i) (i32.const 7919)) (i32.const 1000)) (i32.const 500)))
      (i32.store offset=4096 (i32.shl (local.get $i) (i32.const 2))
        (i32.sub (i32.rem_u (i32.mul (local.get $i) (i32.const 104729)) (i32.const 997)) (i32.const 498)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))))"#
    )
}

/// The copies of the memory base in `merge`: `bor`s of a zero constant.
fn base_copies(stores: bool) -> Vec<String> {
    zero_ops(&merge_module(stores), " = bor")
}

#[test]
fn a_loop_that_reads_the_memory_base_often_gets_its_own_copy() {
    // The loads may be merged by the mid-end, but with the store the loop reads the base
    // at least three times; without it, fewer, and no copy pays for itself.
    let with = base_copies(true);
    assert_eq!(with.len(), 1, "one copy of the memory base: {with:?}");
    let without = base_copies(false);
    assert!(without.is_empty(), "a copy for fewer reads: {without:?}");
}

#[test]
fn loops_reading_a_copied_base_compute_what_the_model_does() {
    for stores in [true, false] {
        for (n, rounds) in [(1u32, 1u32), (5, 2), (1000, 3)] {
            let inst = instance(&merge_module(stores));
            call(&inst, "fill", &[I32(n as i32)]).unwrap();
            let got = call(&inst, "merge", &[I32(n as i32), I32(rounds as i32)]).unwrap();
            let a = |i: u32| (i.wrapping_mul(7919) % 1000) as i64 - 500;
            let b = |i: u32| (i.wrapping_mul(104729) % 997) as i64 - 498;
            let m = |i: u32| a(i).min(b(n - 1 - i));
            let minima: i64 = (0..n).map(m).sum();
            let stored: i64 = match stores {
                true => (0..n).filter(|&i| (i ^ 1) < n).map(m).sum(),
                false => 0,
            };
            let g: i64 = (0..rounds as i64).sum();
            let want = minima * rounds as i64 + stored + g;
            assert_eq!(
                got,
                vec![I64(want)],
                "merge({n}, {rounds}), stores {stores}"
            );
        }
    }
}

/// A loop after a call that reads an immutable global of type `ty` three times per trip
/// (such reads are `readonly` loads, like the memory base): `sum(n)` adds `g * i`, `g + i`
/// and `g ^ i` over `i` in `0..n`.
fn global_module(ty: &str) -> String {
    format!(
        r#"(module
  (global $g {ty} ({ty}.const 7))
  (global $calls (mut i32) (i32.const 0))
  (func $bump (global.set $calls (i32.add (global.get $calls) (i32.const 1))))
  (func (export "sum") (param $n {ty}) (result {ty})
    (local $i {ty}) (local $s {ty})
    (call $bump)
    (loop $l
      (local.set $s ({ty}.add (local.get $s) ({ty}.mul (global.get $g) (local.get $i))))
      (local.set $s ({ty}.add (local.get $s) ({ty}.add (global.get $g) (local.get $i))))
      (local.set $s ({ty}.add (local.get $s) ({ty}.xor (global.get $g) (local.get $i))))
      (local.set $i ({ty}.add (local.get $i) ({ty}.const 1)))
      (br_if $l ({ty}.lt_u (local.get $i) (local.get $n))))
    (local.get $s)))"#
    )
}

#[test]
fn only_64_bit_instance_values_are_copied() {
    // A 32-bit immutable global is loaded like a pointer but is no pointer: copying it with
    // a 64-bit zero once made the CLIF invalid (caught by the verifier on yosys.wasm).
    let narrow = zero_ops(&global_module("i32"), " = bor");
    assert!(narrow.is_empty(), "{narrow:?}");
    let want = |n: u64| (0..n).map(|i| 7 * i + (7 + i) + (7 ^ i)).sum::<u64>();
    for n in [1u32, 2, 100] {
        let got = call(&instance(&global_module("i32")), "sum", &[I32(n as i32)]).unwrap();
        assert_eq!(got, vec![I32(want(u64::from(n)) as i32)], "i32 sum({n})");
        let got = call(
            &instance(&global_module("i64")),
            "sum",
            &[I64(i64::from(n))],
        )
        .unwrap();
        assert_eq!(got, vec![I64(want(u64::from(n)) as i64)], "i64 sum({n})");
    }
}

/// `stride(n, rounds)`: `rounds` times, a call (or not) and then a loop over `i` in `0..n`
/// that adds `i` to a sum every `k`-th trip, where the outer loop carries `k` (1, 3, 5, …),
/// like `sieve`'s sampling stride.
fn stride_module(with_call: bool) -> String {
    let call = if with_call {
        "(call $bump (local.get $r))"
    } else {
        ""
    };
    format!(
        r#"(module
  (global $g (mut i32) (i32.const 0))
  (func $bump (param i32) (global.set $g (i32.add (global.get $g) (local.get 0))))
  (func (export "stride") (param $n i32) (param $rounds i32) (result i64)
    (local $k i32) (local $r i32) (local $i i32) (local $c i32) (local $sum i64)
    (local.set $k (i32.const 1))
    (loop $outer
      {call}
      (local.set $i (i32.const 0))
      (local.set $c (i32.const 0))
      (loop $inner
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (if (i32.eq (local.get $c) (local.get $k))
          (then
            (local.set $c (i32.const 0))
            (local.set $sum (i64.add (local.get $sum) (i64.extend_i32_u (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $inner (i32.lt_u (local.get $i) (local.get $n))))
      (local.set $k (i32.add (local.get $k) (i32.const 2)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $outer (i32.lt_u (local.get $r) (local.get $rounds))))
    (i64.add (local.get $sum) (i64.extend_i32_u (global.get $g)))))"#
    )
}

#[test]
fn a_value_the_outer_loop_carries_gets_a_copy_for_the_inner_loop() {
    let with = zero_ops(&stride_module(true), " = bor");
    assert_eq!(with.len(), 1, "one copy of the stride: {with:?}");
    let without = zero_ops(&stride_module(false), " = bor");
    assert!(without.is_empty(), "a copy without a call: {without:?}");
}

#[test]
fn loops_reading_a_copied_outer_value_compute_what_the_model_does() {
    for with_call in [true, false] {
        for (n, rounds) in [(1u32, 1u32), (10, 4), (1000, 7)] {
            let inst = instance(&stride_module(with_call));
            let got = call(&inst, "stride", &[I32(n as i32), I32(rounds as i32)]).unwrap();
            let mut sum = 0u64;
            for r in 0..rounds {
                let k = 1 + 2 * r;
                let mut c = 0;
                for i in 0..n {
                    c += 1;
                    if c == k {
                        c = 0;
                        sum += u64::from(i);
                    }
                }
            }
            let g: u32 = if with_call { (0..rounds).sum() } else { 0 };
            let want = sum + u64::from(g);
            assert_eq!(
                got,
                vec![I64(want as i64)],
                "stride({n}, {rounds}), call {with_call}"
            );
        }
    }
}
