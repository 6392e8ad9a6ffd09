//! Multiplications by 3, 5 and 9 computed as `x + (x << k)`, one `lea` on x86-64
//! (compiler/src/small_multiplies.rs). Checked on the machine code (a `lea`, no `imul`; 7
//! keeps its `imul`) and by running every form, 32- and 64-bit, either operand order, on
//! values where the product wraps, against Rust's wrapping multiplication.

mod common;

use common::{call, instance};
use wasmaot::runtime::Val::{I32, I64};
use wasmaot::CompileOptions;

/// The factors the pass rewrites, and 7 and 6, which it leaves alone.
const FACTORS: [i64; 5] = [3, 5, 9, 7, 6];

/// `collatz`'s step first (function 0), then for each type and factor `c`: `x * c` and
/// `c * x`.
fn module() -> String {
    let mut m = String::from(
        r#"(module
  (func (export "step") (param $x i64) (result i64)
    (select (i64.add (i64.mul (local.get $x) (i64.const 3)) (i64.const 1))
            (i64.shr_u (local.get $x) (i64.const 1))
            (i32.wrap_i64 (i64.and (local.get $x) (i64.const 1)))))
"#,
    );
    for ty in ["i32", "i64"] {
        for c in FACTORS {
            m += &format!(
                r#"  (func (export "{ty}_x{c}") (param {ty}) (result {ty})
    ({ty}.mul (local.get 0) ({ty}.const {c})))
  (func (export "{ty}_{c}x") (param {ty}) (result {ty})
    ({ty}.mul ({ty}.const {c}) (local.get 0)))
"#
            );
        }
    }
    m + ")"
}

/// The machine code listing of function `index`.
fn disasm(index: u32) -> String {
    wasmaot::debug::dump_function(module().as_bytes(), index, &CompileOptions::default())
        .unwrap()
        .disasm
}

#[test]
fn three_x_plus_one_is_one_lea() {
    let asm = disasm(0);
    assert!(!asm.contains("imul"), "an imul is left:\n{asm}");
    assert!(
        asm.lines()
            .any(|l| l.trim_start().starts_with("leaq 1(") && l.contains(", 2)")),
        "no `lea 1(x, x, 2)`:\n{asm}"
    );
}

#[test]
fn only_factors_one_lea_computes_are_rewritten() {
    // Functions after `step`: per type, per factor, `x * c` then `c * x`.
    let mut index = 1;
    for ty in ["i32", "i64"] {
        for c in FACTORS {
            for order in ["x*c", "c*x"] {
                let asm = disasm(index);
                let lea = matches!(c, 3 | 5 | 9);
                assert_eq!(
                    !asm.contains("imul"),
                    lea,
                    "{ty} {order} with c = {c}:\n{asm}"
                );
                if lea {
                    let scale = format!(", {})", c - 1);
                    assert!(
                        asm.lines()
                            .any(|l| l.trim_start().starts_with("lea") && l.contains(&scale)),
                        "{ty} {order} with c = {c}: no lea of scale {}:\n{asm}",
                        c - 1
                    );
                }
                index += 1;
            }
        }
    }
}

/// Values around the points where the products wrap, and a spread of others.
fn values() -> Vec<u64> {
    let mut v = vec![0, 1, 2, u64::MAX, u64::MAX - 1, 1 << 63, (1 << 63) - 1];
    for edge in [
        1u64 << 31,
        1 << 32,
        u64::MAX / 3,
        u64::MAX / 5,
        u64::MAX / 9,
    ] {
        v.extend([edge - 1, edge, edge + 1]);
    }
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..64 {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        v.push(s);
    }
    v
}

#[test]
fn products_wrap_as_wasm_multiplication() {
    let inst = instance(&module());
    for c in FACTORS {
        for x in values() {
            for name in [format!("i32_x{c}"), format!("i32_{c}x")] {
                let x32 = x as u32;
                let want = x32.wrapping_mul(c as u32);
                let got = call(&inst, &name, &[I32(x32 as i32)]).unwrap();
                assert_eq!(got, vec![I32(want as i32)], "{name}({x32:#x})");
            }
            for name in [format!("i64_x{c}"), format!("i64_{c}x")] {
                let want = x.wrapping_mul(c as u64);
                let got = call(&inst, &name, &[I64(x as i64)]).unwrap();
                assert_eq!(got, vec![I64(want as i64)], "{name}({x:#x})");
            }
        }
    }
    for x in values() {
        let want = if x & 1 == 1 {
            x.wrapping_mul(3).wrapping_add(1)
        } else {
            x >> 1
        };
        let got = call(&inst, "step", &[I64(x as i64)]).unwrap();
        assert_eq!(got, vec![I64(want as i64)], "step({x:#x})");
    }
}
