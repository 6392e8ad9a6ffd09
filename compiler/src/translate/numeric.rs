//! Scalar integer and float operators and conversions. Cranelift's semantics already match
//! Wasm's for masked shifts, trapping division, `fmin`/`fmax` (NaN and -0), `nearest`, and
//! trapping or saturating float→int conversion, so each Wasm operator is one table row.
//! On x86-64, float constants in loops and the masks of `neg`/`abs`/`copysign` are vector
//! constants, which the mid-end hoists out of loops (FINDINGS 28 in benches/).

use super::{iconst_value, Translator};
use crate::error::Result;
use cranelift_codegen::ir::{
    condcodes::{FloatCC, IntCC},
    immediates::{Ieee32, Ieee64},
    types, InstBuilder, Opcode, Value,
};
use wasmparser::Operator;

/// One operator row: how many operands, what to build.
enum Row {
    Bin(fn(&mut Translator<'_, '_>, Value, Value) -> Value),
    Un(fn(&mut Translator<'_, '_>, Value) -> Value),
}

macro_rules! bin {
    ($method:ident) => {
        Row::Bin(|t, a, b| t.b.ins().$method(a, b))
    };
}
macro_rules! un {
    ($method:ident) => {
        Row::Un(|t, a| t.b.ins().$method(a))
    };
}
macro_rules! icmp {
    ($cc:ident) => {
        Row::Bin(|t, a, b| {
            let c = t.b.ins().icmp(IntCC::$cc, a, b);
            t.b.ins().uextend(types::I32, c)
        })
    };
}
macro_rules! fcmp {
    ($cc:ident) => {
        Row::Bin(|t, a, b| {
            let c = t.b.ins().fcmp(FloatCC::$cc, a, b);
            t.b.ins().uextend(types::I32, c)
        })
    };
}
/// A conversion instruction that takes the destination type.
macro_rules! conv {
    ($method:ident, $ty:ident) => {
        Row::Un(|t, a| t.b.ins().$method(types::$ty, a))
    };
}
/// Sign-extension of the low bits (`i32.extend8_s` etc.).
macro_rules! sext_low {
    ($narrow:ident, $wide:ident) => {
        Row::Un(|t, a| {
            let n = t.b.ins().ireduce(types::$narrow, a);
            t.b.ins().sextend(types::$wide, n)
        })
    };
}
macro_rules! bitcast {
    ($ty:ident) => {
        Row::Un(|t, a| {
            t.b.ins()
                .bitcast(types::$ty, cranelift_codegen::ir::MemFlagsData::new(), a)
        })
    };
}

fn eqz(t: &mut Translator<'_, '_>, a: Value) -> Value {
    let c = t.b.ins().icmp_imm_u(IntCC::Equal, a, 0);
    t.b.ins().uextend(types::I32, c)
}

/// The sign-bit operators (`neg`, `abs`, `copysign`, also of `f32x4`/`f64x2` for the first
/// two). On x86-64 they are bitwise operations with a mask from a vector constant, which the
/// mid-end hoists out of loops; Cranelift's own `fneg`/`fabs`/`fcopysign` rebuild the mask at
/// every use (`movabs` + `movq` for scalars, `pcmpeqd` + shift for vectors). Elsewhere
/// (AArch64) each is one instruction.
pub(super) fn neg(t: &mut Translator<'_, '_>, a: Value) -> Value {
    if !t.hoistable_float_consts {
        return t.b.ins().fneg(a);
    }
    let sign = sign_mask(t, a, true);
    t.b.ins().bxor(a, sign)
}
pub(super) fn abs(t: &mut Translator<'_, '_>, a: Value) -> Value {
    if !t.hoistable_float_consts {
        return t.b.ins().fabs(a);
    }
    let magnitude = sign_mask(t, a, false);
    t.b.ins().band(a, magnitude)
}
fn copysign(t: &mut Translator<'_, '_>, a: Value, b: Value) -> Value {
    if !t.hoistable_float_consts {
        return t.b.ins().fcopysign(a, b);
    }
    let magnitude = sign_mask(t, a, false);
    let sign = sign_mask(t, a, true);
    let m = t.b.ins().band(a, magnitude);
    let s = t.b.ins().band(b, sign);
    t.b.ins().bor(m, s)
}
/// The sign bit (`sign`) or all other bits, in every lane of `a`'s float type.
fn sign_mask(t: &mut Translator<'_, '_>, a: Value, sign: bool) -> Value {
    let ty = t.b.func.dfg.value_type(a);
    let bit = 1u64 << (ty.lane_type().bits() - 1);
    // The magnitude mask is every bit of the lane below the sign bit.
    let lane = if sign { bit } else { bit - 1 };
    vector_const(t, ty, lane, true)
}
/// A `vconst` of 128 bits with `lane` in lane 0 (`splat`: in every lane, else zeros above),
/// for `f32`/`f64` (`ty` scalar: read as lane 0, which lowers to no instruction) or
/// `f32x4`/`f64x2`. Cranelift does not rematerialise a `vconst`, so the mid-end hoists it out
/// of loops.
fn vector_const(t: &mut Translator<'_, '_>, ty: types::Type, lane: u64, splat: bool) -> Value {
    let lane_bytes = ty.lane_type().bytes() as usize;
    let lanes = 16 / lane_bytes;
    let mut data = Vec::with_capacity(16);
    for k in 0..lanes {
        let v = if k == 0 || splat { lane } else { 0 };
        data.extend_from_slice(&v.to_le_bytes()[..lane_bytes]);
    }
    let c = t.b.func.dfg.constants.insert(data.into());
    let vty = ty.lane_type().by(lanes as u32).expect("f32 or f64 lanes");
    let v = t.b.ins().vconst(vty, c);
    if ty.is_vector() {
        v
    } else {
        t.b.ins().extractlane(v, 0)
    }
}

/// `and`, or just the operand when the other one is a constant mask keeping every bit it can
/// have: clang writes `i32.load8_u; i32.const 255; i32.and`, and Cranelift's rules see
/// through `uextend` but not through a zero-extending load.
fn band(t: &mut Translator<'_, '_>, a: Value, b: Value) -> Value {
    if mask_keeps(t, b, a) {
        a
    } else if mask_keeps(t, a, b) {
        b
    } else {
        t.b.ins().band(a, b)
    }
}

/// Whether `mask` is a constant that has every bit set which the zero-extending load `v` can
/// produce.
fn mask_keeps(t: &Translator<'_, '_>, mask: Value, v: Value) -> bool {
    let dfg = &t.b.func.dfg;
    let loaded_bits = match dfg.value_def(v).inst().map(|i| dfg.insts[i].opcode()) {
        Some(Opcode::Uload8) => 8,
        Some(Opcode::Uload16) => 16,
        Some(Opcode::Uload32) => 32,
        _ => return false,
    };
    let low = (1u64 << loaded_bits) - 1;
    iconst_value(dfg, mask).is_some_and(|k| k as u64 & low == low)
}

/// The row for a scalar numeric operator, or `None`.
fn row(op: &Operator<'_>) -> Option<Row> {
    use Operator as O;
    Some(match op {
        // Integer arithmetic (both widths share the Cranelift instruction).
        O::I32Add | O::I64Add => bin!(iadd),
        O::I32Sub | O::I64Sub => bin!(isub),
        O::I32Mul | O::I64Mul => bin!(imul),
        O::I32DivS | O::I64DivS => bin!(sdiv),
        O::I32DivU | O::I64DivU => bin!(udiv),
        O::I32RemS | O::I64RemS => bin!(srem),
        O::I32RemU | O::I64RemU => bin!(urem),
        O::I32And | O::I64And => Row::Bin(band),
        O::I32Or | O::I64Or => bin!(bor),
        O::I32Xor | O::I64Xor => bin!(bxor),
        O::I32Shl | O::I64Shl => bin!(ishl),
        O::I32ShrS | O::I64ShrS => bin!(sshr),
        O::I32ShrU | O::I64ShrU => bin!(ushr),
        O::I32Rotl | O::I64Rotl => bin!(rotl),
        O::I32Rotr | O::I64Rotr => bin!(rotr),
        O::I32Clz | O::I64Clz => un!(clz),
        O::I32Ctz | O::I64Ctz => un!(ctz),
        O::I32Popcnt | O::I64Popcnt => un!(popcnt),
        // Integer comparisons.
        O::I32Eqz | O::I64Eqz => Row::Un(eqz),
        O::I32Eq | O::I64Eq => icmp!(Equal),
        O::I32Ne | O::I64Ne => icmp!(NotEqual),
        O::I32LtS | O::I64LtS => icmp!(SignedLessThan),
        O::I32LtU | O::I64LtU => icmp!(UnsignedLessThan),
        O::I32GtS | O::I64GtS => icmp!(SignedGreaterThan),
        O::I32GtU | O::I64GtU => icmp!(UnsignedGreaterThan),
        O::I32LeS | O::I64LeS => icmp!(SignedLessThanOrEqual),
        O::I32LeU | O::I64LeU => icmp!(UnsignedLessThanOrEqual),
        O::I32GeS | O::I64GeS => icmp!(SignedGreaterThanOrEqual),
        O::I32GeU | O::I64GeU => icmp!(UnsignedGreaterThanOrEqual),
        // Float arithmetic.
        O::F32Add | O::F64Add => bin!(fadd),
        O::F32Sub | O::F64Sub => bin!(fsub),
        O::F32Mul | O::F64Mul => bin!(fmul),
        O::F32Div | O::F64Div => bin!(fdiv),
        O::F32Min | O::F64Min => bin!(fmin),
        O::F32Max | O::F64Max => bin!(fmax),
        O::F32Copysign | O::F64Copysign => Row::Bin(copysign),
        O::F32Abs | O::F64Abs => Row::Un(abs),
        O::F32Neg | O::F64Neg => Row::Un(neg),
        O::F32Sqrt | O::F64Sqrt => un!(sqrt),
        O::F32Ceil | O::F64Ceil => un!(ceil),
        O::F32Floor | O::F64Floor => un!(floor),
        O::F32Trunc | O::F64Trunc => un!(trunc),
        O::F32Nearest | O::F64Nearest => un!(nearest),
        // Float comparisons.
        O::F32Eq | O::F64Eq => fcmp!(Equal),
        O::F32Ne | O::F64Ne => fcmp!(NotEqual),
        O::F32Lt | O::F64Lt => fcmp!(LessThan),
        O::F32Gt | O::F64Gt => fcmp!(GreaterThan),
        O::F32Le | O::F64Le => fcmp!(LessThanOrEqual),
        O::F32Ge | O::F64Ge => fcmp!(GreaterThanOrEqual),
        // Integer conversions.
        O::I32WrapI64 => conv!(ireduce, I32),
        O::I64ExtendI32S => conv!(sextend, I64),
        O::I64ExtendI32U => conv!(uextend, I64),
        O::I32Extend8S => sext_low!(I8, I32),
        O::I32Extend16S => sext_low!(I16, I32),
        O::I64Extend8S => sext_low!(I8, I64),
        O::I64Extend16S => sext_low!(I16, I64),
        O::I64Extend32S => sext_low!(I32, I64),
        // Float → int, trapping and saturating.
        O::I32TruncF32S | O::I32TruncF64S => conv!(fcvt_to_sint, I32),
        O::I32TruncF32U | O::I32TruncF64U => conv!(fcvt_to_uint, I32),
        O::I64TruncF32S | O::I64TruncF64S => conv!(fcvt_to_sint, I64),
        O::I64TruncF32U | O::I64TruncF64U => conv!(fcvt_to_uint, I64),
        O::I32TruncSatF32S | O::I32TruncSatF64S => conv!(fcvt_to_sint_sat, I32),
        O::I32TruncSatF32U | O::I32TruncSatF64U => conv!(fcvt_to_uint_sat, I32),
        O::I64TruncSatF32S | O::I64TruncSatF64S => conv!(fcvt_to_sint_sat, I64),
        O::I64TruncSatF32U | O::I64TruncSatF64U => conv!(fcvt_to_uint_sat, I64),
        // Int → float and float ↔ float.
        O::F32ConvertI32S | O::F32ConvertI64S => conv!(fcvt_from_sint, F32),
        O::F32ConvertI32U | O::F32ConvertI64U => conv!(fcvt_from_uint, F32),
        O::F64ConvertI32S | O::F64ConvertI64S => conv!(fcvt_from_sint, F64),
        O::F64ConvertI32U | O::F64ConvertI64U => conv!(fcvt_from_uint, F64),
        O::F32DemoteF64 => conv!(fdemote, F32),
        O::F64PromoteF32 => conv!(fpromote, F64),
        // Reinterpretations.
        O::I32ReinterpretF32 => bitcast!(I32),
        O::I64ReinterpretF64 => bitcast!(I64),
        O::F32ReinterpretI32 => bitcast!(F32),
        O::F64ReinterpretI64 => bitcast!(F64),
        _ => return None,
    })
}

/// The number of operands of a constant or scalar numeric operator that cannot trap (every
/// row but division, remainder and the trapping float→int conversions), or `None`: the
/// operators [`super::base_case`] may copy into a call site.
pub(super) fn pure_operands(op: &Operator<'_>) -> Option<usize> {
    use Operator as O;
    match op {
        O::I32Const { .. } | O::I64Const { .. } | O::F32Const { .. } | O::F64Const { .. } => {
            Some(0)
        }
        O::I32DivS | O::I64DivS | O::I32DivU | O::I64DivU => None,
        O::I32RemS | O::I64RemS | O::I32RemU | O::I64RemU => None,
        O::I32TruncF32S | O::I32TruncF64S | O::I32TruncF32U | O::I32TruncF64U => None,
        O::I64TruncF32S | O::I64TruncF64S | O::I64TruncF32U | O::I64TruncF64U => None,
        _ => match row(op)? {
            Row::Bin(_) => Some(2),
            Row::Un(_) => Some(1),
        },
    }
}

impl Translator<'_, '_> {
    /// Translates constants and scalar numeric operators; returns whether `op` was one.
    pub(super) fn numeric_op(&mut self, op: &Operator<'_>) -> Result<bool> {
        let v = match *op {
            Operator::I32Const { value } => self.b.ins().iconst(types::I32, i64::from(value)),
            Operator::I64Const { value } => self.b.ins().iconst(types::I64, value),
            Operator::F32Const { value } => self.float_const(types::F32, value.bits().into()),
            Operator::F64Const { value } => self.float_const(types::F64, value.bits()),
            _ => match row(op) {
                Some(Row::Bin(f)) => {
                    let (a, b) = self.pop2();
                    f(self, a, b)
                }
                Some(Row::Un(f)) => {
                    let a = self.pop();
                    f(self, a)
                }
                None => return Ok(false),
            },
        };
        self.push(v);
        Ok(true)
    }

    /// A float constant. On x86-64 a nonzero one inside a loop is lane 0 of a vector
    /// constant, which the mid-end hoists out of the loop into a register; Cranelift
    /// rematerialises `f32const` and `f64const` in every block, where each use becomes a
    /// `movabs` + `movq` or a load. Outside loops `fNNconst` is better: an operand read once
    /// from the constant pool folds into the instruction that uses it. Zero stays `fNNconst`
    /// everywhere (one dependency-breaking `xorps`).
    fn float_const(&mut self, ty: types::Type, bits: u64) -> Value {
        let in_loop = self
            .control
            .iter()
            .any(|f| matches!(f.kind, super::FrameKind::Loop { .. }));
        if !self.hoistable_float_consts || bits == 0 || !in_loop {
            return if ty == types::F32 {
                self.b.ins().f32const(Ieee32::with_bits(bits as u32))
            } else {
                self.b.ins().f64const(Ieee64::with_bits(bits))
            };
        }
        vector_const(self, ty, bits, false)
    }
}
