//! Runs a plan on the wasmi interpreter, the reference the fuzzer compares wasmaot with.

use crate::generate::{FUEL, FUEL_EXPORT, MAX_PAGES, MAX_TABLE_ELEMENTS};
use crate::observe::{fnv1a, Observation, Outcome, State, TrapClass, Value};
use crate::plan::{ItemKind, Plan};
use anyhow::{anyhow, Result};
use wasmi::{
    CompilationMode, Config, Engine, Error, Extern, Linker, Module, Nullable, Store, StoreLimits,
    StoreLimitsBuilder, TrapCode, Val, ValType, F32, F64, V128,
};

/// An engine with every proposal the generator may use.
pub fn engine() -> Engine {
    let mut config = Config::default();
    config
        .compilation_mode(CompilationMode::Eager)
        .wasm_simd(true)
        .wasm_memory64(true)
        .wasm_multi_memory(true)
        .wasm_tail_call(true)
        .wasm_extended_const(true);
    Engine::new(&config)
}

/// The module, or `None` when wasmi does not accept it (the seed is skipped: the reference
/// has nothing to say about it).
pub fn compile(engine: &Engine, wasm: &[u8]) -> Option<Module> {
    Module::new(engine, wasm).ok()
}

fn trap_class(e: &Error) -> TrapClass {
    match e.as_trap_code() {
        Some(TrapCode::UnreachableCodeReached) => TrapClass::Unreachable,
        Some(TrapCode::MemoryOutOfBounds) => TrapClass::MemoryOutOfBounds,
        Some(TrapCode::TableOutOfBounds) => TrapClass::TableOutOfBounds,
        Some(TrapCode::IndirectCallToNull) => TrapClass::NullElement,
        Some(TrapCode::BadSignature) => TrapClass::BadSignature,
        Some(TrapCode::IntegerOverflow) => TrapClass::IntegerOverflow,
        Some(TrapCode::IntegerDivisionByZero) => TrapClass::DivisionByZero,
        Some(TrapCode::BadConversionToInteger) => TrapClass::BadConversion,
        Some(TrapCode::StackOverflow) => TrapClass::StackOverflow,
        _ => TrapClass::Other,
    }
}

fn to_val(v: &Value, ty: &ValType) -> Val {
    match (v, ty) {
        (Value::I32(x), _) => Val::I32(*x),
        (Value::I64(x), _) => Val::I64(*x),
        (Value::F32(x), _) => Val::F32(F32::from_bits(*x)),
        (Value::F64(x), _) => Val::F64(F64::from_bits(*x)),
        (Value::V128(x), _) => Val::V128(V128::from(*x)),
        (Value::Ref { .. }, ValType::ExternRef) => Val::ExternRef(Nullable::Null),
        (Value::Ref { .. }, _) => Val::FuncRef(Nullable::Null),
    }
}

fn from_val(v: &Val) -> Value {
    match v {
        Val::I32(x) => Value::I32(*x),
        Val::I64(x) => Value::I64(*x),
        Val::F32(x) => Value::F32(x.to_bits()),
        Val::F64(x) => Value::F64(x.to_bits()),
        Val::V128(x) => Value::V128(x.as_u128()),
        Val::FuncRef(f) => Value::Ref { null: f.is_null() },
        Val::ExternRef(r) => Value::Ref { null: r.is_null() },
    }
}

/// Instantiates `module`, makes the plan's calls and reads the final state.
pub fn observe(engine: &Engine, module: &Module, plan: &Plan) -> Result<Observation> {
    let limits = StoreLimitsBuilder::new()
        .memory_size((MAX_PAGES << 16) as usize)
        .table_elements(MAX_TABLE_ELEMENTS as usize)
        .build();
    let mut store = Store::new(engine, limits);
    store.limiter(|l: &mut StoreLimits| l);
    let linker = Linker::<StoreLimits>::new(engine);
    let mut obs = Observation::default();
    let instance = match linker.instantiate_and_start(&mut store, module) {
        Ok(i) => i,
        Err(e) => {
            let class = trap_class(&e);
            if class == TrapClass::Other {
                return Err(anyhow!("wasmi instantiation: {e}"));
            }
            obs.instantiation = Some(class);
            return Ok(obs);
        }
    };
    let fuel = instance.get_global(&store, FUEL_EXPORT);
    for call in &plan.calls {
        if let Some(g) = &fuel {
            g.set(&mut store, Val::I32(FUEL as i32))
                .map_err(|e| anyhow!("wasmi: refilling fuel: {e}"))?;
        }
        let func = instance
            .get_func(&store, &call.name)
            .ok_or_else(|| anyhow!("wasmi: no exported function `{}`", call.name))?;
        let ty = func.ty(&store);
        let args: Vec<Val> = call
            .args
            .iter()
            .zip(ty.params())
            .map(|(v, t)| to_val(v, t))
            .collect();
        let mut results: Vec<Val> = ty
            .results()
            .iter()
            .map(|t| Val::default_for_ty(*t))
            .collect();
        let outcome = match func.call(&mut store, &args, &mut results) {
            Ok(()) => Outcome::Returned(results.iter().map(from_val).collect()),
            Err(e) => match trap_class(&e) {
                TrapClass::Other => return Err(anyhow!("wasmi call `{}`: {e}", call.name)),
                class => Outcome::Trapped(class),
            },
        };
        let globals = plan
            .globals()
            .map(|name| {
                instance
                    .get_global(&store, name)
                    .map(|g| from_val(&g.get(&store)))
            })
            .collect::<Option<_>>()
            .ok_or_else(|| anyhow!("an exported global is missing"))?;
        if obs.record(&call.name, outcome, globals) {
            return Ok(obs);
        }
    }
    for (name, kind) in &plan.items {
        let missing = || anyhow!("wasmi: no exported {kind:?} `{name}`");
        let state = match (kind, instance.get_export(&store, name).ok_or_else(missing)?) {
            (ItemKind::Global, Extern::Global(g)) => State::Global(from_val(&g.get(&store))),
            (ItemKind::Memory, Extern::Memory(m)) => {
                let data = m.data(&store);
                State::Memory {
                    pages: data.len() as u64 >> 16,
                    hash: fnv1a(data),
                }
            }
            (ItemKind::Table, Extern::Table(t)) => {
                let size = t.size(&store);
                let nulls: Vec<u8> = (0..size)
                    .map(|i| t.get(&store, i).is_none_or(|r| r.is_null()))
                    .map(u8::from)
                    .collect();
                State::Table {
                    size,
                    nulls: fnv1a(&nulls),
                }
            }
            (_, other) => return Err(anyhow!("wasmi: export `{name}` is {other:?}")),
        };
        obs.state.push((name.clone(), state));
    }
    Ok(obs)
}
