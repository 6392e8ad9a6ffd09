//! Loader, instantiation, calls, host functions and traps on the hand-written fake module.

mod common;

use common::*;
use std::sync::atomic::Ordering;
use wasmaot_runtime::layout::{FuncType, TrapKind, ValType};
use wasmaot_runtime::*;

fn double_host(trap_on_negative: bool) -> Func {
    let ty = FuncType {
        params: vec![ValType::I32],
        results: vec![ValType::I32],
    };
    Func::host(ty, move |caller, args| {
        let x = args[0].i32().unwrap();
        if x < 0 && trap_on_negative {
            return Err(Trap::host(format!("negative input {x}")));
        }
        if x == 1000 {
            // Nested entry whose trap is caught inside the host function.
            let div = caller.get_export("div").and_then(|e| match e {
                Extern::Func(f) => Some(f),
                _ => None,
            });
            let e = div.unwrap().call(&[Val::I32(1), Val::I32(0)]).unwrap_err();
            assert_eq!(e.as_trap().unwrap().kind, TrapKind::IntegerDivisionByZero);
            return Ok(vec![Val::I32(-7)]);
        }
        if x == 2000 {
            panic!("host panic");
        }
        if x == 3000 {
            return Err(Trap::exit(3));
        }
        // Nested entry: wasm -> host -> wasm.
        let add = match caller.get_export("add") {
            Some(Extern::Func(f)) => f,
            _ => return Err(Trap::host("no add")),
        };
        let r = add
            .call(&[Val::I32(x), Val::I32(x)])
            .map_err(|e| Trap::host(e.to_string()))?;
        Ok(r)
    })
}

fn instantiate(name: &str) -> (Module, Instance) {
    let module =
        Module::from_object_bytes_with(&fake_object(name), Some(name), &resolve).expect("load");
    let mut linker = Linker::new();
    linker.define("host", "double", double_host(true));
    let inst = linker.instantiate(&module).expect("instantiate");
    (module, inst)
}

#[test]
fn load_instantiate_and_call() {
    let (module, inst) = instantiate("m1");
    assert_eq!(module.name(), "m1");
    let before = HELPER_CALLS.load(Ordering::SeqCst);
    let add = inst.get_func("add").unwrap();
    assert_eq!(
        add.call(&[Val::I32(2), Val::I32(40)]).unwrap(),
        vec![Val::I32(42)]
    );
    // The far PLT32 call (stub) and the GOT access both ran.
    assert!(HELPER_CALLS.load(Ordering::SeqCst) > before);
    assert!(TEST_COUNTER.load(Ordering::SeqCst) > 0);
    // Type checks on arguments.
    assert!(matches!(add.call(&[Val::I32(1)]), Err(Error::Type(_))));
    assert!(matches!(
        add.call(&[Val::I64(1), Val::I32(1)]),
        Err(Error::Type(_))
    ));
    // Data segment and memory export.
    let mem = inst.get_memory("memory").unwrap();
    let mut buf = [0u8; 5];
    assert!(mem.read(8, &mut buf));
    assert_eq!(&buf, b"hello");
    let load = inst.get_func("load").unwrap();
    assert_eq!(
        load.call(&[Val::I32(8)]).unwrap(),
        vec![Val::I32(i32::from_le_bytes(*b"hell"))]
    );
    // Last valid word is readable.
    assert!(mem.write(65532, &7i32.to_le_bytes()));
    assert_eq!(load.call(&[Val::I32(65532)]).unwrap(), vec![Val::I32(7)]);
    // Global initialiser 40 + 2.
    let g = inst.get_global("g").unwrap();
    assert_eq!(g.get(), Val::I32(42));
    g.set(Val::I32(5)).unwrap();
    assert_eq!(inst.get_global("g").unwrap().get(), Val::I32(5));
    // Element segment put `add` (and the import) into the table.
    let table = inst.get_table("table").unwrap();
    assert_eq!(table.get(0), Some(Val::FuncRef(None)));
    let Some(Val::FuncRef(Some(f))) = table.get(1) else {
        panic!("table[1] should hold add")
    };
    assert_eq!(
        f.call(&[Val::I32(3), Val::I32(4)]).unwrap(),
        vec![Val::I32(7)]
    );
    let Some(Val::FuncRef(Some(imp))) = table.get(2) else {
        panic!("table[2] should hold the import")
    };
    // The import is bound to the instance that imported it: called from the host through
    // that instance's table, the host function still sees the instance (and calls its `add`).
    assert_eq!(imp.call(&[Val::I32(5)]).unwrap(), vec![Val::I32(10)]);
    // The host function itself, called from the host, sees no calling instance.
    let e = double_host(true).call(&[Val::I32(5)]).unwrap_err();
    assert_eq!(e.as_trap().unwrap().message.as_deref(), Some("no add"));
    assert_eq!(table.get(4), None);
}

#[test]
fn traps_name_the_function() {
    let (_m, inst) = instantiate("m2");
    let div = inst.get_func("div").unwrap();
    assert_eq!(
        div.call(&[Val::I32(7), Val::I32(2)]).unwrap(),
        vec![Val::I32(3)]
    );
    let e = div.call(&[Val::I32(7), Val::I32(0)]).unwrap_err();
    let t = e.as_trap().expect("trap");
    assert_eq!(t.kind, TrapKind::IntegerDivisionByZero);
    assert_eq!(t.func.as_deref(), Some("div"));
    assert_eq!(
        e.to_string(),
        "wasm trap: integer divide by zero (in function div)"
    );
    let e = inst.get_func("unreach").unwrap().call(&[]).unwrap_err();
    assert_eq!(e.as_trap().unwrap().kind, TrapKind::Unreachable);
    assert_eq!(e.as_trap().unwrap().func.as_deref(), Some("unreach"));
    // Just past the end of memory: guard page.
    let load = inst.get_func("load").unwrap();
    let e = load.call(&[Val::I32(65536)]).unwrap_err();
    assert_eq!(e.as_trap().unwrap().kind, TrapKind::MemoryOutOfBounds);
    assert_eq!(e.as_trap().unwrap().func.as_deref(), Some("load"));
    let e = load.call(&[Val::I32(-1)]).unwrap_err();
    assert_eq!(e.as_trap().unwrap().kind, TrapKind::MemoryOutOfBounds);
    // After growth the same address is valid, base unchanged.
    let mem = inst.get_memory("memory").unwrap();
    let base = mem.data_ptr();
    assert_eq!(mem.grow(1).unwrap(), 1);
    assert_eq!(mem.data_ptr(), base);
    assert_eq!(load.call(&[Val::I32(65536)]).unwrap(), vec![Val::I32(0)]);
    // Still works after many traps.
    for _ in 0..100 {
        assert!(div.call(&[Val::I32(1), Val::I32(0)]).is_err());
    }
    assert_eq!(
        div.call(&[Val::I32(9), Val::I32(3)]).unwrap(),
        vec![Val::I32(3)]
    );
}

#[test]
fn stack_overflow_is_a_trap() {
    let (_m, inst) = instantiate("m3");
    let f = inst.get_func("recurse").unwrap();
    // Run on a fresh thread too (lazily installed sigaltstack).
    let f2 = f.clone();
    let h = std::thread::spawn(move || f2.call(&[]).unwrap_err().as_trap().unwrap().kind);
    assert_eq!(h.join().unwrap(), TrapKind::StackOverflow);
    let e = f.call(&[]).unwrap_err();
    assert_eq!(e.as_trap().unwrap().kind, TrapKind::StackOverflow);
    assert_eq!(e.as_trap().unwrap().func.as_deref(), Some("recurse"));
    // And again: the thread is still usable.
    assert!(f.call(&[]).is_err());
    let add = inst.get_func("add").unwrap();
    assert_eq!(
        add.call(&[Val::I32(1), Val::I32(1)]).unwrap(),
        vec![Val::I32(2)]
    );
}

#[test]
fn host_functions_nested_entries_and_host_traps() {
    let (_m, inst) = instantiate("m4");
    let call_host = inst.get_func("call_host").unwrap();
    // wasm -> host -> wasm(add).
    assert_eq!(call_host.call(&[Val::I32(21)]).unwrap(), vec![Val::I32(42)]);
    // Host trap propagates through the wasm frames.
    let e = call_host.call(&[Val::I32(-3)]).unwrap_err();
    let t = e.as_trap().unwrap();
    assert_eq!(t.kind, TrapKind::Host);
    assert_eq!(t.message.as_deref(), Some("negative input -3"));
    // Inner trap caught inside the host, outer call completes.
    assert_eq!(
        call_host.call(&[Val::I32(1000)]).unwrap(),
        vec![Val::I32(-7)]
    );
    // Host panic is resumed at the outer entry, and the runtime stays usable.
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        call_host.call(&[Val::I32(2000)])
    }));
    assert!(r.is_err());
    assert_eq!(call_host.call(&[Val::I32(2)]).unwrap(), vec![Val::I32(4)]);
    assert!(!wasmaot_runtime::traps::in_wasm());
    // Exit requests travel as traps carrying the status.
    let e = call_host.call(&[Val::I32(3000)]).unwrap_err();
    let t = e.as_trap().unwrap();
    assert_eq!((t.kind, t.exit_code), (TrapKind::Exit, Some(3)));
    assert_eq!(e.to_string(), "exit with status 3");
}

#[test]
fn link_errors_name_the_import() {
    let module = Module::from_object_bytes_with(&fake_object("m5"), None, &resolve).expect("load");
    let err = Linker::new().instantiate(&module).unwrap_err().to_string();
    assert!(err.contains("host::double"), "{err}");
    assert!(err.contains("unknown import"), "{err}");
    let mut l = Linker::new();
    let wrong = Func::host(FuncType::default(), |_, _| Ok(vec![]));
    l.define("host", "double", wrong);
    let err = l.instantiate(&module).unwrap_err().to_string();
    assert!(
        err.contains("incompatible import type for `host::double`"),
        "{err}"
    );
    let mut l = Linker::new();
    l.define(
        "host",
        "double",
        Memory::new(MemoryType {
            initial: 1,
            maximum: None,
            memory64: false,
            shared: false,
        })
        .unwrap(),
    );
    let err = l.instantiate(&module).unwrap_err().to_string();
    assert!(err.contains("expected function, found memory"), "{err}");
}

#[test]
fn instance_reexport_via_linker_and_many_instances() {
    let module = Module::from_object_bytes_with(&fake_object("m6"), Some("m6"), &resolve).unwrap();
    let mut linker = Linker::new();
    linker.define("host", "double", double_host(false));
    let a = linker.instantiate(&module).unwrap();
    // A second instance importing `double` from the first instance's table entry type.
    let mut l2 = Linker::new();
    l2.define("host", "double", a.get_func("load").unwrap());
    let b = l2.instantiate(&module).unwrap();
    // b.call_host calls a.load through the import slot.
    assert_eq!(
        b.get_func("call_host")
            .unwrap()
            .call(&[Val::I32(8)])
            .unwrap(),
        vec![Val::I32(i32::from_le_bytes(*b"hell"))]
    );
    drop(a);
    // `a` is kept alive by `b`.
    assert_eq!(
        b.get_func("call_host")
            .unwrap()
            .call(&[Val::I32(9)])
            .unwrap(),
        vec![Val::I32(i32::from_le_bytes(*b"ello"))]
    );
    let t0 = std::time::Instant::now();
    let many: Vec<Instance> = (0..1000)
        .map(|_| linker.instantiate(&module).unwrap())
        .collect();
    let per = t0.elapsed() / 1000;
    eprintln!("instantiate: {per:?} per instance");
    for (i, inst) in many.iter().enumerate().step_by(97) {
        let r = inst
            .get_func("add")
            .unwrap()
            .call(&[Val::I32(i as i32), Val::I32(1)]);
        assert_eq!(r.unwrap(), vec![Val::I32(i as i32 + 1)]);
    }
}
