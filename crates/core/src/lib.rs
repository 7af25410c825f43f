//! cairn-core: the types that flow through cairn.
pub mod value;
