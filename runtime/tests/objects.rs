//! Host-created tables and globals, loader errors and the WASI glue's definitions.

mod common;

use wasmaot_runtime::layout::{FuncType, GlobalType, TableType, ValType};
use wasmaot_runtime::*;

#[test]
fn tables() {
    let ty = TableType {
        element: ValType::ExternRef,
        initial: 2,
        maximum: Some(3),
        table64: false,
    };
    let t = Table::new(ty, Val::ExternRef(Some(7))).unwrap();
    assert_eq!(t.size(), 2);
    assert_eq!(t.get(1), Some(Val::ExternRef(Some(7))));
    assert_eq!(t.get_raw(1), Some(8));
    t.set(0, Val::ExternRef(None)).unwrap();
    assert_eq!(t.get(0), Some(Val::ExternRef(None)));
    assert_eq!(t.set(2, Val::ExternRef(None)), Err(TableError::OutOfBounds));
    assert!(matches!(
        t.set(0, Val::I32(1)),
        Err(TableError::ValueType(..))
    ));
    assert_eq!(t.grow(1, Val::ExternRef(Some(1))).unwrap(), 2);
    assert!(t.grow(1, Val::ExternRef(None)).is_err());
    assert_eq!(t.size(), 3);
    assert_eq!(t.get(2), Some(Val::ExternRef(Some(1))));
    // A host function no module imported has no Wasm entry: refused.
    let ft = Table::new(
        TableType {
            element: ValType::FuncRef,
            ..ty
        },
        Val::FuncRef(None),
    )
    .unwrap();
    let f = Func::host(FuncType::default(), |_, _| Ok(vec![]));
    assert_eq!(
        ft.set(0, Val::FuncRef(Some(f))),
        Err(TableError::HostFuncWithoutAdapter)
    );
}

#[test]
fn globals() {
    let g = Global::new(
        GlobalType {
            content: ValType::I64,
            mutable: false,
        },
        Val::I64(-5),
    )
    .unwrap();
    assert_eq!(g.get(), Val::I64(-5));
    assert!(g.set(Val::I64(1)).is_err());
    let m = Global::new(
        GlobalType {
            content: ValType::F64,
            mutable: true,
        },
        Val::F64(1.5f64.to_bits()),
    )
    .unwrap();
    m.set(Val::F64(2.5f64.to_bits())).unwrap();
    assert_eq!(m.get(), Val::F64(2.5f64.to_bits()));
    assert!(m.set(Val::I32(1)).is_err());
    assert!(Global::new(
        GlobalType {
            content: ValType::I32,
            mutable: true
        },
        Val::I64(0)
    )
    .is_err());
}

#[test]
fn loader_reports_unknown_symbols_and_bad_input() {
    let e = Module::from_object_bytes(&common::fake_object("l1"), Some("l1")).unwrap_err();
    assert!(e.to_string().contains("undefined symbol `test_"), "{e}");
    let e = Module::from_object_bytes(b"not an object", None).unwrap_err();
    assert!(matches!(e, Error::Load(_)), "{e}");
    let e =
        Module::from_object_bytes_with(&common::fake_object("l2"), Some("zz"), &common::resolve)
            .unwrap_err();
    assert!(e.to_string().contains("zz_wasmaot_module"), "{e}");
}

/// A relocation whose 8-byte write would cross its section's end is refused, not applied:
/// the last `R_X86_64_64` of the object is moved to 4 bytes before the end of its section.
#[test]
fn loader_refuses_relocations_past_section_end() {
    use object::elf::{Rela64, R_X86_64_64};
    use object::read::elf::{ElfFile64, FileHeader, SectionHeader};
    use object::{Endianness, Object, ObjectSection};
    let mut bytes = common::fake_object("l3");
    let (rela_at, new_offset) = {
        let file = ElfFile64::<Endianness>::parse(&bytes[..]).unwrap();
        let endian = file.endian();
        let sections = file.elf_header().sections(endian, &bytes[..]).unwrap();
        let mut found = None;
        for sh in sections.iter() {
            let Some((relas, _symtab)) = sh.rela(endian, &bytes[..]).unwrap() else {
                continue;
            };
            // `sh_info` of a relocation section is the section it applies to.
            let target = object::SectionIndex(sh.sh_info(endian) as usize);
            let size = file.section_by_index(target).unwrap().size();
            for (k, r) in relas.iter().enumerate() {
                if r.r_type(endian, false) == R_X86_64_64 {
                    let at = sh.sh_offset(endian) as usize
                        + k * std::mem::size_of::<Rela64<Endianness>>();
                    found = Some((at, size - 4));
                }
            }
        }
        found.expect("the test object has a 64-bit relocation")
    };
    // `r_offset` is the first field of an Elf64_Rela (little-endian on x86-64).
    bytes[rela_at..rela_at + 8].copy_from_slice(&new_offset.to_le_bytes());
    let e = Module::from_object_bytes_with(&bytes, Some("l3"), &common::resolve).unwrap_err();
    assert!(e.to_string().contains("relocation past section end"), "{e}");
}

#[test]
fn wasi_glue_defines_preview1() {
    let mut l = Linker::new();
    let ctx = wasmaot_runtime::wasi::WasiCtx::builder().build().unwrap();
    wasmaot_runtime::wasi_link::add_to_linker(
        &mut l,
        std::sync::Arc::new(std::sync::Mutex::new(ctx)),
    );
    let Some(Extern::Func(f)) = l.get("wasi_snapshot_preview1", "fd_write") else {
        panic!("fd_write missing")
    };
    assert_eq!(f.ty().params, vec![ValType::I32; 4]);
    assert_eq!(f.ty().results, vec![ValType::I32]);
    // Called from the host there is no calling instance, hence no memory: a host trap.
    let e = f
        .call(&[Val::I32(1), Val::I32(0), Val::I32(0), Val::I32(0)])
        .unwrap_err();
    assert_eq!(e.as_trap().unwrap().kind, TrapKind::Host);
}
