//! Trap handling: entering compiled code under a `sigsetjmp` (in `csrc/entry.c`), turning
//! faults at registered trap sites into [`Trap`]s, and raising traps from host code.
//!
//! A trap records what happened in thread-local state and `siglongjmp`s to the innermost
//! entry on the current thread; entries nest (Wasm → host → Wasm) through a chain of jump
//! buffers, each entry restoring its predecessor.

pub mod registry;
pub mod signals;
pub(crate) mod stackscan;
pub(crate) mod unwind;

use crate::error::Trap;
use crate::layout::{ArrayCallFn, TrapKind, ValRaw};
use std::any::Any;

/// Thread-local state shared with the signal handler (only plain `Cell`s with constant
/// initialisers and no destructors, so the handler may touch them).
pub(crate) mod tls {
    use std::cell::Cell;

    /// A trap recorded by the signal handler.
    #[derive(Clone, Copy)]
    pub struct RawTrap {
        /// `TrapKind as u8`, 0 for none.
        pub kind: u8,
        /// Faulting program counter.
        pub pc: usize,
    }

    thread_local! {
        /// Jump buffer of the innermost active entry (null outside Wasm).
        pub static JMPBUF: Cell<*mut libc::c_void> = const { Cell::new(std::ptr::null_mut()) };
        /// Last trap recorded by the signal handler.
        pub static RAW_TRAP: Cell<RawTrap> = const { Cell::new(RawTrap { kind: 0, pc: 0 }) };
        /// Lowest address of this thread's stack (0 if unknown).
        pub static STACK_LOW: Cell<usize> = const { Cell::new(0) };
        /// One past the highest address of this thread's stack (0 if unknown).
        pub static STACK_HIGH: Cell<usize> = const { Cell::new(0) };
        /// Whether `signals::ensure_thread_ready` ran on this thread.
        pub static THREAD_READY: Cell<bool> = const { Cell::new(false) };
    }
}

/// Something raised by host code, waiting to be picked up by the entry that catches it.
enum Pending {
    Trap(Trap),
    Panic(Box<dyn Any + Send>),
}

thread_local! {
    static PENDING: std::cell::RefCell<Option<Pending>> = const { std::cell::RefCell::new(None) };
}

unsafe extern "C" {
    fn wasmaot_catch(
        tramp: ArrayCallFn,
        callee: *mut u8,
        caller: *mut u8,
        values: *mut ValRaw,
        len: usize,
        slot: *mut *mut libc::c_void,
    ) -> libc::c_int;
    fn wasmaot_longjmp(buf: *mut libc::c_void) -> !;
}

/// Calls an array-call function, catching every trap raised inside it.
///
/// # Safety
/// `f` must be an array-call entry of compiled code (or a host trampoline) valid for
/// `callee`/`caller`, and `values` must point to `len` slots large enough for its params and
/// results.
pub unsafe fn catch_traps(
    f: ArrayCallFn,
    callee: *mut u8,
    caller: *mut u8,
    values: *mut ValRaw,
    len: usize,
) -> Result<(), Trap> {
    signals::ensure_thread_ready();
    let slot = tls::JMPBUF.with(|c| c.as_ptr());
    // SAFETY: `slot` is this thread's jump-buffer cell, valid for the thread's life; the rest
    // is the caller's contract.
    let r = unsafe { wasmaot_catch(f, callee, caller, values, len, slot) };
    if r == 0 {
        return Ok(());
    }
    match PENDING.with(|p| p.borrow_mut().take()) {
        Some(Pending::Trap(t)) => Err(t),
        Some(Pending::Panic(payload)) => std::panic::resume_unwind(payload),
        None => {
            let raw = tls::RAW_TRAP.replace(tls::RawTrap { kind: 0, pc: 0 });
            let kind = TrapKind::from_u8(raw.kind).unwrap_or(TrapKind::Unreachable);
            Err(Trap {
                func: registry::func_name_at(raw.pc),
                pc: Some(raw.pc),
                ..Trap::new(kind)
            })
        }
    }
}

/// Whether the current thread is executing inside [`catch_traps`].
pub fn in_wasm() -> bool {
    !tls::JMPBUF.get().is_null()
}

/// Raises `trap` to the innermost entry on this thread. Only call from a frame that owns
/// nothing needing a destructor, with only such frames between it and the entry (compiled
/// code, host trampolines that already dropped their values, C code).
///
/// # Panics
/// When no entry is active on this thread.
pub fn raise_trap(trap: Trap) -> ! {
    raise(Pending::Trap(trap))
}

/// Re-raises a Rust panic caught in a host function at the innermost entry, which resumes it.
pub(crate) fn raise_panic(payload: Box<dyn Any + Send>) -> ! {
    raise(Pending::Panic(payload))
}

fn raise(p: Pending) -> ! {
    let buf = tls::JMPBUF.get();
    if buf.is_null() {
        match p {
            Pending::Trap(t) => panic!("trap raised outside of Wasm execution: {t}"),
            Pending::Panic(payload) => std::panic::resume_unwind(payload),
        }
    }
    PENDING.with(|slot| *slot.borrow_mut() = Some(p));
    // SAFETY: `buf` belongs to the innermost active `wasmaot_catch`; this frame owns nothing
    // (the pending value was moved into the thread-local), and the caller promises the same
    // for the frames in between.
    unsafe { wasmaot_longjmp(buf) }
}
