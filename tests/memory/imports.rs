// Part of the `memory` test: `include!`d by main.rs, so the tests stay at the crate root.

// ---------------------------------------------------------------------------------------------
// Layouts: what the module tells the runtime.

#[test]
fn explicit_mode_memories_reserve_only_their_maximum() {
    let _g = shared();
    let layout_of = |wat: &str, mode| {
        let inst = instance_in(wat, mode);
        let m = inst.memory(0).unwrap();
        (m.layout(), m.reserved_bytes(), m.max_pages())
    };
    let g = BoundsChecks::Guard;
    let e = BoundsChecks::Explicit;
    assert_eq!(
        layout_of("(module (memory 1 2))", g),
        (MemoryLayout::Guarded, 8 << 30, 2)
    );
    assert_eq!(
        layout_of("(module (memory 1 2))", e),
        (MemoryLayout::Compact, 2 * PAGE, 2)
    );
    assert_eq!(
        layout_of("(module (memory 0 0))", e).0,
        MemoryLayout::Compact
    );
    let default_cap = memory::Limits::default().compact_reservation;
    assert_eq!(
        layout_of("(module (memory 1))", e),
        (MemoryLayout::Compact, default_cap, default_cap / PAGE)
    );
    // Memory64 keeps its guards in both modes (its checks rely on them).
    assert_eq!(
        layout_of("(module (memory i64 1 2))", e),
        (
            MemoryLayout::Guarded,
            2 * PAGE + (4 << 30) + memory::PRE_GUARD_SIZE,
            2
        )
    );
}

#[test]
fn compact_memories_cannot_be_imported_by_guard_mode_code() {
    let _g = shared();
    let importer = r#"(module (memory (import "env" "mem") 1)
      (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0))))"#;
    let exporter = r#"(module (memory (export "mem") 1 2)
      (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))"#;
    let compact = Memory::with_layout(mem_ty(1, Some(2)), MemoryLayout::Compact).unwrap();
    assert_eq!(compact.layout(), MemoryLayout::Compact);
    assert_eq!(compact.reserved_bytes(), 2 * PAGE);
    let guarded = Memory::new(mem_ty(1, Some(2))).unwrap();
    let with = |m: &Memory| {
        let mut l = Linker::new();
        l.define("env", "mem", m.clone());
        l
    };
    // Compact into guard mode: a link error naming the import.
    let e = link_err(with(&compact).instantiate(&module_in(importer, BoundsChecks::Guard)));
    assert!(e.contains("`env::mem`") && e.contains("guard"), "{e}");
    // Every other combination links.
    for (m, mode) in [
        (&compact, BoundsChecks::Explicit),
        (&guarded, BoundsChecks::Explicit),
        (&guarded, BoundsChecks::Guard),
    ] {
        let inst = with(m).instantiate(&module_in(importer, mode)).unwrap();
        assert!(m.write(65535, &[4]));
        assert_eq!(i32_of(&inst, "load", &[I32(65535)]), 4);
        traps(&inst, "load", &[I32(65536)]);
    }
    // An explicit-mode module's own memory is compact: re-exporting it to a guard-mode
    // module fails; to an explicit-mode one it works.
    let src = instance_in(exporter, BoundsChecks::Explicit);
    let mut l = Linker::new();
    l.instance("env", &src);
    let e = link_err(l.instantiate(&module_in(importer, BoundsChecks::Guard)));
    assert!(e.contains("`env::mem`"), "{e}");
    let dst = l
        .instantiate(&module_in(importer, BoundsChecks::Explicit))
        .unwrap();
    ok(&src, "store", &[I32(10), I32(77)]);
    assert_eq!(i32_of(&dst, "load", &[I32(10)]), 77);
    // Memory64 memories are always guarded, so both modes import them.
    let m64 = Memory::with_layout(
        MemoryType {
            memory64: true,
            ..mem_ty(1, None)
        },
        MemoryLayout::Compact,
    )
    .unwrap();
    assert_eq!(m64.layout(), MemoryLayout::Guarded);
    let imp64 = r#"(module (memory (import "env" "mem") i64 1))"#;
    with(&m64)
        .instantiate(&module_in(imp64, BoundsChecks::Guard))
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Imports, exports, multi-memory.

#[test]
fn imported_and_exported_memories() {
    let _g = shared();
    let writer = r#"(module (memory (import "env" "mem") 1)
      (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
      (export "same" (memory 0)))"#;
    let reader = r#"(module (memory (import "env" "mem") 1 10)
      (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
      (func (export "size") (result i32) (memory.size)))"#;
    for mode in MODES {
        let mem = Memory::new(mem_ty(1, Some(10))).unwrap();
        let mut l = Linker::new();
        l.define("env", "mem", mem.clone());
        let w = l.instantiate(&module_in(writer, mode)).unwrap();
        let r = l.instantiate(&module_in(reader, mode)).unwrap();
        // One memory imported by two instances is the same bytes.
        ok(&w, "store", &[I32(100), I32(0x1234_5678)]);
        assert_eq!(i32_of(&r, "load", &[I32(100)]), 0x1234_5678);
        assert_eq!(bytes(&mem, 100, 4), 0x1234_5678u32.to_le_bytes());
        // Exported memories are reachable by name and are the imported one.
        let same = w.get_memory("same").unwrap();
        assert!(same.ptr_eq(&mem));
        assert_eq!(same.data_ptr(), mem.data_ptr());
        // Growth by the host is seen by both.
        assert_eq!(mem.grow(2), Ok(1));
        assert_eq!(i32_of(&r, "size", &[]), 3);
        ok(&w, "store", &[I32(3 * 65536 - 4), I32(-1)]);
        assert_eq!(i32_of(&r, "load", &[I32(3 * 65536 - 4)]), -1);
        traps(&r, "load", &[I32(3 * 65536 - 3)]);

        // A module-defined memory exported and imported by another instance.
        let owner = instance_in(
            r#"(module (memory (export "m") 2)
                 (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))"#,
            mode,
        );
        let mut l2 = Linker::new();
        l2.define("env", "mem", owner.get_memory("m").unwrap());
        let user = l2.instantiate(&module_in(writer, mode)).unwrap();
        ok(&user, "store", &[I32(65536), I32(42)]);
        assert_eq!(i32_of(&owner, "load", &[I32(65536)]), 42);
        drop(owner); // the importer keeps the memory alive
        ok(&user, "store", &[I32(65540), I32(43)]);
    }
}

#[test]
fn memory_imports_are_type_checked() {
    let _g = shared();
    let host = |ty: MemoryType| {
        let mut l = Linker::new();
        l.define("env", "mem", Memory::new(ty).unwrap());
        l
    };
    let m64 = |t: MemoryType| MemoryType {
        memory64: true,
        ..t
    };
    let cases: &[(&str, MemoryType, &str)] = &[
        (
            "(memory (import \"env\" \"mem\") 2)",
            mem_ty(1, None),
            "minimum",
        ),
        (
            "(memory (import \"env\" \"mem\") 1 5)",
            mem_ty(1, Some(10)),
            "maximum",
        ),
        (
            "(memory (import \"env\" \"mem\") 1 5)",
            mem_ty(1, None),
            "maximum",
        ),
        (
            "(memory (import \"env\" \"mem\") i64 1)",
            mem_ty(1, None),
            "index type",
        ),
        (
            "(memory (import \"env\" \"mem\") 1)",
            m64(mem_ty(1, None)),
            "index type",
        ),
        (
            "(memory (import \"env\" \"mem\") 1 5 shared)",
            mem_ty(1, Some(5)),
            "shared",
        ),
        (
            "(memory (import \"env\" \"mem\") 1 5)",
            MemoryType {
                shared: true,
                ..mem_ty(1, Some(5))
            },
            "shared",
        ),
    ];
    for mode in MODES {
        for (decl, ty, why) in cases {
            let wat = format!("(module {decl})");
            let module = module_with(&wat, &threads_opts(mode));
            let e = link_err(host(*ty).instantiate(&module));
            assert!(e.contains("`env::mem`") && e.contains(why), "{decl}: {e}");
        }
        // Subtyping: a bigger current size and a smaller maximum are fine.
        let m = Memory::new(mem_ty(1, Some(4))).unwrap();
        m.grow(2).unwrap();
        let mut l = Linker::new();
        l.define("env", "mem", m);
        l.instantiate(&module_in(
            "(module (memory (import \"env\" \"mem\") 3 8))",
            mode,
        ))
        .unwrap();
        // Not a memory at all.
        let mut l = Linker::new();
        l.define(
            "env",
            "mem",
            Func::host(FuncType::default(), |_, _| Ok(vec![])),
        );
        let e = link_err(l.instantiate(&module_in(
            "(module (memory (import \"env\" \"mem\") 1))",
            mode,
        )));
        assert!(e.contains("`env::mem`") && e.contains("memory"), "{e}");
        let e = link_err(Linker::new().instantiate(&module_in(
            "(module (memory (import \"env\" \"mem\") 1))",
            mode,
        )));
        assert!(e.contains("env::mem"), "{e}");
    }
}

#[test]
fn multi_memory() {
    let _g = shared();
    let wat = r#"(module
      (memory $a (export "a") 1)
      (memory $b (export "b") 1 2)
      (memory $c (export "c") i64 1)
      (func (export "store_a") (param i32 i32) (i32.store $a (local.get 0) (local.get 1)))
      (func (export "store_b") (param i32 i32) (i32.store $b (local.get 0) (local.get 1)))
      (func (export "load_a") (param i32) (result i32) (i32.load $a (local.get 0)))
      (func (export "load_b") (param i32) (result i32) (i32.load $b (local.get 0)))
      (func (export "load_c") (param i64) (result i32) (i32.load $c (local.get 0)))
      (func (export "copy_a_to_b") (param i32 i32 i32)
        (memory.copy $b $a (local.get 0) (local.get 1) (local.get 2)))
      (func (export "copy_b_to_c") (param i64 i32 i32)
        (memory.copy $c $b (local.get 0) (local.get 1) (local.get 2)))
      (func (export "grow_b") (param i32) (result i32) (memory.grow $b (local.get 0)))
      (func (export "size_a") (result i32) (memory.size $a))
      (func (export "size_b") (result i32) (memory.size $b))
      (func (export "swap") (param i32)
        ;; a = b, b = a at the same address, in one function
        (local $t i32)
        (local.set $t (i32.load $a (local.get 0)))
        (i32.store $a (local.get 0) (i32.load $b (local.get 0)))
        (i32.store $b (local.get 0) (local.get $t))))"#;
    for mode in MODES {
        let inst = instance_in(wat, mode);
        let (a, b) = (inst.get_memory("a").unwrap(), inst.get_memory("b").unwrap());
        assert!(!a.ptr_eq(&b));
        ok(&inst, "store_a", &[I32(0), I32(0x1122_3344)]);
        assert_eq!(i32_of(&inst, "load_b", &[I32(0)]), 0);
        ok(&inst, "copy_a_to_b", &[I32(100), I32(0), I32(4)]);
        assert_eq!(i32_of(&inst, "load_b", &[I32(100)]), 0x1122_3344);
        assert_eq!(i32_of(&inst, "load_a", &[I32(100)]), 0);
        ok(&inst, "copy_b_to_c", &[I64(65532), I32(100), I32(4)]);
        assert_eq!(i32_of(&inst, "load_c", &[I64(65532)]), 0x1122_3344);
        traps(&inst, "copy_b_to_c", &[I64(65533), I32(100), I32(4)]);
        ok(&inst, "store_b", &[I32(8), I32(5)]);
        ok(&inst, "swap", &[I32(8)]);
        assert_eq!(i32_of(&inst, "load_a", &[I32(8)]), 5);
        assert_eq!(i32_of(&inst, "load_b", &[I32(8)]), 0);
        // Growing one memory leaves the other alone.
        assert_eq!(i32_of(&inst, "grow_b", &[I32(1)]), 1);
        assert_eq!(i32_of(&inst, "size_b", &[]), 2);
        assert_eq!(i32_of(&inst, "size_a", &[]), 1);
        ok(&inst, "store_b", &[I32(131068), I32(6)]);
        traps(&inst, "store_a", &[I32(131068), I32(6)]);
        traps(&inst, "store_a", &[I32(65533), I32(6)]);
        assert_eq!(i32_of(&inst, "grow_b", &[I32(1)]), -1);
        ok(&inst, "copy_a_to_b", &[I32(131068), I32(0), I32(4)]);
        traps(&inst, "copy_a_to_b", &[I32(131069), I32(0), I32(4)]);
        traps(&inst, "copy_a_to_b", &[I32(0), I32(65533), I32(4)]);
        assert_eq!(i32_of(&inst, "load_b", &[I32(131068)]), 0x1122_3344);
    }
}

// ---------------------------------------------------------------------------------------------
// Shared memories and threads.

#[test]
fn shared_memory_grows_while_another_thread_reads() {
    let _g = shared();
    let wat = r#"(module
      (memory (import "env" "mem") 1 64 shared)
      (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
      (func (export "size") (result i32) (memory.size)))"#;
    for mode in MODES {
        let mem = Memory::new(MemoryType {
            shared: true,
            ..mem_ty(1, Some(64))
        })
        .unwrap();
        let base = mem.data_ptr();
        assert!(mem.write(0, &[0x11]));
        let module = module_with(wat, &threads_opts(mode));
        let mut l = Linker::new();
        l.define("env", "mem", mem.clone());
        let start = Arc::new(Barrier::new(3));
        // A reader that keeps loading the last byte of whatever size it last saw, and the
        // first byte, while two growers race.
        let reader = {
            let inst = l.instantiate(&module).unwrap();
            let mem = mem.clone();
            let start = start.clone();
            std::thread::spawn(move || {
                start.wait();
                let mut reads = 0u64;
                loop {
                    let size = mem.size_bytes();
                    let last = i32_of(&inst, "load8", &[I32((size - 1) as i32)]);
                    assert!(last == 0 || last == 0x22, "byte {} = {last}", size - 1);
                    assert_eq!(i32_of(&inst, "load8", &[I32(0)]), 0x11);
                    reads += 1;
                    if size == 64 * PAGE {
                        traps(&inst, "load8", &[I32(size as i32)]);
                        return reads;
                    }
                }
            })
        };
        let growers: Vec<_> = (0..2)
            .map(|_| {
                let inst = l.instantiate(&module).unwrap();
                let mem = mem.clone();
                let start = start.clone();
                std::thread::spawn(move || {
                    start.wait();
                    let mut olds = Vec::new();
                    loop {
                        let old = i32_of(&inst, "grow", &[I32(1)]);
                        if old < 0 {
                            return olds;
                        }
                        assert!(mem.write((old as u64 + 1) * PAGE - 1, &[0x22]));
                        olds.push(old);
                    }
                })
            })
            .collect();
        let mut olds: Vec<i32> = growers
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        assert!(reader.join().unwrap() > 0);
        // The grows were serialized: every old size was handed out exactly once.
        olds.sort();
        assert_eq!(olds, (1..64).collect::<Vec<_>>());
        assert_eq!(mem.size_pages(), 64);
        assert_eq!(mem.data_ptr(), base, "a shared memory never moves");
    }
}

/// Shared memories compile (with the threads feature on), atomic instructions do not: every
/// family of them is refused as unsupported, never translated as a plain access.
#[test]
fn atomic_instructions_are_unsupported() {
    let _g = shared();
    for body in [
        "(drop (i32.atomic.load (i32.const 0)))",
        "(i64.atomic.store (i32.const 0) (i64.const 1))",
        "(drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))",
        "(drop (i32.atomic.rmw.cmpxchg (i32.const 0) (i32.const 1) (i32.const 2)))",
        "(drop (memory.atomic.notify (i32.const 0) (i32.const 1)))",
        "(drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const 0)))",
        "(atomic.fence)",
    ] {
        let wat = format!("(module (memory 1 1 shared) (func {body}))");
        let wasm = wat::parse_str(&wat).unwrap();
        match wasmaot::compile(&wasm, &threads_opts(BoundsChecks::Guard)) {
            Err(e) => assert!(
                e.to_string()
                    .starts_with("unsupported: threads (atomic operations) (at byte offset 0x"),
                "{body}: {e}"
            ),
            Ok(_) => panic!("{body}: compiled"),
        }
    }
}
