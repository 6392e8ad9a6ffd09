//! `wasmaot inspect IN`: a module's imports, exports, tables, memories and globals, in the
//! style of `wasm-objdump -x`.

use super::read_input;
use std::fmt::Write;
use std::path::PathBuf;
use wasmaot::runtime::layout::{ExportKind, ExternType, MemoryType, ModuleInfo, TableType};

/// Arguments of `inspect`.
#[derive(clap::Args)]
pub struct Args {
    /// Input module (.wasm or .wat).
    input: PathBuf,
}

fn memory(m: &MemoryType) -> String {
    let mut s = format!("pages: initial={}", m.initial);
    if let Some(max) = m.maximum {
        write!(s, " max={max}").unwrap();
    }
    if m.memory64 {
        s.push_str(" i64");
    }
    if m.shared {
        s.push_str(" shared");
    }
    s
}

fn table(t: &TableType) -> String {
    let mut s = format!(
        "type={} initial={}",
        if t.element == wasmaot::runtime::layout::ValType::FuncRef {
            "funcref"
        } else {
            "externref"
        },
        t.initial
    );
    if let Some(max) = t.maximum {
        write!(s, " max={max}").unwrap();
    }
    if t.table64 {
        s.push_str(" i64");
    }
    s
}

fn sig(info: &ModuleInfo, t: u32) -> String {
    let ft = &info.types[t as usize];
    let list = |v: &[wasmaot::runtime::layout::ValType]| {
        v.iter()
            .map(|t| format!("{t:?}").to_lowercase())
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!("({}) -> ({})", list(&ft.params), list(&ft.results))
}

/// Writes `Title[n]:` and one ` - kind[i] …` line per defined item (imports are listed in
/// the import section).
fn section<T>(
    o: &mut String,
    title: &str,
    kind: &str,
    items: &[T],
    imported: u32,
    show: impl Fn(&T) -> String,
) {
    let defined = &items[imported as usize..];
    let _ = writeln!(o, "{title}[{}]:", defined.len());
    for (k, item) in defined.iter().enumerate() {
        let _ = writeln!(o, " - {kind}[{}] {}", imported as usize + k, show(item));
    }
}

/// Renders the report for a parsed module.
pub fn report(info: &ModuleInfo) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "Type[{}]:", info.types.len());
    for i in 0..info.types.len() {
        let _ = writeln!(o, " - type[{i}] {}", sig(info, i as u32));
    }
    let _ = writeln!(o, "Import[{}]:", info.imports.len());
    let (mut f, mut t, mut m, mut g, mut tg) = (0, 0, 0, 0, 0);
    for imp in &info.imports {
        let what = match &imp.ty {
            ExternType::Func(ty) => {
                f += 1;
                format!("func[{}] sig={ty}", f - 1)
            }
            ExternType::Table(tt) => {
                t += 1;
                format!("table[{}] {}", t - 1, table(tt))
            }
            ExternType::Memory(mt) => {
                m += 1;
                format!("memory[{}] {}", m - 1, memory(mt))
            }
            ExternType::Global(gt) => {
                g += 1;
                format!(
                    "global[{}] {:?} mutable={}",
                    g - 1,
                    gt.content,
                    u8::from(gt.mutable)
                )
                .to_lowercase()
            }
            ExternType::Tag(ty) => {
                tg += 1;
                format!("tag[{}] sig={ty}", tg - 1)
            }
        };
        let _ = writeln!(o, " - {what} <- {}.{}", imp.module, imp.name);
    }
    let nimp = info.num_imported_funcs as usize;
    let _ = writeln!(o, "Function[{}]:", info.funcs.len() - nimp);
    for (k, name) in info.func_names.iter().enumerate() {
        let _ = writeln!(
            o,
            " - func[{}] sig={} <{name}>",
            nimp + k,
            info.funcs[nimp + k]
        );
    }
    section(
        &mut o,
        "Table",
        "table",
        &info.tables,
        info.num_imported_tables,
        table,
    );
    section(
        &mut o,
        "Memory",
        "memory",
        &info.memories,
        info.num_imported_memories,
        memory,
    );
    section(
        &mut o,
        "Global",
        "global",
        &info.globals,
        info.num_imported_globals,
        |g| {
            format!(
                "{} mutable={}",
                format!("{:?}", g.content).to_lowercase(),
                u8::from(g.mutable)
            )
        },
    );
    let _ = writeln!(o, "Export[{}]:", info.exports.len());
    for e in &info.exports {
        let what = match e.kind {
            ExportKind::Func(i) => format!("func[{i}]"),
            ExportKind::Table(i) => format!("table[{i}]"),
            ExportKind::Memory(i) => format!("memory[{i}]"),
            ExportKind::Global(i) => format!("global[{i}]"),
            ExportKind::Tag(i) => format!("tag[{i}]"),
        };
        let _ = writeln!(o, " - {what} -> \"{}\"", e.name);
    }
    if let Some(s) = info.start {
        let _ = writeln!(o, "Start:\n - start function: {s}");
    }
    o
}

pub fn run(a: Args) -> anyhow::Result<i32> {
    let bytes = read_input(&a.input)?;
    let err = |e: wasmaot::CompileError| anyhow::anyhow!("{}: {}", a.input.display(), e);
    let wasm = wasmaot::to_binary(&bytes).map_err(err)?;
    wasmaot::validate(&wasm, wasmparser::WasmFeatures::all()).map_err(err)?;
    let env = wasmaot::module::ModuleEnv::parse(&wasm, "module", wasmaot::BoundsChecks::Guard)
        .map_err(err)?;
    print!("{}", report(&env.info));
    Ok(0)
}
