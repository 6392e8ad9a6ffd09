//! Threaded dispatch (compiler/src/threaded_dispatch.rs): an interpreter loop's `br_table`
//! dispatch is copied into the end of each case. Checked on the optimised CLIF (one
//! `br_table` per copied case; none copied with fewer than eight cases or a call in the
//! dispatch) and by running the interpreter against a Rust model, values passed by the
//! `br_table` and a trap in the middle of the loop included.

mod common;

use common::{call, instance, trap_of};
use wasmaot::runtime::Val::{I32, I64};
use wasmaot::CompileOptions;

/// The interpreted program: 32 two-byte instructions (opcode, argument).
fn program() -> Vec<u8> {
    let mut x: u32 = 0x2545_f491;
    (0..64)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 8) as u8
        })
        .collect()
}

/// The interpreter: `run(a, b, n)` executes `n` steps of the program from `pc = 0` with
/// registers `a` and `b` and returns `acc * 31 + (a + b + arg)`, `arg` the last argument
/// byte fetched. `cases` opcodes (`op % 16`, the
/// rest go to the default) are handled; `header_call` puts a call in the dispatch;
/// `with_value` makes the `br_table` pass the argument byte to every case.
fn module(cases: usize, header_call: bool, with_value: bool) -> String {
    let data: String = program().iter().map(|b| format!("\\{b:02x}")).collect();
    let ty = if with_value { " (result i32)" } else { "" };
    let mut body = String::from("(block $latch\n");
    for k in (0..=cases).rev() {
        body.push_str(&format!("(block $c{k}{ty}\n"));
    }
    body.push_str(
        "(local.set $op (i32.and (i32.load8_u (local.get $at)) (i32.const 15)))
         (local.set $arg (i32.load8_u offset=1 (local.get $at)))\n",
    );
    if header_call {
        body.push_str("(local.set $b (call $mix (local.get $b) (local.get $op)))\n");
    }
    if with_value {
        body.push_str("(local.get $arg)\n");
    }
    let targets: Vec<String> = (0..cases).map(|k| format!("$c{k}")).collect();
    body.push_str(&format!(
        "(br_table {} $c{cases} (local.get $op))\n",
        targets.join(" ")
    ));
    for k in 0..=cases {
        body.push_str(")\n");
        if with_value {
            body.push_str("(local.set $arg)\n");
        }
        body.push_str(case(k, cases));
        if k % 10 == 5 && k < cases && with_value {
            // Falling through into a block with a result passes it one.
            body.push_str(" (local.get $arg)");
        }
        body.push('\n');
    }
    body.push(')');
    format!(
        r#"(module
  (memory (export "mem") 1)
  (data (i32.const 0) "{data}")
  (func $mix (param i32 i32) (result i32) (i32.add (i32.rotl (local.get 0) (i32.const 3)) (local.get 1)))
  (func (export "run") (param $a i32) (param $b i32) (param $n i32) (result i64)
    (local $pc i32) (local $at i32) (local $op i32) (local $arg i32) (local $steps i32) (local $acc i64)
    (block $exit (loop $L
      (local.set $at (i32.shl (i32.and (local.get $pc) (i32.const 31)) (i32.const 1)))
      {body}
      (local.set $pc (i32.add (local.get $pc) (i32.const 1)))
      (local.set $steps (i32.add (local.get $steps) (i32.const 1)))
      (br_if $L (i32.lt_u (local.get $steps) (local.get $n)))))
    (i64.add (i64.mul (local.get $acc) (i64.const 31))
      (i64.extend_i32_u (i32.add (i32.add (local.get $a) (local.get $b)) (local.get $arg))))))"#
    )
}

/// Case `k`'s code; the last (`k == cases`) is the default.
fn case(k: usize, cases: usize) -> &'static str {
    if k == cases {
        return "(local.set $acc (i64.xor (local.get $acc) (i64.extend_i32_u (local.get $b)))) (br $latch)";
    }
    match k % 10 {
        0 => "(local.set $a (i32.add (local.get $a) (local.get $arg))) (br $latch)",
        1 => "(local.set $b (i32.xor (local.get $b) (i32.shl (local.get $a) (i32.and (local.get $arg) (i32.const 7))))) (br $latch)",
        2 => "(local.set $a (i32.add (i32.mul (local.get $a) (i32.const 3)) (local.get $b))) (br $latch)",
        3 => "(local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $a)))) (br $latch)",
        4 => "(if (i32.and (local.get $a) (i32.const 1)) (then (local.set $pc (i32.add (local.get $pc) (i32.const 1))))) (br $latch)",
        // Falls through into the next case (which then sees this one's `b`).
        5 => "(local.set $b (i32.sub (local.get $b) (local.get $arg)))",
        6 => "(local.set $a (i32.rotl (local.get $a) (local.get $b))) (br $latch)",
        7 => "(i32.store offset=64 (i32.and (local.get $a) (i32.const 60)) (local.get $b)) (br $latch)",
        8 => "(local.set $a (i32.div_u (local.get $a) (i32.and (local.get $arg) (i32.const 3)))) (br $latch)",
        // Straight back to the loop, past the latch.
        _ => "(local.set $steps (i32.add (local.get $steps) (i32.const 1)))
              (local.set $pc (i32.add (local.get $pc) (i32.const 2)))
              (br_if $L (i32.lt_u (local.get $steps) (local.get $n)))
              (br $exit)",
    }
}

/// The same interpreter in Rust: `None` when it divides by zero.
fn model(cases: usize, header_call: bool, mut a: u32, mut b: u32, n: u32) -> Option<u64> {
    let prog = program();
    let (mut pc, mut steps, mut acc) = (0u32, 0u32, 0u64);
    loop {
        let at = ((pc & 31) * 2) as usize;
        let op = (prog[at] & 15) as usize;
        let arg = u32::from(prog[at + 1]);
        if header_call {
            b = b.rotate_left(3).wrapping_add(op as u32);
        }
        let mut k = op.min(cases);
        loop {
            let next = match k % 10 {
                _ if k == cases => {
                    acc ^= u64::from(b);
                    None
                }
                0 => {
                    a = a.wrapping_add(arg);
                    None
                }
                1 => {
                    b ^= a << (arg & 7);
                    None
                }
                2 => {
                    a = a.wrapping_mul(3).wrapping_add(b);
                    None
                }
                3 => {
                    acc = acc.wrapping_add(u64::from(a));
                    None
                }
                4 => {
                    if a & 1 != 0 {
                        pc = pc.wrapping_add(1);
                    }
                    None
                }
                5 => {
                    b = b.wrapping_sub(arg);
                    Some(k + 1)
                }
                6 => {
                    a = a.rotate_left(b & 31);
                    None
                }
                7 => None, // A store the result does not read.
                8 => {
                    a = a.checked_div(arg & 3)?;
                    None
                }
                _ => {
                    steps += 1;
                    pc = pc.wrapping_add(2);
                    if steps < n {
                        k = usize::MAX; // Back to the loop head, past the latch.
                        break;
                    }
                    return Some(result(acc, a, b, arg));
                }
            };
            match next {
                Some(n) => k = n,
                None => break,
            }
        }
        if k == usize::MAX {
            continue;
        }
        pc = pc.wrapping_add(1);
        steps += 1;
        if steps >= n {
            return Some(result(acc, a, b, arg));
        }
    }
}

/// What `run` returns: the last argument byte fetched (a value the dispatch defines) is
/// read after the loop.
fn result(acc: u64, a: u32, b: u32, arg: u32) -> u64 {
    acc.wrapping_mul(31)
        .wrapping_add(u64::from(a.wrapping_add(b).wrapping_add(arg)))
}

/// How many `br_table`s the exported loop has after optimisation.
fn dispatches(wat: &str) -> usize {
    let d = wasmaot::debug::dump_function(wat.as_bytes(), 1, &CompileOptions::default()).unwrap();
    assert_eq!(
        d.clif.matches("br_table").count(),
        1,
        "one dispatch in the Wasm"
    );
    d.optimized.matches("br_table").count()
}

#[test]
fn the_dispatch_is_copied_into_the_cases() {
    for with_value in [false, true] {
        let copies = dispatches(&module(12, false, with_value));
        // Every case that goes to the latch ends in a copy; one keeps the back edge, and
        // the case that jumps straight back to the loop keeps its own.
        assert!(
            copies >= 10,
            "{copies} dispatches (with_value {with_value})"
        );
    }
}

#[test]
fn small_switches_and_dispatches_with_calls_are_left_alone() {
    assert_eq!(dispatches(&module(6, false, false)), 1);
    assert_eq!(dispatches(&module(12, true, false)), 1);
}

#[test]
fn threaded_interpreters_compute_what_the_model_does() {
    for (cases, header_call, with_value) in [
        (12, false, false),
        (12, false, true),
        (20, false, true),
        (9, false, false),
        (12, true, false),
        (6, false, true),
    ] {
        let inst = instance(&module(cases, header_call, with_value));
        for (a, b, n) in [
            (1, 2, 1),
            (7, 3, 10),
            (12345, 678, 1000),
            (0xdead, 0xbeef, 5000),
            (3, 0, 77),
        ] {
            let got = call(&inst, "run", &[I32(a), I32(b), I32(n)]);
            let what =
                format!("cases {cases} call {header_call} value {with_value} run({a}, {b}, {n})");
            match model(cases, header_call, a as u32, b as u32, n as u32) {
                Some(want) => match got {
                    Ok(v) => assert_eq!(v, vec![I64(want as i64)], "{what}"),
                    Err(e) => panic!("{what}: {e:?}"),
                },
                None => assert!(trap_of(got).contains("divide by zero"), "{what}"),
            }
        }
    }
}
