//! Wasm exceptions: exception objects (`exnref`s), the `exn_new`/`exn_throw` builtins behind
//! `throw` and `throw_ref`, and what the host sees of an exception nobody caught.
//!
//! Compiled code tries the handlers of the throwing function itself inline; `exn_throw` then
//! walks the frame-pointer chain of the Wasm frames above it (`traps::unwind`), looking each
//! return address up in the handler tables the compiler emitted, and resumes at the first
//! matching `try_table` handler. Wasm frames end at the innermost host→Wasm entry: an
//! exception that reaches it becomes a [`TrapKind::UncaughtException`] trap carrying an
//! [`Exception`], so it does not travel through host functions.
//!
//! Exception objects live in an arena of the thread that threw them. When the arena has
//! doubled since its last collection, `exn_new` frees the objects nothing refers to any more:
//! roots are this thread's stack and callee-saved registers (scanned conservatively,
//! `traps::stackscan`), the `exnref` globals and tables of every live instance, and the
//! payloads of reachable objects. Objects handed to the host are reference-counted
//! ([`ExnRef`]); objects the host stores into Wasm state are pinned for good.

use crate::error::Trap;
use crate::instance::InstanceInner;
use crate::layout::{exn, TrapKind, ValRaw, VMCTX_INSTANCE};
use crate::tag::Tag;
use crate::values::Val;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, Weak};

/// An exception object. Compiled code reads the first two fields (offsets in [`exn`]).
#[repr(C)]
pub(crate) struct VMExn {
    /// Identity of the tag (`Tag::identity`).
    tag_identity: usize,
    /// The payload, one 16-byte slot per tag parameter.
    values: *const ValRaw,
    tag: Tag,
    storage: Box<[ValRaw]>,
}

const _: () = assert!(std::mem::offset_of!(VMExn, tag_identity) == exn::TAG as usize);
const _: () = assert!(std::mem::offset_of!(VMExn, values) == exn::VALUES as usize);

// SAFETY: `values` points into `storage`, which the object owns and never mutates.
unsafe impl Send for VMExn {}
// SAFETY: see above.
unsafe impl Sync for VMExn {}

/// A non-null `exnref` held by the host. It keeps its exception object alive.
#[derive(Clone)]
pub struct ExnRef(Arc<VMExn>);

impl std::fmt::Debug for ExnRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ExnRef({:p})", Arc::as_ptr(&self.0))
    }
}

impl PartialEq for ExnRef {
    fn eq(&self, other: &ExnRef) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl ExnRef {
    /// The exception's tag.
    pub fn tag(&self) -> &Tag {
        &self.0.tag
    }

    /// The exception's payload values.
    pub fn values(&self) -> Vec<Val> {
        payload(&self.0)
    }

    /// The raw `exnref` compiled code uses.
    pub(crate) fn raw(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }

    /// The raw `exnref`, for storing into Wasm state (a global, table or argument) that no
    /// collector root covers for sure: the object is kept alive for the rest of the process.
    pub(crate) fn raw_pinned(&self) -> usize {
        PINNED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(self.0.clone());
        self.raw()
    }

    /// Rebuilds a host handle from a raw non-null `exnref`.
    ///
    /// # Safety
    /// `raw` must be an `exnref` produced by `exn_new` that is still alive: reachable from the
    /// running Wasm code or Wasm state, or pinned.
    pub(crate) unsafe fn from_raw(raw: usize) -> Option<ExnRef> {
        if raw == 0 {
            return None;
        }
        let p = raw as *const VMExn;
        // SAFETY: `p` came from `Arc::as_ptr` and an arena still owns one count (contract).
        unsafe {
            Arc::increment_strong_count(p);
            Some(ExnRef(Arc::from_raw(p)))
        }
    }
}

fn payload(e: &VMExn) -> Vec<Val> {
    e.tag
        .ty()
        .params
        .iter()
        .zip(e.storage.iter())
        // SAFETY: payload slots of reference type hold values compiled code produced.
        .map(|(&t, &raw)| unsafe { Val::from_raw(raw, t) })
        .collect()
}

/// An exception no Wasm handler caught, as reported with a [`TrapKind::UncaughtException`].
#[derive(Clone, Debug)]
pub struct Exception {
    /// The exception object (its tag and payload).
    pub exn: ExnRef,
}

impl PartialEq for Exception {
    fn eq(&self, other: &Exception) -> bool {
        self.exn == other.exn
    }
}
impl Eq for Exception {}

/// Builtin `exn_new`: allocates an exception of tag `tag` (an index into the calling
/// instance's tags) with the payload at `values`, in this thread's arena.
///
/// # Safety
/// `vmctx` is the caller's live vmctx, `tag` a valid tag index, and `values` points to one
/// initialised slot per parameter of the tag.
pub(crate) unsafe extern "C" fn exn_new(vmctx: *mut u8, tag: i32, values: i64) -> i64 {
    // SAFETY: compiled code passes its own vmctx (contract).
    let inst = unsafe { &**(vmctx.add(VMCTX_INSTANCE as usize) as *const *const InstanceInner) };
    let tag = inst.tags[tag as usize].clone();
    let n = tag.ty().params.len();
    let storage: Box<[ValRaw]> = if n == 0 {
        Box::new([])
    } else {
        // SAFETY: `values` points to `n` 16-aligned slots (contract).
        unsafe { std::slice::from_raw_parts(values as usize as *const ValRaw, n) }.into()
    };
    let e = Arc::new(VMExn {
        tag_identity: tag.identity(),
        values: storage.as_ptr(),
        tag,
        storage,
    });
    let raw = Arc::as_ptr(&e) as usize as i64;
    ARENA.with(|a| {
        let mut a = a.borrow_mut();
        if a.objects.len() >= a.next_collection {
            a.collect();
        }
        a.objects.insert(raw as usize, e);
    });
    raw
}

/// Objects the host stored into Wasm state, or left behind by threads that exited.
static PINNED: Mutex<Vec<Arc<VMExn>>> = Mutex::new(Vec::new());

/// Instances whose globals or tables can hold `exnref`s: collection roots.
static HOLDERS: Mutex<Vec<Weak<InstanceInner>>> = Mutex::new(Vec::new());

/// Registers an instance with `exnref` globals or tables as a source of roots.
pub(crate) fn register_holder(inst: &Arc<InstanceInner>) {
    let mut h = HOLDERS.lock().unwrap_or_else(|e| e.into_inner());
    h.retain(|w| w.strong_count() > 0);
    h.push(Arc::downgrade(inst));
}

/// The exception objects thrown on one thread.
struct Arena {
    objects: HashMap<usize, Arc<VMExn>>,
    /// Collect when `objects` reaches this size.
    next_collection: usize,
}

const MIN_COLLECTION: usize = 1024;

thread_local! {
    static ARENA: RefCell<Arena> = RefCell::new(Arena {
        objects: HashMap::new(),
        next_collection: MIN_COLLECTION,
    });
}

impl Drop for Arena {
    fn drop(&mut self) {
        // Another thread may still reach these through a global or table.
        PINNED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(self.objects.drain().map(|(_, e)| e));
    }
}

impl Arena {
    /// Frees the objects no root reaches (see the module docs).
    fn collect(&mut self) {
        let mut marked = HashSet::new();
        let mut work = Vec::new();
        let mut visit = |w: usize| mark(&self.objects, &mut marked, &mut work, w);
        // SAFETY: exn_new runs on a thread executing Wasm, whose stack bounds are recorded.
        if !unsafe { crate::traps::stackscan::for_each_root(&mut visit) } {
            // Without the stack there are no safe conclusions: keep everything.
            self.next_collection = 2 * self.objects.len().max(MIN_COLLECTION);
            return;
        }
        let holders: Vec<Arc<InstanceInner>> = HOLDERS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        for h in &holders {
            h.for_each_exnref(&mut visit);
        }
        while let Some(p) = work.pop() {
            let e = &self.objects[&p];
            for (&t, &raw) in e.tag.ty().params.iter().zip(e.storage.iter()) {
                if t == crate::layout::ValType::ExnRef {
                    mark(&self.objects, &mut marked, &mut work, raw as usize);
                }
            }
        }
        self.objects.retain(|k, _| marked.contains(k));
        self.next_collection = (2 * self.objects.len()).max(MIN_COLLECTION);
    }
}

/// Marks `w` reachable if it is one of `objects` not yet marked, queueing it to trace its
/// fields.
fn mark(
    objects: &HashMap<usize, Arc<VMExn>>,
    marked: &mut HashSet<usize>,
    work: &mut Vec<usize>,
    w: usize,
) {
    if objects.contains_key(&w) && marked.insert(w) {
        work.push(w);
    }
}

/// Number of exception objects in this thread's arena (for tests and diagnostics).
pub fn live_objects() -> usize {
    ARENA.with(|a| a.borrow().objects.len())
}

/// Builtin `exn_throw`: resumes at the nearest handler for `exn` in the callers of the Wasm
/// frame `fp`, or raises an uncaught-exception trap at the innermost entry.
///
/// # Safety
/// Called by compiled code only: `exn` is a live non-null `exnref`, `fp` the frame pointer of
/// the calling Wasm function, and every frame between here and the innermost entry is a Wasm
/// or trampoline frame that owns nothing.
pub(crate) unsafe extern "C" fn exn_throw(_vmctx: *mut u8, exn: i64, fp: i64) -> i32 {
    let raw = exn as usize;
    // SAFETY: `raw` is a live exception object (contract).
    let identity = unsafe { (*(raw as *const VMExn)).tag_identity };
    // SAFETY: `fp` is the calling Wasm function's frame (contract).
    match unsafe { crate::traps::unwind::find_handler(identity, fp as usize) } {
        // SAFETY: the handler was found on this thread's stack above this frame, within the
        // current entry; this frame and the ones skipped own nothing.
        Some(h) => unsafe { crate::traps::unwind::resume(h, raw) },
        None => {
            // SAFETY: as above, the object is alive while its instance runs.
            let exn = unsafe { ExnRef::from_raw(raw) }.expect("exn_throw of null");
            let trap = Trap {
                exception: Some(Exception { exn }),
                ..Trap::new(TrapKind::UncaughtException)
            };
            crate::traps::raise_trap(trap)
        }
    }
}
