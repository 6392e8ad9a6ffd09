//! The parsed module environment: everything the translator needs to know about a module
//! besides the function bodies themselves, plus the `ModuleInfo` the runtime will read.

use crate::error::{unsupported, CompileError, Result};
use crate::frozen_tables::FrozenTables;
use std::collections::HashMap;
use wasmaot_runtime::layout::{
    self, BoundsChecks, ConstOp, DataSegment, ElemSegment, Export, ExportKind, ExternType,
    GlobalType, Import, MemoryType, ModuleInfo, TableType, VMCounts, VMOffsets,
};
use wasmparser::{
    ConstExpr, DataKind, ElementItems, ElementKind, ExternalKind, FunctionBody, KnownCustom, Name,
    Operator, Parser, Payload, TableInit, TypeRef,
};

/// A parsed, validated module, ready for translation.
pub struct ModuleEnv<'a> {
    /// What the runtime reads (names, sizes and traps are filled in after compilation).
    pub info: ModuleInfo,
    /// The wasmparser view of each type, for block types and signatures.
    pub types: Vec<wasmparser::FuncType>,
    /// Bodies of the defined functions.
    pub bodies: Vec<FunctionBody<'a>>,
    /// Escaping slot of each function (`None` for functions that never escape).
    pub escaping_slot: Vec<Option<u32>>,
    /// Instance context layout.
    pub offsets: VMOffsets,
    /// Tables whose contents are known at compile time (see `frozen_tables.rs`); none until
    /// [`FrozenTables::analyse`] fills it in.
    pub frozen: FrozenTables,
}

/// Converts a wasmparser value type into the runtime's.
pub fn val_type(t: wasmparser::ValType) -> Result<layout::ValType> {
    use wasmparser::ValType as V;
    Ok(match t {
        V::I32 => layout::ValType::I32,
        V::I64 => layout::ValType::I64,
        V::F32 => layout::ValType::F32,
        V::F64 => layout::ValType::F64,
        V::V128 => layout::ValType::V128,
        V::Ref(r) => ref_type(r)?,
    })
}

/// Converts a reference type; only nullable `funcref`, `externref` and `exnref` are supported.
pub fn ref_type(r: wasmparser::RefType) -> Result<layout::ValType> {
    if r == wasmparser::RefType::FUNCREF {
        Ok(layout::ValType::FuncRef)
    } else if r == wasmparser::RefType::EXTERNREF {
        Ok(layout::ValType::ExternRef)
    } else if r == wasmparser::RefType::EXNREF {
        Ok(layout::ValType::ExnRef)
    } else {
        unsupported(format!(
            "reference type {r:?} (function-references/gc proposals)"
        ))
    }
}

fn memory_type(m: wasmparser::MemoryType) -> Result<MemoryType> {
    if m.page_size_log2.is_some() {
        return unsupported("custom-page-sizes proposal");
    }
    Ok(MemoryType {
        initial: m.initial,
        maximum: m.maximum,
        memory64: m.memory64,
        shared: m.shared,
    })
}

fn table_type(t: wasmparser::TableType) -> Result<TableType> {
    if t.shared {
        return unsupported("shared tables (shared-everything-threads proposal)");
    }
    Ok(TableType {
        element: ref_type(t.element_type)?,
        initial: t.initial,
        maximum: t.maximum,
        table64: t.table64,
    })
}

fn global_type(g: wasmparser::GlobalType) -> Result<GlobalType> {
    if g.shared {
        return unsupported("shared globals (shared-everything-threads proposal)");
    }
    Ok(GlobalType {
        content: val_type(g.content_type)?,
        mutable: g.mutable,
    })
}

/// Converts a constant expression into the runtime's stack program.
pub fn const_expr(e: &ConstExpr<'_>) -> Result<Vec<ConstOp>> {
    let mut out = Vec::new();
    let mut reader = e.get_operators_reader();
    loop {
        let op = reader.read()?;
        out.push(match op {
            Operator::End => break,
            Operator::I32Const { value } => ConstOp::I32(value),
            Operator::I64Const { value } => ConstOp::I64(value),
            Operator::F32Const { value } => ConstOp::F32(value.bits()),
            Operator::F64Const { value } => ConstOp::F64(value.bits()),
            Operator::V128Const { value } => ConstOp::V128(u128::from_le_bytes(*value.bytes())),
            Operator::GlobalGet { global_index } => ConstOp::GlobalGet(global_index),
            Operator::RefNull { hty } => ConstOp::RefNull(ref_type(
                wasmparser::RefType::new(true, hty)
                    .ok_or_else(|| CompileError::Unsupported("reference type".into()))?,
            )?),
            Operator::RefFunc { function_index } => ConstOp::RefFunc(function_index),
            Operator::I32Add => ConstOp::I32Add,
            Operator::I32Sub => ConstOp::I32Sub,
            Operator::I32Mul => ConstOp::I32Mul,
            Operator::I64Add => ConstOp::I64Add,
            Operator::I64Sub => ConstOp::I64Sub,
            Operator::I64Mul => ConstOp::I64Mul,
            other => return unsupported(format!("constant expression operator {other:?}")),
        });
    }
    Ok(out)
}

impl<'a> ModuleEnv<'a> {
    /// Parses an already validated module.
    pub fn parse(wasm: &'a [u8], name: &str, bounds_checks: BoundsChecks) -> Result<Self> {
        let mut info = ModuleInfo {
            name: name.to_string(),
            types: Vec::new(),
            imports: Vec::new(),
            exports: Vec::new(),
            funcs: Vec::new(),
            num_imported_funcs: 0,
            tables: Vec::new(),
            num_imported_tables: 0,
            memories: Vec::new(),
            num_imported_memories: 0,
            globals: Vec::new(),
            num_imported_globals: 0,
            global_inits: Vec::new(),
            table_inits: Vec::new(),
            elems: Vec::new(),
            datas: Vec::new(),
            start: None,
            escaping: Vec::new(),
            func_names: Vec::new(),
            func_sizes: Vec::new(),
            func_traps: Vec::new(),
            func_handlers: Vec::new(),
            tags: Vec::new(),
            num_imported_tags: 0,
            bounds_checks,
            counts: VMCounts::default(),
            target_arch: String::new(),
            cpu_features: Vec::new(),
        };
        let mut types = Vec::new();
        let mut bodies = Vec::new();
        let mut names: HashMap<u32, String> = HashMap::new();
        let mut refs: Vec<u32> = Vec::new();

        for payload in Parser::new(0).parse_all(wasm) {
            match payload? {
                Payload::TypeSection(r) => {
                    for t in r.into_iter_err_on_gc_types() {
                        let t = t.map_err(|e| {
                            CompileError::Unsupported(format!("type section: {}", e.message()))
                        })?;
                        info.types.push(layout::FuncType {
                            params: t
                                .params()
                                .iter()
                                .map(|&v| val_type(v))
                                .collect::<Result<_>>()?,
                            results: t
                                .results()
                                .iter()
                                .map(|&v| val_type(v))
                                .collect::<Result<_>>()?,
                        });
                        types.push(t);
                    }
                }
                Payload::ImportSection(r) => {
                    for imp in r.into_imports() {
                        let imp = imp?;
                        let ty = match imp.ty {
                            TypeRef::Func(t) | TypeRef::FuncExact(t) => {
                                info.funcs.push(t);
                                info.num_imported_funcs += 1;
                                ExternType::Func(t)
                            }
                            TypeRef::Table(t) => {
                                let t = table_type(t)?;
                                info.tables.push(t);
                                info.num_imported_tables += 1;
                                ExternType::Table(t)
                            }
                            TypeRef::Memory(m) => {
                                let m = memory_type(m)?;
                                info.memories.push(m);
                                info.num_imported_memories += 1;
                                ExternType::Memory(m)
                            }
                            TypeRef::Global(g) => {
                                let g = global_type(g)?;
                                info.globals.push(g);
                                info.num_imported_globals += 1;
                                ExternType::Global(g)
                            }
                            TypeRef::Tag(t) => {
                                info.tags.push(t.func_type_idx);
                                info.num_imported_tags += 1;
                                ExternType::Tag(t.func_type_idx)
                            }
                        };
                        info.imports.push(Import {
                            module: imp.module.to_string(),
                            name: imp.name.to_string(),
                            ty,
                        });
                    }
                }
                Payload::FunctionSection(r) => {
                    for t in r {
                        info.funcs.push(t?);
                    }
                }
                Payload::TableSection(r) => {
                    for t in r {
                        let t = t?;
                        let idx = info.tables.len() as u32;
                        info.tables.push(table_type(t.ty)?);
                        if let TableInit::Expr(e) = t.init {
                            let ops = const_expr(&e)?;
                            collect_refs(&ops, &mut refs);
                            info.table_inits.push((idx, ops));
                        }
                    }
                }
                Payload::MemorySection(r) => {
                    for m in r {
                        info.memories.push(memory_type(m?)?);
                    }
                }
                Payload::TagSection(r) => {
                    for t in r {
                        info.tags.push(t?.func_type_idx);
                    }
                }
                Payload::GlobalSection(r) => {
                    for g in r {
                        let g = g?;
                        info.globals.push(global_type(g.ty)?);
                        let ops = const_expr(&g.init_expr)?;
                        collect_refs(&ops, &mut refs);
                        info.global_inits.push(ops);
                    }
                }
                Payload::ExportSection(r) => {
                    for e in r {
                        let e = e?;
                        let kind = match e.kind {
                            ExternalKind::Func | ExternalKind::FuncExact => {
                                refs.push(e.index);
                                ExportKind::Func(e.index)
                            }
                            ExternalKind::Table => ExportKind::Table(e.index),
                            ExternalKind::Memory => ExportKind::Memory(e.index),
                            ExternalKind::Global => ExportKind::Global(e.index),
                            ExternalKind::Tag => ExportKind::Tag(e.index),
                        };
                        info.exports.push(Export {
                            name: e.name.to_string(),
                            kind,
                        });
                    }
                }
                Payload::StartSection { func, .. } => {
                    // The runtime calls the start function through its array trampoline.
                    refs.push(func);
                    info.start = Some(func);
                }
                Payload::ElementSection(r) => {
                    for el in r {
                        let el = el?;
                        let (element, items) = match el.items {
                            ElementItems::Functions(fs) => {
                                let mut items = Vec::new();
                                for f in fs {
                                    let f = f?;
                                    refs.push(f);
                                    items.push(vec![ConstOp::RefFunc(f)]);
                                }
                                (layout::ValType::FuncRef, items)
                            }
                            ElementItems::Expressions(rt, es) => {
                                let mut items = Vec::new();
                                for e in es {
                                    let ops = const_expr(&e?)?;
                                    collect_refs(&ops, &mut refs);
                                    items.push(ops);
                                }
                                (ref_type(rt)?, items)
                            }
                        };
                        let (active, declared) = match el.kind {
                            ElementKind::Passive => (None, false),
                            ElementKind::Declared => (None, true),
                            ElementKind::Active {
                                table_index,
                                offset_expr,
                            } => (
                                Some((table_index.unwrap_or(0), const_expr(&offset_expr)?)),
                                false,
                            ),
                        };
                        info.elems.push(ElemSegment {
                            active,
                            declared,
                            element,
                            items,
                        });
                    }
                }
                Payload::DataSection(r) => {
                    for d in r {
                        let d = d?;
                        let active = match d.kind {
                            DataKind::Passive => None,
                            DataKind::Active {
                                memory_index,
                                offset_expr,
                            } => Some((memory_index, const_expr(&offset_expr)?)),
                        };
                        info.datas.push(DataSegment {
                            active,
                            bytes: d.data.to_vec(),
                        });
                    }
                }
                Payload::CodeSectionEntry(body) => bodies.push(body),
                Payload::CustomSection(c) => {
                    if let KnownCustom::Name(reader) = c.as_known() {
                        // A malformed name section is ignored, as the spec asks.
                        for n in reader.into_iter().flatten() {
                            if let Name::Function(map) = n {
                                for naming in map.into_iter().flatten() {
                                    names.insert(naming.index, naming.name.to_string());
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }

        let nfuncs = info.funcs.len();
        let nimp = info.num_imported_funcs as usize;
        let mut escaping_slot = vec![None; nfuncs];
        refs.sort_unstable();
        refs.dedup();
        for f in refs {
            let f = f as usize;
            if f >= nimp && f < nfuncs {
                escaping_slot[f] = Some(info.escaping.len() as u32);
                info.escaping.push(f as u32);
            }
        }
        info.func_names = (nimp..nfuncs)
            .map(|i| {
                names
                    .get(&(i as u32))
                    .cloned()
                    .unwrap_or_else(|| format!("f{i}"))
            })
            .collect();
        info.counts = info.layout_counts();
        let offsets = VMOffsets::new(info.counts);
        Ok(ModuleEnv {
            info,
            types,
            bodies,
            escaping_slot,
            offsets,
            frozen: FrozenTables::default(),
        })
    }

    /// Number of imported functions.
    pub fn num_imported_funcs(&self) -> u32 {
        self.info.num_imported_funcs
    }

    /// Wasm type of function `index`.
    pub fn func_wasm_type(&self, index: u32) -> &wasmparser::FuncType {
        &self.types[self.info.funcs[index as usize] as usize]
    }
}

fn collect_refs(ops: &[ConstOp], refs: &mut Vec<u32>) {
    for op in ops {
        if let ConstOp::RefFunc(f) = op {
            refs.push(*f);
        }
    }
}
