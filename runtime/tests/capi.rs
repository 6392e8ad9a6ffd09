//! The C API on the fake module (descriptor of an in-process loaded object).

mod common;

use common::*;
use std::ffi::{CStr, CString};
use wasmaot_runtime::capi::*;
use wasmaot_runtime::layout::TrapKind;
use wasmaot_runtime::Module;

extern "C" fn native_double() {}

fn i32v(x: i32) -> wasmaot_val_t {
    wasmaot_val_t {
        kind: 0,
        _pad: 0,
        of: wasmaot_val_union { i64: x as i64 },
    }
}

#[test]
fn c_api_end_to_end() {
    // Without a native symbol for `host::double`, instantiation fails naming the import.
    let m1 = Module::from_object_bytes_with(&fake_object("c1"), Some("c1"), &resolve).unwrap();
    let mut err = std::ptr::null_mut();
    // SAFETY: a descriptor of a loaded module that stays alive; `err` is writable.
    let inst = unsafe { wasmaot_instance_new(m1.descriptor_addr() as *const _, &mut err) };
    assert!(inst.is_null());
    assert!(!err.is_null());
    // SAFETY: error from the API.
    let msg = unsafe { CStr::from_ptr(wasmaot_error_message(err)) }
        .to_string_lossy()
        .into_owned();
    assert!(msg.contains("host::double"), "{msg}");
    // SAFETY: as above.
    unsafe { wasmaot_error_delete(err) };

    // With the weak native symbol resolved, the import binds natively.
    let resolve2 = |n: &str| {
        if n == "native_double" {
            Some(native_double as *const () as usize)
        } else {
            resolve(n)
        }
    };
    let m2 = Module::from_object_bytes_with(&fake_object("c2"), Some("c2"), &resolve2).unwrap();
    let mut err = std::ptr::null_mut();
    // SAFETY: as above.
    let inst = unsafe { wasmaot_instance_new(m2.descriptor_addr() as *const _, &mut err) };
    assert!(!inst.is_null());
    let args = [i32v(20), i32v(22)];
    let mut results = [i32v(0)];
    let add = CString::new("add").unwrap();
    // SAFETY: valid instance, names and buffers.
    let rc = unsafe {
        wasmaot_call(
            inst,
            add.as_ptr(),
            args.as_ptr(),
            2,
            results.as_mut_ptr(),
            1,
        )
    };
    assert_eq!(rc, 0);
    // SAFETY: i32 result.
    assert_eq!(unsafe { results[0].of.i32 }, 42);
    let div = CString::new("div").unwrap();
    let args = [i32v(1), i32v(0)];
    // SAFETY: as above.
    let rc = unsafe {
        wasmaot_call(
            inst,
            div.as_ptr(),
            args.as_ptr(),
            2,
            results.as_mut_ptr(),
            1,
        )
    };
    assert_eq!(rc, TrapKind::IntegerDivisionByZero as i32);
    // SAFETY: thread-local message.
    let msg = unsafe { CStr::from_ptr(wasmaot_trap_message()) }
        .to_string_lossy()
        .into_owned();
    assert_eq!(msg, "wasm trap: integer divide by zero (in function div)");
    let nope = CString::new("nope").unwrap();
    // SAFETY: as above.
    let rc = unsafe {
        wasmaot_call(
            inst,
            nope.as_ptr(),
            args.as_ptr(),
            2,
            results.as_mut_ptr(),
            1,
        )
    };
    assert_eq!(rc, -1);

    // Fast path.
    // SAFETY: as above.
    let f = unsafe { wasmaot_export_funcref(inst, add.as_ptr()) };
    assert!(!f.is_null());
    let mut slots: [u128; 2] = [5, 6];
    // SAFETY: two i32 params, one result.
    assert_eq!(
        unsafe { wasmaot_call_funcref(inst, f, slots.as_mut_ptr(), 2) },
        0
    );
    assert_eq!(slots[0] as u32, 11);

    // Memory accessors.
    let base = wasmaot_memory_data(inst, 0);
    assert!(!base.is_null());
    // SAFETY: the data segment wrote "hello" at 8.
    assert_eq!(
        unsafe { std::slice::from_raw_parts(base.add(8), 5) },
        b"hello"
    );
    assert_eq!(wasmaot_memory_size(inst, 0), 1);
    assert_eq!(wasmaot_memory_size_bytes(inst, 0), 65536);
    assert_eq!(wasmaot_memory_grow(inst, 0, 1), 1);
    assert_eq!(wasmaot_memory_grow(inst, 0, 1), -1);
    assert_eq!(wasmaot_memory_data(inst, 0), base);
    assert!(wasmaot_memory_data(inst, 7).is_null());
    // SAFETY: instance from the API.
    unsafe { wasmaot_instance_delete(inst) };

    // Host memories.
    // SAFETY: `err` writable.
    let hm = unsafe { wasmaot_memory_new(1, u64::MAX, 1, &mut err) };
    assert!(hm.is_null());
    // SAFETY: error from the API.
    let msg = unsafe { CStr::from_ptr(wasmaot_error_message(err)) }
        .to_string_lossy()
        .into_owned();
    assert_eq!(msg, "maximum is required for shared memory");
    // SAFETY: as above.
    unsafe { wasmaot_error_delete(err) };
    // SAFETY: as above.
    let hm = unsafe { wasmaot_memory_new(1, 2, 0, std::ptr::null_mut()) };
    assert!(!hm.is_null());
    // SAFETY: valid handle.
    unsafe {
        assert_eq!(wasmaot_memory_pages(hm), 1);
        assert_eq!(wasmaot_memory_grow_pages(hm, 1), 1);
        assert_eq!(wasmaot_memory_grow_pages(hm, 1), -1);
        assert!(!wasmaot_memory_base(hm).is_null());
        wasmaot_memory_delete(hm);
    }
}

#[test]
fn header_compiles_and_matches_exports() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let header = format!("{dir}/include/wasmaot.h");
    let out = std::process::Command::new("cc")
        .args([
            "-fsyntax-only",
            "-Wall",
            "-Werror",
            "-std=c11",
            "-x",
            "c",
            &header,
        ])
        .output()
        .expect("cc");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let h = std::fs::read_to_string(&header).unwrap();
    let src = std::fs::read_to_string(format!("{dir}/src/capi.rs")).unwrap();
    let mut n = 0;
    for part in h.split("wasmaot_").skip(1) {
        let name: String = part
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if part[name.len()..].starts_with('(') {
            n += 1;
            assert!(
                src.contains(&format!("fn wasmaot_{name}(")),
                "wasmaot_{name} not exported"
            );
        }
    }
    assert!(n >= 20, "only {n} functions found in the header");
}
