//! Linear memories with WebAssembly.Memory semantics, and the single place where pages are
//! accounted (declared maximum, index width, per-memory and per-process budgets).
//!
//! Every memory reserves its whole address range up front and only changes page protections
//! when it grows, so its base address never moves: compiled code and other instances keep
//! raw pointers to it (through [`VMMemoryDef`]), and 32-bit guard-mode code relies on the
//! 8 GiB inaccessible region after the base.

use crate::layout::{MemoryType, VMMemoryDef, WASM_PAGE_SIZE};
use crate::mmap::{Mmap, Prot};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Largest number of pages of a 32-bit memory.
pub const MAX_PAGES_32: u64 = 1 << 16;
/// Largest number of pages of a 64-bit memory.
pub const MAX_PAGES_64: u64 = 1 << 48;
/// Inaccessible bytes after every reservation.
pub const GUARD_SIZE: u64 = 4 << 30;
/// Reservation of every 32-bit memory: the whole 4 GiB index space plus the guard.
pub const RESERVATION_32: u64 = (4 << 30) + GUARD_SIZE;

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

/// Embedder-set limits on memory use (see [`set_limits`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest size of any one memory created after the call, in pages.
    pub max_pages_per_memory: u64,
    /// Largest number of pages of all live memories together.
    pub max_pages_total: u64,
    /// Largest reservation (excluding the guard) of a 64-bit memory, in bytes.
    pub memory64_reservation: u64,
    /// Largest number of elements of any table.
    pub max_table_elements: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_pages_per_memory: u64::MAX,
            max_pages_total: u64::MAX,
            memory64_reservation: 16 << 30,
            max_table_elements: 10_000_000,
        }
    }
}

static PER_MEMORY: AtomicU64 = AtomicU64::new(u64::MAX);
static TOTAL: AtomicU64 = AtomicU64::new(u64::MAX);
static RESERVATION_64: AtomicU64 = AtomicU64::new(16 << 30);
static TABLE_ELEMENTS: AtomicU64 = AtomicU64::new(10_000_000);
static PAGES_IN_USE: AtomicU64 = AtomicU64::new(0);

/// Sets the process-wide limits (e.g. from `wasmaot run --max-memory`).
pub fn set_limits(l: Limits) {
    PER_MEMORY.store(l.max_pages_per_memory, Ordering::Relaxed);
    TOTAL.store(l.max_pages_total, Ordering::Relaxed);
    RESERVATION_64.store(l.memory64_reservation, Ordering::Relaxed);
    TABLE_ELEMENTS.store(l.max_table_elements, Ordering::Relaxed);
}

/// The limits in force.
pub fn limits() -> Limits {
    Limits {
        max_pages_per_memory: PER_MEMORY.load(Ordering::Relaxed),
        max_pages_total: TOTAL.load(Ordering::Relaxed),
        memory64_reservation: RESERVATION_64.load(Ordering::Relaxed),
        max_table_elements: TABLE_ELEMENTS.load(Ordering::Relaxed),
    }
}

/// Pages held by all live memories together.
pub fn pages_in_use() -> u64 {
    PAGES_IN_USE.load(Ordering::Relaxed)
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

struct MemoryInner {
    /// Read by compiled code; `length` is only written under `grow_lock`, atomically.
    def: UnsafeCell<VMMemoryDef>,
    mmap: Mmap,
    ty: MemoryType,
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
        release_pages(self.length() / WASM_PAGE_SIZE);
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

/// A linear memory, shared by reference between the embedder and instances.
#[derive(Clone)]
pub struct Memory(Arc<MemoryInner>);

impl std::fmt::Debug for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memory")
            .field("ty", &self.0.ty)
            .field("pages", &self.size_pages())
            .finish()
    }
}

impl Memory {
    /// Creates a memory of `ty.initial` pages, refusing invalid limits and sizes beyond the
    /// limits in force.
    pub fn new(ty: MemoryType) -> Result<Memory, MemoryError> {
        validate_type(&ty)?;
        let l = limits();
        let index_max = if ty.memory64 {
            MAX_PAGES_64
        } else {
            MAX_PAGES_32
        };
        let (reservation, reservable_pages) = if ty.memory64 {
            let want = ty
                .maximum
                .unwrap_or(index_max)
                .saturating_mul(WASM_PAGE_SIZE);
            let cap = want.min(l.memory64_reservation) / WASM_PAGE_SIZE * WASM_PAGE_SIZE;
            (cap + GUARD_SIZE, cap / WASM_PAGE_SIZE)
        } else {
            (RESERVATION_32, MAX_PAGES_32)
        };
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
        let mmap = Mmap::reserve(reservation as usize).and_then(|m| {
            m.protect(0, initial_bytes as usize, Prot::ReadWrite)
                .map(|_| m)
        });
        let mmap = match mmap {
            Ok(m) => m,
            Err(e) => {
                release_pages(ty.initial);
                return Err(alloc_err(e.to_string()));
            }
        };
        let def = VMMemoryDef {
            base: mmap.as_ptr(),
            length: initial_bytes,
        };
        Ok(Memory(Arc::new(MemoryInner {
            def: UnsafeCell::new(def),
            mmap,
            ty,
            max_pages,
            grow_lock: Mutex::new(()),
        })))
    }

    /// Grows by `delta` pages and returns the old size in pages. A refused request changes
    /// nothing and makes no system call.
    pub fn grow(&self, delta: u64) -> Result<u64, MemoryError> {
        let inner = &*self.0;
        let current = inner.length() / WASM_PAGE_SIZE;
        let refused = MemoryError::GrowFailed { current, delta };
        if delta == 0 {
            return Ok(current);
        }
        // Cheap refusal before taking the lock.
        if current
            .checked_add(delta)
            .is_none_or(|n| n > inner.max_pages)
        {
            return Err(refused);
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
            .protect(old_bytes, new_bytes - old_bytes, Prot::ReadWrite)
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

    /// Current size in bytes.
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

    /// Largest size this memory may ever reach, in pages.
    pub fn max_pages(&self) -> u64 {
        self.0.max_pages
    }

    /// Start of the memory; stays valid and unchanged for the memory's whole life.
    pub fn data_ptr(&self) -> *mut u8 {
        self.0.mmap.as_ptr()
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
