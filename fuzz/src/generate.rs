//! Random valid modules from a seed: wasm-smith restricted to what both engines implement,
//! with fuel so every generated program terminates.

use arbitrary::Unstructured;

/// Pages a memory may have in either engine (16 MiB); the same limit is given to both, so a
/// `memory.grow` past it fails alike.
pub const MAX_PAGES: u64 = 256;

/// Elements a table may have in either engine.
pub const MAX_TABLE_ELEMENTS: u64 = 10_000;

/// Fuel of the counter wasm-smith threads through loops and function entries: when it runs
/// out the program executes `unreachable`, so both engines trap at the same point. The
/// counter is a global exported as [`FUEL_EXPORT`] and refilled before every call.
pub const FUEL: u32 = 1_000;

/// Export name of the fuel global.
pub const FUEL_EXPORT: &str = "wasmaot-fuzz fuel";

/// A small deterministic generator (xorshift64*), so a seed names one module and one set of
/// arguments on every machine.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator for a seed (any value, zero included).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// The wasm-smith configuration for one seed: no imports (both engines run the module
/// alone), every item exported (so results, globals, memories and tables can be compared),
/// NaNs canonicalised (so float results are deterministic), and only proposals that wasmaot
/// and wasmi both implement. SIMD and Memory64 are switched per seed so that the scalar
/// operators also get modules of their own; every other seed asks wasm-smith for code that
/// cannot trap (guarded divisions, masked addresses, no `unreachable`), which runs much
/// further before its first trap than code where any instruction may end the call.
fn config(rng: &mut Rng) -> wasm_smith::Config {
    wasm_smith::Config {
        max_imports: 0,
        // wasm-smith adds each item past the minimum with probability 1/2: ask for a few
        // functions outright so that modules call each other.
        min_types: 1,
        min_funcs: 1 + rng.below(8) as usize,
        max_funcs: 16,
        max_instructions: 150,
        max_exports: 200,
        export_everything: true,
        canonicalize_nans: true,
        disallow_traps: rng.below(2) == 0,
        allow_start_export: true,
        max_memories: 2,
        max_tables: 2,
        max_memory32_bytes: MAX_PAGES << 16,
        max_memory64_bytes: u128::from(MAX_PAGES << 16),
        max_table_elements: 1_000,
        max_data_segments: 8,
        max_element_segments: 8,
        max_tags: 0,
        simd_enabled: rng.below(3) == 0,
        memory64_enabled: rng.below(2) == 0,
        exceptions_enabled: false,
        gc_enabled: false,
        threads_enabled: false,
        shared_everything_threads_enabled: false,
        relaxed_simd_enabled: false,
        wide_arithmetic_enabled: false,
        custom_page_sizes_enabled: false,
        custom_descriptors_enabled: false,
        compact_imports_enabled: false,
        ..wasm_smith::Config::default()
    }
}

/// The module for a seed, as binary Wasm; `None` when wasm-smith could not build one from
/// the seed's bytes (rare; the caller skips the seed).
pub fn module(seed: u64) -> Option<Vec<u8>> {
    let mut rng = Rng::new(seed);
    let config = config(&mut rng);
    let len = 1024 + rng.below(32 * 1024) as usize;
    let bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
    let mut u = Unstructured::new(&bytes);
    let mut m = wasm_smith::Module::new(config, &mut u).ok()?;
    let fuel = m.ensure_termination(FUEL).ok()?;
    let rewrites = Rewrites {
        fuel_global: Some(fuel),
        hide_tables: seed % 3 == 1,
    };
    rewrite(&m.to_bytes(), rewrites)
}

/// Argument bits for calls: a few edge values mixed with random ones, drawn from the seed.
pub fn argument_bits(rng: &mut Rng) -> u128 {
    const EDGES: [u64; 10] = [
        0,
        1,
        2,
        0xffff_ffff,
        0x8000_0000,
        0x7fff_ffff,
        0x1_0000,
        u64::MAX,
        0x8000_0000_0000_0000,
        0xfff0,
    ];
    let lo = if rng.below(2) == 0 {
        EDGES[rng.below(EDGES.len() as u64) as usize]
    } else {
        rng.next_u64()
    };
    (u128::from(rng.next_u64()) << 64) | u128::from(lo)
}

/// Changes made to a generated module before both engines run it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rewrites {
    /// Export this global (wasm-smith's fuel counter) as [`FUEL_EXPORT`].
    pub fuel_global: Option<u32>,
    /// Drop the exports of tables, so that a funcref table nothing writes can be frozen
    /// (compiler/src/frozen_tables.rs: `call_indirect` through a dispatch array in the
    /// object); an exported table never is. Such tables are then observed only through
    /// the calls.
    pub hide_tables: bool,
}

/// Applies `rewrites`, and routes the condition of every `select` through a new local
/// (`local.tee` just before it). wasmi 2.0.0, the reference, fuses a zero test (`i32.eqz`,
/// `i64.eqz`, `i32.eq` with 0, `ref.is_null`) into a following `select` by swapping its
/// operands and loses the swap when an operand is a constant:
/// `(select (i32.const 1) (local.get 0) (i32.eqz (local.get 0)))` returns 1 for every input
/// (found by this fuzzer; wasm-smith's trap-free mode guards every divisor that way); a
/// condition read from a local is not fused. The tee means nothing to wasmaot (locals are
/// SSA values to Cranelift), and both engines run the rewritten module, so the comparison
/// stays exact.
pub fn rewrite(wasm: &[u8], rewrites: Rewrites) -> Option<Vec<u8>> {
    use wasm_encoder::reencode::{utils, Error, Reencode};
    use wasm_encoder::Instruction;
    use wasmparser::Operator;

    struct Rewrite {
        rewrites: Rewrites,
        /// Number of parameters of each type.
        params_of_type: Vec<u32>,
        /// Type index of each defined function, in body order.
        body_types: Vec<u32>,
        /// Bodies rewritten so far.
        bodies: usize,
    }
    impl Reencode for Rewrite {
        type Error = std::convert::Infallible;

        fn parse_type_section(
            &mut self,
            types: &mut wasm_encoder::TypeSection,
            section: wasmparser::TypeSectionReader<'_>,
        ) -> Result<(), Error<Self::Error>> {
            for group in section.clone() {
                for ty in group?.into_types() {
                    self.params_of_type.push(match &ty.composite_type.inner {
                        wasmparser::CompositeInnerType::Func(f) => f.params().len() as u32,
                        _ => 0,
                    });
                }
            }
            utils::parse_type_section(self, types, section)
        }

        fn parse_function_section(
            &mut self,
            functions: &mut wasm_encoder::FunctionSection,
            section: wasmparser::FunctionSectionReader<'_>,
        ) -> Result<(), Error<Self::Error>> {
            for ty in section.clone() {
                self.body_types.push(ty?);
            }
            utils::parse_function_section(self, functions, section)
        }

        fn parse_export_section(
            &mut self,
            exports: &mut wasm_encoder::ExportSection,
            section: wasmparser::ExportSectionReader<'_>,
        ) -> Result<(), Error<Self::Error>> {
            for export in section {
                let export = export?;
                let hidden =
                    self.rewrites.hide_tables && export.kind == wasmparser::ExternalKind::Table;
                if !hidden {
                    self.parse_export(exports, export)?;
                }
            }
            if let Some(g) = self.rewrites.fuel_global {
                exports.export(FUEL_EXPORT, wasm_encoder::ExportKind::Global, g);
            }
            Ok(())
        }

        fn parse_function_body(
            &mut self,
            code: &mut wasm_encoder::CodeSection,
            func: wasmparser::FunctionBody<'_>,
        ) -> Result<(), Error<Self::Error>> {
            let ty = self.body_types.get(self.bodies).copied().unwrap_or(0);
            self.bodies += 1;
            let mut next_local = self.params_of_type.get(ty as usize).copied().unwrap_or(0);
            let mut locals = Vec::new();
            for pair in func.get_locals_reader()? {
                let (count, ty) = pair?;
                next_local += count;
                locals.push((count, self.val_type(ty)?));
            }
            locals.push((1, wasm_encoder::ValType::I32));
            let mut f = wasm_encoder::Function::new(locals);
            let mut reader = func.get_operators_reader()?;
            while !reader.eof() {
                let op = reader.read()?;
                if matches!(op, Operator::Select | Operator::TypedSelect { .. }) {
                    f.instruction(&Instruction::LocalTee(next_local));
                }
                f.instruction(&self.instruction(op)?);
            }
            code.function(&f);
            Ok(())
        }
    }

    let mut out = wasm_encoder::Module::new();
    let mut rewrite = Rewrite {
        rewrites,
        params_of_type: Vec::new(),
        body_types: Vec::new(),
        bodies: 0,
    };
    rewrite
        .parse_core_module(&mut out, wasmparser::Parser::new(0), wasm)
        .ok()?;
    Some(out.finish())
}
