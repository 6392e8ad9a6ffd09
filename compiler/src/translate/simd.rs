//! Fixed-width SIMD (`v128`) operators.
//!
//! A vector on the operand stack has whatever Cranelift type its producer gave it (`i32x4`
//! after `i32x4.add`, `f64x2` after `f64x2.sqrt`, …); the driver canonicalises to `i8x16` only
//! at block, local and call boundaries. Each operator is one row of [`row`], naming the lane
//! type its vector operands are reinterpreted as (a free `bitcast` when it differs) and the
//! instructions that build its natural result. Cranelift's vector instructions already have
//! Wasm's semantics (shift amounts masked to the lane width, NaN-propagating `fmin`/`fmax`,
//! saturating `fcvt_to_*_sat`, `unarrow` reading signed lanes), and the x64 backend matches
//! the multi-instruction shapes used below (widen+`imul` for extmul, `iadd_pairwise` of
//! widened halves for extadd and dot, `bitselect` of an `fcmp` for pmin/pmax, narrowing of a
//! `fcvt_to_*_sat` with a zero vector for `trunc_sat_f64x2_*_zero`) into single sequences.
//! Memory accesses go through [`Translator::heap_addr`] like scalar ones, so every
//! bounds-checking mode applies unchanged. Relaxed SIMD is rejected.

use super::{env, numeric, op_name, Translator};
use crate::error::{unsupported, Result};
use cranelift_codegen::ir::{
    condcodes::{FloatCC, IntCC},
    types::{self, F32X4, F64X2, I16X8, I32X4, I64X2, I8X16},
    ConstantData, Endianness, InstBuilder, MemFlagsData, Type, Value,
};
use wasmparser::{MemArg, Operator};

/// Lane type of a bitwise row: its operands keep the first operand's type.
const AS_IS: Type = types::INVALID;

type UnFn = fn(&mut Translator<'_, '_>, Value) -> Value;
type BinFn = fn(&mut Translator<'_, '_>, Value, Value) -> Value;
type TerFn = fn(&mut Translator<'_, '_>, Value, Value, Value) -> Value;
type LoadFn = fn(&mut Translator<'_, '_>, MemFlagsData, Value, i32) -> Value;

/// One operator row. The `Type` is the vector type the vector operands are viewed as.
enum Row {
    /// One vector operand.
    Un(Type, UnFn),
    /// Two vector operands.
    Bin(Type, BinFn),
    /// Three vector operands (`v128.bitselect`).
    Ter(Type, TerFn),
    /// A vector and a scalar `i32` shift amount.
    Shift(Type, BinFn),
    /// Scalar → all lanes.
    Splat(Type),
    /// Lane → scalar; `signed` picks the extension of 8/16-bit lanes to `i32`.
    Extract(Type, u8, bool),
    /// Vector and scalar → vector with one lane replaced.
    Replace(Type, u8),
    /// A memory access other than the plain `v128.load`/`v128.store` of `memory.rs`.
    Mem(MemArg, Access),
}

/// SIMD memory accesses.
#[derive(Clone, Copy)]
enum Access {
    /// Eight bytes, each half-lane widened (`v128.load8x8_s` …).
    Widen(LoadFn),
    /// One lane of the vector type, splatted.
    Splat(Type),
    /// One lane of the vector type into lane 0, the rest zero.
    Zero(Type),
    /// One lane of the vector type into lane `n` of the operand.
    LoadLane(Type, u8),
    /// Lane `n` of the operand, viewed as the vector type, to memory.
    StoreLane(Type, u8),
}

macro_rules! un {
    ($ty:ident, $method:ident) => {
        Row::Un($ty, |t, a| t.b.ins().$method(a))
    };
}
macro_rules! bin {
    ($ty:ident, $method:ident) => {
        Row::Bin($ty, |t, a, b| t.b.ins().$method(a, b))
    };
}
macro_rules! shift {
    ($ty:ident, $method:ident) => {
        Row::Shift($ty, |t, a, b| t.b.ins().$method(a, b))
    };
}
/// Integer comparison: an all-ones/all-zeros mask of the same lane type.
macro_rules! icmp {
    ($ty:ident, $cc:ident) => {
        Row::Bin($ty, |t, a, b| t.b.ins().icmp(IntCC::$cc, a, b))
    };
}
/// Float comparison: the mask comes out with the integer lane type of the same width.
macro_rules! fcmp {
    ($ty:ident, $cc:ident) => {
        Row::Bin($ty, |t, a, b| t.b.ins().fcmp(FloatCC::$cc, a, b))
    };
}
/// A conversion instruction that takes the destination type.
macro_rules! conv {
    ($from:ident, $method:ident, $to:ident) => {
        Row::Un($from, |t, a| t.b.ins().$method($to, a))
    };
}
/// Widening multiplication of the low or high halves.
macro_rules! extmul {
    ($ty:ident, $widen:ident) => {
        Row::Bin($ty, |t, a, b| {
            let a = t.b.ins().$widen(a);
            let b = t.b.ins().$widen(b);
            t.b.ins().imul(a, b)
        })
    };
}
/// Sum of adjacent lane pairs, widened.
macro_rules! extadd {
    ($ty:ident, $low:ident, $high:ident) => {
        Row::Un($ty, |t, a| {
            let lo = t.b.ins().$low(a);
            let hi = t.b.ins().$high(a);
            t.b.ins().iadd_pairwise(lo, hi)
        })
    };
}
/// `all_true`: 1 when every lane is nonzero.
macro_rules! all_true {
    ($ty:ident) => {
        Row::Un($ty, |t, a| {
            let c = t.b.ins().vall_true(a);
            t.b.ins().uextend(types::I32, c)
        })
    };
}
/// `bitmask`: the lanes' sign bits as an `i32`.
macro_rules! bitmask {
    ($ty:ident) => {
        Row::Un($ty, |t, a| t.b.ins().vhigh_bits(types::I32, a))
    };
}
/// Narrowing of two `f64x2`-derived `i64x2` lanes into the low half of an `i32x4` whose high
/// half is zero; the x64 backend recognises `narrow(fcvt_to_*_sat(x), vconst 0)`.
macro_rules! trunc_sat_zero {
    ($cvt:ident, $narrow:ident) => {
        Row::Un(F64X2, |t, a| {
            let wide = t.b.ins().$cvt(I64X2, a);
            let zero = t.zero_vector(I64X2);
            t.b.ins().$narrow(wide, zero)
        })
    };
}
macro_rules! mem {
    ($memarg:expr, $access:expr) => {
        Row::Mem($memarg, $access)
    };
}
macro_rules! widen_load {
    ($memarg:expr, $method:ident) => {
        Row::Mem(
            $memarg,
            Access::Widen(|t, flags, addr, off| t.b.ins().$method(flags, addr, off)),
        )
    };
}

/// `f32x4.pmin`/`f64x2.pmin`: `b < a ? b : a` per lane.
fn pmin(t: &mut Translator<'_, '_>, a: Value, b: Value) -> Value {
    let c = t.b.ins().fcmp(FloatCC::LessThan, b, a);
    let ty = t.b.func.dfg.value_type(a);
    let c = t.vec_as(c, ty);
    t.b.ins().bitselect(c, b, a)
}

/// `f32x4.pmax`/`f64x2.pmax`: `a < b ? b : a` per lane.
fn pmax(t: &mut Translator<'_, '_>, a: Value, b: Value) -> Value {
    let c = t.b.ins().fcmp(FloatCC::LessThan, a, b);
    let ty = t.b.func.dfg.value_type(a);
    let c = t.vec_as(c, ty);
    t.b.ins().bitselect(c, b, a)
}

/// `i32x4.dot_i16x8_s`: products of the widened lanes, adjacent pairs summed (`pmaddwd`).
fn dot(t: &mut Translator<'_, '_>, a: Value, b: Value) -> Value {
    let (al, bl) = (t.b.ins().swiden_low(a), t.b.ins().swiden_low(b));
    let lo = t.b.ins().imul(al, bl);
    let (ah, bh) = (t.b.ins().swiden_high(a), t.b.ins().swiden_high(b));
    let hi = t.b.ins().imul(ah, bh);
    t.b.ins().iadd_pairwise(lo, hi)
}

fn any_true(t: &mut Translator<'_, '_>, a: Value) -> Value {
    let c = t.b.ins().vany_true(a);
    t.b.ins().uextend(types::I32, c)
}

fn and_not(t: &mut Translator<'_, '_>, a: Value, b: Value) -> Value {
    let nb = t.b.ins().bnot(b);
    t.b.ins().band(a, nb)
}

/// `v128.bitselect(v1, v2, c)` = `(v1 & c) | (v2 & !c)`.
fn bitselect(t: &mut Translator<'_, '_>, v1: Value, v2: Value, c: Value) -> Value {
    t.b.ins().bitselect(c, v1, v2)
}

/// The row for a SIMD operator, or `None`.
fn row(op: &Operator<'_>) -> Option<Row> {
    use Operator as O;
    Some(match *op {
        // Lanes.
        O::I8x16Splat => Row::Splat(I8X16),
        O::I16x8Splat => Row::Splat(I16X8),
        O::I32x4Splat => Row::Splat(I32X4),
        O::I64x2Splat => Row::Splat(I64X2),
        O::F32x4Splat => Row::Splat(F32X4),
        O::F64x2Splat => Row::Splat(F64X2),
        O::I8x16ExtractLaneS { lane } => Row::Extract(I8X16, lane, true),
        O::I8x16ExtractLaneU { lane } => Row::Extract(I8X16, lane, false),
        O::I16x8ExtractLaneS { lane } => Row::Extract(I16X8, lane, true),
        O::I16x8ExtractLaneU { lane } => Row::Extract(I16X8, lane, false),
        O::I32x4ExtractLane { lane } => Row::Extract(I32X4, lane, false),
        O::I64x2ExtractLane { lane } => Row::Extract(I64X2, lane, false),
        O::F32x4ExtractLane { lane } => Row::Extract(F32X4, lane, false),
        O::F64x2ExtractLane { lane } => Row::Extract(F64X2, lane, false),
        O::I8x16ReplaceLane { lane } => Row::Replace(I8X16, lane),
        O::I16x8ReplaceLane { lane } => Row::Replace(I16X8, lane),
        O::I32x4ReplaceLane { lane } => Row::Replace(I32X4, lane),
        O::I64x2ReplaceLane { lane } => Row::Replace(I64X2, lane),
        O::F32x4ReplaceLane { lane } => Row::Replace(F32X4, lane),
        O::F64x2ReplaceLane { lane } => Row::Replace(F64X2, lane),
        O::I8x16Swizzle => bin!(I8X16, swizzle),
        // Bitwise.
        O::V128Not => un!(AS_IS, bnot),
        O::V128And => bin!(AS_IS, band),
        O::V128Or => bin!(AS_IS, bor),
        O::V128Xor => bin!(AS_IS, bxor),
        O::V128AndNot => Row::Bin(AS_IS, and_not),
        O::V128Bitselect => Row::Ter(AS_IS, bitselect),
        O::V128AnyTrue => Row::Un(AS_IS, any_true),
        // Lane masks.
        O::I8x16AllTrue => all_true!(I8X16),
        O::I16x8AllTrue => all_true!(I16X8),
        O::I32x4AllTrue => all_true!(I32X4),
        O::I64x2AllTrue => all_true!(I64X2),
        O::I8x16Bitmask => bitmask!(I8X16),
        O::I16x8Bitmask => bitmask!(I16X8),
        O::I32x4Bitmask => bitmask!(I32X4),
        O::I64x2Bitmask => bitmask!(I64X2),
        // Integer comparisons.
        O::I8x16Eq => icmp!(I8X16, Equal),
        O::I8x16Ne => icmp!(I8X16, NotEqual),
        O::I8x16LtS => icmp!(I8X16, SignedLessThan),
        O::I8x16LtU => icmp!(I8X16, UnsignedLessThan),
        O::I8x16GtS => icmp!(I8X16, SignedGreaterThan),
        O::I8x16GtU => icmp!(I8X16, UnsignedGreaterThan),
        O::I8x16LeS => icmp!(I8X16, SignedLessThanOrEqual),
        O::I8x16LeU => icmp!(I8X16, UnsignedLessThanOrEqual),
        O::I8x16GeS => icmp!(I8X16, SignedGreaterThanOrEqual),
        O::I8x16GeU => icmp!(I8X16, UnsignedGreaterThanOrEqual),
        O::I16x8Eq => icmp!(I16X8, Equal),
        O::I16x8Ne => icmp!(I16X8, NotEqual),
        O::I16x8LtS => icmp!(I16X8, SignedLessThan),
        O::I16x8LtU => icmp!(I16X8, UnsignedLessThan),
        O::I16x8GtS => icmp!(I16X8, SignedGreaterThan),
        O::I16x8GtU => icmp!(I16X8, UnsignedGreaterThan),
        O::I16x8LeS => icmp!(I16X8, SignedLessThanOrEqual),
        O::I16x8LeU => icmp!(I16X8, UnsignedLessThanOrEqual),
        O::I16x8GeS => icmp!(I16X8, SignedGreaterThanOrEqual),
        O::I16x8GeU => icmp!(I16X8, UnsignedGreaterThanOrEqual),
        O::I32x4Eq => icmp!(I32X4, Equal),
        O::I32x4Ne => icmp!(I32X4, NotEqual),
        O::I32x4LtS => icmp!(I32X4, SignedLessThan),
        O::I32x4LtU => icmp!(I32X4, UnsignedLessThan),
        O::I32x4GtS => icmp!(I32X4, SignedGreaterThan),
        O::I32x4GtU => icmp!(I32X4, UnsignedGreaterThan),
        O::I32x4LeS => icmp!(I32X4, SignedLessThanOrEqual),
        O::I32x4LeU => icmp!(I32X4, UnsignedLessThanOrEqual),
        O::I32x4GeS => icmp!(I32X4, SignedGreaterThanOrEqual),
        O::I32x4GeU => icmp!(I32X4, UnsignedGreaterThanOrEqual),
        O::I64x2Eq => icmp!(I64X2, Equal),
        O::I64x2Ne => icmp!(I64X2, NotEqual),
        O::I64x2LtS => icmp!(I64X2, SignedLessThan),
        O::I64x2GtS => icmp!(I64X2, SignedGreaterThan),
        O::I64x2LeS => icmp!(I64X2, SignedLessThanOrEqual),
        O::I64x2GeS => icmp!(I64X2, SignedGreaterThanOrEqual),
        // Float comparisons.
        O::F32x4Eq => fcmp!(F32X4, Equal),
        O::F32x4Ne => fcmp!(F32X4, NotEqual),
        O::F32x4Lt => fcmp!(F32X4, LessThan),
        O::F32x4Gt => fcmp!(F32X4, GreaterThan),
        O::F32x4Le => fcmp!(F32X4, LessThanOrEqual),
        O::F32x4Ge => fcmp!(F32X4, GreaterThanOrEqual),
        O::F64x2Eq => fcmp!(F64X2, Equal),
        O::F64x2Ne => fcmp!(F64X2, NotEqual),
        O::F64x2Lt => fcmp!(F64X2, LessThan),
        O::F64x2Gt => fcmp!(F64X2, GreaterThan),
        O::F64x2Le => fcmp!(F64X2, LessThanOrEqual),
        O::F64x2Ge => fcmp!(F64X2, GreaterThanOrEqual),
        // Shifts (Cranelift masks the amount to the lane width).
        O::I8x16Shl => shift!(I8X16, ishl),
        O::I8x16ShrS => shift!(I8X16, sshr),
        O::I8x16ShrU => shift!(I8X16, ushr),
        O::I16x8Shl => shift!(I16X8, ishl),
        O::I16x8ShrS => shift!(I16X8, sshr),
        O::I16x8ShrU => shift!(I16X8, ushr),
        O::I32x4Shl => shift!(I32X4, ishl),
        O::I32x4ShrS => shift!(I32X4, sshr),
        O::I32x4ShrU => shift!(I32X4, ushr),
        O::I64x2Shl => shift!(I64X2, ishl),
        O::I64x2ShrS => shift!(I64X2, sshr),
        O::I64x2ShrU => shift!(I64X2, ushr),
        // Integer arithmetic.
        O::I8x16Add => bin!(I8X16, iadd),
        O::I16x8Add => bin!(I16X8, iadd),
        O::I32x4Add => bin!(I32X4, iadd),
        O::I64x2Add => bin!(I64X2, iadd),
        O::I8x16Sub => bin!(I8X16, isub),
        O::I16x8Sub => bin!(I16X8, isub),
        O::I32x4Sub => bin!(I32X4, isub),
        O::I64x2Sub => bin!(I64X2, isub),
        O::I16x8Mul => bin!(I16X8, imul),
        O::I32x4Mul => bin!(I32X4, imul),
        O::I64x2Mul => bin!(I64X2, imul),
        O::I8x16Neg => un!(I8X16, ineg),
        O::I16x8Neg => un!(I16X8, ineg),
        O::I32x4Neg => un!(I32X4, ineg),
        O::I64x2Neg => un!(I64X2, ineg),
        O::I8x16Abs => un!(I8X16, iabs),
        O::I16x8Abs => un!(I16X8, iabs),
        O::I32x4Abs => un!(I32X4, iabs),
        O::I64x2Abs => un!(I64X2, iabs),
        O::I8x16Popcnt => un!(I8X16, popcnt),
        O::I8x16AddSatS => bin!(I8X16, sadd_sat),
        O::I8x16AddSatU => bin!(I8X16, uadd_sat),
        O::I8x16SubSatS => bin!(I8X16, ssub_sat),
        O::I8x16SubSatU => bin!(I8X16, usub_sat),
        O::I16x8AddSatS => bin!(I16X8, sadd_sat),
        O::I16x8AddSatU => bin!(I16X8, uadd_sat),
        O::I16x8SubSatS => bin!(I16X8, ssub_sat),
        O::I16x8SubSatU => bin!(I16X8, usub_sat),
        O::I8x16MinS => bin!(I8X16, smin),
        O::I8x16MinU => bin!(I8X16, umin),
        O::I8x16MaxS => bin!(I8X16, smax),
        O::I8x16MaxU => bin!(I8X16, umax),
        O::I16x8MinS => bin!(I16X8, smin),
        O::I16x8MinU => bin!(I16X8, umin),
        O::I16x8MaxS => bin!(I16X8, smax),
        O::I16x8MaxU => bin!(I16X8, umax),
        O::I32x4MinS => bin!(I32X4, smin),
        O::I32x4MinU => bin!(I32X4, umin),
        O::I32x4MaxS => bin!(I32X4, smax),
        O::I32x4MaxU => bin!(I32X4, umax),
        O::I8x16AvgrU => bin!(I8X16, avg_round),
        O::I16x8AvgrU => bin!(I16X8, avg_round),
        O::I16x8Q15MulrSatS => bin!(I16X8, sqmul_round_sat),
        O::I32x4DotI16x8S => Row::Bin(I16X8, dot),
        // Widening and narrowing.
        O::I8x16NarrowI16x8S => bin!(I16X8, snarrow),
        O::I8x16NarrowI16x8U => bin!(I16X8, unarrow),
        O::I16x8NarrowI32x4S => bin!(I32X4, snarrow),
        O::I16x8NarrowI32x4U => bin!(I32X4, unarrow),
        O::I16x8ExtendLowI8x16S => un!(I8X16, swiden_low),
        O::I16x8ExtendHighI8x16S => un!(I8X16, swiden_high),
        O::I16x8ExtendLowI8x16U => un!(I8X16, uwiden_low),
        O::I16x8ExtendHighI8x16U => un!(I8X16, uwiden_high),
        O::I32x4ExtendLowI16x8S => un!(I16X8, swiden_low),
        O::I32x4ExtendHighI16x8S => un!(I16X8, swiden_high),
        O::I32x4ExtendLowI16x8U => un!(I16X8, uwiden_low),
        O::I32x4ExtendHighI16x8U => un!(I16X8, uwiden_high),
        O::I64x2ExtendLowI32x4S => un!(I32X4, swiden_low),
        O::I64x2ExtendHighI32x4S => un!(I32X4, swiden_high),
        O::I64x2ExtendLowI32x4U => un!(I32X4, uwiden_low),
        O::I64x2ExtendHighI32x4U => un!(I32X4, uwiden_high),
        O::I16x8ExtMulLowI8x16S => extmul!(I8X16, swiden_low),
        O::I16x8ExtMulHighI8x16S => extmul!(I8X16, swiden_high),
        O::I16x8ExtMulLowI8x16U => extmul!(I8X16, uwiden_low),
        O::I16x8ExtMulHighI8x16U => extmul!(I8X16, uwiden_high),
        O::I32x4ExtMulLowI16x8S => extmul!(I16X8, swiden_low),
        O::I32x4ExtMulHighI16x8S => extmul!(I16X8, swiden_high),
        O::I32x4ExtMulLowI16x8U => extmul!(I16X8, uwiden_low),
        O::I32x4ExtMulHighI16x8U => extmul!(I16X8, uwiden_high),
        O::I64x2ExtMulLowI32x4S => extmul!(I32X4, swiden_low),
        O::I64x2ExtMulHighI32x4S => extmul!(I32X4, swiden_high),
        O::I64x2ExtMulLowI32x4U => extmul!(I32X4, uwiden_low),
        O::I64x2ExtMulHighI32x4U => extmul!(I32X4, uwiden_high),
        O::I16x8ExtAddPairwiseI8x16S => extadd!(I8X16, swiden_low, swiden_high),
        O::I16x8ExtAddPairwiseI8x16U => extadd!(I8X16, uwiden_low, uwiden_high),
        O::I32x4ExtAddPairwiseI16x8S => extadd!(I16X8, swiden_low, swiden_high),
        O::I32x4ExtAddPairwiseI16x8U => extadd!(I16X8, uwiden_low, uwiden_high),
        // Float arithmetic.
        O::F32x4Add => bin!(F32X4, fadd),
        O::F32x4Sub => bin!(F32X4, fsub),
        O::F32x4Mul => bin!(F32X4, fmul),
        O::F32x4Div => bin!(F32X4, fdiv),
        O::F32x4Min => bin!(F32X4, fmin),
        O::F32x4Max => bin!(F32X4, fmax),
        O::F32x4PMin => Row::Bin(F32X4, pmin),
        O::F32x4PMax => Row::Bin(F32X4, pmax),
        O::F32x4Abs => Row::Un(F32X4, numeric::abs),
        O::F32x4Neg => Row::Un(F32X4, numeric::neg),
        O::F32x4Sqrt => un!(F32X4, sqrt),
        O::F32x4Ceil => un!(F32X4, ceil),
        O::F32x4Floor => un!(F32X4, floor),
        O::F32x4Trunc => un!(F32X4, trunc),
        O::F32x4Nearest => un!(F32X4, nearest),
        O::F64x2Add => bin!(F64X2, fadd),
        O::F64x2Sub => bin!(F64X2, fsub),
        O::F64x2Mul => bin!(F64X2, fmul),
        O::F64x2Div => bin!(F64X2, fdiv),
        O::F64x2Min => bin!(F64X2, fmin),
        O::F64x2Max => bin!(F64X2, fmax),
        O::F64x2PMin => Row::Bin(F64X2, pmin),
        O::F64x2PMax => Row::Bin(F64X2, pmax),
        O::F64x2Abs => Row::Un(F64X2, numeric::abs),
        O::F64x2Neg => Row::Un(F64X2, numeric::neg),
        O::F64x2Sqrt => un!(F64X2, sqrt),
        O::F64x2Ceil => un!(F64X2, ceil),
        O::F64x2Floor => un!(F64X2, floor),
        O::F64x2Trunc => un!(F64X2, trunc),
        O::F64x2Nearest => un!(F64X2, nearest),
        // Conversions.
        O::I32x4TruncSatF32x4S => conv!(F32X4, fcvt_to_sint_sat, I32X4),
        O::I32x4TruncSatF32x4U => conv!(F32X4, fcvt_to_uint_sat, I32X4),
        O::I32x4TruncSatF64x2SZero => trunc_sat_zero!(fcvt_to_sint_sat, snarrow),
        O::I32x4TruncSatF64x2UZero => trunc_sat_zero!(fcvt_to_uint_sat, uunarrow),
        O::F32x4ConvertI32x4S => conv!(I32X4, fcvt_from_sint, F32X4),
        O::F32x4ConvertI32x4U => conv!(I32X4, fcvt_from_uint, F32X4),
        O::F64x2ConvertLowI32x4S => Row::Un(I32X4, |t, a| {
            let wide = t.b.ins().swiden_low(a);
            t.b.ins().fcvt_from_sint(F64X2, wide)
        }),
        O::F64x2ConvertLowI32x4U => Row::Un(I32X4, |t, a| {
            let wide = t.b.ins().uwiden_low(a);
            t.b.ins().fcvt_from_uint(F64X2, wide)
        }),
        O::F32x4DemoteF64x2Zero => un!(F64X2, fvdemote),
        O::F64x2PromoteLowF32x4 => un!(F32X4, fvpromote_low),
        // Memory (plain `v128.load`/`v128.store` are in `memory.rs`).
        O::V128Load8x8S { memarg } => widen_load!(memarg, sload8x8),
        O::V128Load8x8U { memarg } => widen_load!(memarg, uload8x8),
        O::V128Load16x4S { memarg } => widen_load!(memarg, sload16x4),
        O::V128Load16x4U { memarg } => widen_load!(memarg, uload16x4),
        O::V128Load32x2S { memarg } => widen_load!(memarg, sload32x2),
        O::V128Load32x2U { memarg } => widen_load!(memarg, uload32x2),
        O::V128Load8Splat { memarg } => mem!(memarg, Access::Splat(I8X16)),
        O::V128Load16Splat { memarg } => mem!(memarg, Access::Splat(I16X8)),
        O::V128Load32Splat { memarg } => mem!(memarg, Access::Splat(I32X4)),
        O::V128Load64Splat { memarg } => mem!(memarg, Access::Splat(I64X2)),
        O::V128Load32Zero { memarg } => mem!(memarg, Access::Zero(I32X4)),
        O::V128Load64Zero { memarg } => mem!(memarg, Access::Zero(I64X2)),
        O::V128Load8Lane { memarg, lane } => mem!(memarg, Access::LoadLane(I8X16, lane)),
        O::V128Load16Lane { memarg, lane } => mem!(memarg, Access::LoadLane(I16X8, lane)),
        O::V128Load32Lane { memarg, lane } => mem!(memarg, Access::LoadLane(I32X4, lane)),
        O::V128Load64Lane { memarg, lane } => mem!(memarg, Access::LoadLane(I64X2, lane)),
        O::V128Store8Lane { memarg, lane } => mem!(memarg, Access::StoreLane(I8X16, lane)),
        O::V128Store16Lane { memarg, lane } => mem!(memarg, Access::StoreLane(I16X8, lane)),
        O::V128Store32Lane { memarg, lane } => mem!(memarg, Access::StoreLane(I32X4, lane)),
        O::V128Store64Lane { memarg, lane } => mem!(memarg, Access::StoreLane(I64X2, lane)),
        _ => return None,
    })
}

impl Translator<'_, '_> {
    /// Translates SIMD operators; returns whether `op` was one.
    pub(super) fn simd_op(&mut self, op: &Operator<'_>) -> Result<bool> {
        let v = match *op {
            Operator::V128Const { value } => {
                let c = ConstantData::from(value.bytes().to_vec());
                let c = self.b.func.dfg.constants.insert(c);
                self.b.ins().vconst(I8X16, c)
            }
            Operator::I8x16Shuffle { lanes } => {
                let (a, b) = self.pop2();
                let a = self.vec_as(a, I8X16);
                let b = self.vec_as(b, I8X16);
                let mask = ConstantData::from(&lanes[..]);
                let mask = self.b.func.dfg.immediates.push(mask);
                self.b.ins().shuffle(a, b, mask)
            }
            _ => match row(op) {
                Some(row) => match self.simd_row(row) {
                    Some(v) => v,
                    None => return Ok(true),
                },
                None => {
                    let name = op_name(op);
                    if name.contains("Relaxed") {
                        return unsupported(format!("relaxed-simd {name}"));
                    }
                    return Ok(false);
                }
            },
        };
        self.push(v);
        Ok(true)
    }

    /// Pops the operands of a row and builds it; returns the result, if any.
    fn simd_row(&mut self, row: Row) -> Option<Value> {
        Some(match row {
            Row::Un(ty, f) => {
                let a = self.pop();
                let a = self.vec_as(a, ty);
                f(self, a)
            }
            Row::Bin(ty, f) => {
                let (a, b) = self.pop2();
                let a = self.vec_as(a, ty);
                let ty = self.b.func.dfg.value_type(a);
                let b = self.vec_as(b, ty);
                f(self, a, b)
            }
            Row::Ter(ty, f) => {
                let (a, b, c) = self.pop3();
                let a = self.vec_as(a, ty);
                let ty = self.b.func.dfg.value_type(a);
                let b = self.vec_as(b, ty);
                let c = self.vec_as(c, ty);
                f(self, a, b, c)
            }
            Row::Shift(ty, f) => {
                let (a, amount) = self.pop2();
                let a = self.vec_as(a, ty);
                f(self, a, amount)
            }
            Row::Splat(ty) => {
                let x = self.pop();
                let x = self.lane_scalar(x, ty);
                self.b.ins().splat(ty, x)
            }
            Row::Extract(ty, lane, signed) => {
                let v = self.pop();
                let v = self.vec_as(v, ty);
                let x = self.b.ins().extractlane(v, lane);
                match (ty.lane_bits(), signed) {
                    (8 | 16, true) => self.b.ins().sextend(types::I32, x),
                    (8 | 16, false) => self.b.ins().uextend(types::I32, x),
                    _ => x,
                }
            }
            Row::Replace(ty, lane) => {
                let (v, x) = self.pop2();
                let v = self.vec_as(v, ty);
                let x = self.lane_scalar(x, ty);
                self.b.ins().insertlane(v, x, lane)
            }
            Row::Mem(memarg, access) => return self.simd_access(&memarg, access),
        })
    }

    /// Builds a SIMD memory access; returns the loaded vector, if any.
    fn simd_access(&mut self, memarg: &MemArg, access: Access) -> Option<Value> {
        let flags = env::heap_flags(self.regions);
        Some(match access {
            Access::Widen(f) => {
                let index = self.pop();
                let (addr, off) = self.heap_addr(memarg, index, 8);
                f(self, flags, addr, off)
            }
            Access::Splat(ty) => {
                let index = self.pop();
                let x = self.load_lane_scalar(memarg, index, ty);
                self.b.ins().splat(ty, x)
            }
            Access::Zero(ty) => {
                let index = self.pop();
                let x = self.load_lane_scalar(memarg, index, ty);
                self.b.ins().scalar_to_vector(ty, x)
            }
            Access::LoadLane(ty, lane) => {
                let (index, v) = self.pop2();
                let v = self.vec_as(v, ty);
                let x = self.load_lane_scalar(memarg, index, ty);
                self.b.ins().insertlane(v, x, lane)
            }
            Access::StoreLane(ty, lane) => {
                let (index, v) = self.pop2();
                let v = self.vec_as(v, ty);
                let x = self.b.ins().extractlane(v, lane);
                let (addr, off) = self.heap_addr(memarg, index, ty.lane_type().bytes());
                self.b.ins().store(flags, x, addr, off);
                return None;
            }
        })
    }

    /// Loads one lane of vector type `ty` from linear memory.
    fn load_lane_scalar(&mut self, memarg: &MemArg, index: Value, ty: Type) -> Value {
        let lane = ty.lane_type();
        let (addr, off) = self.heap_addr(memarg, index, lane.bytes());
        let flags = env::heap_flags(self.regions);
        self.b.ins().load(lane, flags, addr, off)
    }

    /// Narrows an `i32` operand to an 8- or 16-bit lane type (other lanes pass through).
    fn lane_scalar(&mut self, x: Value, ty: Type) -> Value {
        let lane = ty.lane_type();
        if lane.is_int() && lane.bits() < 32 {
            self.b.ins().ireduce(lane, x)
        } else {
            x
        }
    }

    /// Reinterprets vector `v` as type `ty` (no-op when it already is, or for [`AS_IS`]).
    fn vec_as(&mut self, v: Value, ty: Type) -> Value {
        if ty == AS_IS || self.b.func.dfg.value_type(v) == ty {
            v
        } else {
            let flags = MemFlagsData::new().with_endianness(Endianness::Little);
            self.b.ins().bitcast(ty, flags, v)
        }
    }

    /// An all-zero vector of type `ty`, as a `vconst` (the shape backends pattern-match).
    fn zero_vector(&mut self, ty: Type) -> Value {
        let c = ConstantData::from(vec![0u8; 16]);
        let c = self.b.func.dfg.constants.insert(c);
        self.b.ins().vconst(ty, c)
    }
}
