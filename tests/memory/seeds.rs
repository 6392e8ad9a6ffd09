// Part of the `memory` test: `include!`d by main.rs, so the tests stay at the crate root.

// ---------------------------------------------------------------------------------------------
// The seeds' WebAssembly.Memory semantics.

#[test]
fn seed_host_memory_api() {
    let _g = shared();
    // {initial:1, maximum:3}
    let m = Memory::new(mem_ty(1, Some(3))).unwrap();
    assert_eq!(m.size_bytes(), 65536);
    assert_eq!(m.grow(1), Ok(1));
    assert_eq!(m.size_bytes(), 131072);
    assert_eq!(m.grow(1), Ok(2));
    assert_eq!(
        m.grow(1),
        Err(MemoryError::GrowFailed {
            current: 3,
            delta: 1
        })
    );
    assert_eq!(m.grow_or_minus_one(1), -1);
    assert_eq!(m.size_bytes(), 196608, "a failed grow changes nothing");
    // {initial:16, maximum:256}
    let m = Memory::new(mem_ty(16, Some(256))).unwrap();
    assert_eq!(m.size_bytes(), 1048576);
    assert_eq!(m.grow(16), Ok(16));
    assert_eq!(m.size_bytes(), 2097152);
    // Shared memories need a maximum.
    let e = Memory::new(MemoryType {
        shared: true,
        ..mem_ty(16, None)
    })
    .unwrap_err();
    assert_eq!(e, MemoryError::SharedWithoutMaximum);
    assert_eq!(e.to_string(), "maximum is required for shared memory");
    let s = Memory::new(MemoryType {
        shared: true,
        ..mem_ty(16, Some(256))
    })
    .unwrap();
    assert_eq!(s.grow(16), Ok(16));
    // maximum < initial: a range error.
    assert!(matches!(
        Memory::new(mem_ty(10, Some(9))),
        Err(MemoryError::Range(_))
    ));
    // Beyond the index space: range errors too.
    assert!(matches!(
        Memory::new(mem_ty(65537, None)),
        Err(MemoryError::Range(_))
    ));
    // An initial size that cannot be allocated fails at construction, not at grow.
    let huge = MemoryType {
        memory64: true,
        ..mem_ty(1 << 40, None)
    };
    assert!(matches!(
        Memory::new(huge),
        Err(MemoryError::Allocation { .. })
    ));
    // The base never moves, unlike a JS ArrayBuffer.
    let m = Memory::new(mem_ty(1, None)).unwrap();
    let base = m.data_ptr();
    assert!(m.write(65535, &[9]));
    m.grow(100).unwrap();
    assert_eq!(m.data_ptr(), base);
    assert_eq!(bytes(&m, 65535, 1), [9]);
}

const ADD_PAGE: &str = r#"(module
  (memory (export "mem") 1 3)
  (func (export "add_page") (result i32) (memory.grow (i32.const 1)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size)))"#;

#[test]
fn seed_memory_grow_through_compiled_code() {
    let _g = shared();
    for mode in MODES {
        let inst = instance_in(ADD_PAGE, mode);
        let mem = inst.get_memory("mem").unwrap();
        assert_eq!(mem.size_bytes(), 65536);
        assert_eq!(i32_of(&inst, "add_page", &[]), 1);
        assert_eq!(mem.size_bytes(), 131072);
        assert_eq!(i32_of(&inst, "add_page", &[]), 2);
        assert_eq!(i32_of(&inst, "add_page", &[]), -1);
        assert_eq!(mem.size_bytes(), 196608);
        assert_eq!(i32_of(&inst, "size", &[]), 3);
        assert_eq!(i32_of(&inst, "grow", &[I32(0)]), 3);
        assert_eq!(i32_of(&inst, "grow", &[I32(-1)]), -1);

        let wat = ADD_PAGE.replace("1 3", "16 256");
        let inst = instance_in(&wat, mode);
        assert_eq!(i32_of(&inst, "grow", &[I32(16)]), 16);
        assert_eq!(inst.get_memory("mem").unwrap().size_bytes(), 2097152);
        assert_eq!(i32_of(&inst, "size", &[]), 32);
        assert_eq!(i32_of(&inst, "grow", &[I32(225)]), -1);
        assert_eq!(i32_of(&inst, "size", &[]), 32);

        // An initial size that cannot be allocated fails at instantiation.
        let big = r#"(module (memory i64 4294967296))"#;
        let r = Linker::new().instantiate(&module_in(big, mode));
        assert!(
            matches!(r, Err(Error::Memory(MemoryError::Allocation { .. }))),
            "{r:?}"
        );
    }
}

/// Seed 004: the host writes 7 and 4 into an imported memory, `sum` stores 11 at byte 8.
#[test]
fn seed_sum_through_an_imported_memory() {
    let _g = shared();
    let wat = r#"(module
      (memory (import "js" "mem") 1)
      (func (export "sum")
        (i32.store (i32.const 8)
          (i32.add (i32.load (i32.const 0)) (i32.load (i32.const 4))))))"#;
    for mode in MODES {
        let mem = Memory::new(mem_ty(1, None)).unwrap();
        let mut l = Linker::new();
        l.define("js", "mem", mem.clone());
        let inst = l.instantiate(&module_in(wat, mode)).unwrap();
        assert!(mem.write(0, &7u32.to_le_bytes()));
        assert!(mem.write(4, &4u32.to_le_bytes()));
        ok(&inst, "sum", &[]);
        assert_eq!(bytes(&mem, 8, 4), 11u32.to_le_bytes());
    }
}
