//! Finding and resuming a Wasm exception handler by walking frame pointers (x86-64).
//!
//! Every Cranelift function on x86-64 sets up `rbp` (saved `rbp` at `[rbp]`, return address at
//! `[rbp + 8]`), so the Wasm frames above a throw form a chain. Each return address that lies
//! in a Wasm function body is looked up in that module's handler table; the walk stops at the
//! first address outside Wasm function bodies (the host→Wasm trampoline of the innermost
//! entry, or an adapter), because frames beyond belong to the host.

use super::registry::{self, FrameInfo};
use crate::layout::Handler;

/// Where to resume: a handler's address with the stack and frame pointers of its frame.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Resume {
    pc: usize,
    sp: usize,
    fp: usize,
}

/// Searches the callers of the Wasm frame `fp` for a handler of the tag with identity `tag`.
///
/// # Safety
/// `fp` must be the frame pointer of a live Wasm function frame on this thread's stack.
pub(crate) unsafe fn find_handler(tag: usize, mut fp: usize) -> Option<Resume> {
    let frames = registry::frames();
    loop {
        // SAFETY: `fp` is a Wasm frame (first the caller's contract, then a frame whose return
        // address was found in a Wasm function body below), so both words are readable.
        let (caller_fp, ret) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
        match frames.lookup(ret) {
            FrameInfo::NotWasm => return None,
            FrameInfo::Wasm { site: None, .. } => {}
            FrameInfo::Wasm {
                body,
                site: Some(site),
                offsets,
            } => {
                let sp = caller_fp - site.frame_offset as usize;
                let mut vmctx = 0usize;
                for h in &site.handlers {
                    let target = match *h {
                        Handler::Context(off) => {
                            // SAFETY: the compiler recorded this stack slot as holding the
                            // frame's vmctx at the call.
                            vmctx = unsafe { *((sp + off as usize) as *const usize) };
                            continue;
                        }
                        Handler::Tag { tag: t, target } => {
                            if vmctx == 0 {
                                continue;
                            }
                            // SAFETY: `vmctx` is the frame's live instance context, whose
                            // layout is `offsets` (same module as the code).
                            let id =
                                unsafe { *((vmctx + offsets.tag(t) as usize) as *const usize) };
                            if id != tag {
                                continue;
                            }
                            target
                        }
                        Handler::All { target } => target,
                    };
                    return Some(Resume {
                        pc: body + target as usize,
                        sp,
                        fp: caller_fp,
                    });
                }
            }
        }
        fp = caller_fp;
    }
}

unsafe extern "C" {
    fn wasmaot_resume(pc: usize, sp: usize, fp: usize, payload: usize) -> !;
}

/// Jumps to a handler found by [`find_handler`], with `exn` as its payload.
///
/// # Safety
/// `r` must have been found on this thread's stack in the current entry, and every frame
/// between here and it must own nothing that needs dropping.
pub(crate) unsafe fn resume(r: Resume, exn: usize) -> ! {
    // SAFETY: caller's contract; the stub sets rsp/rbp, puts the payload in rax (Cranelift's
    // first exception payload register) and jumps.
    unsafe { wasmaot_resume(r.pc, r.sp, r.fp, exn) }
}
