//! Conservative scan of the current thread's stack and callee-saved registers, for finding the
//! exception objects compiled code may still refer to (see `crate::exceptions`).
//!
//! Compiled code keeps an `exnref` that is live across a call either in a stack slot (the Wasm
//! `tail` convention has no callee-saved registers) or, across a call into the runtime, in a
//! callee-saved register, which the runtime's frames either leave untouched or save on the
//! stack. Reading every word from here to the top of the stack plus those registers therefore
//! sees every live `exnref` on this thread (and some words that merely look like one).

use super::tls;

/// Calls `f` with every 8-byte word of this thread's stack above the caller's frame, and the
/// callee-saved registers. Returns false (calling `f` for nothing) when the stack's bounds are
/// unknown, in which case the caller must treat everything as reachable.
///
/// # Safety
/// The recorded stack bounds, when set, must be this thread's (`ensure_thread_ready`).
#[inline(never)]
pub(crate) unsafe fn for_each_root(mut f: impl FnMut(usize)) -> bool {
    let here = 0usize;
    let low = (&here as *const usize as usize) & !7;
    let high = tls::STACK_HIGH.get();
    if high <= low {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    {
        let regs: [usize; 6];
        // SAFETY: plain register reads.
        unsafe {
            let (a, b, c, d, e, g): (usize, usize, usize, usize, usize, usize);
            std::arch::asm!(
                "mov {0}, rbx", "mov {1}, r12", "mov {2}, r13", "mov {3}, r14", "mov {4}, r15",
                "mov {5}, rbp",
                out(reg) a, out(reg) b, out(reg) c, out(reg) d, out(reg) e, out(reg) g,
                options(nomem, nostack, preserves_flags)
            );
            regs = [a, b, c, d, e, g];
        }
        regs.iter().for_each(|&r| f(r));
    }
    let mut p = low;
    while p < high {
        // SAFETY: [low, high) is the used part of this thread's stack: mapped and readable.
        f(unsafe { std::ptr::read_volatile(p as *const usize) });
        p += 8;
    }
    true
}
