//! Linear memories with WebAssembly.Memory semantics, and the single place where pages are
//! accounted (declared maximum, index width, per-memory and per-process budgets).
//!
//! Every memory reserves its whole address range up front and only changes page protections
//! when it grows, so its base address never moves: compiled code and other instances keep
//! raw pointers to it (through [`VMMemoryDef`]). How much is reserved is the memory's
//! [`MemoryLayout`]: a [`MemoryLayout::Guarded`] 32-bit memory reserves its 4 GiB index space
//! plus a 4 GiB guard, which lets guard-mode code access it with no bounds check at all; a
//! [`MemoryLayout::Compact`] one reserves only its maximum and may be used only by code
//! compiled with explicit bounds checks.
//!
//! Released reservations go to a small bounded pool (see [`Limits::pool_capacity`]) instead of
//! being unmapped, so that instantiating and dropping modules does not pay for `mmap`,
//! `mprotect` and `munmap` every time. A pooled reservation keeps its address space and at
//! most [`Limits::pool_keep_resident`] bytes of memory: pages below that bound which the last
//! user touched are zeroed in place (so the next user does not fault them in again), every
//! other page is discarded with `MADV_DONTNEED`; either way they read as zero when reused.
//! [`trim_pool`] or lowering the capacity unmaps it.

use crate::layout::{MemoryType, VMMemoryDef, WASM_PAGE_SIZE};
use crate::mmap::{Mmap, Prot};
use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Largest number of pages of a 32-bit memory.
pub const MAX_PAGES_32: u64 = 1 << 16;
/// Largest number of pages of a 64-bit memory.
pub const MAX_PAGES_64: u64 = 1 << 48;
/// Inaccessible bytes after every guarded reservation.
pub const GUARD_SIZE: u64 = 4 << 30;
/// Reservation of every guarded 32-bit memory: the whole 4 GiB index space plus the guard.
pub const RESERVATION_32: u64 = (4 << 30) + GUARD_SIZE;
/// Inaccessible bytes before the base of every memory64 memory. Its code computes indices
/// modulo 2^64, so an index just below 2^64 addresses the bytes just below the base; this guard
/// makes them fault, which lets the compiler drop compares for indices derived from a checked
/// one by a small step down (see the compiler's `bounds.rs` and `loop_checks.rs`).
pub const PRE_GUARD_SIZE: u64 = 64 << 10;

/// How a memory's address space is laid out, which decides which compiled code may use it.
///
/// The module says what it needs in [`crate::layout::ModuleInfo::bounds_checks`]: the
/// memories a module defines get the layout its code was compiled for, and a
/// [`MemoryLayout::Compact`] memory cannot be imported by a module compiled with
/// `--bounds-checks guard` (a link error). Memory64 memories are always guarded (their code
/// compares the index against the length and lets the guard catch `offset + size`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemoryLayout {
    /// The reservation covers the whole index space (32-bit: 4 GiB; memory64: up to
    /// [`Limits::memory64_reservation`]) followed by a [`GUARD_SIZE`] inaccessible region, so
    /// any `base + index + offset` of a 32-bit access is either valid or faults. Usable by
    /// every module; what [`Memory::new`] creates.
    Guarded,
    /// 32-bit only: the reservation is just the maximum size (the declared maximum, else
    /// [`Limits::compact_reservation`]) with no guard. Only code with explicit bounds checks
    /// (`--bounds-checks explicit`, which compares `index + offset + size` against the length)
    /// may use it. Costs far less address space, so many more memories fit in a process.
    Compact,
}

/// Memory could not be created or grown.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MemoryError {
    /// A shared memory was declared without a maximum.
    #[error("maximum is required for shared memory")]
    SharedWithoutMaximum,
    /// The limits are invalid (maximum below initial, or beyond the index space).
    #[error("invalid memory limits: {0}")]
    Range(String),
    /// The initial size exceeds a limit or the system refused the reservation.
    #[error("cannot allocate memory of {pages} pages: {reason}")]
    Allocation {
        /// Requested initial size in pages.
        pages: u64,
        /// Why it was refused.
        reason: String,
    },
    /// A grow request was refused (the memory is unchanged).
    #[error("cannot grow memory from {current} pages by {delta} pages")]
    GrowFailed {
        /// Size before the request, in pages.
        current: u64,
        /// Requested growth, in pages.
        delta: u64,
    },
}

/// Embedder-set limits on memory use (see [`set_limits`]). This is the one place every
/// memory limit lives; [`Memory::max_pages`] combines them with the declared maximum and the
/// index width (65536 pages for 32-bit memories, 2^48 for memory64).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest size of any one memory created after the call, in pages.
    pub max_pages_per_memory: u64,
    /// Largest number of pages of all live memories together.
    pub max_pages_total: u64,
    /// Largest reservation (excluding the guard) of a 64-bit memory, in bytes.
    pub memory64_reservation: u64,
    /// Reservation in bytes of a [`MemoryLayout::Compact`] memory declared without a
    /// maximum: such a memory can never grow beyond it. The default is the whole 4 GiB
    /// 32-bit index space, so explicit-bounds-check code grows exactly as far as guard-mode
    /// code (it only saves the 4 GiB guard); lower it to fit more such memories in a process.
    pub compact_reservation: u64,
    /// How many released reservations are kept for reuse instead of being unmapped
    /// (0 disables the pool). Each pooled entry holds address space (8 GiB for a guarded
    /// 32-bit memory) and at most [`Limits::pool_keep_resident`] bytes of memory.
    pub pool_capacity: usize,
    /// Bytes at the start of a released memory whose touched pages stay resident in the pool
    /// (zeroed in place instead of discarded), so that reusing it costs no page faults and no
    /// TLB flush. 0 discards every page.
    pub pool_keep_resident: usize,
    /// Largest number of elements of any table.
    pub max_table_elements: u64,
}

/// Default [`Limits::pool_capacity`]: 32 entries, at most 256 GiB of the 128 TiB address
/// space for guarded 32-bit reservations.
pub const DEFAULT_POOL_CAPACITY: usize = 32;

/// Default [`Limits::pool_keep_resident`]: one Wasm page, so the pool holds at most 2 MiB.
pub const DEFAULT_POOL_KEEP_RESIDENT: usize = WASM_PAGE_SIZE as usize;

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_pages_per_memory: u64::MAX,
            max_pages_total: u64::MAX,
            memory64_reservation: 16 << 30,
            compact_reservation: 4 << 30,
            pool_capacity: DEFAULT_POOL_CAPACITY,
            pool_keep_resident: DEFAULT_POOL_KEEP_RESIDENT,
            max_table_elements: 10_000_000,
        }
    }
}

static PER_MEMORY: AtomicU64 = AtomicU64::new(u64::MAX);
static TOTAL: AtomicU64 = AtomicU64::new(u64::MAX);
static RESERVATION_64: AtomicU64 = AtomicU64::new(16 << 30);
static RESERVATION_COMPACT: AtomicU64 = AtomicU64::new(4 << 30);
static POOL_CAPACITY: AtomicUsize = AtomicUsize::new(DEFAULT_POOL_CAPACITY);
static POOL_KEEP_RESIDENT: AtomicUsize = AtomicUsize::new(DEFAULT_POOL_KEEP_RESIDENT);
static TABLE_ELEMENTS: AtomicU64 = AtomicU64::new(10_000_000);
static PAGES_IN_USE: AtomicU64 = AtomicU64::new(0);

/// Sets the process-wide limits (e.g. from `wasmaot run --max-memory`). A smaller
/// [`Limits::pool_capacity`] unmaps the pooled reservations beyond it at once.
pub fn set_limits(l: Limits) {
    PER_MEMORY.store(l.max_pages_per_memory, Ordering::Relaxed);
    TOTAL.store(l.max_pages_total, Ordering::Relaxed);
    RESERVATION_64.store(l.memory64_reservation, Ordering::Relaxed);
    RESERVATION_COMPACT.store(l.compact_reservation, Ordering::Relaxed);
    POOL_CAPACITY.store(l.pool_capacity, Ordering::Relaxed);
    POOL_KEEP_RESIDENT.store(l.pool_keep_resident, Ordering::Relaxed);
    TABLE_ELEMENTS.store(l.max_table_elements, Ordering::Relaxed);
    pool::trim_to(l.pool_capacity);
}

/// The limits in force.
pub fn limits() -> Limits {
    Limits {
        max_pages_per_memory: PER_MEMORY.load(Ordering::Relaxed),
        max_pages_total: TOTAL.load(Ordering::Relaxed),
        memory64_reservation: RESERVATION_64.load(Ordering::Relaxed),
        compact_reservation: RESERVATION_COMPACT.load(Ordering::Relaxed),
        pool_capacity: POOL_CAPACITY.load(Ordering::Relaxed),
        pool_keep_resident: POOL_KEEP_RESIDENT.load(Ordering::Relaxed),
        max_table_elements: TABLE_ELEMENTS.load(Ordering::Relaxed),
    }
}

/// Pages held by all live memories together.
pub fn pages_in_use() -> u64 {
    PAGES_IN_USE.load(Ordering::Relaxed)
}

/// Number of released reservations currently kept for reuse.
pub fn pooled_reservations() -> usize {
    pool::len()
}

/// Unmaps every pooled reservation (e.g. before measuring the process's mappings, or when
/// address space is needed elsewhere). Live memories are unaffected.
pub fn trim_pool() {
    pool::trim_to(0);
}

/// Takes `pages` from the process budget; `false` (and no change) when it would overflow.
fn charge_pages(pages: u64) -> bool {
    let limit = TOTAL.load(Ordering::Relaxed);
    PAGES_IN_USE
        .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |used| {
            used.checked_add(pages).filter(|n| *n <= limit)
        })
        .is_ok()
}

fn release_pages(pages: u64) {
    PAGES_IN_USE.fetch_sub(pages, Ordering::AcqRel);
}

/// Recycled reservations. Invariant of every entry: bytes `[pre, pre + accessible)` are
/// read-write and zero; everything else is `PROT_NONE` and zero (untouched since it was last zeroed or
/// discarded). Only pages below the keep-resident bound may be resident. So a reused
/// reservation is indistinguishable from a fresh one once the protection boundary is moved
/// to the new initial size.
mod pool {
    use super::*;

    pub(super) struct Entry {
        pub(super) mmap: Mmap,
        /// Bytes of pre-guard before the memory's base ([`PRE_GUARD_SIZE`] or 0).
        pub(super) pre: usize,
        pub(super) accessible: usize,
    }

    static POOL: Mutex<VecDeque<Entry>> = Mutex::new(VecDeque::new());

    fn lock() -> std::sync::MutexGuard<'static, VecDeque<Entry>> {
        POOL.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn len() -> usize {
        lock().len()
    }

    /// A pooled reservation of exactly `len` bytes with a `pre`-byte pre-guard (most
    /// recently released first).
    pub(super) fn take(len: usize, pre: usize) -> Option<Entry> {
        let mut p = lock();
        let i = p
            .iter()
            .rposition(|e| e.mmap.len() == len && e.pre == pre)?;
        p.remove(i)
    }

    /// Returns a reservation whose `accessible` bytes after the `pre`-byte pre-guard are
    /// read-write; unmaps it when the pool is disabled or it cannot be reset, and evicts the
    /// oldest entry when full.
    pub(super) fn put(mmap: Mmap, pre: usize, accessible: usize) {
        let cap = POOL_CAPACITY.load(Ordering::Relaxed);
        if cap == 0 || reset(&mmap, pre, accessible).is_err() {
            return; // `mmap` drops: unmapped.
        }
        let evicted = {
            let mut p = lock();
            p.push_back(Entry {
                mmap,
                pre,
                accessible,
            });
            let n = p.len().saturating_sub(cap);
            p.drain(..n).collect::<Vec<_>>()
        };
        drop(evicted); // munmap outside the lock
    }

    /// Makes `[pre, pre + accessible)` zero again: touched pages below the keep-resident
    /// bound are zeroed in place, everything else is discarded.
    fn reset(mmap: &Mmap, pre: usize, accessible: usize) -> std::io::Result<()> {
        let page = crate::mmap::host_page_size();
        let keep = POOL_KEEP_RESIDENT.load(Ordering::Relaxed).min(accessible) / page * page;
        // SAFETY: `[pre, pre + accessible)` is read-write (the memory's accessible part), and
        // the memory is being dropped, so no instance or host reference can touch it any more.
        unsafe { mmap.zero_keeping_resident(pre, keep)? };
        mmap.discard(pre + keep, accessible - keep)
    }

    pub(super) fn trim_to(cap: usize) {
        let evicted = {
            let mut p = lock();
            let n = p.len().saturating_sub(cap);
            p.drain(..n).collect::<Vec<_>>()
        };
        drop(evicted);
    }
}

/// A reservation of `pre + len` bytes whose `initial` bytes after the first `pre` are
/// read-write (zero) and the rest inaccessible: from the pool when one of that shape is there,
/// else freshly mapped.
fn acquire(len: usize, pre: usize, initial: usize) -> std::io::Result<Mmap> {
    let len = crate::mmap::round_up_to_page(len.max(1)) + pre;
    if let Some(e) = pool::take(len, pre) {
        let moved = if e.accessible > initial {
            e.mmap
                .protect(pre + initial, e.accessible - initial, Prot::None)
        } else {
            e.mmap
                .protect(pre + e.accessible, initial - e.accessible, Prot::ReadWrite)
        };
        if moved.is_ok() {
            return Ok(e.mmap);
        }
        // Could not reset it: unmap it (drop) and start afresh.
    }
    let m = match Mmap::reserve(len) {
        Ok(m) => m,
        Err(_) if pool::len() > 0 => {
            // Out of address space (e.g. `ulimit -v`): pooled reservations of other sizes
            // may be what is in the way.
            pool::trim_to(0);
            Mmap::reserve(len)?
        }
        Err(e) => return Err(e),
    };
    m.protect(pre, initial, Prot::ReadWrite)?;
    Ok(m)
}

/// Checks a memory type's limits the way `new WebAssembly.Memory` does.
pub fn validate_type(ty: &MemoryType) -> Result<(), MemoryError> {
    let index_max = if ty.memory64 {
        MAX_PAGES_64
    } else {
        MAX_PAGES_32
    };
    if ty.initial > index_max {
        return Err(MemoryError::Range(format!(
            "initial size {} pages exceeds {index_max}",
            ty.initial
        )));
    }
    match ty.maximum {
        Some(max) if max > index_max => Err(MemoryError::Range(format!(
            "maximum {max} pages exceeds {index_max}"
        ))),
        Some(max) if max < ty.initial => Err(MemoryError::Range(format!(
            "maximum {max} pages is less than initial {} pages",
            ty.initial
        ))),
        None if ty.shared => Err(MemoryError::SharedWithoutMaximum),
        _ => Ok(()),
    }
}

/// Reservation size in bytes and the number of pages it can hold, for a memory of type `ty`
/// with layout `layout` under limits `l`.
fn plan(ty: &MemoryType, layout: MemoryLayout, l: &Limits) -> (u64, u64) {
    let page = WASM_PAGE_SIZE;
    if ty.memory64 {
        let want = ty.maximum.unwrap_or(MAX_PAGES_64).saturating_mul(page);
        let cap = want.min(l.memory64_reservation) / page * page;
        return (cap + GUARD_SIZE, cap / page);
    }
    match layout {
        MemoryLayout::Guarded => (RESERVATION_32, MAX_PAGES_32),
        MemoryLayout::Compact => {
            let pages = ty
                .maximum
                .unwrap_or(l.compact_reservation / page)
                .min(MAX_PAGES_32)
                .min(l.max_pages_per_memory)
                // A reservation smaller than the initial size fails below with a clear error.
                .max(ty.initial.min(MAX_PAGES_32));
            (pages * page, pages)
        }
    }
}

struct MemoryInner {
    /// Read by compiled code; `length` is only written under `grow_lock`, atomically.
    def: UnsafeCell<VMMemoryDef>,
    /// Taken out in `drop` to go back to the pool.
    mmap: ManuallyDrop<Mmap>,
    /// Bytes of inaccessible pre-guard before `def.base` ([`PRE_GUARD_SIZE`] for memory64).
    pre: usize,
    ty: MemoryType,
    layout: MemoryLayout,
    /// Hard limit in pages: type maximum, index width, reservation and per-memory budget.
    max_pages: u64,
    grow_lock: Mutex<()>,
}

// SAFETY: `def.base` never changes; `def.length` is only written under `grow_lock` through an
// atomic store, and read atomically by the runtime.
unsafe impl Send for MemoryInner {}
// SAFETY: see above.
unsafe impl Sync for MemoryInner {}

impl Drop for MemoryInner {
    fn drop(&mut self) {
        let len = self.length();
        release_pages(len / WASM_PAGE_SIZE);
        // SAFETY: `mmap` is never used again after this (we are being dropped).
        let mmap = unsafe { ManuallyDrop::take(&mut self.mmap) };
        pool::put(mmap, self.pre, len as usize);
    }
}

impl MemoryInner {
    fn length_atomic(&self) -> &AtomicU64 {
        // SAFETY: `length` is a properly aligned u64 that lives as long as `self`; every
        // concurrent access from the runtime goes through this atomic view.
        unsafe { AtomicU64::from_ptr(&raw mut (*self.def.get()).length) }
    }
    fn length(&self) -> u64 {
        self.length_atomic().load(Ordering::Acquire)
    }
}

/// A linear memory, shared by reference between the embedder and instances: the equivalent
/// of a `WebAssembly.Memory`. Cloning gives another handle to the same bytes.
///
/// | JS                                          | here                                   |
/// | ------------------------------------------- | -------------------------------------- |
/// | `new WebAssembly.Memory({initial, maximum, shared})` | [`Memory::new`] (errors: [`MemoryError`]) |
/// | `memory.grow(n)` (old size, or `RangeError`) | [`Memory::grow`] / [`Memory::grow_or_minus_one`] |
/// | `memory.buffer.byteLength`                  | [`Memory::size_bytes`]                 |
/// | `memory.buffer` (a view of the bytes)       | [`Memory::data_ptr`], [`Memory::read`], [`Memory::write`] |
///
/// **The base pointer survives growth.** Unlike a JS `ArrayBuffer`, which `grow` may replace
/// with a bigger copy (detaching every view of the old one), a `Memory` never moves:
/// [`Memory::data_ptr`] returns the same address for the memory's whole life, and pointers
/// into it stay valid after any `grow` (only the valid length increases). That is because the
/// whole address range the memory can ever use is reserved when it is created and growing
/// only makes more of it accessible (`mprotect`). It has to be so: compiled code, every
/// instance importing the memory, other threads (shared memories) and the embedder all hold
/// the raw base address, and none of them could be told to reload it in the middle of an
/// access. As a bonus growth costs the same at any size (no copy) and a refused grow changes
/// nothing. The price is that the maximum is fixed at creation by the reservation.
#[derive(Clone)]
pub struct Memory(Arc<MemoryInner>);

impl std::fmt::Debug for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memory")
            .field("ty", &self.0.ty)
            .field("layout", &self.0.layout)
            .field("pages", &self.size_pages())
            .finish()
    }
}

impl Memory {
    /// Creates a [`MemoryLayout::Guarded`] memory of `ty.initial` pages (zero-filled),
    /// refusing invalid limits ([`MemoryError::Range`], e.g. maximum below initial), a shared
    /// memory without maximum ([`MemoryError::SharedWithoutMaximum`]) and sizes beyond the
    /// limits in force or that the system cannot reserve ([`MemoryError::Allocation`]).
    pub fn new(ty: MemoryType) -> Result<Memory, MemoryError> {
        Memory::with_layout(ty, MemoryLayout::Guarded)
    }

    /// Like [`Memory::new`] with a chosen layout ([`MemoryLayout::Compact`] only changes
    /// 32-bit memories; memory64 memories are always guarded).
    pub fn with_layout(ty: MemoryType, layout: MemoryLayout) -> Result<Memory, MemoryError> {
        validate_type(&ty)?;
        let layout = if ty.memory64 {
            MemoryLayout::Guarded
        } else {
            layout
        };
        let l = limits();
        let index_max = if ty.memory64 {
            MAX_PAGES_64
        } else {
            MAX_PAGES_32
        };
        let (reservation, reservable_pages) = plan(&ty, layout, &l);
        let max_pages = ty
            .maximum
            .unwrap_or(index_max)
            .min(reservable_pages)
            .min(l.max_pages_per_memory);
        let alloc_err = |reason: String| MemoryError::Allocation {
            pages: ty.initial,
            reason,
        };
        if ty.initial > max_pages {
            return Err(alloc_err(format!("the limit is {max_pages} pages")));
        }
        if !charge_pages(ty.initial) {
            return Err(alloc_err(format!(
                "the process budget of {} pages would be exceeded",
                l.max_pages_total
            )));
        }
        let initial_bytes = ty.initial * WASM_PAGE_SIZE;
        let pre = if ty.memory64 {
            PRE_GUARD_SIZE as usize
        } else {
            0
        };
        let mmap = match acquire(reservation as usize, pre, initial_bytes as usize) {
            Ok(m) => m,
            Err(e) => {
                release_pages(ty.initial);
                return Err(alloc_err(e.to_string()));
            }
        };
        let def = VMMemoryDef {
            base: mmap.as_ptr().wrapping_add(pre),
            length: initial_bytes,
        };
        Ok(Memory(Arc::new(MemoryInner {
            def: UnsafeCell::new(def),
            mmap: ManuallyDrop::new(mmap),
            pre,
            ty,
            layout,
            max_pages,
            grow_lock: Mutex::new(()),
        })))
    }

    /// Grows by `delta` pages and returns the old size in pages, like `memory.grow`.
    ///
    /// Growth happens in place (one `mprotect` of the new pages, whatever the current size)
    /// and is serialized per memory, so concurrent growers of a shared memory each get a
    /// distinct old size; threads reading the memory meanwhile are unaffected (the new length
    /// is published only once the pages are accessible). A refused request (beyond
    /// [`Memory::max_pages`] or the process budget) returns [`MemoryError::GrowFailed`],
    /// changes nothing and, when the maximum is the reason, makes no system call and takes no
    /// lock.
    pub fn grow(&self, delta: u64) -> Result<u64, MemoryError> {
        let inner = &*self.0;
        let current = inner.length() / WASM_PAGE_SIZE;
        if delta == 0 {
            return Ok(current);
        }
        // Cheap refusal before taking the lock.
        if current
            .checked_add(delta)
            .is_none_or(|n| n > inner.max_pages)
        {
            return Err(MemoryError::GrowFailed { current, delta });
        }
        let _guard = inner.grow_lock.lock().unwrap_or_else(|e| e.into_inner());
        let current = inner.length() / WASM_PAGE_SIZE;
        let refused = MemoryError::GrowFailed { current, delta };
        let new = match current.checked_add(delta) {
            Some(n) if n <= inner.max_pages => n,
            _ => return Err(refused),
        };
        if !charge_pages(delta) {
            return Err(refused);
        }
        let old_bytes = (current * WASM_PAGE_SIZE) as usize;
        let new_bytes = (new * WASM_PAGE_SIZE) as usize;
        if inner
            .mmap
            .protect(
                inner.pre + old_bytes,
                new_bytes - old_bytes,
                Prot::ReadWrite,
            )
            .is_err()
        {
            release_pages(delta);
            return Err(refused);
        }
        inner
            .length_atomic()
            .store(new_bytes as u64, Ordering::Release);
        Ok(current)
    }

    /// `memory.grow` as the instruction sees it: old size in pages, or -1.
    pub fn grow_or_minus_one(&self, delta: u64) -> i64 {
        self.grow(delta).map_or(-1, |old| old as i64)
    }

    /// Current size in pages.
    pub fn size_pages(&self) -> u64 {
        self.0.length() / WASM_PAGE_SIZE
    }

    /// Current size in bytes (`buffer.byteLength`).
    pub fn size_bytes(&self) -> u64 {
        self.0.length()
    }

    /// The memory's type as declared at creation.
    pub fn declared_type(&self) -> MemoryType {
        self.0.ty
    }

    /// The memory's type for import matching: the current size as `initial`.
    pub fn ty(&self) -> MemoryType {
        MemoryType {
            initial: self.size_pages(),
            ..self.0.ty
        }
    }

    /// How the memory's address space is laid out (which modules may import it).
    pub fn layout(&self) -> MemoryLayout {
        self.0.layout
    }

    /// Bytes of address space reserved for the memory (including any guard region).
    pub fn reserved_bytes(&self) -> u64 {
        self.0.mmap.len() as u64
    }

    /// Largest size this memory may ever reach, in pages.
    pub fn max_pages(&self) -> u64 {
        self.0.max_pages
    }

    /// Start of the memory; stays valid and unchanged for the memory's whole life, across
    /// every `grow` (see the type's documentation).
    pub fn data_ptr(&self) -> *mut u8 {
        self.0.mmap.as_ptr().wrapping_add(self.0.pre)
    }

    /// The memory's contents.
    ///
    /// # Safety
    /// No Wasm code and no `data_mut` borrow may write to the memory while the slice lives,
    /// and the memory must not be grown in the meantime if the slice is used past its length.
    pub unsafe fn data(&self) -> &[u8] {
        // SAFETY: the first `size_bytes` bytes are mapped read-write; aliasing is the caller's
        // contract.
        unsafe { std::slice::from_raw_parts(self.data_ptr(), self.size_bytes() as usize) }
    }

    /// The memory's contents, mutably.
    ///
    /// # Safety
    /// No other access (Wasm code, other slices) may overlap the slice's lifetime.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn data_mut(&self) -> &mut [u8] {
        // SAFETY: as for `data`; exclusivity is the caller's contract.
        unsafe { std::slice::from_raw_parts_mut(self.data_ptr(), self.size_bytes() as usize) }
    }

    /// Copies `buf.len()` bytes out of the memory at `offset`; `false` if out of bounds.
    pub fn read(&self, offset: u64, buf: &mut [u8]) -> bool {
        let len = self.size_bytes();
        if offset.checked_add(buf.len() as u64).is_none_or(|e| e > len) {
            return false;
        }
        // SAFETY: bounds checked against the current length; the mapping never shrinks.
        unsafe {
            std::ptr::copy(
                self.data_ptr().add(offset as usize),
                buf.as_mut_ptr(),
                buf.len(),
            )
        };
        true
    }

    /// Copies `buf` into the memory at `offset`; `false` if out of bounds.
    pub fn write(&self, offset: u64, buf: &[u8]) -> bool {
        let len = self.size_bytes();
        if offset.checked_add(buf.len() as u64).is_none_or(|e| e > len) {
            return false;
        }
        // SAFETY: bounds checked against the current length; the mapping never shrinks.
        unsafe {
            std::ptr::copy(
                buf.as_ptr(),
                self.data_ptr().add(offset as usize),
                buf.len(),
            )
        };
        true
    }

    /// The definition compiled code reads (stable address for the memory's life).
    pub fn vmdef(&self) -> *mut VMMemoryDef {
        self.0.def.get()
    }

    /// Whether two handles refer to the same memory.
    pub fn ptr_eq(&self, other: &Memory) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Whether `[offset, offset + len)` lies inside the current size.
    pub fn in_bounds(&self, offset: u64, len: u64) -> bool {
        offset
            .checked_add(len)
            .is_some_and(|e| e <= self.size_bytes())
    }
}
