//! The builtins table: runtime entry points compiled code calls through `vmctx+0` for
//! operations too large to inline (bulk memory and table operations, growth, atomics).
//!
//! Atomic wait/notify: waits on an unshared memory trap (return -2, as the spec requires);
//! waits and notifies on shared memories use one process-wide wait queue keyed by address.

use crate::for_each_builtin;
use crate::instance::{Instance, InstanceInner};
use crate::layout::{BuiltinIndex, VMCTX_INSTANCE};
use crate::memory::Memory;
use crate::table::{copy_elems, Table};
use std::sync::atomic::Ordering;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// The calling instance of a builtin.
///
/// # Safety
/// `vmctx` must be the vmctx of a live instance (compiled code always passes its own).
unsafe fn inst<'a>(vmctx: *mut u8) -> &'a InstanceInner {
    // SAFETY: caller's contract; the private pointer is at `VMCTX_INSTANCE`.
    unsafe { &**(vmctx.add(VMCTX_INSTANCE as usize) as *const *const InstanceInner) }
}

fn mem(i: &InstanceInner, idx: i32) -> &Memory {
    &i.memories[idx as usize]
}

fn table(i: &InstanceInner, idx: i32) -> &Table {
    &i.tables[idx as usize]
}

fn in_bounds(start: u64, len: u64, size: u64) -> bool {
    start.checked_add(len).is_some_and(|e| e <= size)
}

/// Builtin implementations; signatures follow `for_each_builtin!`.
mod imp {
    use super::*;
    pub(super) use crate::exceptions::{exn_new, exn_throw};

    pub unsafe extern "C" fn memory_grow(vmctx: *mut u8, m: i32, delta: i64) -> i64 {
        // SAFETY: compiled code passes its own vmctx.
        mem(unsafe { inst(vmctx) }, m).grow_or_minus_one(delta as u64)
    }

    pub unsafe extern "C" fn memory_fill(
        vmctx: *mut u8,
        m: i32,
        dst: i64,
        val: i32,
        len: i64,
    ) -> i32 {
        // SAFETY: compiled code passes its own vmctx.
        let mm = mem(unsafe { inst(vmctx) }, m);
        if !in_bounds(dst as u64, len as u64, mm.size_bytes()) {
            return 1;
        }
        // SAFETY: bounds checked against the current length.
        unsafe { std::ptr::write_bytes(mm.data_ptr().add(dst as usize), val as u8, len as usize) };
        0
    }

    pub unsafe extern "C" fn memory_copy(
        vmctx: *mut u8,
        dm: i32,
        sm: i32,
        dst: i64,
        src: i64,
        len: i64,
    ) -> i32 {
        // SAFETY: compiled code passes its own vmctx.
        let i = unsafe { inst(vmctx) };
        let (d, s) = (mem(i, dm), mem(i, sm));
        if !in_bounds(dst as u64, len as u64, d.size_bytes())
            || !in_bounds(src as u64, len as u64, s.size_bytes())
        {
            return 1;
        }
        // SAFETY: both ranges checked; `copy` allows overlap.
        unsafe {
            std::ptr::copy(
                s.data_ptr().add(src as usize),
                d.data_ptr().add(dst as usize),
                len as usize,
            )
        };
        0
    }

    pub unsafe extern "C" fn memory_init(
        vmctx: *mut u8,
        m: i32,
        seg: i32,
        dst: i64,
        src: i32,
        len: i32,
    ) -> i32 {
        // SAFETY: compiled code passes its own vmctx.
        let i = unsafe { inst(vmctx) };
        let bytes: &[u8] = if i.dropped_datas[seg as usize].load(Ordering::Relaxed) {
            &[]
        } else {
            &i.module.info().datas[seg as usize].bytes
        };
        let (src, len) = (src as u32 as u64, len as u32 as u64);
        let mm = mem(i, m);
        if !in_bounds(src, len, bytes.len() as u64) || !in_bounds(dst as u64, len, mm.size_bytes())
        {
            return 1;
        }
        mm.write(dst as u64, &bytes[src as usize..(src + len) as usize]);
        0
    }

    pub unsafe extern "C" fn data_drop(vmctx: *mut u8, seg: i32) -> i32 {
        // SAFETY: compiled code passes its own vmctx.
        unsafe { inst(vmctx) }.dropped_datas[seg as usize].store(true, Ordering::Relaxed);
        0
    }

    pub unsafe extern "C" fn table_grow(vmctx: *mut u8, t: i32, init: i64, delta: i64) -> i64 {
        // SAFETY: compiled code passes its own vmctx.
        table(unsafe { inst(vmctx) }, t)
            .grow_raw(delta as u64, init as u64)
            .map_or(-1, |old| old as i64)
    }

    pub unsafe extern "C" fn table_fill(
        vmctx: *mut u8,
        t: i32,
        dst: i64,
        val: i64,
        len: i64,
    ) -> i32 {
        // SAFETY: compiled code passes its own vmctx.
        let ok = table(unsafe { inst(vmctx) }, t).fill_raw(dst as u64, val as u64, len as u64);
        i32::from(!ok)
    }

    pub unsafe extern "C" fn table_copy(
        vmctx: *mut u8,
        dt: i32,
        st: i32,
        dst: i64,
        src: i64,
        len: i64,
    ) -> i32 {
        // SAFETY: compiled code passes its own vmctx.
        let i = unsafe { inst(vmctx) };
        let ok = copy_elems(
            table(i, dt),
            table(i, st),
            dst as u64,
            src as u64,
            len as u64,
        );
        i32::from(!ok)
    }

    pub unsafe extern "C" fn table_init(
        vmctx: *mut u8,
        t: i32,
        seg: i32,
        dst: i64,
        src: i32,
        len: i32,
    ) -> i32 {
        // SAFETY: compiled code passes its own vmctx.
        let i = unsafe { inst(vmctx) };
        let items: &[Vec<crate::layout::ConstOp>] =
            if i.dropped_elems[seg as usize].load(Ordering::Relaxed) {
                &[]
            } else {
                &i.module.info().elems[seg as usize].items
            };
        let (src, len) = (src as u32 as u64, len as u32 as u64);
        let tt = table(i, t);
        if !in_bounds(src, len, items.len() as u64) || !in_bounds(dst as u64, len, tt.size()) {
            return 1;
        }
        // SAFETY: `i` is alive (we are running its code).
        let instance = unsafe { Instance::from_inner_ptr(i) };
        for k in 0..len {
            let Ok(v) = instance.eval_const(&items[(src + k) as usize]) else {
                return 1;
            };
            // SAFETY: funcrefs of this instance, kept alive by it or by the table.
            unsafe { tt.set_raw(dst as u64 + k, v as u64) };
        }
        0
    }

    pub unsafe extern "C" fn elem_drop(vmctx: *mut u8, seg: i32) -> i32 {
        // SAFETY: compiled code passes its own vmctx.
        unsafe { inst(vmctx) }.dropped_elems[seg as usize].store(true, Ordering::Relaxed);
        0
    }

    pub unsafe extern "C" fn memory_atomic_notify(
        vmctx: *mut u8,
        m: i32,
        addr: i64,
        count: i32,
    ) -> i64 {
        // SAFETY: compiled code passes its own vmctx.
        let mm = mem(unsafe { inst(vmctx) }, m);
        if !(addr as u64).is_multiple_of(4) || !in_bounds(addr as u64, 4, mm.size_bytes()) {
            return -1;
        }
        if !mm.declared_type().shared {
            return 0;
        }
        notify(mm.data_ptr() as usize + addr as usize, count as u32)
    }

    /// The host address of a `wait` on a shared memory, or the builtin's error result:
    /// -1 (misaligned or out of bounds, a trap) or -2 (unshared memory, a trap).
    ///
    /// # Safety
    /// `vmctx` is the calling instance's context.
    unsafe fn wait_target(vmctx: *mut u8, m: i32, addr: i64, size: u64) -> Result<usize, i64> {
        // SAFETY: compiled code passes its own vmctx.
        let mm = mem(unsafe { inst(vmctx) }, m);
        if !(addr as u64).is_multiple_of(size) || !in_bounds(addr as u64, size, mm.size_bytes()) {
            return Err(-1);
        }
        if !mm.declared_type().shared {
            return Err(-2);
        }
        Ok(mm.data_ptr() as usize + addr as usize)
    }

    pub unsafe extern "C" fn memory_atomic_wait32(
        vmctx: *mut u8,
        m: i32,
        addr: i64,
        expected: i32,
        timeout: i64,
    ) -> i64 {
        // SAFETY: compiled code passes its own vmctx.
        let p = match unsafe { wait_target(vmctx, m, addr, 4) } {
            Ok(p) => p,
            Err(e) => return e,
        };
        // SAFETY: in bounds and 4-aligned.
        let cur =
            || unsafe { (*(p as *const std::sync::atomic::AtomicI32)).load(Ordering::SeqCst) };
        wait(p, || cur() == expected, timeout)
    }

    pub unsafe extern "C" fn memory_atomic_wait64(
        vmctx: *mut u8,
        m: i32,
        addr: i64,
        expected: i64,
        timeout: i64,
    ) -> i64 {
        // SAFETY: compiled code passes its own vmctx.
        let p = match unsafe { wait_target(vmctx, m, addr, 8) } {
            Ok(p) => p,
            Err(e) => return e,
        };
        // SAFETY: in bounds and 8-aligned.
        let cur =
            || unsafe { (*(p as *const std::sync::atomic::AtomicI64)).load(Ordering::SeqCst) };
        wait(p, || cur() == expected, timeout)
    }
}

struct Waiter {
    addr: usize,
    id: u64,
    woken: bool,
}

struct WaitQueue {
    waiters: Vec<Waiter>,
    next_id: u64,
}

static QUEUE: Mutex<WaitQueue> = Mutex::new(WaitQueue {
    waiters: Vec::new(),
    next_id: 0,
});
static WAKE: Condvar = Condvar::new();

/// Blocks while `still_expected()` (checked under the queue lock): 0 woken, 1 not equal,
/// 2 timed out (`timeout_ns < 0`: forever).
fn wait(addr: usize, still_expected: impl Fn() -> bool, timeout_ns: i64) -> i64 {
    let mut q = QUEUE.lock().unwrap_or_else(|e| e.into_inner());
    if !still_expected() {
        return 1;
    }
    let id = q.next_id;
    q.next_id += 1;
    q.waiters.push(Waiter {
        addr,
        id,
        woken: false,
    });
    let deadline =
        (timeout_ns >= 0).then(|| Instant::now() + Duration::from_nanos(timeout_ns as u64));
    loop {
        let pos = q.waiters.iter().position(|w| w.id == id).unwrap();
        if q.waiters[pos].woken {
            q.waiters.remove(pos);
            return 0;
        }
        match deadline {
            None => q = WAKE.wait(q).unwrap_or_else(|e| e.into_inner()),
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    q.waiters.remove(pos);
                    return 2;
                }
                q = WAKE
                    .wait_timeout(q, d - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        }
    }
}

/// Wakes up to `count` waiters on `addr` (oldest first); returns how many.
fn notify(addr: usize, count: u32) -> i64 {
    let mut q = QUEUE.lock().unwrap_or_else(|e| e.into_inner());
    let mut n = 0;
    for w in q.waiters.iter_mut().filter(|w| w.addr == addr && !w.woken) {
        if n == count {
            break;
        }
        w.woken = true;
        n += 1;
    }
    if n > 0 {
        WAKE.notify_all();
    }
    n as i64
}

struct Builtins([*const (); BuiltinIndex::ALL.len()]);
// SAFETY: an immutable table of function pointers.
unsafe impl Sync for Builtins {}

macro_rules! builtin_table {
    ($( $(#[$attr:meta])* $name:ident($($p:ident: $t:ident),*) -> $r:ident; )*) => {
        static BUILTINS: Builtins = Builtins([ $( imp::$name as *const (), )* ]);
        // Every implementation has exactly the signature the contract declares.
        #[allow(dead_code)]
        const _: () = {
            $( let _: unsafe extern "C" fn(*mut u8, $($t),*) -> $r = imp::$name; )*
        };
    };
}
for_each_builtin!(builtin_table);

/// Address of the builtins table stored at `vmctx+0`.
pub fn builtins_table() -> *const *const () {
    BUILTINS.0.as_ptr()
}
