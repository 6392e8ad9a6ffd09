//! Which exports to call with which arguments, and which items to compare afterwards: read
//! from the module once, so both engines do exactly the same thing.

use crate::generate::{argument_bits, Rng};
use crate::observe::Value;
use anyhow::{bail, Result};
use wasmparser::{ExternalKind, Parser, Payload, ValType};

/// The kind of an exported item whose final state is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemKind {
    /// A global.
    Global,
    /// A memory.
    Memory,
    /// A table.
    Table,
}

/// One call: the export's name, its arguments and its result types.
#[derive(Clone, Debug)]
pub struct Call {
    /// Export name.
    pub name: String,
    /// Arguments.
    pub args: Vec<Value>,
    /// Parameter types.
    pub params: Vec<ValType>,
    /// Result types, so an engine can prepare result slots.
    pub results: Vec<ValType>,
}

/// The calls and the compared items of one module.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Calls in order: every exported function, then every one again (the first round
    /// changes globals, memories and tables that the second reads).
    pub calls: Vec<Call>,
    /// Exported globals, memories and tables, in export order.
    pub items: Vec<(String, ItemKind)>,
    /// The types of the exported globals, in export order.
    pub global_types: Vec<ValType>,
}

/// At most this many calls per module.
const MAX_CALLS: usize = 48;

/// The value of type `ty` made from random bits (references are always null: the host has
/// no references of its own to pass).
fn value(ty: ValType, bits: u128) -> Value {
    match ty {
        ValType::I32 => Value::I32(bits as u32 as i32),
        ValType::I64 => Value::I64(bits as u64 as i64),
        ValType::F32 => Value::F32(bits as u32),
        ValType::F64 => Value::F64(bits as u64),
        ValType::V128 => Value::V128(bits),
        ValType::Ref(_) => Value::Ref { null: true },
    }
}

/// Reads the module's types, functions and exports and draws the arguments from `rng`.
pub fn plan(wasm: &[u8], rng: &mut Rng) -> Result<Plan> {
    let mut types = Vec::new();
    let mut funcs = Vec::new();
    let mut exports = Vec::new();
    let mut globals = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload? {
            Payload::ImportSection(r) if r.count() > 0 => bail!("generated module has imports"),
            Payload::TypeSection(r) => {
                for ty in r.into_iter_err_on_gc_types() {
                    types.push(ty?);
                }
            }
            Payload::FunctionSection(r) => {
                for f in r {
                    funcs.push(f?);
                }
            }
            Payload::GlobalSection(r) => {
                for g in r {
                    globals.push(g?.ty.content_type);
                }
            }
            Payload::ExportSection(r) => {
                for e in r {
                    let e = e?;
                    exports.push((e.name.to_string(), e.kind, e.index));
                }
            }
            _ => {}
        }
    }
    let mut out = Plan::default();
    let mut round = Vec::new();
    for (name, kind, index) in exports {
        match kind {
            ExternalKind::Func | ExternalKind::FuncExact => {
                let Some(ty) = funcs
                    .get(index as usize)
                    .and_then(|t| types.get(*t as usize))
                else {
                    bail!("export `{name}` names function {index}, which has no type");
                };
                round.push((name, ty.clone()));
            }
            ExternalKind::Global => {
                let Some(ty) = globals.get(index as usize) else {
                    bail!("export `{name}` names global {index}, which does not exist");
                };
                out.global_types.push(*ty);
                out.items.push((name, ItemKind::Global));
            }
            ExternalKind::Memory => out.items.push((name, ItemKind::Memory)),
            ExternalKind::Table => out.items.push((name, ItemKind::Table)),
            ExternalKind::Tag => {}
        }
    }
    for _ in 0..2 {
        for (name, ty) in &round {
            if out.calls.len() == MAX_CALLS {
                break;
            }
            let args = ty
                .params()
                .iter()
                .map(|t| value(*t, argument_bits(rng)))
                .collect();
            out.calls.push(Call {
                name: name.clone(),
                args,
                params: ty.params().to_vec(),
                results: ty.results().to_vec(),
            });
        }
    }
    Ok(out)
}

impl Plan {
    /// Names of the exported globals, in export order.
    pub fn globals(&self) -> impl Iterator<Item = &str> {
        self.items
            .iter()
            .filter(|(_, k)| *k == ItemKind::Global)
            .map(|(n, _)| n.as_str())
    }

    /// The calls as text for `fuzz/arbiter.py`: a first line `globals` with the exported
    /// globals' types, then one line per call: the export name in hex, each argument as
    /// `type:bits` in hex (`funcref:null`/`externref:null` for references), then `=>` and
    /// the result types.
    pub fn script(&self) -> String {
        let ty_name = |t: &ValType| match t {
            ValType::Ref(r) if r.is_extern_ref() => "externref".to_string(),
            ValType::Ref(_) => "funcref".to_string(),
            other => other.to_string(),
        };
        let mut out = String::from("globals");
        for t in &self.global_types {
            out.push(' ');
            out.push_str(&ty_name(t));
        }
        out.push('\n');
        for call in &self.calls {
            let name: String = call.name.bytes().map(|b| format!("{b:02x}")).collect();
            out.push_str(if name.is_empty() { "-" } else { &name });
            for (a, t) in call.args.iter().zip(&call.params) {
                out.push(' ');
                out.push_str(&match a {
                    Value::I32(x) => format!("i32:{:x}", *x as u32),
                    Value::I64(x) => format!("i64:{:x}", *x as u64),
                    Value::F32(x) => format!("f32:{x:x}"),
                    Value::F64(x) => format!("f64:{x:x}"),
                    Value::V128(x) => format!("v128:{x:x}"),
                    Value::Ref { .. } => format!("{}:null", ty_name(t)),
                });
            }
            out.push_str(" =>");
            for r in &call.results {
                out.push(' ');
                out.push_str(&ty_name(r));
            }
            out.push('\n');
        }
        out
    }
}
