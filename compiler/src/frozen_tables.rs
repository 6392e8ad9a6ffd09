//! Frozen tables: funcref tables whose contents are known when the module is compiled.
//!
//! A table that is defined here, not exported, never written by any instruction (`table.set`,
//! `table.fill`, `table.grow`, `table.init`, `table.copy` into it) and filled only by active
//! element segments at constant offsets naming functions defined in this module holds the same
//! functions in every instance for its whole life. `call_indirect` through it needs neither the
//! table nor the callee's `VMFuncRef`: the object carries a dispatch array of
//! `{code address, type class}` per slot, and the callee's instance context is the caller's.
//! The runtime still fills the table as usual (for `table.get` and friends); both agree because
//! nothing can change either.

use crate::module::ModuleEnv;
use wasmaot_runtime::layout::{ConstOp, ExportKind, ValType};
use wasmparser::Operator;

/// Bytes per dispatch-array entry: the code address (8 bytes), the type class (4), padding.
pub const ENTRY_SIZE: u32 = 16;
/// Offset of the type class in an entry.
pub const ENTRY_CLASS: i32 = 8;
/// Largest table frozen (entries); bigger ones keep the generic `call_indirect`.
const MAX_SLOTS: u64 = 1 << 18;

/// What the compiler knows about one frozen table.
#[derive(Clone, Debug)]
pub struct FrozenTable {
    /// Which dispatch array (in declaration order) describes this table.
    pub array: u32,
    /// The function in each slot (Wasm function index), `None` for null.
    pub slots: Vec<Option<u32>>,
    /// The type class shared by every non-null slot, if they share one.
    pub single_class: Option<u32>,
}

/// The frozen tables of a module and the type classes their checks compare.
#[derive(Clone, Debug, Default)]
pub struct FrozenTables {
    /// Per table index, its frozen contents when it qualifies.
    pub tables: Vec<Option<FrozenTable>>,
    /// Per type index, its class: types with equal parameters and results share one
    /// (numbered from 1; 0 stands for a null slot).
    pub type_class: Vec<u32>,
}

impl FrozenTables {
    /// Finds the frozen tables of a parsed module, scanning the bodies for table writes on
    /// `threads` threads.
    pub fn analyse(env: &ModuleEnv<'_>, threads: usize) -> Self {
        let info = &env.info;
        let mut classes = std::collections::HashMap::new();
        let type_class: Vec<u32> = env
            .types
            .iter()
            .map(|t| {
                let next = classes.len() as u32 + 1;
                *classes.entry(t).or_insert(next)
            })
            .collect();
        let nimp_tables = info.num_imported_tables as usize;
        let nimp_funcs = info.num_imported_funcs;
        let mut slots: Vec<Option<Vec<Option<u32>>>> = info
            .tables
            .iter()
            .enumerate()
            .map(|(t, ty)| {
                (t >= nimp_tables && ty.element == ValType::FuncRef && ty.initial <= MAX_SLOTS)
                    .then(|| vec![None; ty.initial as usize])
            })
            .collect();
        for e in &info.exports {
            if let ExportKind::Table(t) = e.kind {
                slots[t as usize] = None;
            }
        }
        for (t, init) in &info.table_inits {
            if !matches!(init.as_slice(), [ConstOp::RefNull(_)]) {
                slots[*t as usize] = None;
            }
        }
        for seg in &info.elems {
            let Some((t, offset)) = &seg.active else {
                continue;
            };
            let Some(table) = slots[*t as usize].as_mut() else {
                continue;
            };
            let start = match offset.as_slice() {
                [ConstOp::I32(v)] => Some(u64::from(*v as u32)),
                [ConstOp::I64(v)] => Some(*v as u64),
                _ => None,
            };
            let items: Option<Vec<Option<u32>>> = seg
                .items
                .iter()
                .map(|item| match item.as_slice() {
                    [ConstOp::RefFunc(f)] if *f >= nimp_funcs => Some(Some(*f)),
                    [ConstOp::RefNull(_)] => Some(None),
                    _ => None,
                })
                .collect();
            let fits = start.filter(|&s| {
                s.checked_add(seg.items.len() as u64)
                    .is_some_and(|end| end <= table.len() as u64)
            });
            match (fits, items) {
                (Some(s), Some(items)) => {
                    table[s as usize..s as usize + items.len()].copy_from_slice(&items);
                }
                // A segment that traps at instantiation or names an import: not frozen.
                _ => slots[*t as usize] = None,
            }
        }
        if slots.iter().any(Option::is_some) {
            let candidates: Vec<bool> = slots.iter().map(Option::is_some).collect();
            for (t, w) in written_tables(env, &candidates, threads)
                .into_iter()
                .enumerate()
            {
                if w {
                    slots[t] = None;
                }
            }
        }
        let mut next_array = 0;
        let tables = slots
            .into_iter()
            .map(|s| {
                let slots = s?;
                let mut classes = slots
                    .iter()
                    .flatten()
                    .map(|&f| type_class[info.funcs[f as usize] as usize]);
                let first = classes.next();
                let single_class = match first {
                    Some(c) if classes.all(|d| d == c) => Some(c),
                    _ => None,
                };
                next_array += 1;
                Some(FrozenTable {
                    array: next_array - 1,
                    slots,
                    single_class,
                })
            })
            .collect();
        FrozenTables { tables, type_class }
    }

    /// The frozen contents of table `t`, if it is frozen.
    pub fn table(&self, t: u32) -> Option<&FrozenTable> {
        self.tables.get(t as usize)?.as_ref()
    }
}

/// Which of the `candidates` some instruction writes, grows or initialises (all of them if a
/// body cannot be read). The bodies are split into `threads` contiguous runs.
fn written_tables(env: &ModuleEnv<'_>, candidates: &[bool], threads: usize) -> Vec<bool> {
    let chunk = env.bodies.len().div_ceil(threads.max(1)).max(1);
    let scan = |bodies: &[wasmparser::FunctionBody<'_>]| {
        let mut written: Vec<bool> = candidates.iter().map(|c| !c).collect();
        for body in bodies {
            let Ok(mut ops) = body.get_operators_reader() else {
                return vec![true; candidates.len()];
            };
            while !ops.eof() {
                let t = match ops.read() {
                    Ok(
                        Operator::TableSet { table }
                        | Operator::TableFill { table }
                        | Operator::TableGrow { table }
                        | Operator::TableInit { table, .. }
                        | Operator::TableCopy {
                            dst_table: table, ..
                        },
                    ) => table,
                    Ok(_) => continue,
                    // Validated modules read cleanly; be conservative anyway.
                    Err(_) => return vec![true; candidates.len()],
                };
                written[t as usize] = true;
                if written.iter().all(|&w| w) {
                    return written;
                }
            }
        }
        written
    };
    let parts: Vec<Vec<bool>> = if threads <= 1 || env.bodies.len() <= chunk {
        vec![scan(&env.bodies)]
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = env
                .bodies
                .chunks(chunk)
                .map(|c| s.spawn(move || scan(c)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("the scan does not panic"))
                .collect()
        })
    };
    (0..candidates.len())
        .map(|t| candidates[t] && parts.iter().any(|p| p[t]))
        .collect()
}
