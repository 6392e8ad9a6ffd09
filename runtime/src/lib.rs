//! wasmaot runtime: instances, linear memory, traps and WASI for objects compiled by
//! the `wasmaot` compiler.

pub mod layout;
pub mod wasi;
