//! Random memory64 loops for `--loops64`: the shapes whose bounds checks
//! `compiler/src/translate/loop_checks.rs` moves to the loop entry, and their near misses.
//!
//! wasm-smith's random code almost never walks memory with an induction variable, so the
//! general fuzzer does not reach that pass. Each module here has a few exported functions, each
//! one loop over pointers and a counter: accesses of random sizes and offsets at affine indices
//! (pointers moving up or down by constants, possibly past the guard or the pre-guard below the
//! base, `base + (i << k)`, `base + i * m`) and at a base plus a loaded byte or halfword times
//! a power of two (a histogram), sometimes behind something observable (a global or memory
//! write, a call, a division that may trap), sometimes inside an `if`, sometimes with
//! `memory.grow` in the loop, sometimes inside an outer loop that moves the base, sometimes
//! with an access after an `if` that an access before it covers. Start values are computed from
//! the arguments to land near the end of memory, near zero or near 2^64, so that loops leave
//! memory on a random trip. A global counts the completed trips and the stores write
//! trip-dependent values, so both engines must trap on the same trip with the same memory.

use crate::generate::Rng;
use std::fmt::Write;

/// A random element of `xs`.
fn pick<'a>(rng: &mut Rng, xs: &[&'a str]) -> &'a str {
    xs[rng.below(xs.len() as u64) as usize]
}

/// A start value computed from the arguments `$a`/`$b`.
fn start(rng: &mut Rng) -> String {
    let end = "(i64.shl (memory.size) (i64.const 16))";
    match rng.below(6) {
        // Up to 1 KiB below the end of memory.
        0 | 1 => format!("(i64.sub {end} (i64.and (local.get $a) (i64.const 0x3ff)))"),
        // Around the end, either side.
        2 => format!(
            "(i64.add {end} (i64.sub (i64.and (local.get $b) (i64.const 0x3f)) (i64.const 40)))"
        ),
        // Near zero, or near 2^64 (a pointer walking up from there wraps to zero).
        3 => "(i64.and (local.get $b) (i64.const 0xff))".to_string(),
        4 => "(i64.sub (i64.const 0) (i64.and (local.get $a) (i64.const 0x3f)))".to_string(),
        // Around the bottom of the pre-guard below 2^64.
        _ => "(i64.add (i64.const -0x10000) (i64.sub (i64.and (local.get $a) (i64.const 0x7f)) (i64.const 64)))"
            .to_string(),
    }
}

/// How much a pointer moves per trip.
const STEPS: &[&str] = &[
    "1",
    "2",
    "4",
    "8",
    "16",
    "0",
    "-1",
    "-8",
    "-16",
    "-0x10000",
    "-0x10008",
    "0xfffffff8",
    "0xfffffff0",
    "0x100000000",
];

/// An index expression over the loop's variables.
fn index(rng: &mut Rng) -> String {
    match rng.below(9) {
        0 | 1 => "(local.get $p)".to_string(),
        2 => "(local.get $r)".to_string(),
        3 => format!(
            "(i64.add (local.get $p) (i64.const {}))",
            pick(rng, &["1", "2", "3", "8", "-1", "0x10000", "0x10001"])
        ),
        4 => format!(
            "(i64.add (local.get $q) (i64.shl (local.get $i) (i64.const {})))",
            pick(rng, &["0", "2", "3", "4", "33"])
        ),
        5 => format!(
            "(i64.add (local.get $q) (i64.mul (local.get $i) (i64.const {})))",
            pick(rng, &["3", "24", "-8", "0x80000000"])
        ),
        6 => "(i64.sub (local.get $q) (i64.shl (local.get $i) (i64.const 3)))".to_string(),
        7 => format!(
            "(i64.add (local.get $q) (i64.shl ({} (local.get $p)) (i64.const {})))",
            pick(rng, &["i64.load8_u", "i64.load8_u", "i64.load16_u"]),
            pick(rng, &["0", "3", "8", "13"])
        ),
        _ => "(i64.add (i64.shl (local.get $i) (i64.const 2)) (local.get $p))".to_string(),
    }
}

/// One access: a load added into `$s`, or a store of `$s` and the trip number.
fn access(rng: &mut Rng) -> String {
    let idx = index(rng);
    let offset = pick(
        rng,
        &["0", "0", "0", "1", "7", "16", "0xfffffff0", "0x100000000"],
    );
    let (load, store) = match rng.below(5) {
        0 => ("i64.load8_u", "i64.store8"),
        1 => ("i64.load16_s", "i64.store16"),
        2 => ("i64.load32_u", "i64.store32"),
        _ => ("i64.load", "i64.store"),
    };
    if rng.below(3) == 0 {
        format!("({store} offset={offset} {idx} (i64.add (local.get $s) (local.get $i)))")
    } else {
        format!(
            "(local.set $s (i64.add (i64.rotl (local.get $s) (i64.const 5)) ({load} offset={offset} {idx})))"
        )
    }
}

/// Something observable that may come first in the loop body.
fn prefix(rng: &mut Rng) -> &'static str {
    match rng.below(10) {
        0 => "(global.set $g (i64.add (global.get $g) (local.get $i)))",
        1 => "(i64.store8 (i64.const 5) (local.get $i))",
        2 => "(call $side)",
        3 => {
            "(local.set $s (i64.div_u (local.get $s)
                (i64.and (i64.add (local.get $i) (local.get $a)) (i64.const 3))))"
        }
        4 => "(local.set $s (i64.xor (local.get $s) (i64.const 0x55)))",
        _ => "",
    }
}

/// The inner loop's exit test on the trip counter `$i`, stepped by one just before: against a
/// bound from `$b`, or against a constant with `!=`, or leaving on `==` (the mid-end rewrites
/// those two as compares of the counter before the step; `compiler/src/loop_steps.rs`
/// rewrites them back).
fn exit_test(rng: &mut Rng) -> String {
    let extra = pick(rng, &["1", "8", "600"]);
    match rng.below(3) {
        0 => format!("(br_if $l (i64.ne (local.get $i) (i64.const {extra})))"),
        1 => format!("(br_if $x (i64.eq (local.get $i) (i64.const {extra}))) (br $l)"),
        _ => format!(
            "(br_if $l (i64.lt_u (local.get $i) (i64.add (i64.and (local.get $b) (i64.const 0x3f)) (i64.const {extra}))))"
        ),
    }
}

/// One exported function: a loop as described in the module docs.
fn function(rng: &mut Rng, n: usize) -> String {
    let mut body = String::new();
    for _ in 0..1 + rng.below(3) {
        body.push_str(&access(rng));
        body.push('\n');
    }
    if rng.below(4) == 0 {
        let _ = writeln!(
            body,
            "(if (i64.eqz (i64.and (local.get $i) (i64.const 1))) (then {}))",
            access(rng)
        );
    }
    if rng.below(5) == 0 {
        body.push_str(
            "(if (i64.eq (i64.and (local.get $i) (i64.const 7)) (i64.const 3))
               (then (drop (memory.grow (i64.const 1)))))\n",
        );
    }
    if rng.below(4) == 0 {
        // An access after the `if`, at an index an access before it may cover.
        let _ = writeln!(
            body,
            "(if (i64.eqz (i64.and (local.get $s) (i64.const 1))) (then {})) {}",
            access(rng),
            access(rng)
        );
    }
    let inner = format!(
        r#"(block $x (loop $l
    {prefix}
    {body}
    (global.set $trips (i64.add (global.get $trips) (i64.const 1)))
    (local.set $p (i64.add (local.get $p) (i64.const {sp})))
    (local.set $r (i64.add (local.get $r) (i64.const {sr})))
    (local.set $i (i64.add (local.get $i) (i64.const 1)))
    {exit}))"#,
        prefix = prefix(rng),
        sp = pick(rng, STEPS),
        sr = pick(rng, STEPS),
        exit = exit_test(rng),
    );
    // Sometimes inside an outer loop that moves `$q` (and maybe restarts `$p` from it), with
    // perhaps something observable first: the inner loop's moved compares may move on.
    let lp = if rng.below(3) == 0 {
        format!(
            r#"(loop $o
    {prefix}
    (local.set $i (i64.const 0))
    {restart}
    {inner}
    (local.set $q (i64.add (local.get $q) (i64.const {sq})))
    (local.set $o (i64.add (local.get $o) (i64.const 1)))
    (br_if $o (i64.lt_u (local.get $o) (i64.const {trips}))))"#,
            prefix = prefix(rng),
            restart = pick(rng, &["", "", "(local.set $p (local.get $q))"]),
            sq = pick(rng, STEPS),
            trips = pick(rng, &["1", "2", "5"]),
        )
    } else {
        inner
    };
    format!(
        r#"(func (export "f{n}") (param $a i64) (param $b i64) (result i64)
  (local $p i64) (local $r i64) (local $q i64) (local $i i64) (local $s i64) (local $o i64)
  (local.set $p {p}) (local.set $r {r}) (local.set $q {q})
  {lp}
  (local.get $s))
"#,
        p = start(rng),
        r = start(rng),
        q = start(rng),
    )
}

/// The module of `seed`, as WAT text.
pub fn module_text(seed: u64) -> String {
    let mut rng = Rng::new(seed ^ 0x1005_6464);
    let max = pick(&mut rng, &["", "1", "2", "3"]);
    let mut m = format!(
        "(module
  (memory (export \"mem\") i64 1 {max})
  (global $trips (export \"trips\") (mut i64) (i64.const 0))
  (global $g (export \"g\") (mut i64) (i64.const 0))
  (func $side (global.set $g (i64.add (global.get $g) (i64.const 1000))))
"
    );
    for n in 0..1 + rng.below(3) as usize {
        m.push_str(&function(&mut rng, n));
    }
    m.push(')');
    m
}

/// The module of `seed`, encoded.
pub fn module(seed: u64) -> Vec<u8> {
    wat::parse_str(module_text(seed)).expect("the generator writes valid WAT")
}
