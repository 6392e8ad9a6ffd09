//! Linear memory through compiled code: bounds checks at every edge in both bounds-checking
//! modes and for memory64 (loops whose check moved to the loop entry included), proof from
//! the generated code that guard-mode accesses carry no check, `memory.grow`/`memory.size`, the seeds' WebAssembly.Memory semantics, imports and
//! exports, multi-memory, shared memories across threads, data segments, and many instances.
//!
//! Tests that count the process's mappings take [`exclusive`]; every other test holds
//! [`shared`] so that nothing creates or drops memories while they measure.

#[path = "../common/mod.rs"]
mod common;

use common::{call, trap_of};
use std::sync::{Arc, Barrier, RwLock, RwLockReadGuard, RwLockWriteGuard};
use wasmaot::runtime::layout::{BoundsChecks, MemoryType, TrapKind, WASM_PAGE_SIZE};
use wasmaot::runtime::memory::{self, MemoryError, MemoryLayout};
use wasmaot::runtime::{Error, Func, FuncType, Instance, Linker, Memory, Module, Val};
use wasmaot::CompileOptions;
use Val::{I32, I64};

const PAGE: u64 = WASM_PAGE_SIZE;
const OOB: &str = "out of bounds memory access";
const MODES: [BoundsChecks; 2] = [BoundsChecks::Guard, BoundsChecks::Explicit];

static LOCK: RwLock<()> = RwLock::new(());

fn shared() -> RwLockReadGuard<'static, ()> {
    LOCK.read().unwrap_or_else(|e| e.into_inner())
}

fn exclusive() -> RwLockWriteGuard<'static, ()> {
    LOCK.write().unwrap_or_else(|e| e.into_inner())
}

fn opts(mode: BoundsChecks) -> CompileOptions {
    CompileOptions {
        name: "t".into(),
        bounds_checks: mode,
        ..Default::default()
    }
}

/// Options that also accept shared memories (the threads proposal's memory types; atomic
/// instructions stay unsupported).
fn threads_opts(mode: BoundsChecks) -> CompileOptions {
    CompileOptions {
        features: wasmaot::supported_features() | wasmparser::WasmFeatures::THREADS,
        ..opts(mode)
    }
}

fn module_with(wat: &str, o: &CompileOptions) -> Module {
    let out = wasmaot::compile(wat.as_bytes(), o).expect("compiles");
    assert_eq!(out.info.bounds_checks, o.bounds_checks);
    Module::from_object_bytes(&out.object, Some(&o.name)).expect("loads")
}

fn module_in(wat: &str, mode: BoundsChecks) -> Module {
    module_with(wat, &opts(mode))
}

fn instance_in(wat: &str, mode: BoundsChecks) -> Instance {
    Linker::new()
        .instantiate(&module_in(wat, mode))
        .expect("instantiates")
}

fn ok(inst: &Instance, name: &str, args: &[Val]) -> Vec<Val> {
    call(inst, name, args).unwrap_or_else(|e| panic!("{name}{args:?}: {e}"))
}

fn i32_of(inst: &Instance, name: &str, args: &[Val]) -> i32 {
    match ok(inst, name, args).as_slice() {
        [I32(x)] => *x,
        other => panic!("{name}: {other:?}"),
    }
}

fn i64_of(inst: &Instance, name: &str, args: &[Val]) -> i64 {
    match ok(inst, name, args).as_slice() {
        [I64(x)] => *x,
        other => panic!("{name}: {other:?}"),
    }
}

fn traps(inst: &Instance, name: &str, args: &[Val]) {
    assert_eq!(trap_of(call(inst, name, args)), OOB, "{name}{args:?}");
}

fn mem_ty(initial: u64, maximum: Option<u64>) -> MemoryType {
    MemoryType {
        initial,
        maximum,
        memory64: false,
        shared: false,
    }
}

fn bytes(m: &Memory, at: u64, n: usize) -> Vec<u8> {
    let mut b = vec![0; n];
    assert!(m.read(at, &mut b), "read {at}+{n}");
    b
}

fn link_err(r: Result<Instance, Error>) -> String {
    match r {
        Err(Error::Link(m)) => m,
        other => panic!("expected a link error, got {other:?}"),
    }
}

// The tests, by topic. The files are `include!`d rather than declared as modules so that the
// tests stay at the crate root, keeping their names (`seed_host_memory_api`, not
// `seeds::seed_host_memory_api`), and see the helpers above without imports.
include!("seeds.rs");
include!("bounds.rs");
include!("loops64.rs");
include!("codegen.rs");
include!("imports.rs");
include!("instances.rs");
