//! Process-wide page budgets and mapping cleanup. One test function so that nothing else in
//! this process runs concurrently with limit changes or mapping counts.

use wasmaot_runtime::layout::MemoryType;
use wasmaot_runtime::memory::{self, Limits, MemoryError, MemoryLayout};
use wasmaot_runtime::Memory;

fn ty(initial: u64, maximum: Option<u64>) -> MemoryType {
    MemoryType {
        initial,
        maximum,
        memory64: false,
        shared: false,
    }
}

fn vm_size_kb() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = s.lines().find(|l| l.starts_with("VmSize:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn budgets_and_cleanup() {
    // Per-memory budget.
    memory::set_limits(Limits {
        max_pages_per_memory: 4,
        ..Limits::default()
    });
    let m = Memory::new(ty(1, None)).unwrap();
    assert_eq!(m.grow(3).unwrap(), 1);
    assert!(m.grow(1).is_err());
    assert_eq!(m.size_pages(), 4);
    assert!(matches!(
        Memory::new(ty(5, None)),
        Err(MemoryError::Allocation { pages: 5, .. })
    ));
    drop(m);

    // Process budget: 8 pages across all memories.
    memory::set_limits(Limits {
        max_pages_total: 8,
        ..Limits::default()
    });
    assert_eq!(memory::pages_in_use(), 0);
    let a = Memory::new(ty(3, None)).unwrap();
    let b = Memory::new(ty(3, None)).unwrap();
    assert_eq!(memory::pages_in_use(), 6);
    assert!(Memory::new(ty(3, None)).is_err());
    assert_eq!(b.grow(2).unwrap(), 3);
    assert!(a.grow(1).is_err());
    assert_eq!(a.size_pages(), 3);
    drop(b);
    assert_eq!(memory::pages_in_use(), 3);
    assert_eq!(a.grow(5).unwrap(), 3);
    assert!(a.grow(1).is_err());
    drop(a);
    assert_eq!(memory::pages_in_use(), 0);
    memory::set_limits(Limits::default());

    // 100,000 memories created and dropped: mappings return to baseline.
    let warm = Memory::new(ty(1, None)).unwrap();
    drop(warm);
    let before = vm_size_kb();
    for _ in 0..100_000 {
        let m = Memory::new(ty(1, None)).unwrap();
        assert!(m.write(0, &[1]));
    }
    let after = vm_size_kb();
    assert!(
        after <= before + 1024,
        "VmSize grew from {before} kB to {after} kB"
    );
    assert_eq!(memory::pages_in_use(), 0);

    // The reservation pool is bounded by `pool_capacity` and can be emptied.
    memory::set_limits(Limits {
        pool_capacity: 2,
        ..Limits::default()
    });
    let ms: Vec<Memory> = (0..5).map(|_| Memory::new(ty(1, None)).unwrap()).collect();
    drop(ms);
    assert_eq!(memory::pooled_reservations(), 2);
    let vm_pooled = vm_size_kb();
    memory::trim_pool();
    assert_eq!(memory::pooled_reservations(), 0);
    assert!(vm_size_kb() + 2 * 8 * 1024 * 1024 <= vm_pooled + 1024);
    memory::set_limits(Limits {
        pool_capacity: 0,
        ..Limits::default()
    });
    drop(Memory::new(ty(1, None)).unwrap());
    assert_eq!(memory::pooled_reservations(), 0);

    // A compact memory without a maximum reserves `compact_reservation`, and the
    // per-memory budget caps it too.
    memory::set_limits(Limits {
        compact_reservation: 4 * 65536,
        ..Limits::default()
    });
    let c = Memory::with_layout(ty(1, None), MemoryLayout::Compact).unwrap();
    assert_eq!((c.max_pages(), c.reserved_bytes()), (4, 4 * 65536));
    assert_eq!(c.grow(3).unwrap(), 1);
    assert!(c.grow(1).is_err());
    memory::set_limits(Limits {
        max_pages_per_memory: 2,
        ..Limits::default()
    });
    let c = Memory::with_layout(ty(1, Some(100)), MemoryLayout::Compact).unwrap();
    assert_eq!((c.max_pages(), c.reserved_bytes()), (2, 2 * 65536));
    memory::set_limits(Limits::default());
}
