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

/// The `wasmaot` binary under test.
pub fn wasmaot_bin() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_BIN_EXE_wasmaot"))
}

/// The runtime static library built with the binary under test: the newest
/// `libwasmaot_runtime*.a` in the binary's directory or its `deps/` (cargo builds the
/// staticlib whenever it builds the runtime crate).
pub fn runtime_lib() -> std::path::PathBuf {
    let dir = wasmaot_bin().parent().unwrap().to_path_buf();
    let mut best: Option<(std::time::SystemTime, std::path::PathBuf)> = None;
    for d in [dir.clone(), dir.join("deps")] {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("libwasmaot_runtime") && name.ends_with(".a") {
                let t = e.metadata().and_then(|m| m.modified()).unwrap();
                if best.as_ref().is_none_or(|(bt, _)| t > *bt) {
                    best = Some((t, e.path()));
                }
            }
        }
    }
    best.expect("libwasmaot_runtime.a is built with the wasmaot package")
        .1
}

/// A `wasmaot` command that finds the runtime library.
pub fn wasmaot() -> std::process::Command {
    let mut c = std::process::Command::new(wasmaot_bin());
    c.env("WASMAOT_RUNTIME_LIB", runtime_lib());
    c
}

/// A small deterministic generator (xorshift64*) for tests that build random modules.
pub struct Rng(pub u64);

impl Rng {
    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// The line range of the last loop in CLIF text: from the header's label line to the last
/// branch back to it (a branch naming a block whose label came earlier).
pub fn loop_lines(clif: &str) -> (usize, usize) {
    let mut seen: Vec<(String, usize)> = Vec::new();
    let mut range = None;
    for (n, l) in clif.lines().enumerate() {
        let t = l.trim_end();
        // A block label line is "blockN(...):" or "blockN:".
        if t.starts_with("block") && t.ends_with(':') {
            let name = t.trim_end_matches(':').split('(').next().unwrap();
            seen.push((name.to_string(), n));
            continue;
        }
        if t.contains("brif") || t.contains("jump") {
            let words: Vec<&str> = t.split(|c: char| !c.is_alphanumeric()).collect();
            if let Some((_, at)) = seen.iter().find(|(b, _)| words.contains(&b.as_str())) {
                range = Some((*at, n));
            }
        }
    }
    range.unwrap_or_else(|| panic!("no loop in\n{clif}"))
}
