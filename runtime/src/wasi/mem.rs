//! Bounds- and alignment-checked access to the caller's linear memory.
//!
//! Every guest pointer goes through here. Like Wasmtime, an out-of-bounds or misaligned pointer
//! that must be dereferenced is a trap (the witx rules say "the function shall trap"); a
//! zero-length region is never dereferenced and is accepted wherever it points.

use std::ops::Range;

use super::errno::{Errno, WResult, WasiTrap};

/// A guest-memory view used for the duration of one host call.
pub(crate) struct Mem<'a> {
    bytes: &'a mut [u8],
}

/// One `iovec`/`ciovec`: guest buffer address and length.
#[derive(Clone, Copy, Debug)]
pub(crate) struct IoVec {
    /// Guest address of the buffer.
    pub ptr: u32,
    /// Length of the buffer.
    pub len: u32,
}

impl<'a> Mem<'a> {
    /// Wraps the caller's memory.
    pub fn new(bytes: &'a mut [u8]) -> Self {
        Mem { bytes }
    }

    /// The byte range `ptr..ptr+len`, or a trap when it does not fit.
    fn range(&self, ptr: u32, len: u64) -> Result<Range<usize>, WasiTrap> {
        if len == 0 {
            return Ok(0..0);
        }
        let end = u64::from(ptr) + len;
        if end > self.bytes.len() as u64 {
            return Err(WasiTrap::OutOfBounds { ptr, len });
        }
        Ok(ptr as usize..end as usize)
    }

    /// Checks bounds, then alignment, of a `size`-byte object at `ptr`.
    fn object(&self, ptr: u32, size: u64, align: u32) -> Result<Range<usize>, WasiTrap> {
        let r = self.range(ptr, size)?;
        if !ptr.is_multiple_of(align) {
            return Err(WasiTrap::Misaligned { ptr, align });
        }
        Ok(r)
    }

    /// Checks that an array of `count` elements of `size` bytes and alignment `align` at `ptr`
    /// lies in memory.
    pub fn check_array(&self, ptr: u32, count: u32, size: u32, align: u32) -> WResult<()> {
        self.object(ptr, u64::from(count) * u64::from(size), align)?;
        Ok(())
    }

    /// The guest bytes `ptr..ptr+len`.
    pub fn bytes(&self, ptr: u32, len: u32) -> WResult<&[u8]> {
        let r = self.range(ptr, len.into())?;
        Ok(&self.bytes[r])
    }

    /// The guest bytes `ptr..ptr+len`, writable.
    pub fn bytes_mut(&mut self, ptr: u32, len: u32) -> WResult<&mut [u8]> {
        let r = self.range(ptr, len.into())?;
        Ok(&mut self.bytes[r])
    }

    /// Copies `data` to `ptr` (byte-aligned data such as strings).
    pub fn write_bytes(&mut self, ptr: u32, data: &[u8]) -> WResult<()> {
        let r = self.range(ptr, data.len() as u64)?;
        self.bytes[r].copy_from_slice(data);
        Ok(())
    }

    /// Copies an encoded structure with alignment `align` to `ptr`.
    pub fn write_struct(&mut self, ptr: u32, data: &[u8], align: u32) -> WResult<()> {
        let r = self.object(ptr, data.len() as u64, align)?;
        self.bytes[r].copy_from_slice(data);
        Ok(())
    }

    /// Reads an encoded structure of `N` bytes with alignment `align`.
    pub fn read_struct<const N: usize>(&self, ptr: u32, align: u32) -> WResult<[u8; N]> {
        let r = self.object(ptr, N as u64, align)?;
        let mut out = [0u8; N];
        out.copy_from_slice(&self.bytes[r]);
        Ok(out)
    }

    /// Writes a little-endian `u32` result.
    pub fn write_u32(&mut self, ptr: u32, v: u32) -> WResult<()> {
        self.write_struct(ptr, &v.to_le_bytes(), 4)
    }

    /// Writes a little-endian `u64` result.
    pub fn write_u64(&mut self, ptr: u32, v: u64) -> WResult<()> {
        self.write_struct(ptr, &v.to_le_bytes(), 8)
    }

    /// Reads a guest string; invalid UTF-8 is `EILSEQ`, as in Wasmtime.
    pub fn string(&self, ptr: u32, len: u32) -> WResult<String> {
        let b = self.bytes(ptr, len)?;
        match std::str::from_utf8(b) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) => Err(Errno::Ilseq.into()),
        }
    }

    /// Reads an array of `count` iovecs at `ptr` and checks that every non-empty buffer lies
    /// inside memory.
    pub fn iovecs(&self, ptr: u32, count: u32) -> WResult<Vec<IoVec>> {
        let r = self.object(ptr, u64::from(count) * 8, 4)?;
        let raw = &self.bytes[r];
        let mut out = Vec::with_capacity(count as usize);
        for chunk in raw.chunks_exact(8) {
            let v = IoVec {
                ptr: u32::from_le_bytes(chunk[0..4].try_into().unwrap()),
                len: u32::from_le_bytes(chunk[4..8].try_into().unwrap()),
            };
            self.range(v.ptr, v.len.into())?;
            out.push(v);
        }
        Ok(out)
    }

    /// Concatenates the contents of `iovs` (for writes).
    pub fn gather(&self, iovs: &[IoVec]) -> WResult<Vec<u8>> {
        let mut out = Vec::with_capacity(iovs.iter().map(|v| v.len as usize).sum());
        for v in iovs {
            out.extend_from_slice(self.bytes(v.ptr, v.len)?);
        }
        Ok(out)
    }

    /// Spreads `data` over `iovs` in order (for reads); returns the number of bytes stored.
    pub fn scatter(&mut self, iovs: &[IoVec], mut data: &[u8]) -> WResult<usize> {
        let total = data.len();
        for v in iovs {
            if data.is_empty() {
                break;
            }
            let n = data.len().min(v.len as usize);
            self.bytes_mut(v.ptr, n as u32)?.copy_from_slice(&data[..n]);
            data = &data[n..];
        }
        Ok(total - data.len())
    }
}

/// Total length of `iovs`, saturating at `usize::MAX`.
pub(crate) fn iov_total(iovs: &[IoVec]) -> usize {
    iovs.iter()
        .fold(0usize, |acc, v| acc.saturating_add(v.len as usize))
}
