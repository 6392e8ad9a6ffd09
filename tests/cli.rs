//! The command line and the object it writes: bad input gives one clear line and no output;
//! objects are relocatable x86-64 ELF with the documented symbols, deterministic across
//! thread counts; objects link into C programs (the examples), also several at once.

mod common;

use common::{runtime_lib, wasmaot};
use std::path::Path;
use std::process::{Command, Output};

/// Writes `text` to `dir/name` (a test input) and returns the path.
fn write_file(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts the command failed with status 1, one `error:` line naming `needle`, no panic.
fn assert_clean_failure(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "exit status; stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "`{n}` in: {err}");
    }
}

const GOOD: &str = r#"(module (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1))))"#;

#[test]
fn bad_input_gives_one_line_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("out.o");
    let good = d.join("good.wat");
    std::fs::write(&good, GOOD).unwrap();
    let wasm = wat::parse_str(GOOD).unwrap();

    let missing = d.join("missing.wasm");
    let o = run(wasmaot()
        .args(["compile"])
        .arg(&missing)
        .arg("-o")
        .arg(&out));
    assert_clean_failure(&o, &["missing.wasm", "No such file"]);

    let truncated = d.join("truncated.wasm");
    std::fs::write(&truncated, &wasm[..wasm.len() - 3]).unwrap();
    let o = run(wasmaot()
        .args(["compile"])
        .arg(&truncated)
        .arg("-o")
        .arg(&out));
    assert_clean_failure(&o, &["truncated.wasm", "byte offset"]);

    let invalid = d.join("invalid.wat");
    std::fs::write(&invalid, r#"(module (func (result i32) (i64.const 1)))"#).unwrap();
    let o = run(wasmaot()
        .args(["compile"])
        .arg(&invalid)
        .arg("-o")
        .arg(&out));
    assert_clean_failure(&o, &["invalid.wat", "type mismatch", "byte offset"]);

    // An unknown opcode (0xff) in a function body.
    let mut bad_op = wasm.clone();
    let pos = bad_op.windows(2).position(|w| w == [0x20, 0x00]).unwrap();
    bad_op[pos] = 0xff;
    let unknown = d.join("opcode.wasm");
    std::fs::write(&unknown, &bad_op).unwrap();
    let o = run(wasmaot()
        .args(["compile"])
        .arg(&unknown)
        .arg("-o")
        .arg(&out));
    assert_clean_failure(&o, &["opcode.wasm", "byte offset"]);

    let syntax = d.join("syntax.wat");
    std::fs::write(&syntax, "(module (func (i32.add").unwrap();
    let o = run(wasmaot().args(["compile"]).arg(&syntax).arg("-o").arg(&out));
    assert_clean_failure(&o, &["syntax.wat"]);

    let o = run(wasmaot()
        .args(["compile"])
        .arg(&good)
        .args(["-o", "/nonexistent-dir/out.o"]));
    assert_clean_failure(&o, &["/nonexistent-dir/out.o"]);

    let o = run(wasmaot().args(["compile", "--frobnicate"]).arg(&good));
    assert_clean_failure(&o, &["--frobnicate"]);

    assert!(!out.exists(), "no output file after failures");
    let leftovers: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no temporary files left: {leftovers:?}"
    );

    // And the good input works.
    let o = run(wasmaot().args(["compile"]).arg(&good).arg("-o").arg(&out));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.exists());
}

#[test]
fn object_is_relocatable_elf_with_documented_symbols() {
    let dir = tempfile::tempdir().unwrap();
    let obj = dir.path().join("sum.o");
    let o = run(wasmaot()
        .args(["compile", "../examples/sum/sum.wat", "--name", "sum", "-o"])
        .arg(&obj));
    assert!(o.status.success(), "{}", stderr(&o));
    let h = run(Command::new("readelf").arg("-h").arg(&obj));
    let h = String::from_utf8_lossy(&h.stdout);
    assert!(h.contains("REL (Relocatable file)"), "{h}");
    assert!(h.contains("X86-64"), "{h}");
    let nm = run(Command::new("nm").arg(&obj));
    let nm = String::from_utf8_lossy(&nm.stdout);
    for global in ["T sum_sum", "T sum_add_page", "sum_wasmaot_module"] {
        assert!(nm.contains(global), "{global} in:\n{nm}");
    }
    assert!(nm.contains("U wasmaot_invoke"), "{nm}");
}

#[test]
fn name_section_names_become_local_symbols() {
    let dir = tempfile::tempdir().unwrap();
    let src = write_file(
        dir.path(),
        "named.wat",
        r#"(module (func $fib (export "f") (param i32) (result i32) (local.get 0)))"#,
    );
    let obj = dir.path().join("named.o");
    assert!(run(wasmaot().arg("compile").arg(&src).arg("-o").arg(&obj))
        .status
        .success());
    let nm = run(Command::new("nm").arg(&obj));
    let nm = String::from_utf8_lossy(&nm.stdout);
    assert!(nm.lines().any(|l| l.ends_with(" t fib")), "{nm}");
}

#[test]
fn output_is_byte_identical_across_runs_and_thread_counts() {
    let dir = tempfile::tempdir().unwrap();
    let input = Path::new("../tests/wasi-programs/files.wasm");
    let mut outputs = Vec::new();
    for (i, j) in ["1", "0", "1", "4"].iter().enumerate() {
        let obj = dir.path().join(format!("o{i}.o"));
        let o = run(wasmaot()
            .arg("compile")
            .arg(input)
            .args(["--name", "files", "-j", j, "-o"])
            .arg(&obj));
        assert!(o.status.success(), "{}", stderr(&o));
        outputs.push(std::fs::read(&obj).unwrap());
    }
    assert!(outputs.len() == 4 && outputs.windows(2).all(|w| w[0] == w[1]));
}

fn cc(args: &[&Path], include: &Path, exe: &Path) {
    let o = run(Command::new("cc")
        .arg(format!("-I{}", include.display()))
        .arg("-I../runtime/include")
        .args(args)
        .arg(runtime_lib())
        .args(["-lpthread", "-ldl", "-lm", "-lrt", "-lutil", "-o"])
        .arg(exe));
    assert!(o.status.success(), "cc failed: {}", stderr(&o));
}

#[test]
fn examples_link_into_c_programs_and_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (name, wat, main) in [
        ("sum", "../examples/sum/sum.wat", "../examples/sum/main.c"),
        (
            "accumulate",
            "../examples/accumulate/accumulate.wat",
            "../examples/accumulate/main.c",
        ),
    ] {
        let obj = d.join(format!("{name}.o"));
        let o = run(wasmaot()
            .args(["compile", wat, "-o"])
            .arg(&obj)
            .arg("--header")
            .arg(d.join(format!("{name}.h"))));
        assert!(o.status.success(), "{}", stderr(&o));
        let exe = d.join(name);
        cc(&[Path::new(main), &obj], d, &exe);
        let o = run(&mut Command::new(&exe));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{name}: {out}{}", stderr(&o));
        match name {
            "sum" => {
                assert!(out.contains("7 + 4 = 11 (read from byte 8)"), "{out}");
                assert!(out.contains("data segment: xịn xò (9 bytes)"), "{out}");
                assert!(
                    out.contains("add_page returned 1; pages now 2, bytes 131072"),
                    "{out}"
                );
            }
            _ => assert!(
                out.contains("= 45 in instance a, 45 in instance b"),
                "{out}"
            ),
        }
    }
}

#[test]
fn two_modules_link_into_one_binary_and_traps_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = write_file(
        d,
        "m.wat",
        r#"(module
          (func (export "div") (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1)))
          (func (export "twice") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2))))"#,
    );
    for n in ["alpha", "beta"] {
        let o = run(wasmaot()
            .arg("compile")
            .arg(&src)
            .args(["--name", n, "-o"])
            .arg(d.join(format!("{n}.o")))
            .arg("--header")
            .arg(d.join(format!("{n}.h"))));
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let main = write_file(
        d,
        "main.c",
        r#"#include <stdio.h>
#include "alpha.h"
#include "beta.h"
int main(void) {
  alpha_instance *a = alpha_new(NULL);
  beta_instance *b = beta_new(NULL);
  printf("%d %d\n", alpha_twice(a, 21), beta_div(b, 84, 2));
  beta_div(b, 1, 0);
  printf("trap %d: %s\n", wasmaot_last_trap(), wasmaot_trap_message());
  printf("after trap %d\n", alpha_twice(a, 5));
  alpha_delete(a);
  beta_delete(b);
  return 0;
}
"#,
    );
    let exe = d.join("two");
    cc(&[&main, &d.join("alpha.o"), &d.join("beta.o")], d, &exe);
    let o = run(&mut Command::new(&exe));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    assert!(out.contains("42 42"), "{out}");
    assert!(
        out.contains("trap 9: wasm trap: integer divide by zero (in function f0)"),
        "{out}"
    );
    assert!(
        out.contains("after trap 10"),
        "the process survives a trap: {out}"
    );
}

#[test]
fn run_invoke_prints_results_and_traps() {
    let o = run(wasmaot().args(["run", "../examples/sum/sum.wat", "--invoke", "add_page"]));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "1\n");
    let dir = tempfile::tempdir().unwrap();
    let src = write_file(
        dir.path(),
        "f.wat",
        r#"(module
          (func (export "pair") (param i64 f32) (result i64 f64)
            (local.get 0) (f64.promote_f32 (local.get 1)))
          (func (export "boom") (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0))))"#,
    );
    let o = run(wasmaot()
        .arg("run")
        .arg(&src)
        .args(["--invoke", "pair", "-9000000000", "2.5"]));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "-9000000000\n2.5\n");
    let o = run(wasmaot()
        .arg("run")
        .arg(&src)
        .args(["--invoke", "boom", "0"]));
    assert_ne!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains("error: wasm trap: integer divide by zero (in function f1)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn inspect_lists_memories_like_wasm_objdump() {
    let dir = tempfile::tempdir().unwrap();
    let src = write_file(
        dir.path(),
        "m.wat",
        r#"(module (import "js" "mem" (memory 1 3)) (memory i64 2)
          (global (export "g") (mut i32) (i32.const 1)) (table 2 funcref))"#,
    );
    let o = run(wasmaot().arg("inspect").arg(&src));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    assert!(
        out.contains("memory[0] pages: initial=1 max=3 <- js.mem"),
        "{out}"
    );
    assert!(out.contains("memory[1] pages: initial=2 i64"), "{out}");
    assert!(out.contains("global[0] i32 mutable=1"), "{out}");
    assert!(out.contains("table[0] type=funcref initial=2"), "{out}");
}

#[test]
fn native_c_symbols_implement_function_imports() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = write_file(
        d,
        "host.wat",
        r#"(module
          (import "env" "scale" (func $scale (param i32) (result i32)))
          (import "env" "log-pair" (func $log (param i64 f64)))
          (memory (export "memory") 1)
          (func (export "run") (param i32) (result i32)
            (call $log (i64.const -5) (f64.const 0.25))
            (i32.add (call $scale (local.get 0)) (i32.const 1))))"#,
    );
    let o = run(wasmaot()
        .arg("compile")
        .arg(&src)
        .args(["--name", "host", "-o"])
        .arg(d.join("host.o"))
        .arg("--header")
        .arg(d.join("host.h")));
    assert!(o.status.success(), "{}", stderr(&o));
    let header = std::fs::read_to_string(d.join("host.h")).unwrap();
    assert!(
        header.contains("int32_t host_import_env_scale(host_instance *caller, int32_t p0);"),
        "{header}"
    );
    assert!(
        header.contains(
            "void host_import_env__log_2Dpair(host_instance *caller, int64_t p0, double p1);"
        ),
        "{header}"
    );
    let main = write_file(
        d,
        "main.c",
        r#"#include <stdio.h>
#include "host.h"
static host_instance *expected;
int32_t host_import_env_scale(host_instance *caller, int32_t x) {
  /* The caller's memory is reachable from the instance handed in. */
  host_memory_data(caller)[0] = 42;
  return caller == expected ? x * 10 : -1;
}
void host_import_env__log_2Dpair(host_instance *caller, int64_t a, double b) {
  printf("log %lld %.2f\n", (long long)a, b);
}
int main(void) {
  wasmaot_error_t *err = NULL;
  host_instance *i = host_new(&err);
  if (!i) { printf("error: %s\n", wasmaot_error_message(err)); return 1; }
  expected = i;
  int32_t r = host_run(i, 4);
  printf("run(4) = %d, memory[0] = %d\n", r, host_memory_data(i)[0]);
  host_delete(i);
  return 0;
}
"#,
    );
    let exe = d.join("host");
    cc(&[&main, &d.join("host.o")], d, &exe);
    let o = run(&mut Command::new(&exe));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    assert!(out.contains("log -5 0.25"), "{out}");
    assert!(out.contains("run(4) = 41, memory[0] = 42"), "{out}");
}

/// `--cpu` picks the instructions: `baseline` (x86-64-v2) counts trailing zeros with `bsf`
/// plus a zero fix-up, `x86-64-v3` with BMI1's `tzcnt`; both give Wasm's answer for 0 (32).
/// A level for another architecture and an unknown level are one-line errors.
#[test]
fn cpu_levels_select_instructions_and_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let src = write_file(
        dir.path(),
        "ctz.wat",
        r#"(module (func (export "ctz") (param i32) (result i32) (i32.ctz (local.get 0))))"#,
    );
    let disasm = |cpu: &str| {
        let obj = dir.path().join(format!("{cpu}.o"));
        let o = run(wasmaot()
            .arg("compile")
            .arg(&src)
            .args(["--cpu", cpu, "-o"])
            .arg(&obj));
        assert!(o.status.success(), "--cpu {cpu}: {}", stderr(&o));
        let d = run(Command::new("objdump").arg("-d").arg(&obj));
        String::from_utf8_lossy(&d.stdout).into_owned()
    };
    let (v2, v3) = (disasm("baseline"), disasm("x86-64-v3"));
    assert!(v2.contains("bsf") && !v2.contains("tzcnt"), "{v2}");
    assert!(v3.contains("tzcnt") && !v3.contains("bsf"), "{v3}");
    assert_eq!(disasm("x86-64-v2"), v2.replace("baseline.o", "x86-64-v2.o"));
    if std::arch::is_x86_feature_detected!("bmi1") && std::arch::is_x86_feature_detected!("avx2") {
        for (arg, want) in [("0", "32\n"), ("40", "3\n")] {
            let o = run(wasmaot()
                .arg("run")
                .args(["--cpu", "x86-64-v3"])
                .arg(&src)
                .args(["--invoke", "ctz", arg]));
            assert_eq!(String::from_utf8_lossy(&o.stdout), want, "{}", stderr(&o));
        }
    }
    let o = run(wasmaot()
        .arg("compile")
        .arg(&src)
        .args([
            "--cpu",
            "x86-64-v3",
            "--target",
            "aarch64-unknown-linux-gnu",
            "-o",
        ])
        .arg(dir.path().join("arm.o")));
    assert_clean_failure(&o, &["x86-64-v3", "aarch64"]);
    assert!(!dir.path().join("arm.o").exists());
    let o = run(wasmaot()
        .arg("compile")
        .arg(&src)
        .args(["--cpu", "pentium", "-o"])
        .arg(dir.path().join("p.o")));
    assert_clean_failure(&o, &["pentium", "x86-64-v3"]);
}

/// A module whose `_start` (or, with `in_start_fn`, whose Wasm start function, which runs
/// during instantiation) counts down from 200 million, then exits with status 3.
fn spinning_command(in_start_fn: bool) -> String {
    let spin = r#"(func $spin (local i32)
        (local.set 0 (i32.const 200000000))
        (loop $l (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1))))))"#;
    let (start_fn, body) = if in_start_fn {
        ("(start $spin)", "")
    } else {
        ("", "(call $spin)")
    };
    format!(
        r#"(module
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 1)
          {spin} {start_fn}
          (func (export "_start") {body} (call $exit (i32.const 3))))"#
    )
}

/// The `(cpu, wall)` seconds of the one `wasmaot-start-time:` line in `err`, if any.
fn start_time(err: &str) -> Option<(f64, f64)> {
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("wasmaot-start-time:"))
        .collect();
    assert!(lines.len() <= 1, "{err}");
    let kv: std::collections::HashMap<&str, f64> = lines
        .first()?
        .split_whitespace()
        .skip(1)
        .map(|f| {
            let (k, v) = f.split_once('=').expect("key=value");
            (k, v.parse().expect("seconds"))
        })
        .collect();
    Some((kv["cpu"], kv["wall"]))
}

#[test]
fn start_time_is_printed_on_request_and_covers_only_start() {
    let dir = tempfile::tempdir().unwrap();
    for in_start_fn in [false, true] {
        let src = write_file(dir.path(), "spin.wat", &spinning_command(in_start_fn));
        let exe = dir.path().join("spin");
        let o = run(wasmaot().arg("build").arg(&src).arg("-o").arg(&exe));
        assert!(o.status.success(), "{}", stderr(&o));
        let mut built = Command::new(&exe);
        let mut ran = wasmaot();
        ran.arg("run").arg(&src);
        for cmd in [&mut built, &mut ran] {
            let o = run(cmd.env_remove("WASMAOT_START_TIME"));
            assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
            assert_eq!(start_time(&stderr(&o)), None, "not asked for");
            let o = run(cmd.env("WASMAOT_START_TIME", "1"));
            assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
            let (cpu, wall) = start_time(&stderr(&o)).expect("a start-time line");
            assert!(wall + 1e-3 >= cpu, "cpu {cpu} wall {wall}");
            // 200 million dependent decrements take over 0.02 s on any x86-64; `_start`
            // runs them, or (with the start function) instantiation already did.
            if in_start_fn {
                assert!(cpu < 0.01, "instantiation was timed: {cpu} s");
            } else {
                assert!(cpu > 0.02, "the loop was not timed: {cpu} s");
            }
        }
    }
}
