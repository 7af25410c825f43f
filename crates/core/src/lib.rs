//! cairn-core: the types that flow through cairn, and nothing that does I/O.
//!
//! A request becomes a [`record::Batch`] of [`record::Record`]s: each keeps
//! the original OTLP message beside its typed view ([`event::ClaudeEvent`],
//! [`metric::ClaudeMetric`], [`span::ClaudeSpan`]) and the [`identity::Identity`]
//! of who sent it. Receivers hand batches to an [`ingest::Ingest`]; its
//! answer decides what the client is told. Reading this crate alone should
//! teach the shape of the system.

mod attr_layout;
pub mod chain;
pub mod clock;
pub mod content;
pub mod event;
pub mod identity;
pub mod ingest;
pub mod json;
pub mod metric;
pub mod record;
pub mod render;
mod render_fixed;
mod render_shared;
pub mod scrub;
pub mod signal;
pub mod source;
pub mod span;
pub mod value;

/// The OTLP protobuf types cairn decodes into (re-exported for every crate).
pub use opentelemetry_proto::tonic as otlp;
