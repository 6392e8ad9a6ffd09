fn main() {
    println!("cargo:rerun-if-changed=csrc/entry.c");
    cc::Build::new()
        .file("csrc/entry.c")
        .flag_if_supported("-fno-omit-frame-pointer")
        .compile("wasmaot_entry");
}
