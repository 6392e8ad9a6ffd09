//! A thin owner of one anonymous virtual memory mapping: reserve inaccessible, then open parts
//! for reading/writing/execution. Dropping it unmaps the whole range.

use std::io;
use std::ptr::NonNull;

/// Size of a host page (4 KiB on x86-64 Linux; queried once).
pub fn host_page_size() -> usize {
    use std::sync::OnceLock;
    static SIZE: OnceLock<usize> = OnceLock::new();
    // SAFETY: sysconf has no preconditions.
    *SIZE.get_or_init(|| unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize })
}

/// Rounds `x` up to a multiple of the host page size (saturating).
pub fn round_up_to_page(x: usize) -> usize {
    let p = host_page_size();
    x.checked_add(p - 1)
        .map_or(usize::MAX & !(p - 1), |v| v & !(p - 1))
}

/// Access rights for [`Mmap::protect`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prot {
    /// No access (guard pages).
    None,
    /// Read only.
    Read,
    /// Read and write.
    ReadWrite,
    /// Read and execute.
    ReadExec,
}

impl Prot {
    fn bits(self) -> libc::c_int {
        match self {
            Prot::None => libc::PROT_NONE,
            Prot::Read => libc::PROT_READ,
            Prot::ReadWrite => libc::PROT_READ | libc::PROT_WRITE,
            Prot::ReadExec => libc::PROT_READ | libc::PROT_EXEC,
        }
    }
}

/// An owned anonymous mapping of `len` bytes starting at `ptr`.
#[derive(Debug)]
pub struct Mmap {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain memory owned by this value; synchronising access to its
// contents is the job of the types built on top.
unsafe impl Send for Mmap {}
// SAFETY: see above; `Mmap` itself has no interior state besides the fixed range.
unsafe impl Sync for Mmap {}

impl Mmap {
    /// Reserves `len` bytes (rounded up to pages) of inaccessible address space without
    /// committing memory (`PROT_NONE`, `MAP_NORESERVE`).
    pub fn reserve(len: usize) -> io::Result<Mmap> {
        let len = round_up_to_page(len.max(1));
        // SAFETY: an anonymous private mapping at a kernel-chosen address aliases nothing.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Mmap {
            ptr: NonNull::new(ptr.cast()).expect("mmap returned null"),
            len,
        })
    }

    /// Start of the mapping.
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Length of the mapping in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the mapping is empty (never: mappings are at least one page).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Panics unless `[start, start + len)` is page aligned and inside the mapping: the
    /// precondition every range operation below relies on for its safety.
    fn assert_range(&self, start: usize, len: usize) {
        let page = host_page_size();
        assert!(start.is_multiple_of(page) && len.is_multiple_of(page));
        assert!(
            start <= self.len && len <= self.len - start,
            "range outside mapping"
        );
    }

    /// Changes the protection of `[start, start + len)` (page aligned, inside the mapping).
    pub fn protect(&self, start: usize, len: usize, prot: Prot) -> io::Result<()> {
        if len == 0 {
            return Ok(());
        }
        self.assert_range(start, len);
        // SAFETY: the range lies inside our own mapping (asserted above); changing its
        // protection cannot affect memory owned by anyone else.
        let r = unsafe { libc::mprotect(self.as_ptr().add(start).cast(), len, prot.bits()) };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Gives the pages of `[start, start + len)` (page aligned, inside the mapping) back to the
    /// kernel: their contents become zero (`MADV_DONTNEED` on a private anonymous mapping
    /// guarantees zero-fill on the next touch) and they stop counting as resident. The
    /// protection is unchanged.
    pub fn discard(&self, start: usize, len: usize) -> io::Result<()> {
        if len == 0 {
            return Ok(());
        }
        self.assert_range(start, len);
        // SAFETY: the range lies inside our own private anonymous mapping (asserted above);
        // dropping its pages only affects memory this value owns.
        let r = unsafe { libc::madvise(self.as_ptr().add(start).cast(), len, libc::MADV_DONTNEED) };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Makes `[start, start + len)` (page aligned, inside the mapping) read as zero again
    /// while keeping its resident pages resident, which is far cheaper than [`Mmap::discard`]
    /// for pages about to be used again (no TLB flush now, no page fault later). Pages that
    /// `mincore` reports resident are zeroed in place (skipped when already zero); every other
    /// page is discarded, since a non-resident page may be swapped out and still hold data.
    ///
    /// # Safety
    /// The range must be mapped read-write, and nothing may access it during the call.
    pub unsafe fn zero_keeping_resident(&self, start: usize, len: usize) -> io::Result<()> {
        let page = host_page_size();
        self.assert_range(start, len);
        const CHUNK: usize = 256; // pages per `mincore` call
        let mut flags = [0u8; CHUNK];
        let mut at = start;
        while at < start + len {
            let n = ((start + len - at) / page).min(CHUNK);
            // SAFETY: `[at, at + n pages)` lies inside our mapping (asserted above) and
            // `flags` has room for one byte per page.
            let r = unsafe {
                libc::mincore(
                    self.as_ptr().add(at).cast(),
                    n * page,
                    flags.as_mut_ptr().cast(),
                )
            };
            if r != 0 {
                return Err(io::Error::last_os_error());
            }
            let mut i = 0;
            while i < n {
                let resident = flags[i] & 1 != 0;
                let mut j = i + 1;
                while j < n && (flags[j] & 1 != 0) == resident {
                    j += 1;
                }
                let (from, bytes) = (at + i * page, (j - i) * page);
                if resident {
                    for p in (from..from + bytes).step_by(page) {
                        // SAFETY: the caller guarantees the range is read-write and not
                        // accessed by anyone else; `p` is a page-aligned page inside it.
                        unsafe {
                            let words = std::slice::from_raw_parts_mut(
                                self.as_ptr().add(p).cast::<u64>(),
                                page / 8,
                            );
                            // Skip pages that read as zero (e.g. only ever read, so backed
                            // by the shared zero page): writing them would copy it.
                            if words
                                .chunks_exact(8)
                                .any(|c| c.iter().fold(0, |a, &w| a | w) != 0)
                            {
                                words.fill(0);
                            }
                        }
                    }
                } else {
                    self.discard(from, bytes)?;
                }
                i = j;
            }
            at += n * page;
        }
        Ok(())
    }
}

impl Drop for Mmap {
    fn drop(&mut self) {
        // SAFETY: we own exactly this range, and nothing refers to it once the owner drops.
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}
