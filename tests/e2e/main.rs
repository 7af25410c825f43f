//! cairn's end-to-end tests: one binary, one module per concern. Each test
//! drives cairn the way a client does (real gRPC/HTTP on loopback port 0)
//! and asserts what arrived.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod archive;
mod bad_input;
mod binary;
mod chains;
mod config_examples;
mod durability;
mod enrichment;
mod fixtures_replay;
mod forwarding;
mod interop_python;
mod redaction;
mod roundtrip;
mod test_sinks;
mod tls;
mod util;
