//! Exception handling end to end: `throw`/`throw_ref`/`try_table` compiled to native code,
//! unwinding through many frames and across instances, uncaught exceptions reported to the
//! host with their payload, and the host boundary.

mod common;

use common::{call, instance, module_named};
use wasmaot::runtime::{Error, Extern, Func, FuncType, Linker, TrapKind, Val, ValType};

fn uncaught(r: Result<Vec<Val>, Error>) -> wasmaot::runtime::Exception {
    match r {
        Err(Error::Trap(t)) if t.kind == TrapKind::UncaughtException => t
            .exception
            .expect("an uncaught-exception trap carries the exception"),
        other => panic!("expected an uncaught exception, got {other:?}"),
    }
}

const DEEP: &str = r#"(module
  (tag $e (export "e") (param i32 i64 f64 v128))
  (tag $other (param i32))
  ;; Recurses n frames deep, then throws $e with a payload derived from n0.
  (func $down (param $n i32) (param $n0 i32)
    (if (i32.eqz (local.get $n))
      (then
        (throw $e (local.get $n0)
                  (i64.mul (i64.extend_i32_u (local.get $n0)) (i64.const 1000000007))
                  (f64.convert_i32_s (local.get $n0))
                  (v128.const i32x4 1 2 3 4))))
    (call $down (i32.sub (local.get $n) (i32.const 1)) (local.get $n0)))
  (func (export "deep") (param $n i32) (result i32 i64 f64 i32)
    (local $v v128)
    (block $h (result i32 i64 f64 v128)
      (try_table (catch $e $h)
        (call $down (local.get $n) (local.get $n)))
      (return (i32.const -1) (i64.const -1) (f64.const -1) (i32.const -1)))
    (local.set $v)
    (i32x4.extract_lane 3 (local.get $v)))
  ;; The inner try_table only catches $other: $e goes to the outer one.
  (func (export "nested") (result i32)
    (block $outer (result i32 i64 f64 v128)
      (block $inner (result i32)
        (try_table (catch $e $outer)
          (try_table (catch $other $inner)
            (call $down (i32.const 5) (i32.const 1))))
        (return (i32.const 0)))
      (return (i32.const 1)))
    (drop) (drop) (drop) (drop)
    (i32.const 2))
  ;; An inner catch_all wins over an outer tag handler.
  (func (export "inner_catch_all") (result i32)
    (block $outer
      (block $inner
        (try_table (catch_all $outer)
          (try_table (catch_all $inner)
            (call $down (i32.const 3) (i32.const 1))))
        (return (i32.const 0)))
      (return (i32.const 1)))
    (i32.const 2))
  ;; catch_ref, then rethrow the same exception from another frame with throw_ref.
  (func $rethrow (param exnref) (throw_ref (local.get 0)))
  (func (export "rethrow") (param $n i32) (result i32)
    (block $h2 (result i32 i64 f64 v128)
      (try_table (catch $e $h2)
        (block $h1 (result i32 i64 f64 v128 exnref)
          (try_table (catch_ref $e $h1)
            (call $down (local.get $n) (i32.const 77)))
          (unreachable))
        (call $rethrow)
        (drop) (drop) (drop) (drop))
      (unreachable))
    (drop) (drop) (drop))
  (func (export "uncaught") (param i32) (call $down (local.get 0) (i32.const 9)))
  (func (export "throw_null") (throw_ref (ref.null exn)))
  ;; Many throws, each caught one frame up.
  (func (export "loop") (param $n i32) (result i32)
    (local $sum i32)
    (loop $l
      (block $h (result i32 i64 f64 v128)
        (try_table (catch $e $h)
          (call $down (i32.const 2) (local.get $n)))
        (unreachable))
      (drop) (drop) (drop)
      (local.set $sum (i32.add (local.get $sum)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $sum))
)"#;

#[test]
fn payload_survives_deep_unwinding() {
    let inst = instance(DEEP);
    for n in [0, 1, 2, 10, 1000] {
        let got = call(&inst, "deep", &[Val::I32(n)]).unwrap();
        assert_eq!(
            got,
            vec![
                Val::I32(n),
                Val::I64(n as i64 * 1_000_000_007),
                Val::F64((n as f64).to_bits()),
                Val::I32(4)
            ],
            "depth {n}"
        );
    }
}

#[test]
fn handlers_are_tried_innermost_first() {
    let inst = instance(DEEP);
    assert_eq!(call(&inst, "nested", &[]).unwrap(), vec![Val::I32(2)]);
    assert_eq!(
        call(&inst, "inner_catch_all", &[]).unwrap(),
        vec![Val::I32(1)]
    );
}

#[test]
fn throw_ref_rethrows_the_same_exception() {
    let inst = instance(DEEP);
    assert_eq!(
        call(&inst, "rethrow", &[Val::I32(4)]).unwrap(),
        vec![Val::I32(77)]
    );
}

#[test]
fn uncaught_exception_reaches_the_host_with_its_payload() {
    let inst = instance(DEEP);
    let exc = uncaught(call(&inst, "uncaught", &[Val::I32(20)]));
    let Some(Extern::Tag(e)) = inst.get_export("e") else {
        panic!("tag export")
    };
    assert_eq!(exc.exn.tag(), &e);
    let vals = exc.exn.values();
    assert_eq!(vals[0], Val::I32(9));
    assert_eq!(
        vals[3],
        Val::V128(4u128 << 96 | 3u128 << 64 | 2u128 << 32 | 1)
    );
    // The instance keeps working after an exception escaped it.
    assert_eq!(call(&inst, "deep", &[Val::I32(3)]).unwrap()[0], Val::I32(3));
    match call(&inst, "throw_null", &[]) {
        Err(Error::Trap(t)) => assert_eq!(t.kind, TrapKind::NullReference),
        other => panic!("expected a null-reference trap, got {other:?}"),
    }
}

#[test]
fn many_throws_in_a_loop() {
    let inst = instance(DEEP);
    let n = 20_000;
    let got = call(&inst, "loop", &[Val::I32(n)]).unwrap();
    assert_eq!(got, vec![Val::I32(n * (n + 1) / 2)]);
}

const THROWER: &str = r#"(module
  (tag $e (export "e") (param i32))
  (func (export "throw") (param i32) (throw $e (local.get 0))))"#;

const CATCHER: &str = r#"(module
  (tag $imported (import "a" "e") (param i32))
  (tag $own (param i32))
  (func $throw (import "a" "throw") (param i32))
  (func (export "catch_imported") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $imported $h) (call $throw (local.get 0)))
      (i32.const -1)))
  ;; A tag of the same type defined here is a different tag.
  (func (export "catch_own") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $own $h) (call $throw (local.get 0)))
      (i32.const -1))))"#;

#[test]
fn exceptions_cross_instances_and_tags_have_identity() {
    let a = Linker::new()
        .instantiate(&module_named(THROWER, "a"))
        .unwrap();
    let mut linker = Linker::new();
    linker.instance("a", &a);
    let b = linker.instantiate(&module_named(CATCHER, "b")).unwrap();
    assert_eq!(
        call(&b, "catch_imported", &[Val::I32(5)]).unwrap(),
        vec![Val::I32(5)]
    );
    let exc = uncaught(call(&b, "catch_own", &[Val::I32(6)]));
    assert_eq!(exc.exn.values(), vec![Val::I32(6)]);
}

#[test]
fn a_tag_import_of_the_wrong_type_is_a_link_error() {
    let a = Linker::new()
        .instantiate(&module_named(THROWER, "a"))
        .unwrap();
    let mut linker = Linker::new();
    linker.instance("a", &a);
    let m = module_named(r#"(module (tag (import "a" "e") (param i64)))"#, "c");
    match linker.instantiate(&m) {
        Err(Error::Link(msg)) => assert!(msg.contains("tag"), "{msg}"),
        other => panic!("expected a link error, got {other:?}"),
    }
}

#[test]
fn exceptions_do_not_cross_host_frames() {
    // Wasm → host → Wasm: the inner call's exception is uncaught at the host boundary; the
    // host turns it into a trap, which the outer try_table does not catch.
    let thrower = Linker::new()
        .instantiate(&module_named(THROWER, "a"))
        .unwrap();
    let inner = thrower.get_func("throw").unwrap();
    let ty = FuncType {
        params: vec![ValType::I32],
        results: vec![],
    };
    let host = Func::host(ty, move |_, args| match inner.call(args) {
        Ok(_) => Ok(vec![]),
        Err(Error::Trap(t)) => Err(t),
        Err(e) => Err(wasmaot::runtime::Trap::host(e.to_string())),
    });
    let mut linker = Linker::new();
    linker.define("h", "call", host);
    let outer = linker
        .instantiate(&module_named(
            r#"(module
              (func $h (import "h" "call") (param i32))
              (func (export "run") (result i32)
                (block $h (try_table (catch_all $h) (call $h (i32.const 1))) (return (i32.const 0)))
                (i32.const 1)))"#,
            "outer",
        ))
        .unwrap();
    let exc = uncaught(call(&outer, "run", &[]));
    assert_eq!(exc.exn.values(), vec![Val::I32(1)]);
}

#[test]
fn handlers_see_memory_grown_before_the_throw() {
    // Memory64 accesses cache the memory length; a handler must reload it.
    let inst = instance(
        r#"(module
          (memory i64 1)
          (tag $e)
          (func $grow_and_throw (drop (memory.grow (i64.const 2))) (throw $e))
          (func (export "run") (result i32)
            (block $h (try_table (catch $e $h) (call $grow_and_throw)))
            (i64.store (i64.const 0x2fff8) (i64.const 42))
            (i32.wrap_i64 (i64.load (i64.const 0x2fff8)))))"#,
    );
    assert_eq!(call(&inst, "run", &[]).unwrap(), vec![Val::I32(42)]);
}

#[test]
fn legacy_exception_handling_is_rejected() {
    // (module (tag) (func try end)): the legacy encoding (opcode 0x06), written as bytes
    // because the text parser only knows the standard one.
    let wasm: &[u8] = &[
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // header
        0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type: () -> ()
        0x03, 0x02, 0x01, 0x00, // function 0: type 0
        0x0d, 0x03, 0x01, 0x00, 0x00, // tag 0: type 0
        0x0a, 0x07, 0x01, 0x05, 0x00, 0x06, 0x40, 0x0b, 0x0b, // code: try end end
    ];
    // By default the validator does not accept it at all...
    let err = wasmaot::compile(wasm, &wasmaot::CompileOptions::default())
        .err()
        .expect("legacy try is rejected");
    assert!(
        err.to_string()
            .contains("legacy_exceptions feature required"),
        "{err}"
    );
    // ...and with the legacy feature enabled (as the spec runner does) it is unsupported.
    let opts = wasmaot::CompileOptions {
        features: wasmaot::supported_features() | wasmparser::WasmFeatures::LEGACY_EXCEPTIONS,
        ..Default::default()
    };
    let err = wasmaot::compile(wasm, &opts)
        .err()
        .expect("legacy try is unsupported");
    assert!(
        err.to_string()
            .contains("unsupported: exceptions (legacy try/catch"),
        "{err}"
    );
}

#[test]
fn unreachable_exception_objects_are_freed_and_reachable_ones_kept() {
    let inst = instance(
        r#"(module
          (tag $e (param i32))
          (tag $wrap (param exnref))
          (global $g (mut exnref) (ref.null exn))
          (func $throw (param i32) (throw $e (local.get 0)))
          ;; Throws $e(n) and returns the caught exnref.
          (func $catch (param i32) (result exnref)
            (local $x exnref)
            (block $h (result i32 exnref)
              (try_table (catch_ref $e $h) (call $throw (local.get 0)))
              (unreachable))
            (local.set $x) (drop) (local.get $x))
          ;; An exception whose payload is another exception.
          (func $wrap (param exnref) (result exnref)
            (block $h (result exnref)
              (try_table (catch_all_ref $h) (throw $wrap (local.get 0)))
              (unreachable)))
          (func $unwrap (param exnref) (result exnref)
            (block $h (result exnref)
              (try_table (catch $wrap $h) (throw_ref (local.get 0)))
              (unreachable)))
          (func $payload (param exnref) (result i32)
            (block $h (result i32)
              (try_table (catch $e $h) (throw_ref (local.get 0)))
              (unreachable)))
          (func (export "churn") (param $n i32) (result i32)
            (local $keep exnref) (local $wrapped exnref)
            (local.set $keep (call $catch (i32.const 100)))
            (local.set $wrapped (call $wrap (call $catch (i32.const 20))))
            (global.set $g (call $catch (i32.const 3)))
            (loop $l
              (drop (call $catch (local.get $n)))
              (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
            (i32.add
              (i32.add (call $payload (local.get $keep))
                       (call $payload (call $unwrap (local.get $wrapped))))
              (call $payload (global.get $g)))))"#,
    );
    let got = call(&inst, "churn", &[Val::I32(200_000)]).unwrap();
    assert_eq!(got, vec![Val::I32(123)]);
    let live = wasmaot::runtime::exceptions::live_objects();
    assert!(
        live < 5_000,
        "{live} exception objects still allocated after 200k throws"
    );
}
