//! Signal handlers for SIGSEGV, SIGBUS, SIGILL and SIGFPE, the per-thread alternate signal
//! stack, and classification of a fault as a Wasm trap (or not ours: chained to the previous
//! handler).

use super::{registry, tls};
use crate::layout::TrapKind;
use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::sync::Once;

const SIGNALS: [libc::c_int; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

/// Size of the alternate signal stack installed for threads that have none.
const ALT_STACK_SIZE: usize = 64 * 1024;
/// Faults this close to the stack pointer (either side) inside Wasm code are stack overflows.
const STACK_SLOP: usize = 64 * 1024;

struct PrevActions(UnsafeCell<[MaybeUninit<libc::sigaction>; 4]>);
// SAFETY: written exactly once inside `Once::call_once` before any handler is installed,
// read-only afterwards.
unsafe impl Sync for PrevActions {}
static PREV: PrevActions = PrevActions(UnsafeCell::new([MaybeUninit::uninit(); 4]));
static INSTALL: Once = Once::new();

unsafe extern "C" {
    fn wasmaot_longjmp(buf: *mut libc::c_void) -> !;
    fn wasmaot_probestack();
    fn wasmaot_probestack_end();
}

/// Installs the process-wide handlers (once; later calls are a cheap check).
pub fn ensure_installed() {
    INSTALL.call_once(|| {
        for (i, &sig) in SIGNALS.iter().enumerate() {
            // SAFETY: `sa` is fully initialised before use; `PREV` is only written here,
            // before the handler that reads it is installed.
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = handler as *const () as usize;
                sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
                libc::sigemptyset(&mut sa.sa_mask);
                let prev = (*PREV.0.get())[i].as_mut_ptr();
                if libc::sigaction(sig, &sa, prev) != 0 {
                    panic!("cannot install handler for signal {sig}");
                }
            }
        }
    });
}

/// An alternate signal stack this runtime mapped for the current thread.
struct AltStack {
    base: *mut libc::c_void,
    len: usize,
}

impl Drop for AltStack {
    fn drop(&mut self) {
        // SAFETY: disables the alternate stack only if it is still ours, then unmaps the
        // mapping this value owns; no signal can be running on it during thread teardown.
        unsafe {
            let mut cur: libc::stack_t = std::mem::zeroed();
            libc::sigaltstack(std::ptr::null(), &mut cur);
            if cur.ss_sp
                == self
                    .base
                    .cast::<u8>()
                    .add(crate::mmap::host_page_size())
                    .cast()
            {
                let disable = libc::stack_t {
                    ss_sp: std::ptr::null_mut(),
                    ss_flags: libc::SS_DISABLE,
                    ss_size: 0,
                };
                libc::sigaltstack(&disable, std::ptr::null_mut());
            }
            libc::munmap(self.base, self.len);
        }
    }
}

thread_local! {
    static ALT_STACK: std::cell::RefCell<Option<AltStack>> = const { std::cell::RefCell::new(None) };
}

/// Prepares the current thread for running Wasm: an alternate signal stack if it has none and
/// its stack bounds for stack-overflow classification. Cheap after the first call.
pub fn ensure_thread_ready() {
    if tls::THREAD_READY.get() {
        return;
    }
    ensure_installed();
    // SAFETY: querying and installing a sigaltstack for the current thread; the new stack is a
    // fresh private mapping kept alive (in a thread-local) for as long as it is installed.
    unsafe {
        let mut cur: libc::stack_t = std::mem::zeroed();
        libc::sigaltstack(std::ptr::null(), &mut cur);
        if cur.ss_flags & libc::SS_DISABLE != 0 || cur.ss_size < 16 * 1024 {
            let page = crate::mmap::host_page_size();
            let len = ALT_STACK_SIZE + page;
            let base = libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if base != libc::MAP_FAILED {
                // Guard page at the low end.
                libc::mprotect(base, page, libc::PROT_NONE);
                let st = libc::stack_t {
                    ss_sp: base.cast::<u8>().add(page).cast(),
                    ss_flags: 0,
                    ss_size: ALT_STACK_SIZE,
                };
                if libc::sigaltstack(&st, std::ptr::null_mut()) == 0 {
                    ALT_STACK.with(|a| *a.borrow_mut() = Some(AltStack { base, len }));
                } else {
                    libc::munmap(base, len);
                }
            }
        }
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) == 0 {
            let mut addr: *mut libc::c_void = std::ptr::null_mut();
            let mut size: libc::size_t = 0;
            if libc::pthread_attr_getstack(&attr, &mut addr, &mut size) == 0 {
                tls::STACK_LOW.set(addr as usize);
                tls::STACK_HIGH.set(addr as usize + size);
            }
            libc::pthread_attr_destroy(&mut attr);
        }
    }
    tls::THREAD_READY.set(true);
}

/// Program counter, stack pointer of the interrupted context.
///
/// # Safety
/// `ctx` must be the `ucontext_t` the kernel passed to a `SA_SIGINFO` handler.
unsafe fn pc_sp(ctx: *mut libc::c_void) -> (usize, usize) {
    let uc = ctx as *const libc::ucontext_t;
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: forwarded from the caller.
        let g = unsafe { &(*uc).uc_mcontext.gregs };
        (
            g[libc::REG_RIP as usize] as usize,
            g[libc::REG_RSP as usize] as usize,
        )
    }
    #[cfg(target_arch = "aarch64")]
    {
        // SAFETY: forwarded from the caller.
        let m = unsafe { &(*uc).uc_mcontext };
        (m.pc as usize, m.sp as usize)
    }
}

/// Decides whether a fault is a Wasm trap. Pure function of the fault's facts, for tests.
pub fn classify(
    sig: libc::c_int,
    pc: usize,
    sp: usize,
    addr: usize,
    stack_low: usize,
    lookup: impl Fn(usize) -> Option<registry::PcInfo>,
) -> Option<TrapKind> {
    let in_probestack = (wasmaot_probestack as *const () as usize
        ..wasmaot_probestack_end as *const () as usize)
        .contains(&pc);
    let info = if in_probestack {
        None
    } else {
        Some(lookup(pc)?)
    };
    let is_mem_fault = sig == libc::SIGSEGV || sig == libc::SIGBUS;
    if is_mem_fault {
        let near_sp =
            addr >= sp.saturating_sub(STACK_SLOP) && addr <= sp.saturating_add(STACK_SLOP);
        let in_guard = stack_low != 0
            && addr >= stack_low.saturating_sub(1 << 20)
            && addr < stack_low + crate::mmap::host_page_size();
        if near_sp || in_guard {
            return Some(TrapKind::StackOverflow);
        }
    }
    info?.trap
}

unsafe extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let buf = tls::JMPBUF.get();
    if !buf.is_null() {
        // SAFETY: the kernel passes a valid siginfo and ucontext to SA_SIGINFO handlers.
        let (pc, sp) = unsafe { pc_sp(ctx) };
        // SAFETY: as above; `si_addr` is meaningful for the fault signals we handle.
        let addr = unsafe { (*info).si_addr() } as usize;
        if let Some(kind) = classify(
            sig,
            pc,
            sp,
            addr,
            tls::STACK_LOW.get(),
            registry::lookup_in_handler,
        ) {
            tls::RAW_TRAP.set(tls::RawTrap {
                kind: kind as u8,
                pc,
            });
            // SAFETY: `buf` is the jump buffer of the innermost active `wasmaot_catch` on this
            // thread; every frame between it and here is compiled Wasm code or a trampoline,
            // which own no resources.
            unsafe { wasmaot_longjmp(buf) };
        }
    }
    // SAFETY: forwarding the same arguments to the handler that was installed before ours.
    unsafe { chain(sig, info, ctx) }
}

/// Hands a fault that is not ours to the previous handler, or restores the default action so
/// that returning re-executes the instruction and the process crashes as usual.
unsafe fn chain(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let i = SIGNALS.iter().position(|s| *s == sig).unwrap_or(0);
    // SAFETY: `PREV` was initialised before our handler was installed.
    let prev = unsafe { (*PREV.0.get())[i].assume_init_ref() };
    let h = prev.sa_sigaction;
    if h == libc::SIG_DFL || h == libc::SIG_IGN {
        // SAFETY: resetting our own signal disposition.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
        return;
    }
    if prev.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: the previous handler was registered with SA_SIGINFO, so it has this type.
        let f: unsafe extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
            unsafe { std::mem::transmute(h) };
        // SAFETY: same arguments the kernel gave us.
        unsafe { f(sig, info, ctx) }
    } else {
        // SAFETY: a plain `sa_handler`.
        let f: unsafe extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(h) };
        // SAFETY: as above.
        unsafe { f(sig) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use registry::PcInfo;

    #[test]
    fn classify_rules() {
        let wasm = |pc: usize| {
            (0x1000..0x2000).contains(&pc).then_some(PcInfo {
                func: Some(0),
                trap: (pc == 0x1010).then_some(TrapKind::IntegerDivisionByZero),
            })
        };
        let sp = 0x7fff_0000_0000;
        // Trap site.
        assert_eq!(
            classify(libc::SIGFPE, 0x1010, sp, 0, 0, wasm),
            Some(TrapKind::IntegerDivisionByZero)
        );
        // Fault near the stack pointer in Wasm code without a trap site.
        assert_eq!(
            classify(libc::SIGSEGV, 0x1020, sp, sp - 8, 0, wasm),
            Some(TrapKind::StackOverflow)
        );
        // Same fault far from the stack: not ours.
        assert_eq!(classify(libc::SIGSEGV, 0x1020, sp, 0x10, 0, wasm), None);
        // In the thread's guard region.
        assert_eq!(
            classify(
                libc::SIGSEGV,
                0x1020,
                sp,
                0x5000_0000 - 100,
                0x5000_0000,
                wasm
            ),
            Some(TrapKind::StackOverflow)
        );
        // Outside Wasm code: never ours.
        assert_eq!(classify(libc::SIGSEGV, 0x3000, sp, sp - 8, 0, wasm), None);
        // SIGILL not at a trap site: not ours.
        assert_eq!(classify(libc::SIGILL, 0x1020, sp, 0, 0, wasm), None);
    }
}
