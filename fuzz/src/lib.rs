//! Differential fuzzing of wasmaot against the wasmi interpreter.
//!
//! A seed names one random valid module (wasm-smith, restricted to proposals both engines
//! implement, with fuel so it terminates) and the arguments of every call. Both engines
//! instantiate it, call every exported function twice in export order, and report each
//! call's results or trap kind, every exported global after each call and, at the end,
//! every exported memory (size and contents hash) and table (size, null elements). Any difference is a bug in one of the
//! two; so is a compile or instantiation error from wasmaot on a module wasmi accepts.
//! Every fourth seed compiles 32-bit memories with explicit bounds checks instead of the
//! guard region; every third hides the module's tables, so that its funcref tables can be
//! frozen (`call_indirect` through the dispatch array in the object).

pub mod arbiter;
pub mod dispatch;
pub mod generate;
pub mod loops64;
pub mod observe;
pub mod plan;
pub mod run_wasmaot;
pub mod run_wasmi;

use observe::{first_difference, Observation, Outcome};
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;

/// Counts over the seeds that agreed: how the compared calls (and instantiations) ended,
/// and how many modules had a frozen table.
#[derive(Debug, Default)]
pub struct Tally {
    /// Seeds on which the engines agreed.
    pub agreed: u64,
    /// Of those, modules wasmaot compiled with a frozen table.
    pub frozen_tables: u64,
    /// "returned", "trapped: KIND" or "instantiation trapped: KIND", with counts.
    pub ends: BTreeMap<String, u64>,
}

impl Tally {
    /// Adds one agreeing seed.
    pub fn add(&mut self, observation: &Observation, frozen_table: bool) {
        self.agreed += 1;
        self.frozen_tables += u64::from(frozen_table);
        let instantiation = observation
            .instantiation
            .map(|t| format!("instantiation trapped: {t:?}"));
        let calls = observation.calls.iter().map(|(_, o)| match o {
            Outcome::Returned(_) => "returned".to_string(),
            Outcome::Trapped(t) => format!("trapped: {t:?}"),
        });
        for end in instantiation.into_iter().chain(calls) {
            *self.ends.entry(end).or_default() += 1;
        }
    }

    /// Calls (or instantiations) whose end starts with `prefix`.
    pub fn count(&self, prefix: &str) -> u64 {
        let matching = self.ends.iter().filter(|(k, _)| k.starts_with(prefix));
        matching.map(|(_, n)| n).sum()
    }
}

/// What checking one seed found.
#[derive(Debug)]
pub enum Verdict {
    /// Both engines agree.
    Agreed {
        /// What wasmaot observed.
        observation: observe::Observation,
        /// Whether wasmaot compiled a frozen table (the dispatch-array `call_indirect`).
        frozen_table: bool,
    },
    /// Nothing to compare: the generator made no module, or wasmi refused it.
    Skipped(&'static str),
    /// The engines disagree, or wasmaot failed where wasmi did not.
    Diverged {
        /// What differed.
        what: String,
        /// The module, to save for reproduction.
        wasm: Vec<u8>,
        /// The calls made, one per line (`plan::Plan::script`), for replaying on a third
        /// engine (`fuzz/arbiter.py`).
        script: String,
        /// What wasmaot and wasmi observed, when both ran to the end.
        observations: Option<Box<(observe::Observation, observe::Observation)>>,
    },
}

/// Generates the module of `seed`, runs it on both engines and compares.
pub fn check_seed(seed: u64, engine: &wasmi::Engine) -> Verdict {
    let Some(wasm) = generate::module(seed) else {
        return Verdict::Skipped("wasm-smith made no module");
    };
    check_module(seed, wasm, engine)
}

/// The same for the memory64 loop module of `seed` (`loops64.rs`).
pub fn check_loop_seed(seed: u64, engine: &wasmi::Engine) -> Verdict {
    check_module(seed, loops64::module(seed), engine)
}

/// The same for the interpreter-loop module of `seed` (`dispatch.rs`).
pub fn check_dispatch_seed(seed: u64, engine: &wasmi::Engine) -> Verdict {
    check_module(seed, dispatch::module(seed), engine)
}

/// Runs `wasm`, made from `seed`, on both engines and compares.
fn check_module(seed: u64, wasm: Vec<u8>, engine: &wasmi::Engine) -> Verdict {
    // wasmi 2.0 has internal assertions that some valid modules trip (seen in its
    // translator: "entered unreachable code"); the reference failing is a skip, not a stop.
    let compiled = std::panic::catch_unwind(AssertUnwindSafe(|| run_wasmi::compile(engine, &wasm)));
    let Ok(compiled) = compiled else {
        return Verdict::Skipped("wasmi panicked on the module");
    };
    let Some(reference) = compiled else {
        return Verdict::Skipped("wasmi refused the module");
    };
    let mut rng = generate::Rng::new(seed ^ 0x5eed);
    let plan = match plan::plan(&wasm, &mut rng) {
        Ok(p) => p,
        Err(e) => {
            return Verdict::Diverged {
                what: format!("cannot read the generated module: {e}"),
                wasm: wasm.clone(),
                script: String::new(),
                observations: None,
            }
        }
    };
    let diverged = |what: String| Verdict::Diverged {
        what,
        wasm: wasm.clone(),
        script: plan.script(),
        observations: None,
    };
    let observed = std::panic::catch_unwind(AssertUnwindSafe(|| {
        run_wasmi::observe(engine, &reference, &plan)
    }));
    let expected = match observed {
        Ok(Ok(o)) => o,
        Ok(Err(_)) => return Verdict::Skipped("wasmi could not run the module"),
        Err(_) => return Verdict::Skipped("wasmi panicked on the module"),
    };
    // Every fourth seed compiles 32-bit memories with explicit bounds checks.
    let compiled = match run_wasmaot::compile(&wasm, seed % 4 == 3) {
        Ok(c) => c,
        Err(e) => return diverged(e.to_string()),
    };
    let actual = match run_wasmaot::observe(&compiled.module, &plan) {
        Ok(o) => o,
        Err(e) => return diverged(e.to_string()),
    };
    match first_difference(&actual, &expected) {
        Some(what) => Verdict::Diverged {
            what,
            wasm: wasm.clone(),
            script: plan.script(),
            observations: Some(Box::new((actual, expected))),
        },
        None => Verdict::Agreed {
            observation: actual,
            frozen_table: compiled.frozen_table,
        },
    }
}
