fn main() {
    let path = std::env::args().nth(1).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let opts = wasmaot::CompileOptions {
        name: "fib".into(),
        ..Default::default()
    };
    let out = wasmaot::compile(&bytes, &opts).unwrap();
    std::fs::write("/tmp/t/out.o", &out.object).unwrap();
    println!("{:?}", out.info.func_traps);
}
