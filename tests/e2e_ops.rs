//! End-to-end tests per instruction family: each `.wat` module is compiled to a native object,
//! loaded and called, with expected values at the edges.

mod common;

use common::{call, instance, trap_of};
use wasmaot::runtime::Val::{self, F32, F64, I32, I64};

fn f32v(x: f32) -> Val {
    F32(x.to_bits())
}
fn f64v(x: f64) -> Val {
    F64(x.to_bits())
}

/// Runs `(export, args, expected results)` rows against one module.
fn check(wat: &str, rows: &[(&str, Vec<Val>, Vec<Val>)]) {
    let inst = instance(wat);
    for (name, args, want) in rows {
        let got = call(&inst, name, args).unwrap_or_else(|e| panic!("{name}{args:?}: {e}"));
        assert_eq!(&got, want, "{name}{args:?}");
    }
}

/// Runs `(export, args, expected trap message)` rows.
fn check_traps(wat: &str, rows: &[(&str, Vec<Val>, &str)]) {
    let inst = instance(wat);
    for (name, args, want) in rows {
        assert_eq!(trap_of(call(&inst, name, args)), *want, "{name}{args:?}");
    }
}

const INT: &str = r#"(module
  (func (export "div_s") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "rem_s") (param i32 i32) (result i32) (i32.rem_s (local.get 0) (local.get 1)))
  (func (export "div_u64") (param i64 i64) (result i64) (i64.div_u (local.get 0) (local.get 1)))
  (func (export "rotl") (param i32 i32) (result i32) (i32.rotl (local.get 0) (local.get 1)))
  (func (export "shl") (param i32 i32) (result i32) (i32.shl (local.get 0) (local.get 1)))
  (func (export "shr_s64") (param i64 i64) (result i64) (i64.shr_s (local.get 0) (local.get 1)))
  (func (export "clz") (param i32) (result i32) (i32.clz (local.get 0)))
  (func (export "ctz64") (param i64) (result i64) (i64.ctz (local.get 0)))
  (func (export "popcnt") (param i32) (result i32) (i32.popcnt (local.get 0)))
  (func (export "lt_u") (param i32 i32) (result i32) (i32.lt_u (local.get 0) (local.get 1)))
  (func (export "eqz64") (param i64) (result i32) (i64.eqz (local.get 0)))
  (func (export "ext8") (param i32) (result i32) (i32.extend8_s (local.get 0)))
  (func (export "ext32_64") (param i64) (result i64) (i64.extend32_s (local.get 0)))
  (func (export "wrap") (param i64) (result i32) (i32.wrap_i64 (local.get 0)))
  (func (export "extend_u") (param i32) (result i64) (i64.extend_i32_u (local.get 0)))
)"#;

#[test]
fn integer_arithmetic_at_the_edges() {
    check(
        INT,
        &[
            ("div_s", vec![I32(-7), I32(2)], vec![I32(-3)]),
            ("rem_s", vec![I32(i32::MIN), I32(-1)], vec![I32(0)]),
            ("rem_s", vec![I32(-7), I32(2)], vec![I32(-1)]),
            ("div_u64", vec![I64(-1), I64(2)], vec![I64(i64::MAX)]),
            (
                "rotl",
                vec![I32(0x8000_0001u32 as i32), I32(33)],
                vec![I32(3)],
            ),
            ("shl", vec![I32(1), I32(33)], vec![I32(2)]),
            (
                "shr_s64",
                vec![I64(i64::MIN), I64(65)],
                vec![I64(i64::MIN >> 1)],
            ),
            ("clz", vec![I32(0)], vec![I32(32)]),
            ("ctz64", vec![I64(0)], vec![I64(64)]),
            ("popcnt", vec![I32(-1)], vec![I32(32)]),
            ("lt_u", vec![I32(-1), I32(1)], vec![I32(0)]),
            ("eqz64", vec![I64(0)], vec![I32(1)]),
            ("ext8", vec![I32(0x80)], vec![I32(-128)]),
            ("ext32_64", vec![I64(0x8000_0000)], vec![I64(-0x8000_0000)]),
            ("wrap", vec![I64(0x1_0000_0005)], vec![I32(5)]),
            ("extend_u", vec![I32(-1)], vec![I64(0xffff_ffff)]),
        ],
    );
    check_traps(
        INT,
        &[
            ("div_s", vec![I32(i32::MIN), I32(-1)], "integer overflow"),
            ("div_s", vec![I32(1), I32(0)], "integer divide by zero"),
            ("rem_s", vec![I32(1), I32(0)], "integer divide by zero"),
            ("div_u64", vec![I64(1), I64(0)], "integer divide by zero"),
        ],
    );
}

const FLOAT: &str = r#"(module
  (func (export "nearest32") (param f32) (result f32) (f32.nearest (local.get 0)))
  (func (export "nearest64") (param f64) (result f64) (f64.nearest (local.get 0)))
  (func (export "min32") (param f32 f32) (result f32) (f32.min (local.get 0) (local.get 1)))
  (func (export "max64") (param f64 f64) (result f64) (f64.max (local.get 0) (local.get 1)))
  (func (export "neg32") (param f32) (result f32) (f32.neg (local.get 0)))
  (func (export "abs64") (param f64) (result f64) (f64.abs (local.get 0)))
  (func (export "copysign") (param f32 f32) (result f32) (f32.copysign (local.get 0) (local.get 1)))
  (func (export "add32") (param f32 f32) (result f32) (f32.add (local.get 0) (local.get 1)))
  (func (export "sqrt64") (param f64) (result f64) (f64.sqrt (local.get 0)))
  (func (export "floor32") (param f32) (result f32) (f32.floor (local.get 0)))
  (func (export "trunc64") (param f64) (result f64) (f64.trunc (local.get 0)))
  (func (export "lt") (param f64 f64) (result i32) (f64.lt (local.get 0) (local.get 1)))
  (func (export "ne") (param f32 f32) (result i32) (f32.ne (local.get 0) (local.get 1)))
)"#;

#[test]
fn float_semantics_match_the_spec() {
    let nan_payload = F32(0x7fa0_0001);
    check(
        FLOAT,
        &[
            ("nearest32", vec![f32v(2.5)], vec![f32v(2.0)]),
            ("nearest32", vec![f32v(3.5)], vec![f32v(4.0)]),
            ("nearest32", vec![f32v(-0.5)], vec![f32v(-0.0)]),
            ("nearest64", vec![f64v(-2.5)], vec![f64v(-2.0)]),
            ("min32", vec![f32v(0.0), f32v(-0.0)], vec![f32v(-0.0)]),
            ("max64", vec![f64v(-0.0), f64v(0.0)], vec![f64v(0.0)]),
            // neg/abs/copysign only touch the sign bit: payloads are preserved.
            ("neg32", vec![nan_payload.clone()], vec![F32(0xffa0_0001)]),
            (
                "abs64",
                vec![F64(0xfff0_0000_0000_0001)],
                vec![F64(0x7ff0_0000_0000_0001)],
            ),
            ("copysign", vec![f32v(1.5), f32v(-0.0)], vec![f32v(-1.5)]),
            ("sqrt64", vec![f64v(2.25)], vec![f64v(1.5)]),
            ("floor32", vec![f32v(-1.5)], vec![f32v(-2.0)]),
            ("trunc64", vec![f64v(-1.9)], vec![f64v(-1.0)]),
            ("lt", vec![f64v(f64::NAN), f64v(1.0)], vec![I32(0)]),
            ("ne", vec![f32v(f32::NAN), f32v(f32::NAN)], vec![I32(1)]),
        ],
    );
    // min/max/add with a NaN operand give a NaN (arithmetic NaN: quiet bit set).
    let inst = instance(FLOAT);
    for name in ["min32", "add32"] {
        let r = call(&inst, name, &[nan_payload.clone(), f32v(1.0)]).unwrap();
        let F32(bits) = r[0] else { panic!() };
        assert_eq!(bits & 0x7fc0_0000, 0x7fc0_0000, "{name} gives a quiet NaN");
    }
}

const CONV: &str = r#"(module
  (func (export "trunc_s") (param f32) (result i32) (i32.trunc_f32_s (local.get 0)))
  (func (export "trunc_u64") (param f64) (result i64) (i64.trunc_f64_u (local.get 0)))
  (func (export "sat_s64") (param f64) (result i64) (i64.trunc_sat_f64_s (local.get 0)))
  (func (export "sat_u32") (param f32) (result i32) (i32.trunc_sat_f32_u (local.get 0)))
  (func (export "conv_u") (param i64) (result f32) (f32.convert_i64_u (local.get 0)))
  (func (export "demote") (param f64) (result f32) (f32.demote_f64 (local.get 0)))
  (func (export "reinterpret") (param f32) (result i32) (i32.reinterpret_f32 (local.get 0)))
)"#;

#[test]
fn conversions_trap_or_saturate() {
    check(
        CONV,
        &[
            ("trunc_s", vec![f32v(-1.9)], vec![I32(-1)]),
            (
                "trunc_u64",
                vec![f64v(1e19)],
                vec![I64(10_000_000_000_000_000_000u64 as i64)],
            ),
            ("sat_s64", vec![f64v(f64::NAN)], vec![I64(0)]),
            ("sat_s64", vec![f64v(f64::INFINITY)], vec![I64(i64::MAX)]),
            (
                "sat_s64",
                vec![f64v(f64::NEG_INFINITY)],
                vec![I64(i64::MIN)],
            ),
            ("sat_u32", vec![f32v(-5.0)], vec![I32(0)]),
            ("sat_u32", vec![f32v(1e10)], vec![I32(-1)]),
            ("conv_u", vec![I64(-1)], vec![f32v(18446744073709551616.0)]),
            ("demote", vec![f64v(1e300)], vec![f32v(f32::INFINITY)]),
            ("reinterpret", vec![f32v(-0.0)], vec![I32(i32::MIN)]),
        ],
    );
    check_traps(
        CONV,
        &[
            (
                "trunc_s",
                vec![f32v(f32::NAN)],
                "invalid conversion to integer",
            ),
            ("trunc_s", vec![f32v(3e9)], "integer overflow"),
            ("trunc_u64", vec![f64v(-1.0)], "integer overflow"),
        ],
    );
}

const CONTROL: &str = r#"(module
  (type $ii (func (param i32) (result i32)))
  (table 3 funcref)
  (elem (i32.const 0) $double $square)
  (func $double (type $ii) (i32.mul (local.get 0) (i32.const 2)))
  (func $square (type $ii) (i32.mul (local.get 0) (local.get 0)))
  (func $pair (param i32) (result i32 i64) (local.get 0) (i64.extend_i32_s (local.get 0)))
  (func (export "indirect") (param i32 i32) (result i32)
    (call_indirect (type $ii) (local.get 1) (local.get 0)))
  (func (export "bad_sig") (result i32)
    (call_indirect (param i32 i32) (result i32) (i32.const 1) (i32.const 2) (i32.const 0)))
  (func (export "switch") (param i32) (result i32)
    (block $c (block $b (block $a
      (br_table $a $b $c (local.get 0)))
      (return (i32.const 10)))
      (return (i32.const 20)))
    (i32.const 30))
  (func (export "multi") (param i32) (result i64) (local $t i64)
    (call $pair (local.get 0))
    (block (param i64) (result i64) (i64.add (i64.const 1)))
    (local.set $t) (drop) (local.get $t))
  (func (export "loop_sum") (param i32) (result i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (local.get 0)))
      (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))
      (br_if $l))
    (local.get $acc))
  (func $fac (export "fac") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0)) (then (i64.const 1))
      (else (i64.mul (local.get 0) (call $fac (i64.sub (local.get 0) (i64.const 1)))))))
  (func $count (param i64 i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0)) (then (local.get 1))
      (else (return_call $count (i64.sub (local.get 0) (i64.const 1))
                                (i64.add (local.get 1) (i64.const 1))))))
  (func (export "tail") (param i64) (result i64) (call $count (local.get 0) (i64.const 0)))
  (func $inf (export "infinite") (result i32) (i32.add (call $inf) (i32.const 1)))
  (func (export "unreachable") (unreachable))
  (func (export "select") (param i32) (result f64) (select (f64.const 1) (f64.const 2) (local.get 0)))
)"#;

#[test]
fn control_flow_calls_and_tail_calls() {
    check(
        CONTROL,
        &[
            ("indirect", vec![I32(0), I32(21)], vec![I32(42)]),
            ("indirect", vec![I32(1), I32(9)], vec![I32(81)]),
            ("switch", vec![I32(0)], vec![I32(10)]),
            ("switch", vec![I32(1)], vec![I32(20)]),
            ("switch", vec![I32(99)], vec![I32(30)]),
            ("multi", vec![I32(-5)], vec![I64(-4)]),
            ("loop_sum", vec![I32(100)], vec![I32(5050)]),
            ("fac", vec![I64(20)], vec![I64(2_432_902_008_176_640_000)]),
            // A million tail calls run in constant stack space.
            ("tail", vec![I64(1_000_000)], vec![I64(1_000_000)]),
            ("select", vec![I32(0)], vec![f64v(2.0)]),
        ],
    );
    check_traps(
        CONTROL,
        &[
            ("indirect", vec![I32(2), I32(1)], "uninitialized element"),
            ("indirect", vec![I32(3), I32(1)], "undefined element"),
            ("bad_sig", vec![], "indirect call type mismatch"),
            ("unreachable", vec![], "unreachable"),
            ("infinite", vec![], "call stack exhausted"),
        ],
    );
}

const MEMORY: &str = r#"(module
  (memory (export "mem") 1 3)
  (data (i32.const 0) "x\e1\bb\8bn x\c3\b2")
  (data $p "hello")
  (func (export "load8_s") (param i32) (result i32) (i32.load8_s (local.get 0)))
  (func (export "load64") (param i32) (result i64) (i64.load (local.get 0)))
  (func (export "store16") (param i32 i32) (i32.store16 offset=2 (local.get 0) (local.get 1)))
  (func (export "load_far") (param i32) (result i32) (i32.load offset=0xffffffff (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init") (param i32 i32 i32) (memory.init $p (local.get 0) (local.get 1) (local.get 2)))
  (func (export "drop") (data.drop $p))
)"#;

#[test]
fn memory_access_bulk_ops_and_grow() {
    let inst = instance(MEMORY);
    let mem = inst.get_memory("mem").unwrap();
    let mut utf8 = [0u8; 9];
    assert!(mem.read(0, &mut utf8));
    assert_eq!(std::str::from_utf8(&utf8).unwrap(), "xịn xò");
    let c = |n: &str, a: &[Val]| call(&inst, n, a);
    assert_eq!(
        c("load8_s", &[I32(1)]).unwrap(),
        vec![I32(0xe1u8 as i8 as i32)]
    );
    c("store16", &[I32(100), I32(0x1234)]).unwrap();
    assert_eq!(c("load64", &[I32(100)]).unwrap(), vec![I64(0x1234_0000)]);
    // Last valid byte vs. first invalid byte, and an 8-byte access straddling the end.
    assert_eq!(c("load8_s", &[I32(65535)]).unwrap(), vec![I32(0)]);
    assert_eq!(
        trap_of(c("load8_s", &[I32(65536)])),
        "out of bounds memory access"
    );
    assert_eq!(
        trap_of(c("load64", &[I32(65532)])),
        "out of bounds memory access"
    );
    assert_eq!(
        trap_of(c("load_far", &[I32(-1)])),
        "out of bounds memory access"
    );
    // Growth: the new page is usable, the old size is returned, the maximum is enforced.
    assert_eq!(c("grow", &[I32(1)]).unwrap(), vec![I32(1)]);
    assert_eq!(c("load8_s", &[I32(65536)]).unwrap(), vec![I32(0)]);
    assert_eq!(c("size", &[]).unwrap(), vec![I32(2)]);
    assert_eq!(c("grow", &[I32(2)]).unwrap(), vec![I32(-1)]);
    assert_eq!(c("grow", &[I32(0)]).unwrap(), vec![I32(2)]);
    // Bulk memory.
    c("fill", &[I32(200), I32(0xab), I32(4)]).unwrap();
    c("copy", &[I32(300), I32(200), I32(4)]).unwrap();
    assert_eq!(c("load64", &[I32(300)]).unwrap(), vec![I64(0xabab_abab)]);
    c("init", &[I32(400), I32(1), I32(4)]).unwrap();
    let mut b = [0u8; 4];
    mem.read(400, &mut b);
    assert_eq!(&b, b"ello");
    assert_eq!(
        trap_of(c("fill", &[I32(131070), I32(0), I32(3)])),
        "out of bounds memory access"
    );
    c("drop", &[]).unwrap();
    assert_eq!(
        trap_of(c("init", &[I32(0), I32(0), I32(1)])),
        "out of bounds memory access"
    );
}

const REFS: &str = r#"(module
  (table $t (export "t") 2 10 funcref)
  (table $e 2 externref)
  (global $g (export "g") (mut i32) (i32.const 5))
  (global $start (mut i32) (i32.const 0))
  (func $f (result i32) (i32.const 7))
  (elem declare func $f)
  (func (export "is_null") (param externref) (result i32) (ref.is_null (local.get 0)))
  (func (export "ext_roundtrip") (param externref) (result externref)
    (table.set $e (i32.const 1) (local.get 0)) (table.get $e (i32.const 1)))
  (func (export "grow") (param i32) (result i32) (table.grow $t (ref.func $f) (local.get 0)))
  (func (export "size") (result i32) (table.size $t))
  (func (export "call_slot") (param i32) (result i32) (call_indirect $t (result i32) (local.get 0)))
  (func (export "get_oob") (result funcref) (table.get $t (i32.const 99)))
  (func (export "bump") (result i32)
    (global.set $g (i32.add (global.get $g) (i32.const 1))) (global.get $g))
  (func (export "started") (result i32) (global.get $start))
  (func $init (global.set $start (i32.const 1)))
  (start $init)
)"#;

#[test]
fn references_tables_globals_and_start() {
    let inst = instance(REFS);
    let c = |n: &str, a: &[Val]| call(&inst, n, a);
    assert_eq!(
        c("started", &[]).unwrap(),
        vec![I32(1)],
        "start function ran"
    );
    assert_eq!(c("is_null", &[Val::ExternRef(None)]).unwrap(), vec![I32(1)]);
    assert_eq!(
        c("is_null", &[Val::ExternRef(Some(0))]).unwrap(),
        vec![I32(0)]
    );
    assert_eq!(
        c("ext_roundtrip", &[Val::ExternRef(Some(42))]).unwrap(),
        vec![Val::ExternRef(Some(42))]
    );
    assert_eq!(c("grow", &[I32(3)]).unwrap(), vec![I32(2)]);
    assert_eq!(c("size", &[]).unwrap(), vec![I32(5)]);
    assert_eq!(c("call_slot", &[I32(4)]).unwrap(), vec![I32(7)]);
    assert_eq!(trap_of(c("call_slot", &[I32(0)])), "uninitialized element");
    assert_eq!(trap_of(c("get_oob", &[])), "out of bounds table access");
    assert_eq!(c("grow", &[I32(100)]).unwrap(), vec![I32(-1)]);
    assert_eq!(c("bump", &[]).unwrap(), vec![I32(6)]);
    assert_eq!(
        inst.get_global("g").unwrap().get(),
        I32(6),
        "exported global is shared"
    );
}
