//! Conversion of script arguments into runtime values, and matching of results against the
//! script's expectations (NaN patterns, v128 lane forms, references).

use super::Outcome;
use wasmaot_runtime::Val;
use wast::core::{AbstractHeapType, HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::WastRet;

/// Converts a script argument.
pub(super) fn arg(a: &WastArgCore<'_>) -> Result<Val, Outcome> {
    Ok(match a {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(v) => Val::F32(v.bits),
        WastArgCore::F64(v) => Val::F64(v.bits),
        WastArgCore::V128(v) => Val::V128(u128::from_le_bytes(v.to_le_bytes())),
        WastArgCore::RefNull(HeapType::Abstract {
            ty: AbstractHeapType::Func,
            ..
        }) => Val::FuncRef(None),
        WastArgCore::RefNull(HeapType::Abstract {
            ty: AbstractHeapType::Extern,
            ..
        }) => Val::ExternRef(None),
        WastArgCore::RefExtern(n) => Val::ExternRef(Some(u64::from(*n))),
        other => return Err(Outcome::Unsupported(format!("gc value {other:?}"))),
    })
}

fn f32_matches(bits: u32, p: &NanPattern<wast::token::F32>) -> bool {
    match p {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
        NanPattern::Value(v) => v.bits == bits,
    }
}

fn f64_matches(bits: u64, p: &NanPattern<wast::token::F64>) -> bool {
    match p {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
        NanPattern::ArithmeticNan => bits & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
        NanPattern::Value(v) => v.bits == bits,
    }
}

fn v128_matches(v: u128, p: &V128Pattern) -> bool {
    let b = v.to_le_bytes();
    match p {
        V128Pattern::I8x16(l) => l.iter().enumerate().all(|(i, x)| b[i] == *x as u8),
        V128Pattern::I16x8(l) => l
            .iter()
            .enumerate()
            .all(|(i, x)| u16::from_le_bytes([b[2 * i], b[2 * i + 1]]) == *x as u16),
        V128Pattern::I32x4(l) => l
            .iter()
            .enumerate()
            .all(|(i, x)| u32::from_le_bytes(b[4 * i..4 * i + 4].try_into().unwrap()) == *x as u32),
        V128Pattern::I64x2(l) => l
            .iter()
            .enumerate()
            .all(|(i, x)| u64::from_le_bytes(b[8 * i..8 * i + 8].try_into().unwrap()) == *x as u64),
        V128Pattern::F32x4(l) => l.iter().enumerate().all(|(i, p)| {
            f32_matches(
                u32::from_le_bytes(b[4 * i..4 * i + 4].try_into().unwrap()),
                p,
            )
        }),
        V128Pattern::F64x2(l) => l.iter().enumerate().all(|(i, p)| {
            f64_matches(
                u64::from_le_bytes(b[8 * i..8 * i + 8].try_into().unwrap()),
                p,
            )
        }),
    }
}

/// Whether one value matches one expectation.
fn matches(v: &Val, r: &WastRetCore<'_>) -> bool {
    match (v, r) {
        (Val::I32(a), WastRetCore::I32(b)) => a == b,
        (Val::I64(a), WastRetCore::I64(b)) => a == b,
        (Val::F32(a), WastRetCore::F32(p)) => f32_matches(*a, p),
        (Val::F64(a), WastRetCore::F64(p)) => f64_matches(*a, p),
        (Val::V128(a), WastRetCore::V128(p)) => v128_matches(*a, p),
        (Val::FuncRef(None), WastRetCore::RefNull(_)) => true,
        (Val::ExternRef(None), WastRetCore::RefNull(_)) => true,
        (Val::FuncRef(Some(_)), WastRetCore::RefFunc(_)) => true,
        (Val::ExternRef(Some(a)), WastRetCore::RefExtern(Some(b))) => *a == u64::from(*b),
        (Val::ExternRef(Some(_)), WastRetCore::RefExtern(None)) => true,
        (v, WastRetCore::Either(alts)) => alts.iter().any(|a| matches(v, a)),
        _ => false,
    }
}

/// Checks a call's results against the expected list.
pub(super) fn check_results(vals: &[Val], expected: &[WastRet<'_>]) -> Outcome {
    if vals.len() != expected.len() {
        return Outcome::Fail(format!("expected {} results, got {vals:?}", expected.len()));
    }
    for (v, e) in vals.iter().zip(expected) {
        let WastRet::Core(e) = e else {
            return Outcome::Unsupported("component-model".into());
        };
        if !matches(v, e) {
            return Outcome::Fail(format!("expected {e:?}, got {v:?}"));
        }
    }
    Outcome::Ok
}
