//! A hand-written stand-in for a compiled module: x86-64 assembly assembled with `cc -c`,
//! with a real descriptor and serialized `ModuleInfo`, so loader, instantiation, calls and
//! traps can be tested before the compiler exists.
#![allow(dead_code)]

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use wasmaot_runtime::layout::*;

/// Counter incremented by `add` through a GOT-relative access.
pub static TEST_COUNTER: AtomicU32 = AtomicU32::new(0);
/// Counter incremented by `test_helper`, which `add` calls through a far PLT32 call.
pub static HELPER_CALLS: AtomicU32 = AtomicU32::new(0);

pub extern "C" fn test_helper() {
    HELPER_CALLS.fetch_add(1, Ordering::SeqCst);
}

/// Resolver for the extra symbols the fake module needs.
pub fn resolve(name: &str) -> Option<usize> {
    match name {
        "test_helper" => Some(test_helper as *const () as usize),
        "test_counter" => Some(&TEST_COUNTER as *const AtomicU32 as usize),
        _ => None,
    }
}

fn t(params: &[ValType], results: &[ValType]) -> FuncType {
    FuncType {
        params: params.to_vec(),
        results: results.to_vec(),
    }
}

/// Function indices: 0 import `host.double` (i32)->i32; 1 add; 2 div; 3 unreach; 4 load;
/// 5 recurse; 6 call_host.
pub fn fake_info(name: &str) -> ModuleInfo {
    use ValType::*;
    let counts = VMCounts {
        memories: 1,
        tables: 1,
        imported_globals: 0,
        defined_globals: 1,
        imported_funcs: 1,
        escaping_funcs: 6,
        types: 3,
        tags: 0,
    };
    let names = ["add", "div", "unreach", "load", "recurse", "call_host"];
    let mut func_traps = vec![vec![]; 6];
    func_traps[1] = vec![TrapSite {
        offset: 0,
        kind: TrapKind::IntegerDivisionByZero,
    }];
    func_traps[2] = vec![TrapSite {
        offset: 0,
        kind: TrapKind::Unreachable,
    }];
    func_traps[3] = vec![TrapSite {
        offset: 0,
        kind: TrapKind::MemoryOutOfBounds,
    }];
    ModuleInfo {
        func_handlers: vec![vec![]; 6],
        tags: vec![],
        num_imported_tags: 0,
        name: name.into(),
        types: vec![t(&[I32, I32], &[I32]), t(&[], &[]), t(&[I32], &[I32])],
        imports: vec![Import {
            module: "host".into(),
            name: "double".into(),
            ty: ExternType::Func(2),
        }],
        exports: names
            .iter()
            .enumerate()
            .map(|(i, n)| Export {
                name: n.to_string(),
                kind: ExportKind::Func(i as u32 + 1),
            })
            .chain([
                Export {
                    name: "memory".into(),
                    kind: ExportKind::Memory(0),
                },
                Export {
                    name: "table".into(),
                    kind: ExportKind::Table(0),
                },
                Export {
                    name: "g".into(),
                    kind: ExportKind::Global(0),
                },
            ])
            .collect(),
        funcs: vec![2, 0, 0, 1, 2, 1, 2],
        num_imported_funcs: 1,
        tables: vec![TableType {
            element: FuncRef,
            initial: 4,
            maximum: None,
            table64: false,
        }],
        num_imported_tables: 0,
        memories: vec![MemoryType {
            initial: 1,
            maximum: Some(2),
            memory64: false,
            shared: false,
        }],
        num_imported_memories: 0,
        globals: vec![GlobalType {
            content: I32,
            mutable: true,
        }],
        num_imported_globals: 0,
        global_inits: vec![vec![ConstOp::I32(40), ConstOp::I32(2), ConstOp::I32Add]],
        table_inits: vec![],
        elems: vec![ElemSegment {
            active: Some((0, vec![ConstOp::I32(1)])),
            declared: false,
            element: FuncRef,
            items: vec![vec![ConstOp::RefFunc(1)], vec![ConstOp::RefFunc(0)]],
        }],
        datas: vec![DataSegment {
            active: Some((0, vec![ConstOp::I32(8)])),
            bytes: b"hello".to_vec(),
        }],
        start: None,
        escaping: vec![1, 2, 3, 4, 5, 6],
        func_names: names.iter().map(|s| s.to_string()).collect(),
        func_sizes: vec![16; 6],
        func_traps,
        bounds_checks: BoundsChecks::Guard,
        counts,
        target_arch: std::env::consts::ARCH.to_string(),
        cpu_features: Vec::new(),
    }
}

/// Assembly for the fake module `name` with the given info.
pub fn fake_asm(name: &str, info: &ModuleInfo) -> String {
    let off = VMOffsets::new(info.counts);
    let mem0 = off.memory(0);
    let imp0 = off.imported_func(0);
    let blob = info.encode();
    let bytes: Vec<String> = blob.iter().map(|b| b.to_string()).collect();
    let mut s = String::new();
    s += &format!(
        r#"
    .text
    .p2align 4
code_start:
add_tramp:
    push %rbx
    mov %rdx, %rbx
    call test_helper@PLT
    movq test_counter@GOTPCREL(%rip), %rax
    lock incl (%rax)
    mov (%rbx), %eax
    add 16(%rbx), %eax
    add const_zero(%rip), %eax
    mov %eax, (%rbx)
    pop %rbx
    ret
    .p2align 4
add_body:
    ret
    .p2align 4
div_tramp:
    push %rbx
    mov %rdx, %rbx
    mov (%rbx), %eax
    cltd
    mov 16(%rbx), %ecx
    call div_body
    mov %eax, (%rbx)
    pop %rbx
    ret
    .p2align 4
div_body:
    idiv %ecx
    ret
    .p2align 4
unreach_tramp:
    sub $8, %rsp
    call unreach_body
    add $8, %rsp
    ret
    .p2align 4
unreach_body:
    ud2
    ret
    .p2align 4
load_tramp:
    push %rbx
    mov %rdx, %rbx
    mov {mem0}(%rdi), %r8
    mov (%r8), %r9
    mov (%rbx), %eax
    call load_body
    mov %eax, (%rbx)
    pop %rbx
    ret
    .p2align 4
load_body:
    mov (%r9,%rax), %eax
    ret
    .p2align 4
recurse_tramp:
    sub $8, %rsp
    call recurse_body
    add $8, %rsp
    ret
    .p2align 4
recurse_body:
    call recurse_body
    ret
    .p2align 4
call_host_tramp:
    push %rbp
    mov %rsp, %rbp
    mov %rdi, %rsi
    mov {imp_vmctx}(%rsi), %rdi
    call *{imp_array}(%rsi)
    pop %rbp
    ret
    .p2align 4
call_host_body:
    ret
host_adapter:
    ud2
native_adapter:
    ud2
code_end:

    .section .rodata
    .p2align 4
const_zero:
    .long 0
info_blob:
    .byte {bytes}

    .data
    .p2align 4
    .globl {name}_wasmaot_module
{name}_wasmaot_module:
    .ascii "WASMAOT\0"
    .long {abi}
    .long 6
    .quad info_blob
    .quad {len}
    .quad funcs
    .quad imports
    .quad code_start
    .quad code_end
funcs:
    .quad add_body, add_tramp
    .quad div_body, div_tramp
    .quad unreach_body, unreach_tramp
    .quad load_body, load_tramp
    .quad recurse_body, recurse_tramp
    .quad call_host_body, call_host_tramp
imports:
    .quad host_adapter, native_double, native_adapter
    .weak native_double
    .section .note.GNU-stack,"",@progbits
"#,
        imp_vmctx = imp0 + 16,
        imp_array = imp0 + 8,
        bytes = bytes.join(","),
        len = blob.len(),
        abi = ABI_VERSION,
    );
    s
}

/// Assembles the fake module into ELF object bytes.
pub fn fake_object(name: &str) -> Vec<u8> {
    let info = fake_info(name);
    let asm = fake_asm(name, &info);
    let dir = std::env::temp_dir().join(format!("wasmaot-rt-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("m.s");
    let obj = dir.join("m.o");
    std::fs::write(&src, asm).unwrap();
    let out = Command::new("cc")
        .arg("-c")
        .arg(&src)
        .arg("-o")
        .arg(&obj)
        .output()
        .expect("cc");
    assert!(
        out.status.success(),
        "assembling failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&obj).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    bytes
}
