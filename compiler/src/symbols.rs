//! Symbol naming: mangling Wasm names into C identifiers, and the names of every symbol an
//! object defines or references (documented in `docs/ABI.md`).

use std::collections::HashSet;

/// Mangles a Wasm name into a C identifier fragment, injectively. A C identifier that does
/// not start with `_` stays as it is (`add_page` → `add_page`); any other name gets a leading
/// `_` and every byte that is not an ASCII letter or digit becomes `_XX` (two uppercase hex
/// digits): `my-func` → `_my_2Dfunc`, `_start` → `__5Fstart`, `` → `_`. Kept names never
/// start with `_` and escaped ones always do, so two different names never meet.
pub fn mangle(s: &str) -> String {
    if is_c_identifier(s) && !s.starts_with('_') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 1);
    out.push('_');
    for &b in s.as_bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => out.push(b as char),
            _ => out.push_str(&format!("_{b:02X}")),
        }
    }
    out
}

/// Turns a file stem into a valid module name (C identifier): invalid bytes become `_`.
pub fn sanitize_module_name(stem: &str) -> String {
    let mut s: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if s.is_empty() || s.as_bytes()[0].is_ascii_digit() {
        s.insert(0, '_');
    }
    s
}

/// Whether `s` is a valid C identifier (required of `--name`).
pub fn is_c_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Global symbol of an export: `<module>_<mangled export name>`.
pub fn export_symbol(module: &str, export: &str) -> String {
    format!("{module}_{}", mangle(export))
}

/// Weak symbol a native program may define to implement a function import:
/// `<module>_import_<mangled module>_<mangled name>`.
pub fn native_import_symbol(module: &str, imp_module: &str, imp_name: &str) -> String {
    format!(
        "{module}_import_{}_{}",
        mangle(imp_module),
        mangle(imp_name)
    )
}

/// Root descriptor symbol of a module.
pub fn descriptor_symbol(module: &str) -> String {
    format!(
        "{module}{}",
        wasmaot_runtime::layout::DESCRIPTOR_SYMBOL_SUFFIX
    )
}

/// Hands out unique local symbol names (name-section names, made unique with `.N`).
#[derive(Default)]
pub struct Namer {
    used: HashSet<String>,
}

impl Namer {
    /// Reserves a name that must stay exactly as given (global symbols).
    pub fn reserve(&mut self, name: &str) {
        self.used.insert(name.to_string());
    }

    /// Reserves `name` if it is still free; returns whether it was.
    pub fn try_reserve(&mut self, name: &str) -> bool {
        self.used.insert(name.to_string())
    }

    /// Returns `base`, or `base.N` for the first free N.
    pub fn unique(&mut self, base: &str) -> String {
        let base = if base.is_empty() { "_" } else { base };
        let mut name = base.to_string();
        let mut n = 1;
        while self.used.contains(&name) {
            name = format!("{base}.{n}");
            n += 1;
        }
        self.used.insert(name.clone());
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mangle_keeps_identifiers_and_escapes_the_rest() {
        assert_eq!(mangle("add_page"), "add_page");
        assert_eq!(mangle("a-b"), "_a_2Db");
        assert_eq!(mangle("a_b c"), "_a_5Fb_20c");
        assert_eq!(mangle(""), "_");
        assert_eq!(mangle("_"), "__5F");
        assert_eq!(mangle("_start"), "__5Fstart");
        assert_ne!(mangle("_"), mangle(""));
        assert!(is_c_identifier(&export_symbol("m", "héllo wörld")));
        assert!(is_c_identifier(&export_symbol("m", "9lives")));
    }

    #[test]
    fn module_names_are_sanitized() {
        assert_eq!(sanitize_module_name("my-mod.v2"), "my_mod_v2");
        assert_eq!(sanitize_module_name("9lives"), "_9lives");
        assert!(is_c_identifier("_x1"));
        assert!(!is_c_identifier("1x"));
    }
}
