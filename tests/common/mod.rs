//! Helpers shared by the end-to-end tests: compile `.wat` through the real pipeline (object
//! file, in-process loader), instantiate, call.

#![allow(dead_code)]

use wasmaot::runtime::{Error, Instance, Linker, Module, Val};

/// Compiles WAT text into a loaded module named `name`.
pub fn module_named(wat: &str, name: &str) -> Module {
    let opts = wasmaot::CompileOptions {
        name: name.into(),
        ..Default::default()
    };
    let out = wasmaot::compile(wat.as_bytes(), &opts).expect("compiles");
    Module::from_object_bytes(&out.object, Some(name)).expect("loads")
}

/// Compiles WAT text into a loaded module.
pub fn module(wat: &str) -> Module {
    module_named(wat, "t")
}

/// Compiles and instantiates WAT text with no imports.
pub fn instance(wat: &str) -> Instance {
    Linker::new()
        .instantiate(&module(wat))
        .expect("instantiates")
}

/// Calls an export.
pub fn call(inst: &Instance, name: &str, args: &[Val]) -> Result<Vec<Val>, Error> {
    inst.get_func(name)
        .unwrap_or_else(|| panic!("no export {name}"))
        .call(args)
}

/// The trap message of a failed call (panics when the call succeeded).
pub fn trap_of(r: Result<Vec<Val>, Error>) -> String {
    match r {
        Err(Error::Trap(t)) => t.kind.message().to_string(),
        other => panic!("expected a trap, got {other:?}"),
    }
}
