//! Code placement: `.text` starts on a 64-byte line, and `--code-shift N` (the knob the
//! benchmark harness uses to measure how much speed depends on placement) moves every
//! function body by exactly N bytes without changing its code, in the object, in a linked
//! executable and in the in-process loader, traps included.
//!
//! Run: `cargo test -p wasmaot --test code_shift`.

mod common;

use common::wasmaot;
use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use wasmaot::runtime::{Linker, Module, Val};

/// A WASI program with many functions (and a trap table, and a data segment).
fn program(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/wasi-programs")
        .join(format!("{name}.wasm"))
}

/// Compiles `input` with `--code-shift shift` and returns the object's bytes.
fn compile(dir: &Path, input: &Path, shift: u32) -> Vec<u8> {
    let out = dir.join(format!("s{shift}.o"));
    let o = wasmaot()
        .arg("compile")
        .arg(input)
        .args(["--code-shift", &shift.to_string(), "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read(&out).unwrap()
}

/// The `.text` section's alignment and bytes, and its function symbols: name → (offset, size).
fn text_of(obj: &[u8]) -> (u64, Vec<u8>, BTreeMap<String, (u64, u64)>) {
    let file = object::File::parse(obj).unwrap();
    let text = file.section_by_name(".text").unwrap();
    let funcs = file
        .symbols()
        .filter(|s| s.kind() == SymbolKind::Text && s.section_index() == Some(text.index()))
        .map(|s| (s.name().unwrap().to_string(), (s.address(), s.size())))
        .collect();
    (text.align(), text.data().unwrap().to_vec(), funcs)
}

#[test]
fn a_shift_moves_every_body_by_exactly_that_much() {
    let dir = tempfile::tempdir().unwrap();
    let input = program("files");
    let (align0, text0, funcs0) = text_of(&compile(dir.path(), &input, 0));
    assert_eq!(align0, 64, "code starts on a cache line");
    assert!(!funcs0.contains_key("wasmaot.code_shift"));
    // The bodies come first; the trampolines and wrappers after them keep their alignment.
    let bodies: Vec<(&String, &(u64, u64))> = funcs0
        .iter()
        .filter(|(n, _)| !n.contains('.') && !n.starts_with("import") && !n.starts_with("files_"))
        .collect();
    assert!(bodies.len() > 20, "{funcs0:?}");
    for shift in [16, 48, 4096] {
        let (align, text, funcs) = text_of(&compile(dir.path(), &input, shift));
        assert_eq!(align, 64);
        assert_eq!(funcs["wasmaot.code_shift"], (0, u64::from(shift)));
        assert!(
            text[..shift as usize].iter().all(|&b| b == 0xcc),
            "int3 padding"
        );
        for (name, &(at, size)) in &bodies {
            let (moved, _) = funcs[name.as_str()];
            assert_eq!(moved, at + u64::from(shift), "{name} with shift {shift}");
            let (a, m) = (at as usize, moved as usize);
            assert!(
                text0[a..a + size as usize] == text[m..m + size as usize],
                "{name}: the code changed with shift {shift}"
            );
        }
    }
}

#[test]
fn shifted_executables_run_and_report_traps_as_before() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["hello", "divzero"] {
        let mut outputs = Vec::new();
        for shift in [0u32, 16, 48] {
            let exe = dir.path().join(format!("{name}{shift}"));
            let o = wasmaot()
                .arg("build")
                .arg(program(name))
                .args(["--code-shift", &shift.to_string(), "-o"])
                .arg(&exe)
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let syms = std::process::Command::new("nm").arg(&exe).output().unwrap();
            let syms = String::from_utf8_lossy(&syms.stdout).into_owned();
            let start = syms
                .lines()
                .find(|l| l.ends_with(" t _start"))
                .and_then(|l| u64::from_str_radix(l.split(' ').next()?, 16).ok())
                .unwrap_or_else(|| panic!("no _start in\n{syms}"));
            // The linker keeps the section's 64-byte alignment.
            assert_eq!(start % 64, u64::from(shift), "{name} with shift {shift}");
            let run = std::process::Command::new(&exe).output().unwrap();
            outputs.push((run.status.code(), run.stdout, run.stderr));
        }
        assert!(
            outputs.windows(2).all(|w| w[0] == w[1]),
            "{name}: {outputs:?}"
        );
        if name == "divzero" {
            let err = String::from_utf8_lossy(&outputs[2].2);
            let at = "integer divide by zero (in function __original_main)";
            assert!(err.contains(at), "{err}");
        }
    }
}

#[test]
fn the_loader_runs_shifted_objects_and_maps_their_traps() {
    let wat = r#"(module
        (memory 1)
        (func $sum (param i32) (result i32) (local i32)
            (block (loop
                (br_if 1 (i32.eqz (local.get 0)))
                (local.set 1 (i32.add (local.get 1) (local.get 0)))
                (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
                (br 0)))
            (local.get 1))
        (func (export "sum") (param i32) (result i32) (call $sum (local.get 0)))
        (func (export "div") (param i32 i32) (result i32)
            (i32.div_s (local.get 0) (local.get 1)))
        (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))"#;
    for shift in [0, 32, 4096] {
        let opts = wasmaot::CompileOptions {
            name: "shifted".into(),
            code_shift: shift,
            ..Default::default()
        };
        let out = wasmaot::compile(wat.as_bytes(), &opts).unwrap();
        let module = Module::from_object_bytes(&out.object, Some("shifted")).unwrap();
        let inst = Linker::new().instantiate(&module).unwrap();
        let sum = common::call(&inst, "sum", &[Val::I32(1000)]).unwrap();
        assert_eq!(sum, vec![Val::I32(500_500)], "shift {shift}");
        let div = common::call(&inst, "div", &[Val::I32(7), Val::I32(0)]);
        assert_eq!(
            common::trap_of(div),
            "integer divide by zero",
            "shift {shift}"
        );
        let load = common::call(&inst, "load", &[Val::I32(65536)]);
        assert_eq!(
            common::trap_of(load),
            "out of bounds memory access",
            "shift {shift}"
        );
    }
}

#[test]
fn a_shift_that_breaks_alignment_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for shift in ["8", "4112"] {
        let out = dir.path().join("x.o");
        let o = wasmaot()
            .arg("compile")
            .arg(program("hello"))
            .args(["--code-shift", shift, "-o"])
            .arg(&out)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(&format!("code shift {shift}")), "{err}");
        assert!(!out.exists());
    }
}
