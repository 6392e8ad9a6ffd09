//! A fixed range of fuzzer seeds must run identically on wasmaot and wasmi. New seeds are
//! checked with `cargo run --release -p wasmaot-fuzz -- --seed S -n N`.

use wasmaot_fuzz::observe::Outcome;
use wasmaot_fuzz::{
    check_dispatch_seed, check_loop_seed, check_seed, run_wasmaot, run_wasmi, Tally, Verdict,
};

/// Runs `f` on a thread with a large stack: wasmi's threaded dispatch only runs in constant
/// stack when its crate is built with optimisations and without debug assertions, and test
/// builds keep those on (a debug build overflowed 2 MiB inside wasmi's handlers).
fn with_big_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(f)
        .expect("spawn")
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
}

#[test]
fn wasmaot_agrees_with_wasmi_on_random_modules() {
    with_big_stack(agree_on_seeds);
}

/// Checks `seeds` with `check`, asserts that none diverged (nor was skipped, unless
/// `may_skip`), and returns the tally of those that agreed.
fn run_seeds(
    seeds: std::ops::Range<u64>,
    check: fn(u64, &wasmi::Engine) -> Verdict,
    may_skip: bool,
) -> Tally {
    run_wasmaot::set_limits();
    let engine = run_wasmi::engine();
    let mut tally = Tally::default();
    let mut diverged = Vec::new();
    for seed in seeds {
        match check(seed, &engine) {
            Verdict::Agreed {
                observation,
                frozen_table,
            } => tally.add(&observation, frozen_table),
            Verdict::Skipped(_) if may_skip => {}
            Verdict::Skipped(why) => diverged.push(format!("seed {seed}: skipped: {why}")),
            Verdict::Diverged { what, .. } => diverged.push(format!("seed {seed}: {what}")),
        }
    }
    assert!(diverged.is_empty(), "{}", diverged.join("\n"));
    tally
}

fn agree_on_seeds() {
    let tally = run_seeds(0..1500, check_seed, true);
    // The comparison must have had something to compare: most seeds make a module both
    // engines run, calls both return and trap, and some modules reach the frozen-table path.
    let (returned, trapped) = (tally.count("returned"), tally.count("trapped"));
    assert!(
        tally.agreed >= 1400,
        "only {} of 1500 seeds compared",
        tally.agreed
    );
    assert!(
        returned >= 3000 && trapped >= 3000,
        "{returned} returned, {trapped} trapped"
    );
    let frozen = tally.frozen_tables;
    assert!(frozen >= 50, "only {frozen} modules had a frozen table");
}

/// The memory64 loops whose bounds checks move to the loop entry (`src/loops64.rs`) trap on
/// the same trip, with the same globals and memory, as in wasmi. (This range caught both a
/// missing "nothing observable before the access" test and a missing stride bound when
/// either was taken out of compiler/src/translate/loop_checks.rs, and compares moved out of a
/// loop nest past a store in the outer loop.) A third of the loops run inside an outer loop
/// that walks them off memory on a later trip, so fewer calls return than trap.
#[test]
fn wasmaot_agrees_with_wasmi_on_memory64_loops() {
    with_big_stack(|| {
        let tally = run_seeds(0..1000, check_loop_seed, false);
        let returned = tally.count("returned");
        let oob = tally.count("trapped: MemoryOutOfBounds");
        assert!(
            returned >= 200 && oob >= 2000,
            "{returned} returned, {oob} out of bounds"
        );
    });
}

/// Interpreter loops (`src/dispatch.rs`) compute, trap and leave memory as in wasmi, with
/// their dispatch copied into the cases by compiler/src/threaded_dispatch.rs on most of them:
/// the test counts the functions whose optimised code has more `br_table`s than their Wasm.
#[test]
fn wasmaot_agrees_with_wasmi_on_interpreter_loops() {
    with_big_stack(|| {
        let tally = run_seeds(0..1000, check_dispatch_seed, false);
        let returned = tally.count("returned");
        let trapped = tally.count("trapped: DivisionByZero");
        assert!(
            returned >= 1000 && trapped >= 500,
            "{returned} returned, {trapped} trapped"
        );
        let (mut functions, mut threaded) = (0, 0);
        let opts = wasmaot::CompileOptions::default();
        for seed in 0..100 {
            let wasm = wasmaot_fuzz::dispatch::module(seed);
            // Function 0 is the helper every case may call; the exported loops follow.
            for f in 1.. {
                let Ok(d) = wasmaot::debug::dump_function(&wasm, f, &opts) else {
                    break;
                };
                functions += 1;
                if d.optimized.matches("br_table").count() > d.clif.matches("br_table").count() {
                    threaded += 1;
                }
            }
        }
        assert!(
            functions >= 150 && threaded * 2 >= functions,
            "{threaded} of {functions} functions had their dispatch copied"
        );
    });
}

#[test]
fn a_wrong_result_is_reported() {
    // The comparison itself: an observation that differs in one result is a divergence.
    use wasmaot_fuzz::observe::{first_difference, Observation, Value};
    let a = Observation {
        calls: vec![("f".into(), Outcome::Returned(vec![Value::I32(1)]))],
        ..Default::default()
    };
    let mut b = a.clone();
    assert_eq!(first_difference(&a, &b), None);
    b.calls[0].1 = Outcome::Returned(vec![Value::I32(2)]);
    assert!(first_difference(&a, &b).unwrap().contains("call #0 `f`"));
}

#[test]
fn the_reference_bug_workaround_keeps_the_meaning() {
    // `select(1, x, eqz x)` is `x` or 1 when x is 0; the rewritten module must still say so
    // on both engines (wasmi 2.0.0 alone returns 1 for every x on the original).
    // `g` is the same bug through `i32.eq` with 0 and an `f32` select.
    let wasm = wat::parse_str(
        r#"(module
             (func (export "f") (param i32) (result i32)
               i32.const 1 local.get 0 local.get 0 i32.eqz select)
             (func (export "g") (param i32) (result f32)
               local.get 0 f32.convert_i32_s f32.const -100 local.get 0 i32.const 0 i32.eq
               select))"#,
    )
    .unwrap();
    let rewritten = wasmaot_fuzz::generate::rewrite(&wasm, Default::default()).unwrap();
    assert_ne!(rewritten, wasm);
    let mut rng = wasmaot_fuzz::generate::Rng::new(1);
    let plan = wasmaot_fuzz::plan::plan(&rewritten, &mut rng).unwrap();
    run_wasmaot::set_limits();
    let ours = run_wasmaot::observe(
        &run_wasmaot::compile(&rewritten, false).unwrap().module,
        &plan,
    )
    .unwrap();
    let engine = run_wasmi::engine();
    let module = run_wasmi::compile(&engine, &rewritten).unwrap();
    let theirs = run_wasmi::observe(&engine, &module, &plan).unwrap();
    assert_eq!(ours, theirs);
    use wasmaot_fuzz::observe::Value;
    for (call, (_, outcome)) in plan.calls.iter().zip(&ours.calls) {
        let Value::I32(x) = call.args[0] else {
            panic!("i32 argument")
        };
        let want = match call.name.as_str() {
            "f" => Value::I32(if x == 0 { 1 } else { x }),
            _ => Value::F32(if x == 0 { 0.0f32 } else { -100.0 }.to_bits()),
        };
        assert_eq!(
            *outcome,
            Outcome::Returned(vec![want]),
            "{}({x})",
            call.name
        );
    }
}
