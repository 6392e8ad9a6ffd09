//! Runs a plan on wasmaot: compile to an object, load it in process, instantiate, call.

use crate::generate::{FUEL, FUEL_EXPORT, MAX_PAGES, MAX_TABLE_ELEMENTS};
use crate::observe::{fnv1a, Observation, Outcome, State, TrapClass, Value};
use crate::plan::{ItemKind, Plan};
use anyhow::{anyhow, Result};
use wasmaot_runtime::{Error, Extern, Linker, Module, TrapKind, Val, ValType};

/// Gives the runtime the limits the generator and wasmi use; call once per process.
pub fn set_limits() {
    wasmaot_runtime::memory::set_limits(wasmaot_runtime::Limits {
        max_pages_per_memory: MAX_PAGES,
        max_table_elements: MAX_TABLE_ELEMENTS,
        ..wasmaot_runtime::memory::limits()
    });
}

/// A compiled and loaded module.
pub struct Compiled {
    /// The loaded module.
    pub module: Module,
    /// Whether the object has a dispatch array, i.e. a frozen table.
    pub frozen_table: bool,
}

/// The compiled module, or why the compiler refused it (a finding: the module is valid).
/// `explicit_bounds_checks` compiles 32-bit memories with explicit checks instead of the
/// guard region.
pub fn compile(wasm: &[u8], explicit_bounds_checks: bool) -> Result<Compiled> {
    let opts = wasmaot::CompileOptions {
        name: "fuzz".into(),
        threads: 1,
        bounds_checks: if explicit_bounds_checks {
            wasmaot::BoundsChecks::Explicit
        } else {
            wasmaot::BoundsChecks::Guard
        },
        ..Default::default()
    };
    let compiled = wasmaot::compile(wasm, &opts).map_err(|e| anyhow!("wasmaot compile: {e}"))?;
    // The dispatch arrays' symbols are `wasmaot.table<N>.dispatch` (compiler/src/object.rs).
    let frozen_table = compiled.object.windows(9).any(|w| w == b".dispatch");
    let module = Module::from_object_bytes(&compiled.object, Some("fuzz"))
        .map_err(|e| anyhow!("load: {e}"))?;
    Ok(Compiled {
        module,
        frozen_table,
    })
}

fn trap_class(e: &Error) -> TrapClass {
    let Error::Trap(t) = e else {
        return TrapClass::Other;
    };
    match t.kind {
        TrapKind::Unreachable => TrapClass::Unreachable,
        TrapKind::MemoryOutOfBounds => TrapClass::MemoryOutOfBounds,
        TrapKind::TableOutOfBounds | TrapKind::UndefinedElement => TrapClass::TableOutOfBounds,
        TrapKind::UninitializedElement => TrapClass::NullElement,
        TrapKind::BadSignature => TrapClass::BadSignature,
        TrapKind::IntegerOverflow => TrapClass::IntegerOverflow,
        TrapKind::IntegerDivisionByZero => TrapClass::DivisionByZero,
        TrapKind::BadConversionToInteger => TrapClass::BadConversion,
        TrapKind::NullReference => TrapClass::NullReference,
        TrapKind::StackOverflow => TrapClass::StackOverflow,
        _ => TrapClass::Other,
    }
}

fn to_val(v: &Value, ty: ValType) -> Val {
    match (v, ty) {
        (Value::I32(x), _) => Val::I32(*x),
        (Value::I64(x), _) => Val::I64(*x),
        (Value::F32(x), _) => Val::F32(*x),
        (Value::F64(x), _) => Val::F64(*x),
        (Value::V128(x), _) => Val::V128(*x),
        (Value::Ref { .. }, ValType::ExternRef) => Val::ExternRef(None),
        (Value::Ref { .. }, _) => Val::FuncRef(None),
    }
}

fn from_val(v: &Val) -> Value {
    match v {
        Val::I32(x) => Value::I32(*x),
        Val::I64(x) => Value::I64(*x),
        Val::F32(x) => Value::F32(*x),
        Val::F64(x) => Value::F64(*x),
        Val::V128(x) => Value::V128(*x),
        Val::FuncRef(f) => Value::Ref { null: f.is_none() },
        Val::ExternRef(r) => Value::Ref { null: r.is_none() },
        Val::ExnRef(r) => Value::Ref { null: r.is_none() },
    }
}

/// Instantiates `module`, makes the plan's calls and reads the final state.
pub fn observe(module: &Module, plan: &Plan) -> Result<Observation> {
    let mut obs = Observation::default();
    let instance = match Linker::new().instantiate(module) {
        Ok(i) => i,
        Err(e) => {
            let class = trap_class(&e);
            if class == TrapClass::Other {
                return Err(anyhow!("wasmaot instantiation: {e}"));
            }
            obs.instantiation = Some(class);
            return Ok(obs);
        }
    };
    let fuel = instance.get_global(FUEL_EXPORT);
    for call in &plan.calls {
        if let Some(g) = &fuel {
            g.set(Val::I32(FUEL as i32))
                .map_err(|e| anyhow!("wasmaot: refilling fuel: {e}"))?;
        }
        let func = instance
            .get_func(&call.name)
            .ok_or_else(|| anyhow!("wasmaot: no exported function `{}`", call.name))?;
        let params = func.ty().params;
        let args: Vec<Val> = call
            .args
            .iter()
            .zip(params)
            .map(|(v, t)| to_val(v, t))
            .collect();
        let outcome = match func.call(&args) {
            Ok(results) => Outcome::Returned(results.iter().map(from_val).collect()),
            Err(e) => match trap_class(&e) {
                TrapClass::Other => return Err(anyhow!("wasmaot call `{}`: {e}", call.name)),
                class => Outcome::Trapped(class),
            },
        };
        let globals = plan
            .globals()
            .map(|name| instance.get_global(name).map(|g| from_val(&g.get())))
            .collect::<Option<_>>()
            .ok_or_else(|| anyhow!("an exported global is missing"))?;
        if obs.record(&call.name, outcome, globals) {
            return Ok(obs);
        }
    }
    for (name, kind) in &plan.items {
        let missing = || anyhow!("wasmaot: no exported {kind:?} `{name}`");
        let state = match (kind, instance.get_export(name).ok_or_else(missing)?) {
            (ItemKind::Global, Extern::Global(g)) => State::Global(from_val(&g.get())),
            (ItemKind::Memory, Extern::Memory(m)) => {
                let mut bytes = vec![0; m.size_bytes() as usize];
                if !m.read(0, &mut bytes) {
                    return Err(anyhow!("wasmaot: cannot read memory `{name}`"));
                }
                State::Memory {
                    pages: m.size_pages(),
                    hash: fnv1a(&bytes),
                }
            }
            (ItemKind::Table, Extern::Table(t)) => {
                let nulls: Vec<u8> = (0..t.size())
                    .map(|i| {
                        t.get(i)
                            .is_none_or(|v| from_val(&v) == Value::Ref { null: true })
                    })
                    .map(u8::from)
                    .collect();
                State::Table {
                    size: t.size(),
                    nulls: fnv1a(&nulls),
                }
            }
            (_, other) => return Err(anyhow!("wasmaot: export `{name}` is {other:?}")),
        };
        obs.state.push((name.clone(), state));
    }
    Ok(obs)
}
