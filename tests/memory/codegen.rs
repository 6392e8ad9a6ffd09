// Part of the `memory` test: `include!`d by main.rs, so the tests stay at the crate root.

// ---------------------------------------------------------------------------------------------
// What the generated code looks like.

/// Fourteen accesses, no arithmetic, no control flow: any compare or conditional trap in the
/// code can only be a bounds check.
const KERNEL: &str = r#"(module
  (memory MEM)
  (func (export "kernel") (param $a IDX) (param $b IDX)
    (i32.store (local.get $a) (i32.load (local.get $b)))
    (i64.store offset=8 (local.get $a) (i64.load offset=16 (local.get $b)))
    (i32.store8 offset=4294967295 (local.get $a) (i32.load8_u offset=4294967295 (local.get $b)))
    (f64.store offset=100 (local.get $b) (f64.load (local.get $a)))
    (i32.store16 (local.get $a) (i32.load16_s offset=3 (local.get $b)))
    (v128.store offset=32 (local.get $a) (v128.load offset=64 (local.get $b)))
    (i64.store32 (local.get $b) (i64.load32_u offset=65536 (local.get $a)))))"#;
const KERNEL_ACCESSES: usize = 14;

fn kernel(mem: &str, idx: &str) -> String {
    KERNEL.replace("MEM", mem).replace("IDX", idx)
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// Number of CLIF instructions with opcode `op` (`v3 = icmp ...`, `trapnz ...`,
/// `v5 = load.i64 ...` all count under their opcode).
fn insts(clif: &str, op: &str) -> usize {
    clif.lines()
        .filter(|l| {
            let l = l.trim();
            let l = l.split_once(" = ").map_or(l, |(_, r)| r);
            let opcode = l.split([' ', '.']).next().unwrap_or("");
            opcode == op
        })
        .count()
}

#[test]
fn guard_mode_32bit_accesses_have_no_bounds_checks() {
    let _g = shared();
    let wat = kernel("1", "i32");
    let o = opts(BoundsChecks::Guard);
    let d = wasmaot::debug::dump_function(wat.as_bytes(), 0, &o).unwrap();
    // In the IR: no compare, no conditional or unconditional trap, no overflow check.
    for op in [
        "icmp",
        "trapnz",
        "trapz",
        "trap",
        "uadd_overflow_trap",
        "select_spectre_guard",
    ] {
        assert_eq!(
            insts(&d.clif, op),
            0,
            "`{op}` in guard-mode CLIF:\n{}",
            d.clif
        );
        assert_eq!(insts(&d.optimized, op), 0, "`{op}` after optimisation");
    }
    // The accesses themselves are all there.
    let accesses: usize = [
        "load", "store", "uload8", "istore8", "sload16", "istore16", "uload32", "istore32",
    ]
    .iter()
    .map(|op| insts(&d.clif, op))
    .sum();
    // (plus one load per access of the memory's base from the vmctx, merged by the optimiser)
    assert_eq!(
        accesses,
        KERNEL_ACCESSES + KERNEL_ACCESSES,
        "{}",
        d.clif
    );
    // In the machine code: no compare, no test, no conditional branch, no ud2 (the only
    // jump is the fall-through to the return block).
    for l in d.disasm.lines().map(str::trim) {
        assert!(
            !(l.starts_with("cmp") || l.starts_with("test") || l.starts_with("ud2"))
                && (!l.starts_with('j') || l.starts_with("jmp")),
            "`{l}` in:\n{}",
            d.disasm
        );
    }
    // Every load and store is a trap site meaning "out of bounds memory access", and nothing
    // else is.
    assert_eq!(
        d.traps.len(),
        KERNEL_ACCESSES,
        "{:?}\n{}",
        d.traps,
        d.disasm
    );
    assert!(d
        .traps
        .iter()
        .all(|t| t.kind == TrapKind::MemoryOutOfBounds));
    assert_eq!(TrapKind::MemoryOutOfBounds.message(), OOB);

    // The object's trap table says the same.
    let out = wasmaot::compile(wat.as_bytes(), &o).unwrap();
    assert_eq!(out.info.bounds_checks, BoundsChecks::Guard);
    let table = &out.info.func_traps[0];
    assert_eq!(table, &d.traps);

    // And each trap site is a load or store instruction in the emitted object.
    if let Some(listing) = objdump(&out.object) {
        let body = function_listing(&listing, &out.info.func_names[0]);
        assert!(
            !body.is_empty(),
            "no `{}` in\n{listing}",
            out.info.func_names[0]
        );
        for site in table {
            let line = body
                .iter()
                .find(|(off, _)| *off == u64::from(site.offset))
                .unwrap_or_else(|| panic!("no instruction at trap offset {:#x}", site.offset));
            assert!(
                line.1.contains("mov") && line.1.contains('('),
                "trap site {:#x} is not a memory access: {}",
                site.offset,
                line.1
            );
        }
        assert!(!body
            .iter()
            .any(|(_, i)| i.contains("cmp") || i.contains("ud2")));
    }
}

#[test]
fn checked_modes_do_compare() {
    let _g = shared();
    // Explicit 32-bit: the first access at an index, and each later one there reaching
    // further than any before it, compares (`bounds.rs`): in program order $b:4, $a:4,
    // $b:24, $a:16, $b:2^32 and $a:2^32, six. On the fixed 1-page memory the three accesses
    // whose offset alone is past the end trap unconditionally instead; the four compares
    // before the first of them are what counts (the code after an unconditional trap is
    // unreachable, and its locals read as fresh values). Memory64 in either mode: the first
    // access at each of the two indices (the guard covers every offset here).
    let cases = [
        (BoundsChecks::Explicit, kernel("1", "i32"), 6, 0),
        (BoundsChecks::Explicit, kernel("1 1", "i32"), 4, 3),
        (BoundsChecks::Guard, kernel("i64 1", "i64"), 2, 0),
        (BoundsChecks::Explicit, kernel("i64 1", "i64"), 2, 0),
    ];
    for (mode, wat, compares, static_traps) in cases {
        let d = wasmaot::debug::dump_function(wat.as_bytes(), 0, &opts(mode)).unwrap();
        // One compare + conditional trap per checked access, or an unconditional trap where
        // the static offset alone is out of bounds.
        let conditional = insts(&d.clif, "trapnz");
        let statically_oob = insts(&d.clif, "trap");
        let first_trap = d.clif.find("    trap ").unwrap_or(d.clif.len());
        assert_eq!(
            (insts(&d.clif[..first_trap], "trapnz"), statically_oob),
            (compares, static_traps),
            "{mode:?}:\n{}",
            d.clif
        );
        assert!(insts(&d.clif, "icmp") >= conditional, "{}", d.clif);
        assert!(count(&d.disasm, "cmp") >= 1, "{}", d.disasm);
        assert!(d
            .traps
            .iter()
            .all(|t| t.kind == TrapKind::MemoryOutOfBounds));
    }
    // The 32-bit explicit check is the full one (index + offset + size against the length),
    // so it needs no guard: every checked access compares against `length + 1 - (offset +
    // size)`.
    let d = wasmaot::debug::dump_function(
        kernel("1", "i32").as_bytes(),
        0,
        &opts(BoundsChecks::Explicit),
    )
    .unwrap();
    assert_eq!(insts(&d.clif, "select"), 6, "{}", d.clif);
}

/// Explicit 32-bit checks (no guard) cover a later access only at the same index value and
/// only as far as they reached; never across an `else` or from `x` to `x + 1`.
#[test]
fn explicit_checks_cover_later_accesses_reaching_no_further() {
    let _g = shared();
    let cases = [
        (
            "(i32.store (local.get $x) (i32.add (i32.load (local.get $x)) (i32.const 1)))",
            1,
        ),
        (
            "(drop (i32.load (local.get $x))) (drop (i32.load8_u offset=3 (local.get $x)))",
            1,
        ),
        (
            "(drop (i32.load (local.get $x))) (drop (i32.load8_u offset=4 (local.get $x)))",
            2,
        ),
        (
            "(drop (i32.load8_u (local.get $x))) (drop (i32.load (local.get $x)))",
            2,
        ),
        (
            "(drop (i32.load8_u (local.get $x))) \
             (drop (i32.load8_u (i32.add (local.get $x) (i32.const 1))))",
            2,
        ),
        (
            "(drop (i32.load (local.get $x))) \
             (if (local.get $c) (then (drop (i32.load (local.get $x)))))",
            1,
        ),
        (
            "(if (local.get $c) (then (drop (i32.load (local.get $x)))) \
                                (else (drop (i32.load (local.get $x)))))",
            2,
        ),
    ];
    for (body, want) in cases {
        for mem in ["1", "1 1"] {
            let wat = format!(
                "(module (memory {mem}) (func (param $x i32) (param $c i32) {body}))"
            );
            let d = wasmaot::debug::dump_function(
                wat.as_bytes(),
                0,
                &opts(BoundsChecks::Explicit),
            )
            .unwrap();
            assert_eq!(insts(&d.clif, "trapnz"), want, "{body}\n{}", d.clif);
        }
    }
}

/// In a loop without calls the length is not reloaded per access: it is loaded once at entry
/// (the loop compares against a register); with a call in the loop it is reloaded after it.
#[test]
fn length_load_is_hoisted_out_of_call_free_loops() {
    let _g = shared();
    let wat = r#"(module
      (func $f)
      (memory i64 1)
      (func (export "sum") (param $p i64) (param $n i64) (result i32)
        (local $s i32)
        (loop $l
          (local.set $s (i32.add (local.get $s) (i32.load8_u (local.get $p))))
          (i64.store8 offset=7 (local.get $p) (local.get $n))
          (local.set $p (i64.add (local.get $p) (i64.const 1)))
          (br_if $l (i64.lt_u (local.get $p) (local.get $n))))
        (local.get $s))
      (func (export "sum_call") (param $p i64) (param $n i64) (result i32)
        (local $s i32)
        (loop $l
          (local.set $s (i32.add (local.get $s) (i32.load8_u (local.get $p))))
          (call $f)
          (local.set $p (i64.add (local.get $p) (i64.const 1)))
          (br_if $l (i64.lt_u (local.get $p) (local.get $n))))
        (local.get $s)))"#;
    let o = opts(BoundsChecks::Guard);
    // A length load is the only load at `+8` from the memory definition.
    let length_loads = |func: u32| {
        let d = wasmaot::debug::dump_function(wat.as_bytes(), func, &o).unwrap();
        d.optimized
            .lines()
            .filter(|l| l.contains("= load.i64") && l.ends_with("+8"))
            .count()
    };
    assert_eq!(length_loads(1), 1);
    assert_eq!(length_loads(2), 2);
    // And it still computes the right thing.
    let inst = instance_in(wat, BoundsChecks::Guard);
    // Bytes 7..107 were stored (100 each) before being read from p = 7 on.
    assert_eq!(i32_of(&inst, "sum", &[I64(0), I64(100)]), 93 * 100);
    traps(&inst, "sum", &[I64(65000), I64(65536)]);
}

// ---------------------------------------------------------------------------------------------
// objdump helpers.

/// `objdump -d` of an object, if objdump is installed.
fn objdump(object: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().ok()?;
    let path = dir.path().join("t.o");
    std::fs::write(&path, object).ok()?;
    let out = std::process::Command::new("objdump")
        .arg("-d")
        .arg("--no-show-raw-insn")
        .arg(&path)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Which later memory64 accesses an earlier compare covers (compiler/src/translate/
/// dominated_checks.rs): the same index, the index
/// plus a constant that keeps the access inside the guard, or, with no static offset, minus
/// one within the pre-guard below the base, wherever the compare dominates the access. Not: a
/// step down with a static offset or past the pre-guard, a constant past the guard, the
/// `else` arm after a compare in the `then` arm, or after the `end` of a construct a branch
/// may have left before the compare.
#[test]
fn memory64_compares_cover_later_accesses_they_dominate() {
    let _g = shared();
    let b = |k: &str| format!("(drop (i32.load8_u (i64.add (local.get $x) (i64.const {k}))))");
    let x = "(drop (i32.load8_u (local.get $x)))";
    let cases = [
        // clang's unrolled loop bodies: ascending from the index itself.
        (format!("{x} {} {} {}", b("1"), b("2"), b("3")), 1),
        // A load and a store at one index.
        (
            "(i32.store8 (local.get $x) (i32.load8_u (local.get $x)))".to_string(),
            1,
        ),
        // Descending: x + 3 may have wrapped and x + 2 not, but then x + 2 is just below
        // 2^64 and its access lands in the pre-guard below the base.
        (format!("{} {} {} {x}", b("3"), b("2"), b("1")), 1),
        (format!("{} {}", b("1"), b("3")), 1),
        (format!("{} {x}", b("0x10000")), 1),
        // Past the pre-guard, or with a static offset that can carry the access back into
        // memory: the compare stays.
        (format!("{} {x}", b("0x10001")), 2),
        (
            format!(
                "{} (drop (i32.load8_u offset=1 (i64.add (local.get $x) (i64.const 2))))",
                b("3")
            ),
            2,
        ),
        (format!("{x} {}", b("-1")), 2),
        (format!("{x} {}", b("0x100000000")), 2),
        (format!("{x} {}", b("0xfffffff0")), 1),
        // A constant offset counts: x + 0xfffffff0 + offset 16 + 1 byte is past the guard.
        (
            format!(
                "{x} (drop (i32.load8_u offset=16 (i64.add (local.get $x) (i64.const 0xfffffff0))))"
            ),
            2,
        ),
        // Fall-through of br_if and the then arm of an if: covered.
        (format!("(block {x} (br_if 0 (local.get $c)) {})", b("1")), 1),
        (format!("{x} (if (local.get $c) (then {}))", b("1")), 1),
        (format!("{x} (if (local.get $c) (then) (else {}))", b("1")), 1),
        (
            format!(
                "{x} (block (block {}) (br_if 0 (local.get $c)) {})",
                b("1"),
                b("2")
            ),
            1,
        ),
        // After the end of a construct every path through which made the compare: covered.
        // bytes64's search loop, `b[i] == p0 && b[i + 1] == p1` unrolled by two, reads
        // `b[i + 1]` again after the `if` of the first half.
        (format!("(block {x} (br_if 0 (local.get $c)) {x}) {}", b("1")), 1),
        (format!("(loop {x}) {x} {}", b("1")), 1),
        (
            format!(
                "(if (i32.eqz (i32.load8_u (local.get $x)))
                   (then (if (i32.load8_u (i64.add (local.get $x) (i64.const 1)))
                           (then (drop (i32.load8_u (i64.add (local.get $x) (i64.const 2))))))))
                 {}",
                b("1")
            ),
            1,
        ),
        // The else arm (the then arm checked x), after an `if` whose then arm alone made the
        // compare, or after a `block` a branch may leave before it: not covered.
        (
            format!("(if (local.get $c) (then {x}) (else {}))", b("1")),
            2,
        ),
        (format!("(if (local.get $c) (then {x})) {}", b("1")), 2),
        (format!("(block (br_if 0 (local.get $c)) {x}) {}", b("1")), 2),
        // Another memory's compare of the same index covers nothing.
        (
            format!(
                "{x} (drop (i32.load8_u 1 (i64.add (local.get $x) (i64.const 1)))) {}",
                b("1")
            ),
            2,
        ),
    ];
    for (body, want) in cases {
        let wat = format!(
            "(module (memory i64 1) (memory i64 1) (func (param $x i64) (param $c i32) {body}))"
        );
        for mode in MODES {
            let d = wasmaot::debug::dump_function(wat.as_bytes(), 0, &opts(mode)).unwrap();
            assert_eq!(insts(&d.clif, "trapnz"), want, "{body}\n{}", d.clif);
        }
    }
}

#[test]
fn masks_that_keep_every_loaded_bit_are_dropped() {
    let _g = shared();
    let o = opts(BoundsChecks::Guard);
    // (load, mask, whether the `and` must stay): a mask drops out only when it keeps every bit
    // the zero-extending load can produce.
    for (load, mask, stays) in [
        ("i32.load8_u", "(i32.const 255)", false),
        ("i32.load8_u", "(i32.const -1)", false),
        ("i32.load16_u", "(i32.const 0xffff)", false),
        ("i64.load32_u", "(i64.const 0xffffffff)", false),
        ("i64.load8_u", "(i64.const 0x1ff)", false),
        ("i32.load8_u", "(i32.const 127)", true),
        ("i32.load16_u", "(i32.const 255)", true),
        ("i32.load8_s", "(i32.const 255)", true),
        ("i64.load32_u", "(i64.const 0x7fffffff)", true),
    ] {
        let ty = &load[..3];
        for body in [
            format!("({ty}.and ({load} (local.get 0)) {mask})"),
            format!("({ty}.and {mask} ({load} (local.get 0)))"),
        ] {
            let wat = format!(
                "(module (memory 1) (func (param i32) (result {ty}) {body}))"
            );
            let d = wasmaot::debug::dump_function(wat.as_bytes(), 0, &o).unwrap();
            assert_eq!(insts(&d.clif, "band"), usize::from(stays), "{body}:\n{}", d.clif);
        }
    }
}

#[test]
fn narrow_stores_of_constants_store_immediates() {
    let _g = shared();
    let o = opts(BoundsChecks::Guard);
    // (store, constant, the bytes it leaves at 8.., starting from 0xaa everywhere): only the
    // low bytes of the constant are written, whatever its high bits.
    for (store, value, want) in [
        ("i32.store8", "(i32.const 0x1ff)", &[0xff, 0xaa, 0xaa, 0xaa, 0xaa][..]),
        ("i32.store8", "(i32.const -128)", &[0x80, 0xaa, 0xaa, 0xaa, 0xaa]),
        ("i32.store16", "(i32.const 0x12345)", &[0x45, 0x23, 0xaa, 0xaa, 0xaa]),
        ("i64.store8", "(i64.const -1)", &[0xff, 0xaa, 0xaa, 0xaa, 0xaa]),
        ("i64.store16", "(i64.const 0x7777_0000_8001)", &[0x01, 0x80, 0xaa, 0xaa, 0xaa]),
        ("i64.store32", "(i64.const -2)", &[0xfe, 0xff, 0xff, 0xff, 0xaa]),
        ("i64.store32", "(i64.const 0x1_0000_0000)", &[0, 0, 0, 0, 0xaa]),
    ] {
        let wat = format!(
            r#"(module (memory (export "mem") 1)
                 (func (export "store") (param i32) ({store} offset=8 (local.get 0) {value})))"#
        );
        let d = wasmaot::debug::dump_function(wat.as_bytes(), 0, &o).unwrap();
        for op in ["istore8", "istore16", "istore32"] {
            assert_eq!(insts(&d.clif, op), 0, "{store} {value}:\n{}", d.clif);
        }
        // One instruction writes the immediate: no register holds the constant first.
        let width = match &store[4..] {
            "store8" => "movb $",
            "store16" => "movw $",
            _ => "movl $",
        };
        let imm_store = d.disasm.lines().any(|l| {
            let l = l.trim_start();
            l.starts_with(width) && l.ends_with(')')
        });
        assert!(imm_store, "{store} {value}: no immediate store in\n{}", d.disasm);
        let inst = instance_in(&wat, BoundsChecks::Guard);
        let mem = inst.get_memory("mem").unwrap();
        assert!(mem.write(0, &[0xaa; 32]));
        ok(&inst, "store", &[I32(0)]);
        assert_eq!(bytes(&mem, 8, 5), want, "{store} {value}");
        assert_eq!(bytes(&mem, 0, 8), [0xaa; 8], "{store} {value}");
    }
}

/// The instructions of the function whose symbol is `name`, as (offset from the function
/// start, text).
fn function_listing(listing: &str, name: &str) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    let mut start = None;
    let header = format!("<{name}>:");
    for line in listing.lines() {
        if line.ends_with(">:") {
            start = if line.ends_with(&header) {
                line.split_whitespace()
                    .next()
                    .and_then(|a| u64::from_str_radix(a, 16).ok())
            } else {
                None
            };
            if !out.is_empty() {
                break;
            }
            continue;
        }
        if let (Some(s), Some((addr, insn))) = (start, line.split_once(':')) {
            if let Ok(a) = u64::from_str_radix(addr.trim(), 16) {
                out.push((a - s, insn.trim().to_string()));
            }
        }
    }
    out
}

#[test]
fn call_indirect_tests_null_through_the_type_id_load() {
    let _g = shared();
    let o = opts(BoundsChecks::Guard);
    let wat = r#"(module
      (type $t (func (result i32)))
      (table (export "t") 4 funcref)
      (func (param i32) (result i32) (call_indirect (type $t) (local.get 0))))"#;
    let d = wasmaot::debug::dump_function(wat.as_bytes(), 0, &o).unwrap();
    // (Exported, so not frozen: see tests/frozen_tables.rs for the other path.)
    // Bounds and signature are compared explicitly; null is not: the type-id load is a trap
    // site, and a null funcref makes it fault in page 0 (e2e_ops checks the trap kind).
    assert_eq!(insts(&d.clif, "trapz"), 0, "{}", d.clif);
    assert_eq!(insts(&d.clif, "trapnz"), 2, "{}", d.clif);
    let trapping_loads = d
        .clif
        .lines()
        .filter(|l| l.contains("= load.i32") && !l.contains("notrap"))
        .count();
    assert_eq!(trapping_loads, 1, "{}", d.clif);
}
