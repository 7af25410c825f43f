//! A decoder for OTLP protobuf export requests (logs, metrics, traces) into
//! `opentelemetry-proto`'s types, and nothing else: it owns the wire format
//! on cairn's hottest path.
//!
//! The result is exactly what `prost`'s `Message::decode` gives for the same
//! bytes, and it fails exactly where prost fails (unknown fields and groups
//! skipped, repeated singular fields merged or last-wins, the same recursion
//! limit of 100 nested messages). Tests hold it to that against prost on
//! generated requests, on mutated and random bytes, and at the depth limit.
//!
//! Why not prost: its generic decode goes through `Buf` adapters, grows every
//! repeated field one push at a time and re-checks bounds per byte; this one
//! reads a plain slice, allocates each repeated field once at its size,
//! takes the usual attribute shape in one straight read and copies each
//! string once.

mod common;
mod fields;
mod logs;
mod metrics;
mod reader;
mod traces;

pub use logs::decode_logs;
pub use metrics::decode_metrics;
pub use reader::WireError;
pub use traces::decode_traces;
