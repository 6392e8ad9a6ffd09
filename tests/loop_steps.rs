//! Loop steps arranged so that a counter and its next value share a register
//! (compiler/src/loop_steps.rs): checked on the machine code (the exit test compares the
//! stepped value with the loop's own limit; with the step and the exit test moved after the
//! other reads of the counter, the back edge is a conditional branch to a block that only
//! jumps, no copy) and by running counted loops, 32- and 64-bit, up and down, exiting on `==`
//! or continuing on `!=`, some through the point where the counter wraps, and a `for (i = 0;
//! i < n; i++)` loop, against Rust models of the same loops; and a loop over an array of
//! structs whose field offsets are rebased on the pointer's step (the back edge only jumps,
//! and the sums agree with a model, through a pointer that wraps).

mod common;

use common::{call, instance};
use wasmaot::runtime::Val::{I32, I64};
use wasmaot::CompileOptions;

/// One counted loop: `i = start; do { n += 1; i += step } while (i != limit)`, or with
/// `exit_on_eq`, the same loop leaving through a `br_if` on `i == limit`.
struct Case {
    ty: &'static str,
    step: i64,
    limit: i64,
    exit_on_eq: bool,
    /// Starting values whose trip counts the test checks (each reaches `limit`).
    starts: &'static [i64],
}

const CASES: [Case; 6] = [
    Case {
        ty: "i32",
        step: 4,
        limit: 4096,
        exit_on_eq: false,
        starts: &[0, 4092, 1024],
    },
    Case {
        ty: "i32",
        step: -1,
        limit: 0,
        exit_on_eq: false,
        starts: &[100, 1, 0x7fff_ffff],
    },
    // Up through the wrap: `i + 1 != 0` is `i != -1` after the mid-end.
    Case {
        ty: "i32",
        step: 1,
        limit: 0,
        exit_on_eq: false,
        starts: &[-256, -1, -100_000],
    },
    Case {
        ty: "i64",
        step: 8,
        limit: 800,
        exit_on_eq: false,
        starts: &[0, 792, -8000],
    },
    Case {
        ty: "i32",
        step: 3,
        limit: 30,
        exit_on_eq: true,
        starts: &[0, 27, -300],
    },
    Case {
        ty: "i64",
        step: -3,
        limit: -9,
        exit_on_eq: true,
        starts: &[0, -6, 9_000_000],
    },
];

/// One exported function per case, `case{k}(start) -> trips` (an `i64` trip count).
fn module() -> String {
    let mut m = String::from("(module\n");
    for (k, c) in CASES.iter().enumerate() {
        let ty = c.ty;
        let step = format!(
            "(local.set $i ({ty}.add (local.get $i) ({ty}.const {})))",
            c.step
        );
        let count = "(local.set $n (i64.add (local.get $n) (i64.const 1)))";
        let body = if c.exit_on_eq {
            format!(
                "(block $out (loop $l {count} {step}
                   (br_if $out ({ty}.eq (local.get $i) ({ty}.const {limit})))
                   (br $l)))",
                limit = c.limit
            )
        } else {
            format!(
                "(loop $l {count} {step}
                   (br_if $l ({ty}.ne (local.get $i) ({ty}.const {limit}))))",
                limit = c.limit
            )
        };
        m += &format!(
            "  (func (export \"case{k}\") (param $i {ty}) (result i64) (local $n i64)\n    {body}\n    (local.get $n))\n"
        );
    }
    m + SUM + FIELDS + ")"
}

/// `init()` stores `a * a + 1` (64-bit) at every 8-aligned address `a` of the one page;
/// `fields(p, n)` walks `n` 24-byte structs from `p`: `s = s * 31 + next.a + cur.b * cur.c`
/// where `cur` is the struct at `p`, `next` the one after it. The pointer's step `p + 24` is
/// read (as `next`) before the fields `p + 8` and `p + 16`, as in `nbody`'s inner loop.
const FIELDS: &str = r#"  (memory 1)
  (func (export "init") (local $a i32)
    (loop $l
      (i64.store (local.get $a)
        (i64.add (i64.mul (i64.extend_i32_u (local.get $a)) (i64.extend_i32_u (local.get $a)))
                 (i64.const 1)))
      (local.set $a (i32.add (local.get $a) (i32.const 8)))
      (br_if $l (i32.ne (local.get $a) (i32.const 65536)))))
  (func (export "fields") (param $p i32) (param $n i32) (result i64) (local $s i64) (local $q i32)
    (loop $l
      (local.set $q (i32.add (local.get $p) (i32.const 24)))
      (local.set $s
        (i64.add (i64.mul (local.get $s) (i64.const 31))
          (i64.add (i64.load (local.get $q))
            (i64.mul (i64.load (i32.add (local.get $p) (i32.const 8)))
                     (i64.load (i32.add (local.get $p) (i32.const 16)))))))
      (local.set $p (local.get $q))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (local.get $s))
"#;

/// [`FIELDS`]'s `fields(p, n)`, with 32-bit addresses and 64-bit values wrapping.
fn fields_model(p: u32, n: u32) -> i64 {
    let at = |a: u32| (a as u64).wrapping_mul(a as u64).wrapping_add(1);
    let (mut p, mut s) = (p, 0u64);
    for _ in 0..n {
        let q = p.wrapping_add(24);
        let term = at(q).wrapping_add(at(p.wrapping_add(8)).wrapping_mul(at(p.wrapping_add(16))));
        s = s.wrapping_mul(31).wrapping_add(term);
        p = q;
    }
    s as i64
}

/// `sum(n)`: `s = s * 31 + i * i` for `i` in `0..n` (at least one trip). The branch passes the
/// step `i + 1` before `s`, so the mid-end computes the step and the exit test `i + 1 < n`
/// first, ahead of the reads of `i` in `s`'s update.
const SUM: &str = r#"  (func (export "sum") (param $n i64) (result i64) (local $i i64) (local $s i64)
    (loop $l
      (local.set $s (i64.add (i64.mul (local.get $s) (i64.const 31))
                             (i64.mul (local.get $i) (local.get $i))))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br_if $l (i64.lt_u (local.get $i) (local.get $n))))
    (local.get $s))
"#;

/// [`SUM`]'s result, with wrapping arithmetic.
fn sum_model(n: u64) -> i64 {
    let (mut i, mut s) = (0u64, 0u64);
    loop {
        s = s.wrapping_mul(31).wrapping_add(i.wrapping_mul(i));
        i += 1;
        if i >= n {
            return s as i64;
        }
    }
}

/// The trip count of case `c` from `start`, computed with the type's wrapping arithmetic.
fn model(c: &Case, start: i64) -> i64 {
    let bits = if c.ty == "i32" { 32 } else { 64 };
    let wrap = |v: i64| if bits == 32 { v as i32 as i64 } else { v };
    let (mut i, mut n) = (wrap(start), 0i64);
    loop {
        n += 1;
        i = wrap(i.wrapping_add(c.step));
        if i == wrap(c.limit) {
            return n;
        }
    }
}

#[test]
fn counted_loops_run_as_the_model_says() {
    let inst = instance(&module());
    for n in [0u64, 1, 2, 3, 100, 100_000] {
        let got = call(&inst, "sum", &[I64(n as i64)]).unwrap();
        assert_eq!(got, vec![I64(sum_model(n))], "sum({n})");
    }
    call(&inst, "init", &[]).unwrap();
    // The last start wraps: its first struct's fields are at 0 and 8, the next at 16.
    for (p, n) in [(0u32, 1u32), (0, 2000), (4000, 100), (0xffff_fff8, 50)] {
        let got = call(&inst, "fields", &[I32(p as i32), I32(n as i32)]).unwrap();
        assert_eq!(got, vec![I64(fields_model(p, n))], "fields({p:#x}, {n})");
    }
    for (k, c) in CASES.iter().enumerate() {
        for &start in c.starts {
            let arg = if c.ty == "i32" {
                I32(start as i32)
            } else {
                I64(start)
            };
            let got = call(&inst, &format!("case{k}"), &[arg]).unwrap();
            assert_eq!(
                got,
                vec![I64(model(c, start))],
                "case {k} ({} step {} limit {}) from {start}",
                c.ty,
                c.step,
                c.limit
            );
        }
    }
}

/// The instructions of block `label` in a VCode listing (`blockN:` up to the next block).
fn block_body<'a>(asm: &'a str, label: &str) -> Vec<&'a str> {
    let head = format!("block{}:", label.trim_start_matches("label"));
    asm.lines()
        .skip_while(|l| l.trim() != head)
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with("block"))
        .map(str::trim)
        .collect()
}

#[test]
fn the_exit_test_compares_the_stepped_counter_and_the_back_edge_only_jumps() {
    // (case, the compare the loop must end with, the mid-end's compare of the old counter)
    let sum = CASES.len() as u32;
    for (k, want, old) in [
        (0, "cmpl $0x1000, ", "$0xffc"),
        (3, "cmpq $0x320, ", "$0x318"),
        // The step and the compare come after `s`'s update: `i` is dead once stepped.
        (sum, "cmpq %", "(none)"),
        // The fields are read at `p' - 16` and `p' - 8`: `p` is dead once stepped, and the
        // step updates its register in place.
        (sum + 2, "subl $0xffffffe8, ", "(none)"),
    ] {
        let opts = CompileOptions::default();
        let asm = wasmaot::debug::dump_function(module().as_bytes(), k, &opts)
            .unwrap()
            .disasm;
        assert!(asm.contains(want), "case {k}: no `{want}`:\n{asm}");
        assert!(
            !asm.contains(old),
            "case {k}: still compares the old counter:\n{asm}"
        );
        // The loop's conditional branch goes back through a block that only jumps: no copy
        // of the stepped counter into the old one's register.
        let branch = asm
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with('j') && l.contains("; j "))
            .unwrap_or_else(|| panic!("case {k}: no conditional branch:\n{asm}"));
        let back = branch
            .split_whitespace()
            .nth(1)
            .unwrap()
            .trim_end_matches(';');
        let body = block_body(&asm, back);
        assert!(
            body.len() == 1 && body[0].starts_with("jmp"),
            "case {k}: the back edge {back} does more than jump: {body:?}\n{asm}"
        );
    }
}
