//! Redundant block parameters (compiler/src/translate/redundant_params.rs): loop-invariant
//! locals are not threaded through inner loops as block parameters. Checked by reading the
//! translated CLIF of a nested loop, and by running random nested-loop functions (locals set
//! before, inside, between and after the loops, under `if`s and `br_if`s) against a Rust
//! model of the same statements.

mod common;

use common::{call, instance, Rng};
use wasmaot::runtime::Val::I32;
use wasmaot::CompileOptions;

/// An outer loop around an inner loop with a join point (the `block $c`), and locals that
/// the inner loop never touches (`$a`, `$b`, `$inv`, `$i`) but which are read after it.
const NEST: &str = r#"(module
  (memory 1)
  (func (export "f") (param $n i32) (param $k i32) (result i32)
    (local $i i32) (local $j i32) (local $s i32) (local $inv i32) (local $a i32) (local $b i32)
    (local.set $inv (i32.mul (local.get $k) (i32.const 3)))
    (local.set $a (i32.const 5))
    (loop $outer
      (local.set $j (i32.const 0))
      (block $skip
        (br_if $skip (i32.eqz (local.get $k)))
        (loop $inner
          (block $c
            (br_if $c (i32.load8_u (local.get $j)))
            (local.set $s (i32.add (local.get $s) (local.get $j))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $inner (i32.lt_u (local.get $j) (local.get $n)))))
      (local.set $a (i32.add (local.get $a) (local.get $b)))
      (local.set $s (i32.add (local.get $s) (local.get $inv)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $outer (i32.lt_u (local.get $i) (local.get $n))))
    (i32.add (local.get $a) (local.get $s)))
  (func (export "poke") (param i32) (i32.store8 (local.get 0) (i32.const 1))))"#;

/// The parameter counts of the blocks of a CLIF listing, in order.
fn block_params(clif: &str) -> Vec<usize> {
    clif.lines()
        .filter(|l| l.starts_with("block"))
        .map(|l| l.matches(": ").count())
        .collect()
}

#[test]
fn loop_invariant_locals_are_not_block_parameters() {
    let clif = wasmaot::debug::clif_of(NEST.as_bytes(), 0, &CompileOptions::default()).unwrap();
    let params = block_params(&clif);
    // The entry block takes vmctx, $n and $k. The outer loop carries $i, $s and $a; the
    // inner one $j and $s; the join after `block $c` and the one after `block $skip` carry
    // $s. Before, the inner loop also carried $a, $b, $i, $inv and $n (6 + 7 + 1 + 6 + 1
    // parameters, plus one for the return block's single incoming value).
    let mut sorted = params.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted.iter().sum::<usize>(),
        3 + 3 + 2 + 1 + 1,
        "{params:?}\n{clif}"
    );
    assert_eq!(sorted.iter().max(), Some(&3), "{params:?}\n{clif}");
}

#[test]
fn nested_loop_results_match() {
    within_a_minute(nested_loop_results);
}

fn nested_loop_results() {
    let inst = instance(NEST);
    let model = |n: i32, k: i32, poked: &[i32]| -> i32 {
        let (mut i, mut s, mut a) = (0i32, 0i32, 5i32);
        let inv = k.wrapping_mul(3);
        loop {
            if k != 0 {
                let mut j = 0i32;
                loop {
                    if !poked.contains(&j) {
                        s = s.wrapping_add(j);
                    }
                    j = j.wrapping_add(1);
                    if (j as u32) >= (n as u32) {
                        break;
                    }
                }
            }
            a = a.wrapping_add(0);
            s = s.wrapping_add(inv);
            i += 1;
            if (i as u32) >= (n as u32) {
                break;
            }
        }
        a.wrapping_add(s)
    };
    let mut poked = Vec::new();
    for round in 0..3 {
        for n in 1..12 {
            for k in [0, 1, 7, -5] {
                let r = call(&inst, "f", &[I32(n), I32(k)]).unwrap();
                assert_eq!(
                    r,
                    vec![I32(model(n, k, &poked))],
                    "f({n}, {k}), round {round}"
                );
            }
        }
        let at = 3 * round + 2;
        call(&inst, "poke", &[I32(at)]).unwrap();
        poked.push(at);
    }
}

/// Number of `i32` locals of the random functions (local 0 and 1 are the parameters).
const LOCALS: usize = 6;

/// One statement of a random function, over locals `0..LOCALS`.
#[derive(Clone, Debug)]
enum Stmt {
    /// `dst = a op b`, op = add (0), xor (1) or mul (2).
    Set {
        dst: usize,
        a: usize,
        b: usize,
        op: u8,
    },
    /// `if a & 1 { body }`
    If { a: usize, body: Vec<Stmt> },
    /// `block { br_if (a & 2); body }` (a forward exit, a join point after it)
    Exit { a: usize, body: Vec<Stmt> },
}

/// A function of two parameters: `pre; loop (outer) { mid; loop (inner) { inner } post }
/// tail`, each loop running a fixed number of times; the result mixes every local.
struct Program {
    pre: Vec<Stmt>,
    mid: Vec<Stmt>,
    inner: Vec<Stmt>,
    post: Vec<Stmt>,
    tail: Vec<Stmt>,
    outer_trips: i32,
    inner_trips: i32,
}

/// Random statements and functions.
trait Gen {
    fn stmts(&mut self, depth: u32) -> Vec<Stmt>;
    fn program(&mut self) -> Program;
}

impl Gen for Rng {
    fn stmts(&mut self, depth: u32) -> Vec<Stmt> {
        (0..self.below(3))
            .map(|_| match self.below(if depth > 1 { 1 } else { 4 }) {
                0 | 1 if depth <= 1 && self.below(2) == 0 => {
                    let a = self.below(LOCALS as u64) as usize;
                    let body = self.stmts(depth + 1);
                    if self.below(2) == 0 {
                        Stmt::If { a, body }
                    } else {
                        Stmt::Exit { a, body }
                    }
                }
                _ => Stmt::Set {
                    dst: self.below(LOCALS as u64) as usize,
                    a: self.below(LOCALS as u64) as usize,
                    b: self.below(LOCALS as u64) as usize,
                    op: self.below(3) as u8,
                },
            })
            .collect()
    }

    fn program(&mut self) -> Program {
        Program {
            pre: self.stmts(0),
            mid: self.stmts(0),
            inner: self.stmts(0),
            post: self.stmts(0),
            tail: self.stmts(0),
            outer_trips: 1 + self.below(4) as i32,
            inner_trips: 1 + self.below(4) as i32,
        }
    }
}

fn wat_stmts(out: &mut String, stmts: &[Stmt]) {
    for s in stmts {
        match s {
            Stmt::Set { dst, a, b, op } => {
                let op = ["i32.add", "i32.xor", "i32.mul"][*op as usize];
                out.push_str(&format!(
                    "(local.set {dst} ({op} (local.get {a}) (local.get {b})))\n"
                ));
            }
            Stmt::If { a, body } => {
                out.push_str(&format!(
                    "(if (i32.and (local.get {a}) (i32.const 1)) (then\n"
                ));
                wat_stmts(out, body);
                out.push_str("))\n");
            }
            Stmt::Exit { a, body } => {
                out.push_str(&format!(
                    "(block (br_if 0 (i32.and (local.get {a}) (i32.const 2)))\n"
                ));
                wat_stmts(out, body);
                out.push_str(")\n");
            }
        }
    }
}

fn run_stmts(l: &mut [i32; LOCALS], stmts: &[Stmt]) {
    for s in stmts {
        match s {
            Stmt::Set { dst, a, b, op } => {
                let (x, y) = (l[*a], l[*b]);
                l[*dst] = match op {
                    0 => x.wrapping_add(y),
                    1 => x ^ y,
                    _ => x.wrapping_mul(y),
                };
            }
            Stmt::If { a, body } => {
                if l[*a] & 1 != 0 {
                    run_stmts(l, body);
                }
            }
            Stmt::Exit { a, body } => {
                if l[*a] & 2 == 0 {
                    run_stmts(l, body);
                }
            }
        }
    }
}

impl Program {
    /// The function as text; the loop counters are two extra locals.
    fn wat(&self) -> String {
        let (oc, ic) = (LOCALS, LOCALS + 1);
        let mut w = String::from("(module (func (export \"f\") (param i32 i32) (result i32)\n");
        w.push_str(&format!("(local {})\n", "i32 ".repeat(LOCALS)));
        w.push_str("(local.set 2 (i32.const 3)) (local.set 3 (i32.const 5))\n");
        wat_stmts(&mut w, &self.pre);
        w.push_str(&format!("(local.set {oc} (i32.const 0))\n(loop\n"));
        wat_stmts(&mut w, &self.mid);
        w.push_str(&format!("(local.set {ic} (i32.const 0))\n(loop\n"));
        wat_stmts(&mut w, &self.inner);
        w.push_str(&format!(
            "(local.set {ic} (i32.add (local.get {ic}) (i32.const 1)))\n\
             (br_if 0 (i32.lt_s (local.get {ic}) (i32.const {}))))\n",
            self.inner_trips
        ));
        wat_stmts(&mut w, &self.post);
        w.push_str(&format!(
            "(local.set {oc} (i32.add (local.get {oc}) (i32.const 1)))\n\
             (br_if 0 (i32.lt_s (local.get {oc}) (i32.const {}))))\n",
            self.outer_trips
        ));
        wat_stmts(&mut w, &self.tail);
        let mut mix = String::from("(local.get 0)");
        for i in 1..LOCALS {
            mix = format!("(i32.add (i32.mul {mix} (i32.const 31)) (local.get {i}))");
        }
        w.push_str(&mix);
        w.push_str("))");
        w
    }

    fn eval(&self, p0: i32, p1: i32) -> i32 {
        let mut l = [0i32; LOCALS];
        (l[0], l[1], l[2], l[3]) = (p0, p1, 3, 5);
        run_stmts(&mut l, &self.pre);
        for _ in 0..self.outer_trips {
            run_stmts(&mut l, &self.mid);
            for _ in 0..self.inner_trips {
                run_stmts(&mut l, &self.inner);
            }
            run_stmts(&mut l, &self.post);
        }
        run_stmts(&mut l, &self.tail);
        l.iter()
            .skip(1)
            .fold(l[0], |m, &x| m.wrapping_mul(31).wrapping_add(x))
    }
}

/// 150 random functions, 5 calls each.
#[test]
fn random_nested_loops_match_a_model() {
    within_a_minute(|| {
        let mut rng = Rng(0x5eed_1234_abcd_0001);
        for case in 0..150 {
            let p = rng.program();
            let wat = p.wat();
            let inst = instance(&wat);
            for (a, b) in [(0, 0), (1, 2), (-7, 3), (12345, -99), (6, 6)] {
                let r = call(&inst, "f", &[I32(a), I32(b)]).unwrap();
                assert_eq!(
                    r,
                    vec![I32(p.eval(a, b))],
                    "case {case}, f({a}, {b}):\n{wat}"
                );
            }
        }
    });
}

/// Runs `f` on a thread that must finish within a minute: a wrongly carried loop counter
/// makes compiled code loop forever, which should fail the test, not hang it.
fn within_a_minute(f: impl FnOnce() + Send + 'static) {
    let (done, wait) = std::sync::mpsc::channel();
    let worker = std::thread::spawn(move || {
        f();
        let _ = done.send(());
    });
    match wait.recv_timeout(std::time::Duration::from_secs(60)) {
        Ok(()) => {}
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("no answer within a minute: a compiled loop does not end")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            // The worker panicked: pass its message on.
            std::panic::resume_unwind(worker.join().unwrap_err())
        }
    }
}
