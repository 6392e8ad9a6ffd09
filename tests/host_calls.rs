//! Calls between compiled code and host functions under the one-context-argument ABI
//! (docs/ABI.md, "Calling conventions"): an imported host function is bound to the instance
//! that imports it, and that is the instance its `Caller` sees.

mod common;

use common::*;
use wasmaot::runtime::layout::{FuncType, ValType};
use wasmaot::runtime::{Caller, Extern, Func, Linker, Trap, Val};

/// A host function `(i32) -> i32` returning the byte at that address of the calling
/// instance's memory 0, or -1 when it sees no calling instance.
fn peek() -> Func {
    let ty = FuncType {
        params: vec![ValType::I32],
        results: vec![ValType::I32],
    };
    Func::host(ty, |caller: &mut Caller<'_>, args: &[Val]| {
        let addr = args[0].i32().unwrap() as u64;
        let Some(mem) = caller.memory(0) else {
            return Ok(vec![Val::I32(-1)]);
        };
        let mut b = [0u8];
        if !mem.read(addr, &mut b) {
            return Err(Trap::host("peek out of bounds"));
        }
        Ok(vec![Val::I32(b[0] as i32)])
    })
}

/// A module importing `peek` whose memory holds `byte` at address 0. It calls `peek`
/// directly, through its table (slot 0), and exports the import.
fn importer(byte: u8) -> String {
    format!(
        r#"(module
          (import "h" "peek" (func $peek (param i32) (result i32)))
          (memory 1)
          (data (i32.const 0) "\{byte:02x}")
          (table (export "table") 2 funcref)
          (elem (i32.const 0) $peek)
          (type $t (func (param i32) (result i32)))
          (export "peek" (func $peek))
          (func (export "direct") (result i32) (call $peek (i32.const 0)))
          (func (export "indirect") (param i32) (result i32)
            (call_indirect (type $t) (i32.const 0) (local.get 0)))
          (func (export "tail") (result i32) (return_call $peek (i32.const 0))))"#
    )
}

#[test]
fn an_imported_host_function_sees_the_importing_instance() {
    let mut linker = Linker::new();
    linker.define("h", "peek", peek());
    let a = linker
        .instantiate(&module_named(&importer(0xa1), "a"))
        .unwrap();
    let b = linker
        .instantiate(&module_named(&importer(0xb2), "b"))
        .unwrap();
    // One host function, two instances: each call sees the instance that made it.
    for (inst, byte) in [(&a, 0xa1), (&b, 0xb2)] {
        assert_eq!(call(inst, "direct", &[]).unwrap(), vec![Val::I32(byte)]);
        assert_eq!(
            call(inst, "indirect", &[Val::I32(0)]).unwrap(),
            vec![Val::I32(byte)]
        );
        assert_eq!(call(inst, "tail", &[]).unwrap(), vec![Val::I32(byte)]);
        // The host calling the import through the instance's export keeps the binding.
        assert_eq!(
            call(inst, "peek", &[Val::I32(0)]).unwrap(),
            vec![Val::I32(byte)]
        );
    }
}

#[test]
fn a_reexported_host_function_stays_bound_to_its_importer() {
    let mut linker = Linker::new();
    linker.define("h", "peek", peek());
    let a = linker
        .instantiate(&module_named(&importer(0xa1), "a"))
        .unwrap();
    // `c` imports `peek` from `a` (a re-export of the host function) and calls it directly.
    let mut linker = Linker::new();
    linker.define("h", "peek", a.get_export("peek").unwrap());
    let c = linker
        .instantiate(&module_named(&importer(0xc3), "c"))
        .unwrap();
    assert_eq!(call(&c, "direct", &[]).unwrap(), vec![Val::I32(0xa1)]);
    assert_eq!(
        call(&c, "indirect", &[Val::I32(0)]).unwrap(),
        vec![Val::I32(0xa1)]
    );
}

#[test]
fn a_host_function_stored_by_the_host_sees_no_instance() {
    let mut linker = Linker::new();
    let h = peek();
    linker.define("h", "peek", h.clone());
    let a = linker
        .instantiate(&module_named(&importer(0xa1), "a"))
        .unwrap();
    // The host puts the host function's own funcref (no binding) into slot 1 of the table.
    let Some(Extern::Table(table)) = a.get_export("table") else {
        panic!("no table export")
    };
    table.set(1, Val::FuncRef(Some(h))).unwrap();
    assert_eq!(
        call(&a, "indirect", &[Val::I32(1)]).unwrap(),
        vec![Val::I32(-1)]
    );
    // The bound import in slot 0 still sees `a`.
    assert_eq!(
        call(&a, "indirect", &[Val::I32(0)]).unwrap(),
        vec![Val::I32(0xa1)]
    );
}
