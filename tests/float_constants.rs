//! Float constants in loops and the float sign operators `neg`, `abs` and `copysign`
//! (compiler/src/translate/numeric.rs). On x86-64 a nonzero constant inside a loop, and the
//! mask of a sign operator, come from a vector constant, which the mid-end places before the
//! loop instead of rebuilding it through a general register on every trip. Checked on the
//! optimised CLIF and the machine code, and by running loops over NaN payloads, zeros and
//! infinities against Rust's bit-exact model (with and without a call in the loop, which
//! makes a mask live across a call).

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
        let word = get(inst, addr & !7);
        if size == 8 {
            word
        } else {
            (word >> ((addr & 7) * 8)) & 0xffff_ffff
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

/// WAT spelling of an f64 or f32 (`size` bytes) bit pattern, exact for every pattern.
fn wat_float(bits: u64, size: u32) -> String {
    let (mant_bits, exp_bits) = if size == 8 { (52, 11) } else { (23, 8) };
    let sign = if bits >> (mant_bits + exp_bits) & 1 == 1 {
        "-"
    } else {
        ""
    };
    let exp = (bits >> mant_bits) & ((1 << exp_bits) - 1);
    let mant = bits & ((1 << mant_bits) - 1);
    let bias = (1i64 << (exp_bits - 1)) - 1;
    // Hex digits of the fraction: pad the mantissa to a multiple of 4 bits.
    let pad = (4 - mant_bits % 4) % 4;
    let digits = (mant_bits + pad) as usize / 4;
    let frac = format!("{:0digits$x}", mant << pad);
    if exp == (1 << exp_bits) - 1 {
        if mant == 0 {
            format!("{sign}inf")
        } else {
            format!("{sign}nan:{mant:#x}")
        }
    } else if exp == 0 {
        format!("{sign}0x0.{frac}p{}", 1 - bias)
    } else {
        format!("{sign}0x1.{frac}p{}", exp as i64 - bias)
    }
}

/// `c32`/`c64`: a loop storing every pattern of the type as a constant, one row of the
/// patterns per trip at `i * 12 * size`; `a64`: `out[i] = x[i] * 0.001 + 1.5` over `n`
/// doubles at 0, written at 8192; `once`: `x * 0.001` outside any loop.
fn constants_module() -> String {
    let mut m = String::from("(module (memory 1)\n");
    for (ty, size, bits) in [("f32", 4u32, F32_BITS.map(u64::from)), ("f64", 8, F64_BITS)] {
        let stores: String = bits
            .iter()
            .enumerate()
            .map(|(k, &b)| {
                format!(
                    "({ty}.store offset={} (local.get $p) ({ty}.const {}))\n",
                    k as u32 * size,
                    wat_float(b, size)
                )
            })
            .collect();
        m += &format!(
            r#"
  (func (export "c{}") (param $n i32) (local $i i32) (local $p i32)
    (loop $l
      (local.set $p (i32.mul (local.get $i) (i32.const {})))
      {stores}
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
"#,
            size * 8,
            12 * size
        );
    }
    m += r#"
  (func (export "a64") (param $n i32) (local $p i32)
    (loop $l
      (f64.store offset=8192 (local.get $p)
        (f64.add (f64.mul (f64.load (local.get $p)) (f64.const 0.001)) (f64.const 1.5)))
      (local.set $p (i32.add (local.get $p) (i32.const 8)))
      (br_if $l (i32.lt_u (local.get $p) (i32.shl (local.get $n) (i32.const 3))))))
  (func (export "once") (param f64) (result f64) (f64.mul (local.get 0) (f64.const 0.001)))
  (func (export "set") (param i32 i64) (i64.store (local.get 0) (local.get 1)))
  (func (export "get") (param i32) (result i64) (i64.load (local.get 0))))"#;
    m
}

/// Reads the 8-byte word at `addr`.
fn get(inst: &wasmaot::runtime::Instance, addr: u32) -> u64 {
    match call(inst, "get", &[I32(addr as i32)]).unwrap()[0] {
        I64(w) => w as u64,
        ref other => panic!("get returned {other:?}"),
    }
}

#[test]
fn constants_in_loops_keep_their_bits() {
    let inst = instance(&constants_module());
    let n = 3u32;
    // f64: one word per pattern.
    call(&inst, "c64", &[I32(n as i32)]).unwrap();
    for i in 0..n {
        for (k, &want) in F64_BITS.iter().enumerate() {
            let got = get(&inst, (i * 12 + k as u32) * 8);
            assert_eq!(got, want, "f64 constant {k} on trip {i}: {got:#x}");
        }
    }
    // f32: two patterns per word.
    call(&inst, "c32", &[I32(n as i32)]).unwrap();
    for i in 0..n {
        for (k, &want) in F32_BITS.iter().enumerate() {
            let addr = (i * 12 + k as u32) * 4;
            let got = (get(&inst, addr & !7) >> ((addr & 7) * 8)) as u32;
            assert_eq!(got, want, "f32 constant {k} on trip {i}: {got:#x}");
        }
    }
    // Arithmetic with constants, against Rust's IEEE operations.
    let xs: Vec<f64> = F64_BITS.iter().map(|&b| f64::from_bits(b)).collect();
    for (i, x) in xs.iter().enumerate() {
        call(&inst, "set", &[I32(8 * i as i32), I64(x.to_bits() as i64)]).unwrap();
    }
    call(&inst, "a64", &[I32(xs.len() as i32)]).unwrap();
    for (i, x) in xs.iter().enumerate() {
        let want = x * 0.001 + 1.5;
        let got = f64::from_bits(get(&inst, 8192 + 8 * i as u32));
        // NaN results: Wasm leaves the payload nondeterministic, so only NaN-ness is checked.
        if want.is_nan() {
            assert!(got.is_nan(), "{x:e} * 0.001 + 1.5 gave {got:e}");
        } else {
            assert_eq!(
                got.to_bits(),
                want.to_bits(),
                "{x:e} * 0.001 + 1.5 gave {got:e}"
            );
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[test]
fn loop_constants_are_made_before_the_loop() {
    let wat = constants_module();
    // c32, c64, a64 in a loop; `once` outside any loop.
    for f in [0, 1, 2] {
        let d =
            wasmaot::debug::dump_function(wat.as_bytes(), f, &CompileOptions::default()).unwrap();
        let clif = &d.optimized;
        let (header, back) = loop_lines(clif);
        let lines: Vec<&str> = clif.lines().collect();
        assert!(
            lines[..header].iter().any(|l| l.contains("= vconst")),
            "no vector constant before the loop in\n{clif}"
        );
        for l in &lines[header..=back] {
            assert!(
                !l.contains("= vconst"),
                "a constant made in the loop: {l}\n{clif}"
            );
            // Only the zero constants stay `fNNconst`.
            if l.contains("f32const") || l.contains("f64const") {
                assert!(
                    l.ends_with(" 0.0"),
                    "a nonzero fNNconst in the loop: {l}\n{clif}"
                );
            }
        }
        assert!(
            !d.disasm.contains("movabs"),
            "a constant through a GPR in\n{}",
            d.disasm
        );
    }
    let d = wasmaot::debug::dump_function(wat.as_bytes(), 3, &CompileOptions::default()).unwrap();
    assert!(
        d.optimized.contains("f64const") && !d.optimized.contains("vconst"),
        "a constant outside loops should stay f64const (folded into its use):\n{}",
        d.optimized
    );
}
