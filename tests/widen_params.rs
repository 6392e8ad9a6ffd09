//! Widening of 32-bit block parameters that are zero-extended where they are used
//! (compiler/src/widen_params.rs): a loop's wasm32 address counter travels as a 64-bit value,
//! so the loop does not re-extend it at every access. Checked on the optimised CLIF (no
//! `uextend` left in the loop) and by running loops against Rust models: counters that wrap
//! around 2^32, start from arguments or loads, pass through `br_table`s, and still trap.

mod common;

use common::{call, instance, loop_lines, trap_of};
use wasmaot::runtime::Val::{F64, I32, I64};
use wasmaot::CompileOptions;

/// `c[j] += a[i] * b[j]` over `n` doubles, with `c` and `b` walked by two pointers (as clang
/// strength-reduces matmul's inner loop), and a setter to fill memory.
const AXPY: &str = r#"(module
  (memory 1)
  (func (export "axpy") (param $c i32) (param $b i32) (param $a f64) (param $n i32)
    (local $j i32)
    (block $done
      (br_if $done (i32.eqz (local.get $n)))
      (loop $l
        (f64.store (local.get $c)
          (f64.add (f64.load (local.get $c)) (f64.mul (local.get $a) (f64.load (local.get $b)))))
        (local.set $c (i32.add (local.get $c) (i32.const 8)))
        (local.set $b (i32.add (local.get $b) (i32.const 8)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $j) (local.get $n))))))
  (func (export "set") (param i32 f64) (f64.store (local.get 0) (local.get 1)))
  (func (export "get") (param i32) (result f64) (f64.load (local.get 0))))"#;

#[test]
fn address_counters_are_not_extended_in_the_loop() {
    let d = wasmaot::debug::dump_function(AXPY.as_bytes(), 0, &CompileOptions::default()).unwrap();
    let clif = d.optimized;
    let lines: Vec<&str> = clif.lines().collect();
    let (header, back) = loop_lines(&clif);
    // What is extended inside the loop is what a 32-bit ALU operation defines there, whose
    // register already has its upper half zeroed (the extension lowers to nothing); never a
    // block parameter or the 32-bit view of one.
    let def = |v: &str| -> &str {
        let head = format!("{v} = ");
        lines
            .iter()
            .find(|l| l.trim_start().starts_with(&head))
            .copied()
            .unwrap_or("")
    };
    for l in &lines[header..=back] {
        let Some((_, arg)) = l.split_once("uextend.i64 ") else {
            continue;
        };
        let d = def(arg.trim());
        let op = d.split_once(" = ").map(|(_, r)| r).unwrap_or("");
        assert!(
            ["iadd", "isub", "imul", "band", "bor", "bxor", "ishl", "ushr"]
                .iter()
                .any(|o| op.starts_with(o)),
            "`{}` extends `{}` in the loop:\n{clif}",
            l.trim(),
            d.trim()
        );
    }
    // The loop header carries the two counters as i64 now.
    let wide = lines[header].matches(": i64").count();
    assert!(
        wide >= 2,
        "header {:?} has {wide} i64 parameters:\n{clif}",
        lines[header]
    );
    // The 32-bit arithmetic stays 32-bit: the counters still wrap as wasm says.
    assert!(
        lines[header..=back]
            .iter()
            .any(|l| l.contains("ireduce.i32")),
        "no 32-bit view of a widened counter:\n{clif}"
    );
}

#[test]
fn widened_loop_computes_the_same_doubles() {
    let inst = instance(AXPY);
    let (c, b, n) = (1024, 8192, 300);
    for j in 0..n {
        call(
            &inst,
            "set",
            &[I32(c + 8 * j), F64((j as f64 * 0.5).to_bits())],
        )
        .unwrap();
        call(
            &inst,
            "set",
            &[I32(b + 8 * j), F64(((j % 7) as f64 - 3.0).to_bits())],
        )
        .unwrap();
    }
    call(
        &inst,
        "axpy",
        &[I32(c), I32(b), F64(2.5f64.to_bits()), I32(n)],
    )
    .unwrap();
    for j in 0..n {
        let want = j as f64 * 0.5 + 2.5 * ((j % 7) as f64 - 3.0);
        let r = call(&inst, "get", &[I32(c + 8 * j)]).unwrap();
        assert_eq!(r, vec![F64(want.to_bits())], "c[{j}]");
    }
    // One element past the end is untouched.
    let r = call(&inst, "get", &[I32(c + 8 * n)]).unwrap();
    assert_eq!(r, vec![F64(0f64.to_bits())]);
}

/// A counter that wraps around 2^32 inside the loop: the zero-extended value seen after the
/// wrap must be the small one, not 2^32 plus it. The counter starts at an argument (an
/// edge whose extension costs a move) and is read as an address only once it has wrapped.
const WRAP: &str = r#"(module
  (memory 1)
  (func (export "f") (param $c i32) (param $step i32) (param $n i32) (result i64)
    (local $s i64) (local $i i32)
    (loop $l
      (local.set $s (i64.add (i64.mul (local.get $s) (i64.const 31))
                             (i64.extend_i32_u (local.get $c))))
      (if (i32.lt_u (local.get $c) (i32.const 65528))
        (then (local.set $s (i64.add (local.get $s) (i64.load (local.get $c))))))
      (local.set $c (i32.add (local.get $c) (local.get $step)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $s))
  (func (export "set") (param i32 i64) (i64.store (local.get 0) (local.get 1))))"#;

#[test]
fn counters_that_wrap_keep_their_32_bit_values() {
    let inst = instance(WRAP);
    let mem = |a: u32| -> i64 { (a as i64).wrapping_mul(0x9e37_79b9) ^ 0x55 };
    for a in (0..4096u32).step_by(8) {
        call(&inst, "set", &[I32(a as i32), I64(mem(a))]).unwrap();
    }
    let model = |c: u32, step: u32, n: u32| -> i64 {
        let (mut c, mut s, mut i) = (c, 0i64, 0u32);
        loop {
            s = s.wrapping_mul(31).wrapping_add(c as i64);
            if c < 65528 {
                // Every counter below is a multiple of 8: aligned words only.
                s = s.wrapping_add(if c < 4096 { mem(c) } else { 0 });
            }
            c = c.wrapping_add(step);
            i += 1;
            if i >= n {
                return s;
            }
        }
    };
    for (c, step, n) in [
        (0xffff_ffc0u32, 8u32, 40u32),
        (0xffff_fff8, 8, 3),
        (0, 8, 100),
        (0xffff_0000, 0x1000, 40),
        (16, 0xffff_fff8, 5),
    ] {
        let r = call(
            &inst,
            "f",
            &[I32(c as i32), I32(step as i32), I32(n as i32)],
        )
        .unwrap();
        assert_eq!(r, vec![I64(model(c, step, n))], "f({c:#x}, {step:#x}, {n})");
    }
}

/// A counter whose next value is loaded from memory (a linked list), entered from a
/// `br_table` as well as by falling in, and read as an address at every step.
const LIST: &str = r#"(module
  (memory 1)
  (func (export "walk") (param $p i32) (param $k i32) (result i32)
    (local $s i32)
    (block $b0 (block $b1
      (br_table $b0 $b1 (local.get $k)))
      (local.set $p (i32.load offset=4 (local.get $p))))
    (loop $l
      (local.set $s (i32.add (local.get $s) (i32.load (local.get $p))))
      (local.set $p (i32.load offset=4 (local.get $p)))
      (br_if $l (local.get $p)))
    (local.get $s))
  (func (export "set") (param i32 i32) (i32.store (local.get 0) (local.get 1))))"#;

#[test]
fn counters_loaded_from_memory_walk_the_list() {
    let inst = instance(LIST);
    // Nodes at 64, 64 + 40, ...: value = 3 * index + 1, next = the following node, 0 at the end.
    let nodes: Vec<i32> = (0..20).map(|i| 64 + 40 * i).collect();
    for (i, &a) in nodes.iter().enumerate() {
        let next = nodes.get(i + 1).copied().unwrap_or(0);
        call(&inst, "set", &[I32(a), I32(3 * i as i32 + 1)]).unwrap();
        call(&inst, "set", &[I32(a + 4), I32(next)]).unwrap();
    }
    let all: i32 = (0..20).map(|i| 3 * i + 1).sum();
    assert_eq!(
        call(&inst, "walk", &[I32(64), I32(0)]).unwrap(),
        vec![I32(all)]
    );
    // k = 1 (and any other k) skips the first node.
    assert_eq!(
        call(&inst, "walk", &[I32(64), I32(1)]).unwrap(),
        vec![I32(all - 1)]
    );
    assert_eq!(
        call(&inst, "walk", &[I32(64), I32(7)]).unwrap(),
        vec![I32(all - 1)]
    );
}

#[test]
fn widened_counters_still_trap_out_of_bounds() {
    let inst = instance(AXPY);
    // The pointers run off the end of the one-page memory part-way through.
    let r = call(
        &inst,
        "axpy",
        &[I32(65536 - 80), I32(0), F64(1f64.to_bits()), I32(20)],
    );
    assert!(
        trap_of(r).contains("out of bounds"),
        "no out-of-bounds trap"
    );
    // Near 2^32: the first access is already out of bounds.
    let r = call(
        &inst,
        "axpy",
        &[I32(-16), I32(0), F64(1f64.to_bits()), I32(4)],
    );
    assert!(
        trap_of(r).contains("out of bounds"),
        "no out-of-bounds trap at 2^32 - 16"
    );
}
