//! The `spectest` host module the spec scripts import: print functions, four constant
//! globals, a table and a memory.

use wasmaot_runtime::layout::{FuncType, GlobalType, MemoryType, TableType, ValType};
use wasmaot_runtime::{Func, Global, Linker, Memory, Table, Val};

/// Defines `spectest` in a linker.
pub(super) fn define(linker: &mut Linker) {
    use ValType::*;
    let prints: [(&str, Vec<ValType>); 7] = [
        ("print", vec![]),
        ("print_i32", vec![I32]),
        ("print_i64", vec![I64]),
        ("print_f32", vec![F32]),
        ("print_f64", vec![F64]),
        ("print_i32_f32", vec![I32, F32]),
        ("print_f64_f64", vec![F64, F64]),
    ];
    for (name, params) in prints {
        let ty = FuncType {
            params,
            results: vec![],
        };
        linker.define("spectest", name, Func::host(ty, |_, _| Ok(vec![])));
    }
    let globals = [
        ("global_i32", I32, Val::I32(666)),
        ("global_i64", I64, Val::I64(666)),
        ("global_f32", F32, Val::F32(666.6f32.to_bits())),
        ("global_f64", F64, Val::F64(666.6f64.to_bits())),
    ];
    for (name, content, v) in globals {
        let g = Global::new(
            GlobalType {
                content,
                mutable: false,
            },
            v,
        )
        .expect("spectest global");
        linker.define("spectest", name, g);
    }
    let table = Table::new(
        TableType {
            element: FuncRef,
            initial: 10,
            maximum: Some(20),
            table64: false,
        },
        Val::FuncRef(None),
    )
    .expect("spectest table");
    linker.define("spectest", "table", table);
    let memory = Memory::new(MemoryType {
        initial: 1,
        maximum: Some(2),
        memory64: false,
        shared: false,
    })
    .expect("spectest memory");
    linker.define("spectest", "memory", memory);
}
