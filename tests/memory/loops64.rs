// Part of the `memory` test: `include!`d by main.rs, so the tests stay at the crate root.

// ---------------------------------------------------------------------------------------------
// Memory64 loops whose bounds check moved to the loop entry (compiler/src/translate/loop_checks.rs).

/// Number of `trapnz` in the blocks of `clif` that access linear memory (heap accesses are
/// the only ones with a `little` flag): the compares left inside the loops of a function
/// whose only heap accesses are in loops.
fn checks_beside_accesses(clif: &str) -> usize {
    clif.split("\nblock")
        .filter(|b| b.lines().any(|l| l.contains(" little ")))
        .map(|b| insts(b, "trapnz"))
        .sum()
}

/// Which memory64 checks leave the loop: those of accesses in the loop header whose index
/// moves up by a constant per trip that keeps the access in the guard, or down within the
/// pre-guard with no static offset, with nothing observable before them in the header; and
/// those whose index is a loop-invariant base plus a small bounded value (a byte times 8),
/// once one of them with nothing observable before it has had its base checked at the entry.
/// Everything else keeps its compare.
#[test]
fn memory64_loop_checks_move_to_the_entry_when_the_guard_covers_later_trips() {
    let _g = shared();
    // A loop over `$p` (and `$i`), with `BODY` first in it, then the advance and the test.
    let lp = |body: &str, advance: &str| {
        format!(
            "(loop $l {body} {advance}
               (br_if $l (i64.lt_u (local.get $i) (local.get $n))))"
        )
    };
    let step = |k: &str| {
        format!(
            "(local.set $p (i64.add (local.get $p) (i64.const {k})))
             (local.set $i (i64.add (local.get $i) (i64.const 1)))"
        )
    };
    let load = |idx: &str| format!("(local.set $s (i64.add (local.get $s) (i64.load {idx})))");
    let p = "(local.get $p)";
    let cases: Vec<(String, usize)> = vec![
        // Pointer walks, up by the access size or by more (within the guard).
        (lp(&load(p), &step("8")), 0),
        (lp(&load(p), &step("0xfffffff8")), 0),
        // Down, within the pre-guard below the base.
        (lp(&load(p), &step("-8")), 0),
        (lp(&load(p), &step("-0x10000")), 0),
        // The step plus the access runs past the guard, the pointer moves down past the
        // pre-guard, or down with a static offset, or by a variable amount: the compare stays.
        (lp(&load(p), &step("0xfffffff9")), 1),
        (lp(&load(p), &step("-0x10008")), 1),
        (
            lp(
                "(local.set $s (i64.add (local.get $s) (i64.load offset=8 (local.get $p))))",
                &step("-8"),
            ),
            1,
        ),
        (
            lp(
                &load(p),
                "(local.set $p (i64.add (local.get $p) (local.get $n)))
                 (local.set $i (i64.add (local.get $i) (i64.const 1)))",
            ),
            1,
        ),
        // Indices computed from a counter: base + (i << 3), base + i * 24, (i << 4) - 8 + base.
        (
            lp(
                &load("(i64.add (local.get $q) (i64.shl (local.get $i) (i64.const 3)))"),
                &step("0"),
            ),
            0,
        ),
        (
            lp(
                &load("(i64.add (local.get $q) (i64.mul (local.get $i) (i64.const 24)))"),
                &step("0"),
            ),
            0,
        ),
        (
            lp(
                &load(
                    "(i64.add (i64.sub (i64.shl (local.get $i) (i64.const 4)) (i64.const 8))
                              (local.get $q))",
                ),
                &step("0"),
            ),
            0,
        ),
        // A counter going down: the compare leaves too; a non-constant multiplier: it stays.
        (
            lp(
                &load("(i64.sub (local.get $q) (i64.shl (local.get $i) (i64.const 3)))"),
                &step("0"),
            ),
            0,
        ),
        (
            lp(
                &load("(i64.mul (local.get $i) (local.get $q))"),
                &step("0"),
            ),
            1,
        ),
        // A table indexed by a loaded byte (a histogram): base + (b << 3) for an invariant
        // base, whatever the byte; the base is checked once at the entry, and later accesses
        // with that base need nothing, even after a store.
        (
            lp(
                &load(&format!("(i64.add (local.get $q) (i64.shl {HIST_BYTE} (i64.const 3)))")),
                &step("1"),
            ),
            0,
        ),
        (
            lp(
                &format!(
                    "{} (i64.store (i64.add (local.get $q) (i64.shl {HIST_BYTE} (i64.const 2)))
                                   (local.get $s))
                     {}",
                    load(&format!("(i64.add (local.get $q) {HIST_BYTE})")),
                    load(&format!("(i64.add (i64.shl {HIST_BYTE} (i64.const 3)) (local.get $q))"))
                ),
                &step("1"),
            ),
            0,
        ),
        // The value's range times the access reaches past the pre-guard (a 16-bit value
        // times 8), the base is not invariant, the access has a static offset, or the first
        // such access comes after something observable: the compare stays.
        (
            lp(
                &load("(i64.add (local.get $q) (i64.shl (i64.load16_u (local.get $p)) (i64.const 3)))"),
                &step("2"),
            ),
            1,
        ),
        (
            lp(
                &load(&format!("(i64.add (local.get $i) {HIST_BYTE})")),
                &step("1"),
            ),
            1,
        ),
        (
            lp(
                &format!(
                    "(local.set $s (i64.add (local.get $s) (i64.load offset=8 (i64.add (local.get $q) {HIST_BYTE}))))"
                ),
                &step("1"),
            ),
            1,
        ),
        (
            lp(
                &format!(
                    "(global.set $g (local.get $i)) {}",
                    load(&format!("(i64.add (local.get $q) {HIST_BYTE})"))
                ),
                &step("1"),
            ),
            2,
        ),
        // Two pointers and a store after the loads (matmul64's inner loop): no compare left.
        (
            lp(
                "(i64.store (local.get $p) (i64.add (i64.load (local.get $p))
                                                    (i64.load (local.get $q))))",
                "(local.set $p (i64.add (local.get $p) (i64.const 8)))
                 (local.set $q (i64.add (local.get $q) (i64.const 8)))
                 (local.set $i (i64.add (local.get $i) (i64.const 1)))",
            ),
            0,
        ),
        // Something observable before the access: a store elsewhere (its own check, at a
        // fixed index, moves; the load's stays), a call, a global write, a division that
        // may trap. The compare stays.
        (
            lp(
                &format!("(i64.store8 (local.get $q) (i64.const 1)) {}", load(p)),
                &step("8"),
            ),
            1,
        ),
        (lp(&format!("(call $f) {}", load(p)), &step("8")), 1),
        (
            lp(
                &format!("(global.set $g (local.get $i)) {}", load(p)),
                &step("8"),
            ),
            1,
        ),
        (
            lp(
                &format!(
                    "(local.set $s (i64.div_u (local.get $s) (local.get $n))) {}",
                    load(p)
                ),
                &step("8"),
            ),
            1,
        ),
        // An access that does not run on every trip (inside an `if`): the compare stays.
        (
            lp(
                &format!("(if (i32.wrap_i64 (local.get $i)) (then {}))", load(p)),
                &step("8"),
            ),
            1,
        ),
        // A call after the access (the length is reloaded and passed around the loop): the
        // first trip compares against the length at the entry.
        (lp(&format!("{} (call $f)", load(p)), &step("8")), 0),
    ];
    for (max, fixed) in [("", false), ("1", true)] {
        for (body, want) in &cases {
            let wat = format!(
                "(module (memory i64 1 {max}) (global $g (mut i64) (i64.const 0))
                   (func $f)
                   (func (param $p i64) (param $q i64) (param $n i64) (result i64)
                     (local $i i64) (local $s i64)
                     {body} (local.get $s)))"
            );
            let d = wasmaot::debug::dump_function(wat.as_bytes(), 1, &opts(BoundsChecks::Guard))
                .unwrap();
            assert_eq!(
                checks_beside_accesses(&d.clif),
                *want,
                "fixed length: {fixed}\n{body}\n{}",
                d.clif
            );
            // A moved compare is still made: once, before the loop.
            if *want == 0 {
                assert!(insts(&d.clif, "trapnz") >= 1, "{body}\n{}", d.clif);
            }
        }
    }
}

/// The byte at `$p` as an `i64`: a value of known range in a loop's index.
const HIST_BYTE: &str = "(i64.load8_u (local.get $p))";

const LOOPS64: &str = r#"(module
  (memory (export "mem") i64 1 MAX)
  (global $trips (export "trips") (mut i64) (i64.const 0))
  ;; Stores 0xab at p, p + 1, ... while p < end (at least once), counting the trips.
  (func (export "fill8") (param $p i64) (param $end i64)
    (global.set $trips (i64.const 0))
    (loop $l
      (i64.store8 (local.get $p) (i64.const 0xab))
      (global.set $trips (i64.add (global.get $trips) (i64.const 1)))
      (local.set $p (i64.add (local.get $p) (i64.const 1)))
      (br_if $l (i64.lt_u (local.get $p) (local.get $end)))))
  ;; The same with 8-byte stores of -1 at p, p + 8, ...
  (func (export "fill64") (param $p i64) (param $end i64)
    (global.set $trips (i64.const 0))
    (loop $l
      (i64.store (local.get $p) (i64.const -1))
      (global.set $trips (i64.add (global.get $trips) (i64.const 1)))
      (local.set $p (i64.add (local.get $p) (i64.const 8)))
      (br_if $l (i64.lt_u (local.get $p) (local.get $end)))))
  ;; Sum of the n >= 1 u64 at base + 8i.
  (func (export "sum") (param $base i64) (param $n i64) (result i64)
    (local $i i64) (local $s i64)
    (global.set $trips (i64.const 0))
    (loop $l
      (local.set $s (i64.add (local.get $s)
        (i64.load (i64.add (local.get $base) (i64.shl (local.get $i) (i64.const 3))))))
      (global.set $trips (i64.add (global.get $trips) (i64.const 1)))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br_if $l (i64.lt_u (local.get $i) (local.get $n))))
    (local.get $s))
  ;; c[j] += b[j] for n >= 1 u64 elements, two moving pointers.
  (func (export "add_to") (param $c i64) (param $b i64) (param $n i64)
    (local $j i64)
    (global.set $trips (i64.const 0))
    (loop $l
      (i64.store (local.get $c) (i64.add (i64.load (local.get $c)) (i64.load (local.get $b))))
      (global.set $trips (i64.add (global.get $trips) (i64.const 1)))
      (local.set $c (i64.add (local.get $c) (i64.const 8)))
      (local.set $b (i64.add (local.get $b) (i64.const 8)))
      (local.set $j (i64.add (local.get $j) (i64.const 1)))
      (br_if $l (i64.lt_u (local.get $j) (local.get $n)))))
  ;; Reads bytes p .. end - 1, growing the memory by a page whenever the next byte is past
  ;; its end (a call in the loop: the length comes around the loop); returns their sum.
  (func (export "walk_grow") (param $p i64) (param $end i64) (result i64)
    (local $s i64)
    (global.set $trips (i64.const 0))
    (loop $l
      (local.set $s (i64.add (local.get $s) (i64.load8_u (local.get $p))))
      (global.set $trips (i64.add (global.get $trips) (i64.const 1)))
      (local.set $p (i64.add (local.get $p) (i64.const 1)))
      (if (i64.eq (local.get $p) (i64.shl (memory.size) (i64.const 16)))
        (then (drop (memory.grow (i64.const 1)))))
      (br_if $l (i64.lt_u (local.get $p) (local.get $end))))
    (local.get $s))
  ;; The loop of fill8 behind an if: an entry that is not taken checks nothing.
  (func (export "maybe_fill8") (param $p i64) (param $end i64) (param $c i32)
    (global.set $trips (i64.const 0))
    (if (local.get $c)
      (then
        (loop $l
          (i64.store8 (local.get $p) (i64.const 0xab))
          (global.set $trips (i64.add (global.get $trips) (i64.const 1)))
          (local.set $p (i64.add (local.get $p) (i64.const 1)))
          (br_if $l (i64.lt_u (local.get $p) (local.get $end)))))))
  ;; Stores 0xab at p, p - 1, ... for n >= 1 trips, counting them.
  (func (export "fill_down8") (param $p i64) (param $n i64)
    (global.set $trips (i64.const 0))
    (loop $l
      (i64.store8 (local.get $p) (i64.const 0xab))
      (global.set $trips (i64.add (global.get $trips) (i64.const 1)))
      (local.set $p (i64.add (local.get $p) (i64.const -1)))
      (local.set $n (i64.sub (local.get $n) (i64.const 1)))
      (br_if $l (i64.ne (local.get $n) (i64.const 0)))))
  ;; The same with 8-byte stores of -1 at p, p - 8, ...
  (func (export "fill_down64") (param $p i64) (param $n i64)
    (global.set $trips (i64.const 0))
    (loop $l
      (i64.store (local.get $p) (i64.const -1))
      (global.set $trips (i64.add (global.get $trips) (i64.const 1)))
      (local.set $p (i64.sub (local.get $p) (i64.const 8)))
      (local.set $n (i64.sub (local.get $n) (i64.const 1)))
      (br_if $l (i64.ne (local.get $n) (i64.const 0)))))
  ;; Adds 1 to the u64 at base + 8 * (byte at src), for n >= 1 bytes src, src + 1, ...
  (func (export "hist") (param $base i64) (param $src i64) (param $n i64)
    (local $at i64)
    (global.set $trips (i64.const 0))
    (loop $l
      (local.set $at (i64.add (local.get $base)
                              (i64.shl (i64.load8_u (local.get $src)) (i64.const 3))))
      (i64.store (local.get $at) (i64.add (i64.load (local.get $at)) (i64.const 1)))
      (global.set $trips (i64.add (global.get $trips) (i64.const 1)))
      (local.set $src (i64.add (local.get $src) (i64.const 1)))
      (local.set $n (i64.sub (local.get $n) (i64.const 1)))
      (br_if $l (i64.ne (local.get $n) (i64.const 0)))))
  ;; Stores 1, 2, 3, 4 at p + 3, p + 2, p + 1, p: one compare, the rest covered downwards.
  (func (export "store_desc") (param $p i64)
    (i64.store8 (i64.add (local.get $p) (i64.const 3)) (i64.const 1))
    (i64.store8 (i64.add (local.get $p) (i64.const 2)) (i64.const 2))
    (i64.store8 (i64.add (local.get $p) (i64.const 1)) (i64.const 3))
    (i64.store8 (local.get $p) (i64.const 4)))
  (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0)))
  (func (export "size") (result i64) (memory.size))
  ;; n >= 1 times: q[j] += p[j] for j < m (m >= 1), then q moves up by 8 (matmul64's nest):
  ;; the inner loop's compares of p (invariant) and q (a constant step) leave both loops.
  (func (export "nest") (param $p i64) (param $q i64) (param $n i64) (param $m i64)
    (local $j i64)
    (global.set $trips (i64.const 0))
    (loop $outer
      (local.set $j (i64.const 0))
      NEST_INNER))
  ;; The same with a byte stored at r first on every outer trip: the inner loop's compares
  ;; reach its entry, not the outer loop's (they would trap before the store).
  (func (export "nest_mark") (param $p i64) (param $q i64) (param $n i64) (param $m i64)
    (param $r i64)
    (local $j i64)
    (global.set $trips (i64.const 0))
    (loop $outer
      (i64.store8 (local.get $r) (i64.const 0xcd))
      (local.set $j (i64.const 0))
      NEST_INNER)))"#;

/// The inner loop of `nest` and `nest_mark` and the end of their outer loop.
const NEST_INNER: &str = r#"(loop $inner
        (i64.store (i64.add (local.get $q) (i64.shl (local.get $j) (i64.const 3)))
          (i64.add (i64.load (i64.add (local.get $q) (i64.shl (local.get $j) (i64.const 3))))
                   (i64.load (i64.add (local.get $p) (i64.shl (local.get $j) (i64.const 3))))))
        (global.set $trips (i64.add (global.get $trips) (i64.const 1)))
        (local.set $j (i64.add (local.get $j) (i64.const 1)))
        (br_if $inner (i64.lt_u (local.get $j) (local.get $m))))
      (local.set $q (i64.add (local.get $q) (i64.const 8)))
      (local.set $n (i64.sub (local.get $n) (i64.const 1)))
      (br_if $outer (i64.ne (local.get $n) (i64.const 0)))"#;

/// `LOOPS64` with memory maximum `max` (in pages; empty for none).
fn loops64(max: &str) -> String {
    LOOPS64.replace("MAX", max).replace("NEST_INNER", NEST_INNER)
}

/// What a do-while loop over `p, p + step, …` (while below `end`) accessing `size` bytes does
/// on a memory of `len` bytes: (trips completed, whether it trapped).
fn model_walk(mut p: u64, end: u64, step: u64, size: u64, len: u64) -> (u64, bool) {
    let mut trips = 0;
    loop {
        if p.checked_add(size).is_none_or(|e| e > len) {
            return (trips, true);
        }
        trips += 1;
        p = p.wrapping_add(step);
        if p >= end {
            return (trips, false);
        }
    }
}

fn trips(inst: &Instance) -> u64 {
    match inst.get_global("trips").unwrap().get() {
        I64(x) => x as u64,
        other => panic!("trips: {other:?}"),
    }
}

/// Runs `name(p, end)` and checks trips, trap and the bytes written against the model.
fn check_fill(inst: &Instance, name: &str, p: u64, end: u64, step: u64, size: u64) {
    let mem = inst.get_memory("mem").unwrap();
    let len = mem.size_bytes();
    let window = 64;
    assert!(mem.write(len - window, &vec![0; window as usize]));
    let (want_trips, want_trap) = model_walk(p, end, step, size, len);
    let r = call(inst, name, &[I64(p as i64), I64(end as i64)]);
    let what = format!("{name}({p:#x}, {end:#x}) on {len:#x} bytes");
    if want_trap {
        assert_eq!(trap_of(r), OOB, "{what}");
    } else {
        r.unwrap_or_else(|e| panic!("{what}: {e}"));
    }
    assert_eq!(trips(inst), want_trips, "{what}");
    // The bytes of the window: written exactly by the completed trips.
    let mut want = vec![0u8; window as usize];
    let mut q = p;
    for _ in 0..want_trips {
        for b in 0..size {
            let at = q.wrapping_add(b);
            if at >= len - window {
                want[(at - (len - window)) as usize] = if size == 1 { 0xab } else { 0xff };
            }
        }
        q = q.wrapping_add(step);
    }
    assert_eq!(bytes(&mem, len - window, window as usize), want, "{what}");
}

/// Loops whose compare moved to the entry trap exactly where the compare would have: on the
/// trip whose access leaves memory (after every earlier trip's effects, before that trip's
/// effects), on the first trip when the entry value is out of bounds (even near 2^64), and
/// not at all when the loop is not entered; after `memory.grow` the same loops go further.
#[test]
fn memory64_loops_trap_exactly_at_the_end_of_memory() {
    let _g = shared();
    for max in ["", "1", "3"] {
        let inst = instance_in(&loops64(max), BoundsChecks::Guard);
        let mem = inst.get_memory("mem").unwrap();
        for grown in 0..2 {
            let len = mem.size_bytes();
            let starts = [
                0,
                len - 40,
                len - 17,
                len - 16,
                len - 9,
                len - 8,
                len - 7,
                len - 1,
                len,
                len + 1,
                len + 7,
                1 << 32,
                1 << 63,
                u64::MAX - 7,
                u64::MAX,
            ];
            for p in starts {
                for end in [p.wrapping_add(1), p.wrapping_add(16), len, len + 9, u64::MAX] {
                    check_fill(&inst, "fill8", p, end, 1, 1);
                    check_fill(&inst, "fill64", p, end, 8, 8);
                }
            }
            // Indexed by a counter: base + 8i.
            assert!(mem.write(len - 16, &[1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]));
            assert_eq!(i64_of(&inst, "sum", &[I64(len as i64 - 16), I64(2)]), 3);
            assert_eq!(trips(&inst), 2);
            traps(&inst, "sum", &[I64(len as i64 - 16), I64(3)]);
            assert_eq!(trips(&inst), 2);
            traps(&inst, "sum", &[I64(len as i64 - 12), I64(2)]);
            assert_eq!(trips(&inst), 1);
            traps(&inst, "sum", &[I64(len as i64 - 4), I64(1)]);
            assert_eq!(trips(&inst), 0);
            traps(&inst, "sum", &[I64(-8), I64(1)]);
            assert_eq!(trips(&inst), 0);
            // Two pointers: the trip whose second load leaves memory writes nothing.
            assert!(mem.write(len - 24, &[1; 24]));
            assert!(mem.write(0, &[2; 24]));
            ok(&inst, "add_to", &[I64(len as i64 - 24), I64(0), I64(3)]);
            assert_eq!(trips(&inst), 3);
            assert_eq!(bytes(&mem, len - 24, 24), [3; 24]);
            traps(&inst, "add_to", &[I64(0), I64(len as i64 - 16), I64(3)]);
            assert_eq!(trips(&inst), 2);
            assert_eq!(bytes(&mem, 0, 24)[..16], [5; 16]);
            assert_eq!(bytes(&mem, 0, 24)[16..], [2; 8]);
            traps(&inst, "add_to", &[I64(len as i64 - 8), I64(0), I64(2)]);
            assert_eq!(trips(&inst), 1);
            // Not entered: nothing checked.
            ok(&inst, "maybe_fill8", &[I64(-1), I64(0), I32(0)]);
            assert_eq!(trips(&inst), 0);
            traps(&inst, "maybe_fill8", &[I64(-1), I64(0), I32(1)]);
            assert_eq!(trips(&inst), 0);
            if grown == 1 {
                break;
            }
            if max == "1" {
                assert_eq!(i64_of(&inst, "grow", &[I64(1)]), -1);
                break;
            }
            assert_eq!(i64_of(&inst, "grow", &[I64(1)]) as u64, len / PAGE);
        }
    }
}

/// A loop that grows memory as it walks off its end goes on without a trap (its later trips,
/// unchecked, land in the newly grown pages); where the grow is refused it traps on the trip
/// that leaves memory.
#[test]
fn memory64_loops_that_grow_memory_run_on() {
    let _g = shared();
    for max in ["", "2"] {
        let inst = instance_in(&loops64(max), BoundsChecks::Guard);
        let mem = inst.get_memory("mem").unwrap();
        assert!(mem.write(PAGE - 2, &[5, 6]));
        // Crosses into page 2 (grown on the way), then into page 3 (refused when max is 2).
        let end = 2 * PAGE + 3;
        let r = call(&inst, "walk_grow", &[I64(PAGE as i64 - 2), I64(end as i64)]);
        if max == "2" {
            assert_eq!(trap_of(r), OOB);
            assert_eq!(trips(&inst), PAGE + 2);
            assert_eq!(i64_of(&inst, "size", &[]), 2);
        } else {
            assert_eq!(r.unwrap(), vec![I64(11)]);
            assert_eq!(trips(&inst), PAGE + 5);
            assert_eq!(i64_of(&inst, "size", &[]), 3);
        }
    }
}

/// A model of one memory64 instance's memory for the loops below: applies each access in
/// program order and stops at the first one that leaves memory (`index + size > len`, in
/// infinite precision), as Wasm does.
struct Model {
    mem: Vec<u8>,
    trips: u64,
}

impl Model {
    fn of(m: &Memory) -> Model {
        Model {
            mem: bytes(m, 0, m.size_bytes() as usize),
            trips: 0,
        }
    }

    /// The range of an access of `size` bytes at `index`, if it is in bounds.
    fn at(&self, index: u64, size: u64) -> Option<std::ops::Range<usize>> {
        let end = index.checked_add(size).filter(|&e| e <= self.mem.len() as u64)?;
        Some(index as usize..end as usize)
    }

    fn store(&mut self, index: u64, bytes: &[u8]) -> Option<()> {
        let r = self.at(index, bytes.len() as u64)?;
        self.mem[r].copy_from_slice(bytes);
        Some(())
    }

    fn load(&self, index: u64, size: u64) -> Option<u64> {
        let r = self.at(index, size)?;
        let mut b = [0u8; 8];
        b[..r.len()].copy_from_slice(&self.mem[r]);
        Some(u64::from_le_bytes(b))
    }

    /// `fill_down8` / `fill_down64`: `None` when it traps.
    fn fill_down(&mut self, mut p: u64, n: u64, size: u64) -> Option<()> {
        for _ in 0..n {
            self.store(p, &vec![if size == 1 { 0xab } else { 0xff }; size as usize])?;
            self.trips += 1;
            p = p.wrapping_sub(size);
        }
        Some(())
    }

    fn hist(&mut self, base: u64, mut src: u64, n: u64) -> Option<()> {
        for _ in 0..n {
            let at = base.wrapping_add(self.load(src, 1)? << 3);
            let v = self.load(at, 8)?;
            self.store(at, &v.wrapping_add(1).to_le_bytes())?;
            self.trips += 1;
            src = src.wrapping_add(1);
        }
        Some(())
    }

    /// `nest` (`mark: None`) and `nest_mark` (`Some(r)`).
    fn nest(&mut self, p: u64, mut q: u64, n: u64, m: u64, mark: Option<u64>) -> Option<()> {
        for _ in 0..n {
            if let Some(r) = mark {
                self.store(r, &[0xcd])?;
            }
            for j in 0..m {
                let (a, b) = (q.wrapping_add(j << 3), p.wrapping_add(j << 3));
                let v = self.load(a, 8)?.wrapping_add(self.load(b, 8)?);
                self.store(a, &v.to_le_bytes())?;
                self.trips += 1;
            }
            q = q.wrapping_add(8);
        }
        Some(())
    }

    fn store_desc(&mut self, p: u64) -> Option<()> {
        for (k, v) in [(3u64, 1u8), (2, 2), (1, 3), (0, 4)] {
            self.store(p.wrapping_add(k), &[v])?;
        }
        Some(())
    }
}

/// Runs `name(args)` and compares trap, trips and the whole memory with `model`'s run.
fn check_model(inst: &Instance, name: &str, args: &[u64], run: impl FnOnce(&mut Model) -> Option<()>) {
    let mem = inst.get_memory("mem").unwrap();
    let mut model = Model::of(&mem);
    let trapped = run(&mut model).is_none();
    let vals: Vec<Val> = args.iter().map(|&a| I64(a as i64)).collect();
    let r = call(inst, name, &vals);
    let what = format!("{name}({args:#x?}) on {:#x} bytes", mem.size_bytes());
    if trapped {
        assert_eq!(trap_of(r), OOB, "{what}");
    } else {
        r.unwrap_or_else(|e| panic!("{what}: {e}"));
    }
    if name != "store_desc" {
        assert_eq!(trips(inst), model.trips, "{what}");
    }
    assert!(bytes(&mem, 0, model.mem.len()) == model.mem, "{what}: memory differs");
}

/// Accesses whose compares the pre-guard below a memory64 base made unnecessary (a pointer
/// walking down, a histogram indexed by a loaded byte, stores at p + 3 down to p) trap exactly
/// where the compares would have, with the same memory: from starts around 0, the length and
/// 2^64, bases that put the table in bounds, across the end, beyond it, and just below 2^64
/// (where the index wraps around to the start of memory for some bytes and not for others),
/// before and after `memory.grow`.
#[test]
fn memory64_accesses_below_the_base_trap_exactly() {
    let _g = shared();
    for max in ["", "1"] {
        let inst = instance_in(&loops64(max), BoundsChecks::Guard);
        let mem = inst.get_memory("mem").unwrap();
        for grown in 0..2 {
            let len = mem.size_bytes();
            let around = |x: u64| [x, x.wrapping_add(1), x.wrapping_add(7), x.wrapping_add(8), x.wrapping_sub(1), x.wrapping_sub(8), x.wrapping_sub(9)];
            let mut starts: Vec<u64> = [0, len, 1 << 32, 1 << 63, 0x10000].iter().flat_map(|&x| around(x)).collect();
            starts.extend([u64::MAX, u64::MAX - 2, u64::MAX - 0xffff, u64::MAX - 0x10000, 17, 100]);
            for &p in &starts {
                for n in [1, 2, 3, 17] {
                    check_model(&inst, "fill_down8", &[p, n], |m| m.fill_down(p, n, 1));
                    check_model(&inst, "fill_down64", &[p, n], |m| m.fill_down(p, n, 8));
                }
                check_model(&inst, "store_desc", &[p], |m| m.store_desc(p));
            }
            // Source bytes (their histogram slots are 8 bytes apart): 0, 1, 255 and others.
            let src = 4096;
            assert!(mem.write(src, &[0, 1, 255, 2, 254, 7, 0, 128, 3, 3, 9, 64, 255, 1, 0, 200]));
            let mut bases: Vec<u64> = [0, len, len - 2048, len - 2040, 0x10000].iter().flat_map(|&x| around(x)).collect();
            bases.extend([u64::MAX - 7, u64::MAX - 2047, u64::MAX - 2040, u64::MAX - 0xffff, u64::MAX - 0x10007, 1 << 63, 3]);
            for &base in &bases {
                for (s, n) in [(src, 1), (src, 4), (src, 16), (src + 2, 1), (src + 6, 3), (len - 2, 2)] {
                    check_model(&inst, "hist", &[base, s, n], |m| m.hist(base, s, n));
                }
            }
            if grown == 1 || max == "1" {
                break;
            }
            assert_eq!(i64_of(&inst, "grow", &[I64(1)]) as u64, len / PAGE);
        }
    }
}

/// A compare that moved to an inner loop's entry moves on to the outer loop's entry when the
/// outer loop's header has nothing observable before it and its index is invariant or moves
/// by a constant there (`nest`: both compares leave both loops); a store first in the outer
/// header keeps them inside (`nest_mark`). Either way the nest traps exactly where the
/// compares in the inner loop would have, with the same memory: from pointers around 0, the
/// length and 2^64, with the outer loop walking `q` off the end on a later trip, and with the
/// marked byte in and out of bounds, before and after `memory.grow`.
#[test]
fn memory64_nested_loops_trap_exactly() {
    let _g = shared();
    for max in ["", "1"] {
        let wat = loops64(max);
        // Compares in the function, and in its entry block (before the outer loop).
        let placed = |f: u32| {
            let d = wasmaot::debug::dump_function(wat.as_bytes(), f, &opts(BoundsChecks::Guard))
                .unwrap();
            let entry = d.clif.split("\nblock").nth(1).unwrap_or_default();
            (insts(&d.clif, "trapnz"), insts(entry, "trapnz"), d.clif)
        };
        // `nest`: every compare (of p, of q for the load and for the store) is made before
        // the outer loop; `nest_mark`: only the marked byte's, the others stay in the outer
        // loop.
        let (all, entry, clif) = placed(12);
        assert!(all >= 2 && entry == all, "nest:\n{clif}");
        let (all, entry, clif) = placed(13);
        assert!(all >= 3 && entry == 1, "nest_mark:\n{clif}");

        let inst = instance_in(&wat, BoundsChecks::Guard);
        let mem = inst.get_memory("mem").unwrap();
        for grown in 0..2 {
            let len = mem.size_bytes();
            assert!(mem.write(len - 64, &[3; 64]));
            let ps = [0, 256, len - 16, len - 8, len, 1 << 63, u64::MAX - 7];
            let qs = [0, 256, len - 24, len - 16, len - 9, len - 8, len, len + 8, u64::MAX - 7];
            for p in ps {
                for q in qs {
                    for (n, m) in [(1, 1), (1, 3), (3, 1), (4, 2)] {
                        check_model(&inst, "nest", &[p, q, n, m], |md| md.nest(p, q, n, m, None));
                        for r in [512, len] {
                            // A fresh mark, so that a store skipped by an early trap shows.
                            if r < len {
                                assert!(mem.write(r, &[0]));
                            }
                            check_model(&inst, "nest_mark", &[p, q, n, m, r], |md| {
                                md.nest(p, q, n, m, Some(r))
                            });
                        }
                    }
                }
            }
            if grown == 1 || max == "1" {
                break;
            }
            assert_eq!(i64_of(&inst, "grow", &[I64(1)]) as u64, len / PAGE);
        }
    }
}
