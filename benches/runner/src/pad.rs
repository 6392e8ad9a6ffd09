//! `pad-functions`: a copy of a module with K empty functions defined ahead of its own, so
//! that an engine which lays out compiled functions in index order (Wasmtime) places every
//! original function further along its code. It moves Wasmtime's code the way
//! `wasmaot build --code-shift` moves ours, so the report can measure both engines at more
//! than one placement (benches/FINDINGS.md, findings 30 and 40).
//!
//! Every reference to a defined function (calls, `ref.func`, exports, element segments, the
//! start function) is renumbered; the `name` section is dropped (its indices would be stale).
//! With K = 0 the module is only re-encoded.

use anyhow::{Context, Result};
use wasm_encoder::reencode::{self, Reencode};
use wasm_encoder::{CodeSection, FunctionSection, ImportSection, TypeSection};

/// The re-encoder: knows how many functions are imported (they keep their indices) and which
/// type index the appended `[] -> []` type got.
struct Pad {
    count: u32,
    imported_funcs: u32,
    dummy_type: Option<u32>,
}

impl Reencode for Pad {
    type Error = &'static str;

    fn function_index(&mut self, func: u32) -> Result<u32, reencode::Error<Self::Error>> {
        if func < self.imported_funcs {
            return Ok(func);
        }
        func.checked_add(self.count)
            .ok_or(reencode::Error::UserError("a function index out of range"))
    }

    fn parse_type_section(
        &mut self,
        types: &mut TypeSection,
        section: wasmparser::TypeSectionReader<'_>,
    ) -> Result<(), reencode::Error<Self::Error>> {
        reencode::utils::parse_type_section(self, types, section)?;
        // Every rec group of the workloads holds one type, so the next index is the count.
        self.dummy_type = Some(types.len());
        types.ty().function([], []);
        Ok(())
    }

    fn parse_import_section(
        &mut self,
        imports: &mut ImportSection,
        section: wasmparser::ImportSectionReader<'_>,
    ) -> Result<(), reencode::Error<Self::Error>> {
        for import in section.clone().into_imports() {
            if let Ok(wasmparser::Import {
                ty: wasmparser::TypeRef::Func(_),
                ..
            }) = import
            {
                self.imported_funcs += 1;
            }
        }
        reencode::utils::parse_import_section(self, imports, section)
    }

    fn parse_function_section(
        &mut self,
        functions: &mut FunctionSection,
        section: wasmparser::FunctionSectionReader<'_>,
    ) -> Result<(), reencode::Error<Self::Error>> {
        let ty = self.dummy_type.ok_or(reencode::Error::UserError(
            "a function section without a type section",
        ))?;
        for _ in 0..self.count {
            functions.function(ty);
        }
        reencode::utils::parse_function_section(self, functions, section)
    }

    fn parse_code_section(
        &mut self,
        code: &mut CodeSection,
        section: wasmparser::CodeSectionReader<'_>,
    ) -> Result<(), reencode::Error<Self::Error>> {
        for _ in 0..self.count {
            let mut f = wasm_encoder::Function::new([]);
            f.instructions().end();
            code.function(&f);
        }
        reencode::utils::parse_code_section(self, code, section)
    }

    fn parse_custom_section(
        &mut self,
        module: &mut wasm_encoder::Module,
        section: wasmparser::CustomSectionReader<'_>,
    ) -> Result<(), reencode::Error<Self::Error>> {
        if section.name() == "name" {
            return Ok(());
        }
        reencode::utils::parse_custom_section(self, module, section)
    }
}

/// `module` with `count` empty functions defined ahead of its own, validated.
pub fn pad(module: &[u8], count: u32) -> Result<Vec<u8>> {
    let mut pad = Pad {
        count,
        imported_funcs: 0,
        dummy_type: None,
    };
    let mut out = wasm_encoder::Module::new();
    pad.parse_core_module(&mut out, wasmparser::Parser::new(0), module)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let bytes = out.finish();
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&bytes)
        .context("the padded module does not validate")?;
    Ok(bytes)
}

/// `wasmaot-bench pad-functions IN.wasm OUT.wasm K`.
pub fn run(args: &[String]) -> Result<i32> {
    let [input, output, count] = args else {
        anyhow::bail!("usage: wasmaot-bench pad-functions IN.wasm OUT.wasm K");
    };
    let count: u32 = count.parse().context("K")?;
    let data = std::fs::read(input).with_context(|| input.clone())?;
    let bytes = pad(&data, count).with_context(|| input.clone())?;
    std::fs::write(output, bytes).with_context(|| output.clone())?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::pad;

    /// Every way a module names a defined function: a direct call, `ref.func`, an element
    /// segment behind `call_indirect`, an export and the start function, next to an import
    /// whose index must not move.
    const MODULE: &str = r#"(module
        (import "env" "twice" (func $twice (param i32) (result i32)))
        (type $un (func (param i32) (result i32)))
        (table 2 funcref)
        (elem (i32.const 0) $inc $dec)
        (elem declare func $dec)
        (global $g (mut i32) (i32.const 0))
        (func $inc (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
        (func $dec (param i32) (result i32) (i32.sub (local.get 0) (i32.const 1)))
        (func $init
            (global.set $g (i32.const 100))
            (table.set (i32.const 0) (ref.func $dec)))
        (func (export "run") (param i32) (result i32)
            (call $twice (call $inc (local.get 0)))
            (call_indirect (type $un) (local.get 0) (i32.const 1))
            i32.add
            (call_indirect (type $un) (global.get $g) (i32.const 0))
            i32.add)
        (start $init))"#;

    fn run(bytes: &[u8], x: i32) -> i32 {
        let engine = wasmi::Engine::default();
        let module = wasmi::Module::new(&engine, bytes).unwrap();
        let mut store = wasmi::Store::new(&engine, ());
        let mut linker = wasmi::Linker::<()>::new(&engine);
        linker.func_wrap("env", "twice", |x: i32| 2 * x).unwrap();
        let instance = linker.instantiate_and_start(&mut store, &module).unwrap();
        let f = instance.get_typed_func::<i32, i32>(&store, "run").unwrap();
        f.call(&mut store, x).unwrap()
    }

    fn defined_functions(bytes: &[u8]) -> u32 {
        wasmparser::Parser::new(0)
            .parse_all(bytes)
            .filter_map(|p| match p.unwrap() {
                wasmparser::Payload::FunctionSection(s) => Some(s.count()),
                _ => None,
            })
            .sum()
    }

    #[test]
    fn padded_modules_compute_the_same_with_more_functions() {
        let plain = wat::parse_str(MODULE).unwrap();
        // twice(inc(x)) + dec(x) + dec(100): the start function put $dec in slot 0
        // through `ref.func`.
        let want = |x: i32| 2 * (x + 1) + (x - 1) + 99;
        for count in [0, 1, 3] {
            let padded = pad(&plain, count).unwrap();
            assert_eq!(defined_functions(&padded), 4 + count);
            for x in [0, 7, -5] {
                assert_eq!(run(&padded, x), want(x), "count {count}, x {x}");
            }
        }
    }

    #[test]
    fn malformed_input_is_an_error() {
        assert!(pad(b"\0asm\x01\0\0\0\x01", 1).is_err());
        // A function section with no type section before it: an error, not a panic.
        assert!(pad(b"\0asm\x01\0\0\0\x03\x02\x01\0", 1).is_err());
    }
}
