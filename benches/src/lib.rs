//! cairn-benches
