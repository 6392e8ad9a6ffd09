//! Random interpreter loops for `--dispatch`: the shape whose dispatch
//! `compiler/src/threaded_dispatch.rs` copies into the end of each case, and its variations.
//!
//! wasm-smith's random code almost never has a `br_table` with many targets at the head of
//! a loop. Each module here has a few exported functions, each a loop that fetches an opcode
//! from a program in memory, computes values the cases then use (locals, and sometimes a
//! value the `br_table` passes to every case), and dispatches through a `br_table` of 4 to
//! 24 cases. A case changes locals, memory or a global, may call a function, grow memory or
//! divide by a value that may be zero, and then goes to the shared latch, straight back to
//! the loop, out of the loop, or falls through into the next case. The latch advances the
//! program counter and counts trips; the loop sometimes sits inside an outer loop, and the
//! header sometimes has an `if` or a call of its own. A trip limit ends every loop.

use crate::generate::Rng;
use std::fmt::Write;

/// A random element of `xs`.
fn pick<'a>(rng: &mut Rng, xs: &[&'a str]) -> &'a str {
    xs[rng.below(xs.len() as u64) as usize]
}

/// One statement of a case: something that changes the state.
fn statement(rng: &mut Rng, with_value: bool) -> String {
    let operand = |rng: &mut Rng| {
        pick(
            rng,
            if with_value {
                &[
                    "(local.get $x)",
                    "(local.get $y)",
                    "(local.get $t)",
                    "(local.get $v)",
                    "(local.get $pc)",
                ]
            } else {
                &[
                    "(local.get $x)",
                    "(local.get $y)",
                    "(local.get $t)",
                    "(local.get $pc)",
                ]
            },
        )
        .to_string()
    };
    let op = pick(
        rng,
        &[
            "i32.add",
            "i32.sub",
            "i32.mul",
            "i32.xor",
            "i32.or",
            "i32.and",
            "i32.rotl",
            "i32.shr_u",
        ],
    );
    let dest = pick(rng, &["$x", "$y", "$x", "$y", "$t"]);
    match rng.below(12) {
        0 => format!(
            "(i32.store offset=512 (i32.and {} (i32.const 252)) {})",
            operand(rng),
            operand(rng)
        ),
        1 => format!(
            "(local.set {dest} (i32.load offset=512 (i32.and {} (i32.const 252))))",
            operand(rng)
        ),
        2 => format!("(global.set $g (i32.add (global.get $g) {}))", operand(rng)),
        3 => format!(
            "(local.set {dest} (i32.div_u {} (i32.and {} (i32.const 7))))",
            operand(rng),
            operand(rng)
        ),
        4 => "(local.set $x (call $side (local.get $x) (local.get $y)))".to_string(),
        5 => "(if (i32.eqz (i32.and (local.get $y) (i32.const 63))) (then (drop (memory.grow (i32.const 1)))))"
            .to_string(),
        6 => format!(
            "(local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u {})))",
            operand(rng)
        ),
        7 => format!(
            "(if (i32.and {} (i32.const 1)) (then (local.set $pc (i32.add (local.get $pc) (i32.const {})))))",
            operand(rng),
            1 + rng.below(3)
        ),
        _ => format!(
            "(local.set {dest} ({op} {} (i32.add {} (i32.const {}))))",
            operand(rng),
            operand(rng),
            rng.below(1000)
        ),
    }
}

/// The end of a case: to the latch, back to the loop (counting the trip), out of the loop,
/// conditionally out, or nothing (falling through into the next case).
fn ending(rng: &mut Rng, fall_value: bool) -> String {
    match rng.below(8) {
        0..=2 => "(br $latch)".to_string(),
        3 => "(local.set $n (i32.add (local.get $n) (i32.const 1)))
              (local.set $pc (i32.add (local.get $pc) (i32.const 3)))
              (br_if $L (i32.lt_u (local.get $n) (local.get $limit)))
              (br $exit)"
            .to_string(),
        4 => "(br_if $exit (i32.eq (i32.and (local.get $x) (i32.const 255)) (i32.const 7))) (br $latch)"
            .to_string(),
        5 if rng.below(4) == 0 => "(br $exit)".to_string(),
        _ if fall_value => "(local.get $x)".to_string(),
        _ => String::new(),
    }
}

/// One dispatch loop; `with_value` makes the `br_table` pass a value to every case.
fn dispatch_loop(rng: &mut Rng) -> String {
    let cases = match rng.below(5) {
        0 => 4,
        _ => 8 + rng.below(17) as usize,
    };
    let with_value = rng.below(2) == 0;
    let ty = if with_value { " (result i32)" } else { "" };
    let mut s = String::new();
    s.push_str("(block $latch\n");
    for k in (0..cases).rev() {
        let _ = writeln!(s, "(block $c{k}{ty}");
    }
    // The header: fetch, decode, and values the cases use.
    let _ = writeln!(
        s,
        "(local.set $op (i32.load8_u (i32.and (local.get $pc) (i32.const 255))))
         (local.set $t (i32.load offset=256 (i32.shl (i32.and (local.get $op) (i32.const 15)) (i32.const 2))))
         {}
         {}",
        match rng.below(8) {
            0 => "(if (i32.and (local.get $op) (i32.const 128)) (then (local.set $t (i32.xor (local.get $t) (local.get $x)))))",
            1 => "(local.set $y (i32.add (local.get $y) (call $side (local.get $t) (local.get $op))))",
            _ => "",
        },
        if with_value { "(local.get $t)" } else { "" }
    );
    let index = pick(
        rng,
        &[
            "(local.get $op)",
            "(i32.and (local.get $op) (i32.const 31))",
            "(i32.rem_u (local.get $op) (i32.const 19))",
        ],
    );
    let mut targets: Vec<String> = (0..cases).map(|k| format!("$c{k}")).collect();
    // Some opcodes share a case.
    for _ in 0..rng.below(4) {
        let a = rng.below(cases as u64) as usize;
        let b = rng.below(cases as u64) as usize;
        targets[a] = targets[b].clone();
    }
    let default = if with_value {
        format!("$c{}", rng.below(cases as u64))
    } else {
        pick(rng, &["$latch", "$exit", "$c0"]).to_string()
    };
    let _ = writeln!(s, "(br_table {} {default} {index})", targets.join(" "));
    for k in 0..cases {
        s.push_str(")\n");
        if with_value {
            s.push_str("(local.set $v)\n");
        }
        for _ in 0..1 + rng.below(3) {
            s.push_str(&statement(rng, with_value));
            s.push('\n');
        }
        // The last case falls into the latch, whose block has no result.
        s.push_str(&ending(rng, with_value && k + 1 < cases));
        s.push('\n');
    }
    s.push_str(")\n");
    // The latch.
    let _ = writeln!(
        s,
        "(local.set $pc (i32.add (local.get $pc) (i32.const 1)))
         (local.set $n (i32.add (local.get $n) (i32.const 1)))
         (br_if $L (i32.lt_u (local.get $n) (local.get $limit)))"
    );
    format!("(block $exit (loop $L\n{s}))")
}

/// One exported function: a dispatch loop, sometimes inside an outer loop.
fn function(rng: &mut Rng, n: usize) -> String {
    let inner = dispatch_loop(rng);
    let body = if rng.below(3) == 0 {
        format!(
            "(loop $o
               (local.set $n (i32.const 0))
               {inner}
               (local.set $pc (i32.add (local.get $pc) (i32.const 17)))
               (local.set $o (i32.add (local.get $o) (i32.const 1)))
               (br_if $o (i32.lt_u (local.get $o) (i32.const 3))))"
        )
    } else {
        inner
    };
    format!(
        r#"(func (export "f{n}") (param $a i32) (param $b i32) (result i64)
  (local $pc i32) (local $x i32) (local $y i32) (local $t i32) (local $v i32) (local $op i32)
  (local $n i32) (local $o i32) (local $limit i32) (local $acc i64)
  (local.set $pc (local.get $a)) (local.set $x (local.get $b)) (local.set $y (local.get $a))
  (local.set $limit (i32.add (i32.and (local.get $b) (i32.const 1023)) (i32.const {extra})))
  {body}
  (i64.add (local.get $acc)
    (i64.extend_i32_u (i32.xor (i32.xor (local.get $x) (local.get $y)) (i32.add (local.get $pc) (local.get $t))))))
"#,
        extra = pick(rng, &["1", "50", "2000"]),
    )
}

/// The module of `seed`, as WAT text.
pub fn module_text(seed: u64) -> String {
    let mut rng = Rng::new(seed ^ 0xd15_9a7c);
    let mut program = String::new();
    for _ in 0..256 + 64 {
        let _ = write!(program, "\\{:02x}", rng.below(256));
    }
    let mut m = format!(
        "(module
  (memory (export \"mem\") 1 4)
  (data (i32.const 0) \"{program}\")
  (global $g (export \"g\") (mut i32) (i32.const 0))
  (func $side (param i32 i32) (result i32)
    (global.set $g (i32.xor (global.get $g) (local.get 0)))
    (i32.add (i32.rotl (local.get 0) (i32.const 7)) (local.get 1)))
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
