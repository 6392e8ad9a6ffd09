//! Runs `.wast` spec scripts through the real pipeline: every module is compiled to a native
//! object exactly as `wasmaot compile` does, loaded in-process by the runtime's object loader,
//! instantiated and called.

mod spectest;
mod values;

use crate::{compile, BoundsChecks, CompileError, CompileOptions};
use std::collections::HashMap;
use wasmaot_runtime::{Error, Extern, Instance, Linker, Module, TrapKind};
use wasmparser::WasmFeatures;
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastDirective, WastExecute, WastInvoke};

/// Counts of one script's directives.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Directives whose expectation held.
    pub passed: usize,
    /// Directives whose expectation failed (see `failures`).
    pub failed: usize,
    /// Directives that need a feature listed as unsupported.
    pub unsupported: usize,
    /// One line per failure: line number, directive and what went wrong.
    pub failures: Vec<String>,
    /// Unsupported features met, with counts.
    pub unsupported_features: Vec<String>,
}

impl Report {
    /// Adds another report's counts.
    pub fn add(&mut self, other: &Report) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.unsupported += other.unsupported;
    }
}

/// Features the spec suite directory `dir` (e.g. `wasm-v2`, `proposals/simd`) is written for.
pub fn features_for(dir: &str) -> WasmFeatures {
    let w2 = WasmFeatures::WASM2;
    match dir.trim_start_matches("proposals/") {
        "wasm-v1" | "wasm-v2" => w2,
        "memory64" => w2 | WasmFeatures::MEMORY64,
        "multi-memory" => w2 | WasmFeatures::MULTI_MEMORY,
        "extended-const" => w2 | WasmFeatures::EXTENDED_CONST,
        "tail-call" => w2 | WasmFeatures::TAIL_CALL,
        "threads" => w2 | WasmFeatures::THREADS,
        "exceptions" => WasmFeatures::WASM3 | WasmFeatures::LEGACY_EXCEPTIONS,
        "relaxed-simd" => w2 | WasmFeatures::RELAXED_SIMD,
        "gc" => WasmFeatures::WASM3,
        "function-references" => w2 | WasmFeatures::FUNCTION_REFERENCES | WasmFeatures::TAIL_CALL,
        _ => WasmFeatures::WASM3,
    }
}

/// The list of unsupported features the runner accepts as "unsupported" rather than
/// "failed": `tests/unsupported.txt`, one `feature: reason` per line.
pub const UNSUPPORTED_LIST: &str = include_str!("../../../tests/unsupported.txt");

fn listed_unsupported(message: &str) -> Option<String> {
    let what = message.strip_prefix("unsupported: ").unwrap_or(message);
    UNSUPPORTED_LIST
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split(':').next())
        .map(str::trim)
        .find(|key| what.starts_with(key))
        .map(str::to_string)
}

/// What compiling or running a directive's module gave.
enum Outcome {
    Ok,
    Fail(String),
    Unsupported(String),
}

/// The state of one script run.
struct Runner {
    features: WasmFeatures,
    bounds_checks: BoundsChecks,
    linker: Linker,
    current: Option<Instance>,
    named: HashMap<String, Instance>,
    definitions: HashMap<String, Module>,
    /// Whether the current module failed as unsupported (its directives are unsupported too).
    current_unsupported: Option<String>,
    /// Module ids, definition ids and registered names that stand for unsupported modules,
    /// with the feature: directives depending on them are unsupported, not failed.
    unsupported_names: HashMap<String, String>,
    counter: usize,
}

/// Runs the text of a `.wast` script, compiling its modules with `bounds_checks`.
pub fn run_script(text: &str, features: WasmFeatures, bounds_checks: BoundsChecks) -> Report {
    let mut report = Report::default();
    let mut lexer = wast::lexer::Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let buf = match ParseBuffer::new_with_lexer(lexer) {
        Ok(b) => b,
        Err(e) => {
            report.failed += 1;
            report.failures.push(format!("parse: {e}"));
            return report;
        }
    };
    let wast: Wast = match parser::parse(&buf) {
        Ok(w) => w,
        Err(e) => {
            report.failed += 1;
            report.failures.push(format!("parse: {e}"));
            return report;
        }
    };
    let mut r = Runner {
        features,
        bounds_checks,
        linker: Linker::new(),
        current: None,
        named: HashMap::new(),
        definitions: HashMap::new(),
        current_unsupported: None,
        unsupported_names: HashMap::new(),
        counter: 0,
    };
    spectest::define(&mut r.linker);
    let mut feats: HashMap<String, usize> = HashMap::new();
    for d in wast.directives {
        let (line, _) = d.span().linecol_in(text);
        let kind = directive_name(&d);
        match r.directive(d) {
            Outcome::Ok => report.passed += 1,
            Outcome::Fail(m) => {
                report.failed += 1;
                report
                    .failures
                    .push(format!("line {}: {kind}: {m}", line + 1));
            }
            Outcome::Unsupported(f) => {
                report.unsupported += 1;
                *feats.entry(f).or_default() += 1;
            }
        }
    }
    let mut feats: Vec<_> = feats.into_iter().collect();
    feats.sort();
    report.unsupported_features = feats
        .into_iter()
        .map(|(f, n)| format!("{f} ({n})"))
        .collect();
    report
}

fn directive_name(d: &WastDirective<'_>) -> &'static str {
    match d {
        WastDirective::Module(_) => "module",
        WastDirective::ModuleDefinition(_) => "module definition",
        WastDirective::ModuleInstance { .. } => "module instance",
        WastDirective::AssertMalformed { .. } => "assert_malformed",
        WastDirective::AssertInvalid { .. } => "assert_invalid",
        WastDirective::Register { .. } => "register",
        WastDirective::Invoke(_) => "invoke",
        WastDirective::AssertTrap { .. } => "assert_trap",
        WastDirective::AssertReturn { .. } => "assert_return",
        WastDirective::AssertExhaustion { .. } => "assert_exhaustion",
        WastDirective::AssertUnlinkable { .. } => "assert_unlinkable",
        WastDirective::AssertException { .. } => "assert_exception",
        _ => "directive",
    }
}

/// Either a compiled module or why not.
enum Compiled {
    Module(Module),
    Invalid(String),
    Unsupported(String),
    Other(String),
}

impl Runner {
    fn compile_bytes(&mut self, wasm: &[u8]) -> Compiled {
        self.counter += 1;
        let opts = CompileOptions {
            name: "wast".into(),
            features: self.features,
            threads: 1,
            bounds_checks: self.bounds_checks,
            ..Default::default()
        };
        match compile(wasm, &opts) {
            Ok(c) => match Module::from_object_bytes(&c.object, Some("wast")) {
                Ok(m) => Compiled::Module(m),
                Err(e) => Compiled::Other(format!("load: {e}")),
            },
            Err(CompileError::Unsupported(m)) => match listed_unsupported(&m) {
                Some(f) => Compiled::Unsupported(f),
                None => Compiled::Other(format!("unlisted unsupported feature: {m}")),
            },
            Err(e @ (CompileError::Invalid { .. } | CompileError::Wat(_))) => {
                Compiled::Invalid(e.to_string())
            }
            Err(e) => Compiled::Other(e.to_string()),
        }
    }

    fn compile_quote(&mut self, q: &mut QuoteWat<'_>) -> Compiled {
        match q.encode() {
            Ok(bytes) => self.compile_bytes(&bytes),
            Err(e) => Compiled::Invalid(e.to_string()),
        }
    }

    fn instantiate(&mut self, m: &Module) -> Result<Instance, Error> {
        self.linker.instantiate(m)
    }

    fn set_current(&mut self, name: Option<&str>, inst: Instance) {
        if let Some(n) = name {
            self.named.insert(n.to_string(), inst.clone());
        }
        self.current = Some(inst);
        self.current_unsupported = None;
    }

    fn directive(&mut self, d: WastDirective<'_>) -> Outcome {
        match d {
            WastDirective::Module(mut q) => {
                let name = q.name().map(|i| i.name().to_string());
                match self.compile_quote(&mut q) {
                    Compiled::Module(m) => match self.instantiate(&m) {
                        Ok(inst) => {
                            self.set_current(name.as_deref(), inst);
                            Outcome::Ok
                        }
                        Err(e) => {
                            self.current = None;
                            match self.unsupported_dependency(&m) {
                                Some(f) => {
                                    self.current_unsupported = Some(f.clone());
                                    if let Some(n) = name {
                                        self.unsupported_names.insert(n, f.clone());
                                    }
                                    Outcome::Unsupported(f)
                                }
                                None => Outcome::Fail(format!("instantiation failed: {e}")),
                            }
                        }
                    },
                    Compiled::Unsupported(f) => {
                        self.current = None;
                        self.current_unsupported = Some(f.clone());
                        if let Some(n) = name {
                            self.unsupported_names.insert(n, f.clone());
                        }
                        Outcome::Unsupported(f)
                    }
                    Compiled::Invalid(m) | Compiled::Other(m) => {
                        self.current = None;
                        Outcome::Fail(m)
                    }
                }
            }
            WastDirective::ModuleDefinition(mut q) => {
                let name = q.name().map(|i| i.name().to_string());
                match self.compile_quote(&mut q) {
                    Compiled::Module(m) => {
                        if let Some(n) = name {
                            self.definitions.insert(n, m);
                        }
                        Outcome::Ok
                    }
                    Compiled::Unsupported(f) => {
                        if let Some(n) = name {
                            self.unsupported_names.insert(n, f.clone());
                        }
                        Outcome::Unsupported(f)
                    }
                    Compiled::Invalid(m) | Compiled::Other(m) => Outcome::Fail(m),
                }
            }
            WastDirective::ModuleInstance {
                instance, module, ..
            } => {
                let def = module.map(|m| m.name()).unwrap_or_default();
                let Some(m) = self.definitions.get(def).cloned() else {
                    if let Some(f) = self.unsupported_names.get(def).cloned() {
                        if let Some(i) = instance {
                            self.unsupported_names
                                .insert(i.name().to_string(), f.clone());
                        }
                        return Outcome::Unsupported(f);
                    }
                    return Outcome::Fail("unknown module definition".into());
                };
                match self.instantiate(&m) {
                    Ok(inst) => {
                        self.set_current(instance.map(|i| i.name()), inst);
                        Outcome::Ok
                    }
                    Err(e) => Outcome::Fail(format!("instantiation failed: {e}")),
                }
            }
            WastDirective::Register { name, module, .. } => {
                match self.instance(module.map(|m| m.name())) {
                    Ok(inst) => {
                        self.linker.instance(name, &inst);
                        Outcome::Ok
                    }
                    Err(Outcome::Unsupported(f)) => {
                        self.unsupported_names.insert(name.to_string(), f.clone());
                        Outcome::Unsupported(f)
                    }
                    Err(o) => o,
                }
            }
            WastDirective::Invoke(inv) => match self.invoke(&inv) {
                Ok(_) => Outcome::Ok,
                Err(o) => o,
            },
            WastDirective::AssertReturn { exec, results, .. } => match self.exec(exec) {
                Ok(Ok(vals)) => values::check_results(&vals, &results),
                Ok(Err(e)) => Outcome::Fail(format!("unexpected error: {e}")),
                Err(o) => o,
            },
            WastDirective::AssertTrap { exec, message, .. } => match self.exec(exec) {
                Ok(Ok(vals)) => Outcome::Fail(format!("expected trap `{message}`, got {vals:?}")),
                Ok(Err(e)) => trap_matches(&e, message),
                Err(o) => o,
            },
            WastDirective::AssertExhaustion { call, message, .. } => match self.invoke(&call) {
                Ok(vals) => Outcome::Fail(format!("expected `{message}`, got {vals:?}")),
                Err(Outcome::Fail(m)) if m.contains(TrapKind::StackOverflow.message()) => {
                    Outcome::Ok
                }
                Err(o) => o,
            },
            WastDirective::AssertInvalid {
                mut module,
                message,
                ..
            }
            | WastDirective::AssertMalformed {
                mut module,
                message,
                ..
            } => match self.compile_quote(&mut module) {
                Compiled::Invalid(_) => Outcome::Ok,
                Compiled::Unsupported(f) => Outcome::Unsupported(f),
                Compiled::Module(_) => Outcome::Fail(format!("expected `{message}`, compiled")),
                Compiled::Other(m) => Outcome::Fail(format!("expected `{message}`, got {m}")),
            },
            WastDirective::AssertUnlinkable {
                module, message, ..
            } => {
                let mut q = QuoteWat::Wat(module);
                match self.compile_quote(&mut q) {
                    Compiled::Module(m) => match self.instantiate(&m) {
                        Ok(_) => Outcome::Fail(format!("expected `{message}`, instantiated")),
                        Err(Error::Link(_)) | Err(Error::Instantiation(_)) => Outcome::Ok,
                        Err(e) => Outcome::Fail(format!("expected link error, got {e}")),
                    },
                    Compiled::Unsupported(f) => Outcome::Unsupported(f),
                    Compiled::Invalid(m) | Compiled::Other(m) => Outcome::Fail(m),
                }
            }
            WastDirective::AssertException { exec, .. } => match self.exec(exec) {
                Ok(Ok(vals)) => Outcome::Fail(format!("expected an exception, got {vals:?}")),
                Ok(Err(Error::Trap(t))) if t.kind == TrapKind::UncaughtException => Outcome::Ok,
                Ok(Err(e)) => Outcome::Fail(format!("expected an exception, got {e}")),
                Err(o) => o,
            },
            WastDirective::Thread(_) | WastDirective::Wait { .. } => {
                Outcome::Unsupported("threads".into())
            }
            _ => Outcome::Unsupported("directive".into()),
        }
    }

    /// The named or current instance.
    fn instance(&self, name: Option<&str>) -> Result<Instance, Outcome> {
        let found = match name {
            Some(n) => self.named.get(n).cloned(),
            None => self.current.clone(),
        };
        found.ok_or_else(|| {
            let unsupported = match name {
                Some(n) => self.unsupported_names.get(n),
                None => self.current_unsupported.as_ref(),
            };
            match unsupported {
                Some(f) => Outcome::Unsupported(f.clone()),
                None => Outcome::Fail(format!("no instance {name:?}")),
            }
        })
    }

    /// The feature of an unsupported module this module imports from, if any.
    fn unsupported_dependency(&self, m: &Module) -> Option<String> {
        m.info()
            .imports
            .iter()
            .find_map(|i| self.unsupported_names.get(&i.module).cloned())
    }

    /// Calls an export; the outer error is a script problem, the inner one the call's.
    fn call(
        &mut self,
        inv: &WastInvoke<'_>,
    ) -> Result<Result<Vec<wasmaot_runtime::Val>, Error>, Outcome> {
        let inst = self.instance(inv.module.map(|m| m.name()))?;
        let func = inst
            .get_func(inv.name)
            .ok_or_else(|| Outcome::Fail(format!("no export `{}`", inv.name)))?;
        let mut args = Vec::new();
        for a in &inv.args {
            match a {
                wast::WastArg::Core(c) => args.push(values::arg(c)?),
                _ => return Err(Outcome::Unsupported("component-model".into())),
            }
        }
        Ok(func.call(&args))
    }

    fn invoke(&mut self, inv: &WastInvoke<'_>) -> Result<Vec<wasmaot_runtime::Val>, Outcome> {
        self.call(inv)?.map_err(|e| Outcome::Fail(e.to_string()))
    }

    /// Runs an `exec` (invoke, get, or module instantiation); the inner result is the call's.
    fn exec(
        &mut self,
        exec: WastExecute<'_>,
    ) -> Result<Result<Vec<wasmaot_runtime::Val>, Error>, Outcome> {
        match exec {
            WastExecute::Invoke(inv) => self.call(&inv),
            WastExecute::Get { module, global, .. } => {
                let inst = self.instance(module.map(|m| m.name()))?;
                match inst.get_export(global) {
                    Some(Extern::Global(g)) => Ok(Ok(vec![g.get()])),
                    _ => Err(Outcome::Fail(format!("no global `{global}`"))),
                }
            }
            WastExecute::Wat(w) => {
                let mut q = QuoteWat::Wat(w);
                match self.compile_quote(&mut q) {
                    Compiled::Module(m) => Ok(self.instantiate(&m).map(|_| vec![])),
                    Compiled::Unsupported(f) => Err(Outcome::Unsupported(f)),
                    Compiled::Invalid(m) | Compiled::Other(m) => Err(Outcome::Fail(m)),
                }
            }
        }
    }
}

/// Whether an error is the trap the script expects.
fn trap_matches(e: &Error, expected: &str) -> Outcome {
    let got = match e {
        Error::Trap(t) => t.kind.message().to_string(),
        other => other.to_string(),
    };
    if got.contains(expected) || expected.contains(&got) || equivalent_message(&got, expected) {
        Outcome::Ok
    } else {
        Outcome::Fail(format!("expected trap `{expected}`, got `{e}`"))
    }
}

/// Spec wording variants for the same trap.
fn equivalent_message(got: &str, expected: &str) -> bool {
    // Older scripts say "undefined element" where newer ones say "out of bounds table access".
    matches!(
        (got, expected),
        ("out of bounds table access", "undefined element")
            | ("undefined element", "out of bounds table access")
    )
}
