//! A decoder for OTLP protobuf log requests into `opentelemetry-proto`'s
//! types, and nothing else: it owns the wire format on cairn's hottest path.
//!
//! The result is exactly what `prost`'s `Message::decode` gives for the same
//! bytes, and it fails exactly where prost fails (unknown fields and groups
//! skipped, repeated singular fields merged or last-wins, the same recursion
//! limit of 100 nested messages). Tests hold it to that against prost on
//! generated requests, on mutated and random bytes, and at the depth limit.
//!
//! Why not prost: its generic decode goes through `Buf` adapters, grows every
//! repeated field one push at a time and re-checks bounds per byte; this one
//! reads a plain slice, counts each repeated field before filling it, and
//! copies each string once. Only the logs signal is here: it carries the
//! volume (metrics and the beta traces stay on prost).

mod common;
mod logs;
mod reader;

pub use logs::decode_logs;
pub use reader::WireError;
