//! In-process loader for x86-64 ELF relocatable objects produced by the compiler: maps the
//! allocatable sections (text RX, read-only data R, data RW), resolves symbols, applies
//! relocations and finds the module descriptor. No process is spawned, no file is written.

use crate::layout::DESCRIPTOR_SYMBOL_SUFFIX;
use crate::mmap::{round_up_to_page, Mmap, Prot};
use object::elf;
use object::read::elf::ElfFile64;
use object::{
    Endianness, Object, ObjectSection, ObjectSymbol, RelocationFlags, RelocationTarget,
    SectionFlags, SectionIndex, SymbolIndex, SymbolSection,
};
use std::collections::HashMap;

/// Why an object could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The bytes are not an ELF relocatable object this loader understands.
    #[error("invalid object: {0}")]
    Invalid(String),
    /// A symbol is neither defined in the object nor provided by the runtime.
    #[error("undefined symbol `{0}`")]
    UndefinedSymbol(String),
    /// A relocation type or target this loader cannot apply.
    #[error("unsupported relocation: {0}")]
    Relocation(String),
    /// No `<name>_wasmaot_module` descriptor symbol.
    #[error("no module descriptor symbol `{0}` in the object")]
    NoDescriptor(String),
    /// Mapping memory failed.
    #[error("cannot map the object: {0}")]
    Map(#[from] std::io::Error),
}

/// Sections and helper stubs of one loaded object; unmapped when dropped.
#[derive(Debug)]
pub struct LoadedCode {
    mmap: Mmap,
    /// Address of the module descriptor.
    pub descriptor: usize,
    /// The descriptor symbol's name.
    pub descriptor_name: String,
    symbols: HashMap<String, usize>,
}

impl LoadedCode {
    /// Address of a global symbol defined by the object.
    pub fn symbol(&self, name: &str) -> Option<usize> {
        self.symbols.get(name).copied()
    }

    /// The mapped range (start, length).
    pub fn range(&self) -> (usize, usize) {
        (self.mmap.as_ptr() as usize, self.mmap.len())
    }
}

extern "C" fn rt_ceil(x: f64) -> f64 {
    x.ceil()
}
extern "C" fn rt_ceilf(x: f32) -> f32 {
    x.ceil()
}
extern "C" fn rt_floor(x: f64) -> f64 {
    x.floor()
}
extern "C" fn rt_floorf(x: f32) -> f32 {
    x.floor()
}
extern "C" fn rt_trunc(x: f64) -> f64 {
    x.trunc()
}
extern "C" fn rt_truncf(x: f32) -> f32 {
    x.trunc()
}
extern "C" fn rt_nearbyint(x: f64) -> f64 {
    x.round_ties_even()
}
extern "C" fn rt_nearbyintf(x: f32) -> f32 {
    x.round_ties_even()
}
extern "C" fn rt_fma(x: f64, y: f64, z: f64) -> f64 {
    x.mul_add(y, z)
}
extern "C" fn rt_fmaf(x: f32, y: f32, z: f32) -> f32 {
    x.mul_add(y, z)
}

unsafe extern "C" {
    fn wasmaot_probestack();
}

/// Address of a symbol the runtime provides to loaded code (libcalls, C API entry points).
pub fn runtime_symbol(name: &str) -> Option<usize> {
    let a = match name {
        "memcpy" => libc::memcpy as *const () as usize,
        "memmove" => libc::memmove as *const () as usize,
        "memset" => libc::memset as *const () as usize,
        "memcmp" => libc::memcmp as *const () as usize,
        "ceil" => rt_ceil as *const () as usize,
        "ceilf" => rt_ceilf as *const () as usize,
        "floor" => rt_floor as *const () as usize,
        "floorf" => rt_floorf as *const () as usize,
        "trunc" => rt_trunc as *const () as usize,
        "truncf" => rt_truncf as *const () as usize,
        "nearbyint" => rt_nearbyint as *const () as usize,
        "nearbyintf" => rt_nearbyintf as *const () as usize,
        "fma" => rt_fma as *const () as usize,
        "fmaf" => rt_fmaf as *const () as usize,
        "__cranelift_probestack" => wasmaot_probestack as *const () as usize,
        "wasmaot_trap" => crate::capi::wasmaot_trap as *const () as usize,
        "wasmaot_invoke" => crate::capi::wasmaot_invoke as *const () as usize,
        _ => return None,
    };
    Some(a)
}

fn sec_flags<'a>(s: &impl ObjectSection<'a>) -> u64 {
    match s.flags() {
        SectionFlags::Elf { sh_flags } => sh_flags,
        _ => 0,
    }
}

/// Size of one far-call stub: `jmp *0(%rip)` followed by the 8-byte target.
const STUB_SIZE: usize = 16;

/// Loads `bytes` and returns the mapping with the descriptor of module `name` (or of the only
/// module in the object when `name` is `None`). `resolve` may supply extra undefined symbols.
pub fn load(
    bytes: &[u8],
    name: Option<&str>,
    resolve: &dyn Fn(&str) -> Option<usize>,
) -> Result<LoadedCode, LoadError> {
    let inv = |e: &dyn std::fmt::Display| LoadError::Invalid(e.to_string());
    let file = ElfFile64::<Endianness>::parse(bytes).map_err(|e| inv(&e))?;
    if file.architecture() != object::Architecture::X86_64 {
        return Err(LoadError::Invalid(format!(
            "unsupported architecture {:?}",
            file.architecture()
        )));
    }
    if file.kind() != object::ObjectKind::Relocatable {
        return Err(LoadError::Invalid("not a relocatable object".into()));
    }

    // 1. Lay the allocatable sections out in three groups: text, read-only, read-write.
    let mut placement: HashMap<SectionIndex, (usize, usize)> = HashMap::new(); // group, offset
    let mut sizes = [0usize; 3];
    for s in file.sections() {
        let f = sec_flags(&s);
        if f & u64::from(elf::SHF_ALLOC) == 0 || s.size() == 0 {
            continue;
        }
        if f & u64::from(elf::SHF_TLS) != 0 {
            return Err(LoadError::Invalid(format!(
                "thread-local section {}",
                s.name().unwrap_or("?")
            )));
        }
        let g = if f & u64::from(elf::SHF_EXECINSTR) != 0 {
            0
        } else if f & u64::from(elf::SHF_WRITE) != 0 {
            2
        } else {
            1
        };
        let align = (s.align() as usize).max(1);
        let off = sizes[g].next_multiple_of(align);
        placement.insert(s.index(), (g, off));
        sizes[g] = off + s.size() as usize;
    }

    // 2. Count external symbols (each gets a stub in text and a GOT slot in read-only data).
    let mut externals: HashMap<SymbolIndex, usize> = HashMap::new();
    let mut got_syms: HashMap<SymbolIndex, usize> = HashMap::new();
    for s in file.sections() {
        if !placement.contains_key(&s.index()) {
            continue;
        }
        for (_, r) in s.relocations() {
            if let RelocationTarget::Symbol(si) = r.target() {
                let sym = file.symbol_by_index(si).map_err(|e| inv(&e))?;
                if sym.section() == SymbolSection::Undefined && !externals.contains_key(&si) {
                    let n = externals.len();
                    externals.insert(si, n);
                }
                if let RelocationFlags::Elf { r_type } = r.flags() {
                    if matches!(
                        r_type,
                        elf::R_X86_64_GOTPCREL
                            | elf::R_X86_64_GOTPCRELX
                            | elf::R_X86_64_REX_GOTPCRELX
                    ) && !got_syms.contains_key(&si)
                    {
                        let n = got_syms.len();
                        got_syms.insert(si, n);
                    }
                }
            }
        }
    }
    let stubs_off = sizes[0].next_multiple_of(16);
    sizes[0] = stubs_off + STUB_SIZE * externals.len();
    let got_off = sizes[1].next_multiple_of(8);
    sizes[1] = got_off + 8 * got_syms.len();

    let group_start = [
        0,
        round_up_to_page(sizes[0]),
        round_up_to_page(sizes[0]) + round_up_to_page(sizes[1]),
    ];
    let total = group_start[2] + round_up_to_page(sizes[2]);
    let mmap = Mmap::reserve(total.max(1))?;
    mmap.protect(0, round_up_to_page(total.max(1)), Prot::ReadWrite)?;
    let base = mmap.as_ptr() as usize;
    let sec_addr = |idx: SectionIndex| -> Option<usize> {
        placement
            .get(&idx)
            .map(|&(g, off)| base + group_start[g] + off)
    };

    // 3. Copy section contents (NOBITS sections stay zero).
    for s in file.sections() {
        let Some(addr) = sec_addr(s.index()) else {
            continue;
        };
        if s.kind() == object::SectionKind::UninitializedData {
            continue;
        }
        let data = s.data().map_err(|e| inv(&e))?;
        // SAFETY: `addr..addr+len` was laid out inside the fresh read-write mapping above.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), addr as *mut u8, data.len()) };
    }

    // 4. Resolve symbols.
    let mut symbols = HashMap::new();
    let sym_value = |si: SymbolIndex| -> Result<usize, LoadError> {
        let sym = file.symbol_by_index(si).map_err(|e| inv(&e))?;
        match sym.section() {
            SymbolSection::Section(idx) => sec_addr(idx)
                .map(|a| a + sym.address() as usize)
                .ok_or_else(|| {
                    LoadError::Invalid(format!(
                        "symbol `{}` in a non-allocated section",
                        sym.name().unwrap_or("?")
                    ))
                }),
            SymbolSection::Absolute => Ok(sym.address() as usize),
            SymbolSection::Undefined => {
                let n = sym.name().map_err(|e| inv(&e))?;
                if let Some(a) = resolve(n).or_else(|| runtime_symbol(n)) {
                    Ok(a)
                } else if sym.is_weak() {
                    Ok(0)
                } else {
                    Err(LoadError::UndefinedSymbol(n.to_string()))
                }
            }
            other => Err(LoadError::Invalid(format!(
                "symbol `{}` has unsupported section {other:?}",
                sym.name().unwrap_or("?")
            ))),
        }
    };
    let mut ext_addr = vec![0usize; externals.len()];
    for (&si, &n) in &externals {
        ext_addr[n] = sym_value(si)?;
        let stub = base + stubs_off + STUB_SIZE * n;
        let code: [u8; 6] = [0xff, 0x25, 0, 0, 0, 0]; // jmp *0(%rip)
                                                      // SAFETY: the stub slot lies inside the text group of our writable mapping.
        unsafe {
            std::ptr::copy_nonoverlapping(code.as_ptr(), stub as *mut u8, 6);
            (stub as *mut u8)
                .add(6)
                .cast::<u64>()
                .write_unaligned(ext_addr[n] as u64);
        }
    }
    for (&si, &n) in &got_syms {
        let v = sym_value(si)?;
        // SAFETY: the GOT slot lies inside the read-only group of our writable mapping.
        unsafe { ((base + group_start[1] + got_off + 8 * n) as *mut u64).write(v as u64) };
    }
    for sym in file.symbols() {
        if sym.is_global() && !sym.is_undefined() {
            if let (Ok(n), SymbolSection::Section(_)) = (sym.name(), sym.section()) {
                symbols.insert(n.to_string(), sym_value(sym.index())?);
            }
        }
    }

    // 5. Apply relocations.
    for s in file.sections() {
        let Some(sbase) = sec_addr(s.index()) else {
            continue;
        };
        for (off, r) in s.relocations() {
            let RelocationFlags::Elf { r_type } = r.flags() else {
                return Err(LoadError::Relocation("non-ELF relocation".into()));
            };
            // Bytes the relocation writes: 8 for the 64-bit kinds, 4 for the rest.
            let width = match r_type {
                elf::R_X86_64_64 | elf::R_X86_64_PC64 => 8,
                _ => 4,
            };
            if off.checked_add(width).is_none_or(|end| end > s.size()) {
                return Err(LoadError::Relocation("relocation past section end".into()));
            }
            let p = sbase + off as usize;
            let (target, ext) = match r.target() {
                RelocationTarget::Symbol(si) => {
                    let ext = externals.get(&si).copied();
                    (sym_value(si)?, ext.map(|n| (n, si)))
                }
                RelocationTarget::Section(idx) => (
                    sec_addr(idx).ok_or_else(|| {
                        LoadError::Relocation("target section not allocated".into())
                    })?,
                    None,
                ),
                RelocationTarget::Absolute => (0, None),
                _ => return Err(LoadError::Relocation("unknown target".into())),
            };
            let a = r.addend();
            let s_plus_a = (target as i64).wrapping_add(a);
            let pcrel = |v: i64| -> Result<i32, LoadError> {
                let d = v.wrapping_sub(p as i64);
                i32::try_from(d).map_err(|_| {
                    LoadError::Relocation(format!(
                        "pc-relative target out of range (type {r_type})"
                    ))
                })
            };
            // SAFETY (for the writes below): `p` lies inside the relocated section, which is
            // inside our writable mapping; x86-64 allows unaligned stores.
            match r_type {
                elf::R_X86_64_NONE => {}
                elf::R_X86_64_64 => unsafe { (p as *mut i64).write_unaligned(s_plus_a) },
                elf::R_X86_64_PC64 => unsafe {
                    (p as *mut i64).write_unaligned(s_plus_a.wrapping_sub(p as i64))
                },
                elf::R_X86_64_PC32 => {
                    let v = pcrel(s_plus_a)?;
                    unsafe { (p as *mut i32).write_unaligned(v) }
                }
                elf::R_X86_64_PLT32 => {
                    let dest = match (pcrel(s_plus_a), ext) {
                        (Ok(v), _) => v,
                        (Err(_), Some((n, _))) => {
                            pcrel(((base + stubs_off + STUB_SIZE * n) as i64).wrapping_add(a))?
                        }
                        (Err(e), None) => return Err(e),
                    };
                    unsafe { (p as *mut i32).write_unaligned(dest) }
                }
                elf::R_X86_64_32 => {
                    let v = u32::try_from(s_plus_a).map_err(|_| {
                        LoadError::Relocation("R_X86_64_32 value does not fit".into())
                    })?;
                    unsafe { (p as *mut u32).write_unaligned(v) }
                }
                elf::R_X86_64_32S => {
                    let v = i32::try_from(s_plus_a).map_err(|_| {
                        LoadError::Relocation("R_X86_64_32S value does not fit".into())
                    })?;
                    unsafe { (p as *mut i32).write_unaligned(v) }
                }
                elf::R_X86_64_GOTPCREL | elf::R_X86_64_GOTPCRELX | elf::R_X86_64_REX_GOTPCRELX => {
                    let RelocationTarget::Symbol(si) = r.target() else {
                        return Err(LoadError::Relocation(
                            "GOT relocation without symbol".into(),
                        ));
                    };
                    let slot = base + group_start[1] + got_off + 8 * got_syms[&si];
                    let v = pcrel((slot as i64).wrapping_add(a))?;
                    unsafe { (p as *mut i32).write_unaligned(v) }
                }
                t => return Err(LoadError::Relocation(format!("type {t}"))),
            }
        }
    }

    // 6. Find the descriptor, then seal permissions.
    let descriptor_name = match name {
        Some(n) => format!("{n}{DESCRIPTOR_SYMBOL_SUFFIX}"),
        None => {
            let mut found = symbols
                .keys()
                .filter(|k| k.ends_with(DESCRIPTOR_SYMBOL_SUFFIX));
            match (found.next(), found.next()) {
                (Some(k), None) => k.clone(),
                _ => {
                    return Err(LoadError::NoDescriptor(format!(
                        "*{DESCRIPTOR_SYMBOL_SUFFIX} (none or several; pass a name)"
                    )))
                }
            }
        }
    };
    let descriptor = *symbols
        .get(&descriptor_name)
        .ok_or_else(|| LoadError::NoDescriptor(descriptor_name.clone()))?;
    mmap.protect(0, group_start[1], Prot::ReadExec)?;
    mmap.protect(group_start[1], group_start[2] - group_start[1], Prot::Read)?;
    Ok(LoadedCode {
        mmap,
        descriptor,
        descriptor_name,
        symbols,
    })
}
