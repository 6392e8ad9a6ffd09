//! Host-created tables and globals, loader errors and the WASI glue's definitions.

mod common;

use wasmaot_runtime::layout::{FuncType, GlobalType, TableType, ValType};
use wasmaot_runtime::*;

#[test]
fn tables() {
    let ty = TableType {
        element: ValType::ExternRef,
        initial: 2,
        maximum: Some(3),
        table64: false,
    };
    let t = Table::new(ty, Val::ExternRef(Some(7))).unwrap();
    assert_eq!(t.size(), 2);
    assert_eq!(t.get(1), Some(Val::ExternRef(Some(7))));
    assert_eq!(t.get_raw(1), Some(8));
    t.set(0, Val::ExternRef(None)).unwrap();
    assert_eq!(t.get(0), Some(Val::ExternRef(None)));
    assert_eq!(t.set(2, Val::ExternRef(None)), Err(TableError::OutOfBounds));
    assert!(matches!(
        t.set(0, Val::I32(1)),
        Err(TableError::ValueType(..))
    ));
    assert_eq!(t.grow(1, Val::ExternRef(Some(1))).unwrap(), 2);
    assert!(t.grow(1, Val::ExternRef(None)).is_err());
    assert_eq!(t.size(), 3);
    assert_eq!(t.get(2), Some(Val::ExternRef(Some(1))));
    // A host function no module imported has no Wasm entry: refused.
    let ft = Table::new(
        TableType {
            element: ValType::FuncRef,
            ..ty
        },
        Val::FuncRef(None),
    )
    .unwrap();
    let f = Func::host(FuncType::default(), |_, _| Ok(vec![]));
    assert_eq!(
        ft.set(0, Val::FuncRef(Some(f))),
        Err(TableError::HostFuncWithoutAdapter)
    );
}

#[test]
fn globals() {
    let g = Global::new(
        GlobalType {
            content: ValType::I64,
            mutable: false,
        },
        Val::I64(-5),
    )
    .unwrap();
    assert_eq!(g.get(), Val::I64(-5));
    assert!(g.set(Val::I64(1)).is_err());
    let m = Global::new(
        GlobalType {
            content: ValType::F64,
            mutable: true,
        },
        Val::F64(1.5f64.to_bits()),
    )
    .unwrap();
    m.set(Val::F64(2.5f64.to_bits())).unwrap();
    assert_eq!(m.get(), Val::F64(2.5f64.to_bits()));
    assert!(m.set(Val::I32(1)).is_err());
    assert!(Global::new(
        GlobalType {
            content: ValType::I32,
            mutable: true
        },
        Val::I64(0)
    )
    .is_err());
}

#[test]
fn loader_reports_unknown_symbols_and_bad_input() {
    let e = Module::from_object_bytes(&common::fake_object("l1"), Some("l1")).unwrap_err();
    assert!(e.to_string().contains("undefined symbol `test_"), "{e}");
    let e = Module::from_object_bytes(b"not an object", None).unwrap_err();
    assert!(matches!(e, Error::Load(_)), "{e}");
    let e =
        Module::from_object_bytes_with(&common::fake_object("l2"), Some("zz"), &common::resolve)
            .unwrap_err();
    assert!(e.to_string().contains("zz_wasmaot_module"), "{e}");
}

#[test]
fn wasi_glue_defines_preview1() {
    let mut l = Linker::new();
    let ctx = wasmaot_runtime::wasi::WasiCtx::builder().build().unwrap();
    wasmaot_runtime::wasi_link::add_to_linker(
        &mut l,
        std::sync::Arc::new(std::sync::Mutex::new(ctx)),
    );
    let Some(Extern::Func(f)) = l.get("wasi_snapshot_preview1", "fd_write") else {
        panic!("fd_write missing")
    };
    assert_eq!(f.ty().params, vec![ValType::I32; 4]);
    assert_eq!(f.ty().results, vec![ValType::I32]);
    // Called from the host there is no calling instance, hence no memory: a host trap.
    let e = f
        .call(&[Val::I32(1), Val::I32(0), Val::I32(0), Val::I32(0)])
        .unwrap_err();
    assert_eq!(e.as_trap().unwrap().kind, TrapKind::Host);
}
