//! The compiler never panics: thousands of mutated modules (bit flips, truncations, inserted
//! bytes) must each compile or fail with an error, deterministically.

use std::panic::{catch_unwind, AssertUnwindSafe};

/// Small valid modules covering most sections and operator families.
const SEEDS: &[&str] = &[
    include_str!("../examples/sum/sum.wat"),
    include_str!("../examples/accumulate/accumulate.wat"),
    r#"(module (type $t (func (param i32) (result i32)))
        (table 2 funcref) (elem (i32.const 0) $f $f)
        (global $g (mut i64) (i64.const 5)) (memory 1 2) (data (i32.const 8) "abc")
        (func $f (type $t) (local f64)
          (block (result i32) (loop (br_if 1 (i32.const 1) (local.get 0)) (br 0)))
          (call_indirect (type $t) (i32.const 0))
          (i64.store offset=4 (i32.const 0) (global.get $g))
          (f64.convert_i32_s) (local.set 1) (i32.trunc_sat_f64_s (local.get 1))
          (memory.fill (i32.const 0) (i32.const 1) (i32.const 2))
          (v128.const i32x4 1 2 3 4) (i32x4.extract_lane 2) (i32.add))
        (export "f" (func $f)) (start 1) (func))"#,
];

/// A small deterministic generator (xorshift).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn mutated_modules_never_panic_the_compiler() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let opts = wasmaot::CompileOptions {
        name: "m".into(),
        threads: 1,
        ..Default::default()
    };
    let (mut ok, mut err) = (0, 0);
    for seed in SEEDS {
        let wasm = wat::parse_str(seed).expect("seed assembles");
        for _ in 0..700 {
            let mut m = wasm.clone();
            for _ in 0..1 + rng.below(3) {
                let i = rng.below(m.len());
                match rng.below(4) {
                    0 => m[i] ^= 1 << rng.below(8),
                    1 => m[i] = rng.next() as u8,
                    2 => m.truncate(i.max(8)),
                    _ => m.insert(i, rng.next() as u8),
                }
            }
            let r = catch_unwind(AssertUnwindSafe(|| wasmaot::compile(&m, &opts)));
            match r {
                Ok(Ok(_)) => ok += 1,
                Ok(Err(_)) => err += 1,
                Err(_) => panic!("compiler panicked on mutated module {m:02x?}"),
            }
        }
    }
    // Both outcomes occur, so the mutations reach past the validator.
    eprintln!("{ok} compiled, {err} rejected");
    assert!(ok > 100 && err > 100, "ok {ok}, err {err}");
}
