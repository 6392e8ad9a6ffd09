//! Start-up check that this machine can run a module's code: same architecture, and every CPU
//! feature the compiler was allowed to use (SSE4.1 for the baseline; more with `--cpu native`).

/// Checks the host against a module's target; the error names what is missing.
pub fn check(arch: &str, features: &[String]) -> Result<(), String> {
    if arch != std::env::consts::ARCH {
        return Err(format!(
            "module compiled for {arch}, this machine is {}",
            std::env::consts::ARCH
        ));
    }
    let missing: Vec<&str> = features
        .iter()
        .map(String::as_str)
        .filter(|f| !host_has(f))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "this CPU lacks features the module was compiled for: {} (recompile with a lower --cpu)",
            missing.join(", ")
        ))
    }
}

/// Whether the host has a feature named as Cranelift's `has_*` flags are.
#[cfg(target_arch = "x86_64")]
fn host_has(f: &str) -> bool {
    use std::arch::is_x86_feature_detected as has;
    match f {
        "sse3" => has!("sse3"),
        "ssse3" => has!("ssse3"),
        "sse41" => has!("sse4.1"),
        "sse42" => has!("sse4.2"),
        "popcnt" => has!("popcnt"),
        "avx" => has!("avx"),
        "avx2" => has!("avx2"),
        "fma" => has!("fma"),
        "bmi1" => has!("bmi1"),
        "bmi2" => has!("bmi2"),
        "lzcnt" => has!("lzcnt"),
        "avx512bitalg" => has!("avx512bitalg"),
        "avx512dq" => has!("avx512dq"),
        "avx512f" => has!("avx512f"),
        "avx512vbmi" => has!("avx512vbmi"),
        "avx512vl" => has!("avx512vl"),
        "avx512vnni" => has!("avx512vnni"),
        "avxvnni" | "avx_vnni" => has!("avxvnni"),
        "cmpxchg16b" => has!("cmpxchg16b"),
        // A flag this runtime does not know: refuse rather than risk SIGILL.
        _ => false,
    }
}

/// Whether the host has a feature named as Cranelift's `has_*` flags are.
#[cfg(not(target_arch = "x86_64"))]
fn host_has(_f: &str) -> bool {
    // No optional features are detected on other targets yet: refuse them.
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_passes_and_unknown_features_fail() {
        #[cfg(target_arch = "x86_64")]
        assert_eq!(check("x86_64", &["sse41".into(), "popcnt".into()]), Ok(()));
        assert!(check("x86_64", &["teleport".into()]).is_err());
        assert!(check("riscv64", &[]).unwrap_err().contains("riscv64"));
    }
}
