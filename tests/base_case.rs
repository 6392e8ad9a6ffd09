//! Base-case peeling (compiler/src/translate/base_case.rs): a recursive function's calls to
//! itself evaluate its early-return test first and compute the result in place. Checked by
//! running each recognised shape against a Rust model, by keeping the side effects of the
//! calls that are still made, and by reading the translated CLIF.

mod common;

use common::{call, instance, Rng};
use wasmaot::runtime::Val::{F64, I32, I64};
use wasmaot::CompileOptions;

/// clang -O2's `fib`: a test that branches past a loop to the function's tail. `$count`
/// counts the calls that do not take the base case.
const FIB: &str = r#"(module
  (global $count (mut i32) (i32.const 0))
  (func $fib (export "fib") (param i32) (result i32) (local i32)
    i32.const 0 local.set 1
    block
      local.get 0 i32.const 2 i32.lt_u br_if 0
      global.get $count i32.const 1 i32.add global.set $count
      i32.const 0 local.set 1
      loop
        local.get 0 i32.const -1 i32.add call $fib local.get 1 i32.add local.set 1
        local.get 0 i32.const -2 i32.add local.tee 0 i32.const 1 i32.gt_u br_if 0
      end
    end
    local.get 0 local.get 1 i32.add)
  (func (export "count") (result i32) global.get $count))"#;

fn fib(n: u32) -> u32 {
    if n < 2 {
        n
    } else {
        fib(n - 1) + fib(n - 2)
    }
}

/// Calls of `fib(n)` that do not take the base case (`n < 2`), in clang's shape: one call
/// per loop step over `n, n - 2, ...`.
fn fib_bodies(n: u32) -> u32 {
    if n < 2 {
        return 0;
    }
    let mut calls = 1;
    let mut k = n;
    while k > 1 {
        calls += fib_bodies(k - 1);
        k -= 2;
    }
    calls
}

#[test]
fn fib_results_and_side_effects_match() {
    let inst = instance(FIB);
    let mut expected_count = 0;
    for n in 0..24 {
        let r = call(&inst, "fib", &[I32(n as i32)]).unwrap();
        assert_eq!(r, vec![I32(fib(n) as i32)], "fib({n})");
        expected_count += fib_bodies(n);
        let c = call(&inst, "count", &[]).unwrap();
        assert_eq!(
            c,
            vec![I32(expected_count as i32)],
            "calls past the base case after fib({n})"
        );
    }
}

#[test]
fn tak_with_the_base_case_on_the_falling_through_side() {
    let inst = instance(
        r#"(module (func $tak (export "tak") (param i32 i32 i32) (result i32)
          block
            local.get 1 local.get 0 i32.lt_s br_if 0
            local.get 2 return
          end
          local.get 0 i32.const 1 i32.sub local.get 1 local.get 2 call $tak
          local.get 1 i32.const 1 i32.sub local.get 2 local.get 0 call $tak
          local.get 2 i32.const 1 i32.sub local.get 0 local.get 1 call $tak
          call $tak))"#,
    );
    fn tak(x: i32, y: i32, z: i32) -> i32 {
        if y >= x {
            z
        } else {
            tak(tak(x - 1, y, z), tak(y - 1, z, x), tak(z - 1, x, y))
        }
    }
    for (x, y, z) in [(18, 12, 6), (12, 8, 4), (3, 9, 1), (0, 0, 0), (-5, -9, 7)] {
        let r = call(&inst, "tak", &[I32(x), I32(y), I32(z)]).unwrap();
        assert_eq!(r, vec![I32(tak(x, y, z))], "tak({x}, {y}, {z})");
    }
}

#[test]
fn if_shapes_multi_value_and_float_arguments() {
    let inst = instance(
        r#"(module
          (func $fact (export "fact") (param i64) (result i64)
            local.get 0 i64.eqz
            if (result i64) i64.const 1
            else local.get 0 local.get 0 i64.const 1 i64.sub call $fact i64.mul end)
          (func $pair (export "pair") (param i32) (result i32 i32)
            block
              local.get 0 i32.const 1 i32.gt_s br_if 0
              local.get 0 local.get 0 i32.const 3 i32.mul return
            end
            local.get 0 i32.const 1 i32.sub call $pair
            i32.const 10 i32.mul
            local.get 0 i32.add)
          (func $halve (export "halve") (param f64 i32) (result f64)
            local.get 1 i32.eqz
            if (result f64) local.get 0
            else local.get 0 f64.const 0.5 f64.mul local.get 1 i32.const 1 i32.sub call $halve end))"#,
    );
    let mut fact = 1u64;
    for n in 0..21u64 {
        fact *= n.max(1);
        assert_eq!(
            call(&inst, "fact", &[I64(n as i64)]).unwrap(),
            vec![I64(fact as i64)]
        );
    }
    fn pair(n: i32) -> (i32, i32) {
        if n <= 1 {
            (n, n * 3)
        } else {
            let (a, b) = pair(n - 1);
            (a, b * 10 + n)
        }
    }
    for n in [-3, 0, 1, 2, 5, 8] {
        let (a, b) = pair(n);
        assert_eq!(
            call(&inst, "pair", &[I32(n)]).unwrap(),
            vec![I32(a), I32(b)],
            "pair({n})"
        );
    }
    for k in 0..6 {
        let want = 40.0 * 0.5f64.powi(k);
        let got = call(&inst, "halve", &[F64(40f64.to_bits()), I32(k)]).unwrap();
        assert_eq!(got, vec![F64(want.to_bits())], "halve(40, {k})");
    }
}

/// The number of conditional branches in the CLIF the translator makes of function `f`.
fn brifs(wat: &str, f: u32) -> usize {
    let clif = wasmaot::debug::clif_of(wat.as_bytes(), f, &CompileOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    clif.matches(" brif ").count()
}

#[test]
fn only_calls_to_itself_are_peeled() {
    // The same body calling a twin instead of itself gets no test before its call.
    let twin = FIB.replace(
        "local.get 0 i32.const -1 i32.add call $fib",
        "local.get 0 i32.const -1 i32.add call $twin",
    ) + "";
    let twin = twin.replacen(
        "(func (export \"count\")",
        "(func $twin (param i32) (result i32) local.get 0 call $fib)\n  (func (export \"count\")",
        1,
    );
    assert_eq!(
        brifs(FIB, 0),
        brifs(&twin, 0) + 1,
        "one test before the one self-call"
    );
    // A header that divides is not copied.
    let dividing = FIB.replace(
        "i32.const 2 i32.lt_u br_if 0",
        "i32.const 2 i32.div_u br_if 0",
    );
    assert_eq!(brifs(&dividing, 0), brifs(&twin, 0));
}

/// Random expressions for the functions below.
trait Exprs {
    fn expr(&mut self, depth: u32) -> String;
}

impl Exprs for Rng {
    /// A random `i32` expression over the parameters `$a` and `$b`, of the operators a base
    /// case may hold.
    fn expr(&mut self, depth: u32) -> String {
        const BIN: &[&str] = &[
            "i32.add",
            "i32.sub",
            "i32.mul",
            "i32.and",
            "i32.or",
            "i32.xor",
            "i32.shl",
            "i32.shr_s",
            "i32.shr_u",
            "i32.rotl",
            "i32.eq",
            "i32.ne",
            "i32.lt_s",
            "i32.lt_u",
            "i32.gt_u",
            "i32.ge_s",
            "i32.le_u",
        ];
        const UN: &[&str] = &[
            "i32.eqz",
            "i32.clz",
            "i32.ctz",
            "i32.popcnt",
            "i32.extend8_s",
            "i64.extend_i32_s i64.const 3 i64.mul i32.wrap_i64",
        ];
        match if depth == 0 {
            self.below(3)
        } else {
            self.below(7)
        } {
            0 => "local.get $a".into(),
            1 => "local.get $b".into(),
            2 => format!("i32.const {}", self.below(7) as i32 - 2),
            3 => format!(
                "{} {}",
                self.expr(depth - 1),
                UN[self.below(UN.len() as u64) as usize]
            ),
            4 => format!(
                "{} {} {} select",
                self.expr(depth - 1),
                self.expr(depth - 1),
                self.expr(depth - 1)
            ),
            _ => format!(
                "{} {} {}",
                self.expr(depth - 1),
                self.expr(depth - 1),
                BIN[self.below(BIN.len() as u64) as usize]
            ),
        }
    }
}

/// A recursive function `$f (a, b, d)` with a random base case, in one of three shapes,
/// whose recursive calls go to `$callee` (itself, or a twin that calls it back). `d` counts
/// down, so every call ends.
fn random_recursion(rng: &mut Rng, callee: &str) -> String {
    let (cond, result) = (rng.expr(2), rng.expr(2));
    let (x, y) = (rng.expr(2), rng.expr(2));
    let calls = format!(
        "{x} local.get $b local.get $d i32.const 1 i32.sub call {callee}
         local.get $a {y} local.get $d i32.const 1 i32.sub call {callee}
         i32.xor local.get $a i32.add"
    );
    let body = match rng.below(3) {
        0 => format!(
            "block {cond} local.get $d i32.eqz i32.or br_if 0 {calls} return end {result}"
        ),
        1 => format!(
            "block {cond} i32.eqz local.get $d i32.const 0 i32.ne i32.and br_if 0 {result} return end {calls}"
        ),
        _ => format!(
            "{cond} local.get $d i32.eqz i32.or if (result i32) {result} else {calls} end"
        ),
    };
    format!(
        r#"(module
          (func $f (export "f") (param $a i32) (param $b i32) (param $d i32) (result i32) {body})
          (func $twin (param i32 i32 i32) (result i32)
            local.get 0 local.get 1 local.get 2 call $f))"#
    )
}

#[test]
fn random_base_cases_agree_with_the_unpeeled_calls() {
    let mut rng = Rng(0x5eed_ba5e_ca5e);
    let mut peeled = 0;
    for case in 0..150 {
        let seed = rng.0;
        let own = random_recursion(&mut rng, "$f");
        rng.0 = seed;
        let twin = random_recursion(&mut rng, "$twin");
        if brifs(&own, 0) > brifs(&twin, 0) {
            peeled += 1;
        }
        let (a, b) = (instance(&own), instance(&twin));
        for _ in 0..12 {
            let args = [
                I32(rng.below(64) as i32 - 32),
                I32(rng.below(1 << 20) as i32 - (1 << 19)),
                I32(rng.below(9) as i32),
            ];
            assert_eq!(
                call(&a, "f", &args).unwrap(),
                call(&b, "f", &args).unwrap(),
                "case {case} {args:?}:\n{own}"
            );
        }
    }
    assert!(peeled >= 120, "only {peeled} of 150 functions were peeled");
}
