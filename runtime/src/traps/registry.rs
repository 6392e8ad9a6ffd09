//! Process-wide registry of loaded code ranges, used to map a program counter to its Wasm
//! function and trap kind (also from inside the signal handler, without allocating).

use crate::layout::{HandlerSite, ModuleInfo, TrapKind, VMOffsets};
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock, RwLock, RwLockReadGuard};

/// One defined function's code range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuncRange {
    /// Address of the body's first byte.
    pub start: usize,
    /// One past the body's last byte.
    pub end: usize,
    /// Defined-function index (into `info.func_names` / `info.func_traps`).
    pub def_index: u32,
}

/// What the code map knows about one program counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PcInfo {
    /// Defined-function index whose body contains the pc, if any.
    pub func: Option<u32>,
    /// Trap kind when the pc is a registered trap site.
    pub trap: Option<TrapKind>,
}

/// Code range of one module with its functions sorted by address.
#[derive(Debug)]
pub struct CodeMap {
    /// First byte of the module's code.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    funcs: Vec<FuncRange>,
    info: Arc<ModuleInfo>,
    offsets: VMOffsets,
}

impl CodeMap {
    /// Builds a map from the module's code range and the body address of each defined function.
    pub fn new(start: usize, end: usize, bodies: &[usize], info: Arc<ModuleInfo>) -> CodeMap {
        let mut funcs: Vec<FuncRange> = bodies
            .iter()
            .enumerate()
            .map(|(i, &b)| FuncRange {
                start: b,
                end: b + info.func_sizes.get(i).copied().unwrap_or(0) as usize,
                def_index: i as u32,
            })
            .filter(|f| f.start != 0)
            .collect();
        funcs.sort_by_key(|f| f.start);
        CodeMap {
            start,
            end,
            funcs,
            offsets: VMOffsets::new(info.counts),
            info,
        }
    }

    /// Whether `pc` is inside this module's code.
    pub fn contains(&self, pc: usize) -> bool {
        self.start <= pc && pc < self.end
    }

    /// The function body containing `pc`.
    fn func_at(&self, pc: usize) -> Option<&FuncRange> {
        let i = self.funcs.partition_point(|f| f.start <= pc);
        let f = &self.funcs[i.checked_sub(1)?];
        (pc < f.end).then_some(f)
    }

    /// What the unwinder needs to know about return address `pc`.
    fn frame_info(&self, pc: usize) -> FrameInfo<'_> {
        let Some(f) = self.func_at(pc) else {
            return FrameInfo::NotWasm;
        };
        let off = (pc - f.start) as u32;
        let sites = self
            .info
            .func_handlers
            .get(f.def_index as usize)
            .map_or(&[][..], |v| &v[..]);
        FrameInfo::Wasm {
            body: f.start,
            site: sites
                .binary_search_by_key(&off, |s| s.ret_offset)
                .ok()
                .map(|j| &sites[j]),
            offsets: self.offsets,
        }
    }

    /// Finds the function containing `pc` and the trap site at `pc` (no allocation).
    pub fn lookup(&self, pc: usize) -> PcInfo {
        let i = self.funcs.partition_point(|f| f.start <= pc);
        let Some(f) = i.checked_sub(1).map(|i| &self.funcs[i]) else {
            return PcInfo {
                func: None,
                trap: None,
            };
        };
        if pc >= f.end {
            return PcInfo {
                func: None,
                trap: None,
            };
        }
        let off = (pc - f.start) as u32;
        let traps = self
            .info
            .func_traps
            .get(f.def_index as usize)
            .map_or(&[][..], |v| &v[..]);
        let trap = traps
            .binary_search_by_key(&off, |t| t.offset)
            .ok()
            .map(|j| traps[j].kind);
        PcInfo {
            func: Some(f.def_index),
            trap,
        }
    }

    /// Name of defined function `def_index`.
    pub fn func_name(&self, def_index: u32) -> Option<&str> {
        self.info
            .func_names
            .get(def_index as usize)
            .map(|s| s.as_str())
    }
}

/// What a return address says about the frame that will be returned to.
pub(crate) enum FrameInfo<'a> {
    /// Not inside a Wasm function body: the frame belongs to the host or a trampoline.
    NotWasm,
    /// Inside the Wasm function body starting at `body`.
    Wasm {
        /// Address of the body's first byte.
        body: usize,
        /// The call's handlers, when the call is inside a `try_table`.
        site: Option<&'a HandlerSite>,
        /// Instance-context layout of the body's module.
        offsets: VMOffsets,
    },
}

/// A read lock on the registry for a stack walk.
pub(crate) struct Frames(RwLockReadGuard<'static, Map>);

impl Frames {
    /// Looks up a return address.
    pub(crate) fn lookup(&self, pc: usize) -> FrameInfo<'_> {
        find(&self.0, pc).map_or(FrameInfo::NotWasm, |m| m.frame_info(pc))
    }
}

/// Locks the registry for a stack walk (normal context only).
pub(crate) fn frames() -> Frames {
    Frames(registry().read().unwrap_or_else(|e| e.into_inner()))
}

type Map = BTreeMap<usize, Vec<Arc<CodeMap>>>;

fn registry() -> &'static RwLock<Map> {
    static REG: OnceLock<RwLock<Map>> = OnceLock::new();
    REG.get_or_init(|| RwLock::new(BTreeMap::new()))
}

/// Keeps a code map registered; unregisters it when dropped.
#[derive(Debug)]
pub struct Registration(Arc<CodeMap>);

/// Registers a module's code so faults inside it are recognised.
pub fn register(map: Arc<CodeMap>) -> Registration {
    // Make sure the map is initialised before any signal handler could look at it.
    registry()
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .entry(map.start)
        .or_default()
        .push(map.clone());
    Registration(map)
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut reg = registry().write().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = reg.get_mut(&self.0.start) {
            if let Some(i) = v.iter().position(|m| Arc::ptr_eq(m, &self.0)) {
                v.swap_remove(i);
            }
            if v.is_empty() {
                reg.remove(&self.0.start);
            }
        }
    }
}

fn find(map: &Map, pc: usize) -> Option<&Arc<CodeMap>> {
    let (_, v) = map.range(..=pc).next_back()?;
    v.iter().find(|m| m.contains(pc))
}

/// Looks `pc` up from a signal handler: `None` when the pc is in no registered module (or the
/// registry is being modified by this very thread). Never blocks indefinitely, never allocates.
pub fn lookup_in_handler(pc: usize) -> Option<PcInfo> {
    // Initialising the lock (if it ever happened here) does not allocate: `BTreeMap::new`
    // is allocation-free. A writer on another thread is waited for, briefly.
    let lock = registry();
    for _ in 0..1_000_000 {
        if let Ok(map) = lock.try_read() {
            return find(&map, pc).map(|m| m.lookup(pc));
        }
        std::hint::spin_loop();
    }
    None
}

/// Name of the Wasm function containing `pc`, if any (normal context only).
pub fn func_name_at(pc: usize) -> Option<String> {
    let map = registry().read().unwrap_or_else(|e| e.into_inner());
    let m = find(&map, pc)?;
    let f = m.lookup(pc).func?;
    m.func_name(f).map(str::to_owned)
}

/// Whether `pc` lies in any registered module's code.
pub fn is_wasm_pc(pc: usize) -> bool {
    let map = registry().read().unwrap_or_else(|e| e.into_inner());
    find(&map, pc).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{BoundsChecks, TrapSite, VMCounts};

    fn info() -> Arc<ModuleInfo> {
        Arc::new(ModuleInfo {
            name: "m".into(),
            types: vec![],
            imports: vec![],
            exports: vec![],
            funcs: vec![],
            num_imported_funcs: 0,
            tables: vec![],
            num_imported_tables: 0,
            memories: vec![],
            num_imported_memories: 0,
            globals: vec![],
            num_imported_globals: 0,
            global_inits: vec![],
            table_inits: vec![],
            elems: vec![],
            datas: vec![],
            start: None,
            escaping: vec![],
            func_names: vec!["a".into(), "b".into()],
            func_sizes: vec![16, 32],
            func_handlers: vec![],
            tags: vec![],
            num_imported_tags: 0,
            func_traps: vec![
                vec![TrapSite {
                    offset: 3,
                    kind: TrapKind::IntegerDivisionByZero,
                }],
                vec![
                    TrapSite {
                        offset: 0,
                        kind: TrapKind::Unreachable,
                    },
                    TrapSite {
                        offset: 31,
                        kind: TrapKind::MemoryOutOfBounds,
                    },
                ],
            ],
            bounds_checks: BoundsChecks::Guard,
            counts: VMCounts::default(),
            target_arch: String::new(),
            cpu_features: Vec::new(),
        })
    }

    #[test]
    fn lookup_finds_function_and_trap() {
        // Bodies out of order: b at 0x1000, a at 0x1040.
        let m = CodeMap::new(0x1000, 0x1100, &[0x1040, 0x1000], info());
        assert_eq!(
            m.lookup(0x1043),
            PcInfo {
                func: Some(0),
                trap: Some(TrapKind::IntegerDivisionByZero)
            }
        );
        assert_eq!(m.lookup(0x1044).trap, None);
        assert_eq!(m.lookup(0x1044).func, Some(0));
        assert_eq!(m.lookup(0x1000).trap, Some(TrapKind::Unreachable));
        assert_eq!(m.lookup(0x101f).trap, Some(TrapKind::MemoryOutOfBounds));
        // Between b's end (0x1020) and a's start: no function.
        assert_eq!(m.lookup(0x1030).func, None);
        assert_eq!(m.lookup(0x1050).func, None);
        assert_eq!(m.func_name(1), Some("b"));
    }

    #[test]
    fn registry_register_and_unregister() {
        let m = Arc::new(CodeMap::new(
            0x7000_0000,
            0x7000_0100,
            &[0x7000_0000],
            info(),
        ));
        let r = register(m);
        assert!(is_wasm_pc(0x7000_0050));
        assert!(!is_wasm_pc(0x7000_0100));
        assert_eq!(func_name_at(0x7000_0004).as_deref(), Some("a"));
        assert_eq!(
            lookup_in_handler(0x7000_0003).and_then(|p| p.trap),
            Some(TrapKind::IntegerDivisionByZero)
        );
        drop(r);
        assert!(!is_wasm_pc(0x7000_0050));
        assert_eq!(lookup_in_handler(0x7000_0003), None);
    }
}
