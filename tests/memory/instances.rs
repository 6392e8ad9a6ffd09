// Part of the `memory` test: `include!`d by main.rs, so the tests stay at the crate root.

// ---------------------------------------------------------------------------------------------
// Data segments at instantiation.

#[test]
fn data_segments_are_applied_in_order_with_bounds_checks() {
    let _g = shared();
    for mode in MODES {
        let mem = Memory::new(mem_ty(1, None)).unwrap();
        let mut l = Linker::new();
        l.define("env", "mem", mem.clone());
        let inst = |wat: &str| l.instantiate(&module_in(wat, mode));
        // In bounds, including an empty segment exactly at the end.
        inst(
            r#"(module (memory (import "env" "mem") 1)
              (data (i32.const 0) "abc") (data (i32.const 65533) "xyz")
              (data (i32.const 65536) ""))"#,
        )
        .unwrap();
        assert_eq!(bytes(&mem, 0, 3), b"abc");
        assert_eq!(bytes(&mem, 65533, 3), b"xyz");
        assert!(mem.write(0, &[0; 3]));
        assert!(mem.write(65533, &[0; 3]));
        // The second segment is out of bounds: instantiation traps, the first segment stays
        // written (segments are applied in order) and the failing one writes nothing.
        let r = inst(
            r#"(module (memory (import "env" "mem") 1)
              (data (i32.const 0) "abc") (data (i32.const 65534) "xyz") (data (i32.const 8) "q"))"#,
        );
        assert_eq!(
            r.unwrap_err().as_trap().map(|t| t.kind),
            Some(TrapKind::MemoryOutOfBounds)
        );
        assert_eq!(bytes(&mem, 0, 3), b"abc");
        assert_eq!(bytes(&mem, 65534, 2), [0, 0]);
        assert_eq!(bytes(&mem, 8, 1), [0]);
        // An empty segment past the end traps too.
        let r = inst(r#"(module (memory (import "env" "mem") 1) (data (i32.const 65537) ""))"#);
        assert!(r.unwrap_err().as_trap().is_some());
        // Element segments come first: an out-of-bounds one stops the data segments.
        assert!(mem.write(0, &[0; 3]));
        let r = inst(
            r#"(module (memory (import "env" "mem") 1) (table 1 funcref) (func $f)
              (elem (i32.const 1) $f) (data (i32.const 0) "abc"))"#,
        );
        assert_eq!(
            r.unwrap_err().as_trap().map(|t| t.kind),
            Some(TrapKind::TableOutOfBounds)
        );
        assert_eq!(bytes(&mem, 0, 3), [0; 3]);
        // Computed (extended-const) and memory64 offsets.
        let i = instance_in(
            r#"(module (memory (export "m") i64 2)
              (data (i64.add (i64.const 65534) (i64.const 1)) "ab"))"#,
            mode,
        );
        assert_eq!(bytes(&i.get_memory("m").unwrap(), 65535, 2), b"ab");
        let r = Linker::new().instantiate(&module_in(
            r#"(module (memory i64 1) (data (i64.const 0xffffffffffffffff) "ab"))"#,
            mode,
        ));
        assert!(r.unwrap_err().as_trap().is_some());
    }
}

// ---------------------------------------------------------------------------------------------
// Many instances.

const SMALL: &str = r#"(module
  (memory (export "mem") 1)
  (data (i32.const 0) "\2a")
  (func (export "get") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "put") (param i32 i32) (i32.store (local.get 0) (local.get 1))))"#;

fn maps_lines() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .count()
}

fn vm_size_kb() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = s.lines().find(|l| l.starts_with("VmSize:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn thousand_instances_alive_then_hundred_thousand_in_sequence() {
    let _g = exclusive();
    for mode in MODES {
        let module = module_in(SMALL, mode);
        let linker = Linker::new();
        // 1,000 live at once, each with its own memory.
        let all: Vec<Instance> = (0..1000)
            .map(|_| linker.instantiate(&module).unwrap())
            .collect();
        for (i, inst) in all.iter().enumerate() {
            ok(inst, "put", &[I32(4), I32(i as i32)]);
        }
        for (i, inst) in all.iter().enumerate() {
            assert_eq!(i32_of(inst, "get", &[I32(0)]), 0x2a);
            assert_eq!(i32_of(inst, "get", &[I32(4)]), i as i32);
            traps(inst, "get", &[I32(65533)]);
        }
        drop(all);
        assert!(memory::pooled_reservations() <= memory::limits().pool_capacity);

        // 100,000 created and dropped one after the other: the mappings stay at baseline,
        // and a recycled memory never shows a previous instance's bytes.
        let warm = linker.instantiate(&module).unwrap();
        drop(warm);
        let (maps0, vm0) = (maps_lines(), vm_size_kb());
        for i in 0..100_000 {
            let inst = linker.instantiate(&module).unwrap();
            if i % 1000 == 0 {
                assert_eq!(i32_of(&inst, "get", &[I32(4)]), 0, "fresh memory is zero");
                assert_eq!(i32_of(&inst, "get", &[I32(65532)]), 0);
            }
            ok(&inst, "put", &[I32(4), I32(i)]);
            ok(&inst, "put", &[I32(65532), I32(i)]);
        }
        let (maps1, vm1) = (maps_lines(), vm_size_kb());
        assert!(
            maps1 <= maps0 + 8,
            "{mode:?}: /proc/self/maps grew from {maps0} to {maps1} lines"
        );
        assert!(
            vm1 <= vm0 + 16 * 1024,
            "{mode:?}: VmSize grew from {vm0} kB to {vm1} kB"
        );
        assert_eq!(memory::pages_in_use(), 0);
    }
    // Trimming the pool gives its address space back.
    let vm0 = vm_size_kb();
    let pooled = memory::pooled_reservations();
    assert!(pooled >= 1);
    memory::trim_pool();
    assert_eq!(memory::pooled_reservations(), 0);
    assert!(
        vm_size_kb() < vm0,
        "trimming {pooled} reservations freed nothing"
    );
}

/// The per-memory and per-process budgets apply to `memory.grow` in compiled code (and to
/// instantiation), in both modes.
#[test]
fn budgets_limit_compiled_code() {
    let _g = exclusive();
    let before = memory::limits();
    let wat = ADD_PAGE.replace("1 3", "1 10");
    for mode in MODES {
        memory::set_limits(memory::Limits {
            max_pages_total: memory::pages_in_use() + 3,
            ..before
        });
        let inst = instance_in(&wat, mode);
        assert_eq!(i32_of(&inst, "grow", &[I32(2)]), 1);
        assert_eq!(i32_of(&inst, "grow", &[I32(1)]), -1);
        assert_eq!(i32_of(&inst, "size", &[]), 3);
        memory::set_limits(before);
        assert_eq!(i32_of(&inst, "grow", &[I32(1)]), 3);
        drop(inst);

        memory::set_limits(memory::Limits {
            max_pages_per_memory: 2,
            ..before
        });
        let inst = instance_in(&wat, mode);
        assert_eq!(i32_of(&inst, "add_page", &[]), 1);
        assert_eq!(i32_of(&inst, "add_page", &[]), -1);
        let r = Linker::new().instantiate(&module_in("(module (memory 3))", mode));
        assert!(
            matches!(
                r,
                Err(Error::Memory(MemoryError::Allocation { pages: 3, .. }))
            ),
            "{r:?}"
        );
        memory::set_limits(before);
    }
}

#[test]
fn recycled_memories_start_zeroed_and_guarded() {
    let _g = shared();
    // A memory that grew and was written, then dropped, must not leak its size or bytes into
    // the next memory that reuses its reservation.
    let wat = r#"(module
      (memory (export "mem") 1)
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
      (func (export "get") (param i32) (result i32) (i32.load8_u (local.get 0))))"#;
    for mode in MODES {
        let module = module_in(wat, mode);
        for _ in 0..50 {
            let a = Linker::new().instantiate(&module).unwrap();
            assert_eq!(i32_of(&a, "grow", &[I32(3)]), 1);
            let m = a.get_memory("mem").unwrap();
            assert!(m.write(0, &[1]));
            assert!(m.write(4 * PAGE - 1, &[1]));
            drop((a, m));
            let b = Linker::new().instantiate(&module).unwrap();
            assert_eq!(i32_of(&b, "get", &[I32(0)]), 0);
            traps(&b, "get", &[I32(65536)]);
            traps(&b, "get", &[I32(4 * 65536 - 1)]);
            assert_eq!(i32_of(&b, "grow", &[I32(3)]), 1);
            assert_eq!(i32_of(&b, "get", &[I32(4 * 65536 - 1)]), 0);
        }
    }
}
