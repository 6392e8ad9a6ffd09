//! The reservation pool hands a released memory to the next one zeroed, whether its pages
//! were kept resident (zeroed in place) or discarded. One test function, so that no other
//! test in this process takes or returns pooled reservations in the middle of it.

use wasmaot_runtime::layout::{MemoryType, WASM_PAGE_SIZE};
use wasmaot_runtime::memory::{self, Limits};
use wasmaot_runtime::Memory;

const PAGE: u64 = WASM_PAGE_SIZE;

fn ty(initial: u64) -> MemoryType {
    MemoryType {
        initial,
        maximum: None,
        memory64: false,
        shared: false,
    }
}

/// Offsets spread over the first `pages` Wasm pages: both ends of every 4 KiB host page of
/// the first Wasm page, and a few points of every other page.
fn probes(pages: u64) -> Vec<u64> {
    let mut v: Vec<u64> = (0..PAGE / 4096)
        .flat_map(|k| [k * 4096, k * 4096 + 4095])
        .collect();
    for p in 1..pages {
        v.extend([p * PAGE, p * PAGE + 12_345, p * PAGE + PAGE - 1]);
    }
    v
}

fn byte(m: &Memory, at: u64) -> u8 {
    let mut b = [0u8];
    assert!(m.read(at, &mut b), "read at {at}");
    b[0]
}

/// Dirties a memory of `initial` pages grown to `grown`, drops it, and checks that the next
/// memory of the same kind reuses the reservation and reads zero everywhere, also after it
/// grows into the pages the previous user had.
fn dirty_then_reuse(initial: u64, grown: u64) {
    let m = Memory::new(ty(initial)).unwrap();
    m.grow(grown - initial).unwrap();
    let base = m.data_ptr();
    let all = probes(grown);
    for (i, &at) in all.iter().enumerate() {
        if i % 3 == 2 {
            assert_eq!(byte(&m, at), 0); // only read: may be the shared zero page
        } else {
            assert!(m.write(at, &[0xa5]));
        }
    }
    drop(m);

    let m = Memory::new(ty(initial)).unwrap();
    assert_eq!(m.data_ptr(), base, "the released reservation is reused");
    m.grow(grown - initial).unwrap();
    for &at in &all {
        assert_eq!(byte(&m, at), 0, "byte {at} of a reused memory");
    }
    // Dirty it once more and reuse it again: zeroing in place must work on pages that stayed
    // resident from the previous round as well.
    for &at in &all {
        assert!(m.write(at, &[0x5a]));
    }
    drop(m);
    let m = Memory::new(ty(grown)).unwrap();
    assert_eq!(m.data_ptr(), base);
    for &at in &all {
        assert_eq!(byte(&m, at), 0, "byte {at}, second reuse");
    }
}

#[test]
fn reused_reservations_read_as_zero() {
    let defaults = memory::limits();
    assert_eq!(
        defaults.pool_keep_resident,
        memory::DEFAULT_POOL_KEEP_RESIDENT
    );
    // Keep-resident bound: none, inside the first Wasm page, the default (one page), and
    // past the grown size.
    for keep in [0, 16 << 10, memory::DEFAULT_POOL_KEEP_RESIDENT, 8 << 20] {
        memory::set_limits(Limits {
            pool_keep_resident: keep,
            ..defaults
        });
        memory::trim_pool();
        dirty_then_reuse(1, 1);
        dirty_then_reuse(1, 5);
        dirty_then_reuse(3, 40);
        assert_eq!(memory::limits().pool_keep_resident, keep);
    }
    memory::set_limits(defaults);
    memory::trim_pool();
    assert_eq!(memory::pages_in_use(), 0);
}
