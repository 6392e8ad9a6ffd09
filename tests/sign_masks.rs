//! The float sign operators `neg`, `abs` and `copysign` (compiler/src/translate/numeric.rs).
//! On x86-64 they are bitwise operations with a mask from a vector constant, which the
//! mid-end places before the loop instead of rebuilding it through a general register on
//! every trip. Checked on the optimised CLIF and the machine code, and by running loops over
//! NaN payloads, zeros and infinities against Rust's bit-exact model (with and without a call
//! in the loop, which makes the mask live across a call).

mod common;

use common::{call, instance, loop_lines};
use wasmaot::runtime::Val::{I32, I64};
use wasmaot::CompileOptions;

/// For `$ty` in `f32`/`f64`, with the element size in bytes: a loop over `n` elements at 0
/// writing `-x`, `|x|` and `copysign(x, next x)` at 4096, 8192 and 12288; `fc` does the same
/// through a call of an identity function; `f32x4` and `f64x2` write `-x` and `|x|` a vector
/// at a time.
fn module() -> String {
    let mut m = String::from("(module (memory 1)\n");
    for (ty, size, shift) in [("f32", 4, 2), ("f64", 8, 3)] {
        m += &format!(
            r#"
  (func $id_{ty} (param {ty}) (result {ty}) (local.get 0))
  (func (export "{ty}") (param $n i32)
    (local $i i32) (local $p i32)
    (loop $l
      (local.set $p (i32.shl (local.get $i) (i32.const {shift})))
      ({ty}.store offset=4096 (local.get $p) ({ty}.neg ({ty}.load (local.get $p))))
      ({ty}.store offset=8192 (local.get $p) ({ty}.abs ({ty}.load (local.get $p))))
      ({ty}.store offset=12288 (local.get $p)
        ({ty}.copysign ({ty}.load (local.get $p)) ({ty}.load offset={size} (local.get $p))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
  (func (export "{ty}c") (param $n i32)
    (local $i i32) (local $p i32)
    (loop $l
      (local.set $p (i32.shl (local.get $i) (i32.const {shift})))
      ({ty}.store offset=4096 (local.get $p) ({ty}.neg (call $id_{ty} ({ty}.load (local.get $p)))))
      ({ty}.store offset=8192 (local.get $p) ({ty}.abs (call $id_{ty} ({ty}.load (local.get $p)))))
      ({ty}.store offset=12288 (local.get $p)
        ({ty}.copysign (call $id_{ty} ({ty}.load (local.get $p))) ({ty}.load offset={size} (local.get $p))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
"#
        );
    }
    // The vector forms, `n` a multiple of the lane count.
    for (ty, shift) in [("f32x4", 2), ("f64x2", 3)] {
        m += &format!(
            r#"
  (func (export "{ty}") (param $n i32) (local $p i32)
    (loop $l
      (v128.store offset=4096 (local.get $p) ({ty}.neg (v128.load (local.get $p))))
      (v128.store offset=8192 (local.get $p) ({ty}.abs (v128.load (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (br_if $l (i32.lt_u (local.get $p) (i32.shl (local.get $n) (i32.const {shift}))))))
"#
        );
    }
    m += r#"
  (func (export "set") (param i32 i64) (i64.store (local.get 0) (local.get 1)))
  (func (export "get") (param i32) (result i64) (i64.load (local.get 0))))"#;
    m
}

/// Function indices of the exported `f32`, `f64`, `f32x4` and `f64x2` loops, with the bitwise
/// operations each must have in its loop.
const LOOPS: [(u32, &[&str]); 4] = [
    (1, &["bxor", "band", "bor"]),
    (4, &["bxor", "band", "bor"]),
    (6, &["bxor", "band"]),
    (7, &["bxor", "band"]),
];

#[cfg(target_arch = "x86_64")]
#[test]
fn masks_are_made_before_the_loop_without_a_general_register() {
    let wat = module();
    for (f, ops) in LOOPS {
        let d =
            wasmaot::debug::dump_function(wat.as_bytes(), f, &CompileOptions::default()).unwrap();
        let clif = &d.optimized;
        let (header, back) = loop_lines(clif);
        let lines: Vec<&str> = clif.lines().collect();
        let consts: Vec<usize> = (0..lines.len())
            .filter(|&n| lines[n].contains("= vconst"))
            .collect();
        // Two masks: the sign bit and the magnitude bits.
        assert_eq!(consts.len(), 2, "two mask constants in\n{clif}");
        assert!(
            consts.iter().all(|&n| n < header),
            "a mask is made inside the loop ({header}..={back}):\n{clif}"
        );
        for op in ops {
            assert!(
                lines[header..=back]
                    .iter()
                    .any(|l| l.contains(&format!("= {op}"))),
                "no {op} in the loop of\n{clif}"
            );
        }
        for op in ["fneg", "fabs", "fcopysign"] {
            assert!(!clif.contains(op), "{op} left in\n{clif}");
        }
        // Cranelift's own lowering builds each mask with `movabs`/`mov` + `movq`/`movd`.
        let asm = &d.disasm;
        assert!(!asm.contains("movabs"), "a mask through a GPR in\n{asm}");
        let gpr_to_xmm = asm.lines().any(|l| {
            let l = l.trim_start().trim_start_matches('v');
            (l.starts_with("movq %r") || l.starts_with("movd %e")) && l.contains("%xmm")
        });
        assert!(!gpr_to_xmm, "a GPR-to-XMM move in\n{asm}");
    }
}

/// Bit patterns that tell the operators apart: signed zeros, infinities, quiet and signalling
/// NaNs with payloads and either sign, subnormals, ordinary numbers.
const F64_BITS: [u64; 12] = [
    0x0000_0000_0000_0000,
    0x8000_0000_0000_0000,
    0x7ff0_0000_0000_0000,
    0xfff0_0000_0000_0000,
    0x7ff8_0000_0000_0001,
    0xfff4_0000_dead_beef,
    0x7ff0_0000_0000_0001,
    0x0000_0000_0000_0001,
    0x800f_ffff_ffff_ffff,
    0x3ff0_0000_0000_0000,
    0xc009_21fb_5444_2d18,
    0x7fef_ffff_ffff_ffff,
];
const F32_BITS: [u32; 12] = [
    0x0000_0000,
    0x8000_0000,
    0x7f80_0000,
    0xff80_0000,
    0x7fc0_0001,
    0xffa0_beef,
    0x7f80_0001,
    0x0000_0001,
    0x807f_ffff,
    0x3f80_0000,
    0xc049_0fdb,
    0x7f7f_ffff,
];

/// Runs loop `name` over `bits` (element `size` bytes, widened to u64) and checks every
/// output element against the model (`copysign` only where the loop computes it).
fn check(inst: &wasmaot::runtime::Instance, name: &str, size: u32, bits: &[u64], copysign: bool) {
    let sign = 1u64 << (size * 8 - 1);
    let n = bits.len() as u32;
    // Elements are written in 8-byte stores of pairs (f32) or singly (f64); one element past
    // the end feeds the last copysign.
    let mut padded = bits.to_vec();
    padded.push(bits[0] ^ sign);
    let per_word = 8 / size;
    for (w, chunk) in padded.chunks(per_word as usize).enumerate() {
        let word = chunk
            .iter()
            .enumerate()
            .fold(0u64, |acc, (k, &b)| acc | b << (k as u32 * size * 8));
        call(inst, "set", &[I32(8 * w as i32), I64(word as i64)]).unwrap();
    }
    // Poison the outputs, so a loop that writes nothing cannot pass on an earlier loop's.
    for base in [4096, 8192, 12288] {
        for w in 0..=n * size / 8 {
            call(
                inst,
                "set",
                &[I32((base + 8 * w) as i32), I64(0x5555_5555_5555_5555)],
            )
            .unwrap();
        }
    }
    call(inst, name, &[I32(n as i32)]).unwrap();
    let read = |addr: u32| -> u64 {
        let word = match call(inst, "get", &[I32((addr & !7) as i32)]).unwrap()[0] {
            I64(w) => w as u64,
            ref other => panic!("get returned {other:?}"),
        };
        let shift = (addr & 7) * 8;
        if size == 8 {
            word
        } else {
            (word >> shift) & 0xffff_ffff
        }
    };
    for (i, &x) in bits.iter().enumerate() {
        let at = i as u32 * size;
        let next = padded[i + 1];
        let want = [
            (4096, x ^ sign, "neg"),
            (8192, x & !sign, "abs"),
            (12288, (x & !sign) | (next & sign), "copysign"),
        ];
        for (base, expect, op) in want.into_iter().take(if copysign { 3 } else { 2 }) {
            let got = read(base + at);
            assert_eq!(
                got, expect,
                "{name}: {op} of {x:#x} (next {next:#x}) gave {got:#x}, want {expect:#x}"
            );
        }
    }
}

#[test]
fn sign_operators_are_bit_exact_in_loops() {
    let inst = instance(&module());
    let f64_bits: Vec<u64> = F64_BITS.to_vec();
    let f32_bits: Vec<u64> = F32_BITS.iter().map(|&b| b as u64).collect();
    for name in ["f64", "f64c"] {
        check(&inst, name, 8, &f64_bits, true);
    }
    for name in ["f32", "f32c"] {
        check(&inst, name, 4, &f32_bits, true);
    }
    check(&inst, "f64x2", 8, &f64_bits, false);
    check(&inst, "f32x4", 4, &f32_bits, false);
}
