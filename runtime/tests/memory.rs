//! WebAssembly.Memory semantics of `Memory` (no budgets here: those change process-wide
//! limits and live in their own test binary).

use wasmaot_runtime::layout::MemoryType;
use wasmaot_runtime::memory::{MemoryError, MemoryLayout};
use wasmaot_runtime::Memory;

fn ty(initial: u64, maximum: Option<u64>) -> MemoryType {
    MemoryType {
        initial,
        maximum,
        memory64: false,
        shared: false,
    }
}

#[test]
fn grow_within_maximum() {
    let m = Memory::new(ty(1, Some(3))).unwrap();
    assert_eq!(m.size_bytes(), 65536);
    assert_eq!(m.grow(1).unwrap(), 1);
    assert_eq!(m.size_bytes(), 131072);
    assert_eq!(m.grow(1).unwrap(), 2);
    assert_eq!(m.size_bytes(), 196608);
    assert!(matches!(
        m.grow(1),
        Err(MemoryError::GrowFailed {
            current: 3,
            delta: 1
        })
    ));
    assert_eq!(m.grow_or_minus_one(1), -1);
    assert_eq!(m.size_bytes(), 196608);
    assert_eq!(m.grow(0).unwrap(), 3);

    let m = Memory::new(ty(16, Some(256))).unwrap();
    assert_eq!(m.grow(16).unwrap(), 16);
    assert_eq!(m.size_bytes(), 2097152);
    assert_eq!(
        m.grow(225),
        Err(MemoryError::GrowFailed {
            current: 32,
            delta: 225
        })
    );
    assert_eq!(m.grow(224).unwrap(), 32);
    assert_eq!(m.size_pages(), 256);
}

#[test]
fn invalid_types() {
    let shared = MemoryType {
        shared: true,
        ..ty(1, None)
    };
    let e = Memory::new(shared).unwrap_err();
    assert_eq!(e.to_string(), "maximum is required for shared memory");
    assert!(matches!(
        Memory::new(ty(2, Some(1))),
        Err(MemoryError::Range(_))
    ));
    assert!(matches!(
        Memory::new(ty(65537, None)),
        Err(MemoryError::Range(_))
    ));
    assert!(matches!(
        Memory::new(ty(0, Some(65537))),
        Err(MemoryError::Range(_))
    ));
    // Shared with a maximum is fine.
    let s = Memory::new(MemoryType {
        shared: true,
        ..ty(1, Some(4))
    })
    .unwrap();
    assert_eq!(s.grow(3).unwrap(), 1);
    assert!(s.grow(1).is_err());
}

#[test]
fn base_is_stable_and_contents_survive_growth() {
    let m = Memory::new(ty(1, None)).unwrap();
    let base = m.data_ptr();
    assert!(m.write(65535, &[0xab]));
    assert!(!m.write(65536, &[1]));
    assert!(!m.write(65535, &[1, 2]));
    assert_eq!(m.grow(10).unwrap(), 1);
    assert_eq!(m.data_ptr(), base);
    let mut b = [0u8; 1];
    assert!(m.read(65535, &mut b));
    assert_eq!(b[0], 0xab);
    assert!(m.write(11 * 65536 - 1, &[1]));
    assert!(!m.in_bounds(11 * 65536 - 1, 2));
    // 32-bit memories can reach 4 GiB (reservation), unless limited.
    assert_eq!(m.max_pages(), 65536);
}

#[test]
fn refused_grow_is_cheap() {
    let m = Memory::new(ty(1, Some(1))).unwrap();
    let n = 200_000;
    let t = std::time::Instant::now();
    for _ in 0..n {
        assert_eq!(m.grow_or_minus_one(1), -1);
    }
    let per = t.elapsed() / n;
    eprintln!("refused grow: {per:?}");
    // Generous bound for unoptimised builds; release is far below 0.5 µs.
    assert!(per < std::time::Duration::from_micros(5), "{per:?}");
    assert_eq!(m.size_pages(), 1);
}

#[test]
fn memory64() {
    let m = Memory::new(MemoryType {
        memory64: true,
        ..ty(1, None)
    })
    .unwrap();
    // Default reservation cap: 16 GiB.
    assert_eq!(m.max_pages(), (16u64 << 30) / 65536);
    assert_eq!(m.grow(1).unwrap(), 1);
    assert!(m.grow(1 << 20).is_err());
    assert!(matches!(
        Memory::new(MemoryType {
            memory64: true,
            ..ty(1 << 49, None)
        }),
        Err(MemoryError::Range(_))
    ));
}

#[test]
fn thousand_live_memories() {
    let ms: Vec<Memory> = (0..1000)
        .map(|_| Memory::new(ty(1, None)).unwrap())
        .collect();
    for (i, m) in ms.iter().enumerate() {
        assert!(m.write(0, &(i as u32).to_le_bytes()));
    }
    for (i, m) in ms.iter().enumerate() {
        let mut b = [0u8; 4];
        assert!(m.read(0, &mut b));
        assert_eq!(u32::from_le_bytes(b), i as u32);
    }
}

#[test]
fn shared_memory_grows_concurrently() {
    let m = Memory::new(MemoryType {
        shared: true,
        ..ty(0, Some(1000))
    })
    .unwrap();
    let hs: Vec<_> = (0..4)
        .map(|_| {
            let m = m.clone();
            std::thread::spawn(move || (0..250).filter(|_| m.grow(1).is_ok()).count())
        })
        .collect();
    let total: usize = hs.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(total, 1000);
    assert_eq!(m.size_pages(), 1000);
}

#[test]
fn compact_layout_reserves_only_the_maximum() {
    let m = Memory::with_layout(ty(1, Some(3)), MemoryLayout::Compact).unwrap();
    assert_eq!(m.layout(), MemoryLayout::Compact);
    assert_eq!(m.reserved_bytes(), 3 * 65536);
    assert_eq!(m.max_pages(), 3);
    let base = m.data_ptr();
    assert_eq!(m.grow(2).unwrap(), 1);
    assert!(m.grow(1).is_err());
    assert_eq!(m.data_ptr(), base);
    assert!(m.write(3 * 65536 - 1, &[1]));
    assert!(!m.write(3 * 65536, &[1]));
    // The default guarded layout reserves the index space plus the guard.
    let g = Memory::new(ty(1, Some(3))).unwrap();
    assert_eq!(g.layout(), MemoryLayout::Guarded);
    assert_eq!(g.reserved_bytes(), 8 << 30);
    // Memory64 memories are always guarded.
    let m64 = Memory::with_layout(
        MemoryType {
            memory64: true,
            ..ty(1, Some(2))
        },
        MemoryLayout::Compact,
    )
    .unwrap();
    assert_eq!(m64.layout(), MemoryLayout::Guarded);
    // The maximum, the guard after it and the pre-guard before the base.
    assert_eq!(
        m64.reserved_bytes(),
        2 * 65536 + (4 << 30) + wasmaot_runtime::memory::PRE_GUARD_SIZE
    );
}

/// Protection of the mapping holding `addr`, from `/proc/self/maps` (`None` if unmapped).
fn protection_at(addr: usize) -> Option<String> {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    maps.lines().find_map(|l| {
        let mut f = l.split_whitespace();
        let (lo, hi) = f.next()?.split_once('-')?;
        let (lo, hi) = (
            usize::from_str_radix(lo, 16).ok()?,
            usize::from_str_radix(hi, 16).ok()?,
        );
        (lo <= addr && addr < hi).then(|| f.next().unwrap().to_string())
    })
}

/// The pre-guard: the `PRE_GUARD_SIZE` bytes below a memory64 memory's base are mapped and
/// inaccessible (the compiler leaves accesses there to fault), for fresh and recycled
/// reservations and across `grow`.
#[test]
fn memory64_bases_have_an_inaccessible_pre_guard() {
    let pre = wasmaot_runtime::memory::PRE_GUARD_SIZE as usize;
    let ty64 = MemoryType {
        memory64: true,
        ..ty(1, Some(4))
    };
    for round in 0..2 {
        let m = Memory::new(ty64).unwrap();
        assert_eq!(m.grow(1).unwrap(), 1);
        let base = m.data_ptr() as usize;
        for below in [1, 8, 4096, pre] {
            assert_eq!(
                protection_at(base - below).as_deref(),
                Some("---p"),
                "round {round}: {below} bytes below the base"
            );
        }
        assert_eq!(protection_at(base).as_deref(), Some("rw-p"));
        assert_eq!(protection_at(base + 2 * 65536 - 1).as_deref(), Some("rw-p"));
        assert_eq!(protection_at(base + 2 * 65536).as_deref(), Some("---p"));
        drop(m); // to the pool: the second round reuses the reservation
    }
}

#[test]
fn recycled_reservations_are_zero_and_inaccessible_past_the_length() {
    for _ in 0..20 {
        let m = Memory::new(ty(1, None)).unwrap();
        m.grow(3).unwrap();
        assert!(m.write(0, &[7; 16]));
        assert!(m.write(4 * 65536 - 16, &[7; 16]));
        drop(m);
        let m = Memory::new(ty(2, None)).unwrap();
        let mut b = [1u8; 16];
        assert!(m.read(0, &mut b));
        assert_eq!(b, [0; 16]);
        assert!(!m.read(2 * 65536, &mut b));
        m.grow(2).unwrap();
        assert!(m.read(4 * 65536 - 16, &mut b));
        assert_eq!(b, [0; 16]);
    }
}
