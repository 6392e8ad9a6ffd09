//! Frozen tables (compiler/src/frozen_tables.rs): `call_indirect` through a table nothing can
//! change uses a dispatch array in the object instead of the table. Which tables qualify is
//! read from the generated code; what the calls do (results, every trap kind, tail calls,
//! exceptions, several instances) is checked by running them.

mod common;

use common::{call, instance, module, trap_of};
use wasmaot::runtime::Val::I32;
use wasmaot::runtime::{Linker, Val};
use wasmaot::CompileOptions;

/// Whether function `f`'s `call_indirect` went through a dispatch array (a `symbol_value`)
/// rather than the table in the instance context.
fn frozen_call(wat: &str, f: u32) -> bool {
    let mut opts = CompileOptions::default();
    // For table initialiser expressions (the one case that needs it).
    opts.features |= wasmparser::WasmFeatures::FUNCTION_REFERENCES;
    let d =
        wasmaot::debug::dump_function(wat.as_bytes(), f, &opts).unwrap_or_else(|e| panic!("{e}"));
    d.clif.contains("symbol_value")
}

/// A module whose table 0 is frozen unless `extra` (spliced in) says otherwise; imports in
/// `extra` are moved to the front, as the text format wants. The caller is the first defined
/// function.
fn variant(extra: &str) -> String {
    let (imports, rest) = match extra.rfind("(import ") {
        Some(i) => {
            let mut depth = 0;
            let len = extra[i..]
                .char_indices()
                .find_map(|(k, ch)| {
                    depth += match ch {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    (depth == 0).then_some(k + 1)
                })
                .expect("import closes");
            extra.split_at(i + len)
        }
        None => ("", extra),
    };
    format!(
        r#"(module
          (type $ii (func (param i32) (result i32)))
          {imports}
          (func $caller (export "call") (param i32 i32) (result i32)
            (call_indirect (type $ii) (local.get 1) (local.get 0)))
          (func $double (type $ii) (i32.mul (local.get 0) (i32.const 2)))
          (func $square (type $ii) (i32.mul (local.get 0) (local.get 0)))
          {rest})"#
    )
}

#[test]
fn only_tables_nothing_can_change_are_frozen() {
    let base = r#"(table $t 4 funcref) (elem (table $t) (i32.const 1) func $double $square)"#;
    assert!(
        frozen_call(&variant(base), 0),
        "unexported, constant segments"
    );
    assert!(
        frozen_call(&variant("(table $t 4 funcref)"), 0),
        "no segment at all: every slot null"
    );
    assert!(
        frozen_call(&variant("(table $t 4 funcref (ref.null func))"), 0),
        "a null initial value"
    );
    let generic = [
        ("exported", "(table $t (export \"t\") 4 funcref) (elem (i32.const 1) func $double)"),
        (
            "imported",
            "(import \"m\" \"t\" (table $t 4 funcref)) (elem (i32.const 1) func $double)",
        ),
        (
            "table.set",
            "(table $t 4 funcref) (func (table.set $t (i32.const 0) (ref.null func)))",
        ),
        (
            "table.grow",
            "(table $t 4 funcref) (func (drop (table.grow $t (ref.null func) (i32.const 1))))",
        ),
        (
            "table.fill",
            "(table $t 4 funcref) (func (table.fill $t (i32.const 0) (ref.null func) (i32.const 1)))",
        ),
        (
            "table.copy into it",
            "(table $t 4 funcref) (table $u 4 funcref)
             (func (table.copy $t $u (i32.const 0) (i32.const 0) (i32.const 1)))",
        ),
        (
            "table.init",
            "(table $t 4 funcref) (elem $e func $double)
             (func (table.init $t $e (i32.const 0) (i32.const 0) (i32.const 1)))",
        ),
        (
            "an imported function in a segment",
            "(import \"m\" \"f\" (func $imp (type $ii))) (table $t 4 funcref)
             (elem (i32.const 0) func $imp)",
        ),
        (
            "a segment at a global's offset",
            "(import \"m\" \"g\" (global $g i32)) (table $t 4 funcref)
             (elem (global.get $g) func $double)",
        ),
        (
            "a segment past the end (instantiation traps)",
            "(table $t 1 funcref) (elem (i32.const 1) func $double)",
        ),
        (
            "a non-null initial value",
            "(table $t 4 funcref (ref.func $double))",
        ),
    ];
    for (why, extra) in generic {
        // Imports come first in the index space: the caller moves up by one.
        let f = u32::from(extra.contains("(import \"m\" \"f\""));
        assert!(!frozen_call(&variant(extra), f), "{why}: must stay generic");
    }
    // Reading it (table.get, table.size, table.copy out of it) changes nothing.
    let reads =
        "(table $t 4 funcref) (table $u 4 funcref) (elem (table $t) (i32.const 0) func $double)
        (func (drop (table.get $t (i32.const 0))) (drop (table.size $t))
              (table.copy $u $t (i32.const 0) (i32.const 0) (i32.const 1)))";
    assert!(frozen_call(&variant(reads), 0), "reads keep it frozen");
}

#[test]
fn a_table_of_one_type_checks_only_for_null() {
    let wat = variant("(table $t 4 funcref) (elem (table $t) (i32.const 1) func $double $square)");
    let d = wasmaot::debug::dump_function(wat.as_bytes(), 0, &CompileOptions::default()).unwrap();
    assert!(d.clif.contains("trapz"), "null slots trap: {}", d.clif);
    assert!(!d.clif.contains("load.i32"), "no class load: {}", d.clif);
    let wat = variant(
        "(table $t 4 funcref) (elem (table $t) (i32.const 1) func $double $square $caller)",
    );
    let d = wasmaot::debug::dump_function(wat.as_bytes(), 0, &CompileOptions::default()).unwrap();
    assert!(
        d.clif.contains("load.i32"),
        "mixed types compare a class: {}",
        d.clif
    );
}

const MIXED: &str = r#"(module
  (type $ii (func (param i32) (result i32)))
  (type $same (func (param i32) (result i32)))
  (type $v (func (result i32)))
  (table $t 6 funcref)
  (elem (table $t) (i32.const 0) func $double $square $seven)
  (elem (table $t) (i32.const 2) func $plus1)  ;; overwrites $seven: later segments win
  (elem (table $t) (i32.const 4) funcref (ref.null func) (ref.func $seven))
  (func $double (type $ii) (i32.mul (local.get 0) (i32.const 2)))
  (func $square (type $same) (i32.mul (local.get 0) (local.get 0)))
  (func $plus1 (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func $seven (type $v) (i32.const 7))
  (func (export "ii") (param i32 i32) (result i32)
    (call_indirect $t (type $ii) (local.get 1) (local.get 0)))
  (func (export "v") (param i32) (result i32) (call_indirect $t (type $v) (local.get 0)))
  (func (export "tail") (param i32 i32) (result i32)
    (return_call_indirect $t (type $ii) (local.get 1) (local.get 0)))
  (func (export "is_null") (param i32) (result i32) (ref.is_null (table.get $t (local.get 0))))
)"#;

#[test]
fn calls_through_a_frozen_table_behave_as_through_the_table() {
    let inst = instance(MIXED);
    let c = |n: &str, a: &[Val]| call(&inst, n, a);
    assert_eq!(c("ii", &[I32(0), I32(5)]).unwrap(), vec![I32(10)]);
    // Structurally equal types match whatever their index.
    assert_eq!(c("ii", &[I32(1), I32(5)]).unwrap(), vec![I32(25)]);
    assert_eq!(c("ii", &[I32(2), I32(5)]).unwrap(), vec![I32(6)]);
    assert_eq!(c("tail", &[I32(2), I32(9)]).unwrap(), vec![I32(10)]);
    assert_eq!(c("v", &[I32(5)]).unwrap(), vec![I32(7)]);
    for (f, a, want) in [
        ("ii", [I32(5), I32(1)], "indirect call type mismatch"),
        ("ii", [I32(3), I32(1)], "uninitialized element"),
        ("ii", [I32(4), I32(1)], "uninitialized element"),
        ("ii", [I32(6), I32(1)], "undefined element"),
        ("ii", [I32(-1), I32(1)], "undefined element"),
        ("tail", [I32(5), I32(1)], "indirect call type mismatch"),
        ("tail", [I32(3), I32(1)], "uninitialized element"),
        ("tail", [I32(6), I32(1)], "undefined element"),
    ] {
        assert_eq!(trap_of(c(f, &a)), want, "{f}{a:?}");
    }
    assert_eq!(trap_of(c("v", &[I32(0)])), "indirect call type mismatch");
    assert_eq!(trap_of(c("v", &[I32(4)])), "uninitialized element");
    // The instance's own table agrees with the dispatch array.
    let nulls: Vec<_> = (0..6)
        .map(|i| c("is_null", &[I32(i)]).unwrap()[0].clone())
        .collect();
    assert_eq!(nulls, [0, 0, 0, 1, 1, 0].map(I32));
    // The instance keeps working after its traps.
    assert_eq!(c("ii", &[I32(0), I32(21)]).unwrap(), vec![I32(42)]);
}

#[test]
fn each_instance_calls_its_own_functions() {
    let wat = r#"(module
      (type $v (func (result i32)))
      (global $g (mut i32) (i32.const 0))
      (table 2 funcref)
      (elem (i32.const 0) func $get $bump)
      (func $get (type $v) (global.get $g))
      (func $bump (type $v) (global.set $g (i32.add (global.get $g) (i32.const 1))) (global.get $g))
      (func (export "call") (param i32) (result i32) (call_indirect (type $v) (local.get 0))))"#;
    let m = module(wat);
    let a = Linker::new().instantiate(&m).unwrap();
    let b = Linker::new().instantiate(&m).unwrap();
    for _ in 0..3 {
        call(&a, "call", &[I32(1)]).unwrap();
    }
    call(&b, "call", &[I32(1)]).unwrap();
    assert_eq!(call(&a, "call", &[I32(0)]).unwrap(), vec![I32(3)]);
    assert_eq!(call(&b, "call", &[I32(0)]).unwrap(), vec![I32(1)]);
}

#[test]
fn exceptions_cross_a_frozen_call() {
    let wat = r#"(module
      (tag $e (param i32))
      (type $ii (func (param i32) (result i32)))
      (table 1 funcref)
      (elem (i32.const 0) func $thrower)
      (func $thrower (type $ii) (throw $e (i32.add (local.get 0) (i32.const 100))))
      (func (export "catch") (param i32) (result i32)
        (block $h (result i32)
          (try_table (result i32) (catch $e $h)
            (call_indirect (type $ii) (local.get 0) (i32.const 0))))))"#;
    assert!(frozen_call(wat, 1));
    let inst = instance(wat);
    assert_eq!(call(&inst, "catch", &[I32(5)]).unwrap(), vec![I32(105)]);
}
