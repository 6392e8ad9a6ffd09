//! Peeling a recursive function's base case into its self-calls.
//!
//! Recursion such as `fib` or `tak` returns early, without calling anything, on a large share
//! of its calls. Cranelift builds the whole frame before the function's first test (it has no
//! shrink-wrapping; benches/FINDINGS.md, finding 14), so each of those calls pays a prologue
//! and an epilogue for one compare. When a function starts with a test that leads through
//! operators that cannot trap to a `return`, each call the function makes *to itself*
//! evaluates the test on the arguments first and, when it holds, computes the results in
//! place; the call is made only otherwise. The results and side effects are the same (the
//! base-case path has none), and fewer frames are built: what gcc's partial inlining does.
//!
//! [`BaseCase::find`] runs the start of the body symbolically: locals and operands are
//! expressions over the arguments, and the first `br_if` or `if` splits the run in two. A
//! path that reaches the function's end through straight-line pure code (`block`s and `br`s
//! included, no loops, calls, memory or globals) is the base case.

use super::numeric::pure_operands;
use crate::error::Result;
use wasmparser::{BlockType, FunctionBody, Operator, ValType};

/// Operators read from the start of a body; a base case must lie within them.
const WINDOW: usize = 256;
/// Expression nodes the symbolic run may build before it gives up.
const MAX_NODES: usize = 128;
/// Operators (condition and results together) copied into each self-call.
const MAX_STEPS: usize = 24;

/// One operator of a copied expression, in stack order.
#[derive(Clone, Debug)]
pub(crate) enum Step<'a> {
    /// Pushes argument `i` of the call.
    Arg(u32),
    /// A constant or a numeric operator that cannot trap.
    Op(Operator<'a>),
}

/// What a function returns, without side effects, when its arguments pass a test.
#[derive(Clone, Debug)]
pub(crate) struct BaseCase<'a> {
    /// Leaves one `i32` on the stack, non-zero when the base case applies.
    pub cond: Vec<Step<'a>>,
    /// Leaves the function's results on the stack.
    pub results: Vec<Step<'a>>,
}

impl<'a> BaseCase<'a> {
    /// The base case at the start of `body` (a function with `params` and `num_results`),
    /// if there is a small one.
    pub fn find(
        body: &FunctionBody<'a>,
        params: &[ValType],
        num_results: usize,
    ) -> Result<Option<Self>> {
        let mut locals: Vec<Option<usize>> = Vec::new();
        let mut run = Run {
            ops: Vec::new(),
            end_of: Vec::new(),
            else_of: Vec::new(),
            nodes: Vec::new(),
            num_results,
        };
        for i in 0..params.len() {
            locals.push(Some(run.node(Node::Arg(i as u32))));
        }
        // Declared locals start at zero: one shared node per type the run tracks.
        let zero_i32 = run.node(Node::Op(Operator::I32Const { value: 0 }, Vec::new()));
        let zero_i64 = run.node(Node::Op(Operator::I64Const { value: 0 }, Vec::new()));
        let mut reader = body.get_locals_reader()?;
        for _ in 0..reader.get_count() {
            let (count, t) = reader.read()?;
            let zero = match t {
                ValType::I32 => Some(zero_i32),
                ValType::I64 => Some(zero_i64),
                _ => None,
            };
            if locals.len() + count as usize > WINDOW {
                return Ok(None);
            }
            locals.extend(std::iter::repeat_n(zero, count as usize));
        }
        let mut ops = body.get_operators_reader()?;
        while !ops.eof() && run.ops.len() < WINDOW {
            run.ops.push(ops.read()?);
        }
        run.match_blocks();
        let start = State {
            pc: 0,
            locals,
            stack: Vec::new(),
            frames: Vec::new(),
        };
        Ok(run.base_case(start))
    }
}

/// An expression over the arguments.
enum Node<'a> {
    Arg(u32),
    Op(Operator<'a>, Vec<usize>),
}

/// An open `block` or `if` of the symbolic run.
#[derive(Clone)]
struct Frame {
    /// Index of its `end`.
    end: usize,
    /// Stack height at its start.
    height: usize,
    /// How many values a branch to it carries.
    arity: usize,
}

/// Where the symbolic run is: each local and operand is a node (`None`: a local whose value
/// is not an expression the run tracks).
#[derive(Clone)]
struct State {
    pc: usize,
    locals: Vec<Option<usize>>,
    stack: Vec<usize>,
    frames: Vec<Frame>,
}

/// How a straight-line run ended.
enum Outcome {
    /// The function returns these nodes.
    Returns(Vec<usize>),
    /// A conditional branch on `cond`: where it goes when taken and when not.
    Fork(usize, Path, Path),
}

/// Where a branch leads: on through the body, or out of the function with these results.
enum Path {
    Continue(Box<State>),
    Returns(Vec<usize>),
}

struct Run<'a> {
    ops: Vec<Operator<'a>>,
    /// Index of the matching `end` of each `block`/`loop`/`if` (within the window).
    end_of: Vec<Option<usize>>,
    /// Index of the `else` of each `if` that has one.
    else_of: Vec<Option<usize>>,
    nodes: Vec<Node<'a>>,
    num_results: usize,
}

impl<'a> Run<'a> {
    fn node(&mut self, n: Node<'a>) -> usize {
        self.nodes.push(n);
        self.nodes.len() - 1
    }

    fn match_blocks(&mut self) {
        self.end_of = vec![None; self.ops.len()];
        self.else_of = vec![None; self.ops.len()];
        let mut open = Vec::new();
        for (i, op) in self.ops.iter().enumerate() {
            match op {
                Operator::Block { .. }
                | Operator::Loop { .. }
                | Operator::If { .. }
                | Operator::TryTable { .. } => open.push(i),
                Operator::Else => {
                    if let Some(&j) = open.last() {
                        self.else_of[j] = Some(i);
                    }
                }
                Operator::End => {
                    if let Some(j) = open.pop() {
                        self.end_of[j] = Some(i);
                    }
                }
                _ => {}
            }
        }
    }

    /// Splits at the first conditional branch and keeps the side that returns.
    fn base_case(&mut self, start: State) -> Option<BaseCase<'a>> {
        let Outcome::Fork(cond, taken, not_taken) = self.straight(start, true)? else {
            return None; // Returns without a test: nothing to peel.
        };
        let (results, negate) = match self.finish(taken) {
            Some(r) => (r, false),
            None => (self.finish(not_taken)?, true),
        };
        let mut c = Vec::new();
        self.flatten(cond, &mut c);
        if negate {
            c.push(Step::Op(Operator::I32Eqz));
        }
        let mut r = Vec::new();
        for n in results {
            self.flatten(n, &mut r);
        }
        (c.len() + r.len() <= MAX_STEPS).then_some(BaseCase {
            cond: c,
            results: r,
        })
    }

    fn flatten(&self, n: usize, out: &mut Vec<Step<'a>>) {
        match &self.nodes[n] {
            Node::Arg(i) => out.push(Step::Arg(*i)),
            Node::Op(op, inputs) => {
                for &i in inputs {
                    self.flatten(i, out);
                }
                out.push(Step::Op(op.clone()));
            }
        }
    }

    /// Number of results of a block type without parameters.
    fn arity(bt: BlockType) -> Option<usize> {
        match bt {
            BlockType::Empty => Some(0),
            BlockType::Type(_) => Some(1),
            BlockType::FuncType(_) => None,
        }
    }

    /// The results of a path that returns without another test.
    fn finish(&mut self, p: Path) -> Option<Vec<usize>> {
        match p {
            Path::Returns(r) => Some(r),
            Path::Continue(s) => match self.straight(*s, false)? {
                Outcome::Returns(r) => Some(r),
                Outcome::Fork(..) => None,
            },
        }
    }

    /// Branches to the frame `depth` levels out (the function itself past the last frame).
    fn branch(&self, mut s: State, depth: u32) -> Option<Path> {
        let depth = depth as usize;
        if depth == s.frames.len() {
            return self.results(&s).map(Path::Returns);
        }
        let f = s
            .frames
            .get(s.frames.len().checked_sub(depth + 1)?)?
            .clone();
        let vals = s.stack.split_off(s.stack.len().checked_sub(f.arity)?);
        s.stack.truncate(f.height);
        s.stack.extend(vals);
        s.frames.truncate(s.frames.len() - depth - 1);
        s.pc = f.end + 1;
        Some(Path::Continue(Box::new(s)))
    }

    /// The function's results when it returns in state `s`.
    fn results(&self, s: &State) -> Option<Vec<usize>> {
        let at = s.stack.len().checked_sub(self.num_results)?;
        Some(s.stack[at..].to_vec())
    }

    /// Runs from `s` until the function returns or, if `fork` allows it, until the first
    /// conditional branch; `None` at anything else.
    fn straight(&mut self, mut s: State, fork: bool) -> Option<Outcome> {
        loop {
            if self.nodes.len() > MAX_NODES {
                return None;
            }
            let op = self.ops.get(s.pc)?.clone();
            match op {
                Operator::Nop => {}
                Operator::LocalGet { local_index } => {
                    let n = (*s.locals.get(local_index as usize)?)?;
                    s.stack.push(n);
                }
                Operator::LocalSet { local_index } => {
                    let n = s.stack.pop()?;
                    *s.locals.get_mut(local_index as usize)? = Some(n);
                }
                Operator::LocalTee { local_index } => {
                    let n = *s.stack.last()?;
                    *s.locals.get_mut(local_index as usize)? = Some(n);
                }
                Operator::Drop => {
                    s.stack.pop()?;
                }
                Operator::Block { blockty } => {
                    let arity = Self::arity(blockty)?;
                    let end = self.end_of[s.pc]?;
                    let height = s.stack.len();
                    s.frames.push(Frame { end, height, arity });
                }
                Operator::End => {
                    if s.frames.pop().is_none() {
                        return self.results(&s).map(Outcome::Returns);
                    }
                }
                Operator::Else => {
                    // The end of a taken `if` arm: continue after the `if`.
                    let f = s.frames.pop()?;
                    s.pc = f.end;
                }
                Operator::Return => return self.results(&s).map(Outcome::Returns),
                Operator::Br { relative_depth } => match self.branch(s, relative_depth)? {
                    Path::Continue(next) => {
                        s = *next;
                        continue;
                    }
                    Path::Returns(r) => return Some(Outcome::Returns(r)),
                },
                Operator::BrIf { relative_depth } if fork => {
                    let cond = s.stack.pop()?;
                    let mut not_taken = s.clone();
                    not_taken.pc += 1;
                    let taken = self.branch(s, relative_depth)?;
                    let not_taken = Path::Continue(Box::new(not_taken));
                    return Some(Outcome::Fork(cond, taken, not_taken));
                }
                Operator::If { blockty } if fork => {
                    let cond = s.stack.pop()?;
                    let arity = Self::arity(blockty)?;
                    let end = self.end_of[s.pc]?;
                    let frame = Frame {
                        end,
                        height: s.stack.len(),
                        arity,
                    };
                    let mut taken = s.clone();
                    taken.pc += 1;
                    taken.frames.push(frame.clone());
                    let mut not_taken = s;
                    match self.else_of[not_taken.pc] {
                        Some(e) => {
                            not_taken.pc = e + 1;
                            not_taken.frames.push(frame);
                        }
                        None if arity == 0 => not_taken.pc = end + 1,
                        None => return None,
                    }
                    return Some(Outcome::Fork(
                        cond,
                        Path::Continue(Box::new(taken)),
                        Path::Continue(Box::new(not_taken)),
                    ));
                }
                Operator::Select | Operator::TypedSelect { .. } => {
                    let c = s.stack.pop()?;
                    let b = s.stack.pop()?;
                    let a = s.stack.pop()?;
                    s.stack
                        .push(self.node(Node::Op(Operator::Select, vec![a, b, c])));
                }
                op => {
                    let n = pure_operands(&op)?;
                    let inputs = s.stack.split_off(s.stack.len().checked_sub(n)?);
                    s.stack.push(self.node(Node::Op(op, inputs)));
                }
            }
            s.pc += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{BaseCase, Step};
    use wasmparser::{Parser, Payload, ValType};

    /// The base case found in the only function of `(module (func <func>))`, as text:
    /// `cond => results`, arguments as `aN`, operators by name.
    fn found(func: &str) -> Option<String> {
        let wasm = wat::parse_str(format!("(module (func {func}))")).expect("valid text");
        let mut sig: Option<(Vec<ValType>, usize)> = None;
        for payload in Parser::new(0).parse_all(&wasm) {
            match payload.expect("parses") {
                Payload::TypeSection(r) => {
                    let ty = r.into_iter_err_on_gc_types().next().unwrap().unwrap();
                    sig = Some((ty.params().to_vec(), ty.results().len()));
                }
                Payload::CodeSectionEntry(body) => {
                    let (params, n) = sig.clone().expect("type before code");
                    let bc = BaseCase::find(&body, &params, n).expect("reads")?;
                    let text = |steps: &[Step<'_>]| {
                        steps
                            .iter()
                            .map(|s| match s {
                                Step::Arg(i) => format!("a{i}"),
                                Step::Op(op) => format!("{op:?}"),
                            })
                            .collect::<Vec<_>>()
                            .join(" ")
                    };
                    return Some(format!("{} => {}", text(&bc.cond), text(&bc.results)));
                }
                _ => {}
            }
        }
        panic!("no function body")
    }

    #[test]
    fn clang_fib_shape_branches_past_a_loop_to_the_tail() {
        // What clang -O2 makes of `n < 2 ? n : fib(n - 1) + fib(n - 2)`.
        let f = found(
            "(param i32) (result i32) (local i32)
             i32.const 0 local.set 1
             block
               local.get 0 i32.const 2 i32.lt_u br_if 0
               i32.const 0 local.set 1
               loop
                 local.get 0 i32.const -1 i32.add call 0 local.get 1 i32.add local.set 1
                 local.get 0 i32.const -2 i32.add local.tee 0 i32.const 1 i32.gt_u br_if 0
               end
             end
             local.get 0 local.get 1 i32.add",
        );
        assert_eq!(
            f.as_deref(),
            Some("a0 I32Const { value: 2 } I32LtU => a0 I32Const { value: 0 } I32Add")
        );
    }

    #[test]
    fn the_falling_through_side_can_be_the_base_case() {
        // `if (y >= x) return z;` written as a branch around the early return: the base
        // case is taken when the branch is not, so the test is negated.
        let f = found(
            "(param i32 i32 i32) (result i32)
             block
               local.get 1 local.get 0 i32.lt_s br_if 0
               local.get 2 return
             end
             local.get 0 local.get 1 local.get 2 call 0",
        );
        assert_eq!(f.as_deref(), Some("a1 a0 I32LtS I32Eqz => a2"));
    }

    #[test]
    fn if_arms_and_branches_out_of_the_function() {
        let with_if = found(
            "(param i64) (result i64)
             local.get 0 i64.eqz
             if (result i64) i64.const 1 else local.get 0 i64.const 1 i64.sub call 0 end",
        );
        assert_eq!(
            with_if.as_deref(),
            Some("a0 I64Eqz => I64Const { value: 1 }")
        );
        let else_side = found(
            "(param i32) (result i32)
             local.get 0
             if (result i32) local.get 0 call 0 else i32.const 7 local.get 0 i32.mul end",
        );
        assert_eq!(
            else_side.as_deref(),
            Some("a0 I32Eqz => I32Const { value: 7 } a0 I32Mul")
        );
        let br_if_out = found(
            "(param i32) (result i32)
             local.get 0 i32.const 1 i32.shl
             local.get 0 i32.const 10 i32.gt_u br_if 0
             drop local.get 0 call 0",
        );
        assert_eq!(
            br_if_out.as_deref(),
            Some("a0 I32Const { value: 10 } I32GtU => a0 I32Const { value: 1 } I32Shl")
        );
    }

    #[test]
    fn nothing_that_can_trap_or_touch_state_is_copied() {
        for body in [
            // Division can trap.
            "local.get 0 i32.eqz br_if 0 i32.const 1 local.get 0 i32.div_u call 0 drop",
            // The early return divides.
            "block local.get 0 br_if 0 i32.const 1 local.get 0 i32.div_u return end local.get 0 call 0",
            // Memory and globals are state.
            "block local.get 0 br_if 0 i32.const 0 i32.load return end local.get 0 call 0",
            "block local.get 0 br_if 0 global.get 0 return end local.get 0 call 0",
            // A call before the test.
            "local.get 0 call 0 br_if 0 local.get 0",
            // The test inside a loop.
            "loop local.get 0 br_if 1 end local.get 0 call 0",
            // Both sides test again.
            "block local.get 0 br_if 0 local.get 0 br_if 0 i32.const 1 return end local.get 0 call 0",
        ] {
            let f = format!("(param i32) (result i32) {body}");
            let wat = format!("(memory 1) (global i32 (i32.const 3)) (func {f})");
            let wasm = wat::parse_str(format!("(module {wat})")).expect("valid text");
            assert!(
                found_in(&wasm).is_none(),
                "no base case expected in: {body}"
            );
        }
    }

    #[test]
    fn large_expressions_are_not_copied() {
        let big = "local.get 0 ".to_string() + &"i32.const 3 i32.mul ".repeat(12);
        let f = format!(
            "(param i32) (result i32)
             block local.get 0 i32.const 2 i32.lt_u br_if 0 local.get 0 call 0 return end
             {big}"
        );
        assert!(found(&f).is_none());
        let small = format!(
            "(param i32) (result i32)
             block local.get 0 i32.const 2 i32.lt_u br_if 0 local.get 0 call 0 return end
             local.get 0 {}",
            "i32.const 3 i32.mul ".repeat(5)
        );
        assert!(found(&small).is_some());
    }

    #[test]
    fn many_declared_locals_cost_no_expression_nodes() {
        let f = found(&format!(
            "(param i32) (result i32) (local {})
             block local.get 0 i32.const 2 i32.lt_u br_if 0 local.get 0 call 0 return end
             local.get 150",
            "i32 ".repeat(200)
        ));
        assert_eq!(
            f.as_deref(),
            Some("a0 I32Const { value: 2 } I32LtU => I32Const { value: 0 }")
        );
    }

    /// [`found`] for a module with other sections (the last function's base case, if any).
    fn found_in(wasm: &[u8]) -> Option<()> {
        let mut sig = None;
        let mut result = None;
        for payload in Parser::new(0).parse_all(wasm) {
            match payload.expect("parses") {
                Payload::TypeSection(r) => {
                    let ty = r.into_iter_err_on_gc_types().next().unwrap().unwrap();
                    sig = Some((ty.params().to_vec(), ty.results().len()));
                }
                Payload::CodeSectionEntry(body) => {
                    let (params, n): (Vec<ValType>, usize) = sig.clone().unwrap();
                    result = BaseCase::find(&body, &params, n)
                        .expect("reads")
                        .map(|_| ());
                }
                _ => {}
            }
        }
        result
    }
}
